// Prints the results as a table and writes them as JSON (bench/results/protocol.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Result } from './harness.ts';

/** A target from the brief, shown next to the figure it concerns (never asserted). */
export interface Target {
  readonly metric: string;
  /** Human-readable goal, e.g. "≥ 3.0× libsignal". */
  readonly goal: string;
  readonly met: boolean;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(Math.abs(n) >= 10 ? 1 : 2);
}

export function printTable(results: readonly Result[], notes: ReadonlyMap<string, string>, targets: readonly Target[], notesHeading = 'spread (value / baseline); median of per-round ratios'): void {
  const rows = results.map((r) => [r.metric, r.unit, fmt(r.value), fmt(r.baselineValue), `${r.ratio.toFixed(r.ratio < 0.1 ? 3 : 2)}×`, notes.get(r.metric) ?? '']);
  const head = ['metric', 'unit', 'value', 'baseline', 'ratio', notesHeading];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  const baselines = [...new Set(results.map((r) => r.baseline))];
  console.log(`\nbaseline: ${baselines.join(', ')} — measured in this same run; ratio = value / baseline`);
  console.log('(throughputs: higher is better; bytes of overhead: lower is better)\n');
  console.log('targets (shown, not asserted):');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.metric}: ${t.goal}`);
}

export function writeJson(path: string, results: readonly Result[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
