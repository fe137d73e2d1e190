// Device authentication state (docs/protocol/09 §9.4), in memory only: pending challenges (each
// accepted once, within its lifetime) and live bearer tokens, kept as SHA-256(token) so that a
// memory dump does not hand out sessions. A restart forgets both: every device authenticates again.
import type { CryptoProvider } from '@sotto/protocol';
import { MAX_LIVE_TOKENS, MAX_PENDING_CHALLENGES } from '../limits.ts';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export interface TokenOwner {
  readonly username: string;
  readonly deviceId: number;
  readonly expiresAt: number;
}

export class Credentials {
  readonly #crypto: CryptoProvider;
  readonly #challenges = new Map<string, number>(); // hex(challenge) → expiresAt
  readonly #tokens = new Map<string, TokenOwner>(); // hex(SHA-256(token)) → owner

  constructor(crypto: CryptoProvider) {
    this.#crypto = crypto;
  }

  /** Remembers a challenge; false when too many are pending (the caller answers 503). */
  addChallenge(challenge: Uint8Array, expiresAt: number, now: number): boolean {
    if (this.#challenges.size >= MAX_PENDING_CHALLENGES) this.prune(now);
    if (this.#challenges.size >= MAX_PENDING_CHALLENGES) return false;
    this.#challenges.set(hex(challenge), expiresAt);
    return true;
  }

  /** Removes the challenge (whatever happens next, it is used up) and says whether it was live. */
  consumeChallenge(challenge: Uint8Array, now: number): boolean {
    const key = hex(challenge);
    const expiresAt = this.#challenges.get(key);
    this.#challenges.delete(key);
    return expiresAt !== undefined && now < expiresAt;
  }

  addToken(token: Uint8Array, owner: TokenOwner, now: number): void {
    if (this.#tokens.size >= MAX_LIVE_TOKENS) this.prune(now);
    if (this.#tokens.size >= MAX_LIVE_TOKENS) {
      const oldest = this.#tokens.keys().next();
      if (oldest.done !== true) this.#tokens.delete(oldest.value);
    }
    this.#tokens.set(hex(this.#crypto.sha256(token)), owner);
  }

  /** The owner of a live token, or undefined (unknown or expired). */
  tokenOwner(token: Uint8Array, now: number): TokenOwner | undefined {
    const key = hex(this.#crypto.sha256(token));
    const owner = this.#tokens.get(key);
    if (owner === undefined) return undefined;
    if (now >= owner.expiresAt) {
      this.#tokens.delete(key);
      return undefined;
    }
    return owner;
  }

  /** Forgets expired challenges and tokens. */
  prune(now: number): void {
    for (const [k, expiresAt] of this.#challenges) if (now >= expiresAt) this.#challenges.delete(k);
    for (const [k, owner] of this.#tokens) if (now >= owner.expiresAt) this.#tokens.delete(k);
  }

  clear(): void {
    this.#challenges.clear();
    this.#tokens.clear();
  }
}
