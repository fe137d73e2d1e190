// docs/protocol/09 §9.5: prekey counts. The upload itself (PUT /v1/keys) and the bundle
// (GET /v1/keys/{username}/{deviceId}) are binary: encodePrekeyUpload / encodePrekeyBundle (§3.5, §3.6).
import { body, boolean, object, uint, type FieldCodec } from './fields.ts';

/** `PUT /v1/keys` answer: one-time keys now held. */
export interface KeyCountsResponse {
  readonly x25519: number;
  readonly kem: number;
}

/** `GET /v1/keys` answer: the counts and whether either is below PREKEY_LOW_WATER. */
export interface KeyStatusResponse {
  readonly x25519: number;
  readonly kem: number;
  readonly lowWater: boolean;
}

const keyCountsResponse: FieldCodec<KeyCountsResponse> = object({ x25519: uint, kem: uint });
const keyStatusResponse: FieldCodec<KeyStatusResponse> = object({ x25519: uint, kem: uint, lowWater: boolean });

const keyCountsResponseBody = body(keyCountsResponse, 'key counts response');
const keyStatusResponseBody = body(keyStatusResponse, 'key status response');

export const encodeKeyCountsResponse = keyCountsResponseBody.encode;
export const decodeKeyCountsResponse = keyCountsResponseBody.decode;
export const encodeKeyStatusResponse = keyStatusResponseBody.encode;
export const decodeKeyStatusResponse = keyStatusResponseBody.decode;
