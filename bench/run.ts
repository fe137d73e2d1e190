// `npm run bench`: every benchmark of the repository, each writing its JSON under bench/results/
// (an array of {metric, unit, value, baseline, baselineValue, ratio}) and printing a table with the
// issue's targets next to it (shown, never asserted):
// - protocol (bench/protocol-bench.ts): Sotto's sessions against libsignal-client → protocol.json;
// - server (bench/server/bench.ts): Sotto's server against a bare WebSocket relay → server.json;
// - calls (bench/calls/bench.ts): SFrame per call frame against raw AES-GCM → calls.json.
//
// Flags: --only=protocol | --only=server | --only=calls (or a comma-separated list), --quick (a smoke run: fewer rounds, small N;
// the server bench then writes no JSON), --rounds=N (rounds of every benchmark that runs),
// --no-postgres (server bench without the PostgreSQL variant).
import { runProtocolBench } from './protocol-bench.ts';
import { runServerBench } from './server/bench.ts';
import { runCallsBench } from './calls/bench.ts';

const BENCHES = ['protocol', 'server', 'calls'] as const;
type Bench = (typeof BENCHES)[number];

function parse(argv: readonly string[]): { only: readonly Bench[]; quick: boolean; rounds: number | undefined; noPostgres: boolean } {
  let only: readonly Bench[] = BENCHES;
  let quick = false;
  let rounds: number | undefined;
  let noPostgres = false;
  for (const a of argv) {
    if (a === '--quick') quick = true;
    else if (a === '--no-postgres') noPostgres = true;
    else if (a.startsWith('--only=')) {
      const names = a.slice('--only='.length).split(',');
      const bad = names.filter((n) => !(BENCHES as readonly string[]).includes(n));
      if (bad.length > 0) throw new Error(`--only: expected ${BENCHES.join(' or ')}, got ${bad.join(',')}`);
      only = names as Bench[];
    } else if (a.startsWith('--rounds=')) {
      rounds = Number(a.slice('--rounds='.length));
      if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a positive integer, got ${a}`);
    } else throw new Error(`unknown flag ${a}: expected --only=protocol|server|calls, --quick, --rounds=N, --no-postgres`);
  }
  return { only, quick, rounds, noPostgres };
}

const flags = parse(process.argv.slice(2));
for (const [i, bench] of flags.only.entries()) {
  if (i > 0) console.log(`\n${'='.repeat(100)}\n`);
  if (bench === 'protocol') await runProtocolBench({ quick: flags.quick, rounds: flags.rounds });
  else if (bench === 'server') await runServerBench({ quick: flags.quick, rounds: flags.rounds, noPostgres: flags.noPostgres });
  else await runCallsBench({ quick: flags.quick, rounds: flags.rounds });
}
// Server children, sockets and timers of the load generator must not keep the process alive.
process.exit(0);
