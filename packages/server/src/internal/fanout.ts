// In-process fan-out of "something happened for this device" (DESIGN.md "Server": several processes
// would fan out through NATS; one process needs only this). A live WebSocket subscribes for its device;
// an enqueue wakes it, and it pulls the new messages from the store itself — so a wake carries no
// message and a lost wake costs nothing that the next one does not repair.
import type { OneTimePrekeyCounts } from '@sotto/store';

export interface DeviceListener {
  /** New messages may be in the queue. */
  wake(): void;
  /** The device's one-time prekeys fell below the low-water mark (§9.5). */
  prekeysLow(counts: OneTimePrekeyCounts): void;
}

export const deviceKey = (username: string, deviceId: number): string => `${deviceId}:${username}`;

export class Fanout {
  readonly #listeners = new Map<string, Set<DeviceListener>>();

  subscribe(key: string, listener: DeviceListener): () => void {
    let set = this.#listeners.get(key);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const s = this.#listeners.get(key);
      s?.delete(listener);
      if (s?.size === 0) this.#listeners.delete(key);
    };
  }

  wake(key: string): void {
    for (const l of this.#listeners.get(key) ?? []) l.wake();
  }

  prekeysLow(key: string, counts: OneTimePrekeyCounts): void {
    for (const l of this.#listeners.get(key) ?? []) l.prekeysLow(counts);
  }
}
