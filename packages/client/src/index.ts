// Public API of @sotto/client (STYLE.md §7): an explicit export list, nothing else. This entry is
// platform-neutral (browsers and Node): nothing under it imports node: modules or `ws`. The Node-only
// pieces are in @sotto/client/node (src/node.ts), the browser keystore in @sotto/client/browser
// (src/browser.ts).

// The SDK facade (the contract the CLI and the web client code against).
export { createAccount, openClient } from './client.ts';
export type { ClientOptions, SottoClient } from './client.ts';
export type { SentMessage, FileRef, ReceivedMessage } from './messaging/types.ts';
export type { Call, CallMedia, CallMediaKey, CallSas, CallState, CallEndReason, IncomingCall, Timers } from './calls/types.ts';
export type { Contact, TrustState, VerificationMethod } from './trust/trust-store.ts';
export type { WebSocketFactory, WebSocketLike } from './transport/websocket.ts';
export type { FetchLike, FetchInit, FetchResponseLike } from './transport/http.ts';

// Errors.
export { ClientError, isClientError } from './errors.ts';
export type { ClientErrorCode, ServerErrorInfo } from './errors.ts';

// Building blocks, for tests, other front ends and tools.
export { encodeContent, decodeContent } from './content/content.ts';
export type { Content, ContentBody, FileContent, CallSignalBody } from './content/content.ts';
export { CALL_END_REASONS } from './content/content.ts';
export { CALL_RING_TIMEOUT_MS, CALL_OFFER_MAX_AGE_MS, MAX_VOICEMAIL_DURATION_MS } from './limits.ts';
export { encryptAttachment, decryptAttachment, paddedAttachmentSize, maxAttachmentFileBytes, ATTACHMENT_AAD } from './attachments/attachment.ts';
export type { EncryptedAttachment, AttachmentSecrets } from './attachments/attachment.ts';
export {
  EMPTY_TRUST_STORE,
  observeIdentityKey,
  sendDecision,
  senderStateFor,
  markVerified,
  acceptNewKey,
  currentKey,
} from './trust/trust-store.ts';
export type { TrustStore, KeyObservation, SendDecision } from './trust/trust-store.ts';
export { encodeTrustStore, decodeTrustStore } from './trust/trust-codec.ts';
export { backoffDelay } from './messaging/backoff.ts';
export { splitPrekeyUpload } from './messaging/prekeys.ts';

// The device keystore: the interface, how createAccount / openClient reach one, and the passphrase
// KDF parameters every back-end shares.
export type { Keystore, KeystoreOpener } from './keystore/keystore.ts';
export { PRODUCTION_ARGON2ID, MIN_ARGON2ID } from './keystore/kdf.ts';
export type { Argon2idParams } from './keystore/kdf.ts';
