// The audio pieces of `sotto call` / `sotto answer` on their own: the WAV codec (src/calls/wav.ts),
// the Opus wrapper (src/calls/opus.ts) and the recording timeline (src/calls/timeline.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { corpusAt, dominantTone, tone } from '@sotto/test-support';
import { isCliError } from '../src/errors.ts';
import { FRAME_SAMPLES, OpusDecoder, OpusEncoder } from '../src/calls/opus.ts';
import { AudioTimeline } from '../src/calls/timeline.ts';
import { WavWriter, encodeWav, parseWav, resampleLinear, toMono48k, type PcmAudio } from '../src/calls/wav.ts';
import { MAX_RECORD_GAP_SAMPLES } from '../src/limits.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));
const latin = (text: string): Uint8Array => new TextEncoder().encode(text);

function audioError(bytes: Uint8Array, pattern: RegExp, what: string): void {
  assert.throws(
    () => parseWav(bytes),
    (e: unknown) => {
      assert.ok(isCliError(e, 'ERR_CLI_AUDIO'), `${what}: expected ERR_CLI_AUDIO, got ${String(e)}`);
      assert.match(e.message, pattern, what);
      return true;
    },
  );
}

/** A WAV with a hand-made fmt chunk: format, channels, rate, bits. */
function customWav(o: { format?: number; channels?: number; rate?: number; bits?: number; data?: Uint8Array; extra?: Uint8Array } = {}): Uint8Array {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const rate = o.rate ?? 48_000;
  const data = o.data ?? new Uint8Array(channels * (bits / 8) * 4);
  const extra = o.extra ?? new Uint8Array(0);
  const out = new Uint8Array(12 + 8 + 16 + extra.length + 8 + data.length);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  out.set(extra, 12);
  let at = 12 + extra.length;
  ascii(at, 'fmt ');
  v.setUint32(at + 4, 16, true);
  v.setUint16(at + 8, o.format ?? 1, true);
  v.setUint16(at + 10, channels, true);
  v.setUint32(at + 12, rate, true);
  v.setUint32(at + 16, (rate * channels * bits) / 8, true);
  v.setUint16(at + 20, (channels * bits) / 8, true);
  v.setUint16(at + 22, bits, true);
  at += 24;
  ascii(at, 'data');
  v.setUint32(at + 4, data.length, true);
  out.set(data, at + 8);
  return out;
}

test('WAV: encode → parse gives back the samples, mono and stereo, at any accepted rate', () => {
  const mono = tone(440, 0.1);
  assert.deepEqual(parseWav(encodeWav(mono, 48_000, 1)), { sampleRate: 48_000, channels: 1, samples: mono });
  const st = Int16Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? i * 100 : -i * 100));
  assert.deepEqual(parseWav(encodeWav(st, 22_050, 2)), { sampleRate: 22_050, channels: 2, samples: st });
  assert.deepEqual(parseWav(encodeWav(new Int16Array([-32768, 32767]), 8_000)).samples, new Int16Array([-32768, 32767]));
});

test('WAV: other chunks are skipped (odd sizes padded), extensible PCM and streamed sizes are accepted', () => {
  const list = Uint8Array.from([...latin('LIST'), 3, 0, 0, 0, 1, 2, 3, 0]); // odd size + pad byte
  const data = Uint8Array.from([1, 0, 2, 0]);
  assert.deepEqual(parseWav(customWav({ extra: list, data })).samples, new Int16Array([1, 2]));
  // A data size of 0xFFFFFFFF (a writer that streamed to a pipe): up to the end of the file.
  const streamed = customWav({ data: Uint8Array.from([5, 0, 6, 0, 7]) });
  new DataView(streamed.buffer).setUint32(streamed.length - 5 - 4, 0xffff_ffff, true);
  assert.deepEqual(parseWav(streamed).samples, new Int16Array([5, 6]), 'the odd trailing byte is not a whole frame');
  // WAVE_FORMAT_EXTENSIBLE with the PCM sub-format GUID.
  const ext = new Uint8Array(12 + 8 + 40 + 8 + 4);
  ext.set(customWav({ data: new Uint8Array(0) }).subarray(0, 36));
  const v = new DataView(ext.buffer);
  v.setUint32(16, 40, true);
  v.setUint16(20, 0xfffe, true);
  v.setUint16(36, 22, true); // cbSize
  v.setUint16(38, 16, true); // valid bits
  ext.set([0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 44);
  ext.set(latin('data'), 60);
  v.setUint32(64, 4, true);
  ext.set([9, 0, 10, 0], 68);
  v.setUint32(4, ext.length - 8, true);
  assert.deepEqual(parseWav(ext), { sampleRate: 48_000, channels: 1, samples: new Int16Array([9, 10]) });
});

test('WAV: what cannot be played is one clear ERR_CLI_AUDIO sentence', () => {
  audioError(new Uint8Array(0), /expected a RIFF\/WAVE header/, 'empty');
  audioError(new TextEncoder().encode('RIFF\0\0\0\0AVI LIST'), /expected a RIFF\/WAVE header/, 'not WAVE');
  audioError(customWav({ bits: 8 }), /8-bit samples; only 16-bit PCM/, '8-bit');
  audioError(customWav({ bits: 24 }), /24-bit samples/, '24-bit');
  audioError(customWav({ format: 3, bits: 32 }), /not PCM \(format 0x0003\)/, 'float');
  audioError(customWav({ format: 6, bits: 8 }), /not PCM \(format 0x0006\)/, 'A-law');
  audioError(customWav({ channels: 3 }), /3 channels; only mono or stereo/, '3 channels');
  audioError(customWav({ rate: 4_000 }), /sample rate is 4000 Hz/, 'too low a rate');
  audioError(customWav({ rate: 384_000 }), /sample rate is 384000 Hz/, 'too high a rate');
  const full = customWav({ data: new Uint8Array(8) });
  audioError(full.subarray(0, full.length - 2), /truncated: its data chunk declares 8 bytes, 6 are present/, 'truncated');
  audioError(customWav({ data: new Uint8Array(3) }), /not a whole number of 2-byte frames/, 'half a sample');
  const noFmt = encodeWav(new Int16Array(2), 48_000);
  noFmt.set(latin('junk'), 12);
  audioError(noFmt, /"data" chunk comes before the "fmt " chunk/, 'no fmt');
  audioError(encodeWav(new Int16Array(2), 48_000).subarray(0, 36), /no "data" chunk/, 'no data');
});

test('WAV (property): arbitrary bytes, or a valid file with bytes changed, give a valid result or ERR_CLI_AUDIO — never a crash', async () => {
  const valid = (a: PcmAudio): boolean =>
    [1, 2].includes(a.channels) && a.sampleRate >= 8_000 && a.sampleRate <= 192_000 && a.samples instanceof Int16Array && a.samples.length % a.channels === 0;
  const check = (bytes: Uint8Array): boolean => {
    try {
      return valid(parseWav(bytes));
    } catch (e) {
      return isCliError(e, 'ERR_CLI_AUDIO') && !e.message.includes('\n');
    }
  };
  await corpus.check('cli-wav-bytes', fc.uint8Array({ maxLength: 300 }), check, { numRuns: 2000 });
  const base = customWav({ channels: 2, data: new Uint8Array(16) });
  await corpus.check(
    'cli-wav-mutated',
    fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).chain((edits) => fc.tuple(fc.constant(edits), fc.nat({ max: base.length }))),
    ([edits, cut]) => {
      const b = base.slice();
      for (const [at, value] of edits) b[at] = value;
      return check(b.subarray(0, cut));
    },
    { numRuns: 2000 },
  );
});

test('toMono48k: stereo is averaged; other rates are resampled by linear interpolation, keeping the pitch', () => {
  assert.deepEqual(toMono48k({ sampleRate: 48_000, channels: 2, samples: new Int16Array([100, 300, -5, -7, 32767, 32767]) }), new Int16Array([200, -6, 32767]));
  // Linear interpolation, exactly: 24 kHz → 48 kHz puts the midpoint between neighbours.
  assert.deepEqual(resampleLinear(new Int16Array([0, 100, 200]), 24_000, 48_000), new Int16Array([0, 50, 100, 150, 200, 200]));
  for (const rate of [8_000, 16_000, 44_100, 96_000]) {
    const out = toMono48k({ sampleRate: rate, channels: 1, samples: tone(660, 0.5, 12_000, rate) });
    assert.equal(out.length, 24_000, `${rate} Hz: 0.5 s is 24000 samples at 48 kHz`);
    assert.equal(dominantTone(out).dominant, 660, `${rate} Hz: still 660 Hz`);
  }
});

test('Opus: a tone survives encode → decode (20 ms frames), and misuse is a clear error', () => {
  const enc = new OpusEncoder();
  const dec = new OpusDecoder();
  try {
    const input = tone(440, 1);
    const decoded: Int16Array[] = [];
    for (let at = 0; at + FRAME_SAMPLES <= input.length; at += FRAME_SAMPLES) {
      const packet = enc.encode(input.subarray(at, at + FRAME_SAMPLES));
      assert.ok(packet.length > 0 && packet.length < 400, `a packet of ${packet.length} bytes`);
      const pcm = dec.decode(packet);
      assert.equal(pcm.length, FRAME_SAMPLES);
      decoded.push(pcm);
    }
    const all = new Int16Array(decoded.length * FRAME_SAMPLES);
    decoded.forEach((p, i) => {
      all.set(p, i * FRAME_SAMPLES);
    });
    const verdict = dominantTone(all.subarray(FRAME_SAMPLES * 5)); // past the codec's start-up
    assert.equal(verdict.dominant, 440);
    assert.ok(verdict.ratio > 100, `clean tone (ratio ${verdict.ratio.toFixed(1)})`);
    assert.throws(() => enc.encode(new Int16Array(100)), /expected 960 samples, got 100/);
    assert.throws(() => dec.decode(new Uint8Array(0)), /empty packet/);
    // Random bytes: either libopus refuses them (an Error) or they decode to samples — never a crash.
    for (let i = 0; i < 50; i++) {
      const junk = Uint8Array.from({ length: 1 + ((i * 37) % 200) }, (_, j) => (i * 131 + j * 17) & 0xff);
      try {
        assert.ok(dec.decode(junk) instanceof Int16Array);
      } catch (e) {
        assert.ok(e instanceof Error);
      }
    }
  } finally {
    enc.close();
    dec.close();
  }
  assert.throws(() => enc.encode(new Int16Array(FRAME_SAMPLES)), /used after close/);
});

test('AudioTimeline: gaps become silence (bounded), late audio is cut, so the recording keeps the call’s timing', () => {
  const parts: Int16Array[] = [];
  const t = new AudioTimeline((s) => {
    parts.push(s.slice());
  });
  const f = (v: number, n = 4): Int16Array => new Int16Array(n).fill(v);
  t.put(f(1), 0);
  t.put(f(2), 8); // 4 lost samples
  t.put(f(3), 10); // overlaps the last two
  assert.deepEqual([...parts.flatMap((p) => [...p])], [1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 3, 3]);
  t.put(f(4), 14 + MAX_RECORD_GAP_SAMPLES + 100); // a pause longer than the bound: filled up to it
  assert.equal(t.length, 14 + MAX_RECORD_GAP_SAMPLES + 4);
  t.put(f(5), 14 + MAX_RECORD_GAP_SAMPLES + 104); // and the positions after it stay contiguous
  assert.equal(t.length, 14 + MAX_RECORD_GAP_SAMPLES + 8);
});

test('WavWriter: streams to disk and patches the header on close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-wav-'));
  try {
    const path = join(dir, 'out.wav');
    const w = await WavWriter.create(path);
    w.write(new Int16Array([1, 2, 3]));
    w.write(new Int16Array([-4]));
    await w.close();
    assert.equal(w.samples, 4);
    assert.deepEqual(parseWav(new Uint8Array(readFileSync(path))), { sampleRate: 48_000, channels: 1, samples: new Int16Array([1, 2, 3, -4]) });
    await assert.rejects(WavWriter.create(join(dir, 'missing', 'x.wav')), (e: unknown) => isCliError(e, 'ERR_CLI_AUDIO') && /cannot write the recording .*ENOENT/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
