// Where the server's time goes under the throughput benchmark's load (not part of `npm run bench`):
// starts the Sotto server child with --cpu-prof, registers N accounts, runs the closed-loop
// throughput load (bench/server/load.ts) for a while, stops the server (which writes the profile)
// and prints the top self-time entries, by function and grouped by where the code lives.
//
//   node --import tsx bench/server/profile.ts [--clients=100] [--seconds=10] [--store=sqlite|tmpfs|postgres] [--accounts=N]
//
// --accounts registers N accounts first (default: one per client), e.g. 10000 as in the full bench.
//
// --store=tmpfs puts the SQLite file on /dev/shm, where fsync costs nothing: not durable, so never a
// benchmark figure, but it separates the server's CPU cost from the disk's.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, Router } from './load.ts';
import { startBenchCluster, type BenchCluster } from './postgres.ts';
import { summarizeProfile } from './profile-summary.ts';
import { startSotto, type Target } from './targets.ts';

function flag(name: string, fallback: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
}
const clients = Number(flag('clients', '100'));
const seconds = Number(flag('seconds', '10'));
const store = flag('store', 'sqlite');
const accounts = Math.max(clients, Number(flag('accounts', '0')));
if (!['sqlite', 'tmpfs', 'postgres'].includes(store)) throw new Error(`--store: expected sqlite, tmpfs or postgres, got ${store}`);

const profDir = mkdtempSync(join(tmpdir(), 'sotto-prof-'));
const dataDir = mkdtempSync(join(store === 'tmpfs' ? '/dev/shm' : tmpdir(), 'sotto-bench-'));
let cluster: BenchCluster | undefined;
let target: Target | undefined;
try {
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  if (store === 'postgres') {
    cluster = await startBenchCluster();
    target = await startSotto('sotto/postgres', { database: { url: cluster.url, pid: cluster.pid }, nodeFlags });
  } else {
    target = await startSotto(`sotto/${store}`, { dataDir, nodeFlags });
  }
  await target.prepare(accounts);
  const router = new Router();
  const set = await target.connect(clients, router);
  const window = Math.max(1, Math.ceil(256 / clients));
  const run = await closedLoop(target, set, router, window, 1000, seconds * 1000);
  console.log(`${target.name}, ${clients} clients × ${window} outstanding: ${Math.round(run.perSecond)} msg/s, server CPU ${(run.serverCpuPerMessage * 1e6).toFixed(0)} µs/msg (${(100 * run.serverCpuShare).toFixed(0)}% of a CPU), load generator ${(run.clientCpuPerMessage * 1e6).toFixed(0)} µs/msg (${(100 * run.clientCpuShare).toFixed(0)}%); server main thread waiting for a CPU ${(100 * run.serverCpuWaitShare).toFixed(0)}% of the time`);
  await set.close();
  await target.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no profile in ${profDir}: ${target.child.stderrTail()}`);
  console.log(summarizeProfile(join(profDir, file), 25).join('\n'));
} finally {
  await target?.stop();
  cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profDir, { recursive: true, force: true });
}
process.exit(0);
