// Property tests for the content codec (docs/protocol/10 §10.2, STYLE.md §12): decode(encode(x)) = x;
// any byte string — random, JSON-shaped, or a valid encoding changed, cut or extended — decodes to a
// value that re-encodes and decodes to itself, or fails with ERR_CONTENT_INVALID; and named cases for
// every rule of §10.2 and of the call bodies of docs/protocol/11 §11.6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chromiumAnswer, chromiumOffer, corpusAt, fingerprintOf } from '@sotto/test-support';
import { CALL_END_REASONS, ClientError, MAX_VOICEMAIL_DURATION_MS, decodeContent, encodeContent, type Content, type ContentBody, type FileContent } from '@sotto/client';

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

const fileContent: fc.Arbitrary<FileContent> = fc.record(
  { attachment: bytes(16), key: bytes(32), digest: bytes(32), size: fc.integer({ min: 0, max: 32 * 1024 * 1024 }), name: fileName, mime },
  { noNullPrototype: true },
);
const sdp = fc
  .record({ fingerprint: bytes(32), type: fc.constantFrom<'offer' | 'answer'>('offer', 'answer'), sessionId: fc.bigInt({ min: 0n, max: 2n ** 62n }), ufrag: fc.stringMatching(/^[A-Za-z0-9+/]{4,32}$/), port: fc.integer({ min: 1, max: 65_535 }) })
  .map((o) => (o.type === 'offer' ? chromiumOffer : chromiumAnswer)({ fingerprint: fingerprintOf(o.fingerprint), sessionId: String(o.sessionId), ufrag: o.ufrag, port: o.port }));

const body: fc.Arbitrary<ContentBody> = fc.oneof(
  text.map((t): ContentBody => ({ type: 'text', text: t })),
  fileContent.map((file): ContentBody => ({ type: 'file', file })),
  fc.array(bytes(16), { minLength: 1, maxLength: 100 }).map((ids): ContentBody => ({ type: 'delivered', ids })),
  // docs/protocol/11 §11.6
  fc.record({ call: bytes(16), kem: bytes(1568), commit: bytes(32), sdp }).map((b): ContentBody => ({ type: 'call-offer', ...b })),
  fc.record({ call: bytes(16), dh: bytes(32), ct: bytes(1568) }).map((b): ContentBody => ({ type: 'call-ringing', ...b })),
  fc.record({ call: bytes(16), sdp }).map((b): ContentBody => ({ type: 'call-answer', ...b })),
  fc.record({ call: bytes(16), dh: bytes(32) }).map((b): ContentBody => ({ type: 'call-confirm', ...b })),
  fc.record({ call: bytes(16), reason: fc.constantFrom(...CALL_END_REASONS) }).map((b): ContentBody => ({ type: 'call-end', ...b })),
  fc.record({ call: bytes(16), file: fileContent, durationMs: fc.integer({ min: 0, max: MAX_VOICEMAIL_DURATION_MS }) }).map((b): ContentBody => ({ type: 'voicemail', ...b })),
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

const B16 = ID;
const B32 = PK;
const B1568 = 'A'.repeat(2090) + 'A'; // 1568 bytes: 2091 base64url characters, the last one's unused bits zero
const SDP = chromiumOffer({ fingerprint: fingerprintOf(new Uint8Array(32).fill(0xab)) });
const jstr = (v: string): string => JSON.stringify(v);
const offer = (f: Partial<Record<'call' | 'kem' | 'commit' | 'sdp', string>> = {}): string => {
  const o = { call: jstr(B16), kem: jstr(B1568), commit: jstr(B32), sdp: jstr(SDP), ...f };
  return `{"type":"call-offer","call":${o.call},"kem":${o.kem},"commit":${o.commit},"sdp":${o.sdp}}`;
};
const ringing = (f: Partial<Record<'call' | 'dh' | 'ct', string>> = {}): string => {
  const o = { call: jstr(B16), dh: jstr(B32), ct: jstr(B1568), ...f };
  return `{"type":"call-ringing","call":${o.call},"dh":${o.dh},"ct":${o.ct}}`;
};
const answer = (f: Partial<Record<'call' | 'sdp', string>> = {}): string => {
  const o = { call: jstr(B16), sdp: jstr(SDP), ...f };
  return `{"type":"call-answer","call":${o.call},"sdp":${o.sdp}}`;
};
const fileJson = `{"attachment":"${ID}","key":"${KEY}","digest":"${KEY}","size":10,"name":"voicemail.ogg","mime":"audio/ogg"}`;
const voicemail = (durationMs: string, call = jstr(B16)): string => `{"type":"voicemail","call":${call},"file":${fileJson},"durationMs":${durationMs}}`;

test('content: every rule of the call bodies of docs/protocol/11 §11.6, named', () => {
  assert.equal(B1568.length, Math.ceil((1568 * 4) / 3));
  const ok: [string, Uint8Array][] = [
    ['an offer', json(offer())],
    ['an answer', json(answer())],
    ['ringing', json(ringing())],
    ['a confirm', json(`{"type":"call-confirm","call":"${B16}","dh":"${B32}"}`)],
    ...CALL_END_REASONS.map((r): [string, Uint8Array] => [`an end with reason ${r}`, json(`{"type":"call-end","call":"${B16}","reason":"${r}"}`)]),
    ['a voicemail', json(voicemail('0'))],
    ['a voicemail of MAX_VOICEMAIL_DURATION_MS', json(voicemail(String(MAX_VOICEMAIL_DURATION_MS)))],
    ['an SDP with LF line ends', json(offer({ sdp: jstr(SDP.replace(/\r\n/g, '\n')) }))],
    ['an SDP whose fingerprint is lower-case', json(offer({ sdp: jstr(SDP.replace(/AB/g, 'ab')) }))],
  ];
  for (const [name, b] of ok) assert.doesNotThrow(() => decodeContent(b), name);
  const offerBody = decodeContent(json(offer())).body;
  assert.ok(offerBody.type === 'call-offer' && offerBody.kem.length === 1568 && offerBody.commit.length === 32 && offerBody.sdp === SDP);

  const audioLevel = SDP.replace('a=mid:0\r\n', 'a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n');
  const bad: [string, Uint8Array][] = [
    ['an offer with a 15-byte call id', json(offer({ call: jstr('AAAAAAAAAAAAAAAAAAAA') }))],
    ['an offer with a 1567-byte kem', json(offer({ kem: jstr('A'.repeat(2090)) }))],
    ['an offer with a 1569-byte kem', json(offer({ kem: jstr('A'.repeat(2092)) }))],
    ['an offer with a 31-byte commit', json(offer({ commit: jstr('A'.repeat(42)) }))],
    ['an offer without an SDP', json(`{"type":"call-offer","call":"${B16}","kem":"${B1568}","commit":"${B32}"}`)],
    ['an offer with an extra field', json(offer().replace('}', ',"x":1}'))],
    ['an offer whose SDP is a number', json(offer({ sdp: '5' }))],
    ['an SDP without a fingerprint', json(offer({ sdp: jstr(SDP.replace(/a=fingerprint[^\r]*\r\n/, '')) }))],
    ['an SDP with a sha-1 fingerprint', json(offer({ sdp: jstr(SDP.replace('sha-256', 'sha-1')) }))],
    ['an SDP with two different fingerprints', json(offer({ sdp: jstr(`${SDP}a=fingerprint:sha-256 ${Array(32).fill('CD').join(':')}\r\n`) }))],
    ['an SDP that negotiates ssrc-audio-level', json(offer({ sdp: jstr(audioLevel) }))],
    ['an SDP with a non-ASCII character', json(offer({ sdp: jstr(SDP.replace('s=-', 's=é')) }))],
    ['an SDP with a NUL', json(offer({ sdp: jstr(SDP.replace('s=-', 's=\u0000')) }))],
    ['an SDP over MAX_CALL_SDP_CHARS', json(offer({ sdp: jstr(SDP + 'a=x\r\n'.repeat(4000)) }))],
    ['ringing with a 31-byte dh', json(ringing({ dh: jstr('A'.repeat(42)) }))],
    ['ringing with a 1567-byte ct', json(ringing({ ct: jstr('A'.repeat(2090)) }))],
    ['ringing without ct', json(`{"type":"call-ringing","call":"${B16}","dh":"${B32}"}`)],
    ['ringing with an extra field', json(ringing().replace('}', ',"sdp":""}'))],
    ['an answer with a bad SDP', json(answer({ sdp: jstr('v=0\r\n') }))],
    ['an answer that still carries dh (the old shape)', json(answer().replace('}', `,"dh":"${B32}"}`))],
    ['a confirm without dh', json(`{"type":"call-confirm","call":"${B16}"}`)],
    ['a confirm with a 33-byte dh', json(`{"type":"call-confirm","call":"${B16}","dh":"${'A'.repeat(44)}"}`)],
    ['an end with an unknown reason', json(`{"type":"call-end","call":"${B16}","reason":"bored"}`)],
    ['an end with a reason in another case', json(`{"type":"call-end","call":"${B16}","reason":"Hangup"}`)],
    ['an end without a reason', json(`{"type":"call-end","call":"${B16}"}`)],
    ['a voicemail over MAX_VOICEMAIL_DURATION_MS', json(voicemail(String(MAX_VOICEMAIL_DURATION_MS + 1)))],
    ['a voicemail with a negative duration', json(voicemail('-1'))],
    ['a voicemail with a fractional duration', json(voicemail('1.5'))],
    ['a voicemail with a short call id', json(voicemail('1', jstr('AAAA')))],
    ['a voicemail whose file name has "/"', json(voicemail('1').replace('voicemail.ogg', 'a/b'))],
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
    ['an offer with a 1567-byte kem', { ...base, body: { type: 'call-offer', call: new Uint8Array(16), kem: new Uint8Array(1567), commit: new Uint8Array(32), sdp: SDP } }],
    ['an offer whose SDP has no fingerprint', { ...base, body: { type: 'call-offer', call: new Uint8Array(16), kem: new Uint8Array(1568), commit: new Uint8Array(32), sdp: 'v=0\r\n' } }],
    ['ringing with a 1569-byte ct', { ...base, body: { type: 'call-ringing', call: new Uint8Array(16), dh: new Uint8Array(32), ct: new Uint8Array(1569) } }],
    ['an answer whose SDP has no fingerprint', { ...base, body: { type: 'call-answer', call: new Uint8Array(16), sdp: 'v=0\r\n' } }],
    ['a confirm with a 31-byte dh', { ...base, body: { type: 'call-confirm', call: new Uint8Array(16), dh: new Uint8Array(31) } }],
    ['an end with an unknown reason', { ...base, body: { type: 'call-end', call: new Uint8Array(16), reason: 'bored' as 'hangup' } }],
    ['a 17-byte call id', { ...base, body: { type: 'call-ringing', call: new Uint8Array(17), dh: new Uint8Array(32), ct: new Uint8Array(1568) } }],
    [
      'a voicemail over MAX_VOICEMAIL_DURATION_MS',
      { ...base, body: { type: 'voicemail', call: new Uint8Array(16), durationMs: MAX_VOICEMAIL_DURATION_MS + 1, file: { attachment: new Uint8Array(16), key: new Uint8Array(32), digest: new Uint8Array(32), size: 1, name: 'v', mime: 'audio/ogg' } } },
    ],
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
