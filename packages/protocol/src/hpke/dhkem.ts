// DHKEM(X25519, HKDF-SHA256) of RFC 9180 §4.1 and §7.1: DeriveKeyPair, Encap/Decap (base and psk
// modes) and AuthEncap/AuthDecap (auth and auth_psk modes).
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { concatBytes, wipe } from '../internal/bytes.ts';
import { KEM_NENC, KEM_NPK, KEM_NSECRET, KEM_NSK, KEM_SUITE_ID, labeledExpand, labeledExtract } from './suite.ts';

// RFC 9180 §7.1.3 (DeriveKeyPair) and §4.1 (ExtractAndExpand) labels.
const LABEL_DKP_PRK = 'dkp_prk'; // RFC 9180 §7.1.3
const LABEL_SK = 'sk'; // RFC 9180 §7.1.3
const LABEL_EAE_PRK = 'eae_prk'; // RFC 9180 §4.1
const LABEL_SHARED_SECRET = 'shared_secret'; // RFC 9180 §4.1

/** An X25519 key pair as raw bytes (RFC 9180 §7.1.2: the serialisation is the raw 32 bytes). */
export interface RawKeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface Encapsulation {
  readonly sharedSecret: Uint8Array;
  readonly enc: Uint8Array;
}

/** RFC 9180 §7.1.3 DeriveKeyPair(ikm) for X25519: sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", Nsk). */
export async function deriveKeyPair(crypto: CryptoProvider, ikm: Uint8Array): Promise<RawKeyPair> {
  // RFC 9180 §7.1.3: "ikm ... MUST have at least Nsk bytes of entropy"; shorter input is a caller bug.
  if (ikm.length < KEM_NSK) throw new ProtocolError('ERR_ARGUMENT', `DeriveKeyPair ikm: expected at least ${KEM_NSK} bytes, got ${ikm.length}`);
  const dkpPrk = labeledExtract(crypto, KEM_SUITE_ID, new Uint8Array(0), LABEL_DKP_PRK, ikm);
  const privateKey = labeledExpand(crypto, KEM_SUITE_ID, dkpPrk, LABEL_SK, new Uint8Array(0), KEM_NSK);
  wipe(dkpPrk);
  return { privateKey, publicKey: await crypto.x25519PublicKey(privateKey) };
}

/** RFC 9180 §7.1.1 DeserializePublicKey: exactly Npk bytes (X25519 accepts every 32-byte string;
 *  small-order points surface as an all-zero DH output, §7.1.4). */
export function checkPublicKey(what: string, pk: Uint8Array): void {
  if (pk.length !== KEM_NPK) throw new ProtocolError('ERR_KEY_INVALID', `${what}: expected ${KEM_NPK} bytes, got ${pk.length}`);
}

function checkPrivateKey(what: string, sk: Uint8Array): void {
  if (sk.length !== KEM_NSK) throw new ProtocolError('ERR_KEY_INVALID', `${what}: expected ${KEM_NSK} bytes, got ${sk.length}`);
}

/** RFC 9180 §4.1 ExtractAndExpand(dh, kem_context). */
function extractAndExpand(crypto: CryptoProvider, dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(crypto, KEM_SUITE_ID, new Uint8Array(0), LABEL_EAE_PRK, dh);
  const sharedSecret = labeledExpand(crypto, KEM_SUITE_ID, eaePrk, LABEL_SHARED_SECRET, kemContext, KEM_NSECRET);
  wipe(eaePrk);
  return sharedSecret;
}

/** RFC 9180 §4.1 Encap(pkR) with the ephemeral key pair given (derived by the caller from fresh ikm). */
export async function encap(crypto: CryptoProvider, ephemeral: RawKeyPair, pkR: Uint8Array): Promise<Encapsulation> {
  checkPublicKey('HPKE recipient public key', pkR);
  const dh = await crypto.x25519(ephemeral.privateKey, pkR); // dh = DH(skE, pkR); all-zero → ERR_CRYPTO_SMALL_ORDER (§7.1.4)
  const enc = ephemeral.publicKey.slice(); // enc = SerializePublicKey(pkE)
  const kemContext = concatBytes(enc, pkR); // kem_context = concat(enc, pkRm)
  const sharedSecret = extractAndExpand(crypto, dh, kemContext);
  wipe(dh);
  return { sharedSecret, enc };
}

/** RFC 9180 §4.1 Decap(enc, skR); pkR may be given to skip recomputing pk(skR). */
export async function decap(crypto: CryptoProvider, enc: Uint8Array, skR: Uint8Array, pkR?: Uint8Array): Promise<Uint8Array> {
  if (enc.length !== KEM_NENC) throw new ProtocolError('ERR_KEY_INVALID', `HPKE enc: expected ${KEM_NENC} bytes, got ${enc.length}`);
  checkPrivateKey('HPKE recipient private key', skR);
  const pkRm = pkR ?? (await crypto.x25519PublicKey(skR));
  checkPublicKey('HPKE recipient public key', pkRm);
  const dh = await crypto.x25519(skR, enc); // dh = DH(skR, pkE)
  const sharedSecret = extractAndExpand(crypto, dh, concatBytes(enc, pkRm)); // kem_context = concat(enc, pkRm)
  wipe(dh);
  return sharedSecret;
}

/** RFC 9180 §4.1 AuthEncap(pkR, skS); pkS may be given to skip recomputing pk(skS). */
export async function authEncap(crypto: CryptoProvider, ephemeral: RawKeyPair, pkR: Uint8Array, skS: Uint8Array, pkS?: Uint8Array): Promise<Encapsulation> {
  checkPublicKey('HPKE recipient public key', pkR);
  checkPrivateKey('HPKE sender private key', skS);
  const pkSm = pkS ?? (await crypto.x25519PublicKey(skS));
  checkPublicKey('HPKE sender public key', pkSm);
  const dh1 = await crypto.x25519(ephemeral.privateKey, pkR);
  const dh2 = await crypto.x25519(skS, pkR);
  const dh = concatBytes(dh1, dh2); // dh = concat(DH(skE, pkR), DH(skS, pkR))
  const enc = ephemeral.publicKey.slice();
  const kemContext = concatBytes(enc, pkR, pkSm); // kem_context = concat(enc, pkRm, pkSm)
  const sharedSecret = extractAndExpand(crypto, dh, kemContext);
  wipe(dh, dh1, dh2);
  return { sharedSecret, enc };
}

/** RFC 9180 §4.1 AuthDecap(enc, skR, pkS); pkR may be given to skip recomputing pk(skR). */
export async function authDecap(crypto: CryptoProvider, enc: Uint8Array, skR: Uint8Array, pkS: Uint8Array, pkR?: Uint8Array): Promise<Uint8Array> {
  if (enc.length !== KEM_NENC) throw new ProtocolError('ERR_KEY_INVALID', `HPKE enc: expected ${KEM_NENC} bytes, got ${enc.length}`);
  checkPrivateKey('HPKE recipient private key', skR);
  checkPublicKey('HPKE sender public key', pkS);
  const pkRm = pkR ?? (await crypto.x25519PublicKey(skR));
  checkPublicKey('HPKE recipient public key', pkRm);
  const dh1 = await crypto.x25519(skR, enc);
  const dh2 = await crypto.x25519(skR, pkS);
  const dh = concatBytes(dh1, dh2); // dh = concat(DH(skR, pkE), DH(skR, pkS))
  const sharedSecret = extractAndExpand(crypto, dh, concatBytes(enc, pkRm, pkS)); // kem_context = concat(enc, pkRm, pkSm)
  wipe(dh, dh1, dh2);
  return sharedSecret;
}
