// What the command shows (src/internal/format.ts, src/internal/describe-error.ts, src/output.ts):
// trust states always visible, untrusted text made harmless for a terminal, the safety number in
// 12 groups with a QR code of exactly the scannable payload, and errors as one line with the right
// exit status and no secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'uqr';
import {
  changedSenderWarning,
  contactJson,
  formatContacts,
  formatMessage,
  formatSafetyNumber,
  formatSize,
  formatTime,
  messageJson,
  renderQrCode,
  safetyNumberRows,
  terminalSafe,
  trustLabel,
  type MessageView,
} from '../src/internal/format.ts';
import { describeError } from '../src/internal/describe-error.ts';
import { jsonLine, oneLine } from '../src/output.ts';
import { CliError } from '../src/errors.ts';

const t0 = Date.UTC(2025, 0, 31, 13, 5);
const text = (senderState: 'unverified' | 'verified' | 'changed', body = 'hi Alice'): MessageView => ({
  kind: 'text',
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  from: 'bob',
  sentAt: t0,
  receivedAt: t0 + 1000,
  text: body,
  senderState,
});

test('formatTime is local YYYY-MM-DD HH:MM; formatSize is short and exact below 1 kB', () => {
  const d = new Date(t0);
  const p = (n: number): string => String(n).padStart(2, '0');
  assert.equal(formatTime(t0), `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`);
  assert.equal(formatSize(1), '1 byte');
  assert.equal(formatSize(999), '999 bytes');
  assert.equal(formatSize(1000), '1.0 kB');
  assert.equal(formatSize(1_234_567), '1.2 MB');
});

test('a received text shows the sender, and the trust state unless verified', () => {
  assert.equal(formatMessage(text('verified')), `${formatTime(t0)}  bob: hi Alice`);
  assert.equal(formatMessage(text('unverified')), `${formatTime(t0)}  bob (unverified): hi Alice`);
  assert.match(formatMessage(text('changed')), /bob \(KEY CHANGED: not the key you trusted\): hi Alice$/);
  // The warning under such messages says that sends are held until the user decides (docs/protocol/10 §10.4).
  assert.match(changedSenderWarning('bob'), /^warning: bob's identity key has CHANGED; .*nothing is sent to bob until you verify or accept it\. Check with 'sotto safety-number bob'$/);
});

test('untrusted text cannot drive the terminal: controls become visible, bidi overrides are named', () => {
  const evil = 'ok\u001b]0;pwned\u0007\u001b[2J\u009b31m\r\nline2\u202etxt.exe';
  const shown = formatMessage(text('verified', evil));
  // eslint-disable-next-line no-control-regex -- control characters are what must not be there
  assert.doesNotMatch(shown, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'no raw control or bidi character left');
  assert.match(shown, /ok\\x1b\]0;pwned\\x07\\x1b\[2J\\x9b31m\n {2}line2<U\+202E>txt\.exe$/);
  assert.equal(terminalSafe('a\tb'), 'a\tb', 'a tab is harmless');
  // One line on stderr, whatever an error message contains.
  assert.equal(oneLine('bad\nthing\u001b[0m'), 'bad thing?[0m');
  // JSON escapes C1 controls and bidi overrides too (JSON.stringify leaves them raw).
  const line = jsonLine({ t: '\u009b\u202e' });
  assert.equal(line, '{"t":"\\u009b\\u202e"}');
  assert.deepEqual(JSON.parse(line), { t: '\u009b\u202e' });
});

test('receive --json objects carry from, id, sentAt and text or file, plus the trust state', () => {
  assert.deepEqual(messageJson(text('unverified')), {
    kind: 'text',
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    from: 'bob',
    sentAt: t0,
    receivedAt: t0 + 1000,
    senderState: 'unverified',
    text: 'hi Alice',
  });
  const file: MessageView = { kind: 'file', id: 'BBBB', from: 'bob', sentAt: t0, receivedAt: t0, senderState: 'verified', file: { name: 'a.pdf', size: 2048, mime: 'application/pdf' } };
  assert.deepEqual(messageJson(file, { savedAs: '/in/a.pdf' }), {
    kind: 'file',
    id: 'BBBB',
    from: 'bob',
    sentAt: t0,
    receivedAt: t0,
    senderState: 'verified',
    file: { name: 'a.pdf', size: 2048, mime: 'application/pdf', savedAs: '/in/a.pdf' },
  });
  assert.deepEqual((messageJson(file, { error: 'disk full' }) as { file: unknown }).file, { name: 'a.pdf', size: 2048, mime: 'application/pdf', savedAs: null, error: 'disk full' });
  assert.equal(formatMessage(file, { savedAs: '/in/a.pdf' }), `${formatTime(t0)}  bob sent a file: a.pdf (2.0 kB), saved as /in/a.pdf`);
  assert.match(formatMessage(file, { error: 'disk full' }), /NOT saved: disk full$/);
  const receipt: MessageView = { kind: 'delivered', from: 'bob', ids: ['x', 'y'], sentAt: t0, receivedAt: t0 };
  assert.deepEqual(messageJson(receipt), { kind: 'delivered', from: 'bob', ids: ['x', 'y'], sentAt: t0, receivedAt: t0 });
  assert.match(formatMessage(receipt), /bob received 2 of your messages$/);
  assert.match(formatMessage({ ...receipt, ids: ['x'] }), /bob received your message$/);
});

test('voicemail and missed calls: shown with the trust tag, saved like files, JSON with the call id', () => {
  const vm: MessageView = {
    kind: 'voicemail',
    id: 'CCCC',
    from: 'bob',
    sentAt: t0,
    receivedAt: t0,
    senderState: 'unverified',
    call: 'DDDD',
    durationMs: 65_400,
    file: { name: 'voicemail.webm', size: 4000, mime: 'audio/webm' },
  };
  assert.equal(formatMessage(vm, { savedAs: '/in/voicemail.webm' }), `${formatTime(t0)}  bob (unverified) left a voicemail (1:05), saved as /in/voicemail.webm`);
  assert.deepEqual(messageJson(vm, { savedAs: '/in/voicemail.webm' }), {
    kind: 'voicemail',
    id: 'CCCC',
    from: 'bob',
    sentAt: t0,
    receivedAt: t0,
    senderState: 'unverified',
    call: 'DDDD',
    durationMs: 65_400,
    file: { name: 'voicemail.webm', size: 4000, mime: 'audio/webm', savedAs: '/in/voicemail.webm' },
  });
  const missed: MessageView = { kind: 'missed-call', id: 'EEEE', from: 'bob', sentAt: t0, receivedAt: t0, senderState: 'changed', call: 'DDDD' };
  assert.match(formatMessage(missed), /missed call from bob \(KEY CHANGED: not the key you trusted\)$/);
  assert.deepEqual(messageJson(missed), { kind: 'missed-call', id: 'EEEE', from: 'bob', sentAt: t0, receivedAt: t0, senderState: 'changed', call: 'DDDD' });
});

test('contacts: aligned states, a loud note under a changed contact, JSON without keys', () => {
  const list = [
    { username: 'bob', state: 'verified' as const, method: 'safety-number', since: t0 },
    { username: 'carol', state: 'unverified' as const, since: t0 },
    { username: 'mallory', state: 'changed' as const, wasVerified: true, since: t0 },
    { username: 'dave', state: 'changed' as const, wasVerified: false, since: t0 },
  ];
  const lines = formatContacts(list);
  const when = formatTime(t0);
  assert.equal(lines[0], `bob      verified (safety number)  since ${when}`);
  assert.equal(lines[1], `carol    unverified                since ${when}`);
  assert.equal(lines[2], `mallory  CHANGED                   since ${when}`);
  assert.match(lines[3] ?? '', /^ {2}! .*DIFFERENT identity key for mallory, whom you had verified.*Sending to mallory is refused.*sotto trust mallory --accept-new-key/);
  assert.match(lines[5] ?? '', /^ {2}! .*DIFFERENT identity key for dave than when you first saw it.*Sending to dave is refused until you compare safety numbers.*sotto trust dave --accept-new-key/);
  assert.doesNotMatch(lines.join('\n'), /allowed/, 'no changed contact is sendable (docs/protocol/10 §10.4)');
  assert.equal(lines.length, 6);
  assert.deepEqual(formatContacts([]), ['no contacts yet: send a message, or receive one']);
  // An SDK Contact also carries its keys; the JSON shows none of them.
  const sdkContact = { username: 'mallory', state: 'changed' as const, wasVerified: true, since: t0, identityKey: new Uint8Array(32), newIdentityKey: new Uint8Array(32) };
  assert.deepEqual(contactJson(sdkContact), { username: 'mallory', state: 'changed', wasVerified: true, since: t0 });
  assert.equal(trustLabel({ state: 'verified', method: 'qr' }), 'verified (QR code)');
  assert.equal(trustLabel({ state: 'verified' }), 'verified');
});

test('a safety number is shown as 12 groups of 5 digits in 3 rows', () => {
  const digits = Array.from({ length: 60 }, (_, i) => String(i % 10)).join('');
  assert.deepEqual(safetyNumberRows(digits), ['01234 56789 01234 56789', '01234 56789 01234 56789', '01234 56789 01234 56789']);
  assert.throws(() => safetyNumberRows(digits.slice(1)), RangeError);
});

/** Reads the module matrix back out of the half-block drawing (light modules are drawn). */
function matrixFromDrawing(drawing: string, size: number): boolean[][] {
  const light = Array.from({ length: size }, () => Array.from({ length: size }, () => false));
  drawing.split('\n').forEach((line, r) => {
    Array.from(line).forEach((ch, c) => {
      const top = ch === '█' || ch === '▀';
      const bottom = ch === '█' || ch === '▄';
      const rowTop = light[2 * r];
      const rowBottom = light[2 * r + 1];
      if (rowTop !== undefined) rowTop[c] = top;
      if (rowBottom !== undefined) rowBottom[c] = bottom;
    });
  });
  return light;
}

test('the QR code encodes exactly the scannable payload (module for module), with a quiet zone', () => {
  const payload = Uint8Array.from({ length: 74 }, (_, i) => (i * 37 + 11) & 0xff);
  const drawing = renderQrCode(payload);
  const reference = encode(Array.from(payload), { ecc: 'M', border: 2 });
  assert.ok(reference.size >= 33, `a 74-byte payload needs at least version 4 (got size ${reference.size})`);
  const drawn = matrixFromDrawing(drawing, reference.size);
  // uqr's data is true for dark modules; the drawing shows light ones.
  assert.deepEqual(drawn, reference.data.map((row) => row.map((dark) => !dark)));
  // A different payload gives a different drawing (the bytes, not a constant, are encoded).
  const other = Uint8Array.from(payload);
  other[40] = (other[40] ?? 0) ^ 1;
  assert.notEqual(renderQrCode(other), drawing);
  // The border rows are all light: the first line is full blocks.
  assert.match(drawing.split('\n')[0] ?? '', /^█+$/);
});

test('the safety-number screen: digits, QR code, the contact state, how to verify (without the digits)', () => {
  const digits = '31415'.repeat(12);
  const payload = new Uint8Array(74).fill(7);
  const screen = formatSafetyNumber({ username: 'bob', state: 'unverified', since: t0 }, digits, payload).join('\n');
  assert.match(screen, /^Safety number of you and bob \(unverified\):/);
  assert.equal(screen.split('\n').filter((l) => l === '    31415 31415 31415 31415').length, 3);
  assert.ok(screen.includes(renderQrCode(payload)));
  assert.match(screen, /sotto verify bob <the 60 digits>/);
  const changed = formatSafetyNumber({ username: 'bob', state: 'changed', wasVerified: true, since: t0 }, digits, payload).join('\n');
  assert.match(changed, /bob's key CHANGED: this number is for the NEW key/);
});

test('errors: one line, the right exit status, friendly words for expected codes, no stack', () => {
  const clientError = (code: string, message: string, cause?: unknown): Error => {
    const e = new Error(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    Object.defineProperty(e, 'name', { value: 'ClientError' });
    Object.defineProperty(e, 'code', { value: code });
    return e;
  };
  assert.deepEqual(describeError(new CliError('ERR_CLI_USAGE', 'bad')), { message: 'bad', exitCode: 2, expected: true });
  assert.deepEqual(describeError(new CliError('ERR_CLI_FILE', 'gone')), { message: 'gone', exitCode: 1, expected: true });
  const ctx = { home: '/h', server: 'http://s', contact: 'bob' };
  assert.equal(describeError(clientError('ERR_KEYSTORE_WRONG_PASSPHRASE', 'verifier mismatch'), ctx).message, 'wrong passphrase for the keystore in /h');
  // ERR_TRUST_CHANGED: the advice depends on whether the contact had been verified (ClientError.wasVerified).
  const trustChanged = (wasVerified?: boolean): Error => {
    const e = clientError('ERR_TRUST_CHANGED', 'refused');
    if (wasVerified !== undefined) Object.defineProperty(e, 'wasVerified', { value: wasVerified });
    return e;
  };
  const verified = describeError(trustChanged(true), ctx);
  assert.equal(verified.exitCode, 1);
  assert.match(verified.message, /^not sent: bob's identity key has CHANGED since you verified it, so someone may be intercepting\. Verify the new key \('sotto safety-number bob', then 'sotto verify bob <digits>'\), or accept it without verifying \('sotto trust bob --accept-new-key'\)$/);
  const unverified = describeError(trustChanged(false), ctx);
  assert.equal(unverified.exitCode, 1);
  assert.match(unverified.message, /^not sent: bob's identity key has CHANGED since you first saw it \(a new device, or someone intercepting\)\. Compare safety numbers with bob \('sotto safety-number bob', then 'sotto verify bob <digits>'\), or accept the new key \('sotto trust bob --accept-new-key'\)$/);
  const unknown = describeError(trustChanged(), ctx);
  assert.match(unknown.message, /^not sent: bob's identity key has CHANGED \(.*sotto verify bob <digits>.*sotto trust bob --accept-new-key/);
  assert.notEqual(unknown.message, verified.message);
  assert.notEqual(unknown.message, unverified.message);
  assert.equal(describeError(Object.assign(trustChanged(), { wasVerified: 'yes' }), ctx).message, unknown.message, 'a non-boolean wasVerified is ignored');
  for (const m of [verified.message, unverified.message, unknown.message]) assert.ok(!m.includes('\n'), 'one line');
  assert.match(describeError(clientError('ERR_NETWORK', 'connect ECONNREFUSED'), ctx).message, /^cannot reach the server at http:\/\/s: connect ECONNREFUSED$/);
  // A send that gave up with its message kept in the outbox says so, and that it must not be re-sent.
  const queued = clientError('ERR_NETWORK', 'gave up after 9 attempts');
  Object.defineProperty(queued, 'queuedId', { value: 'AAAAAAAAAAAAAAAAAAAAAA' });
  assert.match(describeError(queued, ctx).message, /^the message is queued \(id AAAAAAAAAAAAAAAAAAAAAA\) and will be delivered by your next 'sotto send' or 'sotto receive'; do not send it again\. Cause: cannot reach the server at http:\/\/s: gave up after 9 attempts$/);
  assert.match(describeError(clientError('ERR_KEYSTORE_IO', 'cannot write', { code: 'EACCES' }), ctx).message, /\(EACCES\)/);
  // An unknown code of a known package: its own message, as one line.
  assert.equal(describeError(clientError('ERR_SOMETHING_NEW', 'expected x\ngot y'), ctx).message, 'ERR_SOMETHING_NEW: expected x got y');
  // Anything else is a bug: said so, one line, not "expected" (main prints the stack only with SOTTO_DEBUG=1).
  const bug = describeError(new TypeError('x is undefined\n    at foo (bar.ts:1:1)'));
  assert.equal(bug.expected, false);
  assert.equal(bug.exitCode, 1);
  assert.ok(!bug.message.includes('\n'));
  assert.match(bug.message, /^unexpected error \(a bug; run with SOTTO_DEBUG=1 for details\)/);
  // A look-alike without a string code is not trusted as expected.
  const fake = new Error('x');
  Object.defineProperty(fake, 'name', { value: 'ClientError' });
  assert.equal(describeError(fake).expected, false);
});
