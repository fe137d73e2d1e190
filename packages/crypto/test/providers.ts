// Shared by the provider tests: the three providers, and a way to compare what they return or throw.
import assert from 'node:assert/strict';
import { isProtocolError, nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { nodeProvider } from '@sotto/crypto/node';
import { webCryptoProvider } from '@sotto/crypto/webcrypto';

/** The reference first: every other provider is compared with it. */
export const providers: readonly CryptoProvider[] = [nobleProvider, nodeProvider, webCryptoProvider];

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** What a call did, as comparable plain data: bytes become hex, a ProtocolError its code. */
export type Outcome = { value: unknown } | { error: string };

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    // Buffers would compare unequal to Uint8Arrays in deepEqual, and callers must get plain Uint8Arrays.
    assert.equal(Object.getPrototypeOf(v), Uint8Array.prototype, 'providers return plain Uint8Arrays, not Buffers');
    return hex(v);
  }
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

export async function outcome(f: () => unknown): Promise<Outcome> {
  try {
    return { value: plain(await f()) };
  } catch (e) {
    return { error: isProtocolError(e) ? e.code : `untyped ${e instanceof Error ? e.constructor.name : typeof e}` };
  }
}

/** Runs `f` with every provider and asserts that all outcomes equal the reference's; returns it. */
export async function agree(what: string, f: (p: CryptoProvider) => unknown): Promise<Outcome> {
  const [ref, ...others] = await Promise.all(providers.map((p) => outcome(() => f(p))));
  assert.ok(ref !== undefined);
  others.forEach((o, i) => {
    assert.deepEqual(o, ref, `${what}: ${providers[i + 1]?.name ?? '?'} differs from ${nobleProvider.name}`);
  });
  return ref;
}
