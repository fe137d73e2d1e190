// The chat history model (src/conversations.ts): sent → delivered also when the receipt overtakes the
// send's answer, duplicates, unread counts, the list order and previews.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ReceivedMessage, SentMessage } from '@sotto/client';
import { corpusAt } from '@sotto/test-support';
import {
  NO_CONVERSATIONS,
  applyMissedCall,
  applyReceived,
  applySendFailed,
  applySending,
  applySent,
  ensureConversation,
  listOrder,
  markRead,
  missedCallKey,
  preview,
  type Conversations,
} from '../src/conversations.ts';
import { MAX_HISTORY_MESSAGES, PREVIEW_CHARS } from '../src/limits.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const text = (from: string, id: string, t = 'hi'): ReceivedMessage => ({ kind: 'text', id, from, sentAt: 1, receivedAt: 2, text: t, senderState: 'unverified' });
const receipt = (from: string, ids: string[]): ReceivedMessage => ({ kind: 'delivered', from, ids, sentAt: 3, receivedAt: 4 });
const sent = (id: string): SentMessage => ({ id, sentAt: 10, duplicate: false, recipientState: 'unverified' });

function statuses(convs: Conversations, who: string): (string | undefined)[] {
  return (convs.get(who)?.messages ?? []).map((m) => m.status);
}

test('a sent message goes sending → sent → delivered', () => {
  let c = applySending(NO_CONVERSATIONS, 'bob', 'k1', { type: 'text', text: 'hello' }, 5);
  assert.deepEqual(statuses(c, 'bob'), ['sending']);
  c = applySent(c, 'bob', 'k1', sent('ID1'));
  assert.deepEqual(statuses(c, 'bob'), ['sent']);
  assert.equal(c.get('bob')?.messages[0]?.id, 'ID1');
  c = applyReceived(c, receipt('bob', ['ID1']), false, 6);
  assert.deepEqual(statuses(c, 'bob'), ['delivered']);
  assert.equal(c.get('bob')?.unread, 0, 'a receipt is not an unread message');
});

test('a receipt that overtakes the send’s answer is applied when the send resolves', () => {
  let c = applySending(NO_CONVERSATIONS, 'bob', 'k1', { type: 'text', text: 'hello' }, 5);
  c = applyReceived(c, receipt('bob', ['ID1']), false, 6);
  assert.deepEqual(statuses(c, 'bob'), ['sending']);
  assert.deepEqual(c.get('bob')?.pendingReceipts, ['ID1']);
  c = applySent(c, 'bob', 'k1', sent('ID1'));
  assert.deepEqual(statuses(c, 'bob'), ['delivered']);
  assert.deepEqual(c.get('bob')?.pendingReceipts, []);
});

test('a receipt from another contact never marks my message to bob delivered', () => {
  let c = applySending(NO_CONVERSATIONS, 'bob', 'k1', { type: 'text', text: 'hello' }, 5);
  c = applySent(c, 'bob', 'k1', sent('ID1'));
  c = applyReceived(c, receipt('carol', ['ID1']), false, 6);
  assert.deepEqual(statuses(c, 'bob'), ['sent']);
});

test('received messages: unread unless open, duplicates dropped, markRead clears', () => {
  let c = applyReceived(NO_CONVERSATIONS, text('bob', 'A'), false, 1);
  c = applyReceived(c, text('bob', 'B'), false, 2);
  c = applyReceived(c, text('bob', 'A'), false, 3);
  assert.equal(c.get('bob')?.messages.length, 2, 'the same id twice is one message');
  assert.equal(c.get('bob')?.unread, 2);
  c = markRead(c, 'bob');
  assert.equal(c.get('bob')?.unread, 0);
  c = applyReceived(c, text('bob', 'C'), true, 4);
  assert.equal(c.get('bob')?.unread, 0, 'a message arriving in the open conversation is read');
  assert.equal(markRead(c, 'bob'), c, 'nothing to mark: the same object');
});

test('a failed send keeps its reason', () => {
  let c = applySending(NO_CONVERSATIONS, 'bob', 'k1', { type: 'text', text: 'hello' }, 5);
  c = applySendFailed(c, 'bob', 'k1', 'Not sent: the key changed.');
  assert.deepEqual(statuses(c, 'bob'), ['failed']);
  assert.equal(c.get('bob')?.messages[0]?.problem, 'Not sent: the key changed.');
  assert.equal(applySent(c, 'carol', 'k1', sent('X')), c, 'an unknown conversation is left alone');
});

test('calls in the history: a voicemail and a missed call are messages, one missed call per call id', () => {
  const file = { attachment: 'att', key: 'k', digest: 'd', size: 900, name: 'voicemail.webm', mime: 'audio/webm' };
  const vm: ReceivedMessage = { kind: 'voicemail', id: 'V1', from: 'bob', sentAt: 7, receivedAt: 8, call: 'CALL1', file, durationMs: 12_400, senderState: 'verified' };
  const missed: ReceivedMessage = { kind: 'missed-call', id: 'O2', from: 'bob', sentAt: 9, receivedAt: 10, call: 'CALL2', senderState: 'unverified' };
  let c = applyReceived(NO_CONVERSATIONS, vm, false, 11);
  c = applyReceived(c, missed, false, 12);
  // The same call reported again (the panel saw the caller give up, then the SDK's message): one entry.
  c = applyMissedCall(c, { from: 'bob', call: 'CALL2', at: 13, senderState: 'unverified' }, false, 13);
  c = applyReceived(c, vm, false, 14);
  const bob = c.get('bob');
  assert.ok(bob !== undefined);
  assert.deepEqual(
    bob.messages.map((m) => [m.key, m.direction, m.body]),
    [
      ['in:V1', 'in', { type: 'voicemail', file: { name: 'voicemail.webm', size: 900, mime: 'audio/webm', ref: file }, durationMs: 12_400, call: 'CALL1' }],
      [missedCallKey('CALL2'), 'in', { type: 'missed-call', call: 'CALL2' }],
    ],
  );
  assert.equal(bob.messages[1]?.sentAt, 9, 'the missed call is shown at the offer’s time');
  assert.equal(bob.unread, 2);
  assert.equal(preview(bob), 'Missed call from bob');
  c = applyMissedCall(c, { from: 'bob', call: 'CALL3', at: 20, senderState: 'verified' }, true, 20);
  assert.equal(c.get('bob')?.unread, 0, 'a missed call in the open conversation is seen (like a message)');
  c = applySending(c, 'bob', 'k', { type: 'voicemail', file: { name: 'voicemail', size: 5, mime: 'audio/webm' }, durationMs: 3_000, call: 'CALL4' }, 21);
  const after = c.get('bob');
  assert.ok(after !== undefined);
  assert.equal(preview(after), 'You: Voicemail (0:03)');
});

test('the history is capped per conversation, oldest first out', () => {
  let c: Conversations = NO_CONVERSATIONS;
  for (let i = 0; i < MAX_HISTORY_MESSAGES + 5; i++) c = applyReceived(c, text('bob', `id${i}`), true, i);
  const msgs = c.get('bob')?.messages ?? [];
  assert.equal(msgs.length, MAX_HISTORY_MESSAGES);
  assert.equal(msgs[0]?.id, 'id5');
});

test('the list puts the latest activity first; previews are one short line', () => {
  let c = ensureConversation(NO_CONVERSATIONS, 'zed', 1);
  c = applyReceived(c, text('amy', 'A', 'line one\nline two'), false, 5);
  c = applySending(c, 'bob', 'k', { type: 'text', text: 'x'.repeat(PREVIEW_CHARS + 20) }, 9);
  c = applySending(c, 'cat', 'k', { type: 'file', file: { name: 'a.pdf', size: 3, mime: 'application/pdf' } }, 7);
  assert.deepEqual(listOrder(c).map((x) => x.username), ['bob', 'cat', 'amy', 'zed']);
  const [bob, cat, amy, zed] = listOrder(c);
  assert.ok(bob !== undefined && cat !== undefined && amy !== undefined && zed !== undefined);
  assert.equal(preview(amy), 'line one line two');
  assert.equal(preview(cat), 'You: File: a.pdf');
  assert.equal(Array.from(preview(bob)).length, 'You: '.length + PREVIEW_CHARS);
  assert.ok(preview(bob).endsWith('…'));
  assert.equal(preview(zed), 'No messages yet');
});

test('property: whatever the order of answers and receipts, a message ends delivered exactly when its receipt came', async () => {
  // n messages; for each: whether a receipt comes, and a random interleaving of "sent" and "receipt".
  const scenario = fc
    .array(fc.boolean(), { minLength: 1, maxLength: 8 })
    .chain((receipts) => {
      const events = receipts.flatMap((r, i) => [{ kind: 'sent' as const, i }, ...(r ? [{ kind: 'receipt' as const, i }] : [])]);
      return fc.tuple(fc.constant(receipts), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }));
    });
  await corpus.check('conversations-receipt-order', scenario, ([receipts, events]) => {
    let c: Conversations = NO_CONVERSATIONS;
    receipts.forEach((_, i) => {
      c = applySending(c, 'bob', `k${i}`, { type: 'text', text: `m${i}` }, i);
    });
    for (const e of events) {
      c = e.kind === 'sent' ? applySent(c, 'bob', `k${e.i}`, sent(`ID${e.i}`)) : applyReceived(c, receipt('bob', [`ID${e.i}`]), false, 100);
    }
    assert.deepEqual(
      statuses(c, 'bob'),
      receipts.map((r) => (r ? 'delivered' : 'sent')),
    );
    assert.deepEqual(c.get('bob')?.pendingReceipts, []);
  });
});
