// Audio a call test can judge (shared/notes/browser-calls.md "Audio that a test can judge"): a pure
// tone per side, and the Goertzel algorithm (a single-bin DFT) to find which tone a recording holds and
// how far it stands above every other candidate frequency. "Some audio" is not enough: ciphertext fed
// to an Opus decoder plays as loud noise, which has energy everywhere. Used by the CLI's and the web
// client's call tests alike (signed 16-bit samples, as WAV and Opus carry them).

/** The rate call audio runs at (RFC 7587 §4.1: Opus RTP always uses a 48 kHz clock). */
const CALL_SAMPLE_RATE = 48_000;

/** `seconds` of a sine at `hz`, mono 48 kHz, amplitude `amplitude` (of 32767). */
export function tone(hz: number, seconds: number, amplitude = 12_000, rate = CALL_SAMPLE_RATE): Int16Array {
  const out = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

/** Interleaves a mono signal into two identical channels. */
export function stereo(mono: Int16Array): Int16Array {
  const out = new Int16Array(mono.length * 2);
  mono.forEach((x, i) => {
    out[2 * i] = x;
    out[2 * i + 1] = x;
  });
  return out;
}

/** Float samples in [-1, 1] (Web Audio's) as signed 16-bit ones. */
export function fromFloat(samples: ArrayLike<number>): Int16Array {
  return Int16Array.from(samples, (x) => Math.round(Math.max(-1, Math.min(1, x)) * 32767));
}

/** Power of `samples` at `hz` (Goertzel; normalised by the length squared). */
export function goertzel(samples: Int16Array, hz: number, rate = CALL_SAMPLE_RATE): number {
  const w = (2 * Math.PI * hz) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return power / (samples.length * samples.length);
}

/** The candidates a recording is judged against: 100 Hz to 3 kHz in 20 Hz steps (both test tones are on the grid). */
export const CANDIDATE_HZ: readonly number[] = Array.from({ length: (3000 - 100) / 20 + 1 }, (_, i) => 100 + 20 * i);

export interface ToneVerdict {
  /** The candidate frequency with the most power. */
  readonly dominant: number;
  /** Power at `dominant` over the largest power at any candidate more than 60 Hz away from it. */
  readonly ratio: number;
  /** RMS of the analysed part, of 32767. */
  readonly rms: number;
}

/** Finds the dominant tone of `samples` among CANDIDATE_HZ. */
export function dominantTone(samples: Int16Array): ToneVerdict {
  const powers = CANDIDATE_HZ.map((hz) => ({ hz, p: goertzel(samples, hz) }));
  const best = powers.reduce((a, b) => (b.p > a.p ? b : a));
  const rest = Math.max(...powers.filter((x) => Math.abs(x.hz - best.hz) > 60).map((x) => x.p));
  let sum = 0;
  for (const x of samples) sum += x * x;
  return { dominant: best.hz, ratio: best.p / Math.max(rest, Number.MIN_VALUE), rms: Math.sqrt(sum / Math.max(1, samples.length)) };
}

/** The loudest `seconds`-long window of `samples` (where the peer's tone is, whatever the start-up delays). */
export function loudestWindow(samples: Int16Array, seconds: number, rate = CALL_SAMPLE_RATE): Int16Array {
  const n = Math.min(samples.length, Math.round(seconds * rate));
  const hop = rate / 10;
  let bestAt = 0;
  let bestEnergy = -1;
  for (let at = 0; at + n <= samples.length; at += hop) {
    let e = 0;
    for (let i = at; i < at + n; i += 4) e += (samples[i] ?? 0) ** 2;
    if (e > bestEnergy) {
      bestEnergy = e;
      bestAt = at;
    }
  }
  return samples.subarray(bestAt, bestAt + n);
}
