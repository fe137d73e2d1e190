// Fixed sizes and names of the server API (docs/protocol/09). Sizes, not tunable bounds: changing
// one changes the protocol.

/** §9.7: an access key, HKDF(profileKey, "", "Sotto_v1_AccessKey", 16). */
export const ACCESS_KEY_BYTES = 16;
/** §9.7: a profile key, 32 random bytes shared with contacts only. */
export const PROFILE_KEY_BYTES = 32;
/** §9.4: a challenge, 32 random bytes from the server. */
export const AUTH_CHALLENGE_BYTES = 32;
/** §9.4: a bearer token, 32 random bytes from the server. */
export const AUTH_TOKEN_BYTES = 32;
/** §9.7: a message id, 16 random bytes chosen by the sender. */
export const MESSAGE_ID_BYTES = 16;
/** §9.9: an attachment id, 16 random bytes chosen by the server. */
export const ATTACHMENT_ID_BYTES = 16;
/** §9.3: Ed25519 identity public key and signature sizes (RFC 8032). */
export const IDENTITY_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** §9.7: the header of a sealed send. */
export const ACCESS_KEY_HEADER = 'Sotto-Access-Key';

/** §9.8: WebSocket close codes. */
export const WS_CLOSE_MALFORMED = 4400;
export const WS_CLOSE_UNAUTHORIZED = 4401;
export const WS_CLOSE_REPLACED = 4409;

/** §9.7.1: the path of the sealed-send WebSocket (anonymous: it carries no credential of the sender). */
export const SEALED_WEBSOCKET_PATH = '/v1/ws/sealed';
