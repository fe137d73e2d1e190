// What the user reads (src/describe-error.ts, src/trust.ts, src/calls/texts.ts): every error code of
// the SDK and of the web client has its own plain sentence (no code, no "ERR_", never the generic
// fallback), the trust texts say the right thing for each state, and the call texts have a sentence of
// their own for every call state, end reason and microphone problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClientError, type CallEndReason, type CallState } from '@sotto/client';
import { describeError, type Action } from '../src/describe-error.ts';
import { WebError, type WebErrorCode } from '../src/errors.ts';
import { badgeDescription, badgeText, keyChangeExplanation, safetyNumberGroups } from '../src/trust.ts';
import {
  callEndText,
  callStateText,
  formatDuration,
  microphoneProblem,
  missedCallText,
  playVoicemailLabel,
  sasInstructions,
  sasMatchedText,
  sasMismatchParagraphs,
  sasMismatchTitle,
  voicemailText,
} from '../src/calls/texts.ts';

function membersOf(file: string, union: string, pattern: RegExp): string[] {
  const source = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
  const body = new RegExp(`export type ${union} =([\\s\\S]*?);`).exec(source)?.[1] ?? '';
  return [...body.matchAll(pattern)].map((m) => m[1] ?? '');
}

function codesOf(file: string, union: string): string[] {
  return membersOf(file, union, /'(ERR_[A-Z0-9_]+)'/g);
}

const FALLBACK = describeError(new ClientError('ERR_ARGUMENT', 'x'), { action: 'receive' });
const BUG = describeError(new Error('boom'), { action: 'send' });
const ACTIONS: readonly Action[] = ['create', 'unlock', 'send', 'send-file', 'new-conversation', 'verify', 'scan', 'download', 'accept', 'receive'];

test('every ClientError code has its own plain sentence', () => {
  const codes = codesOf('../../client/src/errors.ts', 'ClientErrorCode');
  assert.ok(codes.length > 20, `found ${codes.length} codes`);
  for (const code of codes) {
    const e = new ClientError(code as ConstructorParameters<typeof ClientError>[0], 'detail with a secret-looking word');
    for (const action of ACTIONS) {
      const text = describeError(e, { action, contact: 'bob' });
      assert.doesNotMatch(text, /ERR_|detail with/, `${code} (${action}) shows internals: ${text}`);
      assert.notEqual(text, 'Something went wrong. Try again.', `${code} has no sentence of its own`);
      assert.notEqual(text, BUG, `${code} is described as a bug`);
    }
  }
  assert.notEqual(FALLBACK, BUG);
});

test('every WebError code has its own plain sentence', () => {
  const codes = codesOf('../src/errors.ts', 'WebErrorCode');
  assert.ok(codes.length >= 4);
  for (const code of codes) {
    const text = describeError(new WebError(code as WebErrorCode, 'it is empty'), { action: 'send-file', contact: 'bob' });
    assert.doesNotMatch(text, /ERR_/);
    assert.notEqual(text, 'Something went wrong. Try again.', code);
  }
});

test('a key change is explained according to whether the contact had been verified', () => {
  const was = describeError(new ClientError('ERR_TRUST_CHANGED', 'x', { wasVerified: true }), { action: 'send', contact: 'bob' });
  const wasNot = describeError(new ClientError('ERR_TRUST_CHANGED', 'x', { wasVerified: false }), { action: 'send', contact: 'bob' });
  assert.match(was, /since you verified it/);
  assert.match(wasNot, /Compare safety numbers or accept/);
  const verified = keyChangeExplanation({ username: 'bob', state: 'changed', wasVerified: true });
  const unverified = keyChangeExplanation({ username: 'bob', state: 'changed', wasVerified: false });
  assert.equal(verified.title, "bob's safety number has changed");
  assert.match(verified.paragraphs.join(' '), /You had verified bob/);
  assert.doesNotMatch(unverified.paragraphs.join(' '), /You had verified/);
  for (const t of [verified, unverified]) assert.match(t.paragraphs.join(' '), /Nothing will be sent to bob until you decide/);
});

test('badges name the state and the method', () => {
  assert.equal(badgeText({ state: 'unverified' }), 'Unverified');
  assert.equal(badgeText({ state: 'verified', method: 'qr' }), 'Verified by QR code');
  assert.equal(badgeText({ state: 'verified', method: 'safety-number' }), 'Verified by safety number');
  assert.equal(badgeText({ state: 'changed' }), 'Key changed');
  assert.match(badgeDescription({ username: 'bob', state: 'changed' }), /Nothing is sent to bob/);
});

test('the safety number is shown in 12 groups of 5, like the CLI', () => {
  const digits = '0123456789'.repeat(6);
  assert.deepEqual(safetyNumberGroups(digits), ['01234', '56789', '01234', '56789', '01234', '56789', '01234', '56789', '01234', '56789', '01234', '56789']);
  assert.throws(() => safetyNumberGroups('123'), RangeError);
});

// The SDK's own unions, read from its source, so a new state or reason without a text fails here.
const CALL_STATES = membersOf('../../client/src/calls/types.ts', 'CallState', /'([a-z-]+)'/g) as CallState[];
const END_REASONS = membersOf('../../client/src/content/content.ts', 'CallEndReason', /'([a-z-]+)'/g) as CallEndReason[];

test('every call state has its own line, for the caller and the callee', () => {
  assert.deepEqual(CALL_STATES, ['dialing', 'ringing', 'connecting', 'active', 'ended']);
  const seen = new Set<string>();
  for (const state of CALL_STATES) {
    for (const role of ['caller', 'callee'] as const) {
      const text = callStateText(state, 'bob', role);
      assert.doesNotMatch(text, /ERR_|undefined/, `${state}/${role}: ${text}`);
      assert.ok(text.length > 5, `${state}/${role}`);
      seen.add(text);
    }
  }
  assert.equal(seen.size, CALL_STATES.length + 1, 'one line per state, and ringing differs for the two roles');
  assert.equal(callStateText('ringing', 'bob', 'caller'), 'Ringing bob…');
  assert.equal(callStateText('ringing', 'bob', 'callee'), 'bob is calling you');
});

test('every way a call ends is explained from each side, naming the peer where it matters', () => {
  assert.deepEqual(END_REASONS, ['hangup', 'decline', 'busy', 'timeout', 'sas-mismatch', 'failed']);
  const seen = new Set<string>();
  for (const reason of END_REASONS) {
    for (const by of ['local', 'remote'] as const) {
      const text = callEndText(reason, by, 'bob');
      assert.doesNotMatch(text, /ERR_|undefined/, `${reason}/${by}: ${text}`);
      if (!(by === 'local' && (reason === 'hangup' || reason === 'decline'))) assert.match(text, /bob/, `${reason}/${by} names the peer: ${text}`);
      seen.add(text);
    }
  }
  // hangup, decline and timeout read differently from each side; busy, sas-mismatch and failed do not.
  assert.equal(seen.size, 9);
  assert.equal(callEndText('timeout', 'remote', 'bob'), 'You missed a call from bob.');
  assert.equal(callEndText('sas-mismatch', 'local', 'bob'), sasMismatchTitle('bob'));
});

test('the SAS texts: instructions, the match, and a loud mismatch warning that changes nothing', () => {
  assert.match(sasInstructions('bob'), /Read these two words to bob/);
  assert.equal(sasMatchedText('bob'), 'The words matched: bob is now verified by words compared in a call.');
  assert.match(sasMismatchTitle('bob'), /^Warning: the words did not match — someone may be listening in/);
  for (const by of ['local', 'remote'] as const) {
    const p = sasMismatchParagraphs('bob', by).join(' ');
    assert.match(p, /The call was ended\./);
    assert.match(p, /man in the middle/);
    assert.match(p, /Nothing about bob was changed/);
  }
  assert.notEqual(sasMismatchParagraphs('bob', 'local')[0], sasMismatchParagraphs('bob', 'remote')[0]);
});

test('missed calls and voicemails read the same after a reload: m:ss durations', () => {
  assert.equal(missedCallText('bob'), 'Missed call from bob');
  assert.equal(voicemailText(12_000), 'Voicemail (0:12)');
  assert.equal(voicemailText(0), 'Voicemail (0:00)');
  assert.equal(playVoicemailLabel('bob', 61_500), 'Play the voicemail from bob (1:02)');
  assert.deepEqual([0, 499, 500, 59_499, 60_000, 3_600_000, -5].map(formatDuration), ['0:00', '0:00', '0:01', '0:59', '1:00', '60:00', '0:00']);
});

test('every microphone problem has its own plain sentence', () => {
  const names = ['NotAllowedError', 'SecurityError', 'NotFoundError', 'OverconstrainedError', 'NotReadableError', 'AbortError'];
  const texts = names.map((n) => microphoneProblem(new DOMException('detail', n)));
  for (const t of texts) assert.doesNotMatch(t, /ERR_|detail|Error/);
  assert.equal(new Set(texts).size, 4, 'permission, missing device, device busy, and anything else');
  assert.equal(microphoneProblem(new Error('x')), microphoneProblem(new DOMException('x', 'AbortError')));
});
