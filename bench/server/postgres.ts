// A throw-away PostgreSQL cluster for the server benchmarks, like the store tests' fixture
// (packages/store/test/fixtures/postgres-cluster.ts: Debian's binaries, a temporary directory, trust
// authentication for the socket in that directory and 127.0.0.1 only, owned by CLUSTER_USER when run
// as root) with one difference that matters for a benchmark of *durable* delivery: fsync,
// full_page_writes and synchronous_commit keep their production defaults (on), so a COMMIT — and so
// Sotto's acknowledgement of a send — waits for the WAL to reach the disk. The fixture turns them off
// because its tests check behaviour, not power-cut durability.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '@sotto/test-support';
import { clusterOwner, findPostgresBin, run } from '../../packages/store/test/fixtures/postgres-cluster.ts';

/** The longest quiesce() waits for autovacuum before it goes on anyway. */
const QUIESCE_MAX_MS = 60_000;

export interface BenchCluster {
  /** postgres://… of a fresh, empty database. */
  readonly url: string;
  /** The postmaster's pid (its children are the backends: processes.ts processTree). */
  readonly pid: number;
  /** Makes the cluster quiet before a measurement, so that its background work after one run does not
   *  land in the next, whichever server that measures (they share the disk and the two vCPUs): waits
   *  for autovacuum workers to finish (a vacuum of the queue table that a run's deletes set off can take
   *  a CPU for seconds), then CHECKPOINT writes out the dirty buffers. A vacuum that starts during a
   *  PostgreSQL run still counts in that run's database CPU, as it would in production. */
  quiesce(): Promise<void>;
  /** Shuts the server down and deletes the directory; idempotent. */
  stop(): void;
}

export async function startBenchCluster(): Promise<BenchCluster> {
  const bin = findPostgresBin();
  const who = clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), 'sotto-bench-pg-'));
  const data = join(dir, 'data');
  const as = who === undefined ? undefined : { ...who, cwd: dir };
  if (who !== undefined) chownSync(dir, who.uid, who.gid);
  let started = false;
  // Ctrl-C ends the bench without 'exit' handlers: the cluster (a daemon) must not outlive it.
  const interrupted = (): void => {
    stop();
    process.exit(130);
  };
  const stop = (): void => {
    if (started) spawnSync(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-s'], { stdio: 'ignore', ...(as ?? {}) });
    started = false;
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', stop);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  };
  process.once('exit', stop);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C'], as);
    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      // Durability settings stay at their defaults (fsync, synchronous_commit, full_page_writes: on).
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=100`;
      const r = spawnSync(join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-s', '-l', join(dir, 'server.log'), '-o', options], { encoding: 'utf8', ...(as ?? {}) });
      started = r.status === 0;
      if (started) break;
      if (attempt === 3) throw new Error(`pg_ctl start failed: ${r.stderr}`);
    }
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    admin.on('error', () => undefined); // the server stopping under it: nothing left to do
    await admin.connect();
    const settings = await admin.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')");
    for (const s of settings.rows) if (s.setting !== 'on') throw new Error(`expected ${s.name} = on, got ${s.setting}`);
    await admin.query("CREATE DATABASE sotto_bench ENCODING 'UTF8' TEMPLATE template0");
    return {
      url: `postgres://postgres@127.0.0.1:${port}/sotto_bench`,
      pid,
      quiesce: async () => {
        for (let waited = 0; waited < QUIESCE_MAX_MS; waited += 100) {
          const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'");
          if ((rows[0]?.n ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await admin.query('CHECKPOINT');
      },
      stop: () => {
        admin.end().catch(() => undefined);
        stop();
      },
    };
  } catch (e) {
    stop();
    throw e;
  }
}
