// The platform CSPRNG as the `(n) => bytes` random source every package here takes (docs/protocol.md §1.4).
import { webcrypto } from 'node:crypto';

export const systemRng = (n: number): Uint8Array => webcrypto.getRandomValues(new Uint8Array(n));
