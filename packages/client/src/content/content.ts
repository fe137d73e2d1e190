// Content: the plaintext of every session message Sotto's clients exchange (docs/protocol/10 §10.2).
// UTF-8 JSON, strict by the rules of docs/protocol/09 §9.1 (@sotto/protocol's strict JSON parser and
// canonical base64url): every field required unless marked optional, unknown fields rejected,
// integers safe and non-negative, binary fields canonical unpadded base64url of an exact length.
//
// { "v": 1, "id": b64[16], "sentAt": ms, "profileKey": b64[32], "body": BODY }
// BODY = { "type": "text", "text": string (1..MAX_TEXT_CHARS code points) }
//      | { "type": "file", "file": { "attachment": b64[16], "key": b64[32], "digest": b64[32], "size": n,
//                                    "name": string (1..255), "mime": string (≤ 127) } }
//      | { "type": "delivered", "ids": [b64[16], ...] (1..100) }
//      | the call bodies of docs/protocol/11 §11.6:
//        { "type": "call-offer",   "call": b64[16], "kem": b64[1568], "commit": b64[32], "sdp": SDP }
//        { "type": "call-ringing", "call": b64[16], "dh": b64[32], "ct": b64[1568] }
//        { "type": "call-confirm", "call": b64[16], "dh": b64[32] }
//        { "type": "call-answer",  "call": b64[16], "sdp": SDP }
//        { "type": "call-end",     "call": b64[16], "reason": "hangup" | "decline" | "busy" | "timeout" | "sas-mismatch" | "failed" }
//        { "type": "voicemail",    "call": b64[16], "file": FILE, "durationMs": n (≤ MAX_VOICEMAIL_DURATION_MS) }
//      where SDP passes @sotto/protocol's sdpFingerprint (§11.2.4: ≤ MAX_CALL_SDP_CHARS, printable
//      ASCII/CR/LF, exactly one sha-256 DTLS fingerprint, no audio-level extension), on encode and decode.
//
// Stricter than the letter of §10.2 where a hostile sender could otherwise hurt the receiver (written
// into §10.2 too): names and MIME types hold no control characters (terminal escapes), a MIME type
// is printable ASCII, and a file's size is at most the attachment bound.
import { ATTACHMENT_ID_BYTES, MESSAGE_ID_BYTES, PROFILE_KEY_BYTES, decodeBase64url, encodeBase64url, isProtocolError, limits, parseStrictJson, sdpFingerprint } from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import { codePoints, isWellFormed } from '../internal/bytes.ts';
import {
  CONTENT_VERSION,
  MAX_ATTACHMENT_BLOB_BYTES,
  MAX_CONTENT_BYTES,
  MAX_FILE_NAME_CHARS,
  MAX_MIME_CHARS,
  MAX_RECEIPT_IDS,
  MAX_TEXT_CHARS,
  MAX_VOICEMAIL_DURATION_MS,
} from '../limits.ts';

const b64 = encodeBase64url;

/** The attachment key and the blob digest (docs/protocol/10 §10.3). */
const ATTACHMENT_KEY_BYTES = 32;
const ATTACHMENT_DIGEST_BYTES = 32;

/** docs/protocol/11 §11.1: the call id, the caller's ML-KEM-1024 encapsulation key (FIPS 203: 1568
 *  bytes), the callee's ML-KEM-1024 ciphertext (1568), an X25519 public key (RFC 7748: 32) and the
 *  hash commitment (SHA-256: 32). */
const CALL_ID_BYTES = 16;
const CALL_KEM_BYTES = 1568;
const CALL_CT_BYTES = 1568;
const CALL_DH_BYTES = 32;
const CALL_COMMIT_BYTES = 32;

/** Why a call ended (docs/protocol/11 §11.6 `call-end`). */
export type CallEndReason = 'hangup' | 'decline' | 'busy' | 'timeout' | 'sas-mismatch' | 'failed';
export const CALL_END_REASONS: readonly CallEndReason[] = ['hangup', 'decline', 'busy', 'timeout', 'sas-mismatch', 'failed'];

/** The `file` body's description of an attachment (docs/protocol/10 §10.3). */
export interface FileContent {
  readonly attachment: Uint8Array;
  readonly key: Uint8Array;
  readonly digest: Uint8Array;
  readonly size: number;
  readonly name: string;
  readonly mime: string;
}

export type ContentBody =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'file'; readonly file: FileContent }
  | { readonly type: 'delivered'; readonly ids: readonly Uint8Array[] }
  | CallSignalBody
  | { readonly type: 'voicemail'; readonly call: Uint8Array; readonly file: FileContent; readonly durationMs: number };

/** The bodies that drive a call's state machine (docs/protocol/11 §11.6): never put in the inbox, never
 *  acknowledged with a receipt (src/calls/). */
export type CallSignalBody =
  | { readonly type: 'call-offer'; readonly call: Uint8Array; readonly kem: Uint8Array; readonly commit: Uint8Array; readonly sdp: string }
  | { readonly type: 'call-ringing'; readonly call: Uint8Array; readonly dh: Uint8Array; readonly ct: Uint8Array }
  | { readonly type: 'call-confirm'; readonly call: Uint8Array; readonly dh: Uint8Array }
  | { readonly type: 'call-answer'; readonly call: Uint8Array; readonly sdp: string }
  | { readonly type: 'call-end'; readonly call: Uint8Array; readonly reason: CallEndReason };

const CALL_SIGNAL_TYPES: readonly string[] = ['call-offer', 'call-ringing', 'call-confirm', 'call-answer', 'call-end'];

/** True for the bodies of a call's state machine (not `voicemail`, which is a message). */
export function isCallSignal(body: ContentBody): body is CallSignalBody {
  return CALL_SIGNAL_TYPES.includes(body.type);
}

export interface Content {
  readonly id: Uint8Array;
  readonly sentAt: number;
  readonly profileKey: Uint8Array;
  readonly body: ContentBody;
}

type Fail = (message: string) => never;

const invalid: Fail = (message) => {
  throw new ClientError('ERR_CONTENT_INVALID', message);
};
const badArgument: Fail = (message) => {
  throw new ClientError('ERR_ARGUMENT', message);
};

/** C0, DEL and C1 control characters: what a terminal may interpret (docs/protocol/10 §10.2). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function checkBytes(b: unknown, length: number, what: string, fail: Fail): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== length) return fail(`${what}: expected ${length} bytes`);
  return b;
}

function checkInt(n: unknown, what: string, fail: Fail, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) return fail(`${what}: expected an integer in 0..${max}`);
  return n;
}

function checkString(s: unknown, what: string, min: number, max: number, fail: Fail): string {
  if (typeof s !== 'string' || !isWellFormed(s)) return fail(`${what}: expected a well-formed Unicode string`);
  const n = codePoints(s);
  if (n < min || n > max) fail(`${what}: expected ${min}..${max} characters, got ${n}`);
  return s;
}

/** docs/protocol/10 §10.2: the rules for a file name (shared by the encoder and the decoder). */
export function checkFileName(name: unknown, fail: Fail = badArgument): string {
  const s = checkString(name, 'file name', 1, MAX_FILE_NAME_CHARS, fail);
  if (s.includes('/') || s.includes('\\')) fail('file name: expected no "/" or "\\"');
  if (hasControl(s)) fail('file name: expected no control characters (NUL included)');
  if (s.startsWith('.')) fail('file name: expected no leading "."');
  return s;
}

/** docs/protocol/10 §10.2: the rules for a MIME type. */
export function checkMime(mime: unknown, fail: Fail = badArgument): string {
  const s = checkString(mime, 'MIME type', 0, MAX_MIME_CHARS, fail);
  if (!isPrintableAscii(s)) fail('MIME type: expected printable ASCII');
  return s;
}

/** docs/protocol/10 §10.2: the rules for a text message. */
export function checkText(text: unknown, fail: Fail = badArgument): string {
  return checkString(text, 'text', 1, MAX_TEXT_CHARS, fail);
}

/** docs/protocol/11 §11.2.4: the SDP rules, as @sotto/protocol's sdpFingerprint checks them (the
 *  length first, so an oversized string is refused before it is scanned). */
export function checkSdp(sdp: unknown, fail: Fail = badArgument): string {
  if (typeof sdp !== 'string') return fail('sdp: expected a string');
  if (sdp.length > limits.MAX_CALL_SDP_CHARS) return fail(`sdp: expected at most ${limits.MAX_CALL_SDP_CHARS} characters, got ${sdp.length}`);
  try {
    sdpFingerprint(sdp);
  } catch (e) {
    if (isProtocolError(e)) return fail(`sdp: ${e.message.replace(/^ERR_[A-Z_]+: /, '')}`);
    throw e;
  }
  return sdp;
}

function checkReason(reason: unknown, fail: Fail): CallEndReason {
  if (typeof reason !== 'string' || !CALL_END_REASONS.includes(reason as CallEndReason)) return fail(`reason: expected one of ${CALL_END_REASONS.join(', ')}`);
  return reason as CallEndReason;
}

function checkFile(f: FileContent, fail: Fail): void {
  checkBytes(f.attachment, ATTACHMENT_ID_BYTES, 'attachment id', fail);
  checkBytes(f.key, ATTACHMENT_KEY_BYTES, 'attachment key', fail);
  checkBytes(f.digest, ATTACHMENT_DIGEST_BYTES, 'attachment digest', fail);
  checkInt(f.size, 'file size', fail, MAX_ATTACHMENT_BLOB_BYTES);
  checkFileName(f.name, fail);
  checkMime(f.mime, fail);
}

function checkBody(body: ContentBody, fail: Fail): void {
  switch (body.type) {
    case 'text':
      checkText(body.text, fail);
      return;
    case 'file':
      checkFile(body.file, fail);
      return;
    case 'delivered':
      if (!Array.isArray(body.ids) || body.ids.length < 1 || body.ids.length > MAX_RECEIPT_IDS) fail(`receipt: expected 1..${MAX_RECEIPT_IDS} ids`);
      for (const id of body.ids) checkBytes(id, MESSAGE_ID_BYTES, 'receipt id', fail);
      return;
    case 'call-offer':
      checkBytes(body.call, CALL_ID_BYTES, 'call id', fail);
      checkBytes(body.kem, CALL_KEM_BYTES, 'call encapsulation key', fail);
      checkBytes(body.commit, CALL_COMMIT_BYTES, 'call commitment', fail);
      checkSdp(body.sdp, fail);
      return;
    case 'call-ringing':
      checkBytes(body.call, CALL_ID_BYTES, 'call id', fail);
      checkBytes(body.dh, CALL_DH_BYTES, 'call DH key', fail);
      checkBytes(body.ct, CALL_CT_BYTES, 'call KEM ciphertext', fail);
      return;
    case 'call-answer':
      checkBytes(body.call, CALL_ID_BYTES, 'call id', fail);
      checkSdp(body.sdp, fail);
      return;
    case 'call-confirm':
      checkBytes(body.call, CALL_ID_BYTES, 'call id', fail);
      checkBytes(body.dh, CALL_DH_BYTES, 'call DH key', fail);
      return;
    case 'call-end':
      checkBytes(body.call, CALL_ID_BYTES, 'call id', fail);
      checkReason(body.reason, fail);
      return;
    case 'voicemail':
      checkBytes(body.call, CALL_ID_BYTES, 'call id', fail);
      checkFile(body.file, fail);
      checkInt(body.durationMs, 'voicemail duration', fail, MAX_VOICEMAIL_DURATION_MS);
      return;
    default:
      fail('body: expected a known type');
  }
}

const fileJson = (f: FileContent): Record<string, unknown> => ({ attachment: b64(f.attachment), key: b64(f.key), digest: b64(f.digest), size: f.size, name: f.name, mime: f.mime });

/** The JSON object of a body, fields in the order of docs/protocol/10 §10.2 and 11 §11.6. */
function bodyJson(b: ContentBody): Record<string, unknown> {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text };
    case 'file':
      return { type: 'file', file: fileJson(b.file) };
    case 'delivered':
      return { type: 'delivered', ids: b.ids.map(b64) };
    case 'call-offer':
      return { type: b.type, call: b64(b.call), kem: b64(b.kem), commit: b64(b.commit), sdp: b.sdp };
    case 'call-ringing':
      return { type: b.type, call: b64(b.call), dh: b64(b.dh), ct: b64(b.ct) };
    case 'call-answer':
      return { type: b.type, call: b64(b.call), sdp: b.sdp };
    case 'call-confirm':
      return { type: b.type, call: b64(b.call), dh: b64(b.dh) };
    case 'call-end':
      return { type: b.type, call: b64(b.call), reason: b.reason };
    case 'voicemail':
      return { type: b.type, call: b64(b.call), file: fileJson(b.file), durationMs: b.durationMs };
  }
}


/** The UTF-8 JSON of `content` (docs/protocol/10 §10.2). ERR_ARGUMENT when a field is out of its domain. */
export function encodeContent(content: Content): Uint8Array {
  checkBytes(content.id, MESSAGE_ID_BYTES, 'id', badArgument);
  checkInt(content.sentAt, 'sentAt', badArgument);
  checkBytes(content.profileKey, PROFILE_KEY_BYTES, 'profile key', badArgument);
  checkBody(content.body, badArgument);
  const body = bodyJson(content.body);
  const bytes = new TextEncoder().encode(JSON.stringify({ v: CONTENT_VERSION, id: b64(content.id), sentAt: content.sentAt, profileKey: b64(content.profileKey), body }));
  if (bytes.length > MAX_CONTENT_BYTES) badArgument(`content: expected at most ${MAX_CONTENT_BYTES} bytes, got ${bytes.length}`);
  return bytes;
}

type Obj = Readonly<Record<string, unknown>>;

function object(v: unknown, what: string, fields: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(`${what}: expected an object`);
  const o = v as Obj;
  for (const k of Object.keys(o)) if (!fields.includes(k)) invalid(`${what}: expected only the fields ${fields.join(', ')}, got another`);
  for (const k of fields) if (!Object.prototype.hasOwnProperty.call(o, k)) invalid(`${what}: expected the field ${k}`);
  return o;
}

function bin(v: unknown, what: string, length: number): Uint8Array {
  if (typeof v !== 'string') return invalid(`${what}: expected a base64url string`);
  return decodeBase64url(v, what, { length });
}

function fileFrom(v: unknown): FileContent {
  const f = object(v, 'file', ['attachment', 'key', 'digest', 'size', 'name', 'mime']);
  return {
    attachment: bin(f.attachment, 'attachment', ATTACHMENT_ID_BYTES),
    key: bin(f.key, 'key', ATTACHMENT_KEY_BYTES),
    digest: bin(f.digest, 'digest', ATTACHMENT_DIGEST_BYTES),
    size: checkInt(f.size, 'size', invalid, MAX_ATTACHMENT_BLOB_BYTES),
    name: checkFileName(f.name, invalid),
    mime: checkMime(f.mime, invalid),
  };
}

/** Parses and checks content (docs/protocol/10 §10.2). ERR_CONTENT_INVALID for anything else. */
export function decodeContent(bytes: Uint8Array): Content {
  if (!(bytes instanceof Uint8Array)) invalid('expected bytes');
  if (bytes.length > MAX_CONTENT_BYTES) invalid(`expected at most ${MAX_CONTENT_BYTES} bytes, got ${bytes.length}`);
  try {
    const top = object(parseStrictJson(bytes, 'content'), 'content', ['v', 'id', 'sentAt', 'profileKey', 'body']);
    if (top.v !== CONTENT_VERSION) invalid(`content: expected version ${CONTENT_VERSION}`);
    const id = bin(top.id, 'id', MESSAGE_ID_BYTES);
    const sentAt = checkInt(top.sentAt, 'sentAt', invalid);
    const profileKey = bin(top.profileKey, 'profileKey', PROFILE_KEY_BYTES);
    const type = (top.body as Obj | null)?.type;
    let body: ContentBody;
    if (type === 'text') {
      const o = object(top.body, 'text body', ['type', 'text']);
      body = { type: 'text', text: checkText(o.text, invalid) };
    } else if (type === 'file') {
      body = { type: 'file', file: fileFrom(object(top.body, 'file body', ['type', 'file']).file) };
    } else if (type === 'delivered') {
      const o = object(top.body, 'receipt body', ['type', 'ids']);
      if (!Array.isArray(o.ids)) invalid('receipt ids: expected an array');
      const ids = (o.ids as unknown[]).map((x) => bin(x, 'receipt id', MESSAGE_ID_BYTES));
      body = { type: 'delivered', ids };
      checkBody(body, invalid);
    } else if (type === 'call-offer') {
      const o = object(top.body, 'call offer', ['type', 'call', 'kem', 'commit', 'sdp']);
      body = { type, call: bin(o.call, 'call', CALL_ID_BYTES), kem: bin(o.kem, 'kem', CALL_KEM_BYTES), commit: bin(o.commit, 'commit', CALL_COMMIT_BYTES), sdp: checkSdp(o.sdp, invalid) };
    } else if (type === 'call-ringing') {
      const o = object(top.body, 'call ringing', ['type', 'call', 'dh', 'ct']);
      body = { type, call: bin(o.call, 'call', CALL_ID_BYTES), dh: bin(o.dh, 'dh', CALL_DH_BYTES), ct: bin(o.ct, 'ct', CALL_CT_BYTES) };
    } else if (type === 'call-answer') {
      const o = object(top.body, 'call answer', ['type', 'call', 'sdp']);
      body = { type, call: bin(o.call, 'call', CALL_ID_BYTES), sdp: checkSdp(o.sdp, invalid) };
    } else if (type === 'call-confirm') {
      const o = object(top.body, 'call confirm', ['type', 'call', 'dh']);
      body = { type, call: bin(o.call, 'call', CALL_ID_BYTES), dh: bin(o.dh, 'dh', CALL_DH_BYTES) };
    } else if (type === 'call-end') {
      const o = object(top.body, 'call end', ['type', 'call', 'reason']);
      body = { type, call: bin(o.call, 'call', CALL_ID_BYTES), reason: checkReason(o.reason, invalid) };
    } else if (type === 'voicemail') {
      const o = object(top.body, 'voicemail', ['type', 'call', 'file', 'durationMs']);
      body = { type, call: bin(o.call, 'call', CALL_ID_BYTES), file: fileFrom(o.file), durationMs: checkInt(o.durationMs, 'durationMs', invalid, MAX_VOICEMAIL_DURATION_MS) };
    } else {
      return invalid('body: expected an object of a known type');
    }
    return { id, sentAt, profileKey, body };
  } catch (e) {
    if (isProtocolError(e)) throw new ClientError('ERR_CONTENT_INVALID', e.message.replace(/^ERR_[A-Z_]+: /, ''), { cause: e });
    throw e;
  }
}
