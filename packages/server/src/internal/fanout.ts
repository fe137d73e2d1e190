// In-process fan-out of "something happened for this device" (DESIGN.md "Server": several processes
// would fan out through NATS; one process needs only this). A live WebSocket subscribes for its device;
// an enqueue wakes it. A wake may carry the message just stored (after its commit): a connection that
// is caught up pushes it without reading the store; any other connection pulls from the store itself.
// That shortcut relies on every enqueue of this process waking, in seq order per device: the store
// resolves one device's enqueues in seq order (MessageQueue.enqueue) and the send route wakes right
// after its enqueue resolves — a fan-out that can lose or reorder wakes (NATS) must wake without a
// message, and the connection then always reads the store.
import type { OneTimePrekeyCounts, QueuedMessage } from '@sotto/store';

export interface DeviceListener {
  /** New messages may be in the queue; `stored` is the one just enqueued, when the waker knows it. */
  wake(stored?: QueuedMessage): void;
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

  wake(key: string, stored?: QueuedMessage): void {
    for (const l of this.#listeners.get(key) ?? []) l.wake(stored);
  }

  prekeysLow(key: string, counts: OneTimePrekeyCounts): void {
    for (const l of this.#listeners.get(key) ?? []) l.prekeysLow(counts);
  }
}
