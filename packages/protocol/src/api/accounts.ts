// docs/protocol/09 §9.3 (registration) and §9.6 (account lookup): request and response bodies.
import { MAX_API_DEVICES } from '../limits.ts';
import { usernameAnyCase, usernameFolded } from './common-fields.ts';
import { ACCESS_KEY_BYTES, IDENTITY_KEY_BYTES, SIGNATURE_BYTES } from './constants.ts';
import { arrayOf, body, bytes, object, u32, type FieldCodec } from './fields.ts';

/** `POST /v1/accounts` body. The signature is over buildRegistrationMessage(username, deviceId, accessKey). */
export interface RegistrationRequest {
  /** Any case; the server folds it (§9.2). */
  readonly username: string;
  readonly identityKey: Uint8Array;
  /** Always 1 for now (multi-device is later); the codec accepts any u32, the server requires 1. */
  readonly deviceId: number;
  readonly accessKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** `201` answer to a registration: the folded username. */
export interface RegistrationResponse {
  readonly username: string;
}

/** `GET /v1/accounts/{username}` answer. */
export interface AccountResponse {
  readonly username: string;
  readonly identityKey: Uint8Array;
  readonly devices: readonly number[];
}

const registrationRequest: FieldCodec<RegistrationRequest> = object({
  username: usernameAnyCase,
  identityKey: bytes({ length: IDENTITY_KEY_BYTES }),
  deviceId: u32,
  accessKey: bytes({ length: ACCESS_KEY_BYTES }),
  signature: bytes({ length: SIGNATURE_BYTES }),
});
const registrationResponse: FieldCodec<RegistrationResponse> = object({ username: usernameFolded });
const accountResponse: FieldCodec<AccountResponse> = object({
  username: usernameFolded,
  identityKey: bytes({ length: IDENTITY_KEY_BYTES }),
  devices: arrayOf(u32, 0, MAX_API_DEVICES),
});

const registrationRequestBody = body(registrationRequest, 'registration request');
const registrationResponseBody = body(registrationResponse, 'registration response');
const accountResponseBody = body(accountResponse, 'account response');

export const encodeRegistrationRequest = registrationRequestBody.encode;
export const decodeRegistrationRequest = registrationRequestBody.decode;
export const encodeRegistrationResponse = registrationResponseBody.encode;
export const decodeRegistrationResponse = registrationResponseBody.decode;
export const encodeAccountResponse = accountResponseBody.encode;
export const decodeAccountResponse = accountResponseBody.decode;
