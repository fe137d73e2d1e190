// Where the time goes (not part of `npm run bench`): wraps a crypto provider so that every call made
// inside a timed block is counted and timed, runs one Sotto scenario, and prints per operation the
// calls and microseconds per primitive, and the remainder spent outside the provider (protocol code,
// encoding, allocation, garbage collection).
//   node --import tsx bench/breakdown.ts [setup|one-direction|ping-pong] [--noble]
// Provider times of async calls include waiting for the promise, so they are upper bounds.
import { performance } from 'node:perf_hooks';
import { fastProvider } from '@sotto/crypto';
import { nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { sottoContender } from './protocol.ts';

interface Tally {
  calls: number;
  ms: number;
}

// One tally per kind of timed block: setups time the initiators, then the responders.
const scenario = process.argv[2] ?? 'ping-pong';
const kinds = scenario === 'setup' ? ['initiator', 'responder'] : ['message (encrypt + decrypt)'];
const tallies = kinds.map(() => new Map<string, Tally>());
const timedMs = kinds.map(() => 0);
let counting = false;
let block = -1;
let timedSince = 0;

function instrument(p: CryptoProvider): CryptoProvider {
  const wrapped: Record<string, unknown> = { name: `${p.name}+timed` };
  for (const [key, value] of Object.entries(p)) {
    if (typeof value !== 'function') continue;
    const f = value as (...args: unknown[]) => unknown;
    wrapped[key] = (...args: unknown[]): unknown => {
      if (!counting) return f.apply(p, args);
      const m = tallies[block % kinds.length];
      if (m === undefined) return f.apply(p, args);
      let t = m.get(key);
      if (t === undefined) m.set(key, (t = { calls: 0, ms: 0 }));
      const tt = t;
      tt.calls++;
      const t0 = performance.now();
      const r = f.apply(p, args);
      if (r instanceof Promise) {
        return r.finally(() => {
          tt.ms += performance.now() - t0;
        });
      }
      tt.ms += performance.now() - t0;
      return r;
    };
  }
  return wrapped as unknown as CryptoProvider;
}

const base = process.argv.includes('--noble') ? nobleProvider : fastProvider;
const c = sottoContender(instrument(base), {
  timed(running) {
    counting = running;
    if (running) {
      block++;
      timedSince = performance.now();
    } else {
      const k = block % kinds.length;
      timedMs[k] = (timedMs[k] ?? 0) + performance.now() - timedSince;
    }
  },
});
await c.prepare();

const slow = base === nobleProvider;
const ops = scenario === 'setup' ? (slow ? 5 : 40) : scenario === 'one-direction' ? (slow ? 500 : 4000) : slow ? 60 : 1000;
async function run(): Promise<void> {
  if (scenario === 'setup') await c.setups(ops);
  else if (scenario === 'one-direction') await c.oneDirection(ops);
  else if (scenario === 'ping-pong') await c.pingPong(ops);
  else throw new Error(`unknown scenario ${scenario}: setup | one-direction | ping-pong`);
}

await run(); // warm-up
for (const m of tallies) m.clear();
timedMs.fill(0);
block = -1;
await run();

console.log(`${scenario} with ${base.name}: ${ops} operations`);
for (const [k, kind] of kinds.entries()) {
  const total = timedMs[k] ?? 0;
  const m = tallies[k] ?? new Map<string, Tally>();
  console.log(`\n${kind}: ${((total * 1000) / ops).toFixed(0)} µs each`);
  let cryptoMs = 0;
  for (const [name, t] of [...m.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    cryptoMs += t.ms;
    const share = ((100 * t.ms) / total).toFixed(1);
    console.log(`  ${name.padEnd(22)} ${(t.calls / ops).toFixed(2).padStart(6)} calls  ${((t.ms * 1000) / ops).toFixed(1).padStart(8)} µs  ${share.padStart(5)}%   (${((t.ms * 1000) / t.calls).toFixed(1)} µs/call)`);
  }
  const rest = total - cryptoMs;
  console.log(`  ${'(outside the provider)'.padEnd(22)} ${''.padStart(12)} ${((rest * 1000) / ops).toFixed(1).padStart(8)} µs  ${((100 * rest) / total).toFixed(1).padStart(5)}%`);
}
