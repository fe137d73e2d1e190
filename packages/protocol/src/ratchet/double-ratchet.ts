// The Double Ratchet state machine: "The Double Ratchet Algorithm" rev 1 (Signal, 2016-11-20), §3
// (state variables §3.2, initialization §3.3, RatchetEncrypt §3.4, RatchetDecrypt §3.5), with the
// cryptographic choices of §5.2 and the deletion rules of §6; docs/protocol/05-double-ratchet.md.
//
// Transitions are pure: each returns a new state and never mutates its input, so on every error
// (a thrown ProtocolError) the caller's state is exactly as before (spec §3.5: "changes to the state
// object are discarded"). Decryption computes the candidate state and commits it only after the AEAD
// has opened, so an unauthenticated message can never change state. Only what changes is copied: an
// in-order message allocates one new state object and one chain object, and shares everything else.
//
// One deliberate restructuring of §3.5 (equivalent for every message an honest peer sends): the spec
// derives and stores the skipped keys of the old receiving chain, up to header.pn, when a new ratchet
// key arrives (SkipMessageKeys(state, header.pn)). We keep the old chain key instead, together with
// pn as that chain's final length, for the last limits.MAX_RECEIVER_CHAINS chains (libsignal keeps
// receiver chains the same way), and derive a late message's key when it arrives. A chain key at
// index i with final length pn exposes exactly the keys i..pn-1 that the spec would have stored, so
// forward secrecy is the same, while a ratchet step costs no HMACs and no skipped-key storage.
import { ProtocolError, isProtocolError } from '../errors.ts';
import { X25519_KEY_BYTES, type CryptoProvider, type Rng } from '../crypto/provider.ts';
import { MAX_COUNTER, MAX_PLAINTEXT_BYTES, MAX_RATCHET_AD_BYTES, MAX_RECEIVER_CHAINS, MAX_SKIP } from '../limits.ts';
import { Redacted } from '../keys/redacted.ts';
import { RATCHET_HEADER_BYTES, decodeRatchetMessage, isCanonicalX25519, writeRatchetHeader } from '../wire/ratchet-message.ts';
import { kdfRk, ROOT_KEY_BYTES, type RootKey } from './root-chain.ts';
import { messageKeyOf, nextChainKey, type ChainKey, type MessageKey } from './chain-key.ts';
import { openWithMessageKey, sealWithMessageKey } from './message-keys.ts';
import { NO_SKIPPED_KEYS, addSkipped, findSkipped, removeSkipped, sameRatchetKey, type SkippedKeys, type SkippedMessageKey } from './skipped-keys.ts';

/** An X25519 ratchet key pair (spec §3.2 DHs; RFC 7748 §5). */
export interface RatchetKeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The sending chain: spec §3.2 CKs and Ns. */
export interface SendingChain {
  readonly chainKey: ChainKey;
  /** Ns: the number of the next message to send. */
  readonly index: number;
}

/** A receiving chain: spec §3.2 DHr, CKr and Nr, kept for the last MAX_RECEIVER_CHAINS peer ratchet keys. */
export interface ReceivingChain {
  /** The peer's ratchet public key this chain belongs to (DHr when it was current). */
  readonly ratchetKey: Uint8Array;
  /** CKr: the chain key for message number `index`. */
  readonly chainKey: ChainKey;
  /** Nr: the number of the next message expected on this chain. */
  readonly index: number;
  /** The chain's final length (the pn announced by the peer's next chain), or null for the current
   *  chain. A message numbered at or beyond it was never sent by the peer. */
  readonly end: number | null;
}

/** The Double Ratchet state (spec §3.2) as readonly plain data; transitions replace it, never mutate it.
 *  Values made by this module never print their secrets (toString, JSON and inspect are redacted). */
export interface RatchetState {
  /** AD: the session's associated data from the key agreement (spec §3.4), prefixed to every header. */
  readonly associatedData: Uint8Array;
  /** RK */
  readonly rootKey: RootKey;
  /** DHs */
  readonly selfRatchetKey: RatchetKeyPair;
  /** CKs and Ns; null for a responder that has not yet received a message (spec §3.3 RatchetInitBob). */
  readonly sending: SendingChain | null;
  /** PN */
  readonly previousCounter: number;
  /** Newest first: receiving[0] is the current DHr, CKr, Nr; at most MAX_RECEIVER_CHAINS entries. */
  readonly receiving: readonly ReceivingChain[];
  /** MKSKIPPED, oldest first, at most MAX_SKIPPED_KEYS entries. */
  readonly skipped: SkippedKeys;
}

class RatchetStateRecord extends Redacted implements RatchetState {
  protected readonly kind = 'RatchetState';
  readonly associatedData: Uint8Array;
  readonly rootKey: RootKey;
  readonly selfRatchetKey: RatchetKeyPair;
  readonly sending: SendingChain | null;
  readonly previousCounter: number;
  readonly receiving: readonly ReceivingChain[];
  readonly skipped: SkippedKeys;

  constructor(s: RatchetState) {
    super();
    this.associatedData = s.associatedData;
    this.rootKey = s.rootKey;
    this.selfRatchetKey = s.selfRatchetKey;
    this.sending = s.sending;
    this.previousCounter = s.previousCounter;
    this.receiving = s.receiving;
    this.skipped = s.skipped;
  }
}

/** Wraps plain fields as a state value that redacts itself when printed. No copies, no checks. */
export function makeRatchetState(fields: RatchetState): RatchetState {
  return new RatchetStateRecord(fields);
}

const NO_CHAINS: readonly ReceivingChain[] = Object.freeze([]);
const NO_NEW_SKIPPED: readonly SkippedMessageKey[] = Object.freeze([]);

function checkAssociatedData(ad: Uint8Array): void {
  if (ad.length > MAX_RATCHET_AD_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `ratchet associated data: expected at most ${MAX_RATCHET_AD_BYTES} bytes, got ${ad.length}`);
  }
}

function checkSharedSecret(sk: Uint8Array): void {
  if (sk.length !== ROOT_KEY_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `ratchet shared secret: expected ${ROOT_KEY_BYTES} bytes, got ${sk.length}`);
  }
}

function checkRatchetPublicKey(what: string, key: Uint8Array): void {
  if (key.length !== X25519_KEY_BYTES || !isCanonicalX25519(key)) {
    throw new ProtocolError('ERR_KEY_INVALID', `${what}: expected a canonical ${X25519_KEY_BYTES}-byte X25519 public key, got ${key.length} bytes`);
  }
}

/** Spec §3.1 GENERATE_DH(): privateKey = rng(32), publicKey = X25519(privateKey, 9). */
async function generateRatchetKeyPair(crypto: CryptoProvider, rng: Rng): Promise<RatchetKeyPair> {
  const privateKey = rng(X25519_KEY_BYTES);
  if (privateKey.length !== X25519_KEY_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `rng: expected ${X25519_KEY_BYTES} bytes, got ${privateKey.length}`);
  }
  return { privateKey, publicKey: await crypto.x25519PublicKey(privateKey) };
}

/** Spec §3.3 RatchetInitAlice: the initiator knows the responder's ratchet public key (PQXDH: the signed prekey). */
export async function initRatchetAsInitiator(
  crypto: CryptoProvider,
  rng: Rng,
  p: { sharedSecret: Uint8Array; peerRatchetPublicKey: Uint8Array; associatedData: Uint8Array },
): Promise<RatchetState> {
  checkSharedSecret(p.sharedSecret);
  checkRatchetPublicKey('peer ratchet public key', p.peerRatchetPublicKey);
  checkAssociatedData(p.associatedData);
  const sk = p.sharedSecret.slice() as RootKey;
  const associatedData = p.associatedData.slice();
  const self = await generateRatchetKeyPair(crypto, rng); // state.DHs = GENERATE_DH()
  let dh: Uint8Array;
  try {
    dh = await crypto.x25519(self.privateKey, p.peerRatchetPublicKey); // DH(state.DHs, state.DHr)
  } catch (e) {
    if (isProtocolError(e, 'ERR_CRYPTO_SMALL_ORDER')) throw new ProtocolError('ERR_KEY_INVALID', 'peer ratchet public key has small order');
    throw e;
  }
  const { rootKey, chainKey } = kdfRk(crypto, sk, dh); // state.RK, state.CKs = KDF_RK(SK, DH(...))
  dh.fill(0);
  sk.fill(0);
  return makeRatchetState({
    associatedData,
    rootKey,
    selfRatchetKey: self,
    sending: { chainKey, index: 0 }, // state.Ns = 0
    previousCounter: 0, // state.PN = 0
    // state.DHr = bob_dh_public_key, state.CKr = None, state.Nr = 0: no receiving chain yet. DHr is
    // only ever used as "the key of the current receiving chain", and Bob's first message carries a
    // fresh key, so the signed prekey needs no chain of its own.
    receiving: NO_CHAINS,
    skipped: NO_SKIPPED_KEYS, // state.MKSKIPPED = {}
  });
}

/** Spec §3.3 RatchetInitBob: the responder's ratchet key pair is its signed prekey pair. */
export function initRatchetAsResponder(p: { sharedSecret: Uint8Array; ownRatchetKeyPair: RatchetKeyPair; associatedData: Uint8Array }): RatchetState {
  checkSharedSecret(p.sharedSecret);
  checkAssociatedData(p.associatedData);
  if (p.ownRatchetKeyPair.privateKey.length !== X25519_KEY_BYTES) {
    throw new ProtocolError('ERR_KEY_INVALID', `own ratchet private key: expected ${X25519_KEY_BYTES} bytes, got ${p.ownRatchetKeyPair.privateKey.length}`);
  }
  checkRatchetPublicKey('own ratchet public key', p.ownRatchetKeyPair.publicKey);
  return makeRatchetState({
    associatedData: p.associatedData.slice(),
    rootKey: p.sharedSecret.slice() as RootKey, // state.RK = SK
    selfRatchetKey: { privateKey: p.ownRatchetKeyPair.privateKey.slice(), publicKey: p.ownRatchetKeyPair.publicKey.slice() }, // state.DHs = bob_dh_key_pair
    sending: null, // state.CKs = None, state.Ns = 0
    previousCounter: 0, // state.PN = 0
    receiving: NO_CHAINS, // state.DHr = None, state.CKr = None, state.Nr = 0
    skipped: NO_SKIPPED_KEYS, // state.MKSKIPPED = {}
  });
}

/** AD || header in one buffer: spec §3.1 CONCAT(ad, header). The header has a fixed length and comes
 *  last, so (ad, header) is parsed uniquely without a length prefix. */
function associatedDataFor(state: RatchetState): Uint8Array {
  const out = new Uint8Array(state.associatedData.length + RATCHET_HEADER_BYTES);
  out.set(state.associatedData, 0);
  return out;
}

/** Spec §3.4 RatchetEncrypt. Always continue from the returned state: encrypting twice from one state
 *  would use one message key (and so one AES-GCM key and nonce) for two plaintexts. */
export async function ratchetEncrypt(
  crypto: CryptoProvider,
  _rng: Rng, // unused: the next ratchet key pair is made when a new peer key arrives (spec §3.5 DHRatchet)
  state: RatchetState,
  plaintext: Uint8Array,
): Promise<{ state: RatchetState; message: Uint8Array }> {
  const s = state.sending;
  if (s === null) {
    throw new ProtocolError('ERR_ARGUMENT', 'ratchet: a responder has no sending chain until it has received the first message (spec §3.3)');
  }
  if (s.index >= MAX_COUNTER) {
    throw new ProtocolError('ERR_COUNTER_EXHAUSTED', `ratchet: sending chain reached message number ${MAX_COUNTER}`);
  }
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `ratchet: plaintext of at most ${MAX_PLAINTEXT_BYTES} bytes expected, got ${plaintext.length}`);
  }
  const messageKey = messageKeyOf(crypto, s.chainKey); // state.CKs, mk = KDF_CK(state.CKs)
  const chainKey = nextChainKey(crypto, s.chainKey);
  const ad = associatedDataFor(state);
  const adLength = state.associatedData.length;
  writeRatchetHeader(ad, adLength, state.selfRatchetKey.publicKey, state.previousCounter, s.index); // header = HEADER(state.DHs, state.PN, state.Ns)
  const sealed = await sealWithMessageKey(crypto, messageKey, plaintext, ad); // ENCRYPT(mk, plaintext, CONCAT(AD, header))
  messageKey.fill(0); // spec §6.1: a message key is deleted once used
  const message = new Uint8Array(RATCHET_HEADER_BYTES + sealed.length);
  message.set(ad.subarray(adLength), 0);
  message.set(sealed, RATCHET_HEADER_BYTES);
  return {
    state: makeRatchetState({ ...stateFields(state), sending: { chainKey, index: s.index + 1 } }), // state.Ns += 1
    message,
  };
}

function stateFields(s: RatchetState): RatchetState {
  return {
    associatedData: s.associatedData,
    rootKey: s.rootKey,
    selfRatchetKey: s.selfRatchetKey,
    sending: s.sending,
    previousCounter: s.previousCounter,
    receiving: s.receiving,
    skipped: s.skipped,
  };
}

function decryptFailed(why: string): ProtocolError {
  return new ProtocolError('ERR_DECRYPT_FAILED', `ratchet message: ${why}`);
}

/** Overwrites what walkChain derived (next chain key, skipped message keys) when it is not committed. */
function wipeWalk(w: { chainKey: ChainKey; skipped: readonly SkippedMessageKey[] }): void {
  w.chainKey.fill(0);
  for (const k of w.skipped) k.messageKey.fill(0);
}

/** Spec §3.5 SkipMessageKeys(state, until) followed by KDF_CK: walks a chain from `index` to message
 *  `target`, returning the message key of `target`, the chain key after it, and the keys skipped on
 *  the way. Throws ERR_TOO_MANY_SKIPPED when the walk is longer than MAX_SKIP. */
function walkChain(
  crypto: CryptoProvider,
  ratchetKey: Uint8Array,
  chainKey: ChainKey,
  index: number,
  target: number,
): { messageKey: MessageKey; chainKey: ChainKey; skipped: readonly SkippedMessageKey[] } {
  if (target - index > MAX_SKIP) {
    // if state.Nr + MAX_SKIP < until: raise Error()
    throw new ProtocolError('ERR_TOO_MANY_SKIPPED', `ratchet message: number ${target} skips ${target - index} keys, at most ${MAX_SKIP} allowed`);
  }
  let ck = chainKey;
  let skipped = NO_NEW_SKIPPED;
  if (target > index) {
    const acc: SkippedMessageKey[] = [];
    for (let i = index; i < target; i++) {
      acc.push({ ratchetKey, index: i, messageKey: messageKeyOf(crypto, ck) }); // state.MKSKIPPED[state.DHr, state.Nr] = mk
      const next = nextChainKey(crypto, ck); // state.CKr, mk = KDF_CK(state.CKr)
      if (ck !== chainKey) ck.fill(0); // intermediate chain keys live nowhere else
      ck = next;
    }
    skipped = acc;
  }
  const messageKey = messageKeyOf(crypto, ck); // state.CKr, mk = KDF_CK(state.CKr)
  const next = nextChainKey(crypto, ck);
  if (ck !== chainKey) ck.fill(0);
  return { messageKey, chainKey: next, skipped };
}

function withChainAt(chains: readonly ReceivingChain[], position: number, chain: ReceivingChain): readonly ReceivingChain[] {
  const out = chains.slice();
  out[position] = chain;
  return out;
}

/** Spec §3.5 RatchetDecrypt. */
export async function ratchetDecrypt(
  crypto: CryptoProvider,
  rng: Rng,
  state: RatchetState,
  message: Uint8Array,
): Promise<{ state: RatchetState; plaintext: Uint8Array }> {
  const m = decodeRatchetMessage(message);
  const n = m.counter;
  if (n >= MAX_COUNTER) throw decryptFailed(`message number ${n} is beyond the last one a sender may use`);
  const ad = associatedDataFor(state);
  ad.set(message.subarray(0, RATCHET_HEADER_BYTES), state.associatedData.length); // CONCAT(AD, header)

  let position = -1;
  for (let i = 0; i < state.receiving.length; i++) {
    const c = state.receiving[i];
    if (c !== undefined && sameRatchetKey(c.ratchetKey, m.ratchetKey)) {
      position = i;
      break;
    }
  }
  const chain = state.receiving[position];

  // TrySkippedMessageKeys. A skipped key can exist only below a retained chain's counter, or for a
  // chain no longer retained, so in-order messages skip the search.
  if (chain === undefined || n < chain.index) {
    const at = state.skipped.length === 0 ? -1 : findSkipped(state.skipped, m.ratchetKey, n);
    const entry = state.skipped[at];
    if (entry !== undefined) {
      const plaintext = await openWithMessageKey(crypto, entry.messageKey, m.ciphertext, ad); // DECRYPT(mk, ciphertext, CONCAT(AD, header))
      if (plaintext === null) throw decryptFailed('authentication failed');
      return { state: makeRatchetState({ ...stateFields(state), skipped: removeSkipped(state.skipped, at) }), plaintext }; // del state.MKSKIPPED[header.dh, header.n]
    }
    if (chain !== undefined) {
      throw new ProtocolError('ERR_DUPLICATE_MESSAGE', `ratchet message: number ${n} on this chain was already decrypted (next expected ${chain.index})`);
    }
  }

  if (chain !== undefined) {
    // header.dh is a known chain: SkipMessageKeys(state, header.n); KDF_CK; DECRYPT.
    if (chain.end !== null && n >= chain.end) {
      throw decryptFailed(`message number ${n} is beyond the chain's final length ${chain.end}`);
    }
    const w = walkChain(crypto, chain.ratchetKey, chain.chainKey, chain.index, n);
    const plaintext = await openWithMessageKey(crypto, w.messageKey, m.ciphertext, ad);
    w.messageKey.fill(0);
    if (plaintext === null) {
      wipeWalk(w); // nothing derived for a forgery outlives it
      throw decryptFailed('authentication failed');
    }
    return {
      state: makeRatchetState({
        ...stateFields(state),
        receiving: withChainAt(state.receiving, position, { ratchetKey: chain.ratchetKey, chainKey: w.chainKey, index: n + 1, end: chain.end }), // state.Nr += 1
        skipped: addSkipped(state.skipped, w.skipped),
      }),
      plaintext,
    };
  }

  // header.dh != state.DHr: DHRatchet(state, header).
  const current = state.receiving[0];
  if (n > MAX_SKIP) {
    throw new ProtocolError('ERR_TOO_MANY_SKIPPED', `ratchet message: number ${n} on a new chain skips ${n} keys, at most ${MAX_SKIP} allowed`);
  }
  let dhIn: Uint8Array;
  try {
    dhIn = await crypto.x25519(state.selfRatchetKey.privateKey, m.ratchetKey); // DH(state.DHs, state.DHr)
  } catch (e) {
    if (isProtocolError(e, 'ERR_CRYPTO_SMALL_ORDER')) throw decryptFailed('ratchet key has small order');
    throw e;
  }
  const receivingStep = kdfRk(crypto, state.rootKey, dhIn); // state.RK, state.CKr = KDF_RK(state.RK, DH(state.DHs, state.DHr))
  dhIn.fill(0);
  const w = walkChain(crypto, m.ratchetKey, receivingStep.chainKey, 0, n); // SkipMessageKeys(state, header.n); KDF_CK
  receivingStep.chainKey.fill(0);
  const plaintext = await openWithMessageKey(crypto, w.messageKey, m.ciphertext, ad);
  w.messageKey.fill(0);
  if (plaintext === null) {
    receivingStep.rootKey.fill(0);
    wipeWalk(w);
    throw decryptFailed('authentication failed');
  }

  // Authenticated: finish the DH ratchet step and commit.
  const self = await generateRatchetKeyPair(crypto, rng); // state.DHs = GENERATE_DH()
  const dhOut = await crypto.x25519(self.privateKey, m.ratchetKey); // DH(state.DHs, state.DHr)
  const sendingStep = kdfRk(crypto, receivingStep.rootKey, dhOut); // state.RK, state.CKs = KDF_RK(state.RK, DH(...))
  dhOut.fill(0);
  receivingStep.rootKey.fill(0);

  const receiving: ReceivingChain[] = [{ ratchetKey: m.ratchetKey, chainKey: w.chainKey, index: n + 1, end: null }]; // state.DHr = header.dh; state.Nr = n + 1
  if (current !== undefined) {
    // The peer's previous chain is our current one, and pn its final length (SkipMessageKeys(state,
    // header.pn)). An honest peer's pn is never below what we have read from that chain; if a forked
    // peer state says otherwise, the spec's loop simply skips nothing, and so do we.
    const end = Math.max(m.previousCounter, current.index);
    receiving.push({ ratchetKey: current.ratchetKey, chainKey: current.chainKey, index: current.index, end });
  }
  for (let i = 1; i < state.receiving.length && receiving.length < MAX_RECEIVER_CHAINS; i++) {
    const c = state.receiving[i];
    if (c !== undefined) receiving.push(c);
  }
  return {
    state: makeRatchetState({
      associatedData: state.associatedData,
      rootKey: sendingStep.rootKey,
      selfRatchetKey: self,
      sending: { chainKey: sendingStep.chainKey, index: 0 }, // state.Ns = 0
      previousCounter: state.sending === null ? 0 : state.sending.index, // state.PN = state.Ns
      receiving,
      skipped: addSkipped(state.skipped, w.skipped),
    }),
    plaintext,
  };
}
