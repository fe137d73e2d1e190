// The HPKE key schedule (RFC 9180 §5.1) and the encryption contexts it yields (§5.2 seal/open,
// §5.3 secret export). Contexts are immutable: seal/open return the next context together with
// their result, so a failed open leaves the caller's context untouched (the sequence number only
// advances on success, RFC 9180 §5.2), and secrets sit in private fields that never print.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { concatBytes, wipe } from '../internal/bytes.ts';
import { Redacted } from '../keys/redacted.ts';
import { HPKE_MAX_SEQUENCE } from '../limits.ts';
import { AEAD_NN, HpkeModeId, KDF_NH, aeadNk, hpkeSuiteId, i2osp, labeledExpand, labeledExtract, type HpkeAead, type HpkeModeName } from './suite.ts';

// RFC 9180 §5.1 and §5.3 labels.
const LABEL_PSK_ID_HASH = 'psk_id_hash'; // RFC 9180 §5.1
const LABEL_INFO_HASH = 'info_hash'; // RFC 9180 §5.1
const LABEL_SECRET = 'secret'; // RFC 9180 §5.1
const LABEL_KEY = 'key'; // RFC 9180 §5.1
const LABEL_BASE_NONCE = 'base_nonce'; // RFC 9180 §5.1
const LABEL_EXP = 'exp'; // RFC 9180 §5.1
const LABEL_SEC = 'sec'; // RFC 9180 §5.3

/** RFC 9180 §5.1.1: a PSK "MUST have at least 32 bytes of entropy"; we enforce the length. */
export const HPKE_MIN_PSK_BYTES = 32;

/** Everything KeySchedule derives (RFC 9180 §5.1), exposed to the vector test only. */
export interface KeyScheduleOutput {
  readonly keyScheduleContext: Uint8Array;
  readonly secret: Uint8Array;
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

/** RFC 9180 §5.1 VerifyPSKInputs(mode, psk, psk_id). */
function verifyPskInputs(mode: HpkeModeName, psk: Uint8Array, pskId: Uint8Array): void {
  const gotPsk = psk.length !== 0;
  const gotPskId = pskId.length !== 0;
  if (gotPsk !== gotPskId) throw new ProtocolError('ERR_ARGUMENT', 'HPKE: psk and psk_id must be given together'); // Inconsistent PSK inputs
  const needsPsk = mode === 'psk' || mode === 'auth_psk';
  if (gotPsk && !needsPsk) throw new ProtocolError('ERR_ARGUMENT', `HPKE: PSK input given in mode ${mode}`); // PSK input provided when not needed
  if (!gotPsk && needsPsk) throw new ProtocolError('ERR_ARGUMENT', `HPKE: missing PSK input in mode ${mode}`); // Missing required PSK input
  // Stricter than RFC 9180 §5.1, which only recommends it (§5.1.2, §9.5): a short PSK is refused.
  if (needsPsk && psk.length < HPKE_MIN_PSK_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `HPKE: psk expected at least ${HPKE_MIN_PSK_BYTES} bytes, got ${psk.length}`);
  }
}

/** RFC 9180 §5.1 KeySchedule<ROLE>(mode, shared_secret, info, psk, psk_id), the values before the context. */
export function keySchedule(
  crypto: CryptoProvider,
  aead: HpkeAead,
  mode: HpkeModeName,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  psk: Uint8Array,
  pskId: Uint8Array,
): KeyScheduleOutput {
  verifyPskInputs(mode, psk, pskId);
  const suiteId = hpkeSuiteId(aead);
  const empty = new Uint8Array(0);
  const pskIdHash = labeledExtract(crypto, suiteId, empty, LABEL_PSK_ID_HASH, pskId); // psk_id_hash = LabeledExtract("", "psk_id_hash", psk_id)
  const infoHash = labeledExtract(crypto, suiteId, empty, LABEL_INFO_HASH, info); // info_hash = LabeledExtract("", "info_hash", info)
  const keyScheduleContext = concatBytes(Uint8Array.of(HpkeModeId[mode]), pskIdHash, infoHash); // concat(mode, psk_id_hash, info_hash)
  const secret = labeledExtract(crypto, suiteId, sharedSecret, LABEL_SECRET, psk); // secret = LabeledExtract(shared_secret, "secret", psk)
  const key = labeledExpand(crypto, suiteId, secret, LABEL_KEY, keyScheduleContext, aeadNk(aead)); // key = LabeledExpand(secret, "key", ctx, Nk)
  const baseNonce = labeledExpand(crypto, suiteId, secret, LABEL_BASE_NONCE, keyScheduleContext, AEAD_NN); // base_nonce = LabeledExpand(secret, "base_nonce", ctx, Nn)
  const exporterSecret = labeledExpand(crypto, suiteId, secret, LABEL_EXP, keyScheduleContext, KDF_NH); // exporter_secret = LabeledExpand(secret, "exp", ctx, Nh)
  return { keyScheduleContext, secret, key, baseNonce, exporterSecret };
}

/** RFC 9180 §5.2 ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn). */
function computeNonce(baseNonce: Uint8Array, seq: number): Uint8Array {
  const seqBytes = i2osp(seq, AEAD_NN);
  const nonce = new Uint8Array(AEAD_NN);
  for (let i = 0; i < AEAD_NN; i++) nonce[i] = (baseNonce[i] ?? 0) ^ (seqBytes[i] ?? 0);
  return nonce;
}

/** RFC 9180 §5.3 Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L). */
function exportSecret(crypto: CryptoProvider, aead: HpkeAead, exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  // RFC 9180 §5.3: "L MUST NOT exceed 255*Nh" (and an export of nothing is a caller bug).
  if (!Number.isInteger(length) || length < 1 || length > 255 * KDF_NH) {
    throw new ProtocolError('ERR_ARGUMENT', `HPKE export length: expected 1..${255 * KDF_NH}, got ${length}`);
  }
  return labeledExpand(crypto, hpkeSuiteId(aead), exporterSecret, LABEL_SEC, exporterContext, length);
}

function nextSequence(seq: number): number {
  // RFC 9180 §5.2 IncrementSeq: MessageLimitReachedError past the limit (ours: limits.HPKE_MAX_SEQUENCE).
  if (seq >= HPKE_MAX_SEQUENCE) throw new ProtocolError('ERR_COUNTER_EXHAUSTED', `HPKE sequence number reached ${HPKE_MAX_SEQUENCE}`);
  return seq + 1;
}

interface ContextSecrets {
  readonly aead: HpkeAead;
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

/** What both HPKE contexts hold (RFC 9180 §5.1 key schedule output) and do alike. */
abstract class HpkeContext extends Redacted {
  readonly #s: ContextSecrets;
  /** The next sequence number (RFC 9180 §5.2 `seq`); public, it is sent implicitly by order. */
  readonly sequence: number;

  /** @internal Built by setupHpkeSender / setupHpkeRecipient; not part of the public API. */
  constructor(secrets: ContextSecrets, sequence: number) {
    super();
    this.#s = secrets;
    this.sequence = sequence;
  }

  protected get secrets(): ContextSecrets {
    return this.#s;
  }

  /** RFC 9180 §5.2 ComputeNonce(seq) for this message, and the sequence number after it. */
  protected step(): { readonly nonce: Uint8Array; readonly next: number } {
    return { nonce: computeNonce(this.#s.baseNonce, this.sequence), next: nextSequence(this.sequence) };
  }

  get aead(): HpkeAead {
    return this.#s.aead;
  }

  /** RFC 9180 §5.3 Export(exporter_context, L). */
  export(crypto: CryptoProvider, exporterContext: Uint8Array, length: number): Uint8Array {
    return exportSecret(crypto, this.#s.aead, this.#s.exporterSecret, exporterContext, length);
  }
}

/** A sender's HPKE context (RFC 9180 §5.2 ContextS): seal in order, export secrets. */
export class HpkeSenderContext extends HpkeContext {
  protected readonly kind = 'HpkeSenderContext';

  /** RFC 9180 §5.2 ContextS.Seal(aad, pt): the ciphertext and the context for the next message. */
  async seal(crypto: CryptoProvider, aad: Uint8Array, plaintext: Uint8Array): Promise<{ readonly context: HpkeSenderContext; readonly ciphertext: Uint8Array }> {
    const { nonce, next } = this.step();
    const ciphertext = await crypto.aeadSeal(this.secrets.aead, this.secrets.key, nonce, plaintext, aad);
    return { context: new HpkeSenderContext(this.secrets, next), ciphertext };
  }
}

/** A recipient's HPKE context (RFC 9180 §5.2 ContextR): open in order, export secrets. */
export class HpkeRecipientContext extends HpkeContext {
  protected readonly kind = 'HpkeRecipientContext';

  /** RFC 9180 §5.2 ContextR.Open(aad, ct); a failure (ERR_HPKE_OPEN_FAILED) leaves this context usable. */
  async open(crypto: CryptoProvider, aad: Uint8Array, ciphertext: Uint8Array): Promise<{ readonly context: HpkeRecipientContext; readonly plaintext: Uint8Array }> {
    const { nonce, next } = this.step();
    const plaintext = await crypto.aeadOpen(this.secrets.aead, this.secrets.key, nonce, ciphertext, aad);
    if (plaintext === null) throw new ProtocolError('ERR_HPKE_OPEN_FAILED', 'HPKE ciphertext did not authenticate');
    return { context: new HpkeRecipientContext(this.secrets, next), plaintext };
  }
}

/** Runs the key schedule and keeps only what a context needs (the intermediate secret is wiped). */
export function contextSecrets(
  crypto: CryptoProvider,
  aead: HpkeAead,
  mode: HpkeModeName,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  psk: Uint8Array,
  pskId: Uint8Array,
): ContextSecrets {
  const ks = keySchedule(crypto, aead, mode, sharedSecret, info, psk, pskId);
  wipe(ks.secret);
  return { aead, key: ks.key, baseNonce: ks.baseNonce, exporterSecret: ks.exporterSecret };
}
