// The call key agreement (docs/protocol/11 §11.1–11.4): a fresh hybrid X25519 + ML-KEM-1024 agreement per
// call, bound to both identity keys and the whole call transcript (both SDPs and their DTLS fingerprints),
// with a ZRTP-style hash commitment (RFC 6189 §4.4.1.1) so that a man in the middle gets one guess at the
// short authentication string, and the ZRTP KDF (RFC 6189 §4.5.1) for the SAS and the SFrame base keys.
// The commitment exchange runs while the callee's phone rings, so that after Accept only the answer
// travels (§11.1; docs/adr/0008):
//
//   caller                                          callee
//   createCallOffer      ── offer {call, kem, commit, sdp} ──►  ringCallOffer        (the phone rings)
//   confirmCallAsCaller  ◄── ringing {call, dh, ct} ──
//                        ── confirm {call, dh} ─────────────►  confirmCallAsCallee
//                           (both: s0 and the SAS)
//   completeCall         ◄── answer {call, sdp} ──────────────  completeCall         (the user accepted)
//                           (both: the SFrame keys, bound to the answer too)
//
// Pure transitions in the house style (session/session.ts): each step takes the pending state and a
// message and returns the next output; a bad input throws a typed error and leaves the pending state as
// it was (still usable). A pending state holds secrets (dk_I, e_I on the caller; e_R and ss_kem on the
// callee; s0 on both once confirmed) in private fields; it prints redacted, completes at most once, and
// erases its secrets when it completes or when `erase()` is called because the call ended (§11.1:
// "erased when the call's keys are derived or the call ends"). Using it again is ERR_CALL_STATE.
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
/** docs/protocol/11 §11.3: domain label of th, the transcript extended by the answer. */
const LABEL_CALL_ANSWER = utf8('Sotto_v1_CallAnswer');
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

/** §11.2.2: sent by the callee's device as it starts ringing, before the user decides. */
export interface CallRingingMessage {
  readonly call: Uint8Array;
  /** E_R, the callee's ephemeral X25519 public key. */
  readonly dh: Uint8Array;
  /** ML-KEM-1024 ciphertext to ek_I (1568 bytes). */
  readonly ct: Uint8Array;
}

export interface CallConfirmMessage {
  readonly call: Uint8Array;
  /** E_I, the caller's ephemeral X25519 public key, opening the commitment. */
  readonly dh: Uint8Array;
}

/** §11.2.5: the callee's SDP, sent when the user accepts. */
export interface CallAnswerMessage {
  readonly call: Uint8Array;
  readonly sdp: string;
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
  readonly ssKem: Uint8Array; //    secret
}

/** What both sides hold between the confirm and the answer (§11.3): s0 and the ring transcript. */
interface ConfirmedSecrets {
  readonly call: Uint8Array;
  readonly role: 'caller' | 'callee';
  readonly ikI: IdentityPublicKey;
  readonly ikR: IdentityPublicKey;
  readonly thRing: Uint8Array;
  readonly s0: Uint8Array; //       secret
}

type Phase = 'pending' | 'completing' | 'completed' | 'erased';

let makeCallerPending: (s: CallerSecrets) => CallerPending;
let confirmCaller: (state: CallerPending, crypto: CryptoProvider, ringing: CallRingingMessage) => Promise<{ state: CallConfirmed; confirm: CallConfirmMessage }>;
let makeCalleePending: (s: CalleeSecrets) => CalleePending;
let confirmCallee: (state: CalleePending, crypto: CryptoProvider, confirm: CallConfirmMessage) => Promise<{ state: CallConfirmed }>;
let makeConfirmed: (s: ConfirmedSecrets, sas: Sas) => CallConfirmed;
let completeConfirmed: (state: CallConfirmed, crypto: CryptoProvider, answer: CallAnswerMessage) => Promise<{ keys: CallKeys }>;

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

/** The caller's state between offer and ringing (docs/protocol/11 §11.2.1): holds dk_I and e_I. */
export class CallerPending extends PendingCall<CallerSecrets> {
  protected readonly kind = 'CallerPending';

  private constructor(s: CallerSecrets) {
    super(s.call, s);
  }

  static {
    // The only ways to build one or to complete it: the module functions below (not exported members).
    makeCallerPending = (s) => new CallerPending(s);
    confirmCaller = (state, crypto, ringing) => state.#confirmWith(crypto, ringing);
  }

  protected wipeSecrets(s: CallerSecrets): void {
    wipe(s.eI, s.dkI);
  }

  /** confirmCallAsCaller's body. */
  async #confirmWith(crypto: CryptoProvider, ringing: CallRingingMessage): Promise<{ state: CallConfirmed; confirm: CallConfirmMessage }> {
    this.checkUsable(ringing.call, 'call ringing');
    const pubER = parseX25519PublicKey(ringing.dh, 'call ringing dh (E_R)'); // docs/protocol/03 §3.2 canonical X25519 key
    if (ringing.ct.length !== MLKEM1024_CIPHERTEXT_BYTES) {
      throw new ProtocolError('ERR_ARGUMENT', `call ringing ct: expected ${MLKEM1024_CIPHERTEXT_BYTES} bytes, got ${ringing.ct.length}`);
    }
    return this.complete(
      async (s) => {
        const ssKem = await crypto.mlKem1024Decapsulate(ringing.ct, s.dkI); // §11.2.3 ss_kem = Decaps(dk_I, ct) (FIPS 203 §7.3)
        let dh: Uint8Array | undefined;
        try {
          dh = await crypto.x25519(s.eI, pubER); // §11.2.3 dh = X25519(e_I, E_R); all zeros → ERR_CRYPTO_SMALL_ORDER
          const thRing = ringTranscriptHash(crypto, { ...s, pubER, ctHash: crypto.sha256(ringing.ct), pubEI: s.pubEI });
          const state = confirmedState(crypto, 'caller', s.call, s.ikI, s.ikR, dh, ssKem, thRing);
          return { state, confirm: { call: s.call.slice(), dh: s.pubEI.slice() } }; // §11.2.3 confirm { call, dh = E_I }
        } finally {
          wipe(ssKem);
          if (dh !== undefined) wipe(dh);
        }
      },
      (r) => {
        r.state.erase();
      },
    );
  }
}

/** The callee's state between ringing and the confirm (docs/protocol/11 §11.2.2): holds e_R and ss_kem. */
export class CalleePending extends PendingCall<CalleeSecrets> {
  protected readonly kind = 'CalleePending';

  private constructor(s: CalleeSecrets) {
    super(s.call, s);
  }

  static {
    makeCalleePending = (s) => new CalleePending(s);
    confirmCallee = (state, crypto, confirm) => state.#confirmWith(crypto, confirm);
  }

  protected wipeSecrets(s: CalleeSecrets): void {
    wipe(s.eR, s.ssKem);
  }

  /** confirmCallAsCallee's body. */
  async #confirmWith(crypto: CryptoProvider, confirm: CallConfirmMessage): Promise<{ state: CallConfirmed }> {
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
          const thRing = ringTranscriptHash(crypto, { ...s, pubEI });
          return { state: confirmedState(crypto, 'callee', s.call, s.ikI, s.ikR, dh, s.ssKem, thRing) };
        } finally {
          wipe(dh);
        }
      },
      (r) => {
        r.state.erase();
      },
    );
  }
}

/**
 * Either side after the commitment exchange (docs/protocol/11 §11.3): holds s0 until the answer's SDP
 * arrives (caller) or the user accepts (callee). The SAS is known from here; the SFrame keys also bind
 * the answer, so they come from completeCall.
 */
export class CallConfirmed extends PendingCall<ConfirmedSecrets> {
  protected readonly kind = 'CallConfirmed';
  readonly role: 'caller' | 'callee';
  /** §11.4: the short authentication string, from s0 and the ring transcript. */
  readonly sas: Sas;

  private constructor(s: ConfirmedSecrets, sas: Sas) {
    super(s.call, s);
    this.role = s.role;
    this.sas = sas;
  }

  static {
    makeConfirmed = (s, sas) => new CallConfirmed(s, sas);
    completeConfirmed = (state, crypto, answer) => state.#completeWith(crypto, answer);
  }

  protected wipeSecrets(s: ConfirmedSecrets): void {
    wipe(s.s0);
  }

  /** completeCall's body. */
  async #completeWith(crypto: CryptoProvider, answer: CallAnswerMessage): Promise<{ keys: CallKeys }> {
    this.checkUsable(answer.call, 'call answer');
    const fpAnswer = sdpFingerprint(answer.sdp); // §11.2.4
    return this.complete(
      (s) => {
        // §11.3 th = SHA-256("Sotto_v1_CallAnswer" || th_ring || vec16(fp_answer) || vec32(answerSdp))
        const th = crypto.sha256(concatBytes(LABEL_CALL_ANSWER, s.thRing, vec16(utf8(fpAnswer)), vec32(utf8(answer.sdp))));
        return Promise.resolve({ keys: deriveSframeKeys(crypto, s, this.sas, th) });
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

interface RingTranscriptFields {
  readonly call: Uint8Array;
  readonly ikI: Uint8Array;
  readonly ikR: Uint8Array;
  readonly ekHash: Uint8Array;
  readonly hvi: Uint8Array;
  readonly fpOffer: string;
  readonly offerSdp: string;
  readonly pubER: Uint8Array;
  readonly ctHash: Uint8Array;
  readonly pubEI: Uint8Array;
}

/** §11.3 th_ring, in the spec's order (RFC 6189 §4.4.1.4's total_hash, over Sotto's messages up to the confirm). */
function ringTranscriptHash(crypto: CryptoProvider, t: RingTranscriptFields): Uint8Array {
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
      t.pubEI, //                         E_I
    ),
  );
}

/** §11.3: s0 and the SAS; s0 is kept (secret) in the returned state until the answer. */
function confirmedState(
  crypto: CryptoProvider,
  role: 'caller' | 'callee',
  call: Uint8Array,
  ikI: IdentityPublicKey,
  ikR: IdentityPublicKey,
  dh: Uint8Array,
  ssKem: Uint8Array,
  thRing: Uint8Array,
): CallConfirmed {
  // s0 = SHA-256(u32(1) || dh || ss_kem || "Sotto_v1_Call" || IK_I || IK_R || th_ring)   (RFC 6189 §4.4.1.4 shape)
  const s0Input = concatBytes(u32be(S0_COUNTER), dh, ssKem, LABEL_CALL_S0, ikI, ikR, thRing);
  const s0 = crypto.sha256(s0Input);
  wipe(s0Input);
  const sasContext = concatBytes(call, ikI, ikR, thRing); //                 §11.4 SAS context = call || IK_I || IK_R || th_ring
  const sashash = zrtpKdf(crypto, s0, KDF_LABEL_SAS, sasContext, KDF_BITS); // RFC 6189 §4.5.2
  const sas = renderSas(sashash.slice(0, SAS_VALUE_BYTES)); //                sasvalue = sashash[0..4]
  return makeConfirmed({ call: call.slice(), role, ikI, ikR, thRing, s0 }, sas);
}

/** §11.3: both SFrame base keys with the ZRTP KDF over the full transcript th. */
function deriveSframeKeys(crypto: CryptoProvider, s: ConfirmedSecrets, sas: Sas, th: Uint8Array): CallKeys {
  const context = concatBytes(s.call, s.ikI, s.ikR, th); //                  KDF_Context = call || IK_I || IK_R || th
  const callerKey = zrtpKdf(crypto, s.s0, KDF_LABEL_SFRAME_CALLER, context, KDF_BITS);
  const calleeKey = zrtpKdf(crypto, s.s0, KDF_LABEL_SFRAME_CALLEE, context, KDF_BITS);
  const caller: CallSframeKey = { kid: CALLER_SFRAME_KID, baseKey: callerKey }; // §11.5
  const callee: CallSframeKey = { kid: CALLEE_SFRAME_KID, baseKey: calleeKey };
  return s.role === 'caller'
    ? new SottoCallKeys(s.call.slice(), s.role, sas, caller, callee)
    : new SottoCallKeys(s.call.slice(), s.role, sas, callee, caller);
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
 * docs/protocol/11 §11.2.2: the callee's device starts ringing for an offer and contributes its values,
 * before the user decides. Randomness: e_R (32 bytes), then m (32, FIPS 203 §7.2).
 * Errors: ERR_KEY_INVALID (an identity key, or `kem` failing the FIPS 203 §7.2 input checks),
 * ERR_ARGUMENT (`call` not 16 bytes, `commit` not 32), ERR_CALL_SDP (the offer's SDP).
 */
export async function ringCallOffer(
  crypto: CryptoProvider,
  rng: Rng,
  args: { callerIdentityKey: Uint8Array; calleeIdentityKey: Uint8Array; offer: CallOfferMessage },
): Promise<{ state: CalleePending; ringing: CallRingingMessage }> {
  const { offer } = args;
  const ikI = parseIdentityPublicKey(args.callerIdentityKey);
  const ikR = parseIdentityPublicKey(args.calleeIdentityKey);
  checkBytes(offer.call, CALL_ID_BYTES, 'call offer call');
  checkBytes(offer.commit, CALL_COMMIT_BYTES, 'call offer commit');
  const fpOffer = sdpFingerprint(offer.sdp); // §11.2.4
  const ek = parseMlKemPublicKey(offer.kem, 'call offer kem (ek_I)'); // §11.2.2: length and FIPS 203 §7.2 modulus check
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
    ssKem: enc.sharedSecret,
  });
  return { state, ringing: { call: call.slice(), dh: pubER.slice(), ct: enc.ciphertext.slice() } };
}

/**
 * docs/protocol/11 §11.2.3: the caller takes the callee's ringing values, derives s0 and the SAS (§11.3,
 * §11.4) and gets the confirm to send. Errors (the state unchanged): ERR_CALL_STATE (used, erased or
 * completing state; another call id), ERR_KEY_INVALID (`dh`), ERR_ARGUMENT (`ct` not 1568 bytes),
 * ERR_CRYPTO_SMALL_ORDER.
 */
export function confirmCallAsCaller(crypto: CryptoProvider, state: CallerPending, ringing: CallRingingMessage): Promise<{ state: CallConfirmed; confirm: CallConfirmMessage }> {
  return confirmCaller(state, crypto, ringing);
}

/**
 * docs/protocol/11 §11.2.3: the callee checks the caller's E_I against its commitment and derives s0 and
 * the SAS. Errors (the state unchanged): ERR_CALL_STATE, ERR_CALL_COMMITMENT (the callee abandons the
 * call), ERR_KEY_INVALID (`dh` committed to but not a valid X25519 key), ERR_CRYPTO_SMALL_ORDER.
 */
export function confirmCallAsCallee(crypto: CryptoProvider, state: CalleePending, confirm: CallConfirmMessage): Promise<{ state: CallConfirmed }> {
  return confirmCallee(state, crypto, confirm);
}

/**
 * docs/protocol/11 §11.2.5, §11.3: either side binds the callee's answer SDP (its own, or the one
 * received) into the transcript and derives the SFrame keys. Errors (the state unchanged):
 * ERR_CALL_STATE (used, erased or completing state; another call id), ERR_CALL_SDP.
 */
export function completeCall(crypto: CryptoProvider, state: CallConfirmed, answer: CallAnswerMessage): Promise<{ keys: CallKeys }> {
  return completeConfirmed(state, crypto, answer);
}
