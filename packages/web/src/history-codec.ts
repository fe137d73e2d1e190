// One conversation of the local history as bytes (JSON, version 1), and back. The record is encrypted
// and authenticated by src/history.ts, so a decode failure means a bug or another version, never an
// attacker; the decoder is still strict, so a record that does not fit the model is refused as a whole
// (ERR_WEB_HISTORY) rather than shown half-right. A send still `sending` when the page closed comes
// back as `failed` with INTERRUPTED_SEND: nothing follows it any more.
import { MAX_VOICEMAIL_DURATION_MS, type FileRef, type TrustState } from '@sotto/client';
import { INTERRUPTED_SEND, type Body, type ChatMessage, type Conversation, type FileInfo, type OutStatus } from './conversations.ts';
import { WebError } from './errors.ts';

const VERSION = 1;

export function encodeConversation(c: Conversation): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify({ v: VERSION, ...c }));
}

type Obj = Record<string, unknown>;

function bad(what: string): never {
  throw new WebError('ERR_WEB_HISTORY', `history record: ${what}`);
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`expected an object for ${what}`);
  return v as Obj;
}

function str(o: Obj, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') bad(`expected a string ${k}`);
  return v;
}

function int(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`expected a non-negative integer ${k}`);
  return v;
}

function optStr(o: Obj, k: string): string | undefined {
  return o[k] === undefined ? undefined : str(o, k);
}

function oneOf<T extends string>(o: Obj, k: string, values: readonly T[]): T {
  const v = str(o, k);
  if (!(values as readonly string[]).includes(v)) bad(`unexpected ${k}`);
  return v as T;
}

function fileRef(v: unknown): FileRef {
  const o = obj(v, 'ref');
  return { attachment: str(o, 'attachment'), key: str(o, 'key'), digest: str(o, 'digest'), size: int(o, 'size'), name: str(o, 'name'), mime: str(o, 'mime') };
}

function fileInfo(v: unknown): FileInfo {
  const f = obj(v, 'file');
  return { name: str(f, 'name'), size: int(f, 'size'), mime: str(f, 'mime'), ...(f['ref'] === undefined ? {} : { ref: fileRef(f['ref']) }) };
}

/** A body of `direction`. Calls (docs/protocol/11 §11.6): a voicemail's duration is bounded like the
 *  SDK bounds a received one (MAX_VOICEMAIL_DURATION_MS), and a missed call is only ever received. */
function body(v: unknown, direction: 'in' | 'out'): Body {
  const o = obj(v, 'body');
  switch (o['type']) {
    case 'text':
      return { type: 'text', text: str(o, 'text') };
    case 'file':
      return { type: 'file', file: fileInfo(o['file']) };
    case 'voicemail': {
      const durationMs = int(o, 'durationMs');
      if (durationMs > MAX_VOICEMAIL_DURATION_MS) bad('voicemail longer than MAX_VOICEMAIL_DURATION_MS');
      return { type: 'voicemail', file: fileInfo(o['file']), durationMs, call: str(o, 'call') };
    }
    case 'missed-call':
      if (direction !== 'in') bad('a missed call is always received');
      return { type: 'missed-call', call: str(o, 'call') };
    default:
      bad('unexpected body type');
  }
}

const STATUSES: readonly OutStatus[] = ['sending', 'sent', 'delivered', 'failed'];
const STATES: readonly TrustState[] = ['unverified', 'verified', 'changed'];

function message(v: unknown): ChatMessage {
  const o = obj(v, 'message');
  const direction = oneOf(o, 'direction', ['in', 'out'] as const);
  const id = optStr(o, 'id');
  const base = { key: str(o, 'key'), direction, sentAt: int(o, 'sentAt'), body: body(o['body'], direction), ...(id === undefined ? {} : { id }) };
  if (direction === 'in') return { ...base, senderState: oneOf(o, 'senderState', STATES) };
  const status = oneOf(o, 'status', STATUSES);
  if (status === 'sending') return { ...base, status: 'failed', problem: INTERRUPTED_SEND };
  const problem = optStr(o, 'problem');
  return { ...base, status, ...(problem === undefined ? {} : { problem }) };
}

export function decodeConversation(bytes: Uint8Array): Conversation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new WebError('ERR_WEB_HISTORY', 'history record: expected UTF-8 JSON', { cause: e });
  }
  const o = obj(parsed, 'record');
  if (o['v'] !== VERSION) bad(`expected version ${VERSION}`);
  const messages = o['messages'];
  const pending = o['pendingReceipts'];
  if (!Array.isArray(messages) || !Array.isArray(pending)) bad('expected messages and pendingReceipts arrays');
  return {
    username: str(o, 'username'),
    messages: messages.map(message),
    unread: int(o, 'unread'),
    pendingReceipts: pending.map((id) => {
      if (typeof id !== 'string') bad('expected string receipt ids');
      return id;
    }),
    lastActivity: int(o, 'lastActivity'),
  };
}
