// Usernames (docs/protocol/09 §9.2), the two messages an identity key signs for the server (§9.3,
// §9.4, labels registered in docs/protocol/03 §3.3) and access keys (§9.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { corpusAt, seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  accessKeyFromProfileKey,
  buildRegistrationMessage,
  buildServerAuthMessage,
  foldUsername,
  isFoldedUsername,
  isProtocolError,
  nobleProvider,
} from '@sotto/protocol';
import { toHex, utf8 } from '../src/internal/bytes.ts';

const crypto = nobleProvider;
const corpus = corpusAt(new URL('corpus/', import.meta.url));

test('foldUsername: ASCII case folding; everything outside §9.2 is ERR_USERNAME_INVALID', () => {
  assert.equal(foldUsername('Alice'), 'alice');
  assert.equal(foldUsername('ALICE_42'), 'alice_42');
  assert.equal(foldUsername('abc'), 'abc');
  assert.equal(foldUsername('a'.repeat(32)), 'a'.repeat(32));
  const refused: [string, string][] = [
    ['ab', 'too short'],
    ['a'.repeat(33), 'too long'],
    ['1alice', 'starts with a digit'],
    ['_alice', 'starts with an underscore'],
    ['ali ce', 'space'],
    ['ali-ce', 'hyphen'],
    ['\u0430lice', 'Cyrillic a (homoglyph)'],
    ['alic\u00e9', 'e with acute'],
    ['ALİCE', 'dotted capital I (Unicode folding would change it)'],
    ['alice\u0000', 'NUL'],
    ['', 'empty'],
  ];
  for (const [name, why] of refused) {
    assert.throws(() => foldUsername(name), (e) => isProtocolError(e, 'ERR_USERNAME_INVALID') && (name.length < 3 || !e.message.includes(name)), why);
  }
  assert.throws(() => foldUsername(42 as unknown as string), (e) => isProtocolError(e, 'ERR_USERNAME_INVALID'));
  assert.equal(isFoldedUsername('alice'), true);
  assert.equal(isFoldedUsername('Alice'), false);
  assert.equal(isFoldedUsername('a'), false);
});

test('foldUsername: any string folds to a folded name, idempotently, or is refused', async () => {
  await corpus.check(
    'api-fold-username',
    fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9_]{1,34}$/), fc.string({ unit: 'binary', maxLength: 34 })),
    (s) => {
      let folded: string;
      try {
        folded = foldUsername(s);
      } catch (e) {
        assert.ok(isProtocolError(e, 'ERR_USERNAME_INVALID'), String(e));
        assert.equal(/^[A-Za-z][A-Za-z0-9_]{2,31}$/.test(s), false, 'a valid name was refused');
        return;
      }
      assert.match(folded, /^[a-z][a-z0-9_]{2,31}$/);
      assert.equal(folded, s.toLowerCase());
      assert.equal(foldUsername(folded), folded);
    },
    { numRuns: 1000 },
  );
});

test('registration message: label || u8(len) || folded name || u32(deviceId) || accessKey (§9.3)', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const m = buildRegistrationMessage('Bob', 1, key);
  assert.equal(toHex(m), toHex(new Uint8Array([...utf8('Sotto_v1_Registration'), 3, ...utf8('bob'), 0, 0, 0, 1, ...key])));
  assert.deepEqual(buildRegistrationMessage('BOB', 1, key), m, 'the folded name is signed');
  assert.throws(() => buildRegistrationMessage('bob', 1, new Uint8Array(15)), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  assert.throws(() => buildRegistrationMessage('bob', 2 ** 32, key), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  assert.throws(() => buildRegistrationMessage('b', 1, key), (e) => isProtocolError(e, 'ERR_USERNAME_INVALID'));
});

test('server-auth message: label || challenge || u8(len) || folded name || u32(deviceId) (§9.4)', () => {
  const challenge = new Uint8Array(32).fill(0xcc);
  const m = buildServerAuthMessage(challenge, 'Carol_1', 0xdeadbeef);
  assert.equal(toHex(m), toHex(new Uint8Array([...utf8('Sotto_v1_ServerAuth'), ...challenge, 7, ...utf8('carol_1'), 0xde, 0xad, 0xbe, 0xef])));
  assert.throws(() => buildServerAuthMessage(new Uint8Array(31), 'carol', 1), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
});

test('an identity key signs both server messages, and neither signature verifies as the other', async () => {
  const id = await IdentityKeyPair.generate(crypto, seededRng('api-signed-messages'));
  const reg = buildRegistrationMessage('alice', 1, new Uint8Array(16));
  const auth = buildServerAuthMessage(new Uint8Array(32), 'alice', 1);
  const regSig = await id.sign(crypto, reg);
  const authSig = await id.sign(crypto, auth);
  assert.equal(await crypto.ed25519Verify(id.publicKey, reg, regSig), true);
  assert.equal(await crypto.ed25519Verify(id.publicKey, auth, authSig), true);
  assert.equal(await crypto.ed25519Verify(id.publicKey, auth, regSig), false);
  assert.equal(await crypto.ed25519Verify(id.publicKey, reg, authSig), false);
});

test('accessKeyFromProfileKey = HKDF-SHA-256(profileKey, salt = empty, info = "Sotto_v1_AccessKey", 16) (§9.7)', async () => {
  await corpus.check(
    'api-access-key',
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    (profileKey) => {
      const expected = hkdf(sha256, profileKey, new Uint8Array(0), utf8('Sotto_v1_AccessKey'), 16);
      assert.equal(toHex(accessKeyFromProfileKey(crypto, profileKey)), toHex(expected));
    },
    { numRuns: 50 },
  );
  assert.throws(() => accessKeyFromProfileKey(crypto, new Uint8Array(16)), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
});
