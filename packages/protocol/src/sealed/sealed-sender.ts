// Sealed-sender envelopes (docs/protocol/06-sealed-envelope.md): the server needs only the
// recipient's address; who sent the message is known to the recipient alone.
//   outer layer: HPKE base mode to the recipient's identity X25519 key, carrying the sender's
//                Ed25519 identity key (Signal sealed sender v1's "encrypted static");
//   inner layer: HPKE auth mode from the sender's identity X25519 key, carrying the padded
//                SealedContent (sender certificate, content type, content).
// The inner layer's AuthDecap succeeds only for a holder of the sender's identity secret, which
// authenticates the sender without a signature on the message (deniable, like Signal's static-key
// DH). Both layers bind the recipient's Ed25519 identity key in their info, and the inner layer's
// associated data is every envelope byte before it, so nothing can be re-targeted or spliced.
import { ProtocolError, isProtocolError } from '../errors.ts';
import type { CryptoProvider, Rng } from '../crypto/provider.ts';
import { concatBytes, constantTimeEqual, utf8, wipe } from '../internal/bytes.ts';
import { identityDhPublicKey, parseIdentityPublicKey, type IdentityKeyPair, type IdentityPublicKey } from '../keys/identity.ts';
import { setupHpkeRecipient, setupHpkeSender } from '../hpke/hpke.ts';
import type { HpkeAead } from '../hpke/suite.ts';
import { WIRE_VERSION, WireType } from '../wire/version.ts';
import { decodeSealedContent, encodeSealedContent, type SealedContentType } from '../wire/sealed-content.ts';
import type { SessionMessageKind } from '../session/session.ts';
import { SEALED_ENVELOPE_OVERHEAD, SEALED_INNER_AAD_BYTES, decodeSealedEnvelope, encodeSealedEnvelope } from '../wire/sealed-envelope.ts';
import type { SenderCertificate } from '../wire/sender-certificate.ts';
import { padIso7816, sealedBucketFor, unpadIso7816 } from './padding.ts';
import { checkNow, verifySenderCertificate } from './sender-certificate.ts';

/** docs/protocol/06 §6.2: the AEAD of both HPKE layers (suite DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305). */
export const SEALED_AEAD: HpkeAead = 'chacha20-poly1305';
/** docs/protocol/06 §6.6: outer layer info prefix; info = label || recipient Ed25519 identity key. */
export const SEALED_OUTER_INFO_LABEL = utf8('Sotto v1 sealed envelope outer');
/** docs/protocol/06 §6.6: inner layer info prefix; info = label || recipient key || sender key (Ed25519). */
export const SEALED_INNER_INFO_LABEL = utf8('Sotto v1 sealed envelope inner');
/** docs/protocol/06 §6.6: the outer layer's associated data: the envelope's version and type bytes. */
const SEALED_HEADER = Uint8Array.of(WIRE_VERSION, WireType.SealedEnvelope);

export interface SealInput {
  /** The sender's identity; its X25519 form authenticates the inner layer. */
  readonly sender: IdentityKeyPair;
  /** A certificate for the sender's identity key (createSenderCertificate); ERR_ARGUMENT if for another key. */
  readonly certificate: SenderCertificate;
  /** The recipient's Ed25519 identity key, as the sender trusts it. */
  readonly recipient: IdentityPublicKey;
  /** The kind of the session message carried, as `sessionEncrypt` returned it. */
  readonly contentType: SessionMessageKind;
  /** The encoded prekey or ratchet message. */
  readonly content: Uint8Array;
}

/** What the recipient learns from an envelope that passed every check of §6.8. The username is
 *  self-certified (docs/protocol/06 §6.9): the caller must still check that `identityKey` is the key
 *  its trust store (or key transparency) holds for `username`, and show the trust state. */
export interface OpenedEnvelope {
  /** The authenticated sender: certificate fields, checked against the key that authenticated the envelope. */
  readonly sender: { readonly username: string; readonly deviceId: number; readonly identityKey: IdentityPublicKey };
  readonly certificate: SenderCertificate;
  /** Whether `content` is a prekey message (for acceptPrekeyMessage) or a ratchet message (for sessionDecrypt). */
  readonly contentType: SessionMessageKind;
  readonly content: Uint8Array;
}

/** docs/protocol/06 §6.4: the API's message kinds and their type bytes in SealedContent (docs/protocol.md §2.2). */
const KIND_TO_WIRE: Readonly<Record<SessionMessageKind, SealedContentType>> = { prekey: WireType.PrekeyMessage, ratchet: WireType.RatchetMessage };

function kindOf(t: SealedContentType): SessionMessageKind {
  return t === WireType.PrekeyMessage ? 'prekey' : 'ratchet';
}

function outerInfo(recipient: Uint8Array): Uint8Array {
  return concatBytes(SEALED_OUTER_INFO_LABEL, recipient);
}

function innerInfo(recipient: Uint8Array, sender: Uint8Array): Uint8Array {
  return concatBytes(SEALED_INNER_INFO_LABEL, recipient, sender);
}

/** docs/protocol/06 §6.6–6.7: seals `content` from `sender` to `recipient`; the result's length is a bucket size. */
export async function sealEnvelope(crypto: CryptoProvider, rng: Rng, input: SealInput): Promise<Uint8Array> {
  const { sender, certificate, recipient } = input;
  if (!constantTimeEqual(certificate.identityKey, sender.publicKey)) {
    throw new ProtocolError('ERR_ARGUMENT', 'sealEnvelope: the certificate is for another identity key than the sender');
  }
  const recipientDh = identityDhPublicKey(parseIdentityPublicKey(recipient));
  // §6.7 step 1–2: SealedContent, then ISO/IEC 7816-4 padding to the smallest bucket that fits
  const sealedContent = encodeSealedContent({ certificate, contentType: KIND_TO_WIRE[input.contentType], content: input.content });
  const bucket = sealedBucketFor(SEALED_ENVELOPE_OVERHEAD + sealedContent.length + 1);
  const padded = padIso7816(sealedContent, bucket - SEALED_ENVELOPE_OVERHEAD);

  // §6.6 step 3: outer layer, base mode, carries the sender's Ed25519 identity key
  const outer = await setupHpkeSender(crypto, rng, {
    aead: SEALED_AEAD,
    recipientPublicKey: recipientDh,
    info: outerInfo(recipient),
    auth: { mode: 'base' },
  });
  const outerCiphertext = (await outer.context.seal(crypto, SEALED_HEADER, sender.publicKey)).ciphertext;

  // §6.6 step 4: inner layer, auth mode from the sender's identity X25519 key
  const senderDhPrivate = sender.dhPrivateKey(crypto);
  let inner: Awaited<ReturnType<typeof setupHpkeSender>>;
  try {
    inner = await setupHpkeSender(crypto, rng, {
      aead: SEALED_AEAD,
      recipientPublicKey: recipientDh,
      info: innerInfo(recipient, sender.publicKey),
      auth: { mode: 'auth', senderPrivateKey: senderDhPrivate, senderPublicKey: identityDhPublicKey(sender.publicKey) },
    });
  } finally {
    wipe(senderDhPrivate);
  }
  // §6.6 step 5: the inner AAD is every envelope byte before the inner ciphertext
  const innerAad = concatBytes(SEALED_HEADER, outer.enc, outerCiphertext, inner.enc);
  const innerCiphertext = (await inner.context.seal(crypto, innerAad, padded)).ciphertext;
  wipe(padded);
  return encodeSealedEnvelope({ outerEnc: outer.enc, outerCiphertext, innerEnc: inner.enc, innerCiphertext });
}

/** Runs an HPKE step whose failure means "this envelope does not authenticate for us". */
async function authenticated<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (isProtocolError(e) && e.code !== 'ERR_ARGUMENT') {
      throw new ProtocolError('ERR_SEALED_DECRYPT_FAILED', `sealed envelope: ${what} did not authenticate`);
    }
    throw e;
  }
}

/**
 * docs/protocol/06 §6.8: opens an envelope addressed to `recipient`, checking, in order: structure and
 * bucket length (ERR_WIRE_*), the outer layer (ERR_SEALED_DECRYPT_FAILED), the sender key it carries
 * (ERR_SEALED_DECRYPT_FAILED), the inner layer under that key (ERR_SEALED_DECRYPT_FAILED), the padding
 * (ERR_PADDING_INVALID), the SealedContent encoding (ERR_WIRE_*), that the certificate is for the
 * authenticating key (ERR_SEALED_SENDER_MISMATCH), its signature (ERR_SIGNATURE_INVALID) and its
 * expiry against `now`, in milliseconds since the epoch (ERR_SENDER_CERTIFICATE_EXPIRED).
 */
export async function openEnvelope(crypto: CryptoProvider, recipient: IdentityKeyPair, envelope: Uint8Array, now: number): Promise<OpenedEnvelope> {
  const recipientDhPrivate = recipient.dhPrivateKey(crypto);
  try {
    return await openWith(crypto, recipient.publicKey, recipientDhPrivate, envelope, now);
  } finally {
    wipe(recipientDhPrivate);
  }
}

/** openEnvelope with the recipient's keys given separately (tests use it to probe the info binding). */
export async function openWith(
  crypto: CryptoProvider,
  recipientKey: IdentityPublicKey,
  recipientDhPrivate: Uint8Array,
  envelope: Uint8Array,
  now: number,
): Promise<OpenedEnvelope> {
  checkNow(now);
  const e = decodeSealedEnvelope(envelope); // 1. structure, version, type, bucket length
  const recipientDh = identityDhPublicKey(recipientKey);

  // 2. outer layer: base mode to us
  const senderKeyBytes = await authenticated('outer layer', async () => {
    const ctx = await setupHpkeRecipient(crypto, e.outerEnc, {
      aead: SEALED_AEAD,
      recipientPrivateKey: recipientDhPrivate,
      recipientPublicKey: recipientDh,
      info: outerInfo(recipientKey),
      auth: { mode: 'base' },
    });
    return (await ctx.open(crypto, SEALED_HEADER, e.outerCiphertext)).plaintext;
  });
  // 3. the claimed sender key must be a valid identity key (anyone can make an outer layer)
  const senderKey = await authenticated('sender key', () => Promise.resolve(parseIdentityPublicKey(senderKeyBytes)));

  // 4. inner layer: auth mode, from the claimed sender's identity key
  const innerAad = envelope.slice(0, SEALED_INNER_AAD_BYTES); // a copy: the caller may reuse its buffer while we await
  const padded = await authenticated('inner layer', async () => {
    const ctx = await setupHpkeRecipient(crypto, e.innerEnc, {
      aead: SEALED_AEAD,
      recipientPrivateKey: recipientDhPrivate,
      recipientPublicKey: recipientDh,
      info: innerInfo(recipientKey, senderKey),
      auth: { mode: 'auth', senderPublicKey: identityDhPublicKey(senderKey) },
    });
    return (await ctx.open(crypto, innerAad, e.innerCiphertext)).plaintext;
  });

  // 5. padding: ISO/IEC 7816-4, and canonical: the smallest bucket that fits the content
  const sealedBytes = unpadIso7816(padded);
  if (sealedBucketFor(SEALED_ENVELOPE_OVERHEAD + sealedBytes.length + 1) !== envelope.length) {
    throw new ProtocolError('ERR_PADDING_INVALID', `padding: envelope of ${envelope.length} bytes is not the smallest bucket for its content`);
  }

  // 6. the content, strictly decoded
  const content = decodeSealedContent(sealedBytes);
  const cert = content.certificate;

  // 7. the certificate must be for the key that authenticated the envelope
  if (!constantTimeEqual(cert.identityKey, senderKey)) {
    throw new ProtocolError('ERR_SEALED_SENDER_MISMATCH', 'sealed envelope: the certificate names another identity key than the one that authenticated the envelope');
  }
  // 8–9. its self-signature and its expiry
  await verifySenderCertificate(crypto, cert, now);

  return {
    sender: { username: cert.username, deviceId: cert.deviceId, identityKey: cert.identityKey },
    certificate: cert,
    contentType: kindOf(content.contentType),
    content: content.content,
  };
}
