// What the user reads (src/describe-error.ts, src/trust.ts): every error code of the SDK and of the web
// client has its own plain sentence (no code, no "ERR_", never the generic fallback), and the trust
// texts say the right thing for each state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClientError } from '@sotto/client';
import { describeError, type Action } from '../src/describe-error.ts';
import { WebError, type WebErrorCode } from '../src/errors.ts';
import { badgeDescription, badgeText, keyChangeExplanation, safetyNumberGroups } from '../src/trust.ts';

function codesOf(file: string, union: string): string[] {
  const source = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
  const body = new RegExp(`export type ${union} =([\\s\\S]*?);`).exec(source)?.[1] ?? '';
  return [...body.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1] ?? '');
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
