// The chat history the UI shows, as pure transitions over immutable data (STYLE.md §5): what was sent
// and received per contact, the state of each sent message (sending → sent → delivered, or failed),
// and unread counts. The SDK keeps no history (it hands each message over once, docs/protocol/10
// §10.1); src/history.ts stores this model encrypted, src/app.ts drives it, tests check it in Node.
//
// Delivery receipts are `delivered` messages naming the ids of messages they confirm (§10.2). A
// receipt can overtake the answer to the send it confirms (the server pushes the message to the
// recipient, whose receipt reaches us before our PUT's response), so a receipt for an id not known
// yet is kept as pending and applied when the send resolves with that id.
import type { FileRef, ReceivedMessage, SentMessage, TrustState } from '@sotto/client';
import { missedCallText, voicemailText } from './calls/texts.ts';
import { MAX_HISTORY_MESSAGES, PREVIEW_CHARS } from './limits.ts';

export type OutStatus = 'sending' | 'sent' | 'delivered' | 'failed';

/** A file in the history: what the message said about it, and its reference when it can be fetched
 *  (received files; a file this device sent is known by name only once the page is reloaded). */
export interface FileInfo {
  readonly name: string;
  readonly size: number;
  readonly mime: string;
  readonly ref?: FileRef;
}

/** What a message holds. Calls leave two kinds in the history (docs/protocol/11 §11.6), both kept
 *  across reloads like any message: a `voicemail` (an audio attachment, how long it is, and the id of
 *  the unanswered call it follows, base64url) and a `missed-call` (always received: the call's id). */
export type Body =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'file'; readonly file: FileInfo }
  | { readonly type: 'voicemail'; readonly file: FileInfo; readonly durationMs: number; readonly call: string }
  | { readonly type: 'missed-call'; readonly call: string };

/** The history key of a missed call: one entry per call, whether the SDK reported it (an offer that was
 *  never rung) or the call panel did (the caller gave up while it rang). */
export function missedCallKey(call: string): string {
  return `call:${call}`;
}

export interface ChatMessage {
  /** Unique within the conversation, stable across reloads: `in:<id>` or `out:<local id>`. */
  readonly key: string;
  /** The message id (base64url, docs/protocol/10 §10.2) once known: received, or sent and acknowledged. */
  readonly id?: string;
  readonly direction: 'in' | 'out';
  /** The sender's clock (informational). */
  readonly sentAt: number;
  readonly body: Body;
  /** Sent messages only. */
  readonly status?: OutStatus;
  /** Sent messages that failed: why, in plain language. */
  readonly problem?: string;
  /** Received messages only: the sender's trust state when it arrived (`changed`: shown with a warning). */
  readonly senderState?: TrustState;
}

export interface Conversation {
  /** The contact's folded username. */
  readonly username: string;
  readonly messages: readonly ChatMessage[];
  readonly unread: number;
  /** Receipts for ids no sent message carries yet (see the header). */
  readonly pendingReceipts: readonly string[];
  /** When something last happened, for the order of the list (ms). */
  readonly lastActivity: number;
}

export type Conversations = ReadonlyMap<string, Conversation>;

export const NO_CONVERSATIONS: Conversations = new Map();

/** Most receipts kept pending per conversation: a receipt overtakes at most the sends in flight. */
const MAX_PENDING_RECEIPTS = 200;

function fileInfo(ref: FileRef): FileInfo {
  return { name: ref.name, size: ref.size, mime: ref.mime, ref };
}

function empty(username: string, now: number): Conversation {
  return { username, messages: [], unread: 0, pendingReceipts: [], lastActivity: now };
}

function put(convs: Conversations, c: Conversation): Conversations {
  const next = new Map(convs);
  next.set(c.username, c);
  return next;
}

function capped(messages: readonly ChatMessage[]): readonly ChatMessage[] {
  return messages.length > MAX_HISTORY_MESSAGES ? messages.slice(messages.length - MAX_HISTORY_MESSAGES) : messages;
}

/** The conversation with `username`, created empty when there is none. */
export function ensureConversation(convs: Conversations, username: string, now: number): Conversations {
  return convs.has(username) ? convs : put(convs, empty(username, now));
}

/** The user opened the conversation: nothing in it is unread any more. */
export function markRead(convs: Conversations, username: string): Conversations {
  const c = convs.get(username);
  if (c === undefined || c.unread === 0) return convs;
  return put(convs, { ...c, unread: 0 });
}

/** A message from the SDK (`listen`), with whether its conversation is on screen (then it is read). */
export function applyReceived(convs: Conversations, m: ReceivedMessage, open: boolean, now: number): Conversations {
  const c = convs.get(m.from) ?? empty(m.from, now);
  if (m.kind === 'delivered') {
    const ids = new Set(m.ids);
    const matched = new Set<string>();
    const messages = c.messages.map((msg) => {
      if (msg.direction !== 'out' || msg.id === undefined || !ids.has(msg.id)) return msg;
      matched.add(msg.id);
      return msg.status === 'delivered' ? msg : { ...msg, status: 'delivered' as const };
    });
    const pending = [...c.pendingReceipts, ...m.ids.filter((id) => !matched.has(id) && !c.pendingReceipts.includes(id))];
    return put(convs, { ...c, messages, pendingReceipts: pending.slice(-MAX_PENDING_RECEIPTS) });
  }
  if (m.kind === 'missed-call') return applyMissedCall(convs, { from: m.from, call: m.call, at: m.sentAt, senderState: m.senderState, id: m.id }, open, now);
  const key = `in:${m.id}`;
  if (c.messages.some((msg) => msg.key === key)) return convs; // handed over twice (a crash between hand-over and ack)
  const body: Body =
    m.kind === 'text'
      ? { type: 'text', text: m.text }
      : m.kind === 'voicemail'
        ? { type: 'voicemail', file: fileInfo(m.file), durationMs: m.durationMs, call: m.call }
        : { type: 'file', file: fileInfo(m.file) };
  const msg: ChatMessage = { key, id: m.id, direction: 'in', sentAt: m.sentAt, body, senderState: m.senderState };
  return put(convs, { ...c, messages: capped([...c.messages, msg]), unread: open ? 0 : c.unread + 1, lastActivity: now });
}

/** A call from `from` that nobody took (docs/protocol/11 §11.6): one entry per call id, at `at` (the
 *  offer's time, or when the caller gave up). `id`: the offer's message id, when the SDK reported it. */
export function applyMissedCall(convs: Conversations, m: { readonly from: string; readonly call: string; readonly at: number; readonly senderState: TrustState; readonly id?: string }, open: boolean, now: number): Conversations {
  const c = convs.get(m.from) ?? empty(m.from, now);
  const key = missedCallKey(m.call);
  if (c.messages.some((msg) => msg.key === key)) return convs;
  const msg: ChatMessage = { key, ...(m.id === undefined ? {} : { id: m.id }), direction: 'in', sentAt: m.at, body: { type: 'missed-call', call: m.call }, senderState: m.senderState };
  return put(convs, { ...c, messages: capped([...c.messages, msg]), unread: open ? 0 : c.unread + 1, lastActivity: now });
}

/** A message the user is sending: shown at once as `sending`. */
export function applySending(convs: Conversations, to: string, key: string, body: Body, now: number): Conversations {
  const c = convs.get(to) ?? empty(to, now);
  const msg: ChatMessage = { key: `out:${key}`, direction: 'out', sentAt: now, body, status: 'sending' };
  return put(convs, { ...c, messages: capped([...c.messages, msg]), lastActivity: now });
}

function updateOut(convs: Conversations, to: string, key: string, f: (m: ChatMessage, c: Conversation) => { msg: ChatMessage; pendingReceipts?: readonly string[] }): Conversations {
  const c = convs.get(to);
  const i = c === undefined ? -1 : c.messages.findIndex((m) => m.key === `out:${key}`);
  const old = c?.messages[i];
  if (c === undefined || old === undefined) return convs;
  const r = f(old, c);
  const messages = [...c.messages];
  messages[i] = r.msg;
  return put(convs, { ...c, messages, pendingReceipts: r.pendingReceipts ?? c.pendingReceipts });
}

/** The server acknowledged the send: the message now has its id (and may be delivered already). */
export function applySent(convs: Conversations, to: string, key: string, sent: SentMessage): Conversations {
  return updateOut(convs, to, key, (m, c) => {
    const early = c.pendingReceipts.includes(sent.id);
    return {
      msg: { ...m, id: sent.id, sentAt: sent.sentAt, status: early ? 'delivered' : 'sent' },
      ...(early ? { pendingReceipts: c.pendingReceipts.filter((id) => id !== sent.id) } : {}),
    };
  });
}

/** The send failed; `problem` says why in plain language. */
export function applySendFailed(convs: Conversations, to: string, key: string, problem: string): Conversations {
  return updateOut(convs, to, key, (m) => ({ msg: { ...m, status: 'failed', problem } }));
}

/** After a reload, a send that never resolved cannot be followed any more: say so honestly. */
export const INTERRUPTED_SEND = 'Sending was interrupted when the page closed; this message may not have been sent.';

/** Conversations for the list: the most recent activity first, then by name. */
export function listOrder(convs: Conversations): Conversation[] {
  return [...convs.values()].sort((a, b) => b.lastActivity - a.lastActivity || (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
}

/** One line about the last message, for the conversation list. */
export function preview(c: Conversation): string {
  const last = c.messages[c.messages.length - 1];
  if (last === undefined) return 'No messages yet';
  const who = last.direction === 'out' ? 'You: ' : '';
  const what = bodySummary(last.body, c.username);
  // Cut between graphemes, so an emoji or an accented letter is never split.
  const graphemes = Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(what), (s) => s.segment);
  return who + (graphemes.length > PREVIEW_CHARS ? `${graphemes.slice(0, PREVIEW_CHARS - 1).join('')}…` : what);
}

/** One line about a message body (the list preview; no direction). */
function bodySummary(b: Body, peer: string): string {
  switch (b.type) {
    case 'text':
      return b.text.replace(/\s+/g, ' ').trim();
    case 'file':
      return `File: ${b.file.name}`;
    case 'voicemail':
      return voicemailText(b.durationMs);
    case 'missed-call':
      return missedCallText(peer);
  }
}
