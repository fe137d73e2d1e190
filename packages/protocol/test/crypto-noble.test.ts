// The portable provider against published vectors (libsignal's X25519 agreement) and RFC checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors } from '@sotto/test-support';
import { nobleProvider, isProtocolError } from '@sotto/protocol';
import { fromHex, toHex } from '../src/internal/bytes.ts';

interface X25519Vector {
  alice_private: string;
  alice_public: string;
  bob_private: string;
  bob_public: string;
  shared: string;
}

const v = loadVectors<{ x25519_agreement: X25519Vector }>('signal/libsignal-test-vectors.json').x25519_agreement;

test('libsignal x25519_agreement: public keys and shared secret', async () => {
  const c = nobleProvider;
  assert.equal(toHex(await c.x25519PublicKey(fromHex(v.alice_private))), v.alice_public, 'alice public');
  assert.equal(toHex(await c.x25519PublicKey(fromHex(v.bob_private))), v.bob_public, 'bob public');
  assert.equal(toHex(await c.x25519(fromHex(v.alice_private), fromHex(v.bob_public))), v.shared, 'alice side');
  assert.equal(toHex(await c.x25519(fromHex(v.bob_private), fromHex(v.alice_public))), v.shared, 'bob side');
});

test('x25519 with a small-order public key is a typed error (RFC 7748 §6.1)', async () => {
  await assert.rejects(nobleProvider.x25519(fromHex(v.alice_private), new Uint8Array(32)), (e) => isProtocolError(e, 'ERR_CRYPTO_SMALL_ORDER'));
});
