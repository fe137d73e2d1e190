// The two frames the server writes once per message — the push of §9.8 (`message`) and the answer of
// §9.7.1 (`sent`) — built as text directly instead of through @sotto/protocol's codecs, which check
// every field again and encode base64url in JavaScript: on the hot path that cost more than storing
// the message. Byte for byte what encodeServerFrame / encodeSealedServerFrame produce for the same
// values (JSON.stringify of the codec's output: fields in the codec's order, integers as decimals,
// base64url needing no escapes); test/server-frames.test.ts holds them to that. Values that the codec
// would refuse — which the store never holds, since everything in it was decoded strictly first —
// go through the codec, so they fail as before instead of being sent.
import { encodeSealedServerFrame, encodeServerFrame, isSealedBucket, limits, MESSAGE_ID_BYTES } from '@sotto/protocol';

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const isUint = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** encodeServerFrame({type: 'message', seq, id, envelope, receivedAt}). */
export function messageFrameText(seq: number, id: Uint8Array, envelope: Uint8Array, receivedAt: number): string {
  if (!isUint(seq) || !isUint(receivedAt) || id.length !== MESSAGE_ID_BYTES || envelope.length > limits.MAX_API_ENVELOPE_BYTES || !isSealedBucket(envelope.length)) {
    return encodeServerFrame({ type: 'message', seq, id, envelope, receivedAt });
  }
  return `{"type":"message","seq":${seq},"id":"${b64(id)}","envelope":"${b64(envelope)}","receivedAt":${receivedAt}}`;
}

/** encodeSealedServerFrame({type: 'sent', rid, seq, duplicate}). */
export function sentFrameText(rid: number, seq: number, duplicate: boolean): string {
  if (!Number.isInteger(rid) || rid < 1 || rid > 0xffffffff || !isUint(seq)) return encodeSealedServerFrame({ type: 'sent', rid, seq, duplicate });
  return `{"type":"sent","rid":${rid},"seq":${seq},"duplicate":${duplicate ? 'true' : 'false'}}`;
}
