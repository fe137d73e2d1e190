// The ratchet KDFs against published data (STYLE.md §11) and against an independent HKDF.
//
// What the published vector proves: libsignal's double_ratchet_chain_key case (keys.rs
// test_chain_key_derivation) checks KDF_CK byte for byte — Sotto's chain-key.ts IS that function
// (HMAC-SHA-256 with 0x01 / 0x02) — and checks the message-key shape HKDF-SHA-256(salt = none,
// ikm = seed, info, L) through the provider Sotto uses for its own message keys.
// What it cannot prove: Sotto's own labels and lengths ("Sotto v1 root ratchet" for KDF_RK, "Sotto v1
// message keys" with HKDF-Expand, L = 32, for the AES-256-GCM key, and a zero nonce). Those are
// Sotto's by design, so no outside vector exists; they are cross-checked below against @noble/hashes'
// HKDF (Extract/Expand) called directly,
// between the two providers, and by the round trips of the other ratchet tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { loadVectors, seededRng } from '@sotto/test-support';
import { fastProvider } from '@sotto/crypto';
import { nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { concatBytes, fromHex, fromUtf8, toHex, u32be, utf8 } from '../src/internal/bytes.ts';
import { kdfCk, messageKeyOf, nextChainKey, type ChainKey, type MessageKey } from '../src/ratchet/chain-key.ts';
import { kdfRk, ROOT_KDF_INFO, type RootKey } from '../src/ratchet/root-chain.ts';
import { deriveMessageAeadKeys, MESSAGE_KEYS_INFO } from '../src/ratchet/message-keys.ts';
import { initRatchetAsInitiator, initRatchetAsResponder, ratchetDecrypt, ratchetEncrypt } from '../src/ratchet/double-ratchet.ts';
import { sessionPair } from './ratchet-harness.ts';

interface ChainKeyVector {
  chain_key: string;
  next_chain_key: string;
  message_cipher_key: string;
  message_mac_key: string;
  source: string;
}

const vector = loadVectors<{ double_ratchet_chain_key: ChainKeyVector }>('signal/libsignal-test-vectors.json').double_ratchet_chain_key;
const providers: readonly CryptoProvider[] = [nobleProvider, fastProvider];

/** libsignal keys.rs MessageKeys::derive_keys: its label and length, not Sotto's. */
const LIBSIGNAL_MESSAGE_KEYS_INFO = utf8('WhisperMessageKeys');
const LIBSIGNAL_MESSAGE_KEYS_BYTES = 80;

for (const crypto of providers) {
  test(`libsignal double_ratchet_chain_key (${vector.source}): next chain key via KDF_CK [${crypto.name}]`, () => {
    const ck = fromHex(vector.chain_key) as ChainKey;
    assert.equal(toHex(nextChainKey(crypto, ck)), vector.next_chain_key, 'double_ratchet_chain_key: next_chain_key');
    assert.equal(toHex(kdfCk(crypto, ck).chainKey), vector.next_chain_key, 'double_ratchet_chain_key: kdfCk().chainKey');
  });

  test(`libsignal double_ratchet_chain_key: message key seed → cipher and MAC keys via HKDF "WhisperMessageKeys" [${crypto.name}]`, () => {
    const ck = fromHex(vector.chain_key) as ChainKey;
    const seed = messageKeyOf(crypto, ck);
    assert.deepEqual(kdfCk(crypto, ck).messageKey, seed, 'kdfCk().messageKey is HMAC(ck, 0x01)');
    const okm = crypto.hkdfSha256(seed, new Uint8Array(0), LIBSIGNAL_MESSAGE_KEYS_INFO, LIBSIGNAL_MESSAGE_KEYS_BYTES);
    assert.equal(toHex(okm.subarray(0, 32)), vector.message_cipher_key, 'double_ratchet_chain_key: message_cipher_key');
    assert.equal(toHex(okm.subarray(32, 64)), vector.message_mac_key, 'double_ratchet_chain_key: message_mac_key');
  });

  test(`Sotto's own labels: KDF_RK and the message AEAD keys equal @noble/hashes HKDF called directly [${crypto.name}]`, () => {
    const rng = seededRng('ratchet-vectors/own-labels');
    for (let i = 0; i < 8; i++) {
      const rk = rng(32) as RootKey;
      const dh = rng(32);
      const expected = hkdf(sha256, dh, rk, utf8('Sotto v1 root ratchet'), 64);
      const got = kdfRk(crypto, rk, dh);
      assert.equal(toHex(got.rootKey), toHex(expected.subarray(0, 32)), `case ${i}: KDF_RK root key`);
      assert.equal(toHex(got.chainKey), toHex(expected.subarray(32)), `case ${i}: KDF_RK chain key`);
      assert.deepEqual(ROOT_KDF_INFO, utf8('Sotto v1 root ratchet'));

      const mk = rng(32) as MessageKey;
      const expectedKey = expand(sha256, mk, utf8('Sotto v1 message keys'), 32); // RFC 5869 §3.3: Expand only
      const { key, nonce } = deriveMessageAeadKeys(crypto, mk);
      assert.equal(toHex(key), toHex(expectedKey), `case ${i}: AEAD key`);
      assert.equal(toHex(nonce), '00'.repeat(12), `case ${i}: AEAD nonce`);
      assert.deepEqual(MESSAGE_KEYS_INFO, utf8('Sotto v1 message keys'));
    }
  });
}

test('both providers produce the same transcript from the same seeded randomness', async () => {
  const transcripts: string[][] = [];
  for (const crypto of providers) {
    const rng = seededRng('ratchet-vectors/transcript');
    let { alice, bob } = await sessionPair(crypto, rng);
    const out: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        const e = await ratchetEncrypt(crypto, rng, alice, utf8(`a${round}.${i}`));
        alice = e.state;
        out.push(toHex(e.message));
        bob = (await ratchetDecrypt(crypto, rng, bob, e.message)).state;
      }
      const e = await ratchetEncrypt(crypto, rng, bob, utf8(`b${round}`));
      bob = e.state;
      out.push(toHex(e.message));
      alice = (await ratchetDecrypt(crypto, rng, alice, e.message)).state;
    }
    transcripts.push(out);
  }
  assert.equal(transcripts.length, 2);
  assert.deepEqual(transcripts[1], transcripts[0], 'noble and fast providers disagree on the ratchet transcript');
});

/** DR §3.3–§3.5 and docs/protocol/05-double-ratchet.md §5.3–§5.7 written out with @noble primitives
 *  directly, sharing no code with src/ratchet: the first message each way must match byte for byte. */
test('the first message each way, re-derived independently from the chapter 5 text, matches byte for byte', async () => {
  const rng = seededRng('ratchet-vectors/independent');
  const sk = rng(32);
  const ad = rng(66);
  const bobSpkPriv = rng(32);
  const bobSpk = x25519.getPublicKey(bobSpkPriv);
  const drawn: Uint8Array[] = [];
  const recording = (n: number): Uint8Array => {
    const b = rng(n);
    drawn.push(b.slice());
    return b;
  };
  for (const crypto of providers) {
    drawn.length = 0;
    let alice = await initRatchetAsInitiator(crypto, recording, { sharedSecret: sk, peerRatchetPublicKey: bobSpk, associatedData: ad });
    let bob = initRatchetAsResponder({ sharedSecret: sk, ownRatchetKeyPair: { privateKey: bobSpkPriv, publicKey: bobSpk }, associatedData: ad });
    const aPriv = drawn[0];
    assert.ok(aPriv !== undefined);
    const aPub = x25519.getPublicKey(aPriv);

    const kdfRkRef = (rk: Uint8Array, dh: Uint8Array): [Uint8Array, Uint8Array] => {
      const okm = hkdf(sha256, dh, rk, utf8('Sotto v1 root ratchet'), 64);
      return [okm.slice(0, 32), okm.slice(32)];
    };
    const sealRef = (ck: Uint8Array, dhPub: Uint8Array, pn: number, n: number, pt: Uint8Array): Uint8Array => {
      const mk = hmac(sha256, ck, Uint8Array.of(1));
      const key = expand(sha256, mk, utf8('Sotto v1 message keys'), 32);
      const header = concatBytes(Uint8Array.of(1, 3), dhPub, u32be(pn), u32be(n));
      return concatBytes(header, gcm(key, new Uint8Array(12), concatBytes(ad, header)).encrypt(pt));
    };

    // Alice: RK, CKs = KDF_RK(SK, DH(A, SPK)); message 0 of her first chain.
    const [rk1, aliceCk] = kdfRkRef(sk, x25519.getSharedSecret(aPriv, bobSpk));
    const first = await ratchetEncrypt(crypto, recording, alice, utf8('hello Bob'));
    alice = first.state;
    assert.equal(toHex(first.message), toHex(sealRef(aliceCk, aPub, 0, 0, utf8('hello Bob'))), `${crypto.name}: Alice's first message`);

    // Bob: DH ratchet step on A, with a fresh key pair B2 drawn after the message authenticated.
    drawn.length = 0;
    const opened = await ratchetDecrypt(crypto, recording, bob, first.message);
    bob = opened.state;
    const b2Priv = drawn[0];
    assert.ok(b2Priv !== undefined && drawn.length === 1, 'one key pair drawn by the DH ratchet step');
    const [, bobCk] = kdfRkRef(rk1, x25519.getSharedSecret(b2Priv, aPub));
    const reply = await ratchetEncrypt(crypto, recording, bob, utf8('hello Alice'));
    assert.equal(toHex(reply.message), toHex(sealRef(bobCk, x25519.getPublicKey(b2Priv), 0, 0, utf8('hello Alice'))), `${crypto.name}: Bob's first message`);
    assert.equal(fromUtf8((await ratchetDecrypt(crypto, recording, alice, reply.message)).plaintext), 'hello Alice');
  }
});
