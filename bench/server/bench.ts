// The server benchmarks of issue 3 (`npm run bench`, or `npm run bench -- --only=server`): Sotto's
// server as its own process — once on SQLite (a file on the real disk), once on PostgreSQL (a
// throw-away cluster with fsync on) — next to a bare in-memory WebSocket relay (bare-relay.ts)
// measured in the same run, all on loopback. Writes bench/results/server.json (the format of
// protocol.json: {metric, unit, value, baseline, baselineValue, ratio}) and prints a table.
//
// 1. Durable delivery throughput with 2, 100 and 1,000 connected clients: every client is connected
//    (Sotto: an authenticated /v1/ws receiver and a sealed-send socket) and sends to the next one in a ring, keeping
//    ⌈256 / N⌉ sends outstanding (closed loop). A send counts once the receiver got the push; Sotto
//    acknowledges a send only once the message is on disk. Messages delivered per second, median of
//    the rounds; targets run back to back in each round, in an order rotated per round.
// 2. End-to-end latency (scheduled send → the receiver has it), p50 and p99, at half the peak measured
//    in step 1 with 100 clients, each server at half of its own peak, sent on a fixed schedule.
// 3. Server memory per idle authenticated WebSocket at 10,000 connections: the server's VmRSS (and
//    V8 heap) after a full GC, before and after opening them, divided by their number.
// Before every measured run the PostgreSQL cluster is quiesced (postgres.ts): its autovacuum and
// background writes after one run would otherwise land in the next one, whichever server it measures
// (they share the disk and the CPUs).
// Server CPU per message (from /proc, the database's processes included) is reported next to each
// throughput: on this shared 2-vCPU machine it is the steadier figure of the two. So is the load
// generator's own CPU per message (process.cpuUsage of this process), and the share of the time the
// server's main thread was runnable but waiting for a CPU (/proc schedstat): a server that is "40 %
// busy" while it waits 55 % of the time for a CPU is starved, not idle.
//
// Process layout and client cost, the same for every server: one load-generator process (this one)
// runs every client of a run, senders and receivers; each server is its own process. Per message a
// client does one send — relay: a frame on its one WebSocket; Sotto: a frame on its own anonymous
// sealed-send WebSocket (docs/protocol/09 §9.7.1, what the SDK uses while connected), next to its
// authenticated receiving one — one JSON.parse of the answer, one JSON.parse of the push with an
// envelope check, and its share of one ack frame per event-loop turn (targets.ts). Sotto's frames are
// larger (recipient, access key, request id) and its answers come only after the commit.
// "sotto/sqlite PUT" is the same server reached the other way Sotto clients send — a PUT per message
// on a raw keep-alive HTTP/1.1 socket (http.ts), as a client that is not connected does — measured in
// the throughput phase only, so the table shows what the socket buys.
// Figures are shown next to the issue's targets, never asserted. --quick: a smoke run with small N.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { median, spread, type Result } from '../harness.ts';
import { printTable, writeJson, type Target as Goal } from '../report.ts';
import { closedLoop, openLoop, percentile, Router, type ThroughputRun } from './load.ts';
import { startBenchCluster, type BenchCluster } from './postgres.ts';
import { raiseOpenFileLimit } from './processes.ts';
import { ENVELOPE_BYTES, SETUP_CONCURRENCY, startRelay, startSotto, type Target } from './targets.ts';

export interface ServerBenchOptions {
  readonly quick: boolean;
  /** Throughput and latency rounds (default 5, --quick 1). */
  readonly rounds?: number | undefined;
  /** Skip PostgreSQL (e.g. where Debian's postgresql is not installed). */
  readonly noPostgres?: boolean | undefined;
}

interface Plan {
  readonly clients: readonly number[];
  readonly latencyClients: number;
  readonly idleConnections: number;
  readonly rounds: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly latencyMeasureMs: number;
}

const FULL: Plan = { clients: [2, 100, 1000], latencyClients: 100, idleConnections: 10_000, rounds: 5, warmupMs: 1000, measureMs: 3000, latencyMeasureMs: 5000 };
const QUICK: Plan = { clients: [2, 10, 50], latencyClients: 10, idleConnections: 500, rounds: 1, warmupMs: 300, measureMs: 1000, latencyMeasureMs: 1500 };

/** Sends outstanding across all clients of a throughput run (each client keeps ⌈TOTAL_WINDOW / N⌉). */
const TOTAL_WINDOW = 256;
const windowFor = (n: number): number => Math.max(1, Math.ceil(TOTAL_WINDOW / n));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const KIB = 1024;
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Median ms of a 4 KiB write + fdatasync in `dir`: what one durable commit costs on this disk right
 *  now (other work on the machine moves it a lot), to read the SQLite figures against. */
function fdatasyncMs(dir: string): number {
  const file = join(dir, 'fsync-probe');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const ms: number[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      ms.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return median(ms);
}

function filesystemOf(path: string): string {
  const r = spawnSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

export async function runServerBench(options: ServerBenchOptions): Promise<void> {
  const base = options.quick ? QUICK : FULL;
  const plan: Plan = { ...base, rounds: options.rounds ?? base.rounds };
  console.log(`server bench: Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}; ${raiseOpenFileLimit()}`);
  console.log(`server bench: ${plan.rounds} round(s) of ${plan.measureMs / 1000} s after ${plan.warmupMs / 1000} s warm-up; ${ENVELOPE_BYTES}-byte envelopes; loopback only${options.quick ? ' (--quick: small N, results not written)' : ''}`);

  const dataDir = mkdtempSync(join(tmpdir(), 'sotto-bench-'));
  const targets: Target[] = [];
  let cluster: BenchCluster | undefined;
  try {
    console.log(`server bench: SQLite file in ${dataDir} (${filesystemOf(dataDir)}; 4 KiB write + fdatasync: ${fdatasyncMs(dataDir).toFixed(2)} ms median)`);
    const relay = await startRelay();
    targets.push(relay);
    const sqlite = await startSotto('sotto/sqlite', { dataDir });
    targets.push(sqlite);
    const sottos = [sqlite];
    // The same server reached the way a client that is not connected sends (PUT per message, §9.7),
    // for the throughput phase only: what the sealed-send socket buys, measured in the same run.
    const sqliteHttp = await startSotto('sotto/sqlite PUT', { dataDir: join(dataDir, 'http'), sendVia: 'http' });
    targets.push(sqliteHttp);
    if (options.noPostgres !== true) {
      cluster = await startBenchCluster();
      const postgres = await startSotto('sotto/postgres', { database: { url: cluster.url, pid: cluster.pid } });
      targets.push(postgres);
      sottos.push(postgres);
      console.log('server bench: PostgreSQL cluster in a temporary directory, fsync = on, synchronous_commit = on');
    }

    // Accounts for every phase at once: the memory phase's 10,000 include the throughput clients.
    const allAccounts = Math.max(plan.idleConnections, ...plan.clients, plan.latencyClients);
    for (const t of [...sottos, sqliteHttp]) {
      const t0 = performance.now();
      const accounts = t === sqliteHttp ? Math.max(...plan.clients) : allAccounts;
      await t.prepare(accounts, (done) => process.stdout.write(`  ${t.name}: ${fmtInt(done)} accounts registered and authenticated\r`));
      const s = (performance.now() - t0) / 1000;
      console.log(`  ${t.name}: ${fmtInt(accounts)} accounts registered and authenticated in ${s.toFixed(1)} s (${fmtInt(accounts / s)}/s, ${SETUP_CONCURRENCY} requests in flight)`);
    }

    const results: Result[] = [];
    const notes = new Map<string, string>();
    const baseName = 'bare in-memory WebSocket relay (bench/server/bare-relay.ts)';
    const add = (metric: string, unit: string, value: number, baselineValue: number, note?: string): void => {
      results.push({ metric, unit, value, baseline: baseName, baselineValue, ratio: value / baselineValue });
      if (note !== undefined) notes.set(metric, note);
    };

    // 1. Throughput.
    const runs = new Map<string, ThroughputRun[]>(); // `${target}|${n}` → rounds
    for (const n of plan.clients) {
      const window = windowFor(n);
      const syncBefore = fdatasyncMs(dataDir);
      console.log(`\nthroughput: ${n} clients, ${window} outstanding send(s) each (fdatasync now ${syncBefore.toFixed(2)} ms)`);
      const sets = await connectAll(targets, n);
      try {
        for (const t of targets) await closedLoop(t, set(sets, t).clients, set(sets, t).router, window, plan.warmupMs, Math.min(1000, plan.measureMs)); // warm-up round
        for (let r = 0; r < plan.rounds; r++) {
          for (const t of rotate(targets, r)) {
            await cluster?.quiesce();
            const run = await closedLoop(t, set(sets, t).clients, set(sets, t).router, window, plan.warmupMs, plan.measureMs);
            const key = `${t.name}|${n}`;
            runs.set(key, [...(runs.get(key) ?? []), run]);
            console.log(`  round ${r + 1}/${plan.rounds} ${t.name.padEnd(14)} ${fmtInt(run.perSecond).padStart(7)} msg/s   server CPU ${(run.serverCpuPerMessage * 1e6).toFixed(0).padStart(5)} µs/msg${run.databaseCpuPerMessage > 0 ? ` (${(run.databaseCpuPerMessage * 1e6).toFixed(0)} in PostgreSQL)` : ''} (${(100 * run.serverCpuShare).toFixed(0)}% of a CPU, ${(100 * run.serverCpuWaitShare).toFixed(0)}% waiting for one), load generator ${(run.clientCpuPerMessage * 1e6).toFixed(0).padStart(4)} µs/msg (${(100 * run.clientCpuShare).toFixed(0)}%)`);
          }
        }
      } finally {
        await closeAll(sets);
      }
      const syncMs = (syncBefore + fdatasyncMs(dataDir)) / 2;
      const relayRuns = runs.get(`${relay.name}|${n}`) ?? [];
      for (const t of [...sottos, sqliteHttp]) {
        const mine = runs.get(`${t.name}|${n}`) ?? [];
        const v = median(mine.map((x) => x.perSecond));
        const b = median(relayRuns.map((x) => x.perSecond));
        const paired = median(mine.map((x, i) => x.perSecond / (relayRuns[i]?.perSecond ?? Number.NaN)));
        add(`${t.name}: durable delivery throughput, ${fmtInt(n)} connected clients (${window} outstanding each)`, 'messages/s', v, b, `±${(50 * spread(mine.map((x) => x.perSecond))).toFixed(0)}% / ±${(50 * spread(relayRuns.map((x) => x.perSecond))).toFixed(0)}%; paired ${paired.toFixed(3)}×; fdatasync ${syncMs.toFixed(2)} ms`);
        const cpu = median(mine.map((x) => x.serverCpuPerMessage * 1e6));
        const cpuBase = median(relayRuns.map((x) => x.serverCpuPerMessage * 1e6));
        add(`${t.name}: server CPU time per delivered message, ${fmtInt(n)} clients${t.name.endsWith('postgres') ? ' (incl. PostgreSQL)' : ''}`, 'µs/message', cpu, cpuBase, `server busy ${(100 * median(mine.map((x) => x.serverCpuShare))).toFixed(0)}% / ${(100 * median(relayRuns.map((x) => x.serverCpuShare))).toFixed(0)}% of a CPU; its main thread runnable but waiting for a CPU ${(100 * median(mine.map((x) => x.serverCpuWaitShare))).toFixed(0)}% / ${(100 * median(relayRuns.map((x) => x.serverCpuWaitShare))).toFixed(0)}% of the time`);
        const lg = median(mine.map((x) => x.clientCpuPerMessage * 1e6));
        const lgBase = median(relayRuns.map((x) => x.clientCpuPerMessage * 1e6));
        add(`${t.name}: load generator CPU time per delivered message, ${fmtInt(n)} clients`, 'µs/message', lg, lgBase, `load generator busy ${(100 * median(mine.map((x) => x.clientCpuShare))).toFixed(0)}% / ${(100 * median(relayRuns.map((x) => x.clientCpuShare))).toFixed(0)}% of a CPU`);
      }
    }

    // 2. Latency at half of each server's own peak with latencyClients clients.
    const latencyN = plan.latencyClients;
    console.log(`\nlatency: ${latencyN} clients, open loop at half of each server's peak with ${latencyN} clients`);
    const half = (t: Target): number => 0.5 * median((runs.get(`${t.name}|${latencyN}`) ?? []).map((x) => x.perSecond));
    const latencies = new Map<Target, number[]>();
    const offered = new Map<Target, number[]>();
    const measured = targets.filter((t) => t !== sqliteHttp);
    const sets = await connectAll(measured, latencyN);
    try {
      for (const t of measured) await openLoop(t, set(sets, t).clients, set(sets, t).router, half(t), plan.warmupMs, Math.min(1000, plan.latencyMeasureMs)); // warm-up round
      for (let r = 0; r < plan.rounds; r++) {
        for (const t of rotate(measured, r)) {
          await cluster?.quiesce();
          const run = await openLoop(t, set(sets, t).clients, set(sets, t).router, half(t), plan.warmupMs, plan.latencyMeasureMs);
          latencies.set(t, [...(latencies.get(t) ?? []), ...run.latencies]);
          offered.set(t, [...(offered.get(t) ?? []), run.offeredPerSecond]);
          console.log(`  round ${r + 1}/${plan.rounds} ${t.name.padEnd(14)} ${fmtInt(run.offeredPerSecond).padStart(7)} msg/s offered   p50 ${percentile(run.latencies, 0.5).toFixed(2)} ms   p99 ${percentile(run.latencies, 0.99).toFixed(2)} ms   (${fmtInt(run.latencies.length)} messages)`);
        }
      }
    } finally {
      await closeAll(sets);
    }
    const relayLat = latencies.get(relay) ?? [];
    for (const t of sottos) {
      const mine = latencies.get(t) ?? [];
      const rate = `${fmtInt(median(offered.get(t) ?? []))} msg/s vs ${fmtInt(median(offered.get(relay) ?? []))} msg/s`;
      for (const [p, label] of [
        [0.5, 'p50'],
        [0.99, 'p99'],
      ] as const) {
        add(`${t.name}: end-to-end latency ${label} at half the peak, ${fmtInt(latencyN)} clients`, 'ms', percentile(mine, p), percentile(relayLat, p), `${rate}; ${fmtInt(mine.length)} / ${fmtInt(relayLat.length)} messages`);
      }
    }

    // 3. Memory per idle authenticated connection.
    const m = plan.idleConnections;
    console.log(`\nmemory: ${fmtInt(m)} idle connections per server`);
    const perConnection = new Map<Target, { rss: number; heap: number }>();
    for (const t of measured) {
      const router = new Router();
      await cluster?.quiesce();
      await sleep(500);
      await t.child.memory(); // one GC pass to settle what the last phase left
      const before = await t.child.memory();
      const rss0 = t.rss();
      const t0 = performance.now();
      const clients = await t.connect(m, router, true);
      const connectSeconds = (performance.now() - t0) / 1000;
      await sleep(1000);
      const after = await t.child.memory();
      const rss1 = t.rss();
      const rss = (rss1 - rss0) / m;
      const heap = (after.heapUsed + after.external - before.heapUsed - before.external) / m;
      perConnection.set(t, { rss, heap });
      console.log(`  ${t.name.padEnd(14)} RSS ${(rss0 / 2 ** 20).toFixed(1)} → ${(rss1 / 2 ** 20).toFixed(1)} MiB: ${(rss / KIB).toFixed(2)} KiB/connection; V8 heap + external ${(heap / KIB).toFixed(2)} KiB/connection (connected in ${connectSeconds.toFixed(1)} s)`);
      if (router.failed !== undefined) throw router.failed;
      await clients.close();
    }
    const relayMem = perConnection.get(relay) ?? { rss: Number.NaN, heap: Number.NaN };
    for (const t of sottos) {
      const mine = perConnection.get(t) ?? { rss: Number.NaN, heap: Number.NaN };
      add(`${t.name}: server memory per idle authenticated WebSocket, ${fmtInt(m)} connections (VmRSS)`, 'KiB', mine.rss / KIB, relayMem.rss / KIB, 'after a full GC, before vs after');
      add(`${t.name}: server V8 heap + external per idle authenticated WebSocket, ${fmtInt(m)} connections`, 'KiB', mine.heap / KIB, relayMem.heap / KIB, 'process.memoryUsage() after a full GC');
    }

    // Report.
    const goals: Goal[] = [];
    for (const t of [...sottos, sqliteHttp]) {
      for (const n of plan.clients) {
        const r = results.find((x) => x.metric.startsWith(`${t.name}: durable delivery throughput, ${fmtInt(n)} `));
        if (r !== undefined) goals.push({ metric: `${t.name} throughput, ${fmtInt(n)} clients`, goal: `≥ 0.5× the bare relay (now ${r.ratio.toFixed(3)}×)`, met: r.ratio >= 0.5 });
      }
      if (t === sqliteHttp) continue;
      const mem = (perConnection.get(t)?.rss ?? Number.NaN) / KIB;
      goals.push({ metric: `${t.name} memory per idle connection at ${fmtInt(m)}`, goal: `< 16 KiB (now ${mem.toFixed(2)} KiB)`, met: mem < 16 });
    }
    console.log('');
    printTable(results, notes, goals, 'notes (value / baseline): spread of rounds, paired ratio, CPU, rates');
    console.log('(latency and memory: lower is better; the latency baseline is the relay at half of its own peak)');
    if (options.quick) {
      console.log('\n--quick: bench/results/server.json not written');
    } else {
      const out = fileURLToPath(new URL('../results/server.json', import.meta.url));
      writeJson(out, results);
      console.log(`\nwrote ${out}`);
    }
  } finally {
    for (const t of targets) await t.stop();
    cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function rotate<T>(xs: readonly T[], r: number): T[] {
  return xs.map((_, i) => xs[(i + r) % xs.length]).filter((x): x is T => x !== undefined);
}

type Sets = Map<Target, { clients: Awaited<ReturnType<Target['connect']>>; router: Router }>;

async function connectAll(targets: readonly Target[], n: number): Promise<Sets> {
  const sets: Sets = new Map();
  for (const t of targets) {
    const router = new Router();
    sets.set(t, { clients: await t.connect(n, router), router });
  }
  return sets;
}

function set(sets: Sets, t: Target): { clients: Awaited<ReturnType<Target['connect']>>; router: Router } {
  const s = sets.get(t);
  if (s === undefined) throw new Error(`${t.name}: not connected`);
  return s;
}

async function closeAll(sets: Sets): Promise<void> {
  for (const { clients } of sets.values()) await clients.close();
}
