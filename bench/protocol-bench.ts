// The protocol benchmark (`npm run bench`, `npm run bench -- --only=protocol`): Sotto's sessions
// against libsignal-client measured in the same run. Writes bench/results/protocol.json (an array of
// {metric, unit, value, baseline, baselineValue, ratio}) and prints the same as a table, with the
// brief's targets shown next to it (never asserted).
//
// Method: every contender is prepared (keys, stores, established sessions), warmed up with one
// untimed round, then measured for ROUNDS rounds; in each round every contender runs every
// benchmark, in an order rotated per round so that machine noise (2 shared vCPUs) spreads evenly.
// Figures are medians over rounds; ratios compare medians from this same run.
// Options: quick (3 rounds, smaller batches: a smoke test), rounds.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { nobleProvider } from '@sotto/protocol';
import { fastProvider } from '@sotto/crypto';
import { MESSAGE_SIZE_SAMPLE, PLAINTEXT_BYTES, type Contender, type MessageSizes } from './contender.ts';
import { breathe, median, spread, type Result } from './harness.ts';
import { libsignalContender } from './libsignal.ts';
import { sottoContender } from './protocol.ts';
import { printTable, writeJson, type Target } from './report.ts';

export interface ProtocolBenchOptions {
  readonly quick: boolean;
  /** Rounds (default 9, quick 3). */
  readonly rounds?: number | undefined;
}

/** Batch sizes per round: enough work for tens of milliseconds or more per batch, less for the slow noble provider. */
interface Sizes {
  readonly setups: number;
  readonly oneDirection: number;
  readonly pingPong: number;
}
const FAST: Sizes = { setups: 60, oneDirection: 4000, pingPong: 1000 };
const SLOW: Sizes = { setups: 6, oneDirection: 400, pingPong: 60 };

interface Entry {
  readonly contender: Contender;
  readonly sizes: Sizes;
  readonly samples: Record<'initiator' | 'responder' | 'setup' | 'oneDirection' | 'pingPong', number[]>;
}

function entry(contender: Contender, sizes: Sizes, scale: number): Entry {
  const n = (x: number): number => Math.max(2, Math.round(x * scale));
  return {
    contender,
    sizes: { setups: n(sizes.setups), oneDirection: n(sizes.oneDirection), pingPong: n(sizes.pingPong) },
    samples: { initiator: [], responder: [], setup: [], oneDirection: [], pingPong: [] },
  };
}

type Metric = 'setups' | 'oneDirection' | 'pingPong';

/** One batch of one benchmark for one contender; samples are operations per second. */
async function batch(e: Entry, metric: Metric, record: boolean): Promise<void> {
  const { contender: c, sizes } = e;
  if (metric === 'setups') {
    const s = await c.setups(sizes.setups);
    if (record) {
      e.samples.initiator.push(sizes.setups / s.initiator);
      e.samples.responder.push(sizes.setups / s.responder);
      e.samples.setup.push(sizes.setups / (s.initiator + s.responder));
    }
  } else if (metric === 'oneDirection') {
    const t = await c.oneDirection(sizes.oneDirection);
    if (record) e.samples.oneDirection.push(sizes.oneDirection / t);
  } else {
    const t = await c.pingPong(sizes.pingPong);
    if (record) e.samples.pingPong.push(sizes.pingPong / t);
  }
  await breathe();
}

/** Per-round ratios against the baseline's batch of the same round (paired, so slow phases of the machine cancel). */
function pairedRatio(xs: readonly number[], base: readonly number[]): number {
  return median(xs.map((x, i) => x / (base[i] ?? Number.NaN)));
}

export async function runProtocolBench(options: ProtocolBenchOptions): Promise<void> {
  const { quick } = options;
  const ROUNDS = options.rounds ?? (quick ? 3 : 9);
  const scale = quick ? 0.25 : 1;
  console.log(`bench: Node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`);
  console.log(`bench: ${ROUNDS} rounds after one warm-up round${quick ? ' (--quick: smaller batches)' : ''}\n`);
  const baseline = entry(libsignalContender(), FAST, scale);
  const fast = entry(sottoContender(fastProvider), FAST, scale);
  const noble = entry(sottoContender(nobleProvider), SLOW, scale);
  const all = [baseline, fast, noble];
  for (const e of all) await e.contender.prepare();

  const metrics: readonly Metric[] = ['setups', 'oneDirection', 'pingPong'];
  for (const m of metrics) for (const e of all) await batch(e, m, false); // warm-up: JIT, caches, lazily loaded native code
  // Contenders run back to back for each benchmark (order rotated per round), so that each figure and
  // its baseline are measured within about a second of each other on this noisy machine.
  for (let r = 0; r < ROUNDS; r++) {
    const order = all.map((_, i) => all[(i + r) % all.length]);
    for (const m of metrics) for (const e of order) if (e !== undefined) await batch(e, m, true);
    process.stdout.write(`  round ${r + 1}/${ROUNDS} done\r`);
  }
  process.stdout.write('\n\n');

  const bytes = new Map<Entry, MessageSizes>();
  for (const e of all) bytes.set(e, await e.contender.messageBytes(PLAINTEXT_BYTES));

  const results: Result[] = [];
  const notes = new Map<string, string>();
  const baseName = baseline.contender.name + ' (native)';
  const add = (metric: string, unit: string, value: number, baselineValue: number, spreads?: [number[], number[]]): void => {
    results.push({ metric, unit, value, baseline: baseName, baselineValue, ratio: value / baselineValue });
    if (spreads !== undefined) {
      const paired = pairedRatio(spreads[0], spreads[1]);
      notes.set(metric, `±${(50 * spread(spreads[0])).toFixed(0)}% / ±${(50 * spread(spreads[1])).toFixed(0)}%; paired ${paired.toFixed(2)}×`);
    }
  };
  const NO_SIZES: MessageSizes = { ratchet: Number.NaN, ratchetMin: Number.NaN, ratchetMax: Number.NaN, prekey: Number.NaN };
  const baseBytes = bytes.get(baseline) ?? NO_SIZES;
  for (const e of [fast, noble]) {
    const who = e.contender.name;
    const m = (k: keyof Entry['samples']): [number, number, [number[], number[]]] => [median(e.samples[k]), median(baseline.samples[k]), [e.samples[k], baseline.samples[k]]];
    add(`${who}: session setups, initiator (verify bundle, PQXDH, first message)`, 'setups/s', ...m('initiator'));
    add(`${who}: session setups, responder (accept first message)`, 'setups/s', ...m('responder'));
    add(`${who}: session setups, initiator + responder`, 'setups/s', ...m('setup'));
    add(`${who}: messages one-direction (encrypt + decrypt)`, 'messages/s', ...m('oneDirection'));
    add(`${who}: messages ping-pong (DH ratchet step every message)`, 'messages/s', ...m('pingPong'));
    const b = bytes.get(e) ?? NO_SIZES;
    const overhead = `${who}: overhead per ${PLAINTEXT_BYTES}-byte message (mean of ${MESSAGE_SIZE_SAMPLE})`;
    add(overhead, 'bytes', b.ratchet - PLAINTEXT_BYTES, baseBytes.ratchet - PLAINTEXT_BYTES);
    const range = (s: MessageSizes): string => `${s.ratchetMin - PLAINTEXT_BYTES}–${s.ratchetMax - PLAINTEXT_BYTES}`;
    notes.set(overhead, `range ${range(b)} / ${range(baseBytes)}`);
    add(`${who}: overhead of the first (prekey) message, ${PLAINTEXT_BYTES}-byte plaintext`, 'bytes', b.prekey - PLAINTEXT_BYTES, baseBytes.prekey - PLAINTEXT_BYTES);
  }

  const fastName = fast.contender.name;
  const ratio = (needle: string): number => results.find((r) => r.metric.startsWith(fastName) && r.metric.includes(needle))?.ratio ?? Number.NaN;
  const setupTime = 1 / ratio('initiator + responder');
  const targets: Target[] = [
    { metric: 'ping-pong', goal: `≥ 1.0× libsignal (now ${ratio('ping-pong').toFixed(2)}×)`, met: ratio('ping-pong') >= 1 },
    { metric: 'one-direction', goal: `≥ 3.0× libsignal (now ${ratio('one-direction').toFixed(2)}×)`, met: ratio('one-direction') >= 3 },
    { metric: 'session setup time', goal: `≤ 1.5× libsignal's (now ${setupTime.toFixed(2)}×)`, met: setupTime <= 1.5 },
    { metric: 'overhead per message', goal: `within 10% of libsignal's (now ${ratio('overhead per').toFixed(2)}×)`, met: ratio('overhead per') <= 1.1 },
  ];

  printTable(results, notes, targets);
  const out = fileURLToPath(new URL('./results/protocol.json', import.meta.url));
  writeJson(out, results);
  console.log(`\nwrote ${out}`);
}
