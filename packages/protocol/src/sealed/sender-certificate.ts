// Issuing and checking sender certificates (docs/protocol/06-sealed-envelope.md §6.3).
// The certificate is self-certified: the sender's own identity key signs the binding of its
// address (username, device id) to that key. The server is not trusted to vouch for it (see §6.3
// "Who signs"); whether the username really belongs to that key is the trust store's and key
// transparency's question, answered by the caller after open.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import type { IdentityKeyPair } from '../keys/identity.ts';
import { senderCertificateSignedBytes, type SenderCertificate, type UnsignedSenderCertificate } from '../wire/sender-certificate.ts';

export interface SenderCertificateFields {
  readonly username: string;
  readonly deviceId: number;
  /** Milliseconds since the Unix epoch; the certificate is valid while now < expiresAt. */
  readonly expiresAt: number;
}

/** Signs a certificate for `identity` (docs/protocol/06 §6.3). */
export async function createSenderCertificate(crypto: CryptoProvider, identity: IdentityKeyPair, fields: SenderCertificateFields): Promise<SenderCertificate> {
  const unsigned: UnsignedSenderCertificate = {
    username: fields.username,
    deviceId: fields.deviceId,
    identityKey: identity.publicKey,
    expiresAt: fields.expiresAt,
  };
  const signature = await identity.sign(crypto, senderCertificateSignedBytes(unsigned));
  return { ...unsigned, signature };
}

export function checkNow(now: number): void {
  if (!Number.isSafeInteger(now) || now < 0) throw new ProtocolError('ERR_ARGUMENT', `now: expected milliseconds since the epoch, got ${now}`);
}

/** Checks the self-signature (ERR_SIGNATURE_INVALID) and the expiry against `now` (ERR_SENDER_CERTIFICATE_EXPIRED). */
export async function verifySenderCertificate(crypto: CryptoProvider, certificate: SenderCertificate, now: number): Promise<void> {
  checkNow(now);
  const ok = await crypto.ed25519Verify(certificate.identityKey, senderCertificateSignedBytes(certificate), certificate.signature);
  if (!ok) throw new ProtocolError('ERR_SIGNATURE_INVALID', 'sender certificate: signature does not verify under its identity key');
  if (!(now < certificate.expiresAt)) {
    throw new ProtocolError('ERR_SENDER_CERTIFICATE_EXPIRED', `sender certificate: expired at ${certificate.expiresAt}, now is ${now}`);
  }
}
