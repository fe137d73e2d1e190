// HPKE (RFC 9180) beyond the published vectors: round trips in every mode and AEAD, every input that
// must match does (key, info, aad, psk, psk_id, sender key, enc, ciphertext), failed opens leave the
// context usable, the RFC's PSK input rules, export agreement and redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import { isProtocolError, nobleProvider, type ProtocolErrorCode } from '@sotto/protocol';
import { toHex } from '../src/internal/bytes.ts';
import {
  HpkeKeyPair,
  hpkeOpen,
  hpkeReceiveExport,
  hpkeSeal,
  hpkeSendExport,
  setupHpkeRecipient,
  setupHpkeSender,
  type HpkeRecipientAuth,
  type HpkeSenderAuth,
} from '../src/hpke/hpke.ts';
import type { HpkeAead, HpkeModeName } from '../src/hpke/suite.ts';
import { hkdfExpand, hkdfExtract } from '../src/hpke/hkdf.ts';

const crypto = nobleProvider;
const rng = seededRng('hpke-properties');
const corpus = corpusAt(new URL('corpus/', import.meta.url));
const recipient = await HpkeKeyPair.generate(crypto, rng);
const other = await HpkeKeyPair.generate(crypto, rng);
const sender = await HpkeKeyPair.generate(crypto, rng);
const psk = rng(32);
const pskId = rng(8);
const AEADS: readonly HpkeAead[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const MODES: readonly HpkeModeName[] = ['base', 'psk', 'auth', 'auth_psk'];

function senderAuth(mode: HpkeModeName, s = sender, p = psk, id = pskId): HpkeSenderAuth {
  switch (mode) {
    case 'base':
      return { mode };
    case 'psk':
      return { mode, psk: p, pskId: id };
    case 'auth':
      return { mode, senderPrivateKey: s.exportPrivateKey() };
    case 'auth_psk':
      return { mode, psk: p, pskId: id, senderPrivateKey: s.exportPrivateKey() };
  }
}
function recipientAuth(mode: HpkeModeName, s = sender.publicKey, p = psk, id = pskId): HpkeRecipientAuth {
  switch (mode) {
    case 'base':
      return { mode };
    case 'psk':
      return { mode, psk: p, pskId: id };
    case 'auth':
      return { mode, senderPublicKey: s };
    case 'auth_psk':
      return { mode, psk: p, pskId: id, senderPublicKey: s };
  }
}

function rejects(code: ProtocolErrorCode, what: string) {
  return (e: unknown): boolean => {
    assert.ok(isProtocolError(e, code), `${what}: expected ${code}, got ${String(e)}`);
    return true;
  };
}

test('HKDF from HMAC agrees with the provider\'s combined HKDF (RFC 5869)', async () => {
  await corpus.check(
    'hpke-hkdf-matches-provider',
    fc.tuple(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 1, max: 255 * 32 })),
    ([ikm, salt, info, len]) => {
      assert.equal(toHex(hkdfExpand(crypto, hkdfExtract(crypto, salt, ikm), info, len)), toHex(crypto.hkdfSha256(ikm, salt, info, len)));
    },
    { numRuns: 200 },
  );
  assert.throws(() => hkdfExpand(crypto, new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
});

test('property: single-shot seal/open round trips in every mode and AEAD', async () => {
  await corpus.check(
    'hpke-seal-open-roundtrip',
    fc.tuple(fc.constantFrom(...AEADS), fc.constantFrom(...MODES), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 })),
    async ([aead, mode, pt, aad, info]) => {
      const { enc, ciphertext } = await hpkeSeal(crypto, rng, { aead, recipientPublicKey: recipient.publicKey, info, auth: senderAuth(mode) }, aad, pt);
      assert.equal(ciphertext.length, pt.length + 16);
      const opened = await hpkeOpen(crypto, enc, { aead, recipientPrivateKey: recipient.exportPrivateKey(), info, auth: recipientAuth(mode) }, aad, ciphertext);
      assert.equal(toHex(opened), toHex(pt), `${aead} ${mode}`);
    },
    { numRuns: 40 },
  );
});

test('every input that must match is checked: a change anywhere is ERR_HPKE_OPEN_FAILED', async () => {
  const info = Uint8Array.of(1, 2, 3);
  const aad = Uint8Array.of(9);
  const pt = Uint8Array.of(4, 5, 6);
  for (const aead of AEADS) {
    for (const mode of MODES) {
      const name = `${aead} ${mode}`;
      const { enc, ciphertext } = await hpkeSeal(crypto, rng, { aead, recipientPublicKey: recipient.publicKey, info, auth: senderAuth(mode) }, aad, pt);
      const params = { aead, recipientPrivateKey: recipient.exportPrivateKey(), info, auth: recipientAuth(mode) };
      assert.equal(toHex(await hpkeOpen(crypto, enc, params, aad, ciphertext)), toHex(pt), `${name}: control`);
      const flipped = (b: Uint8Array, i = 0): Uint8Array => {
        const c = b.slice();
        c[i] = (c[i] ?? 0) ^ 1;
        return c;
      };
      const wrong: [string, Promise<Uint8Array>][] = [
        ['other recipient key', hpkeOpen(crypto, enc, { ...params, recipientPrivateKey: other.exportPrivateKey() }, aad, ciphertext)],
        ['info', hpkeOpen(crypto, enc, { ...params, info: Uint8Array.of(1, 2) }, aad, ciphertext)],
        ['aad', hpkeOpen(crypto, enc, params, Uint8Array.of(8), ciphertext)],
        ['ciphertext', hpkeOpen(crypto, enc, params, aad, flipped(ciphertext))],
        ['tag', hpkeOpen(crypto, enc, params, aad, flipped(ciphertext, ciphertext.length - 1))],
        ['enc', hpkeOpen(crypto, flipped(enc, 5), params, aad, ciphertext)],
        ['other aead', hpkeOpen(crypto, enc, { ...params, aead: aead === 'chacha20-poly1305' ? 'aes-256-gcm' : 'chacha20-poly1305' }, aad, ciphertext)],
      ];
      if (mode === 'psk' || mode === 'auth_psk') {
        const otherPsk = psk.slice();
        otherPsk[0] = (otherPsk[0] ?? 0) ^ 1;
        wrong.push(['psk', hpkeOpen(crypto, enc, { ...params, auth: recipientAuth(mode, sender.publicKey, otherPsk) }, aad, ciphertext)]);
        wrong.push(['psk_id', hpkeOpen(crypto, enc, { ...params, auth: recipientAuth(mode, sender.publicKey, psk, Uint8Array.of(1)) }, aad, ciphertext)]);
      }
      if (mode === 'auth' || mode === 'auth_psk') {
        wrong.push(['sender key', hpkeOpen(crypto, enc, { ...params, auth: recipientAuth(mode, other.publicKey) }, aad, ciphertext)]);
      }
      for (const [what, p] of wrong) await assert.rejects(p, rejects('ERR_HPKE_OPEN_FAILED', `${name}: wrong ${what}`));
    }
  }
});

test('a failed open leaves the recipient context at the same sequence number, still usable', async () => {
  const { enc, context } = await setupHpkeSender(crypto, rng, { aead: 'aes-256-gcm', recipientPublicKey: recipient.publicKey, info: new Uint8Array(0), auth: { mode: 'base' } });
  const m0 = await context.seal(crypto, new Uint8Array(0), Uint8Array.of(0));
  const m1 = await m0.context.seal(crypto, new Uint8Array(0), Uint8Array.of(1));
  assert.equal(context.sequence, 0, 'sealing does not mutate the context');
  const r0 = await setupHpkeRecipient(crypto, enc, { aead: 'aes-256-gcm', recipientPrivateKey: recipient.exportPrivateKey(), info: new Uint8Array(0), auth: { mode: 'base' } });
  await assert.rejects(r0.open(crypto, new Uint8Array(0), m1.ciphertext), rejects('ERR_HPKE_OPEN_FAILED', 'out of order'));
  assert.equal(r0.sequence, 0);
  const o0 = await r0.open(crypto, new Uint8Array(0), m0.ciphertext);
  const o1 = await o0.context.open(crypto, new Uint8Array(0), m1.ciphertext);
  assert.deepEqual([o0.plaintext[0], o1.plaintext[0], o1.context.sequence], [0, 1, 2]);
});

test('secret export agrees on both sides and depends on the exporter context', async () => {
  for (const mode of MODES) {
    const info = Uint8Array.of(7);
    const { enc, secret } = await hpkeSendExport(crypto, rng, { aead: 'chacha20-poly1305', recipientPublicKey: recipient.publicKey, info, auth: senderAuth(mode) }, Uint8Array.of(1), 42);
    const params = { aead: 'chacha20-poly1305', recipientPrivateKey: recipient.exportPrivateKey(), recipientPublicKey: recipient.publicKey, info, auth: recipientAuth(mode) } as const;
    assert.equal(secret.length, 42);
    assert.equal(toHex(await hpkeReceiveExport(crypto, enc, params, Uint8Array.of(1), 42)), toHex(secret), `${mode}: agreement`);
    assert.notEqual(toHex(await hpkeReceiveExport(crypto, enc, params, Uint8Array.of(2), 42)), toHex(secret), `${mode}: context matters`);
    await assert.rejects(hpkeReceiveExport(crypto, enc, params, new Uint8Array(0), 255 * 32 + 1), rejects('ERR_ARGUMENT', 'L > 255*Nh'));
  }
});

test('RFC 9180 §5.1 PSK input rules, and short PSKs, are refused as caller errors', async () => {
  const base = { aead: 'aes-128-gcm', recipientPublicKey: recipient.publicKey, info: new Uint8Array(0) } as const;
  const bad: [string, HpkeSenderAuth][] = [
    ['psk mode with an empty psk', { mode: 'psk', psk: new Uint8Array(0), pskId: pskId }],
    ['psk mode with an empty psk_id', { mode: 'psk', psk, pskId: new Uint8Array(0) }],
    ['psk mode with neither', { mode: 'psk', psk: new Uint8Array(0), pskId: new Uint8Array(0) }],
    ['a 31-byte psk', { mode: 'auth_psk', psk: psk.subarray(0, 31), pskId, senderPrivateKey: sender.exportPrivateKey() }],
  ];
  for (const [what, auth] of bad) await assert.rejects(setupHpkeSender(crypto, rng, { ...base, auth }), rejects('ERR_ARGUMENT', what));
});

test('malformed keys are typed errors; a small-order enc is ERR_CRYPTO_SMALL_ORDER', async () => {
  const params = { aead: 'aes-128-gcm', recipientPrivateKey: recipient.exportPrivateKey(), info: new Uint8Array(0), auth: { mode: 'base' } } as const;
  await assert.rejects(setupHpkeRecipient(crypto, new Uint8Array(31), params), rejects('ERR_KEY_INVALID', 'short enc'));
  await assert.rejects(setupHpkeRecipient(crypto, new Uint8Array(32), params), rejects('ERR_CRYPTO_SMALL_ORDER', 'zero enc'));
  await assert.rejects(
    setupHpkeSender(crypto, rng, { aead: 'aes-128-gcm', recipientPublicKey: new Uint8Array(33), info: new Uint8Array(0), auth: { mode: 'base' } }),
    rejects('ERR_KEY_INVALID', 'long recipient key'),
  );
  await assert.rejects(
    setupHpkeSender(crypto, rng, { aead: 'aes-128-gcm', recipientPublicKey: new Uint8Array(32), info: new Uint8Array(0), auth: { mode: 'base' } }),
    rejects('ERR_CRYPTO_SMALL_ORDER', 'zero recipient key'),
  );
});

test('HPKE key pairs and contexts never print their secrets', async () => {
  const kp = await HpkeKeyPair.derive(crypto, new Uint8Array(32).fill(0x11));
  const { enc, context } = await setupHpkeSender(crypto, rng, { aead: 'aes-128-gcm', recipientPublicKey: kp.publicKey, info: new Uint8Array(0), auth: { mode: 'base' } });
  const r = await setupHpkeRecipient(crypto, enc, { aead: 'aes-128-gcm', recipientPrivateKey: kp.exportPrivateKey(), info: new Uint8Array(0), auth: { mode: 'base' } });
  const secretHex = toHex(kp.exportPrivateKey());
  for (const [obj, marker] of [[kp, '[HpkeKeyPair: redacted]'], [context, '[HpkeSenderContext: redacted]'], [r, '[HpkeRecipientContext: redacted]']] as const) {
    for (const shown of [String(obj), JSON.stringify(obj), inspect(obj, { showHidden: true, depth: 5 })]) {
      assert.ok(shown.includes(marker), `expected ${marker}, got: ${shown}`);
      assert.ok(!shown.includes(secretHex), 'private key leaked');
    }
  }
});
