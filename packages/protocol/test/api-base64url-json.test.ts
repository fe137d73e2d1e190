// The two primitives under every server-API body (docs/protocol/09 §9.1): canonical unpadded base64url
// and the strict JSON parser. Both are checked against Node's own implementations as references:
// whatever Sotto's decoders accept, Node decodes to the same value; what they refuse is a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import { base64urlLength, decodeBase64url, encodeBase64url, isProtocolError, ProtocolError } from '@sotto/protocol';
import { parseStrictJson } from '../src/internal/strict-json.ts';
import { MAX_API_JSON_DEPTH } from '../src/limits.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));
const node64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

test('base64url: encoding equals Node\'s base64url, and decode(encode(x)) = x', async () => {
  await corpus.check(
    'api-base64url-roundtrip',
    fc.uint8Array({ maxLength: 200 }),
    (b) => {
      const text = encodeBase64url(b);
      assert.equal(text, node64(b));
      assert.equal(text.length, base64urlLength(b.length));
      assert.deepEqual(decodeBase64url(text, 'x', { max: 200 }), b);
      assert.deepEqual(decodeBase64url(text, 'x', { length: b.length }), b);
    },
    { numRuns: 500 },
  );
});

test('base64url: any string decodes to bytes that re-encode to it, or is ERR_API_DECODE', async () => {
  const chars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n.é'.split(''));
  await corpus.check(
    'api-base64url-any-string',
    fc.oneof(fc.string({ maxLength: 40 }), fc.array(chars, { maxLength: 40 }).map((a) => a.join(''))),
    (s) => {
      let b: Uint8Array;
      try {
        b = decodeBase64url(s, 'x', { max: 64 });
      } catch (e) {
        assert.ok(isProtocolError(e, 'ERR_API_DECODE'), `untyped: ${String(e)}`);
        return;
      }
      assert.equal(encodeBase64url(b), s, 'only canonical text is accepted');
    },
    { numRuns: 2000 },
  );
});

test('base64url: named refusals', () => {
  const refuse = (s: string, bound: Parameters<typeof decodeBase64url>[2], why: string): void => {
    assert.throws(() => decodeBase64url(s, 'field', bound), (e) => isProtocolError(e, 'ERR_API_DECODE'), why);
  };
  refuse('AAE=', { max: 10 }, 'padding');
  refuse('AB', { max: 10 }, 'non-zero unused bits (2 characters)');
  refuse('AAB', { max: 10 }, 'non-zero unused bits (3 characters)');
  refuse('AAAAA', { max: 10 }, 'length 4k + 1');
  refuse('AA+A', { max: 10 }, 'standard alphabet +');
  refuse('AA/A', { max: 10 }, 'standard alphabet /');
  refuse('AA A', { max: 10 }, 'whitespace');
  refuse('AAAA', { length: 2 }, 'wrong exact length');
  refuse('AAAAAA', { max: 3 }, 'over the maximum');
  refuse('', { min: 1, max: 3 }, 'under the minimum');
  assert.deepEqual(decodeBase64url('', 'field', { max: 3 }), new Uint8Array(0));
  assert.deepEqual(decodeBase64url('_-8', 'field', { length: 2 }), Uint8Array.of(0xff, 0xef));
});

/** JSON texts built from values the strict parser accepts, printed with random whitespace. */
const strictValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeNat(),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

test('strict JSON: texts of integers, strings, arrays and objects parse exactly as JSON.parse does', async () => {
  await corpus.check(
    'api-json-agrees-with-json-parse',
    fc.tuple(strictValue, fc.constantFrom(undefined, 1, '\t', ' \n ')),
    ([v, space]) => {
      const text = JSON.stringify(v, null, space);
      assert.equal(JSON.stringify(parseStrictJson(text, 'x')), JSON.stringify(JSON.parse(text)));
      assert.equal(JSON.stringify(parseStrictJson(new TextEncoder().encode(text), 'x')), JSON.stringify(JSON.parse(text)));
    },
    { numRuns: 500 },
  );
});

test('strict JSON: any text is refused with ERR_API_DECODE or parsed to what JSON.parse gives', async () => {
  const jsonish = fc.array(fc.constantFrom(...'{}[]",:0123456789-.eEtruefalsnul \\u/"ab'.split('')), { maxLength: 30 }).map((a) => a.join(''));
  await corpus.check(
    'api-json-any-text',
    fc.oneof(fc.string({ maxLength: 30 }), jsonish, fc.json({ maxDepth: 3 })),
    (text) => {
      let parsed: unknown;
      try {
        parsed = parseStrictJson(text, 'x');
      } catch (e) {
        assert.ok(isProtocolError(e, 'ERR_API_DECODE'), `untyped: ${String(e)}`);
        return;
      }
      // Accepted by the strict parser ⇒ valid JSON with the same meaning.
      assert.equal(JSON.stringify(parsed), JSON.stringify(JSON.parse(text)));
    },
    { numRuns: 3000 },
  );
});

test('strict JSON: refuses what JSON.parse would accept but two parsers could read differently', () => {
  const refused: [string, string][] = [
    ['{"a":1,"a":2}', 'duplicate key'],
    ['{"a":1,"\\u0061":2}', 'duplicate key spelled with an escape'],
    ['1.5', 'fraction'],
    ['1e3', 'exponent'],
    ['1.0', 'integral fraction'],
    ['-1', 'negative'],
    ['-0', 'negative zero'],
    ['9007199254740992', 'beyond 2^53 - 1'],
    ['"\\ud800"', 'lone high surrogate'],
    ['"\\udc00x"', 'lone low surrogate'],
    ['\ufeff{}', 'byte-order mark'],
    ['{} {}', 'two values'],
    ['"a\u0001"', 'raw control character'],
    ['[1,]', 'trailing comma'],
    ['01', 'leading zero'],
    [`${'['.repeat(MAX_API_JSON_DEPTH + 1)}${']'.repeat(MAX_API_JSON_DEPTH + 1)}`, 'too deep'],
  ];
  for (const [text, why] of refused) {
    assert.throws(() => parseStrictJson(text, 'x'), (e) => isProtocolError(e, 'ERR_API_DECODE'), why);
  }
  assert.throws(() => parseStrictJson(Uint8Array.of(0x22, 0xff, 0x22), 'x'), (e) => isProtocolError(e, 'ERR_API_DECODE'), 'invalid UTF-8');
  const deepest = `${'['.repeat(MAX_API_JSON_DEPTH)}${']'.repeat(MAX_API_JSON_DEPTH)}`;
  assert.doesNotThrow(() => parseStrictJson(deepest, 'x'), 'the depth bound itself is allowed');
  // "__proto__" is an ordinary key of a null-prototype object, not a prototype change.
  const o = parseStrictJson('{"__proto__":{"polluted":1}}', 'x') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(o), null);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  // Errors never quote the input.
  try {
    parseStrictJson('{"secret-token-abc":1,"secret-token-abc":2}', 'x');
    assert.fail('expected a refusal');
  } catch (e) {
    assert.ok(e instanceof ProtocolError);
    assert.ok(!e.message.includes('secret-token-abc'), e.message);
  }
});
