// Accounts by canonical username for the per-message checks (docs/protocol/09 §9.7: a sealed send's
// access key is checked against the recipient account's SHA-256(accessKey) on every send). An
// account never changes once created — no route updates or deletes one, in this process or another
// — so a copy read once stays right, and a send needs no store read for it. Unknown names are not
// remembered (a registration may create them at any moment). Bounded: the oldest entry goes first.
import type { Account, Store } from '@sotto/store';
import { MAX_CACHED_ACCOUNTS } from '../limits.ts';

export class AccountCache {
  readonly #store: Store;
  readonly #max: number;
  readonly #accounts = new Map<string, Account>();

  constructor(store: Store, max = MAX_CACHED_ACCOUNTS) {
    this.#store = store;
    this.#max = max;
  }

  /** The account if it is in memory (no store read), else undefined: lets a caller skip an await. */
  cached(username: string): Account | undefined {
    return this.#accounts.get(username);
  }

  /** The account, or null when the store has none with this name. */
  async get(username: string): Promise<Account | null> {
    const known = this.#accounts.get(username);
    if (known !== undefined) return known;
    const account = await this.#store.getAccount(username);
    if (account !== null) {
      if (this.#accounts.size >= this.#max) {
        const oldest = this.#accounts.keys().next();
        if (oldest.done !== true) this.#accounts.delete(oldest.value);
      }
      this.#accounts.set(username, account);
    }
    return account;
  }

  clear(): void {
    this.#accounts.clear();
  }
}
