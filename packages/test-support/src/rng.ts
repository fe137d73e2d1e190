// Randomness for tests: a seeded deterministic stream (SHA-256 in counter mode over a label), so two
// runs — or two crypto providers — see the same "random" bytes; and the system CSPRNG.
import { sha256 } from '@noble/hashes/sha2.js';
import { randomFillSync } from 'node:crypto';

export type Rng = (length: number) => Uint8Array;

export function seededRng(seed: string): Rng {
  const seedBytes = new TextEncoder().encode(seed);
  let counter = 0;
  let pool = new Uint8Array(0);
  return (length: number) => {
    while (pool.length < length) {
      const block = new Uint8Array(seedBytes.length + 4);
      block.set(seedBytes);
      new DataView(block.buffer).setUint32(seedBytes.length, counter++);
      const next = new Uint8Array(pool.length + 32);
      next.set(pool);
      next.set(sha256(block), pool.length);
      pool = next;
    }
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}

export const systemRng: Rng = (length) => randomFillSync(new Uint8Array(length));
