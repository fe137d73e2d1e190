// The native base64url decoder the server installs into the protocol core (src/internal/base64url.ts)
// changes nothing but speed: for any text, decodeBase64url gives the same bytes, or refuses with the
// same ERR_API_DECODE, with it and with the portable loop — texts long enough to reach it included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBase64url, encodeBase64url, installBase64urlDecoder, isProtocolError, type Base64urlBound } from '@sotto/protocol';
import { corpusAt } from '@sotto/test-support';
import { nativeBase64url } from '../src/internal/base64url.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

type Outcome = { bytes: Uint8Array } | { error: string };

function decodeWith(native: boolean, text: string, bound: Base64urlBound): Outcome {
  installBase64urlDecoder(native ? nativeBase64url : undefined);
  try {
    return { bytes: decodeBase64url(text, 'field', bound) };
  } catch (e) {
    assert.ok(isProtocolError(e, 'ERR_API_DECODE'), `untyped: ${String(e)}`);
    return { error: 'ERR_API_DECODE' };
  } finally {
    installBase64urlDecoder(undefined);
  }
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Mostly base64url, with now and then a character a lenient decoder would skip or stop at. */
const text = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map(encodeBase64url),
  fc.array(fc.constantFrom(...`${alphabet}${alphabet}+/= \n.é\u0000`.split('')), { minLength: 60, maxLength: 200 }).map((a) => a.join('')),
  fc.tuple(fc.uint8Array({ minLength: 48, maxLength: 300 }).map(encodeBase64url), fc.nat(), fc.constantFrom('=', '+', '/', ' ', 'é', '\u0000', '==')).map(([t, at, c]) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + c + t.slice(i);
  }),
);

test('base64url: the native decoder gives what the portable one gives — bytes or ERR_API_DECODE — for any text', async () => {
  await corpus.check(
    'base64url-native',
    fc.tuple(text, fc.oneof(fc.constant<Base64urlBound>({ max: 256 }), fc.nat({ max: 256 }).map<Base64urlBound>((length) => ({ length })), fc.nat({ max: 200 }).map<Base64urlBound>((min) => ({ min, max: 256 })))),
    ([t, bound]) => {
      const native = decodeWith(true, t, bound);
      assert.deepEqual(native, decodeWith(false, t, bound));
      if ('bytes' in native) {
        assert.equal(encodeBase64url(native.bytes), t, 'only canonical text is accepted');
        assert.equal(native.bytes.byteLength, native.bytes.buffer.byteLength, 'an exact-size buffer, not a slice of a pool');
      }
    },
    { numRuns: 3000 },
  );
});

test('base64url: with the native decoder, a non-canonical last character and a stray character are still refused', () => {
  const canonical = encodeBase64url(new Uint8Array(100).fill(0xa5)); // 134 characters, 4k + 2
  installBase64urlDecoder(nativeBase64url);
  try {
    assert.deepEqual(decodeBase64url(canonical, 'f', { max: 100 }), new Uint8Array(100).fill(0xa5));
    const last = alphabet.indexOf(canonical.at(-1) ?? '');
    const dirty = canonical.slice(0, -1) + (alphabet[last | 1] ?? ''); // a low bit set that must be zero
    assert.throws(() => decodeBase64url(dirty, 'f', { max: 100 }), /unused bits zero/);
    assert.throws(() => decodeBase64url(`${canonical.slice(0, 70)}=${canonical.slice(71)}`, 'f', { max: 100 }), /base64url characters/);
  } finally {
    installBase64urlDecoder(undefined);
  }
});
