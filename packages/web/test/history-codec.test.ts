// The history record codec (src/history-codec.ts): decode(encode(c)) = c for every body — text, file,
// voicemail, missed call (a `sending` message comes back as an interrupted send) — and any other bytes
// decode or fail with ERR_WEB_HISTORY, never anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_VOICEMAIL_DURATION_MS } from '@sotto/client';
import { corpusAt } from '@sotto/test-support';
import { INTERRUPTED_SEND, type ChatMessage, type Conversation } from '../src/conversations.ts';
import { decodeConversation, encodeConversation } from '../src/history-codec.ts';
import { isWebError } from '../src/errors.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const nat = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const str = fc.string({ unit: 'grapheme', maxLength: 30 });
const fileRef = fc.record({ attachment: str, key: str, digest: str, size: nat, name: str, mime: str }, { noNullPrototype: true });
const fileInfo = fc.record({ name: str, size: nat, mime: str, ref: fileRef }, { requiredKeys: ['name', 'size', 'mime'], noNullPrototype: true });
const duration = fc.integer({ min: 0, max: MAX_VOICEMAIL_DURATION_MS });
const body = fc.oneof(
  fc.record({ type: fc.constant('text' as const), text: str }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('file' as const), file: fileInfo }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('voicemail' as const), file: fileInfo, durationMs: duration, call: str }, { noNullPrototype: true }),
);
/** Received only: a missed call is never sent (docs/protocol/11 §11.6). */
const incomingBody = fc.oneof(body, fc.record({ type: fc.constant('missed-call' as const), call: str }, { noNullPrototype: true }));
const incoming: fc.Arbitrary<ChatMessage> = fc.record(
  { key: str, id: str, direction: fc.constant('in' as const), sentAt: nat, body: incomingBody, senderState: fc.constantFrom('unverified' as const, 'verified' as const, 'changed' as const) },
  { requiredKeys: ['key', 'direction', 'sentAt', 'body', 'senderState'], noNullPrototype: true },
);
const outgoing: fc.Arbitrary<ChatMessage> = fc.record(
  { key: str, id: str, direction: fc.constant('out' as const), sentAt: nat, body, status: fc.constantFrom('sending' as const, 'sent' as const, 'delivered' as const, 'failed' as const), problem: str },
  { requiredKeys: ['key', 'direction', 'sentAt', 'body', 'status'], noNullPrototype: true },
);
const conversation: fc.Arbitrary<Conversation> = fc.record(
  { username: str, messages: fc.array(fc.oneof(incoming, outgoing), { maxLength: 6 }), unread: nat, pendingReceipts: fc.array(str, { maxLength: 3 }), lastActivity: nat },
  { noNullPrototype: true },
);

/** What decoding gives back: a send still in flight when the page closed is an interrupted one. */
function expected(c: Conversation): Conversation {
  return { ...c, messages: c.messages.map((m) => (m.status === 'sending' ? { ...m, status: 'failed' as const, problem: INTERRUPTED_SEND } : m)) };
}

test('property: decode(encode(c)) is c, with sends in flight marked interrupted', async () => {
  await corpus.check('history-roundtrip', conversation, (c) => {
    assert.deepEqual(decodeConversation(encodeConversation(c)), expected(c));
  });
});

test('property: changed, cut or random bytes decode to a conversation or fail with ERR_WEB_HISTORY', async () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(conversation, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([c, i, x]) => {
      const b = encodeConversation(c);
      b[i % b.length] = (b[i % b.length] ?? 0) ^ x;
      return b;
    }),
    fc.tuple(conversation, fc.nat()).map(([c, n]) => {
      const b = encodeConversation(c);
      return b.slice(0, n % b.length);
    }),
  );
  await corpus.check('history-mutations', bytes, (b) => {
    try {
      const c = decodeConversation(b);
      assert.equal(typeof c.username, 'string');
    } catch (e) {
      assert.ok(isWebError(e, 'ERR_WEB_HISTORY'), `expected ERR_WEB_HISTORY, got ${String(e)}`);
    }
  });
});

test('a record of another version or shape is refused', () => {
  const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
  const good = { v: 1, username: 'bob', messages: [], unread: 0, pendingReceipts: [], lastActivity: 1 };
  assert.equal(decodeConversation(enc(good)).username, 'bob');
  for (const bad of [{ ...good, v: 2 }, { ...good, unread: -1 }, { ...good, messages: [{ key: 'k' }] }, { ...good, pendingReceipts: [1] }, [good], null]) {
    assert.throws(() => decodeConversation(enc(bad)), (e: unknown) => isWebError(e, 'ERR_WEB_HISTORY'), JSON.stringify(bad));
  }
});

test('voicemails and missed calls: exactly their fields, bounded, a missed call only received', () => {
  const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
  const file = { name: 'voicemail.webm', size: 1200, mime: 'audio/webm' };
  const record = (m: object) => ({ v: 1, username: 'bob', messages: [m], unread: 0, pendingReceipts: [], lastActivity: 1 });
  const vm = { key: 'in:A', id: 'A', direction: 'in', sentAt: 5, senderState: 'verified', body: { type: 'voicemail', file, durationMs: 12_000, call: 'CALL' } };
  const missed = { key: 'call:CALL', direction: 'in', sentAt: 6, senderState: 'unverified', body: { type: 'missed-call', call: 'CALL' } };
  assert.deepEqual(decodeConversation(enc(record(vm))).messages[0]?.body, vm.body);
  assert.deepEqual(decodeConversation(enc(record(missed))).messages[0]?.body, missed.body);
  const refused = [
    { ...vm, body: { ...vm.body, durationMs: MAX_VOICEMAIL_DURATION_MS + 1 } },
    { ...vm, body: { ...vm.body, durationMs: -1 } },
    { ...vm, body: { ...vm.body, durationMs: 1.5 } },
    { ...vm, body: { type: 'voicemail', file, call: 'CALL' } },
    { ...vm, body: { type: 'voicemail', file, durationMs: 1 } },
    { ...vm, body: { type: 'voicemail', durationMs: 1, call: 'CALL' } },
    { ...vm, body: { ...vm.body, file: { ...file, size: '1200' } } },
    { ...missed, body: { type: 'missed-call' } },
    { ...missed, body: { type: 'missed-call', call: 7 } },
    { key: 'out:x', direction: 'out', sentAt: 6, status: 'sent', body: { type: 'missed-call', call: 'CALL' } },
    { ...missed, body: { type: 'call', call: 'CALL' } },
  ];
  for (const m of refused) assert.throws(() => decodeConversation(enc(record(m))), (e: unknown) => isWebError(e, 'ERR_WEB_HISTORY'), JSON.stringify(m));
});
