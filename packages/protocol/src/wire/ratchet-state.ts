// Persistence encoding of the Double Ratchet state (docs/protocol/05-double-ratchet.md §5.9): the
// state variables of "The Double Ratchet Algorithm" rev 1 (Signal, 2016-11-20) §3.2, as held by
// ratchet/double-ratchet.ts. Integers are big-endian.
//
// | bytes        | field                                                                           |
// |-------------:|---------------------------------------------------------------------------------|
// |            1 | WIRE_VERSION (0x01)                                                             |
// |            1 | WireType.RatchetState (0x0b)                                                    |
// |        2 + a | AD: u16 length a ≤ limits.MAX_RATCHET_AD_BYTES, then a bytes                    |
// |           32 | RK                                                                              |
// |           32 | DHs private key                                                                 |
// |           32 | DHs public key (canonical X25519)                                               |
// |            1 | sending chain present: 0x00 or 0x01                                             |
// |   0 or 32+4  | if present: CKs, Ns (u32)                                                       |
// |            4 | PN (u32)                                                                        |
// |            1 | r: receiving chain count, 0 ≤ r ≤ limits.MAX_RECEIVER_CHAINS, newest first      |
// |  r × (68/72) | per chain: ratchet key (32, canonical X25519), CK (32), N (u32); every chain    |
// |              | but the first (the current one) then has its final length (u32), ≥ N            |
// |            2 | k: skipped key count (u16), 0 ≤ k ≤ limits.MAX_SKIPPED_KEYS, oldest first       |
// |       k × 68 | per key: ratchet key (32, canonical X25519), N (u32), message key (32)          |
//
// The decoder is strict: exact lengths, flags 0 or 1, no trailing bytes, and the invariants every
// state reachable through the transitions has (a responder without a sending chain has received
// nothing; receiving chains have distinct keys; skipped keys are distinct, and a skipped key of a
// retained chain lies below that chain's counter). It cannot check that the DHs public key matches
// the private key (that needs the asynchronous crypto provider); a corrupted pair fails closed at the
// next DH ratchet step, where the peer's AEAD check rejects the resulting chain.
import { ProtocolError } from '../errors.ts';
import { X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { toHex } from '../internal/bytes.ts';
import { MAX_COUNTER, MAX_RATCHET_AD_BYTES, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS } from '../limits.ts';
import { makeRatchetState, type ReceivingChain, type RatchetState, type SendingChain } from '../ratchet/double-ratchet.ts';
import { CHAIN_KEY_BYTES, ROOT_KEY_BYTES, type RootKey } from '../ratchet/root-chain.ts';
import type { ChainKey, MessageKey } from '../ratchet/chain-key.ts';
import { NO_SKIPPED_KEYS, type SkippedMessageKey } from '../ratchet/skipped-keys.ts';
import { isCanonicalX25519 } from './ratchet-message.ts';
import { WIRE_VERSION, WireType } from './version.ts';

const WHAT = 'ratchet state';
const MESSAGE_KEY_BYTES = 32; // HMAC-SHA-256 output (ratchet/chain-key.ts)

function invalid(why: string): ProtocolError {
  return new ProtocolError('ERR_WIRE_NON_CANONICAL', `${WHAT}: ${why}`);
}

function readRatchetKey(r: Reader, what: string): Uint8Array {
  const k = r.bytes(X25519_KEY_BYTES);
  if (!isCanonicalX25519(k)) throw invalid(`${what} is not a canonical X25519 key`);
  return k;
}

function readCounter(r: Reader, what: string): number {
  const v = r.u32();
  if (v > MAX_COUNTER) throw invalid(`${what}: expected at most ${MAX_COUNTER}, got ${v}`);
  return v;
}

export function encodeRatchetState(state: RatchetState): Uint8Array {
  const w = new Writer();
  w.u8(WIRE_VERSION).u8(WireType.RatchetState);
  if (state.associatedData.length > MAX_RATCHET_AD_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: associated data of at most ${MAX_RATCHET_AD_BYTES} bytes expected, got ${state.associatedData.length}`);
  }
  w.vec16(state.associatedData);
  w.bytes(state.rootKey).bytes(state.selfRatchetKey.privateKey).bytes(state.selfRatchetKey.publicKey);
  if (state.sending === null) w.u8(0);
  else w.u8(1).bytes(state.sending.chainKey).u32(state.sending.index);
  w.u32(state.previousCounter);
  if (state.receiving.length > MAX_RECEIVER_CHAINS) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: at most ${MAX_RECEIVER_CHAINS} receiving chains expected, got ${state.receiving.length}`);
  }
  w.u8(state.receiving.length);
  state.receiving.forEach((c, i) => {
    w.bytes(c.ratchetKey).bytes(c.chainKey).u32(c.index);
    if ((i === 0) !== (c.end === null)) {
      throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: receiving chain ${i} must ${i === 0 ? 'not ' : ''}have a final length`);
    }
    if (c.end !== null) w.u32(c.end);
  });
  if (state.skipped.length > MAX_SKIPPED_KEYS) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: at most ${MAX_SKIPPED_KEYS} skipped keys expected, got ${state.skipped.length}`);
  }
  w.u16(state.skipped.length);
  for (const k of state.skipped) w.bytes(k.ratchetKey).u32(k.index).bytes(k.messageKey);
  return w.finish();
}

export function decodeRatchetState(bytes: Uint8Array): RatchetState {
  const r = new Reader(bytes, WHAT);
  expectHeader(r, WireType.RatchetState, WHAT);
  const associatedData = r.vec16(0, MAX_RATCHET_AD_BYTES);
  const rootKey = r.bytes(ROOT_KEY_BYTES) as RootKey;
  const privateKey = r.bytes(X25519_KEY_BYTES);
  const publicKey = readRatchetKey(r, 'DHs public key');

  let sending: SendingChain | null = null;
  if (r.flag('sending chain')) {
    const chainKey = r.bytes(CHAIN_KEY_BYTES) as ChainKey;
    sending = { chainKey, index: readCounter(r, 'Ns') };
  }
  const previousCounter = readCounter(r, 'PN');

  const chainCount = r.u8();
  if (chainCount > MAX_RECEIVER_CHAINS) {
    throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `${WHAT}: receiving chain count ${chainCount} outside [0, ${MAX_RECEIVER_CHAINS}]`);
  }
  const receiving: ReceivingChain[] = [];
  const chainIndex = new Map<string, number>();
  for (let i = 0; i < chainCount; i++) {
    const ratchetKey = readRatchetKey(r, `receiving chain ${i} key`);
    const chainKey = r.bytes(CHAIN_KEY_BYTES) as ChainKey;
    const index = readCounter(r, `receiving chain ${i} N`);
    let end: number | null = null;
    if (i > 0) {
      end = r.u32();
      if (end < index) throw invalid(`receiving chain ${i}: final length ${end} below its counter ${index}`);
    }
    const id = toHex(ratchetKey);
    if (chainIndex.has(id)) throw invalid(`receiving chain ${i} repeats the key of an earlier chain`);
    chainIndex.set(id, index);
    receiving.push({ ratchetKey, chainKey, index, end });
  }

  const skippedCount = r.u16();
  if (skippedCount > MAX_SKIPPED_KEYS) {
    throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `${WHAT}: skipped key count ${skippedCount} outside [0, ${MAX_SKIPPED_KEYS}]`);
  }
  const skipped: SkippedMessageKey[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < skippedCount; i++) {
    const ratchetKey = readRatchetKey(r, `skipped key ${i} ratchet key`);
    const index = readCounter(r, `skipped key ${i} N`);
    const messageKey = r.bytes(MESSAGE_KEY_BYTES) as MessageKey;
    const id = toHex(ratchetKey);
    const chainNext = chainIndex.get(id);
    if (chainNext !== undefined && index >= chainNext) throw invalid(`skipped key ${i}: number ${index} not below its chain's counter ${chainNext}`);
    const key = `${id}:${index}`;
    if (seen.has(key)) throw invalid(`skipped key ${i} repeats an earlier entry`);
    seen.add(key);
    skipped.push({ ratchetKey, index, messageKey });
  }
  r.end();

  if (sending === null && (receiving.length > 0 || previousCounter !== 0 || skipped.length > 0)) {
    throw invalid('a state without a sending chain must not have received anything');
  }
  return makeRatchetState({
    associatedData,
    rootKey,
    selfRatchetKey: { privateKey, publicKey },
    sending,
    previousCounter,
    receiving,
    skipped: skipped.length === 0 ? NO_SKIPPED_KEYS : skipped,
  });
}
