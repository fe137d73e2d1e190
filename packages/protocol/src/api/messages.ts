// docs/protocol/09 §9.7 (sealed send) and §9.8 (fetch, acknowledge): bodies and the fetch query.
import { ProtocolError } from '../errors.ts';
import { MAX_API_ACK_IDS, MAX_API_FETCH_LIMIT } from '../limits.ts';
import { envelope, messageId } from './common-fields.ts';
import { arrayOf, body, boolean, object, uint, type FieldCodec } from './fields.ts';

/** `PUT /v1/messages/{username}/{deviceId}` body. */
export interface SendMessageRequest {
  readonly id: Uint8Array;
  /** A sealed envelope whose length is a bucket (docs/protocol/06 §6.7). */
  readonly envelope: Uint8Array;
}

/** `PUT /v1/messages/...` answer, sent once the message is durably stored. */
export interface SendMessageResponse {
  readonly seq: number;
  readonly duplicate: boolean;
}

/** One queued message, as a fetch returns it. */
export interface FetchedMessage {
  readonly seq: number;
  readonly id: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
}

/** `GET /v1/messages` answer, in arrival order; `more` when the queue holds messages after these. */
export interface FetchResponse {
  readonly messages: readonly FetchedMessage[];
  readonly more: boolean;
}

/** `POST /v1/messages/ack` body. */
export interface AckRequest {
  readonly ids: readonly Uint8Array[];
}

/** `POST /v1/messages/ack` answer. */
export interface AckResponse {
  readonly deleted: number;
}

/** `GET /v1/messages?after=<seq>&limit=<n>`. */
export interface FetchQuery {
  readonly after: number;
  readonly limit: number;
}

const sendMessageRequest: FieldCodec<SendMessageRequest> = object({ id: messageId, envelope });
const sendMessageResponse: FieldCodec<SendMessageResponse> = object({ seq: uint, duplicate: boolean });
const fetchedMessage: FieldCodec<FetchedMessage> = object({ seq: uint, id: messageId, envelope, receivedAt: uint });
const fetchResponse: FieldCodec<FetchResponse> = object({ messages: arrayOf(fetchedMessage, 0, MAX_API_FETCH_LIMIT), more: boolean });
const ackRequest: FieldCodec<AckRequest> = object({ ids: arrayOf(messageId, 0, MAX_API_ACK_IDS) });
const ackResponse: FieldCodec<AckResponse> = object({ deleted: uint });

const sendMessageRequestBody = body(sendMessageRequest, 'send message request');
const sendMessageResponseBody = body(sendMessageResponse, 'send message response');
const fetchResponseBody = body(fetchResponse, 'fetch response');
const ackRequestBody = body(ackRequest, 'ack request');
const ackResponseBody = body(ackResponse, 'ack response');

export const encodeSendMessageRequest = sendMessageRequestBody.encode;
export const decodeSendMessageRequest = sendMessageRequestBody.decode;
export const encodeSendMessageResponse = sendMessageResponseBody.encode;
export const decodeSendMessageResponse = sendMessageResponseBody.decode;
export const encodeFetchResponse = fetchResponseBody.encode;
export const decodeFetchResponse = fetchResponseBody.decode;
export const encodeAckRequest = ackRequestBody.encode;
export const decodeAckRequest = ackRequestBody.decode;
export const encodeAckResponse = ackResponseBody.encode;
export const decodeAckResponse = ackResponseBody.decode;

/** The canonical decimal form of a non-negative safe integer: no sign, no leading zero. */
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** "after=<seq>&limit=<n>" (no leading "?"). ERR_ARGUMENT for values out of range. */
export function encodeFetchQuery(q: FetchQuery): string {
  if (!Number.isSafeInteger(q.after) || q.after < 0) throw new ProtocolError('ERR_ARGUMENT', 'fetch query: after: expected a non-negative integer');
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > MAX_API_FETCH_LIMIT) {
    throw new ProtocolError('ERR_ARGUMENT', `fetch query: limit: expected 1 to ${MAX_API_FETCH_LIMIT}`);
  }
  return `after=${q.after}&limit=${q.limit}`;
}

/**
 * Decodes a fetch query string (with or without its leading "?"): exactly the two parameters
 * `after` and `limit`, each once, as canonical decimals; `limit` in 1..MAX_API_FETCH_LIMIT.
 * ERR_API_DECODE otherwise.
 */
export function decodeFetchQuery(search: string): FetchQuery {
  const fail = (message: string): never => {
    throw new ProtocolError('ERR_API_DECODE', `fetch query: ${message}`);
  };
  if (typeof search !== 'string') fail('expected a string');
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (text.length > 64) fail(`expected at most 64 characters, got ${text.length}`);
  const values = new Map<string, number>();
  for (const part of text === '' ? [] : text.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key !== 'after' && key !== 'limit') fail('expected only the parameters after and limit');
    if (values.has(key)) fail(`expected ${key} once`);
    if (!DECIMAL.test(value)) fail(`${key}: expected a canonical decimal integer`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) fail(`${key}: expected a safe integer`);
    values.set(key, n);
  }
  const after = values.get('after');
  const limit = values.get('limit');
  if (after === undefined || limit === undefined) return fail('expected both after and limit');
  if (limit < 1 || limit > MAX_API_FETCH_LIMIT) fail(`limit: expected 1 to ${MAX_API_FETCH_LIMIT}, got ${limit}`);
  return { after, limit };
}
