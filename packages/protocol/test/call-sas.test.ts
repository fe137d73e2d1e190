// SAS rendering (docs/protocol/11 §11.4; RFC 6189 §5.1.6) against the published word list and the RFC's
// base32 pseudocode, both read from ../shared/vectors/zrtp-rfc6189 at run time. RFC 6189 publishes no
// numeric SAS vectors (vectors README: "Not available anywhere we looked: SAS test vectors for ZRTP"), so
// the rendering is checked against a second computation written here from the RFC text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { checkWithCorpus, loadVectors, vectorPath } from '@sotto/test-support';
import { isProtocolError, renderSas } from '@sotto/protocol';
import { PGP_WORDS_EVEN, PGP_WORDS_ODD } from '../src/call/pgp-words.ts';

interface PgpWordList {
  readonly even: readonly string[];
  readonly odd: readonly string[];
}

const words = loadVectors<PgpWordList>('zrtp-rfc6189/pgp-word-list.json');
const rfcText = readFileSync(vectorPath('zrtp-rfc6189/zrtp-sas-and-retained-secrets.md'), 'utf8');
const corpusDir = new URL('corpus/', import.meta.url);

// The alphabet as the RFC's pseudocode line spells it: result[i] = "ybnd…"[n];
const alphabetMatch = /result\[i\] = "([a-z0-9]{32})"\[n\];/.exec(rfcText);
if (alphabetMatch?.[1] === undefined) throw new Error('zrtp-sas-and-retained-secrets.md: the base32() pseudocode line is missing');
const ALPHABET = alphabetMatch[1];

/** RFC 6189 §5.1.6 base32(), re-implemented from the pseudocode with plain arithmetic (no bit operators):
 *  for (i=0,shift=27; i!=4; ++i,shift-=5) { n = (bits>>shift) & 31; result[i] = alphabet[n]; } */
function rfcBase32(bits: number): string {
  let result = '';
  for (let i = 0, shift = 27; i !== 4; ++i, shift -= 5) {
    const n = Math.floor(bits / 2 ** shift) % 32;
    result += ALPHABET.charAt(n);
  }
  return result;
}

/** sasvalue as a big-endian 32-bit integer ("network byte order"). */
function bitsOf(v: Uint8Array): number {
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, false);
}

test('the generated word table (src/call/pgp-words.ts) equals pgp-word-list.json', () => {
  assert.equal(words.even.length, 256);
  assert.equal(words.odd.length, 256);
  assert.deepEqual([...PGP_WORDS_EVEN], [...words.even], 'even list; regenerate with node scripts/gen-pgp-words.mjs');
  assert.deepEqual([...PGP_WORDS_ODD], [...words.odd], 'odd list; regenerate with node scripts/gen-pgp-words.mjs');
});

test('B256: all 65536 two-byte prefixes render as even[b0], odd[b1] (RFC 6189 §5.1.6)', () => {
  for (let b0 = 0; b0 < 256; b0++) {
    for (let b1 = 0; b1 < 256; b1++) {
      const sas = renderSas(Uint8Array.of(b0, b1, (b0 * 7) & 0xff, (b1 * 13) & 0xff));
      const want = [words.even[b0], words.odd[b1]];
      if (sas.words[0] !== want[0] || sas.words[1] !== want[1]) {
        assert.deepEqual(sas.words, want, `sasvalue ${b0.toString(16)} ${b1.toString(16)}`);
      }
    }
  }
});

test('B32: every one of the 2^20 leftmost-20-bit values matches the RFC pseudocode', () => {
  const v = new Uint8Array(4);
  for (let top = 0; top < 1 << 20; top++) {
    const bits = top * 4096 + ((top * 2654435761) % 4096); // leftmost 20 bits = top, varied low 12 bits
    new DataView(v.buffer).setUint32(0, bits, false);
    const got = renderSas(v).base32;
    if (got !== rfcBase32(bits)) assert.equal(got, rfcBase32(bits), `sasvalue 0x${bits.toString(16)}`);
  }
});

test('the extreme values, with the tables read from the JSON file', () => {
  const zero = renderSas(new Uint8Array(4));
  assert.deepEqual(zero.words, [words.even[0], words.odd[0]]);
  assert.equal(zero.base32, ALPHABET.charAt(0).repeat(4));
  const ones = renderSas(Uint8Array.of(255, 255, 255, 255));
  assert.deepEqual(ones.words, [words.even[255], words.odd[255]]);
  assert.equal(ones.base32, ALPHABET.charAt(31).repeat(4));
});

test('renderSas refuses a value that is not 4 bytes (ERR_ARGUMENT) and copies its input', () => {
  for (const n of [0, 1, 3, 5, 32]) assert.throws(() => renderSas(new Uint8Array(n)), (e) => isProtocolError(e, 'ERR_ARGUMENT'), `${n} bytes`);
  const input = Uint8Array.of(1, 2, 3, 4);
  const sas = renderSas(input);
  input.fill(9);
  assert.deepEqual([...sas.value], [1, 2, 3, 4]);
});

test('property: words come from the lists by byte, base32 depends only on the leftmost 20 bits', async () => {
  const arb = fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 4095 }));
  await checkWithCorpus(corpusDir, 'call-sas-render', arb, ([value, low]) => {
    const sas = renderSas(value);
    assert.deepEqual(sas.words, [words.even[value[0] ?? -1], words.odd[value[1] ?? -1]]);
    assert.equal(sas.base32, rfcBase32(bitsOf(value)));
    assert.match(sas.base32, new RegExp(`^[${ALPHABET}]{4}$`));
    const bits = bitsOf(value);
    const sameTop = new Uint8Array(4);
    new DataView(sameTop.buffer).setUint32(0, bits - (bits % 4096) + low, false);
    assert.equal(renderSas(sameTop).base32, sas.base32, 'the low 12 bits do not show in B32');
    assert.deepEqual([...sas.value], [...value]);
  }, { numRuns: 1000 });
});
