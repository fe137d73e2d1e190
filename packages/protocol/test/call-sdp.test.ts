// The SDP rules of a call (docs/protocol/11 §11.2.4): sdpFingerprint accepts Chromium's real SDP shape and
// returns the canonical fingerprint, refuses everything the spec refuses with ERR_CALL_SDP, and never
// crashes on any string (property tests, STYLE.md §12); stripAudioLevel removes exactly the RFC 6464 lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkWithCorpus, chromiumAnswer, chromiumOffer, digestBytes, fingerprintOf } from '@sotto/test-support';
import { isProtocolError, limits, sdpFingerprint, stripAudioLevel } from '@sotto/protocol';

const corpusDir = new URL('corpus/', import.meta.url);
const CANONICAL = /^sha-256 [0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;
const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** RFC 6465: a mixer's per-contributor levels, in the clear. */
const CSRC_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:csrc-audio-level';
const namesLevel = (lower: string): boolean => lower.startsWith('a=extmap') && (lower.includes(AUDIO_LEVEL) || lower.includes(CSRC_AUDIO_LEVEL));

function refused(sdp: string, what: string): void {
  assert.throws(
    () => sdpFingerprint(sdp),
    (e) => {
      assert.ok(isProtocolError(e, 'ERR_CALL_SDP'), `${what}: expected ERR_CALL_SDP, got ${String(e)}`);
      return true;
    },
    what,
  );
}

/** The SDP with its fingerprint line replaced by `lines` (several lines allowed, or none). */
function withFingerprintLines(sdp: string, lines: readonly string[]): string {
  return sdp.replace(/a=fingerprint:[^\r\n]*\r\n/, lines.map((l) => `${l}\r\n`).join(''));
}

test('Chromium offer and answer (audio level stripped) give their canonical fingerprints', () => {
  assert.equal(sdpFingerprint(chromiumOffer()), fingerprintOf(digestBytes(1)));
  assert.equal(sdpFingerprint(chromiumAnswer()), fingerprintOf(digestBytes(2)));
  assert.match(sdpFingerprint(chromiumOffer()), CANONICAL);
});

test('the fingerprint is case-insensitive on input and upper-case on output (RFC 8122 §5)', () => {
  const d = digestBytes(7);
  assert.equal(sdpFingerprint(chromiumOffer({ fingerprint: fingerprintOf(d, false) })), fingerprintOf(d));
  assert.equal(sdpFingerprint(chromiumOffer({ fingerprint: fingerprintOf(d).replace('sha-256', 'SHA-256') })), fingerprintOf(d));
});

test('LF-only line endings are accepted; the same fingerprint repeated (session and media level) counts once', () => {
  assert.equal(sdpFingerprint(chromiumOffer({ eol: '\n' })), fingerprintOf(digestBytes(1)));
  const fp = fingerprintOf(digestBytes(1));
  const twice = withFingerprintLines(chromiumOffer(), [`a=fingerprint:${fp}`, `a=fingerprint:${fingerprintOf(digestBytes(1), false)}`]);
  assert.equal(sdpFingerprint(twice), fp);
});

test('no fingerprint, two different ones, or one of another hash function is refused', () => {
  refused(withFingerprintLines(chromiumOffer(), []), 'no fingerprint');
  refused(withFingerprintLines(chromiumOffer(), [`a=fingerprint:${fingerprintOf(digestBytes(1))}`, `a=fingerprint:${fingerprintOf(digestBytes(9))}`]), 'two distinct');
  refused(chromiumOffer() + `a=fingerprint:${fingerprintOf(digestBytes(3))}\r\n`, 'a second distinct one at the end');
  const sha1 = 'sha-1 ' + [...digestBytes(4).slice(0, 20)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  const sha384 = 'sha-384 ' + [...digestBytes(4), ...digestBytes(5).slice(0, 16)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  refused(chromiumOffer({ fingerprint: sha1 }), 'sha-1 only');
  refused(chromiumOffer({ fingerprint: sha384 }), 'sha-384 only');
  refused(withFingerprintLines(chromiumOffer(), [`a=fingerprint:${fingerprintOf(digestBytes(1))}`, `a=fingerprint:${sha1}`]), 'sha-256 plus sha-1');
  refused(chromiumOffer({ fingerprint: fingerprintOf(digestBytes(1)).replace('sha-256', 'sha-512') }), 'sha-512 label on 32 bytes');
});

test('a malformed sha-256 fingerprint line is refused', () => {
  const fp = fingerprintOf(digestBytes(1));
  const hex = fp.slice('sha-256 '.length);
  const bad = [
    `sha-256 ${hex.slice(0, -3)}`, //                     31 pairs
    `sha-256 ${hex}:AB`, //                               33 pairs
    `sha-256 ${hex.replace(/:/g, '')}`, //                no colons
    `sha-256 ${hex.replace(':', '-')}`, //                another separator
    `sha-256  ${hex}`, //                                 two spaces
    `sha-256 ${hex} `, //                                 trailing space
    `sha-256 ${hex.replace('3', 'G')}`.replace(/^sha-256 [^:]*/, 'sha-256 GG'), // not hex
    `sha-256`,
    hex, //                                               no hash function
  ];
  for (const v of bad) refused(chromiumOffer({ fingerprint: v }), `fingerprint value ${JSON.stringify(v.slice(0, 20))}…`);
  refused(chromiumOffer().replace('a=fingerprint:', 'a=fingerprint: '), 'space after the colon');
  refused(chromiumOffer().replace('a=fingerprint:', '  a=fingerprint:'), 'leading blanks');
  refused(chromiumOffer().replace('a=fingerprint:', 'A=FINGERPRINT:').replace('\r\na=setup', `\r\na=fingerprint:${fingerprintOf(digestBytes(8))}\r\na=setup`), 'an upper-case attribute counts as a fingerprint');
});

test('ssrc-audio-level is refused until stripAudioLevel removes it (RFC 6464)', () => {
  const raw = chromiumOffer({ audioLevel: true });
  refused(raw, 'Chromium offer with ssrc-audio-level');
  refused(chromiumAnswer({ audioLevel: true }), 'Chromium answer with ssrc-audio-level');
  const stripped = stripAudioLevel(raw);
  assert.equal(stripped, chromiumOffer(), 'exactly the extmap line is removed, every other line and ending kept');
  assert.equal(stripAudioLevel(stripped), stripped, 'idempotent');
  assert.equal(stripAudioLevel(chromiumOffer({ audioLevel: true, eol: '\n' })), chromiumOffer({ eol: '\n' }));
  // RFC 6904's encrypted form names the URI too; a direction, odd case and the last line without a newline.
  const variants = [
    `a=extmap:5 urn:ietf:params:rtp-hdrext:encrypt ${AUDIO_LEVEL}`,
    `a=extmap:6/sendonly ${AUDIO_LEVEL} vad=on`,
    `a=EXTMAP:7 ${AUDIO_LEVEL.toUpperCase()}`,
  ];
  for (const v of variants) {
    const sdp = chromiumOffer() + v + '\r\n';
    refused(sdp, v);
    assert.equal(stripAudioLevel(sdp), chromiumOffer(), v);
    assert.equal(stripAudioLevel(chromiumOffer() + v), chromiumOffer(), `${v} (no final newline)`);
  }
  // Other lines that mention extmap stay.
  assert.ok(stripAudioLevel(raw).includes('a=extmap-allow-mixed\r\n'));
  assert.ok(stripAudioLevel(raw).includes('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n'));
});

test('size and character limits: MAX_CALL_SDP_CHARS, printable ASCII, CR only in CRLF', () => {
  const base = chromiumOffer();
  const pad = (n: number): string => base + 'a=x-pad:' + 'p'.repeat(n - base.length - 'a=x-pad:'.length - 2) + '\r\n';
  assert.equal(pad(limits.MAX_CALL_SDP_CHARS).length, limits.MAX_CALL_SDP_CHARS);
  assert.match(sdpFingerprint(pad(limits.MAX_CALL_SDP_CHARS)), CANONICAL);
  refused(pad(limits.MAX_CALL_SDP_CHARS + 1), 'one character over the limit');
  for (const [what, ch] of [['tab', '\t'], ['NUL', '\0'], ['DEL', '\x7f'], ['é', 'é'], ['emoji', '😀'], ['lone surrogate', '\ud800'], ['U+2028', '\u2028']] as const) {
    refused(base.replace('s=-', `s=-${ch}`), what);
  }
  refused(base.replace('s=-\r\n', 's=-\r'), 'a CR that does not end a line');
  refused(base.replace('s=-\r\n', `s=-\ra=fingerprint:${fingerprintOf(digestBytes(6))}\r\n`), 'a lone CR hiding a second fingerprint');
  refused('', 'empty');
});

// ---------------------------------------------------------------------------------------------
// Properties

const sdpLine = fc.oneof(
  fc.constantFrom(...chromiumOffer({ audioLevel: true }).split('\r\n')),
  fc.constantFrom(`a=fingerprint:${fingerprintOf(digestBytes(1))}`, `a=fingerprint:${fingerprintOf(digestBytes(2), false)}`, 'a=fingerprint:sha-1 AB:CD', `a=extmap:9 ${AUDIO_LEVEL}`, `a=extmap:10 ${CSRC_AUDIO_LEVEL}`),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Independent model of §11.2.4 (as the test reads the spec): the canonical fingerprint, or 'refused'. */
function model(sdp: string): string {
  if (sdp.length > limits.MAX_CALL_SDP_CHARS) return 'refused';
  for (const ch of sdp) {
    const c = ch.codePointAt(0) ?? 0;
    if (!(c === 10 || c === 13 || (c >= 0x20 && c <= 0x7e))) return 'refused';
  }
  if (sdp.replace(/\r\n/g, '').includes('\r')) return 'refused';
  const fps = new Set<string>();
  for (const raw of sdp.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lower = line.trimStart().toLowerCase();
    if (namesLevel(lower)) return 'refused';
    if (!lower.startsWith('a=fingerprint')) continue;
    const m = /^a=fingerprint:sha-256 ((?:[0-9a-f]{2}:){31}[0-9a-f]{2})$/i.exec(line);
    if (m?.[1] === undefined) return 'refused';
    fps.add(m[1].toUpperCase());
  }
  const [only] = fps;
  return fps.size === 1 && only !== undefined ? `sha-256 ${only}` : 'refused';
}

function outcome(sdp: string): string {
  try {
    const fp = sdpFingerprint(sdp);
    assert.match(fp, CANONICAL);
    return fp;
  } catch (e) {
    if (!isProtocolError(e, 'ERR_CALL_SDP')) throw e;
    return 'refused';
  }
}

test('property: any string gives the canonical fingerprint or ERR_CALL_SDP, never a crash', async () => {
  await checkWithCorpus(corpusDir, 'call-sdp-any-string', fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 })), (s) => {
    assert.equal(outcome(s), model(s));
    assert.equal(typeof stripAudioLevel(s), 'string');
  }, { numRuns: 500 });
});

test('property: SDPs assembled from real and hostile lines agree with the model of §11.2.4', async () => {
  const arb = fc.tuple(fc.array(sdpLine, { maxLength: 50 }), fc.constantFrom('\r\n', '\n', '\r'));
  await checkWithCorpus(corpusDir, 'call-sdp-lines', arb, ([lines, eol]) => {
    const sdp = lines.join(eol);
    assert.equal(outcome(sdp), model(sdp));
  }, { numRuns: 500 });
});

test('csrc-audio-level (RFC 6465, a mixer\'s per-contributor levels in the clear) is refused and stripped like ssrc-audio-level', () => {
  for (const v of [`a=extmap:8 ${CSRC_AUDIO_LEVEL}`, `a=extmap:8/recvonly ${CSRC_AUDIO_LEVEL} vad=on`, `a=extmap:9 urn:ietf:params:rtp-hdrext:encrypt ${CSRC_AUDIO_LEVEL.toUpperCase()}`]) {
    const sdp = chromiumOffer() + v + '\r\n';
    refused(sdp, v);
    assert.equal(stripAudioLevel(sdp), chromiumOffer(), v);
    assert.equal(sdpFingerprint(stripAudioLevel(sdp)), sdpFingerprint(chromiumOffer()));
  }
});

test('property: after stripAudioLevel no line negotiates ssrc-audio-level, other lines are kept in order', async () => {
  const arb = fc.tuple(fc.array(sdpLine, { maxLength: 50 }), fc.constantFrom('\r\n', '\n'));
  await checkWithCorpus(corpusDir, 'call-sdp-strip', arb, ([lines, eol]) => {
    const sdp = lines.join(eol);
    const stripped = stripAudioLevel(sdp);
    assert.equal(stripAudioLevel(stripped), stripped);
    const isAudioLevel = (l: string): boolean => namesLevel(l.replace(/\r$/, '').trimStart().toLowerCase());
    const kept = sdp.split('\n').filter((l, i, all) => !isAudioLevel(l) || (i === all.length - 1 && l === ''));
    const strippedLines = stripped.split('\n');
    assert.ok(!strippedLines.some(isAudioLevel));
    assert.deepEqual(strippedLines.filter((l) => l !== ''), kept.filter((l) => l !== ''));
    const r = outcome(stripped);
    if (r === 'refused') {
      try {
        sdpFingerprint(stripped);
      } catch (e) {
        assert.ok(!String(e).includes('ssrc-audio-level'), 'a stripped SDP is never refused for the audio level');
      }
    }
  }, { numRuns: 300 });
});
