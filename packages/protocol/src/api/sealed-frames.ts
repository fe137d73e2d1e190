// docs/protocol/09 §9.7.1: the sealed-send WebSocket, GET /v1/ws/sealed. An anonymous connection —
// no auth frame, no token: it must never be the device's authenticated /v1/ws (§9.8), or the server
// would learn who sends — carrying sealed sends as request/response frames, JSON text.
//
// Client → server (field order as written; every field required, nothing else allowed):
//   {"type":"send","rid":u32≥1,"username":string,"deviceId":u32,"accessKey":b64[16],"id":b64[16],"envelope":b64}
//   username as in a request path (§9.2, any case); id and envelope exactly as PUT /v1/messages (§9.7).
// Server → client, one answer per send, matched by rid (answers may come out of order):
//   {"type":"sent","rid":u32≥1,"seq":n,"duplicate":boolean}     — once the message is on disk
//   {"type":"error","rid":u32,"error":{"code":C,"message":M},"retryAfter":n}
//   rid 0: the frame could not be attributed to a request (not a JSON object with "type":"send" and
//   a valid rid); the server closes with WS_CLOSE_MALFORMED after it. retryAfter: seconds, 0 unless
//   the code is ERR_API_RATE_LIMITED.
import { ProtocolError } from '../errors.ts';
import { MAX_API_ERROR_MESSAGE_CHARS } from '../limits.ts';
import { fromUtf8 } from '../internal/bytes.ts';
import { isJsonObject, parseStrictJson } from '../internal/strict-json.ts';
import { envelope, messageId, usernameAnyCase } from './common-fields.ts';
import { ACCESS_KEY_BYTES } from './constants.ts';
import { API_ERROR_CODES, type ApiErrorBody } from './error-body.ts';
import { body, boolean, bytes, integer, literal, object, oneOf, string, tagged, u32, uint, type FieldCodec } from './fields.ts';

/** A sealed send on the sealed-send WebSocket (§9.7.1). */
export interface SealedSendFrame {
  readonly type: 'send';
  /** Request id chosen by the client, 1..2^32-1; the answer carries it back. */
  readonly rid: number;
  /** The recipient account (§9.2, any case: the server folds it). */
  readonly username: string;
  readonly deviceId: number;
  /** The recipient's access key (§9.7), as the Sotto-Access-Key header would carry it. */
  readonly accessKey: Uint8Array;
  readonly id: Uint8Array;
  readonly envelope: Uint8Array;
}

/** The send `rid` is durably stored (PUT /v1/messages's 200 answer). */
export interface SealedSentFrame {
  readonly type: 'sent';
  readonly rid: number;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** The send `rid` was refused (the error body of §9.1); rid 0 for a frame that names no request. */
export interface SealedErrorFrame {
  readonly type: 'error';
  readonly rid: number;
  readonly error: ApiErrorBody;
  /** Seconds to wait before retrying (Retry-After); 0 unless error.code is ERR_API_RATE_LIMITED. */
  readonly retryAfter: number;
}

export type SealedServerFrame = SealedSentFrame | SealedErrorFrame;

/** A request id: u32 and never 0 (0 names no request in an error frame). */
const requestId: FieldCodec<number> = {
  decode: (v, what) => {
    const n = u32.decode(v, what);
    if (n === 0) throw new ProtocolError('ERR_API_DECODE', `${what}: expected 1 to 4294967295, got 0`);
    return n;
  },
  encode: (v, what) => {
    const n = u32.encode(v, what);
    if (n === 0) throw new ProtocolError('ERR_ARGUMENT', `${what}: expected 1 to 4294967295, got 0`);
    return n;
  },
};



const serverFrame: FieldCodec<SealedServerFrame> = tagged<SealedServerFrame>({
  sent: object({ type: literal('sent'), rid: requestId, seq: uint, duplicate: boolean }),
  error: object({
    type: literal('error'),
    rid: u32,
    error: object({ code: oneOf(API_ERROR_CODES), message: string(0, MAX_API_ERROR_MESSAGE_CHARS) }),
    retryAfter: integer(0xffffffff),
  }),
});

const SEND_WHAT = 'sealed send frame';
const sendShape = {
  rid: requestId,
  username: usernameAnyCase,
  deviceId: u32,
  accessKey: bytes({ length: ACCESS_KEY_BYTES }),
  id: messageId,
  envelope,
} as const;
const sendFrame: FieldCodec<SealedSendFrame> = object({ type: literal('send'), ...sendShape });
const sendFrameBody = body(sendFrame, SEND_WHAT);
const serverFrameBody = body(serverFrame, 'sealed server frame');

export const encodeSealedSendFrame = sendFrameBody.encode;

/**
 * The exact text encodeSealedSendFrame writes: these fields in this order, no whitespace, strings
 * without escapes, integers as canonical decimals. A text of this shape is, to the strict parser, an
 * object with exactly the frame's fields holding exactly these values, so checking the values with
 * the frame's own field codecs gives what the full decoder gives — value or error — without building
 * the generic JSON tree (on the server's per-message path that was most of the decoding time).
 * Any other text (whitespace, another order, an escape, a value of another shape) takes the full
 * decoder. test/api-bodies.test.ts checks that both agree on random and mutated frames.
 */
const CANONICAL_SEND =
  /^\{"type":"send","rid":([1-9][0-9]{0,9}),"username":"([A-Za-z0-9_]{1,64})","deviceId":(0|[1-9][0-9]{0,9}),"accessKey":"([A-Za-z0-9_-]{1,64})","id":"([A-Za-z0-9_-]{1,64})","envelope":"([A-Za-z0-9_-]*)"\}$/;

/** The full strict decoder of a send frame (exported for the test that compares the two paths). */
export const decodeSealedSendFrameFully = sendFrameBody.decode;

/** Strict (§9.1): ERR_API_DECODE for anything but exactly a send frame. */
export function decodeSealedSendFrame(input: string | Uint8Array): SealedSendFrame {
  let text: string | undefined;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    try {
      text = fromUtf8(input);
    } catch {
      text = undefined; // the full decoder says why
    }
  }
  const m = text === undefined ? null : CANONICAL_SEND.exec(text);
  if (m === null) return sendFrameBody.decode(input);
  const [, rid = '', username = '', deviceId = '', accessKey = '', id = '', env = ''] = m;
  return {
    type: 'send',
    rid: sendShape.rid.decode(Number(rid), `${SEND_WHAT}.rid`),
    username: sendShape.username.decode(username, `${SEND_WHAT}.username`),
    deviceId: sendShape.deviceId.decode(Number(deviceId), `${SEND_WHAT}.deviceId`),
    accessKey: sendShape.accessKey.decode(accessKey, `${SEND_WHAT}.accessKey`),
    id: sendShape.id.decode(id, `${SEND_WHAT}.id`),
    envelope: sendShape.envelope.decode(env, `${SEND_WHAT}.envelope`),
  };
}
export const encodeSealedServerFrame = serverFrameBody.encode;
export const decodeSealedServerFrame = serverFrameBody.decode;

/**
 * The rid of a frame that failed decodeSealedSendFrame, if it can be attributed to a request: a
 * strict JSON object whose "type" is "send" and whose "rid" is a valid request id, whatever its other
 * fields. Otherwise 0 (§9.7.1: the server answers rid 0 and closes). Only for the error path: the
 * answer to a bad field names the request it refuses, so the client's other sends go on.
 */
export function sealedFrameRequestId(input: string | Uint8Array): number {
  try {
    const v = parseStrictJson(input, 'sealed send frame');
    if (!isJsonObject(v) || v.type !== 'send' || v.rid === undefined) return 0;
    return requestId.decode(v.rid, 'rid');
  } catch {
    return 0;
  }
}
