// The WebCrypto provider on engines without WebCrypto X25519/Ed25519 (older browsers), or without
// SubtleCrypto at all: it must fall back to noble and still agree with the reference byte for byte.
// Each case loads a fresh instance of the module (the engine check is made once per instance) with a
// stand-in globalThis.crypto, restored afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { isProtocolError, nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { seededRng } from '@sotto/test-support';
import { hex } from './providers.ts';

type WebCryptoModule = typeof import('../src/webcrypto.ts');

async function withCrypto<T>(stand: unknown, tag: string, f: (p: CryptoProvider) => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: stand, configurable: true, writable: true });
  try {
    const mod = (await import(new URL(`../src/webcrypto.ts?${tag}`, import.meta.url).href)) as WebCryptoModule;
    return await f(mod.webCryptoProvider);
  } finally {
    if (original !== undefined) Object.defineProperty(globalThis, 'crypto', original);
  }
}

/** Node's WebCrypto with X25519 and Ed25519 removed, counting what it was asked for. */
function without25519(): { crypto: unknown; used: string[] } {
  const used: string[] = [];
  const subtle = webcrypto.subtle;
  const stub = new Proxy(subtle, {
    get(target, prop: string | symbol) {
      const real = Reflect.get(target, prop, target) as unknown;
      if (typeof real !== 'function') return real;
      return (...args: unknown[]): unknown => {
        const alg = args.find((a): a is { name: string } => typeof a === 'object' && a !== null && 'name' in a);
        const name = alg?.name ?? '';
        if (name === 'X25519' || name === 'Ed25519') return Promise.reject(new DOMException(`${name} unsupported here`, 'NotSupportedError'));
        used.push(`${String(prop)}:${name}`);
        return (real as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { crypto: { subtle: stub, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) }, used };
}

async function sameAsReference(p: CryptoProvider, label: string): Promise<void> {
  const rng = seededRng(`webcrypto-fallback/${label}`);
  const a = rng(32);
  const b = rng(32);
  const bPub = await nobleProvider.x25519PublicKey(b);
  assert.equal(hex(await p.x25519PublicKey(a)), hex(await nobleProvider.x25519PublicKey(a)), `${label}: x25519PublicKey`);
  assert.equal(hex(await p.x25519(a, bPub)), hex(await nobleProvider.x25519(a, bPub)), `${label}: x25519`);
  await assert.rejects(p.x25519(a, new Uint8Array(32)), (e) => isProtocolError(e, 'ERR_CRYPTO_SMALL_ORDER'), `${label}: small order`);
  const msg = rng(50);
  const pk = await p.ed25519PublicKey(a);
  const sig = await p.ed25519Sign(a, msg);
  assert.equal(hex(pk), hex(await nobleProvider.ed25519PublicKey(a)), `${label}: ed25519PublicKey`);
  assert.equal(hex(sig), hex(await nobleProvider.ed25519Sign(a, msg)), `${label}: ed25519Sign`);
  assert.equal(await p.ed25519Verify(pk, msg, sig), true, `${label}: verify`);
  assert.equal(await p.ed25519Verify(pk, rng(50), sig), false, `${label}: verify, other message`);
  const key = rng(32);
  const nonce = rng(12);
  const big = rng(5000); // above AEAD_WEBCRYPTO_MIN_BYTES
  const ad = rng(3);
  const sealed = await p.aeadSeal('aes-256-gcm', key, nonce, big, ad);
  assert.equal(hex(sealed), hex(await nobleProvider.aeadSeal('aes-256-gcm', key, nonce, big, ad)), `${label}: large AES-GCM seal`);
  assert.equal(hex((await p.aeadOpen('aes-256-gcm', key, nonce, sealed, ad)) ?? new Uint8Array(0)), hex(big), `${label}: large AES-GCM open`);
  sealed[0] = (sealed[0] ?? 0) ^ 1;
  assert.equal(await p.aeadOpen('aes-256-gcm', key, nonce, sealed, ad), null, `${label}: large AES-GCM, tampered`);
}

test('without WebCrypto X25519/Ed25519: falls back to noble for them, byte for byte', async () => {
  const { crypto, used } = without25519();
  await withCrypto(crypto, 'no-25519', (p) => sameAsReference(p, 'no-25519'));
  assert.ok(!used.some((u) => u.includes('25519')), 'no X25519/Ed25519 call reached the engine');
  assert.ok(used.includes('encrypt:AES-GCM'), 'large AES-GCM still went to WebCrypto');
});

test('without SubtleCrypto (a browser page on plain http): everything runs on noble, byte for byte', async () => {
  // getRandomValues stays: noble itself needs it (it blinds secret scalar multiplications).
  const stand = { getRandomValues: webcrypto.getRandomValues.bind(webcrypto) };
  await withCrypto(stand, 'no-subtle', (p) => sameAsReference(p, 'no-subtle'));
});
