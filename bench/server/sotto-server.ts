// Bench-only entry of the real Sotto server (issue 3 benchmarks), run as its own process like
// `sotto serve`: the same startServer() the CLI calls, with the same JSON logger on stderr, plus two
// things a benchmark needs and an operator must not get from the CLI:
// - rate limits (docs/protocol/09 §9.9) raised out of the way: every bench client connects from
//   127.0.0.1, so the per-address bucket (600 requests, 60/s) would throttle the whole load generator
//   as if it were one abusive client. The limits are startServer's `rateLimits` option; nothing else
//   differs from production (durability settings, bounds, logging level).
// - memory probes over the IPC channel (probe.ts), for the per-connection memory figure.
//
// Usage: node --expose-gc --import tsx bench/server/sotto-server.ts (--data DIR | --database URL)
// prints `sotto: listening on <url>` (the line `sotto serve` prints) once it accepts connections.
import { jsonLogger, startServer } from '@sotto/server';
import { answerMemoryProbes } from './probe.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dataDir = arg('--data');
const databaseUrl = arg('--database');
if (dataDir === undefined && databaseUrl === undefined) throw new Error('usage: sotto-server.ts (--data DIR | --database postgres://…)');

/** Far above anything the load generator sends: the bench measures the server, not its throttle. */
const UNLIMITED = { capacity: 1e12, refillPerSecond: 1e12 };

const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  dataDir: dataDir ?? '',
  databaseUrl,
  logger: jsonLogger((line) => process.stderr.write(line), 'info'),
  rateLimits: { perAddress: UNLIMITED, perAccount: UNLIMITED },
});
answerMemoryProbes();
process.stdout.write(`sotto: listening on ${server.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  // process.exit() after close(): --cpu-prof writes its profile on a regular exit.
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
