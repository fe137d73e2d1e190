// `npm run bench -- --only=calls`: the call benchmarks of issue 5 → bench/results/calls.json (an array
// of {metric, unit, value, baseline, baselineValue, ratio}, as the other benches write), each next to
// a baseline measured in the same run:
// - SFrame cost per 20-ms Opus frame in Node, next to raw AES-256-GCM (bench/calls/sframe.ts);
// - in Chromium (bench/calls/browser.ts): call setup, accept → the callee's first decrypted frame, next to
//   plain WebRTC; SFrame per frame in a browser worker next to raw WebCrypto AES-GCM; CPU per active
//   1:1 call next to plain WebRTC.
// Targets from the issue are shown next to the figures, never asserted.
import { fileURLToPath } from 'node:url';
import { printTable, writeJson, type Target } from '../report.ts';
import { benchCallsBrowser } from './browser.ts';
import { benchSframeNode, FRAME_MS } from './sframe.ts';

/** Issue 5: call setup at most 10 % slower than plain WebRTC in the same run. */
const SETUP_RATIO_TARGET = 1.1;

export async function runCallsBench(opts: { quick: boolean; rounds: number | undefined }): Promise<void> {
  const sframe = await benchSframeNode({ quick: opts.quick, rounds: opts.rounds });
  const browser = await benchCallsBrowser({ quick: opts.quick, rounds: opts.rounds });
  const results = [...sframe.results, ...browser];
  const notes = new Map<string, string>();
  const perFrame = results.filter((r) => r.unit === 'µs/frame');
  for (const r of perFrame) notes.set(r.metric, `${((r.value / (FRAME_MS * 1000)) * 100).toFixed(2)} % of the frame period`);
  const worst = Math.max(...perFrame.map((r) => r.value));
  const setup = browser.find((r) => r.unit === 'ms');
  const cpu = browser.find((r) => r.unit === '% of one core');
  if (setup !== undefined) notes.set(setup.metric, `Sotto adds ${(setup.value - setup.baselineValue).toFixed(0)} ms`);
  if (cpu !== undefined) notes.set(cpu.metric, `${(cpu.value - cpu.baselineValue).toFixed(1)} points of a core more than plain`);
  const targets: Target[] = [
    // The issue asks for the cost next to raw AES-GCM (no ratio target); what must hold is that both directions of a
    // call fit in a small part of the 20-ms budget on one core.
    { metric: 'SFrame per frame (Node and browser worker)', goal: `well inside the ${FRAME_MS}-ms frame period (now ≤ ${worst.toFixed(1)} µs to encrypt and decrypt one frame)`, met: worst < FRAME_MS * 1000 * 0.01 },
    ...(setup === undefined ? [] : [{ metric: 'call setup (accept → first decrypted frame)', goal: `≤ ${SETUP_RATIO_TARGET.toFixed(2)}× plain WebRTC (now ${setup.ratio.toFixed(2)}×)`, met: setup.ratio <= SETUP_RATIO_TARGET }]),
  ];
  printTable(results, notes, targets, 'notes');
  if (opts.quick) {
    console.log('\n--quick: nothing written');
    return;
  }
  const out = fileURLToPath(new URL('../results/calls.json', import.meta.url));
  writeJson(out, results);
  console.log(`\nwrote ${out}`);
}
