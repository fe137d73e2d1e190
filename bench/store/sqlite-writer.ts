// What the SQLite store's thread boundary costs per message (sqlite-worker.ts ↔ internal/sqlite-writer.ts),
// the store alone, no server: rounds of `--burst` enqueues (alternating between two devices) plus the
// acks (one id each, as the WebSocket sends them) of the previous round's messages, all made in one
// event-loop turn, as the server's hot path makes them; each round awaits all of its calls.
//
//   node --import tsx bench/store/sqlite-writer.ts [--messages=100000] [--burst=50] [--dir=/dev/shm]
//
// Prints CPU µs per message (one enqueue + one ack) of the main thread (from /proc/self/task/<pid>/stat,
// Linux only), of the whole process (process.cpuUsage: main + writer thread + the rest), and the main
// thread's event-loop utilisation. --dir defaults to /dev/shm, where fsync costs nothing, so that the run
// is short and measures CPU, not the disk (the CPU figures are the same on a disk, only slower).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore, type DeviceAddress } from '@sotto/store';

function flag(name: string, fallback: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
}
const messages = Number(flag('messages', '100000'));
const burst = Number(flag('burst', '50'));
const dir = mkdtempSync(join(flag('dir', '/dev/shm'), 'sotto-writer-bench-'));

/** The main thread's CPU time so far, in seconds (utime + stime of task <pid>; clock ticks of 10 ms). */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // fields 14 and 15 of stat(5), from the 3rd
}

const processCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const store = await openSqliteStore(join(dir, 'sotto.db'));
try {
  await store.createAccount({ username: 'bench', identityKey: new Uint8Array(32).fill(1), accessKeyHash: new Uint8Array(32).fill(2), createdAt: 1, firstDeviceId: 1 });
  await store.addDevice({ username: 'bench', deviceId: 2 }, 1);
  const devices: DeviceAddress[] = [
    { username: 'bench', deviceId: 1 },
    { username: 'bench', deviceId: 2 },
  ];
  const envelope = new Uint8Array(512).fill(7);
  let counter = 0;
  const newId = (): Uint8Array => {
    const id = new Uint8Array(16);
    new DataView(id.buffer).setUint32(0, ++counter);
    return id;
  };

  /** `n` messages in rounds of `burst`: each round enqueues a burst and acks the previous one. */
  async function run(n: number): Promise<void> {
    let previous: { device: DeviceAddress; id: Uint8Array }[] = [];
    for (let done = 0; done < n; done += burst) {
      const calls: Promise<unknown>[] = [];
      const current: typeof previous = [];
      for (let i = 0; i < burst; i++) {
        const device = devices[i % 2] as DeviceAddress;
        const id = newId();
        current.push({ device, id });
        calls.push(store.enqueue(device, { id, envelope, receivedAt: 1, expiresAt: 2 }));
      }
      for (const p of previous) calls.push(store.ack(p.device, [p.id]));
      await Promise.all(calls);
      previous = current;
    }
    await Promise.all(previous.map((p) => store.ack(p.device, [p.id])));
  }

  await run(Math.min(10_000, messages)); // warm-up: JIT, the writer thread, the page cache
  const elu0 = performance.eventLoopUtilization();
  const main0 = mainThreadCpu();
  const proc0 = processCpu();
  const t0 = performance.now();
  await run(messages);
  const seconds = (performance.now() - t0) / 1000;
  const main = mainThreadCpu() - main0;
  const proc = processCpu() - proc0;
  const elu = performance.eventLoopUtilization(elu0);
  const us = (s: number): string => ((s / messages) * 1e6).toFixed(1);
  console.log(
    `${messages} messages (enqueue + ack), bursts of ${burst}: ${Math.round(messages / seconds)} msg/s; CPU per message: main thread ${us(main)} µs, process ${us(proc)} µs; main thread event loop ${(100 * elu.utilization).toFixed(0)}% busy (${us(elu.active / 1000)} µs/msg)`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
