// PQXDH key agreement, revision 3 (2023-05-24, updated 2024-01-23), with the parameters of
// docs/protocol/04-pqxdh.md §4.1: curve = curve25519, hash = SHA-256, pqkem = ML-KEM-1024 (FIPS 203),
// info = "Sotto_v1". The identity key is Ed25519; it takes part in DH through its X25519 form
// (RFC 7748 §4.1, keys/identity.ts). No published PQXDH test vectors exist (the spec has none), so
// test/handshake-pqxdh.test.ts checks both sides agree and recomputes SK from the spec formula.
import { ProtocolError } from '../errors.ts';
import { X25519_KEY_BYTES, MLKEM_MESSAGE_BYTES, type CryptoProvider, type Rng } from '../crypto/provider.ts';
import { concatBytes, utf8, wipe } from '../internal/bytes.ts';
import { identityDhPublicKey, type IdentityKeyPair, type IdentityPublicKey } from '../keys/identity.ts';
import {
  encodeEc,
  encodeIdentity,
  parseX25519PublicKey,
  type KemPrekeyPrivate,
  type OneTimePrekeyPrivate,
  type SignedPrekeyPrivate,
  type X25519PublicKey,
} from '../keys/prekeys.ts';
import { VerifiedPrekeyBundle } from '../wire/prekey-bundle.ts';
import type { PrekeyHeader } from '../wire/prekey-message.ts';

/** PQXDH §2.2 HKDF info: info "_" curve "_" hash "_" pqkem (docs/protocol/04 §4.1). 39 bytes ≥ 8 (§2.1). */
export const PQXDH_INFO = utf8('Sotto_v1_CURVE25519_SHA-256_ML-KEM-1024');
/** PQXDH §2.2: F = 32 0xFF bytes for curve25519, so the IKM never starts with a valid scalar or point encoding. */
export const PQXDH_F: Uint8Array = new Uint8Array(32).fill(0xff);
/** PQXDH §2.2: HKDF salt = a zero-filled byte sequence of the hash output length (32 for SHA-256). */
export const PQXDH_SALT: Uint8Array = new Uint8Array(32);
/** PQXDH §2.2: KDF(KM) is 32 bytes of HKDF output. */
export const PQXDH_SK_BYTES = 32;

/** PQXDH §2.2 KDF(KM) = HKDF-SHA-256(ikm = F || KM, salt = 0^32, info = PQXDH_INFO, L = 32). */
export function pqxdhKdf(crypto: CryptoProvider, km: Uint8Array): Uint8Array {
  const ikm = concatBytes(PQXDH_F, km);
  const sk = crypto.hkdfSha256(ikm, PQXDH_SALT, PQXDH_INFO, PQXDH_SK_BYTES);
  wipe(ikm);
  return sk;
}

/**
 * PQXDH §3.3 AD = EncodeEC(IK_A) || EncodeEC(IK_B), followed by the Ed25519 encodings of both identity
 * keys and EncodeEC(EK_A) (allowed by §3.3: "Alice may optionally append additional information to
 * AD"). Both appended parts close malleability that the DH values alone leave open:
 *  - the map Ed25519 → X25519 drops the sign of x: without the Ed25519 encodings, a flipped sign bit
 *    on IK_A would give the same DH values and the same AD, and Bob would record the wrong identity key;
 *  - X25519 clamps scalars to multiples of 8, so EK_A + T for any of the 7 non-zero torsion points T
 *    gives the same DH2, DH3 and DH4: without EK_A in AD, those 7 other encodings of one initial
 *    message would each authenticate, slipping past the last-resort replay record keyed by EK_A.
 * EncodeKEM(PQPK_B) is NOT appended: §3.3 requires it only "if pqkem does not incorporate PQPK_B into
 * the ciphertext" (§4.12), and ML-KEM does — FIPS 203 Alg. 17 derives (K, r) = G(m || H(ek)), so the
 * shared secret is bound to the encapsulation key (docs/protocol/04 §4.5).
 */
export function pqxdhAssociatedData(initiator: IdentityPublicKey, responder: IdentityPublicKey, baseKey: X25519PublicKey): Uint8Array {
  return concatBytes(
    encodeEc(identityDhPublicKey(initiator)),
    encodeEc(identityDhPublicKey(responder)),
    encodeIdentity(initiator),
    encodeIdentity(responder),
    encodeEc(baseKey),
  );
}

export interface PqxdhResult {
  /** SK (32 bytes): the Double Ratchet's initial root secret. */
  readonly sharedSecret: Uint8Array;
  /** AD for the initial ciphertext and the whole ratchet session. */
  readonly associatedData: Uint8Array;
}

export interface PqxdhInitiation extends PqxdhResult {
  /** What the initial message must carry (§3.3), minus the inner ciphertext. */
  readonly header: PrekeyHeader;
}

/** PQXDH §3.3, Alice's side. The bundle must come from `verifyPrekeyBundle` (checked at run time). */
export async function pqxdhInitiate(crypto: CryptoProvider, rng: Rng, ownIdentity: IdentityKeyPair, bundle: VerifiedPrekeyBundle): Promise<PqxdhInitiation> {
  if (!(bundle instanceof VerifiedPrekeyBundle)) {
    throw new ProtocolError('ERR_ARGUMENT', 'pqxdhInitiate: expected a VerifiedPrekeyBundle from verifyPrekeyBundle');
  } //                                                           §3.3 "Alice verifies the signatures on the prekeys"
  const ikB = identityDhPublicKey(bundle.identityKey);
  const ekPrivate = rng(X25519_KEY_BYTES); //                    §3.3 "generates an ephemeral curve key pair EK_A"
  const ekPublic = parseX25519PublicKey(await crypto.x25519PublicKey(ekPrivate), 'ephemeral key');
  const kemMessage = rng(MLKEM_MESSAGE_BYTES); //                 FIPS 203 §7.2 m: with PQPK_B it determines SS, so it is wiped too
  const kem = await crypto.mlKem1024Encapsulate(bundle.kemPrekey.publicKey, kemMessage); // (CT, SS) = PQKEM-ENC(PQPK_B)
  wipe(kemMessage);
  const parts: Uint8Array[] = [];
  try {
    parts.push(await ownIdentity.dh(crypto, bundle.signedPrekey.publicKey)); //             DH1 = DH(IK_A, SPK_B)
    parts.push(await crypto.x25519(ekPrivate, ikB)); //                                      DH2 = DH(EK_A, IK_B)
    parts.push(await crypto.x25519(ekPrivate, bundle.signedPrekey.publicKey)); //           DH3 = DH(EK_A, SPK_B)
    if (bundle.oneTimePrekey !== undefined) {
      parts.push(await crypto.x25519(ekPrivate, bundle.oneTimePrekey.publicKey)); //        DH4 = DH(EK_A, OPK_B)
    }
    parts.push(kem.sharedSecret);
    const km = concatBytes(...parts);
    const sharedSecret = pqxdhKdf(crypto, km); //                 SK = KDF(DH1 || DH2 || DH3 [|| DH4] || SS)
    wipe(km);
    const associatedData = pqxdhAssociatedData(ownIdentity.publicKey, bundle.identityKey, ekPublic); // AD = EncodeEC(IK_A) || EncodeEC(IK_B) || …
    const header: PrekeyHeader = {
      identityKey: ownIdentity.publicKey.slice(), //              "Alice's identity key IK_A"
      baseKey: ekPublic, //                                       "Alice's ephemeral key EK_A"
      signedPrekeyId: bundle.signedPrekey.id, //                  "Identifiers stating which of Bob's prekeys Alice used"
      oneTimePrekeyId: bundle.oneTimePrekey?.id,
      kemPrekeyId: bundle.kemPrekey.id,
      kemCiphertext: kem.ciphertext, //                           "The pqkem ciphertext CT encapsulating SS for PQPK_B"
    };
    return { sharedSecret, associatedData, header };
  } finally {
    wipe(ekPrivate, kem.sharedSecret, ...parts); //   "Alice deletes her ephemeral private key, the DH outputs and SS"
  }
}

/** The responder's private keys named by the initial message's ids (§3.4 "uses the key identifiers to load…"). */
export interface PqxdhResponderKeys {
  readonly signedPrekey: SignedPrekeyPrivate;
  readonly oneTimePrekey: OneTimePrekeyPrivate | undefined;
  readonly kemPrekey: KemPrekeyPrivate;
}

/**
 * PQXDH §3.4, Bob's side: recomputes SK and AD. Authentication happens afterwards, when the caller
 * decrypts the initial ciphertext with them (§3.4 "Bob attempts to decrypt the initial ciphertext").
 */
export async function pqxdhRespond(
  crypto: CryptoProvider,
  ownIdentity: IdentityKeyPair,
  keys: PqxdhResponderKeys,
  initiatorIdentity: IdentityPublicKey,
  baseKey: X25519PublicKey,
  kemCiphertext: Uint8Array,
): Promise<PqxdhResult> {
  const ikA = identityDhPublicKey(initiatorIdentity);
  const parts: Uint8Array[] = [];
  const secrets: Uint8Array[] = [];
  try {
    const ss = await keys.kemPrekey.decapsulate(crypto, kemCiphertext); // SS = PQKEM-DEC(PQPK_B, CT)
    secrets.push(ss);
    parts.push(await keys.signedPrekey.dh(crypto, ikA)); //                 DH1 = DH(IK_A, SPK_B)
    parts.push(await ownIdentity.dh(crypto, baseKey)); //                  DH2 = DH(EK_A, IK_B)
    parts.push(await keys.signedPrekey.dh(crypto, baseKey)); //            DH3 = DH(EK_A, SPK_B)
    if (keys.oneTimePrekey !== undefined) {
      parts.push(await keys.oneTimePrekey.dh(crypto, baseKey)); //         DH4 = DH(EK_A, OPK_B)
    }
    parts.push(ss);
    const km = concatBytes(...parts);
    const sharedSecret = pqxdhKdf(crypto, km); //                          SK = KDF(DH1 || DH2 || DH3 [|| DH4] || SS)
    wipe(km);
    return { sharedSecret, associatedData: pqxdhAssociatedData(initiatorIdentity, ownIdentity.publicKey, baseKey) }; // AD as in §3.3
  } finally {
    wipe(...parts, ...secrets); // "then deletes the DH values and SS values" (also when a DH failed)
  }
}
