// Property tests for the content codec (docs/protocol/10 §10.2, STYLE.md §12): decode(encode(x)) = x;
// any byte string — random, JSON-shaped, or a valid encoding changed, cut or extended — decodes to a
// value that re-encodes and decodes to itself, or fails with ERR_CONTENT_INVALID; and named cases for
// every rule of §10.2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import { ClientError, decodeContent, encodeContent, type Content, type ContentBody } from '@sotto/client';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
function validName(s: string): boolean {
  if (s.startsWith('.')) return false;
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0;
    if (c === '/' || c === '\\' || cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return false;
  }
  return true;
}
const fileName = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).filter(validName);
const mime = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789/+-.; ='.split('')), maxLength: 40 });

const body: fc.Arbitrary<ContentBody> = fc.oneof(
  text.map((t): ContentBody => ({ type: 'text', text: t })),
  fc
    .record({ attachment: bytes(16), key: bytes(32), digest: bytes(32), size: fc.integer({ min: 0, max: 32 * 1024 * 1024 }), name: fileName, mime }, { noNullPrototype: true })
    .map((file): ContentBody => ({ type: 'file', file })),
  fc.array(bytes(16), { minLength: 1, maxLength: 100 }).map((ids): ContentBody => ({ type: 'delivered', ids })),
);

const content: fc.Arbitrary<Content> = fc.record(
  { id: bytes(16), sentAt: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 1.6e12, max: 2e12 })), profileKey: bytes(32), body },
  { noNullPrototype: true },
);

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function mutations(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.json().map(utf8),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      const out = b.slice();
      if (out.length > 0) out[i % out.length] = (out[i % out.length] ?? 0) ^ x;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.slice(0, n % (b.length + 1))),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([b, tail]) => Uint8Array.from([...b, ...tail])),
    // JSON-level changes: a field removed, a field added, a field replaced by another JSON value.
    fc.tuple(valid, fc.nat(), fc.jsonValue()).map(([b, i, v]) => {
      const o = JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;
      const keys = Object.keys(o);
      const k = keys[i % keys.length] ?? 'v';
      if (i % 3 === 0) Reflect.deleteProperty(o, k);
      else if (i % 3 === 1) o[`x${i}`] = v;
      else o[k] = v;
      return utf8(JSON.stringify(o));
    }),
  );
}

function typedOrCanonical(b: Uint8Array): void {
  let value: Content;
  try {
    value = decodeContent(b);
  } catch (e) {
    assert.ok(e instanceof ClientError && e.code === 'ERR_CONTENT_INVALID', `untyped error: ${String(e)}`);
    return;
  }
  assert.deepEqual(decodeContent(encodeContent(value)), value, 'a decoded value survives encode and decode');
}

test('content: decode(encode(x)) = x', async () => {
  await corpus.check('content-roundtrip', content, (c) => {
    assert.deepEqual(decodeContent(encodeContent(c)), c);
  }, { numRuns: 400 });
});

test('content: arbitrary and mutated bytes give ERR_CONTENT_INVALID or a canonical value', async () => {
  await corpus.check('content-mutated-bytes', mutations(content.map(encodeContent)), typedOrCanonical, { numRuns: 2000 });
});

const ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const PK = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const KEY = PK;

function json(bodyJson: string, top = `"v":1,"id":"${ID}","sentAt":5,"profileKey":"${PK}"`): Uint8Array {
  return utf8(`{${top},"body":${bodyJson}}`);
}

function file(fields: Partial<Record<'name' | 'mime' | 'size', string>>): string {
  const f = { attachment: `"${ID}"`, key: `"${KEY}"`, digest: `"${KEY}"`, size: '10', name: '"a.txt"', mime: '"text/plain"', ...fields };
  return `{"type":"file","file":{"attachment":${f.attachment},"key":${f.key},"digest":${f.digest},"size":${f.size},"name":${f.name},"mime":${f.mime}}}`;
}

test('content: every rule of docs/protocol/10 §10.2, named', () => {
  const ok: [string, Uint8Array][] = [
    ['a text', json('{"type":"text","text":"hi"}')],
    ['a text with newlines and tabs', json('{"type":"text","text":"a\\nb\\tc"}')],
    ['fields in another order, whitespace', utf8(` { "body" : {"text":"x","type":"text"} , "profileKey":"${PK}","sentAt":0,"id":"${ID}","v":1 } `)],
    ['a file', json(file({}))],
    ['an empty MIME type', json(file({ mime: '""' }))],
    ['a receipt', json(`{"type":"delivered","ids":["${ID}"]}`)],
    ['16384 characters (MAX_TEXT_CHARS), astral ones count once', json(`{"type":"text","text":"${'😀'.repeat(16384)}"}`)],
  ];
  for (const [name, b] of ok) assert.doesNotThrow(() => decodeContent(b), name);

  const bad: [string, Uint8Array][] = [
    ['not JSON', utf8('hello')],
    ['an array', utf8('[]')],
    ['version 2', json('{"type":"text","text":"hi"}', `"v":2,"id":"${ID}","sentAt":5,"profileKey":"${PK}"`)],
    ['an unknown top-level field', json('{"type":"text","text":"hi"}', `"v":1,"id":"${ID}","sentAt":5,"profileKey":"${PK}","x":1`)],
    ['a duplicate key', json('{"type":"text","text":"hi","text":"ho"}')],
    ['a missing id', json('{"type":"text","text":"hi"}', `"v":1,"sentAt":5,"profileKey":"${PK}"`)],
    ['a short id', json('{"type":"text","text":"hi"}', `"v":1,"id":"AAAA","sentAt":5,"profileKey":"${PK}"`)],
    ['padded base64', json('{"type":"text","text":"hi"}', `"v":1,"id":"${ID}==","sentAt":5,"profileKey":"${PK}"`)],
    ['non-canonical base64 (unused bits set)', json('{"type":"text","text":"hi"}', `"v":1,"id":"AAAAAAAAAAAAAAAAAAAAAB","sentAt":5,"profileKey":"${PK}"`)],
    ['a negative sentAt', json('{"type":"text","text":"hi"}', `"v":1,"id":"${ID}","sentAt":-5,"profileKey":"${PK}"`)],
    ['a fractional sentAt', json('{"type":"text","text":"hi"}', `"v":1,"id":"${ID}","sentAt":5.5,"profileKey":"${PK}"`)],
    ['sentAt with an exponent', json('{"type":"text","text":"hi"}', `"v":1,"id":"${ID}","sentAt":5e3,"profileKey":"${PK}"`)],
    ['an unknown body type', json('{"type":"call","text":"hi"}')],
    ['an empty text', json('{"type":"text","text":""}')],
    ['16385 characters', json(`{"type":"text","text":"${'a'.repeat(16385)}"}`)],
    ['a lone surrogate', json('{"type":"text","text":"\\ud800"}')],
    ['a text body with an extra field', json('{"type":"text","text":"hi","file":1}')],
    ['invalid UTF-8', Uint8Array.from([...json('{"type":"text","text":"hi"}').slice(0, -4), 0xff, 0x22, 0x7d, 0x7d])],
    ['a byte-order mark', Uint8Array.from([0xef, 0xbb, 0xbf, ...json('{"type":"text","text":"hi"}')])],
    ['a file name with "/"', json(file({ name: '"a/b"' }))],
    ['a file name with "\\"', json(file({ name: '"a\\\\b"' }))],
    ['a file name with NUL', json(file({ name: '"a\\u0000b"' }))],
    ['a file name with an escape character', json(file({ name: '"a\\u001b[31mb"' }))],
    ['a file name with a C1 control', json(file({ name: '"a\\u009bb"' }))],
    ['a file name starting with "."', json(file({ name: '".bashrc"' }))],
    ['an empty file name', json(file({ name: '""' }))],
    ['a 256-character file name', json(file({ name: `"${'a'.repeat(256)}"` }))],
    ['a non-ASCII MIME type', json(file({ mime: '"text/é"' }))],
    ['a 128-character MIME type', json(file({ mime: `"${'a'.repeat(128)}"` }))],
    ['a size beyond the attachment bound', json(file({ size: String(32 * 1024 * 1024 + 1) }))],
    ['a receipt without ids', json('{"type":"delivered","ids":[]}')],
    ['a receipt with 101 ids', json(`{"type":"delivered","ids":[${Array(101).fill(`"${ID}"`).join(',')}]}`)],
    ['a receipt id of 15 bytes', json('{"type":"delivered","ids":["AAAAAAAAAAAAAAAAAAAA"]}')],
  ];
  for (const [name, b] of bad) {
    assert.throws(() => decodeContent(b), (e) => e instanceof ClientError && e.code === 'ERR_CONTENT_INVALID', name);
  }
});

test('content: the encoder refuses what the decoder would, with ERR_ARGUMENT', () => {
  const base = { id: new Uint8Array(16), sentAt: 1, profileKey: new Uint8Array(32) };
  const cases: [string, Content][] = [
    ['an empty text', { ...base, body: { type: 'text', text: '' } }],
    ['a lone surrogate', { ...base, body: { type: 'text', text: 'a\ud800' } }],
    ['a 15-byte id', { ...base, id: new Uint8Array(15), body: { type: 'text', text: 'x' } }],
    ['a fractional sentAt', { ...base, sentAt: 1.5, body: { type: 'text', text: 'x' } }],
    ['a file name with "/"', { ...base, body: { type: 'file', file: { attachment: new Uint8Array(16), key: new Uint8Array(32), digest: new Uint8Array(32), size: 1, name: 'a/b', mime: '' } } }],
    ['101 receipt ids', { ...base, body: { type: 'delivered', ids: Array.from({ length: 101 }, () => new Uint8Array(16)) } }],
  ];
  for (const [name, c] of cases) {
    assert.throws(() => encodeContent(c), (e) => e instanceof ClientError && e.code === 'ERR_ARGUMENT', name);
  }
});

test('content: the JSON written is the §10.2 shape, field by field', () => {
  const id = Uint8Array.from({ length: 16 }, (_, i) => i);
  const out = new TextDecoder().decode(encodeContent({ id, sentAt: 7, profileKey: new Uint8Array(32).fill(255), body: { type: 'text', text: 'hé' } }));
  assert.equal(out, '{"v":1,"id":"AAECAwQFBgcICQoLDA0ODw","sentAt":7,"profileKey":"__________________________________________8","body":{"type":"text","text":"hé"}}');
});
