// Timing for bench/: warm-up, several rounds, medians. No assertions: targets are shown, not enforced.
import { performance } from 'node:perf_hooks';

/** One figure in bench/results/protocol.json (the file is an array of these). */
export interface Result {
  readonly metric: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: string;
  readonly baselineValue: number;
  /** value / baselineValue. For throughputs higher is better; for byte overheads lower is better. */
  readonly ratio: number;
}

/** Seconds taken by `f`. */
export async function seconds(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Relative spread of the rounds (interquartile range / median), to show how noisy a figure was. */
export function spread(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))] ?? Number.NaN;
  return (q(0.75) - q(0.25)) / median(xs);
}

/** Lets the event loop and the garbage collector run between measurements. */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
