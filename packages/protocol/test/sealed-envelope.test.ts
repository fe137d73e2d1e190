// Sealed-sender envelopes (docs/protocol/06-sealed-envelope.md): round trip, and every check of §6.8
// as a named rejection — another recipient, a re-targeted or spliced envelope, a forger without the
// sender's key, a certificate for another key, a bad certificate signature, an expired certificate,
// malformed padding, and a bit flip anywhere in the envelope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { seededRng } from '@sotto/test-support';
import { fastProvider } from '@sotto/crypto';
import { IdentityKeyPair, identityDhPublicKey, isProtocolError, nobleProvider, type IdentityPublicKey, type ProtocolErrorCode } from '@sotto/protocol';
import { concatBytes, toHex, utf8 } from '../src/internal/bytes.ts';
import { setupHpkeSender } from '../src/hpke/hpke.ts';
import { WIRE_VERSION, WireType } from '../src/wire/version.ts';
import { encodeSealedContent } from '../src/wire/sealed-content.ts';
import { SEALED_ENVELOPE_OVERHEAD, encodeSealedEnvelope } from '../src/wire/sealed-envelope.ts';
import { createSenderCertificate } from '../src/sealed/sender-certificate.ts';
import { SEALED_AEAD, SEALED_INNER_INFO_LABEL, SEALED_OUTER_INFO_LABEL, openEnvelope, openWith, sealEnvelope } from '../src/sealed/sealed-sender.ts';
import { isSealedBucket, sealedBucketFor } from '../src/sealed/padding.ts';

const crypto = nobleProvider;
const NOW = 1_790_000_000_000; // a fixed "now" in ms; tests never read the clock
const LATER = NOW + 86_400_000;

const rng = seededRng('sealed-envelope');
const alice = await IdentityKeyPair.generate(crypto, rng);
const bob = await IdentityKeyPair.generate(crypto, rng);
const carol = await IdentityKeyPair.generate(crypto, rng);
const mallory = await IdentityKeyPair.generate(crypto, rng);
const aliceCert = await createSenderCertificate(crypto, alice, { username: 'alice', deviceId: 7, expiresAt: LATER });
const malloryCert = await createSenderCertificate(crypto, mallory, { username: 'mallory', deviceId: 1, expiresAt: LATER });
const message = utf8('a ratchet message, opaque to the envelope');

function rejects(code: ProtocolErrorCode, what: string) {
  return (e: unknown): boolean => {
    assert.ok(isProtocolError(e, code), `${what}: expected ${code}, got ${String(e)}`);
    return true;
  };
}

async function aliceToBob(content = message, seed = 'a2b'): Promise<Uint8Array> {
  return sealEnvelope(crypto, seededRng(seed), { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType: 'ratchet', content });
}

test('Bob opens what Alice sealed and learns her certified address and key', async () => {
  const env = await aliceToBob();
  assert.ok(isSealedBucket(env.length), `length ${env.length} is a bucket`);
  assert.equal(env.length, 512);
  const opened = await openEnvelope(crypto, bob, env, NOW);
  assert.equal(opened.sender.username, 'alice');
  assert.equal(opened.sender.deviceId, 7);
  assert.equal(toHex(opened.sender.identityKey), toHex(alice.publicKey));
  assert.equal(opened.contentType, 'ratchet');
  assert.equal(toHex(opened.content), toHex(message));
});

test('the noble and the fast provider produce the same envelope and open each other\'s', async () => {
  const input = { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType: 'ratchet', content: message } as const;
  const byNoble = await sealEnvelope(nobleProvider, seededRng('providers'), input);
  const byFast = await sealEnvelope(fastProvider, seededRng('providers'), input);
  assert.equal(toHex(byFast), toHex(byNoble));
  assert.equal((await openEnvelope(fastProvider, bob, byNoble, NOW)).sender.username, 'alice');
  assert.equal((await openEnvelope(nobleProvider, bob, byFast, NOW)).sender.username, 'alice');
});

test('both content types round trip', async () => {
  for (const contentType of ['prekey', 'ratchet'] as const) {
    const env = await sealEnvelope(crypto, rng, { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType, content: message });
    assert.equal((await openEnvelope(crypto, bob, env, NOW)).contentType, contentType, `content type ${contentType}`);
  }
});

test('the envelope shows the server neither the sender key nor the username (and is randomised)', async () => {
  const a = await aliceToBob(message, 'one');
  const b = await aliceToBob(message, 'two');
  const hex = toHex(a);
  assert.ok(!hex.includes(toHex(alice.publicKey)), 'sender Ed25519 key visible');
  assert.ok(!hex.includes(toHex(identityDhPublicKey(alice.publicKey))), 'sender X25519 key visible');
  assert.ok(!hex.includes(toHex(utf8('alice'))), 'username visible');
  assert.ok(!hex.includes(toHex(message)), 'content visible');
  assert.notEqual(hex, toHex(b), 'two seals of the same content differ');
  assert.equal(toHex(await aliceToBob(message, 'one')), hex, 'the same seeded rng gives the same envelope');
});

test('an envelope for Bob does not open for Carol (ERR_SEALED_DECRYPT_FAILED)', async () => {
  await assert.rejects(openEnvelope(crypto, carol, await aliceToBob(), NOW), rejects('ERR_SEALED_DECRYPT_FAILED', 'Carol opens'));
});

test('re-targeting: the recipient Ed25519 key is bound, not just its X25519 image', async () => {
  // -P maps to the same X25519 key as P (RFC 7748 §4.1 drops the sign of x), and Bob's X25519
  // secret opens HPKE for both; only the info binding tells the two identities apart.
  const negated = ed25519.Point.fromBytes(bob.publicKey).negate().toBytes() as IdentityPublicKey;
  assert.equal(toHex(identityDhPublicKey(negated)), toHex(identityDhPublicKey(bob.publicKey)));
  const env = await aliceToBob();
  const bobDh = bob.dhPrivateKey(crypto);
  await assert.rejects(openWith(crypto, negated, bobDh, env, NOW), rejects('ERR_SEALED_DECRYPT_FAILED', 'opened as -P'));
  // control: the same call with Bob's real key opens
  assert.equal((await openWith(crypto, bob.publicKey, bobDh, env, NOW)).sender.username, 'alice');
});

test('a forger without Alice\'s key cannot claim to be Alice (ERR_SEALED_DECRYPT_FAILED)', async () => {
  // Mallory writes Alice's key into the outer layer (anyone can: base mode) and Alice's certificate
  // into the content, but can only run the inner AuthEncap with her own identity secret.
  const padded = pad(encodeSealedContent({ certificate: aliceCert, contentType: WireType.RatchetMessage, content: message }));
  const env = await craft({ claimedSender: alice.publicKey, authKey: mallory, padded });
  await assert.rejects(openEnvelope(crypto, bob, env, NOW), rejects('ERR_SEALED_DECRYPT_FAILED', 'forged sender'));
});

test('sender mismatch: Mallory seals with her own key but Alice\'s certificate (ERR_SEALED_SENDER_MISMATCH)', async () => {
  const padded = pad(encodeSealedContent({ certificate: aliceCert, contentType: WireType.RatchetMessage, content: message }));
  const env = await craft({ claimedSender: mallory.publicKey, authKey: mallory, padded });
  await assert.rejects(openEnvelope(crypto, bob, env, NOW), rejects('ERR_SEALED_SENDER_MISMATCH', 'borrowed certificate'));
  // and sealEnvelope refuses to build it at all
  await assert.rejects(
    sealEnvelope(crypto, rng, { sender: mallory, certificate: aliceCert, recipient: bob.publicKey, contentType: 'ratchet', content: message }),
    rejects('ERR_ARGUMENT', 'sealEnvelope with another key\'s certificate'),
  );
});

test('a certificate whose signature does not verify is rejected (ERR_SIGNATURE_INVALID)', async () => {
  const altered = { ...malloryCert, username: 'alice' }; // Mallory edits her own certificate's address
  const env = await sealEnvelope(crypto, rng, { sender: mallory, certificate: altered, recipient: bob.publicKey, contentType: 'ratchet', content: message });
  await assert.rejects(openEnvelope(crypto, bob, env, NOW), rejects('ERR_SIGNATURE_INVALID', 'edited certificate'));
});

test('certificate expiry is checked against the injected now (valid while now < expiresAt)', async () => {
  const env = await aliceToBob();
  assert.equal((await openEnvelope(crypto, bob, env, LATER - 1)).sender.username, 'alice');
  await assert.rejects(openEnvelope(crypto, bob, env, LATER), rejects('ERR_SENDER_CERTIFICATE_EXPIRED', 'now = expiresAt'));
  await assert.rejects(openEnvelope(crypto, bob, env, LATER + 1), rejects('ERR_SENDER_CERTIFICATE_EXPIRED', 'now > expiresAt'));
  await assert.rejects(openEnvelope(crypto, bob, env, Number.NaN), rejects('ERR_ARGUMENT', 'now = NaN'));
});

test('splicing: Alice\'s inner layer under another outer layer is rejected', async () => {
  const a = await aliceToBob(message, 'splice-a');
  const b = await aliceToBob(message, 'splice-b');
  const spliced = concatBytes(b.subarray(0, 82), a.subarray(82)); // b's outer layer, a's inner layer
  await assert.rejects(openEnvelope(crypto, bob, spliced, NOW), rejects('ERR_SEALED_DECRYPT_FAILED', 'spliced'));
});

test('padding: malformed or non-minimal padding from a key holder is ERR_PADDING_INVALID', async () => {
  const sealed = encodeSealedContent({ certificate: aliceCert, contentType: WireType.RatchetMessage, content: message });
  const size = 512 - SEALED_ENVELOPE_OVERHEAD;
  // control: the helper reproduces sealEnvelope's padding, and that opens
  const good = new Uint8Array(size);
  good.set(sealed);
  good[sealed.length] = 0x80;
  assert.equal((await openEnvelope(crypto, bob, await craft({ claimedSender: alice.publicKey, authKey: alice, padded: good }), NOW)).sender.username, 'alice');

  const noMarker = new Uint8Array(size);
  noMarker.set(sealed); // content then zeros: the last non-zero byte is not 0x80
  const wrongMarker = good.slice();
  wrongMarker[sealed.length] = 0x01;
  const junkAfter = good.slice();
  junkAfter[size - 1] = 0x80; // a second marker: the first one becomes part of the "content"
  const allZero = new Uint8Array(size);
  const cases: [string, Uint8Array, ProtocolErrorCode][] = [
    ['no 0x80 marker', noMarker, 'ERR_PADDING_INVALID'],
    ['marker 0x01', wrongMarker, 'ERR_PADDING_INVALID'],
    ['all zeros', allZero, 'ERR_PADDING_INVALID'],
    // unpads fine, but the content then ends in 0x80 00 .. 00: its own decoder rejects it
    ['0x80 at the very end', junkAfter, 'ERR_WIRE_TRAILING_BYTES'],
  ];
  for (const [name, padded, code] of cases) {
    await assert.rejects(openEnvelope(crypto, bob, await craft({ claimedSender: alice.publicKey, authKey: alice, padded }), NOW), rejects(code, name));
  }
  // non-minimal: the content fits 512 bytes but is padded to 1024
  const big = new Uint8Array(1024 - SEALED_ENVELOPE_OVERHEAD);
  big.set(sealed);
  big[sealed.length] = 0x80;
  await assert.rejects(openEnvelope(crypto, bob, await craft({ claimedSender: alice.publicKey, authKey: alice, padded: big }), NOW), rejects('ERR_PADDING_INVALID', 'non-minimal bucket'));
});

test('a bit flip in any byte of an envelope is rejected with a typed error', async () => {
  const env = await aliceToBob(message, 'flip');
  const flipRng = seededRng('flip-bits');
  for (let i = 0; i < env.length; i++) {
    const bad = env.slice();
    bad[i] = (bad[i] ?? 0) ^ (1 << ((flipRng(1)[0] ?? 0) % 8));
    let code: string | undefined;
    try {
      await openEnvelope(crypto, bob, bad, NOW);
    } catch (e) {
      code = isProtocolError(e) ? e.code : `untyped ${String(e)}`;
    }
    const expected = i === 0 ? 'ERR_WIRE_UNKNOWN_VERSION' : i === 1 ? 'ERR_WIRE_UNKNOWN_TYPE' : 'ERR_SEALED_DECRYPT_FAILED';
    assert.equal(code, expected, `flip at byte ${i}`);
  }
});

test('lengths that are not a bucket are rejected before any decryption', async () => {
  const env = await aliceToBob();
  await assert.rejects(openEnvelope(crypto, bob, env.subarray(0, env.length - 1), NOW), rejects('ERR_WIRE_BAD_LENGTH', 'truncated'));
  await assert.rejects(openEnvelope(crypto, bob, concatBytes(env, new Uint8Array(1)), NOW), rejects('ERR_WIRE_BAD_LENGTH', 'extended'));
  await assert.rejects(openEnvelope(crypto, bob, new Uint8Array(0), NOW), rejects('ERR_WIRE_TRUNCATED', 'empty'));
});

test('content too large for the largest bucket is refused when sealing', async () => {
  const { MAX_SEALED_ENVELOPE_BYTES } = await import('../src/limits.ts');
  const content = new Uint8Array(MAX_SEALED_ENVELOPE_BYTES);
  await assert.rejects(
    sealEnvelope(crypto, rng, { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType: 'ratchet', content }),
    rejects('ERR_WIRE_TOO_LARGE', 'content of MAX_SEALED_ENVELOPE_BYTES'),
  );
});

// --- helpers: an envelope built by hand, exactly as sealEnvelope does but with free choices of the
// claimed sender key (outer layer), the key that runs AuthEncap (inner layer) and the padded bytes.
function pad(sealed: Uint8Array): Uint8Array {
  const bucket = sealedBucketFor(SEALED_ENVELOPE_OVERHEAD + sealed.length + 1);
  const out = new Uint8Array(bucket - SEALED_ENVELOPE_OVERHEAD);
  out.set(sealed);
  out[sealed.length] = 0x80;
  return out;
}

async function craft(o: { claimedSender: IdentityPublicKey; authKey: IdentityKeyPair; padded: Uint8Array }): Promise<Uint8Array> {
  const header = Uint8Array.of(WIRE_VERSION, WireType.SealedEnvelope);
  const r = seededRng('craft');
  const recipientDh = identityDhPublicKey(bob.publicKey);
  const outer = await setupHpkeSender(crypto, r, {
    aead: SEALED_AEAD,
    recipientPublicKey: recipientDh,
    info: concatBytes(SEALED_OUTER_INFO_LABEL, bob.publicKey),
    auth: { mode: 'base' },
  });
  const outerCiphertext = (await outer.context.seal(crypto, header, o.claimedSender)).ciphertext;
  const inner = await setupHpkeSender(crypto, r, {
    aead: SEALED_AEAD,
    recipientPublicKey: recipientDh,
    info: concatBytes(SEALED_INNER_INFO_LABEL, bob.publicKey, o.claimedSender),
    auth: { mode: 'auth', senderPrivateKey: o.authKey.dhPrivateKey(crypto) },
  });
  const aad = concatBytes(header, outer.enc, outerCiphertext, inner.enc);
  const innerCiphertext = (await inner.context.seal(crypto, aad, o.padded)).ciphertext;
  return encodeSealedEnvelope({ outerEnc: outer.enc, outerCiphertext, innerEnc: inner.enc, innerCiphertext });
}

test('HPKE contexts never print their secrets', async () => {
  const { context } = await setupHpkeSender(crypto, rng, { aead: SEALED_AEAD, recipientPublicKey: identityDhPublicKey(bob.publicKey), info: new Uint8Array(0), auth: { mode: 'base' } });
  for (const shown of [String(context), JSON.stringify(context), inspect(context, { showHidden: true, depth: 5 })]) {
    assert.ok(shown.includes('[HpkeSenderContext: redacted]'), `expected the redaction marker, got: ${shown}`);
  }
});
