// The two ways the bench drives a ClientSet (targets.ts):
// - closed loop (throughput): every client keeps `window` sends outstanding to the next client (a
//   ring: client i sends to i+1 mod N), issuing a new one as soon as the server acknowledges one;
//   messages delivered per second are counted over a measured interval after a warm-up.
// - open loop (latency): sends are issued on a fixed schedule (`rate` per second, round-robin over
//   the clients) whether or not earlier ones were acknowledged, and each message's latency runs from
//   its scheduled send time to its delivery — so a stalled server is charged for every message that
//   should have been sent meanwhile (no coordinated omission).
// Both check that every message sent was delivered exactly once before they return.
import { performance } from 'node:perf_hooks';
import { randomFillSync } from 'node:crypto';
import { schedNanoseconds } from './processes.ts';
import type { ClientSet, Sink, Target } from './targets.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to wait for the last messages of a run to arrive before calling them lost. */
const DRAIN_TIMEOUT_MS = 120_000;

/** Unique 16-byte message ids: a random per-run prefix and a counter. */
class Ids {
  readonly #prefix = randomFillSync(new Uint8Array(8));
  #n = 0;
  next(): { id: Uint8Array; key: string } {
    const id = new Uint8Array(16);
    id.set(this.#prefix);
    new DataView(id.buffer).setFloat64(8, ++this.#n);
    return { id, key: Buffer.from(id).toString('base64url') };
  }
}

/** Which messages are on their way, and what happened to them. */
class Traffic implements Sink {
  /** key → scheduled send time (performance.now()). */
  readonly #inFlight = new Map<string, number>();
  delivered = 0;
  unexpected = 0;
  failure: Error | undefined;
  /** Latencies (ms) of messages scheduled in [recordFrom, recordUntil). */
  readonly latencies: number[] = [];
  recordFrom = Number.POSITIVE_INFINITY;
  recordUntil = Number.POSITIVE_INFINITY;
  #drained: (() => void) | undefined;

  expect(key: string, at: number): void {
    this.#inFlight.set(key, at);
  }

  deliver(key: string): void {
    const at = this.#inFlight.get(key);
    if (at === undefined) {
      this.unexpected++; // a duplicate, or a message of another run
      return;
    }
    this.#inFlight.delete(key);
    this.delivered++;
    if (at >= this.recordFrom && at < this.recordUntil) this.latencies.push(performance.now() - at);
    if (this.#inFlight.size === 0) this.#drained?.();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.#drained?.();
  }

  get outstanding(): number {
    return this.#inFlight.size;
  }

  /** Resolves once every expected message was delivered; throws after DRAIN_TIMEOUT_MS or on a failure. */
  async drain(what: string): Promise<void> {
    if (this.#inFlight.size > 0 && this.failure === undefined) {
      await Promise.race([new Promise<void>((resolve) => (this.#drained = resolve)), sleep(DRAIN_TIMEOUT_MS)]);
      this.#drained = undefined;
    }
    if (this.failure !== undefined) throw this.failure;
    if (this.#inFlight.size > 0) throw new Error(`${what}: ${this.#inFlight.size} messages acknowledged but not delivered after ${DRAIN_TIMEOUT_MS / 1000} s`);
    if (this.unexpected > 0) throw new Error(`${what}: ${this.unexpected} deliveries of unknown or already delivered messages`);
  }
}

/** Routes a ClientSet's deliveries to the current run's Traffic. */
export class Router implements Sink {
  current: Sink | undefined;
  /** A failure between runs, thrown by the next run. */
  failed: Error | undefined;
  deliver(key: string): void {
    this.current?.deliver(key);
  }
  fail(error: Error): void {
    if (this.current === undefined) this.failed ??= error;
    else this.current.fail(error);
  }
  /** Starts a run: throws a failure seen since the last one. */
  begin(traffic: Traffic): void {
    if (this.failed !== undefined) throw this.failed;
    this.current = traffic;
  }
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export interface ThroughputRun {
  /** Messages delivered per second over the measured interval. */
  readonly perSecond: number;
  /** Server CPU seconds per delivered message (its process, plus the database's). */
  readonly serverCpuPerMessage: number;
  /** The database's part of serverCpuPerMessage (0 for a store in the server's process). */
  readonly databaseCpuPerMessage: number;
  /** Share of one CPU the server used over the interval. */
  readonly serverCpuShare: number;
  /** The same for the load generator (this process: every client of the run, senders and receivers). */
  readonly clientCpuShare: number;
  /** The load generator's CPU seconds per delivered message. */
  readonly clientCpuPerMessage: number;
  /** Share of the interval the server's main thread was runnable but waiting for a CPU (other work
   *  on the machine, the load generator included, had them). */
  readonly serverCpuWaitShare: number;
}

const processCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function closedLoop(target: Target, clients: ClientSet, router: Router, window: number, warmupMs: number, measureMs: number): Promise<ThroughputRun> {
  const traffic = new Traffic();
  router.begin(traffic);
  const ids = new Ids();
  const n = clients.size;
  let running = true;
  const sender = async (from: number): Promise<void> => {
    while (running && traffic.failure === undefined) {
      const { id, key } = ids.next();
      traffic.expect(key, performance.now());
      try {
        await clients.send(from, (from + 1) % n, id, key);
      } catch (e) {
        traffic.fail(asError(e));
      }
    }
  };
  const loops: Promise<void>[] = [];
  for (let from = 0; from < n; from++) for (let w = 0; w < window; w++) loops.push(sender(from));
  const stopped = Promise.all(loops);
  await sleep(warmupMs);
  const t0 = performance.now();
  const d0 = traffic.delivered;
  const s0 = target.serverCpu();
  const db0 = target.databaseCpu();
  const c0 = processCpu();
  const w0 = schedNanoseconds(target.child.pid).wait;
  await sleep(measureMs);
  const seconds = (performance.now() - t0) / 1000;
  const waited = (schedNanoseconds(target.child.pid).wait - w0) / 1e9;
  const delivered = traffic.delivered - d0;
  const serverCpu = target.serverCpu() - s0;
  const databaseCpu = target.databaseCpu() - db0;
  const clientCpu = processCpu() - c0;
  running = false;
  await stopped;
  await traffic.drain(`${target.name}, closed loop`);
  router.current = undefined;
  return { perSecond: delivered / seconds, serverCpuPerMessage: serverCpu / delivered, databaseCpuPerMessage: databaseCpu / delivered, serverCpuShare: serverCpu / seconds, clientCpuShare: clientCpu / seconds, clientCpuPerMessage: clientCpu / delivered, serverCpuWaitShare: waited / seconds };
}

export interface LatencyRun {
  /** End-to-end latencies in ms (scheduled send → delivered), in the order they arrived. */
  readonly latencies: readonly number[];
  /** Messages actually scheduled per second over the measured interval. */
  readonly offeredPerSecond: number;
}

export async function openLoop(target: Target, clients: ClientSet, router: Router, rate: number, warmupMs: number, measureMs: number): Promise<LatencyRun> {
  const traffic = new Traffic();
  router.begin(traffic);
  const ids = new Ids();
  const n = clients.size;
  const start = performance.now();
  const end = start + warmupMs + measureMs;
  traffic.recordFrom = start + warmupMs;
  traffic.recordUntil = end;
  let k = 0;
  let measured = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      // Every send whose scheduled time has come, each stamped with that time (not with now).
      for (;;) {
        const at = start + (k * 1000) / rate;
        if (at > now || at >= end) break;
        const from = k % n;
        const { id, key } = ids.next();
        traffic.expect(key, at);
        if (at >= traffic.recordFrom) measured++;
        clients.send(from, (from + 1) % n, id, key).catch((e: unknown) => {
          traffic.fail(asError(e));
        });
        k++;
      }
      if (now >= end || traffic.failure !== undefined) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
  });
  await traffic.drain(`${target.name}, open loop`);
  router.current = undefined;
  return { latencies: traffic.latencies, offeredPerSecond: measured / (measureMs / 1000) };
}

/** The p-th percentile (0 < p < 1) by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
}
