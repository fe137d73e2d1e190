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
import pg from 'pg';
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

/** What PostgreSQL's statistics say the database did (counters; the bench's database only). */
async function databaseStats(): Promise<{ commits: number; inserted: number; deleted: number; autovacuums: number } | undefined> {
  if (cluster === undefined) return undefined;
  const client = new pg.Client(cluster.url);
  await client.connect();
  try {
    await client.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await client.query<{ commits: string; inserted: string; deleted: string; autovacuums: string }>(
      "SELECT d.xact_commit AS commits, t.n_tup_ins AS inserted, t.n_tup_del AS deleted, t.autovacuum_count AS autovacuums FROM pg_stat_database d, pg_stat_user_tables t WHERE d.datname = current_database() AND t.relname = 'messages'",
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    return { commits: Number(r.commits), inserted: Number(r.inserted), deleted: Number(r.deleted), autovacuums: Number(r.autovacuums) };
  } finally {
    await client.end();
  }
}

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
  const stats0 = await databaseStats();
  const run = await closedLoop(target, set, router, window, 1000, seconds * 1000);
  const stats1 = await databaseStats();
  console.log(`${target.name}, ${clients} clients × ${window} outstanding: ${Math.round(run.perSecond)} msg/s, server CPU ${(run.serverCpuPerMessage * 1e6).toFixed(0)} µs/msg${run.databaseCpuPerMessage > 0 ? ` (${(run.databaseCpuPerMessage * 1e6).toFixed(0)} in PostgreSQL)` : ''} (${(100 * run.serverCpuShare).toFixed(0)}% of a CPU), load generator ${(run.clientCpuPerMessage * 1e6).toFixed(0)} µs/msg (${(100 * run.clientCpuShare).toFixed(0)}%); server main thread waiting for a CPU ${(100 * run.serverCpuWaitShare).toFixed(0)}% of the time`);
  if (stats0 !== undefined && stats1 !== undefined) {
    const d = (k: keyof typeof stats0): number => stats1[k] - stats0[k];
    const messages = d('inserted');
    console.log(`PostgreSQL over warm-up and run: ${messages} messages inserted, ${d('deleted')} deleted, ${(d('commits') / messages).toFixed(3)} commits per message (every connection's), ${d('autovacuums')} autovacuums of messages`);
  }
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
