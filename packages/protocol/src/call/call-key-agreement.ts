// The call key agreement (docs/protocol/11 §11.1–11.4): a fresh hybrid X25519 + ML-KEM-1024 agreement per
// call, bound to both identity keys and the whole call transcript (both SDPs and their DTLS fingerprints),
// with a ZRTP-style hash commitment (RFC 6189 §4.4.1.1) so that a man in the middle gets one guess at the
// short authentication string, and the ZRTP KDF (RFC 6189 §4.5.1) for the SAS and the SFrame base keys.
//
//   caller                                          callee
//   createCallOffer      ── offer {call, kem, commit, sdp} ──►  answerCallOffer
//   completeCallAsCaller ◄── answer {call, dh, ct, sdp} ──
//                        ── confirm {call, dh} ──────────────►  completeCallAsCallee
//
// Pure transitions in the house style (session/session.ts): each step takes the pending state and a
// message and returns the next output; a bad input throws a typed error and leaves the pending state as
// it was (still usable). A pending state holds the ephemeral secrets (dk_I, e_I on the caller; e_R and
// ss_kem on the callee) in private fields; it prints redacted, completes at most once, and erases its
// secrets when it completes or when `erase()` is called because the call ended (§11.1: "erased when the
// call's keys are derived or the call ends"). Using it again is ERR_CALL_STATE.
import { ProtocolError } from '../errors.ts';
import {
  MLKEM1024_CIPHERTEXT_BYTES,
  MLKEM_MESSAGE_BYTES,
  MLKEM_SEED_BYTES,
  X25519_KEY_BYTES,
  type CryptoProvider,
  type Rng,
} from '../crypto/provider.ts';
import { concatBytes, constantTimeEqual, u32be, utf8, wipe } from '../internal/bytes.ts';
import { Redacted } from '../keys/redacted.ts';
import { parseIdentityPublicKey, type IdentityPublicKey } from '../keys/identity.ts';
import { parseMlKemPublicKey, parseX25519PublicKey } from '../keys/prekeys.ts';
import { zrtpKdf } from './zrtp-kdf.ts';
import { renderSas, SAS_VALUE_BYTES, type Sas } from './sas.ts';
import { sdpFingerprint } from './sdp.ts';

// ---------------------------------------------------------------------------------------------
// Constants

/** docs/protocol/11 §11.1: the call id, 16 random bytes chosen by the caller. */
export const CALL_ID_BYTES = 16;
/** docs/protocol/11 §11.2.1: hvi is a SHA-256 output. */
export const CALL_COMMIT_BYTES = 32;
/** docs/protocol/11 §11.2.1: domain label of the hash commitment hvi. */
const LABEL_CALL_COMMIT = utf8('Sotto_v1_CallCommit');
/** docs/protocol/11 §11.3: domain label of the transcript hash th. */
const LABEL_CALL_TRANSCRIPT = utf8('Sotto_v1_CallTranscript');
/** docs/protocol/11 §11.3: the label in s0, in the place of RFC 6189 §4.4.1.4's "ZRTP-HMAC-KDF". */
const LABEL_CALL_S0 = utf8('Sotto_v1_Call');
/** docs/protocol/11 §11.3 / RFC 6189 §4.4.1.4: s0's counter, fixed at 1. */
const S0_COUNTER = 1;
/** docs/protocol/11 §11.3 / RFC 6189 §4.5.2: KDF label of the SAS hash. */
const KDF_LABEL_SAS = 'SAS';
/** docs/protocol/11 §11.3: KDF label of the caller's SFrame base key. */
const KDF_LABEL_SFRAME_CALLER = 'Sotto SFrame caller';
/** docs/protocol/11 §11.3: KDF label of the callee's SFrame base key. */
const KDF_LABEL_SFRAME_CALLEE = 'Sotto SFrame callee';
/** docs/protocol/11 §11.3: sashash and both base keys are 256-bit KDF outputs. */
const KDF_BITS = 256;
/** docs/protocol/11 §11.5: the caller sends under KID 0, the callee under KID 1. */
export const CALLER_SFRAME_KID = 0;
export const CALLEE_SFRAME_KID = 1;

// ---------------------------------------------------------------------------------------------
// Messages (docs/protocol/11 §11.1; carried as session content, §11.6)

export interface CallOfferMessage {
  readonly call: Uint8Array;
  /** ek_I, the caller's ephemeral ML-KEM-1024 encapsulation key (1568 bytes). */
  readonly kem: Uint8Array;
  /** hvi, the caller's hash commitment to E_I (32 bytes). */
  readonly commit: Uint8Array;
  readonly sdp: string;
}

export interface CallAnswerMessage {
  readonly call: Uint8Array;
  /** E_R, the callee's ephemeral X25519 public key. */
  readonly dh: Uint8Array;
  /** ML-KEM-1024 ciphertext to ek_I (1568 bytes). */
  readonly ct: Uint8Array;
  readonly sdp: string;
}

export interface CallConfirmMessage {
  readonly call: Uint8Array;
  /** E_I, the caller's ephemeral X25519 public key, opening the commitment. */
  readonly dh: Uint8Array;
}

/** One direction's SFrame key (docs/protocol/11 §11.5). */
export interface CallSframeKey {
  readonly kid: number;
  readonly baseKey: Uint8Array;
}

/** What a completed agreement yields. Prints redacted; `erase()` zeroes both base keys (at call end). */
export interface CallKeys {
  readonly call: Uint8Array;
  readonly role: 'caller' | 'callee';
  readonly sas: Sas;
  readonly send: CallSframeKey;
  readonly receive: CallSframeKey;
  erase(): void;
}

class SottoCallKeys extends Redacted implements CallKeys {
  protected readonly kind = 'CallKeys';
  readonly call: Uint8Array;
  readonly role: 'caller' | 'callee';
  readonly sas: Sas;
  readonly #send: CallSframeKey;
  readonly #receive: CallSframeKey;

  constructor(call: Uint8Array, role: 'caller' | 'callee', sas: Sas, send: CallSframeKey, receive: CallSframeKey) {
    super();
    this.call = call;
    this.role = role;
    this.sas = sas;
    this.#send = Object.freeze({ ...send });
    this.#receive = Object.freeze({ ...receive });
  }

  get send(): CallSframeKey {
    return this.#send;
  }

  get receive(): CallSframeKey {
    return this.#receive;
  }

  erase(): void {
    wipe(this.#send.baseKey, this.#receive.baseKey);
  }
}

// ---------------------------------------------------------------------------------------------
// Pending states

interface CallerSecrets {
  readonly call: Uint8Array;
  readonly ikI: IdentityPublicKey;
  readonly ikR: IdentityPublicKey;
  readonly eI: Uint8Array; //       secret
  readonly pubEI: Uint8Array;
  readonly dkI: Uint8Array; //      secret
  readonly ekHash: Uint8Array;
  readonly hvi: Uint8Array;
  readonly offerSdp: string;
  readonly fpOffer: string;
}

interface CalleeSecrets {
  readonly call: Uint8Array;
  readonly ikI: IdentityPublicKey;
  readonly ikR: IdentityPublicKey;
  readonly ekHash: Uint8Array;
  readonly hvi: Uint8Array;
  readonly offerSdp: string;
  readonly fpOffer: string;
  readonly eR: Uint8Array; //       secret
  readonly pubER: Uint8Array;
  readonly ctHash: Uint8Array;
  readonly answerSdp: string;
  readonly fpAnswer: string;
  readonly ssKem: Uint8Array; //    secret
}

type Phase = 'pending' | 'completing' | 'completed' | 'erased';

let makeCallerPending: (s: CallerSecrets) => CallerPending;
let completeCaller: (state: CallerPending, crypto: CryptoProvider, answer: CallAnswerMessage) => Promise<{ keys: CallKeys; confirm: CallConfirmMessage }>;
let makeCalleePending: (s: CalleeSecrets) => CalleePending;
let completeCallee: (state: CalleePending, crypto: CryptoProvider, confirm: CallConfirmMessage) => Promise<{ keys: CallKeys }>;

/**
 * Single-use holder of a pending call's ephemeral secrets. While a completion runs, the secrets are
 * taken out of the holder (a second completion started meanwhile gets ERR_CALL_STATE); a completion
 * that fails puts them back, one that succeeds erases them.
 */
abstract class PendingCall<S> extends Redacted {
  #secrets: S | undefined;
  #phase: Phase = 'pending';
  readonly #call: Uint8Array;

  protected constructor(call: Uint8Array, secrets: S) {
    super();
    this.#call = call.slice();
    this.#secrets = secrets;
  }

  /** The call id (public). */
  get call(): Uint8Array {
    return this.#call.slice();
  }

  /** True until the agreement completed or the state was erased. */
  get usable(): boolean {
    return this.#phase === 'pending' || this.#phase === 'completing';
  }

  /** Erases the ephemeral secrets (docs/protocol/11 §11.1: when the call ends). Idempotent. */
  erase(): void {
    if (this.#secrets !== undefined) this.wipeSecrets(this.#secrets);
    this.#secrets = undefined;
    if (this.#phase !== 'completed') this.#phase = 'erased';
  }

  protected abstract wipeSecrets(s: S): void;

  /** Checks the phase and the message's call id; no state change on failure. */
  protected checkUsable(call: Uint8Array, what: string): void {
    if (this.#phase !== 'pending') {
      throw new ProtocolError('ERR_CALL_STATE', `${what}: the pending call state is ${this.#phase}; a pending state completes once`);
    }
    if (!constantTimeEqual(call, this.#call)) throw new ProtocolError('ERR_CALL_STATE', `${what}: the message is for another call`);
  }

  /** After an await: erase() may have run meanwhile (the call ended). */
  #stillCompleting(): boolean {
    return this.#phase === 'completing';
  }

  /** Runs a completion with the secrets taken out; puts them back if it throws. */
  protected async complete<R>(run: (s: S) => Promise<R>, dispose: (r: R) => void): Promise<R> {
    const s = this.#secrets;
    if (this.#phase !== 'pending' || s === undefined) throw new ProtocolError('ERR_CALL_STATE', `the pending call state is ${this.#phase}`);
    this.#phase = 'completing';
    this.#secrets = undefined;
    let result: R;
    try {
      result = await run(s);
    } catch (e) {
      // Bad input: the state is as it was, unless the call was erased meanwhile.
      if (this.#stillCompleting()) {
        this.#phase = 'pending';
        this.#secrets = s;
      } else {
        this.wipeSecrets(s);
      }
      throw e;
    }
    this.wipeSecrets(s);
    if (!this.#stillCompleting()) {
      dispose(result);
      throw new ProtocolError('ERR_CALL_STATE', 'the pending call state was erased while completing (the call ended)');
    }
    this.#phase = 'completed';
    return result;
  }
}

/** The caller's state between offer and answer (docs/protocol/11 §11.2.1): holds dk_I and e_I. */
export class CallerPending extends PendingCall<CallerSecrets> {
  protected readonly kind = 'CallerPending';

  private constructor(s: CallerSecrets) {
    super(s.call, s);
  }

  static {
    // The only ways to build one or to complete it: the module functions below (not exported members).
    makeCallerPending = (s) => new CallerPending(s);
    completeCaller = (state, crypto, answer) => state.#completeWith(crypto, answer);
  }

  protected wipeSecrets(s: CallerSecrets): void {
    wipe(s.eI, s.dkI);
  }

  /** completeCallAsCaller's body. */
  async #completeWith(crypto: CryptoProvider, answer: CallAnswerMessage): Promise<{ keys: CallKeys; confirm: CallConfirmMessage }> {
    this.checkUsable(answer.call, 'call answer');
    const pubER = parseX25519PublicKey(answer.dh, 'call answer dh (E_R)'); // docs/protocol/03 §3.2 canonical X25519 key
    if (answer.ct.length !== MLKEM1024_CIPHERTEXT_BYTES) {
      throw new ProtocolError('ERR_ARGUMENT', `call answer ct: expected ${MLKEM1024_CIPHERTEXT_BYTES} bytes, got ${answer.ct.length}`);
    }
    const fpAnswer = sdpFingerprint(answer.sdp); // §11.2.4
    return this.complete(
      async (s) => {
        const ssKem = await crypto.mlKem1024Decapsulate(answer.ct, s.dkI); // §11.2.3 ss_kem = Decaps(dk_I, ct) (FIPS 203 §7.3)
        let dh: Uint8Array | undefined;
        try {
          dh = await crypto.x25519(s.eI, pubER); // §11.2.3 dh = X25519(e_I, E_R); all zeros → ERR_CRYPTO_SMALL_ORDER
          const th = transcriptHash(crypto, {
            call: s.call,
            ikI: s.ikI,
            ikR: s.ikR,
            ekHash: s.ekHash,
            hvi: s.hvi,
            fpOffer: s.fpOffer,
            offerSdp: s.offerSdp,
            pubER,
            ctHash: crypto.sha256(answer.ct),
            fpAnswer,
            answerSdp: answer.sdp,
            pubEI: s.pubEI,
          });
          const keys = deriveCallKeys(crypto, 'caller', s.call, s.ikI, s.ikR, dh, ssKem, th);
          return { keys, confirm: { call: s.call.slice(), dh: s.pubEI.slice() } }; // §11.2.3 confirm { call, dh = E_I }
        } finally {
          wipe(ssKem);
          if (dh !== undefined) wipe(dh);
        }
      },
      (r) => {
        r.keys.erase();
      },
    );
  }
}

/** The callee's state between answer and confirm (docs/protocol/11 §11.2.2): holds e_R and ss_kem. */
export class CalleePending extends PendingCall<CalleeSecrets> {
  protected readonly kind = 'CalleePending';

  private constructor(s: CalleeSecrets) {
    super(s.call, s);
  }

  static {
    makeCalleePending = (s) => new CalleePending(s);
    completeCallee = (state, crypto, confirm) => state.#completeWith(crypto, confirm);
  }

  protected wipeSecrets(s: CalleeSecrets): void {
    wipe(s.eR, s.ssKem);
  }

  /** completeCallAsCallee's body. */
  async #completeWith(crypto: CryptoProvider, confirm: CallConfirmMessage): Promise<{ keys: CallKeys }> {
    this.checkUsable(confirm.call, 'call confirm');
    return this.complete(
      async (s) => {
        // §11.2.3 / RFC 6189 §4.4.1.1: the revealed E_I must open the commitment, compared in constant time.
        if (!constantTimeEqual(commitment(crypto, s.call, s.ikI, s.ikR, confirm.dh), s.hvi)) {
          throw new ProtocolError('ERR_CALL_COMMITMENT', "call confirm: the caller's E_I does not match the commitment of its offer");
        }
        const pubEI = parseX25519PublicKey(confirm.dh, 'call confirm dh (E_I)'); // docs/protocol/03 §3.2
        const dh = await crypto.x25519(s.eR, pubEI); // §11.2.3 dh = X25519(e_R, E_I); all zeros → ERR_CRYPTO_SMALL_ORDER
        try {
          const th = transcriptHash(crypto, {
            call: s.call,
            ikI: s.ikI,
            ikR: s.ikR,
            ekHash: s.ekHash,
            hvi: s.hvi,
            fpOffer: s.fpOffer,
            offerSdp: s.offerSdp,
            pubER: s.pubER,
            ctHash: s.ctHash,
            fpAnswer: s.fpAnswer,
            answerSdp: s.answerSdp,
            pubEI,
          });
          return { keys: deriveCallKeys(crypto, 'callee', s.call, s.ikI, s.ikR, dh, s.ssKem, th) };
        } finally {
          wipe(dh);
        }
      },
      (r) => {
        r.keys.erase();
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Hashes and keys (docs/protocol/11 §11.2.1, §11.3)

/** §11.2.1: hvi = SHA-256("Sotto_v1_CallCommit" || call || IK_I || IK_R || E_I). */
function commitment(crypto: CryptoProvider, call: Uint8Array, ikI: Uint8Array, ikR: Uint8Array, pubEI: Uint8Array): Uint8Array {
  return crypto.sha256(concatBytes(LABEL_CALL_COMMIT, call, ikI, ikR, pubEI));
}

/** docs/protocol.md §1.1 vec16(x) = u16(len(x)) || x. */
function vec16(x: Uint8Array): Uint8Array {
  if (x.length > 0xffff) throw new ProtocolError('ERR_ARGUMENT', `vec16: expected at most 65535 bytes, got ${x.length}`);
  return concatBytes(Uint8Array.of(x.length >> 8, x.length & 0xff), x);
}

/** docs/protocol.md §1.1 vec32(x) = u32(len(x)) || x. */
function vec32(x: Uint8Array): Uint8Array {
  return concatBytes(u32be(x.length), x);
}

interface TranscriptFields {
  readonly call: Uint8Array;
  readonly ikI: Uint8Array;
  readonly ikR: Uint8Array;
  readonly ekHash: Uint8Array;
  readonly hvi: Uint8Array;
  readonly fpOffer: string;
  readonly offerSdp: string;
  readonly pubER: Uint8Array;
  readonly ctHash: Uint8Array;
  readonly fpAnswer: string;
  readonly answerSdp: string;
  readonly pubEI: Uint8Array;
}

/** §11.3 th, in the spec's order (RFC 6189 §4.4.1.4's total_hash, over Sotto's messages). */
function transcriptHash(crypto: CryptoProvider, t: TranscriptFields): Uint8Array {
  return crypto.sha256(
    concatBytes(
      LABEL_CALL_TRANSCRIPT, //          "Sotto_v1_CallTranscript"
      t.call, //                          call
      t.ikI, //                           IK_I
      t.ikR, //                           IK_R
      t.ekHash, //                        SHA-256(ek_I)
      t.hvi, //                           hvi
      vec16(utf8(t.fpOffer)), //          vec16(fp_offer)
      vec32(utf8(t.offerSdp)), //         vec32(offerSdp)
      t.pubER, //                         E_R
      t.ctHash, //                        SHA-256(ct)
      vec16(utf8(t.fpAnswer)), //         vec16(fp_answer)
      vec32(utf8(t.answerSdp)), //        vec32(answerSdp)
      t.pubEI, //                         E_I
    ),
  );
}

/** §11.3: s0, then sashash and both SFrame base keys with the ZRTP KDF; s0 is erased before returning. */
function deriveCallKeys(
  crypto: CryptoProvider,
  role: 'caller' | 'callee',
  call: Uint8Array,
  ikI: Uint8Array,
  ikR: Uint8Array,
  dh: Uint8Array,
  ssKem: Uint8Array,
  th: Uint8Array,
): CallKeys {
  // s0 = SHA-256(u32(1) || dh || ss_kem || "Sotto_v1_Call" || IK_I || IK_R || th)   (RFC 6189 §4.4.1.4 shape)
  const s0Input = concatBytes(u32be(S0_COUNTER), dh, ssKem, LABEL_CALL_S0, ikI, ikR, th);
  const s0 = crypto.sha256(s0Input);
  wipe(s0Input);
  try {
    const context = concatBytes(call, ikI, ikR, th); //                     KDF_Context = call || IK_I || IK_R || th
    const sashash = zrtpKdf(crypto, s0, KDF_LABEL_SAS, context, KDF_BITS); // RFC 6189 §4.5.2
    const sas = renderSas(sashash.slice(0, SAS_VALUE_BYTES)); //              sasvalue = sashash[0..4]
    const callerKey = zrtpKdf(crypto, s0, KDF_LABEL_SFRAME_CALLER, context, KDF_BITS);
    const calleeKey = zrtpKdf(crypto, s0, KDF_LABEL_SFRAME_CALLEE, context, KDF_BITS);
    const caller: CallSframeKey = { kid: CALLER_SFRAME_KID, baseKey: callerKey }; // §11.5
    const callee: CallSframeKey = { kid: CALLEE_SFRAME_KID, baseKey: calleeKey };
    return role === 'caller'
      ? new SottoCallKeys(call.slice(), role, sas, caller, callee)
      : new SottoCallKeys(call.slice(), role, sas, callee, caller);
  } finally {
    wipe(s0);
  }
}

// ---------------------------------------------------------------------------------------------
// Argument checks

function checkBytes(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new ProtocolError('ERR_ARGUMENT', `${what}: expected ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The transitions

/**
 * docs/protocol/11 §11.2.1: the caller starts a call. Randomness is drawn in this order: the call id
 * (16 bytes, unless `call` is given), the ML-KEM-1024 seed d || z (64, FIPS 203 §7.1), e_I (32).
 * Errors: ERR_KEY_INVALID (an identity key), ERR_ARGUMENT (a `call` that is not 16 bytes), ERR_CALL_SDP.
 */
export async function createCallOffer(
  crypto: CryptoProvider,
  rng: Rng,
  args: { callerIdentityKey: Uint8Array; calleeIdentityKey: Uint8Array; sdp: string; call?: Uint8Array },
): Promise<{ state: CallerPending; offer: CallOfferMessage }> {
  const ikI = parseIdentityPublicKey(args.callerIdentityKey);
  const ikR = parseIdentityPublicKey(args.calleeIdentityKey);
  if (args.call !== undefined) checkBytes(args.call, CALL_ID_BYTES, 'call id');
  const fpOffer = sdpFingerprint(args.sdp); // §11.2.4: never send what the peer must refuse
  const call = args.call !== undefined ? args.call.slice() : rng(CALL_ID_BYTES); // §11.1 call: 16 random bytes
  const seed = rng(MLKEM_SEED_BYTES); // §11.1 (ek_I, dk_I) from a fresh 64-byte seed (FIPS 203 §7.1)
  let kem;
  try {
    kem = await crypto.mlKem1024KeyGen(seed);
  } finally {
    wipe(seed);
  }
  const eI = rng(X25519_KEY_BYTES); // §11.1 e_I: 32 fresh random bytes (RFC 7748 §5)
  const pubEI = await crypto.x25519PublicKey(eI);
  const hvi = commitment(crypto, call, ikI, ikR, pubEI); // §11.2.1 commit to E_I before seeing anything of the callee's
  const state = makeCallerPending({
    call,
    ikI,
    ikR,
    eI,
    pubEI,
    dkI: kem.secretKey,
    ekHash: crypto.sha256(kem.publicKey),
    hvi,
    offerSdp: args.sdp,
    fpOffer,
  });
  return { state, offer: { call: call.slice(), kem: kem.publicKey.slice(), commit: hvi.slice(), sdp: args.sdp } };
}

/**
 * docs/protocol/11 §11.2.2: the callee accepts an offer. Randomness: e_R (32 bytes), then m (32, FIPS 203 §7.2).
 * Errors: ERR_KEY_INVALID (an identity key, or `kem` failing the FIPS 203 §7.2 input checks),
 * ERR_ARGUMENT (`call` not 16 bytes, `commit` not 32), ERR_CALL_SDP (either SDP).
 */
export async function answerCallOffer(
  crypto: CryptoProvider,
  rng: Rng,
  args: { callerIdentityKey: Uint8Array; calleeIdentityKey: Uint8Array; offer: CallOfferMessage; sdp: string },
): Promise<{ state: CalleePending; answer: CallAnswerMessage }> {
  const { offer } = args;
  const ikI = parseIdentityPublicKey(args.callerIdentityKey);
  const ikR = parseIdentityPublicKey(args.calleeIdentityKey);
  checkBytes(offer.call, CALL_ID_BYTES, 'call offer call');
  checkBytes(offer.commit, CALL_COMMIT_BYTES, 'call offer commit');
  const fpOffer = sdpFingerprint(offer.sdp); // §11.2.4
  const ek = parseMlKemPublicKey(offer.kem, 'call offer kem (ek_I)'); // §11.2.2: length and FIPS 203 §7.2 modulus check
  const fpAnswer = sdpFingerprint(args.sdp); // §11.2.4
  const eR = rng(X25519_KEY_BYTES); // §11.1 e_R
  const pubER = await crypto.x25519PublicKey(eR);
  const m = rng(MLKEM_MESSAGE_BYTES); // §11.1 m: 32 fresh random bytes
  let enc;
  try {
    enc = await crypto.mlKem1024Encapsulate(ek, m); // §11.2.2 (ct, ss_kem) = Encaps(ek_I, m)
  } finally {
    wipe(m);
  }
  const call = offer.call.slice();
  const state = makeCalleePending({
    call,
    ikI,
    ikR,
    ekHash: crypto.sha256(ek),
    hvi: offer.commit.slice(),
    offerSdp: offer.sdp,
    fpOffer,
    eR,
    pubER,
    ctHash: crypto.sha256(enc.ciphertext),
    answerSdp: args.sdp,
    fpAnswer,
    ssKem: enc.sharedSecret,
  });
  return { state, answer: { call: call.slice(), dh: pubER.slice(), ct: enc.ciphertext.slice(), sdp: args.sdp } };
}

/**
 * docs/protocol/11 §11.2.3: the caller completes with the callee's answer, derives the keys (§11.3) and
 * gets the confirm to send. Errors (the state unchanged): ERR_CALL_STATE (used, erased or completing
 * state; another call id), ERR_KEY_INVALID (`dh`), ERR_ARGUMENT (`ct` not 1568 bytes), ERR_CALL_SDP,
 * ERR_CRYPTO_SMALL_ORDER.
 */
export function completeCallAsCaller(crypto: CryptoProvider, state: CallerPending, answer: CallAnswerMessage): Promise<{ keys: CallKeys; confirm: CallConfirmMessage }> {
  return completeCaller(state, crypto, answer);
}

/**
 * docs/protocol/11 §11.2.3: the callee checks the caller's E_I against its commitment and derives the keys.
 * Errors (the state unchanged): ERR_CALL_STATE, ERR_CALL_COMMITMENT (the caller abandons the call),
 * ERR_KEY_INVALID (`dh` committed to but not a valid X25519 key), ERR_CRYPTO_SMALL_ORDER.
 */
export function completeCallAsCallee(crypto: CryptoProvider, state: CalleePending, confirm: CallConfirmMessage): Promise<{ keys: CallKeys }> {
  return completeCallee(state, crypto, confirm);
}
