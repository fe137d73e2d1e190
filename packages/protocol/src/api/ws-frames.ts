// docs/protocol/09 §9.8: WebSocket frames, JSON text. Client → server: auth, ack. Server → client:
// ready, message, prekeysLow. A frame that does not decode closes the connection (WS_CLOSE_MALFORMED).
import { MAX_API_ACK_IDS } from '../limits.ts';
import { envelope, messageId } from './common-fields.ts';
import { AUTH_TOKEN_BYTES } from './constants.ts';
import { arrayOf, body, bytes, literal, object, tagged, uint, type FieldCodec } from './fields.ts';

export interface AuthFrame {
  readonly type: 'auth';
  readonly token: Uint8Array;
}

export interface AckFrame {
  readonly type: 'ack';
  readonly ids: readonly Uint8Array[];
}

export type ClientFrame = AuthFrame | AckFrame;

export interface ReadyFrame {
  readonly type: 'ready';
}

export interface MessageFrame {
  readonly type: 'message';
  readonly seq: number;
  readonly id: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
}

export interface PrekeysLowFrame {
  readonly type: 'prekeysLow';
  readonly x25519: number;
  readonly kem: number;
}

export type ServerFrame = ReadyFrame | MessageFrame | PrekeysLowFrame;

const clientFrame: FieldCodec<ClientFrame> = tagged<ClientFrame>({
  auth: object({ type: literal('auth'), token: bytes({ length: AUTH_TOKEN_BYTES }) }),
  ack: object({ type: literal('ack'), ids: arrayOf(messageId, 0, MAX_API_ACK_IDS) }),
});

const serverFrame: FieldCodec<ServerFrame> = tagged<ServerFrame>({
  ready: object({ type: literal('ready') }),
  message: object({ type: literal('message'), seq: uint, id: messageId, envelope, receivedAt: uint }),
  prekeysLow: object({ type: literal('prekeysLow'), x25519: uint, kem: uint }),
});

const clientFrameBody = body(clientFrame, 'client frame');
const serverFrameBody = body(serverFrame, 'server frame');

export const encodeClientFrame = clientFrameBody.encode;
export const decodeClientFrame = clientFrameBody.decode;
export const encodeServerFrame = serverFrameBody.encode;
export const decodeServerFrame = serverFrameBody.decode;
