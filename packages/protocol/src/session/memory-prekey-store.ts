// An in-memory ResponderPrekeyStore: the reference implementation of the store contract
// (docs/protocol/08-sessions.md §8.5), for tests, the demo, and as a model for persistent stores.
// Mutable by design: it is an injected edge (STYLE.md §8), not protocol state.
import { toHex } from '../internal/bytes.ts';
import { LAST_RESORT_MAX_RECORDED_USES } from '../limits.ts';
import type { KemPrekeyPrivate, OneTimePrekeyPrivate, SignedPrekeyPrivate } from '../keys/prekeys.ts';
import type { PrekeyUse, ResponderPrekeyStore } from './session.ts';

export class MemoryPrekeyStore implements ResponderPrekeyStore {
  readonly #signed = new Map<number, SignedPrekeyPrivate>();
  readonly #oneTime = new Map<number, OneTimePrekeyPrivate>();
  readonly #kem = new Map<number, KemPrekeyPrivate>();
  /** The replay record: "kemPrekeyId:hex(baseKey)" for every accepted use of a last-resort KEM prekey. */
  readonly #lastResortUses = new Set<string>();

  addSignedPrekey(k: SignedPrekeyPrivate): void {
    this.#signed.set(k.id, k);
  }

  addOneTimePrekeys(ks: readonly OneTimePrekeyPrivate[]): void {
    for (const k of ks) this.#oneTime.set(k.id, k);
  }

  addKemPrekeys(ks: readonly KemPrekeyPrivate[]): void {
    for (const k of ks) this.#kem.set(k.id, k);
  }

  /** Deletes a prekey (e.g. a signed or last-resort prekey past its grace period), and a last-resort key's replay record. */
  removeSignedPrekey(id: number): void {
    this.#signed.delete(id);
  }

  removeKemPrekey(id: number): void {
    this.#kem.delete(id);
    for (const entry of [...this.#lastResortUses]) if (entry.startsWith(`${id}:`)) this.#lastResortUses.delete(entry);
  }

  signedPrekey(id: number): SignedPrekeyPrivate | undefined {
    return this.#signed.get(id);
  }

  oneTimePrekey(id: number): OneTimePrekeyPrivate | undefined {
    return this.#oneTime.get(id);
  }

  kemPrekey(id: number): KemPrekeyPrivate | undefined {
    return this.#kem.get(id);
  }

  consume(use: PrekeyUse): boolean {
    // Check everything first, then change everything: all or nothing.
    const entry = `${use.kemPrekeyId}:${toHex(use.baseKey)}`;
    if (use.oneTimePrekeyId !== undefined && !this.#oneTime.has(use.oneTimePrekeyId)) return false;
    const kem = this.#kem.get(use.kemPrekeyId);
    if (kem === undefined || kem.lastResort !== use.kemPrekeyLastResort) return false;
    if (use.kemPrekeyLastResort && this.#lastResortUses.has(entry)) return false;
    if (use.oneTimePrekeyId !== undefined) this.#oneTime.delete(use.oneTimePrekeyId);
    if (use.kemPrekeyLastResort) this.#lastResortUses.add(entry);
    else this.#kem.delete(use.kemPrekeyId);
    return true;
  }

  /** A canonical description of the whole store (ids, flags and replay record; no secrets), to compare states in tests. */
  snapshot(): string {
    const ids = (m: Map<number, unknown>): number[] => [...m.keys()].sort((a, b) => a - b);
    return JSON.stringify({
      signed: ids(this.#signed),
      oneTime: ids(this.#oneTime),
      kem: [...this.#kem.values()].map((k) => `${k.id}${k.lastResort ? 'L' : ''}`).sort(),
      lastResortUses: [...this.#lastResortUses].sort(),
    });
  }

  /** How many last-resort uses are recorded. */
  get replayRecordSize(): number {
    return this.#lastResortUses.size;
  }

  /** True once the replay record reaches LAST_RESORT_MAX_RECORDED_USES: time to rotate the
   *  last-resort KEM prekey (docs/protocol/08 §8.5). */
  get lastResortNeedsRotation(): boolean {
    return this.#lastResortUses.size >= LAST_RESORT_MAX_RECORDED_USES;
  }

  toString(): string {
    return '[MemoryPrekeyStore: redacted]';
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

