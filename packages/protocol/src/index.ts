// @sotto/protocol — the public surface (STYLE.md §7). Everything not exported here is internal.
export { ProtocolError, isProtocolError, type ProtocolErrorCode } from './errors.ts';
export * as limits from './limits.ts';
export type { CryptoProvider, Rng, AeadAlgorithm, MlKemKeyPair, MlKemEncapsulation } from './crypto/provider.ts';
export { nobleProvider } from './crypto/noble.ts';
export { IdentityKeyPair, parseIdentityPublicKey, identityDhPublicKey, type IdentityPublicKey, type IdentityDhPublicKey } from './keys/identity.ts';
export { WIRE_VERSION } from './wire/version.ts';
export { initRatchetAsInitiator, initRatchetAsResponder, ratchetEncrypt, ratchetDecrypt, type RatchetKeyPair, type RatchetState } from './ratchet/double-ratchet.ts';
export { encodeRatchetState, decodeRatchetState } from './wire/ratchet-state.ts';
export { SignedPrekeyPrivate, OneTimePrekeyPrivate, KemPrekeyPrivate, generateOneTimePrekeys, generateKemPrekeys, verifySignedPrekey, verifyOneTimePrekey, verifyKemPrekey, parseX25519PublicKey, parseMlKemPublicKey, type SignedPrekeyPublic, type OneTimePrekeyPublic, type KemPrekeyPublic, type X25519PublicKey, type MlKemPublicKey } from './keys/prekeys.ts';
export { encodePrekeyBundle, decodePrekeyBundle, verifyPrekeyBundle, VerifiedPrekeyBundle, type PrekeyBundle, type WireSignedPrekey, type WireOneTimePrekey, type WireKemPrekey } from './wire/prekey-bundle.ts';
export { encodeSignedPrekey, decodeSignedPrekey } from './wire/prekey-signed.ts';
export { encodeOneTimePrekey, decodeOneTimePrekey } from './wire/prekey-one-time.ts';
export { encodeKemPrekey, decodeKemPrekey } from './wire/prekey-kem.ts';
export { encodePrekeyMessage, decodePrekeyMessage, type PrekeyMessage, type PrekeyHeader } from './wire/prekey-message.ts';
export { initiateSession, acceptPrekeyMessage, sessionEncrypt, sessionDecrypt, sessionMessageKind, type Session, type SessionRole, type SessionMessage, type SessionMessageKind, type ResponderPrekeyStore, type PrekeyUse, type AcceptedPrekeyMessage } from './session/session.ts';
export { MemoryPrekeyStore } from './session/memory-prekey-store.ts';
export { encodeSession, decodeSession } from './wire/session-state.ts';
export { hpkeSeal, hpkeOpen, hpkeSendExport, hpkeReceiveExport, setupHpkeSender, setupHpkeRecipient, HpkeKeyPair, type HpkeSenderParams, type HpkeRecipientParams, type HpkeSenderAuth, type HpkeRecipientAuth } from './hpke/hpke.ts';
export type { HpkeSenderContext, HpkeRecipientContext } from './hpke/context.ts';
export { sealEnvelope, openEnvelope, type SealInput, type OpenedEnvelope } from './sealed/sealed-sender.ts';
export { createSenderCertificate, verifySenderCertificate, type SenderCertificateFields } from './sealed/sender-certificate.ts';
export { isSealedBucket, sealedBucketFor } from './sealed/padding.ts';
export { encodeSenderCertificate, decodeSenderCertificate, type SenderCertificate } from './wire/sender-certificate.ts';
export type { SealedContentType } from './wire/sealed-content.ts';
export { sottoSafetyNumber, compareScannable, SOTTO_SCANNABLE_VERSION, type SafetyNumber, type ScanResult, type SottoIdentity } from './fingerprint/safety-number.ts';
export { encodePrekeyUpload, decodePrekeyUpload, verifyPrekeyUpload, type PrekeyUpload } from './wire/prekey-upload.ts';
export { receiveSealed, type SealedReceiveContext, type SealedReceived } from './session/receive-sealed.ts';
// Server API (docs/protocol/09): strict JSON bodies, base64url, usernames, signed messages, access keys.
export { encodeBase64url, decodeBase64url, base64urlLength, installBase64urlDecoder, type Base64urlBound, type Base64urlBytes } from './api/base64url.ts';
// The strict JSON reader of §9.1, also for the client's content JSON (docs/protocol/10 §10.2).
export { parseStrictJson, isJsonObject, type JsonValue, type JsonObject } from './internal/strict-json.ts';
export { foldUsername, isFoldedUsername } from './api/username.ts';
export { buildRegistrationMessage, buildServerAuthMessage } from './api/signed-messages.ts';
export { accessKeyFromProfileKey, ACCESS_KEY_INFO } from './api/access-key.ts';
export {
  ACCESS_KEY_BYTES,
  PROFILE_KEY_BYTES,
  AUTH_CHALLENGE_BYTES,
  AUTH_TOKEN_BYTES,
  MESSAGE_ID_BYTES,
  ATTACHMENT_ID_BYTES,
  IDENTITY_KEY_BYTES,
  SIGNATURE_BYTES,
  ACCESS_KEY_HEADER,
  WS_CLOSE_MALFORMED,
  WS_CLOSE_UNAUTHORIZED,
  WS_CLOSE_REPLACED,
  SEALED_WEBSOCKET_PATH,
} from './api/constants.ts';
export { encodeBearerAuthorization, decodeBearerAuthorization, encodeAccessKeyHeader, decodeAccessKeyHeader } from './api/headers.ts';
export {
  encodeRegistrationRequest,
  decodeRegistrationRequest,
  encodeRegistrationResponse,
  decodeRegistrationResponse,
  encodeAccountResponse,
  decodeAccountResponse,
  type RegistrationRequest,
  type RegistrationResponse,
  type AccountResponse,
} from './api/accounts.ts';
export {
  encodeChallengeResponse,
  decodeChallengeResponse,
  encodeTokenRequest,
  decodeTokenRequest,
  encodeTokenResponse,
  decodeTokenResponse,
  type ChallengeResponse,
  type TokenRequest,
  type TokenResponse,
} from './api/auth.ts';
export { encodeKeyCountsResponse, decodeKeyCountsResponse, encodeKeyStatusResponse, decodeKeyStatusResponse, type KeyCountsResponse, type KeyStatusResponse } from './api/keys.ts';
export {
  encodeSendMessageRequest,
  decodeSendMessageRequest,
  encodeSendMessageResponse,
  decodeSendMessageResponse,
  encodeFetchResponse,
  decodeFetchResponse,
  encodeAckRequest,
  decodeAckRequest,
  encodeAckResponse,
  decodeAckResponse,
  encodeFetchQuery,
  decodeFetchQuery,
  type SendMessageRequest,
  type SendMessageResponse,
  type FetchedMessage,
  type FetchResponse,
  type AckRequest,
  type AckResponse,
  type FetchQuery,
} from './api/messages.ts';
export { encodeAttachmentResponse, decodeAttachmentResponse, type AttachmentResponse } from './api/attachments.ts';
// TURN credentials for calls (docs/protocol/11 §11.7, `GET /v1/calls/turn`).
export {
  encodeTurnCredentialsResponse,
  decodeTurnCredentialsResponse,
  isTurnUrl,
  TURN_USERNAME_RANDOM_BYTES,
  TURN_CREDENTIAL_BYTES,
  MAX_TURN_URLS,
  MAX_TURN_TTL_SECONDS,
  type TurnCredentialsResponse,
} from './api/turn.ts';
export { encodeErrorBody, decodeErrorBody, encodeHealthResponse, decodeHealthResponse, API_ERROR_CODES, API_ERROR_STATUS, type ApiErrorCode, type ApiErrorBody, type HealthResponse } from './api/error-body.ts';
export {
  encodeClientFrame,
  decodeClientFrame,
  encodeServerFrame,
  decodeServerFrame,
  type ClientFrame,
  type AuthFrame,
  type AckFrame,
  type ServerFrame,
  type ReadyFrame,
  type MessageFrame,
  type PrekeysLowFrame,
} from './api/ws-frames.ts';
export {
  encodeSealedSendFrame,
  decodeSealedSendFrame,
  encodeSealedServerFrame,
  decodeSealedServerFrame,
  sealedFrameRequestId,
  type SealedSendFrame,
  type SealedServerFrame,
  type SealedSentFrame,
  type SealedErrorFrame,
} from './api/sealed-frames.ts';
// Calls: SFrame media encryption (docs/protocol/11 §11.5, RFC 9605).
export {
  SOTTO_SFRAME_SUITE,
  SFRAME_REPLAY_WINDOW,
  encodeSframeHeader,
  decodeSframeHeader,
  deriveSframeKeys,
  sframeEncryptFrame,
  sframeDecryptFrame,
  SframeSender,
  SframeReceiver,
  type SframeCipherSuite,
  type SframeKeys,
  type SframeDirectionOptions,
} from './call/sframe.ts';
// Calls: key agreement, hash commitment, SAS and SDP rules (docs/protocol/11 §11.1–11.4).
export {
  createCallOffer,
  ringCallOffer,
  confirmCallAsCaller,
  confirmCallAsCallee,
  completeCall,
  CallerPending,
  CalleePending,
  CallConfirmed,
  CALL_ID_BYTES,
  CALLER_SFRAME_KID,
  CALLEE_SFRAME_KID,
  type CallOfferMessage,
  type CallRingingMessage,
  type CallAnswerMessage,
  type CallConfirmMessage,
  type CallKeys,
  type CallSframeKey,
} from './call/call-key-agreement.ts';
export { renderSas, type Sas } from './call/sas.ts';
export { stripAudioLevel, sdpFingerprint } from './call/sdp.ts';
