// HPKE (RFC 9180) for DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256, with AES-128-GCM, AES-256-GCM or
// ChaCha20-Poly1305: the four modes' setup (§5.1.1–5.1.4), single-shot seal/open (§6.1) and the
// single-shot secret export (§6.2). Every primitive comes from the injected CryptoProvider; the
// ephemeral key comes from the injected Rng through DeriveKeyPair (§7.1.3).
import type { CryptoProvider, Rng } from '../crypto/provider.ts';
import { wipe } from '../internal/bytes.ts';
import { Redacted } from '../keys/redacted.ts';
import { HpkeRecipientContext, HpkeSenderContext, contextSecrets } from './context.ts';
import { authDecap, authEncap, checkPublicKey, decap, deriveKeyPair, encap, type Encapsulation } from './dhkem.ts';
import { KEM_NSK, type HpkeAead } from './suite.ts';

/** How the sender authenticates (RFC 9180 §5): the discriminant is the mode. Raw 32-byte X25519 keys. */
export type HpkeSenderAuth =
  | { readonly mode: 'base' }
  | { readonly mode: 'psk'; readonly psk: Uint8Array; readonly pskId: Uint8Array }
  | { readonly mode: 'auth'; readonly senderPrivateKey: Uint8Array; readonly senderPublicKey?: Uint8Array }
  | { readonly mode: 'auth_psk'; readonly psk: Uint8Array; readonly pskId: Uint8Array; readonly senderPrivateKey: Uint8Array; readonly senderPublicKey?: Uint8Array };

/** What the recipient checks the sender against (RFC 9180 §5), mirroring HpkeSenderAuth. */
export type HpkeRecipientAuth =
  | { readonly mode: 'base' }
  | { readonly mode: 'psk'; readonly psk: Uint8Array; readonly pskId: Uint8Array }
  | { readonly mode: 'auth'; readonly senderPublicKey: Uint8Array }
  | { readonly mode: 'auth_psk'; readonly psk: Uint8Array; readonly pskId: Uint8Array; readonly senderPublicKey: Uint8Array };

export interface HpkeSenderParams {
  readonly aead: HpkeAead;
  /** pkR, 32 bytes. */
  readonly recipientPublicKey: Uint8Array;
  readonly info: Uint8Array;
  readonly auth: HpkeSenderAuth;
}

export interface HpkeRecipientParams {
  readonly aead: HpkeAead;
  /** skR, 32 bytes. */
  readonly recipientPrivateKey: Uint8Array;
  /** pk(skR) when the caller already has it; saves one scalar multiplication. A wrong value makes
   *  every open fail (it enters kem_context), it cannot make a forgery pass. */
  readonly recipientPublicKey?: Uint8Array;
  readonly info: Uint8Array;
  readonly auth: HpkeRecipientAuth;
}

/** An HPKE recipient key pair (raw X25519). The private half never prints. */
export class HpkeKeyPair extends Redacted {
  protected readonly kind = 'HpkeKeyPair';
  readonly #privateKey: Uint8Array;
  readonly publicKey: Uint8Array;

  private constructor(privateKey: Uint8Array, publicKey: Uint8Array) {
    super();
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** RFC 9180 §7.1.3 DeriveKeyPair(ikm), ikm at least 32 bytes of entropy. */
  static async derive(crypto: CryptoProvider, ikm: Uint8Array): Promise<HpkeKeyPair> {
    const kp = await deriveKeyPair(crypto, ikm);
    return new HpkeKeyPair(kp.privateKey, kp.publicKey);
  }

  /** RFC 9180 §4 GenerateKeyPair, as DeriveKeyPair(random(Nsk)). */
  static async generate(crypto: CryptoProvider, rng: Rng): Promise<HpkeKeyPair> {
    const ikm = rng(KEM_NSK);
    const kp = await HpkeKeyPair.derive(crypto, ikm);
    wipe(ikm);
    return kp;
  }

  /** The raw private key (RFC 9180 §7.1.2 SerializePrivateKey), for a keystore. Handle as a secret. */
  exportPrivateKey(): Uint8Array {
    return this.#privateKey.slice();
  }
}

function pskOf(auth: HpkeSenderAuth | HpkeRecipientAuth): { psk: Uint8Array; pskId: Uint8Array } {
  return auth.mode === 'psk' || auth.mode === 'auth_psk' ? { psk: auth.psk, pskId: auth.pskId } : { psk: new Uint8Array(0), pskId: new Uint8Array(0) };
}

/**
 * RFC 9180 §5.1.1–5.1.4 SetupBaseS / SetupPSKS / SetupAuthS / SetupAuthPSKS with the ephemeral key
 * derived from ikmE (DeriveKeyPair, §7.1.3). Deterministic: reusing ikmE reuses the ephemeral key,
 * which is only acceptable for test vectors. Not exported from the package; use setupHpkeSender.
 */
export async function setupHpkeSenderDeterministic(
  crypto: CryptoProvider,
  ikmE: Uint8Array,
  params: HpkeSenderParams,
): Promise<{ readonly enc: Uint8Array; readonly context: HpkeSenderContext; readonly sharedSecret: Uint8Array }> {
  checkPublicKey('HPKE recipient public key', params.recipientPublicKey);
  const ephemeral = await deriveKeyPair(crypto, ikmE);
  let kem: Encapsulation;
  try {
    const a = params.auth;
    kem =
      a.mode === 'auth' || a.mode === 'auth_psk'
        ? await authEncap(crypto, ephemeral, params.recipientPublicKey, a.senderPrivateKey, a.senderPublicKey)
        : await encap(crypto, ephemeral, params.recipientPublicKey);
  } finally {
    wipe(ephemeral.privateKey);
  }
  const { psk, pskId } = pskOf(params.auth);
  const secrets = contextSecrets(crypto, params.aead, params.auth.mode, kem.sharedSecret, params.info, psk, pskId);
  return { enc: kem.enc, context: new HpkeSenderContext(secrets, 0), sharedSecret: kem.sharedSecret };
}

/** RFC 9180 §5.1 Setup<MODE>S(pkR, info, ...): a fresh ephemeral key from `rng`, then `enc` and the context. */
export async function setupHpkeSender(
  crypto: CryptoProvider,
  rng: Rng,
  params: HpkeSenderParams,
): Promise<{ readonly enc: Uint8Array; readonly context: HpkeSenderContext }> {
  const ikmE = rng(KEM_NSK);
  try {
    const { enc, context, sharedSecret } = await setupHpkeSenderDeterministic(crypto, ikmE, params);
    wipe(sharedSecret);
    return { enc, context };
  } finally {
    wipe(ikmE);
  }
}

/** RFC 9180 §5.1 Setup<MODE>R(enc, skR, info, ...). */
export async function setupHpkeRecipient(crypto: CryptoProvider, enc: Uint8Array, params: HpkeRecipientParams): Promise<HpkeRecipientContext> {
  const a = params.auth;
  const sharedSecret =
    a.mode === 'auth' || a.mode === 'auth_psk'
      ? await authDecap(crypto, enc, params.recipientPrivateKey, a.senderPublicKey, params.recipientPublicKey)
      : await decap(crypto, enc, params.recipientPrivateKey, params.recipientPublicKey);
  const { psk, pskId } = pskOf(a);
  const secrets = contextSecrets(crypto, params.aead, a.mode, sharedSecret, params.info, psk, pskId);
  wipe(sharedSecret);
  return new HpkeRecipientContext(secrets, 0);
}

/** RFC 9180 §6.1 Seal<MODE>(pkR, info, aad, pt, ...) = (enc, ct). */
export async function hpkeSeal(
  crypto: CryptoProvider,
  rng: Rng,
  params: HpkeSenderParams,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<{ readonly enc: Uint8Array; readonly ciphertext: Uint8Array }> {
  const { enc, context } = await setupHpkeSender(crypto, rng, params);
  const { ciphertext } = await context.seal(crypto, aad, plaintext);
  return { enc, ciphertext };
}

/** RFC 9180 §6.1 Open<MODE>(enc, skR, info, aad, ct, ...); ERR_HPKE_OPEN_FAILED when it does not authenticate. */
export async function hpkeOpen(crypto: CryptoProvider, enc: Uint8Array, params: HpkeRecipientParams, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  const context = await setupHpkeRecipient(crypto, enc, params);
  return (await context.open(crypto, aad, ciphertext)).plaintext;
}

/** RFC 9180 §6.2 SendExport<MODE>(pkR, info, exporter_context, L, ...) = (enc, exported secret). */
export async function hpkeSendExport(
  crypto: CryptoProvider,
  rng: Rng,
  params: HpkeSenderParams,
  exporterContext: Uint8Array,
  length: number,
): Promise<{ readonly enc: Uint8Array; readonly secret: Uint8Array }> {
  const { enc, context } = await setupHpkeSender(crypto, rng, params);
  return { enc, secret: context.export(crypto, exporterContext, length) };
}

/** RFC 9180 §6.2 ReceiveExport<MODE>(enc, skR, info, exporter_context, L, ...). */
export async function hpkeReceiveExport(crypto: CryptoProvider, enc: Uint8Array, params: HpkeRecipientParams, exporterContext: Uint8Array, length: number): Promise<Uint8Array> {
  const context = await setupHpkeRecipient(crypto, enc, params);
  return context.export(crypto, exporterContext, length);
}
