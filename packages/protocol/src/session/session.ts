// Sessions: PQXDH (handshake/pqxdh.ts) composed with the Double Ratchet (ratchet/double-ratchet.ts),
// as PQXDH rev 3 §3.3–3.4 and Double Ratchet rev 1 §5.1 ("Integration with X3DH") describe:
// SK is the ratchet's initial root key, AD its associated data, and Bob's signed prekey his initial
// ratchet key pair. docs/protocol/08-sessions.md.
//
// Pure transitions: every function returns a new Session and never changes the one it was given; on
// any error the caller's session is untouched. The responder's prekey bookkeeping goes through the
// caller's `ResponderPrekeyStore`, whose `consume` the protocol itself calls, once, after the first
// message authenticated (PQXDH §3.4) — so the caller cannot forget to delete a one-time prekey or to
// record a last-resort use, and nothing is consumed for a message that fails.
import { ProtocolError, isProtocolError } from '../errors.ts';
import type { CryptoProvider, Rng } from '../crypto/provider.ts';
import { constantTimeEqual, wipe } from '../internal/bytes.ts';
import { Redacted } from '../keys/redacted.ts';
import { parseIdentityPublicKey, type IdentityKeyPair, type IdentityPublicKey } from '../keys/identity.ts';
import { parseX25519PublicKey, type KemPrekeyPrivate, type OneTimePrekeyPrivate, type SignedPrekeyPrivate } from '../keys/prekeys.ts';
import { pqxdhInitiate, pqxdhRespond } from '../handshake/pqxdh.ts';
import type { VerifiedPrekeyBundle } from '../wire/prekey-bundle.ts';
import { decodePrekeyMessage, encodePrekeyHeader, encodePrekeyMessage, type PrekeyHeader } from '../wire/prekey-message.ts';
import { WIRE_VERSION, WireType } from '../wire/version.ts';
import { initRatchetAsInitiator, initRatchetAsResponder, ratchetDecrypt, ratchetEncrypt, type RatchetState } from '../ratchet/double-ratchet.ts';

export type SessionRole = 'initiator' | 'responder';

/** Length of the responder's digest of the prekey header that created the session (SHA-256). */
export const PREKEY_HEADER_DIGEST_BYTES = 32;

/** The fields of a Session, for the codec (wire/session-state.ts). */
export interface SessionFields {
  readonly role: SessionRole;
  readonly localIdentityKey: IdentityPublicKey;
  readonly remoteIdentityKey: IdentityPublicKey;
  readonly pendingPrekey: PrekeyHeader | undefined;
  readonly prekeyHeaderDigest: Uint8Array | undefined;
  readonly ratchet: RatchetState;
}

let makeSessionImpl: (f: SessionFields) => Session;
let ratchetOfImpl: (s: Session) => RatchetState;

/**
 * One end of a two-party session. Immutable; `sessionEncrypt`/`sessionDecrypt` return a new one.
 * The ratchet state (all the secrets) is in a private field: the object prints as
 * "[Session: redacted]" and persists only through `encodeSession` (wire/session-state.ts).
 */
export class Session extends Redacted {
  protected readonly kind = 'Session';
  /** 'initiator' made the session from a bundle (Alice); 'responder' accepted a prekey message (Bob). */
  readonly role: SessionRole;
  /** This device's identity key (for safety numbers). */
  readonly localIdentityKey: IdentityPublicKey;
  /** The peer's identity key: compare it with the trust store and show it in safety numbers. */
  readonly remoteIdentityKey: IdentityPublicKey;
  /** Initiator only, until the first message from the peer decrypts: the PQXDH header that every
   *  outgoing message repeats (docs/protocol/08 §8.3). */
  readonly pendingPrekey: PrekeyHeader | undefined;
  /** Responder only: SHA-256 of the header of the prekey message that created the session, so later
   *  prekey messages of the same run are recognised (docs/protocol/08 §8.4). */
  readonly prekeyHeaderDigest: Uint8Array | undefined;
  readonly #ratchet: RatchetState;

  private constructor(f: SessionFields) {
    super();
    this.role = f.role;
    this.localIdentityKey = f.localIdentityKey;
    this.remoteIdentityKey = f.remoteIdentityKey;
    this.pendingPrekey = f.pendingPrekey;
    this.prekeyHeaderDigest = f.prekeyHeaderDigest;
    this.#ratchet = f.ratchet;
    Object.freeze(this);
  }

  static {
    // The only ways to build a Session from fields or to reach its ratchet state: module functions
    // below, exported to the session-state codec but not from the package (src/index.ts).
    makeSessionImpl = (f) => new Session(f);
    ratchetOfImpl = (s) => s.#ratchet;
  }

  /** True while outgoing messages are still prekey messages (initiator, no reply yet). */
  get awaitingReply(): boolean {
    return this.pendingPrekey !== undefined;
  }
}

/** @internal Builds a Session from its fields after checking the role invariants (session-state codec). */
export function makeSession(f: SessionFields): Session {
  if (f.role === 'initiator' && f.prekeyHeaderDigest !== undefined) throw new ProtocolError('ERR_ARGUMENT', 'an initiator session has no prekey header digest');
  if (f.role === 'responder' && f.pendingPrekey !== undefined) throw new ProtocolError('ERR_ARGUMENT', 'a responder session has no pending prekey header');
  if (f.role === 'responder' && f.prekeyHeaderDigest?.length !== PREKEY_HEADER_DIGEST_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `a responder session needs a ${PREKEY_HEADER_DIGEST_BYTES}-byte prekey header digest`);
  }
  return makeSessionImpl(f);
}

/** @internal The ratchet state of a session (session-state codec). */
export function sessionRatchet(s: Session): RatchetState {
  return ratchetOfImpl(s);
}

function withRatchet(s: Session, ratchet: RatchetState, pendingPrekey: PrekeyHeader | undefined): Session {
  return makeSession({
    role: s.role,
    localIdentityKey: s.localIdentityKey,
    remoteIdentityKey: s.remoteIdentityKey,
    pendingPrekey,
    prekeyHeaderDigest: s.prekeyHeaderDigest,
    ratchet,
  });
}

// ---------------------------------------------------------------------------------------------
// Initiator

/**
 * PQXDH §3.3: starts a session with the owner of a verified bundle. No message is sent yet: the first
 * `sessionEncrypt` makes the initial (prekey) message. Pass the bundle straight from
 * `verifyPrekeyBundle`; anything else is refused (ERR_ARGUMENT).
 */
export async function initiateSession(crypto: CryptoProvider, rng: Rng, ownIdentity: IdentityKeyPair, bundle: VerifiedPrekeyBundle): Promise<Session> {
  const { sharedSecret, associatedData, header } = await pqxdhInitiate(crypto, rng, ownIdentity, bundle);
  try {
    const ratchet = await initRatchetAsInitiator(crypto, rng, {
      sharedSecret, //                                            Double Ratchet §5.1: SK is the initial root key
      peerRatchetPublicKey: bundle.signedPrekey.publicKey, //      "Bob's signed prekey … as Bob's initial ratchet public key"
      associatedData, //                                           "the AD … as associated data"
    });
    return makeSession({
      role: 'initiator',
      localIdentityKey: ownIdentity.publicKey,
      remoteIdentityKey: bundle.identityKey,
      pendingPrekey: header,
      prekeyHeaderDigest: undefined,
      ratchet,
    });
  } finally {
    wipe(sharedSecret);
  }
}

// ---------------------------------------------------------------------------------------------
// Sending and receiving

export type SessionMessageKind = 'prekey' | 'ratchet';

export interface SessionMessage {
  /** 'prekey' (WireType.PrekeyMessage) until the initiator has a reply; 'ratchet' (WireType.RatchetMessage) after. */
  readonly kind: SessionMessageKind;
  readonly bytes: Uint8Array;
}

/** Which kind of session message `bytes` is, from its version and type bytes (docs/protocol/08 §8.2). */
export function sessionMessageKind(bytes: Uint8Array): SessionMessageKind {
  if (bytes.length < 2) throw new ProtocolError('ERR_WIRE_TRUNCATED', `session message: expected at least 2 bytes, got ${bytes.length}`);
  if (bytes[0] !== WIRE_VERSION) throw new ProtocolError('ERR_WIRE_UNKNOWN_VERSION', `session message: expected version ${WIRE_VERSION}, got ${bytes[0] ?? 0}`);
  if (bytes[1] === WireType.PrekeyMessage) return 'prekey';
  if (bytes[1] === WireType.RatchetMessage) return 'ratchet';
  throw new ProtocolError('ERR_WIRE_UNKNOWN_TYPE', `session message: expected type ${WireType.PrekeyMessage} or ${WireType.RatchetMessage}, got ${bytes[1] ?? 0}`);
}

/**
 * Encrypts one message (Double Ratchet §3.4). While the initiator has not received a reply, the
 * ratchet message is wrapped in a prekey message carrying the PQXDH header, as Signal does, so that
 * whichever of these messages reaches the responder first can start the session (docs/protocol/08 §8.3).
 */
export async function sessionEncrypt(crypto: CryptoProvider, rng: Rng, session: Session, plaintext: Uint8Array): Promise<{ session: Session; message: SessionMessage }> {
  const { state, message } = await ratchetEncrypt(crypto, rng, sessionRatchet(session), plaintext);
  const next = withRatchet(session, state, session.pendingPrekey);
  if (session.pendingPrekey === undefined) return { session: next, message: { kind: 'ratchet', bytes: message } };
  return { session: next, message: { kind: 'prekey', bytes: encodePrekeyMessage({ ...session.pendingPrekey, message }) } };
}

function headerDigest(crypto: CryptoProvider, header: PrekeyHeader): Uint8Array {
  return crypto.sha256(encodePrekeyHeader(header));
}

/**
 * Decrypts a message of this session (Double Ratchet §3.5). Accepts ratchet messages, and — on the
 * responder — later prekey messages of the same PQXDH run (same header as the one that created the
 * session; any other prekey message is ERR_SESSION_MISMATCH: pass it to `acceptPrekeyMessage`).
 * The initiator's first successful decryption ends its prekey phase.
 */
export async function sessionDecrypt(crypto: CryptoProvider, rng: Rng, session: Session, bytes: Uint8Array): Promise<{ session: Session; plaintext: Uint8Array }> {
  const kind = sessionMessageKind(bytes);
  let inner = bytes;
  if (kind === 'prekey') {
    if (session.prekeyHeaderDigest === undefined) {
      throw new ProtocolError('ERR_SESSION_MISMATCH', 'prekey message for a session this device initiated: use acceptPrekeyMessage');
    }
    const m = decodePrekeyMessage(bytes);
    if (!constantTimeEqual(headerDigest(crypto, m), session.prekeyHeaderDigest)) {
      throw new ProtocolError('ERR_SESSION_MISMATCH', 'prekey message from a different PQXDH run than this session: use acceptPrekeyMessage');
    }
    inner = m.message;
  }
  const { state, plaintext } = await ratchetDecrypt(crypto, rng, sessionRatchet(session), inner);
  // Double Ratchet §3.5 authenticated the message: the peer has our session, so stop sending prekey messages.
  return { session: withRatchet(session, state, undefined), plaintext };
}

// ---------------------------------------------------------------------------------------------
// Responder

type MaybePromise<T> = T | Promise<T>;

/** What a successful `acceptPrekeyMessage` used up (PQXDH §3.4 "deletes … any one-time prekey private key that was used"). */
export interface PrekeyUse {
  readonly signedPrekeyId: number;
  /** The one-time X25519 prekey to delete, if one was used. */
  readonly oneTimePrekeyId: number | undefined;
  readonly kemPrekeyId: number;
  /** false: a one-time KEM prekey, to delete. true: the last-resort KEM prekey, kept; record (kemPrekeyId, baseKey). */
  readonly kemPrekeyLastResort: boolean;
  /** EK_A, the initiator's ephemeral key: with kemPrekeyId, the replay-record entry for a last-resort use. */
  readonly baseKey: Uint8Array;
}

/**
 * The responder's prekeys, kept by the caller (a keystore, a database, memory). Lookups may be
 * asynchronous. `consume` is called by the protocol exactly once per accepted prekey message, after
 * the inner message authenticated and before the session is returned.
 */
export interface ResponderPrekeyStore {
  signedPrekey(id: number): MaybePromise<SignedPrekeyPrivate | undefined>;
  oneTimePrekey(id: number): MaybePromise<OneTimePrekeyPrivate | undefined>;
  kemPrekey(id: number): MaybePromise<KemPrekeyPrivate | undefined>;
  /**
   * Atomically: delete the one-time X25519 prekey `use.oneTimePrekeyId` (if any); delete the KEM
   * prekey if it is one-time; if it is the last-resort one, add (kemPrekeyId, baseKey) to the replay
   * record. Return false, changing nothing, if (kemPrekeyId, baseKey) is already recorded or a named
   * one-time prekey no longer exists (a concurrent or repeated use): the protocol then throws
   * ERR_PREKEY_REUSED. The record of a last-resort key may be dropped when that key is deleted.
   */
  consume(use: PrekeyUse): MaybePromise<boolean>;
}

export interface AcceptedPrekeyMessage {
  readonly session: Session;
  readonly plaintext: Uint8Array;
  /** What `store.consume` was given (already applied). */
  readonly consumed: PrekeyUse;
}

/**
 * PQXDH §3.4: accepts an initial message, creating a new responder session. Checks, in order: syntax
 * (ERR_WIRE_*), the initiator's identity and base keys (ERR_KEY_INVALID), that every prekey named
 * exists (ERR_PREKEY_UNKNOWN — never had, or already used), the inner message under SK and AD
 * (ERR_HANDSHAKE_FAILED), and finally `store.consume` (ERR_PREKEY_REUSED). Only then is anything
 * consumed. The caller compares `session.remoteIdentityKey` with its trust store.
 */
export async function acceptPrekeyMessage(
  crypto: CryptoProvider,
  rng: Rng,
  ownIdentity: IdentityKeyPair,
  store: ResponderPrekeyStore,
  bytes: Uint8Array,
): Promise<AcceptedPrekeyMessage> {
  const m = decodePrekeyMessage(bytes);
  const initiatorIdentity = parseIdentityPublicKey(m.identityKey); //   §3.4 "retrieves Alice's identity key and ephemeral key"
  const baseKey = parseX25519PublicKey(m.baseKey, 'base key');
  const signedPrekey = await store.signedPrekey(m.signedPrekeyId); //   "uses the key identifiers to load the private key(s)"
  if (signedPrekey?.id !== m.signedPrekeyId) throw new ProtocolError('ERR_PREKEY_UNKNOWN', `signed prekey ${m.signedPrekeyId} is not known`);
  let oneTimePrekey: OneTimePrekeyPrivate | undefined;
  if (m.oneTimePrekeyId !== undefined) {
    oneTimePrekey = await store.oneTimePrekey(m.oneTimePrekeyId);
    if (oneTimePrekey?.id !== m.oneTimePrekeyId) throw new ProtocolError('ERR_PREKEY_UNKNOWN', `one-time prekey ${m.oneTimePrekeyId} is not known (never issued, or already used)`);
  }
  const kemPrekey = await store.kemPrekey(m.kemPrekeyId);
  if (kemPrekey?.id !== m.kemPrekeyId) throw new ProtocolError('ERR_PREKEY_UNKNOWN', `KEM prekey ${m.kemPrekeyId} is not known (never issued, or already used)`);

  const { sharedSecret, associatedData } = await pqxdhRespond(crypto, ownIdentity, { signedPrekey, oneTimePrekey, kemPrekey }, initiatorIdentity, baseKey, m.kemCiphertext);
  let state: RatchetState;
  let plaintext: Uint8Array;
  try {
    const spkPrivate = signedPrekey.exportSecret();
    const initial = initRatchetAsResponder({
      sharedSecret, //                                              Double Ratchet §5.1
      ownRatchetKeyPair: { privateKey: spkPrivate, publicKey: signedPrekey.public.publicKey },
      associatedData,
    });
    wipe(spkPrivate);
    ({ state, plaintext } = await ratchetDecrypt(crypto, rng, initial, m.message)); // §3.4 "attempts to decrypt the initial ciphertext using SK and AD"
  } catch (e) {
    if (isProtocolError(e, 'ERR_DECRYPT_FAILED')) {
      throw new ProtocolError('ERR_HANDSHAKE_FAILED', 'the initial message does not authenticate under the PQXDH secret'); // "Bob aborts the protocol"
    }
    throw e;
  } finally {
    wipe(sharedSecret); //                                          "and deletes SK" (the ratchet holds its own copy)
  }

  const consumed: PrekeyUse = {
    signedPrekeyId: m.signedPrekeyId,
    oneTimePrekeyId: m.oneTimePrekeyId,
    kemPrekeyId: m.kemPrekeyId,
    kemPrekeyLastResort: kemPrekey.lastResort,
    baseKey: baseKey.slice(),
  };
  if (!(await store.consume(consumed))) { //                        "deletes … any one-time prekey private key that was used"
    throw new ProtocolError('ERR_PREKEY_REUSED', 'this prekey message was already accepted (replay)');
  }
  const session = makeSession({
    role: 'responder',
    localIdentityKey: ownIdentity.publicKey,
    remoteIdentityKey: initiatorIdentity,
    pendingPrekey: undefined,
    prekeyHeaderDigest: headerDigest(crypto, m),
    ratchet: state,
  });
  return { session, plaintext, consumed };
}
