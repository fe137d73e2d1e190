// docs/protocol/09 §9.4: device authentication bodies (challenge, token request, token).
import { usernameAnyCase } from './common-fields.ts';
import { AUTH_CHALLENGE_BYTES, AUTH_TOKEN_BYTES, SIGNATURE_BYTES } from './constants.ts';
import { body, bytes, object, u32, uint, type FieldCodec } from './fields.ts';

/** `POST /v1/auth/challenge` answer. */
export interface ChallengeResponse {
  readonly challenge: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** `POST /v1/auth/token` body; the signature is over buildServerAuthMessage(challenge, username, deviceId). */
export interface TokenRequest {
  readonly username: string;
  readonly deviceId: number;
  readonly challenge: Uint8Array;
  readonly signature: Uint8Array;
}

/** `POST /v1/auth/token` answer. */
export interface TokenResponse {
  readonly token: Uint8Array;
  readonly expiresAt: number;
}

const challengeResponse: FieldCodec<ChallengeResponse> = object({ challenge: bytes({ length: AUTH_CHALLENGE_BYTES }), expiresAt: uint });
const tokenRequest: FieldCodec<TokenRequest> = object({
  username: usernameAnyCase,
  deviceId: u32,
  challenge: bytes({ length: AUTH_CHALLENGE_BYTES }),
  signature: bytes({ length: SIGNATURE_BYTES }),
});
const tokenResponse: FieldCodec<TokenResponse> = object({ token: bytes({ length: AUTH_TOKEN_BYTES }), expiresAt: uint });

const challengeResponseBody = body(challengeResponse, 'challenge response');
const tokenRequestBody = body(tokenRequest, 'token request');
const tokenResponseBody = body(tokenResponse, 'token response');

export const encodeChallengeResponse = challengeResponseBody.encode;
export const decodeChallengeResponse = challengeResponseBody.decode;
export const encodeTokenRequest = tokenRequestBody.encode;
export const decodeTokenRequest = tokenRequestBody.decode;
export const encodeTokenResponse = tokenResponseBody.encode;
export const decodeTokenResponse = tokenResponseBody.decode;
