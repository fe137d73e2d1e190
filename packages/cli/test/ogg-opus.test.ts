// The Ogg Opus muxer and strict demuxer (src/calls/ogg-opus.ts, RFC 7845 / RFC 3533) and the voicemail
// codec on top (src/calls/voicemail.ts). Properties: whatever packets go in come out, page by page as
// RFC 7845 lays them out; any one changed byte or any truncation is refused; arbitrary bytes are a
// result or ERR_CLI_AUDIO, never a crash. The CRC is checked against a second, bit-by-bit
// implementation written from RFC 3533's definition. The voicemail codec keeps the length exactly and
// the timing to within a few samples (the pre-skip is right), and a tone stays that tone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt, dominantTone, tone } from '@sotto/test-support';
import { isCliError } from '../src/errors.ts';
import { demuxOggOpus, muxOggOpus, oggCrc32, opusPacketSamples, MAX_PACKETS_PER_PAGE, OGG_OPUS_MIME, type OpusHead } from '../src/calls/ogg-opus.ts';
import { decodeOggOpus, encodeVoicemail, OPUS_PRE_SKIP } from '../src/calls/voicemail.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

/** RFC 3533 §6: "CRC checksum ... generator polynomial 0x04c11db7 ... initial value 0 ... no final XOR",
 *  bit by bit (the table-driven one under test must agree). */
function crcBitwise(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 24;
    for (let i = 0; i < 8; i++) crc = (crc & 0x8000_0000) !== 0 ? ((crc << 1) ^ 0x04c1_1db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}

/** A valid Opus packet shape: a TOC byte with code 0–2 (or code 3 with a frame count) and any payload. */
const opusPacket = fc
  .record({ config: fc.integer({ min: 0, max: 31 }), code: fc.integer({ min: 0, max: 3 }), frames: fc.integer({ min: 1, max: 6 }), body: fc.uint8Array({ maxLength: 600 }), big: fc.integer({ min: 0, max: 20 }) })
  .map(({ config, code, frames, body, big }) => {
    const toc = (config << 3) | code;
    // Now and then a packet longer than one page's 255 lacing values, so it spans pages.
    const payload = big === 0 ? new Uint8Array(255 * 255 + 77).fill(0xa5) : body;
    return Uint8Array.from(code === 3 ? [toc, frames, ...payload] : [toc, ...payload]);
  })
  .filter((p) => opusPacketSamples(p) !== undefined);

const stream = fc
  .record({
    packets: fc.array(opusPacket, { minLength: 1, maxLength: 120 }),
    preSkip: fc.integer({ min: 0, max: 0xffff }),
    trim: fc.double({ min: 0, max: 0.999, noNaN: true }),
    channels: fc.constantFrom<1 | 2>(1, 2),
    gain: fc.integer({ min: -0x8000, max: 0x7fff }),
    rate: fc.integer({ min: 0, max: 0xffff_ffff }),
    vendor: fc.string({ maxLength: 40 }),
    comments: fc.array(fc.string({ maxLength: 30 }), { maxLength: 4 }),
    serial: fc.integer({ min: 0, max: 0xffff_ffff }),
  })
  .map((s) => {
    const durations = s.packets.map((p) => opusPacketSamples(p) ?? 0);
    const total = durations.reduce((a, b) => a + b, 0);
    const last = durations[durations.length - 1] ?? 0;
    // The real length ends inside the last packet (end trimming, RFC 7845 §4.5).
    const samples = total - Math.floor(s.trim * last);
    return { ...s, samples };
  });

type Sample = ReturnType<typeof sample>;

function mux(s: Sample): Uint8Array {
  return muxOggOpus(s.packets, { head: headOf(s), serial: s.serial, vendor: s.vendor, comments: s.comments, samples: s.samples });
}
function sample(): { packets: Uint8Array[]; preSkip: number; channels: 1 | 2; gain: number; rate: number; vendor: string; comments: string[]; serial: number; samples: number } {
  return { packets: [Uint8Array.of(0x08, 1, 2, 3)], preSkip: 312, channels: 1, gain: 0, rate: 48_000, vendor: 'v', comments: ['A=b'], serial: 7, samples: 600 };
}
const headOf = (s: Sample): OpusHead => ({ channels: s.channels, preSkip: s.preSkip, inputSampleRate: s.rate, outputGain: s.gain });

/** The pages of a stream, read with nothing but RFC 3533's layout (independent of the demuxer). */
function pagesOf(bytes: Uint8Array): { flags: number; granule: bigint; seq: number; segments: number; crcOk: boolean }[] {
  const out = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    const segments = bytes[at + 26] ?? 0;
    let size = 0;
    for (let i = 0; i < segments; i++) size += bytes[at + 27 + i] ?? 0;
    const end = at + 27 + segments + size;
    const copy = bytes.slice(at, end);
    copy.fill(0, 22, 26);
    out.push({ flags: bytes[at + 5] ?? 0, granule: v.getBigInt64(at + 6, true), seq: v.getUint32(at + 18, true), segments, crcOk: crcBitwise(copy) === v.getUint32(at + 22, true) });
    at = end;
  }
  return out;
}

const refused = (bytes: Uint8Array): boolean => {
  try {
    demuxOggOpus(bytes);
    return false;
  } catch (e) {
    return isCliError(e, 'ERR_CLI_AUDIO') && e.message.startsWith('not a usable Ogg Opus file: ') && !e.message.includes('\n');
  }
};

test('Ogg CRC: the table-driven CRC agrees with the bit-by-bit definition of RFC 3533', async () => {
  await corpus.check('cli-ogg-crc', fc.uint8Array({ maxLength: 300 }), (b) => oggCrc32(b) === crcBitwise(b), { numRuns: 500 });
});

test('Ogg Opus (property): mux → demux gives back the head, tags, packets and length; the pages are RFC 7845’s', async () => {
  await corpus.check(
    'cli-ogg-roundtrip',
    stream,
    (s) => {
      const bytes = mux(s);
      const got = demuxOggOpus(bytes);
      assert.deepEqual(got.head, headOf(s));
      assert.equal(got.vendor, s.vendor);
      assert.deepEqual(got.comments, s.comments);
      assert.equal(got.packets.length, s.packets.length);
      got.packets.forEach((p, i) => {
        assert.deepEqual(p, s.packets[i]);
      });
      assert.equal(got.samples, s.samples);
      const pages = pagesOf(bytes);
      assert.ok(pages.every((p) => p.crcOk), 'every CRC matches the bitwise definition');
      assert.deepEqual(pages.map((p) => p.seq), pages.map((_, i) => i), 'sequence numbers 0, 1, 2, …');
      const [first, second] = pages;
      assert.ok(first !== undefined && second !== undefined);
      assert.equal(first.flags, 0x02, 'page 0: BOS');
      assert.equal(first.segments, 1, 'page 0: OpusHead alone');
      assert.equal(first.granule, 0n);
      assert.equal(second.granule, 0n, 'the tags page: granule 0');
      assert.equal((pages[pages.length - 1]?.flags ?? 0) & 0x04, 0x04, 'the last page: EOS');
      assert.ok(pages.slice(0, -1).every((p) => (p.flags & 0x04) === 0), 'EOS on the last page only');
      assert.equal(pages[pages.length - 1]?.granule, BigInt(s.preSkip + s.samples), 'the last granule: pre-skip + length');
      assert.ok(pages.every((p) => p.segments <= 255));
      return true;
    },
    { numRuns: 150 },
  );
});

test('Ogg Opus (property): any one changed byte, or any truncation, of a valid stream is refused', async () => {
  const s = { ...sample(), packets: Array.from({ length: MAX_PACKETS_PER_PAGE + 7 }, (_, i) => Uint8Array.of(0x08, i, i + 1)), samples: (MAX_PACKETS_PER_PAGE + 7) * 960 - 100 };
  const good = mux(s);
  assert.equal(pagesOf(good).length, 4, 'head, tags and two audio pages');
  await corpus.check(
    'cli-ogg-mutated',
    fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })),
    ([at, delta]) => {
      const b = good.slice();
      b[at] = ((b[at] ?? 0) + delta) & 0xff;
      return refused(b);
    },
    { numRuns: 1500 },
  );
  for (let cut = 0; cut < good.length; cut++) assert.ok(refused(good.subarray(0, cut)), `truncated to ${cut} bytes`);
  assert.ok(refused(Uint8Array.from([...good, 0])), 'a byte after the last page');
});

test('Ogg Opus (property): arbitrary bytes give a stream or one ERR_CLI_AUDIO line, never a crash', async () => {
  const check = (b: Uint8Array): boolean => {
    try {
      demuxOggOpus(b);
      return true;
    } catch (e) {
      return isCliError(e, 'ERR_CLI_AUDIO') && !e.message.includes('\n');
    }
  };
  await corpus.check('cli-ogg-bytes', fc.uint8Array({ maxLength: 400 }), check, { numRuns: 1000 });
  // Bytes that pass the page checks (valid CRCs) but not the Ogg Opus rules: a rebuilt page 0.
  const s = sample();
  const good = mux(s);
  await corpus.check(
    'cli-ogg-head-fields',
    fc.tuple(fc.nat({ max: 18 }), fc.integer({ min: 0, max: 255 })),
    ([at, value]) => {
      const b = good.slice();
      b[28 + at] = value; // inside OpusHead (page 0's body starts at 27 + 1 lacing value)
      b.fill(0, 22, 26);
      new DataView(b.buffer).setUint32(22, oggCrc32(b.subarray(0, 28 + 19)), true);
      return check(b);
    },
    { numRuns: 500 },
  );
});

test('Ogg Opus: what the muxer refuses to write, and the Opus TOC durations of RFC 6716 §3.1', () => {
  const s = sample();
  assert.throws(() => muxOggOpus([], { head: headOf(s), serial: 1, vendor: '', samples: 0 }), /no audio packets/);
  assert.throws(() => muxOggOpus([new Uint8Array(0)], { head: headOf(s), serial: 1, vendor: '', samples: 0 }), /not a valid Opus packet/);
  assert.throws(() => muxOggOpus([Uint8Array.of(0x08)], { head: headOf(s), serial: 1, vendor: '', samples: 961 }), /do not end in the last packet/, 'longer than the packets');
  assert.throws(() => muxOggOpus([Uint8Array.of(0x08), Uint8Array.of(0x08)], { head: headOf(s), serial: 1, vendor: '', samples: 959 }), /do not end in the last packet/, 'trimmed into the packet before the last');
  assert.equal(opusPacketSamples(Uint8Array.of(0x08)), 960, 'config 1 (SILK NB 20 ms), code 0');
  assert.equal(opusPacketSamples(Uint8Array.of((31 << 3) | 1)), 1920, 'CELT 20 ms, code 1: two frames');
  assert.equal(opusPacketSamples(Uint8Array.of((16 << 3) | 3, 48)), 48 * 120, 'CELT 2.5 ms × 48 = 120 ms');
  assert.equal(opusPacketSamples(Uint8Array.of((3 << 3) | 3, 3)), undefined, '3 × 60 ms is over 120 ms');
  assert.equal(opusPacketSamples(Uint8Array.of((3 << 3) | 3, 0)), undefined, 'code 3 with no frames');
  assert.equal(OGG_OPUS_MIME, 'audio/ogg; codecs=opus');
});

test('voicemail codec: a tone keeps its pitch and exact length; the pre-skip lines the output up with the input', () => {
  const input = tone(440, 1.5);
  const encoded = encodeVoicemail(input);
  assert.equal(encoded.durationMs, 1500);
  const s = demuxOggOpus(encoded.bytes);
  assert.equal(s.head.preSkip, OPUS_PRE_SKIP);
  assert.ok(s.packets.every((p) => opusPacketSamples(p) === 960), '20 ms packets');
  const out = decodeOggOpus(encoded.bytes);
  assert.equal(out.length, input.length, 'exactly the input length (pre-skip dropped, end trimmed)');
  const verdict = dominantTone(out.subarray(4800));
  assert.equal(verdict.dominant, 440);
  assert.ok(verdict.ratio > 100, `a clean tone (ratio ${verdict.ratio.toFixed(1)})`);
  // A chirp (no period to alias on): the decoded output is the input shifted by at most a few samples.
  const chirp = new Int16Array(48_000);
  let phase = 0;
  for (let i = 0; i < chirp.length; i++) {
    phase += (2 * Math.PI * (200 + (3000 * i) / chirp.length)) / 48_000;
    chirp[i] = Math.round(10_000 * Math.sin(phase));
  }
  const back = decodeOggOpus(encodeVoicemail(chirp).bytes);
  let bestLag = 0;
  let best = -Infinity;
  for (let lag = -400; lag <= 400; lag++) {
    let sum = 0;
    for (let i = 2_000; i < 40_000; i += 2) sum += (back[i + lag] ?? 0) * (chirp[i] ?? 0);
    if (sum > best) {
      best = sum;
      bestLag = lag;
    }
  }
  assert.ok(Math.abs(bestLag) <= 8, `the decoded chirp lines up with the input (lag ${bestLag} samples)`);
  assert.throws(() => encodeVoicemail(new Int16Array(0)), (e: unknown) => isCliError(e, 'ERR_CLI_AUDIO'));
});
