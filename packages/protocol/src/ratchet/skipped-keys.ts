// Skipped message keys: MKSKIPPED of "The Double Ratchet Algorithm" rev 1 (Signal, 2016-11-20),
// §3.2 and §3.5 (TrySkippedMessageKeys / SkipMessageKeys), with the bounds of §6.4 ("deleting
// skipped message keys"); docs/protocol/05-double-ratchet.md §5.6.
//
// The store is an immutable array ordered oldest first: adding returns a new array (dropping the
// oldest entries beyond limits.MAX_SKIPPED_KEYS), and using a key returns a new array without it,
// so the key is gone from every state derived afterwards (spec §3.5: "deletes the message key").
// In-order traffic never touches the store, so its cost (one array copy of at most
// MAX_SKIPPED_KEYS references) is paid only by out-of-order messages.
import { MAX_SKIPPED_KEYS } from '../limits.ts';
import type { MessageKey } from './chain-key.ts';

/** One stored key of MKSKIPPED, indexed by (ratchet public key, message number) as in spec §3.2. */
export interface SkippedMessageKey {
  /** The sender's ratchet public key of the chain the message belongs to (header.dh). */
  readonly ratchetKey: Uint8Array;
  /** Message number N within that chain. */
  readonly index: number;
  readonly messageKey: MessageKey;
}

export type SkippedKeys = readonly SkippedMessageKey[];

export const NO_SKIPPED_KEYS: SkippedKeys = Object.freeze([]);

/** Equality of two public ratchet keys. Public data, so an early exit leaks nothing. */
export function sameRatchetKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Position of the key for (ratchetKey, index), or -1 (spec §3.5 `(header.dh, header.n) in MKSKIPPED`). */
export function findSkipped(store: SkippedKeys, ratchetKey: Uint8Array, index: number): number {
  for (let i = store.length - 1; i >= 0; i--) {
    const e = store[i];
    if (e !== undefined && e.index === index && sameRatchetKey(e.ratchetKey, ratchetKey)) return i;
  }
  return -1;
}

/** The store without entry `position` (spec §3.5 `del state.MKSKIPPED[header.dh, header.n]`). */
export function removeSkipped(store: SkippedKeys, position: number): SkippedKeys {
  if (store.length === 1) return NO_SKIPPED_KEYS;
  const out = store.slice();
  out.splice(position, 1);
  return out;
}

/** The store with `added` appended (newest last), keeping at most MAX_SKIPPED_KEYS: oldest dropped first. */
export function addSkipped(store: SkippedKeys, added: readonly SkippedMessageKey[]): SkippedKeys {
  if (added.length === 0) return store;
  const all = store.length === 0 ? added : store.concat(added);
  return all.length > MAX_SKIPPED_KEYS ? all.slice(all.length - MAX_SKIPPED_KEYS) : all;
}
