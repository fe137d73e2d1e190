// Server children of the server benchmarks: start one (bare relay or Sotto) as its own Node process,
// wait for the line that says it listens, and read what the kernel knows about it — resident memory
// from /proc/<pid>/status (VmRSS) and CPU time from /proc/<pid>/stat — plus the V8 heap through the
// child's IPC memory probe (probe.ts). Linux only, like the rest of the bench's process handling.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MemoryReport } from './probe.ts';

/** The repository root: children run from it so that `--import tsx` and the workspaces resolve. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Open files wanted for the 10,000-connection phase (each side holds one socket per connection,
 *  plus the HTTP pool and the database); the machine's default is 20,000. */
const WANTED_NOFILE = 65_536;

/**
 * Raises this process's open-file limit (children inherit it) with prlimit(1) — possible as root.
 * Returns a note for the report; never throws (the current limit is enough below ~9,000 connections).
 */
export function raiseOpenFileLimit(): string {
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${WANTED_NOFILE}:${WANTED_NOFILE}`], { encoding: 'utf8' });
  const now = spawnSync('prlimit', ['--pid', String(process.pid), '--nofile', '--noheadings', '--output=SOFT'], { encoding: 'utf8' });
  const soft = now.status === 0 ? now.stdout.trim() : 'unknown';
  return r.status === 0 ? `open files: ${soft}` : `open files: ${soft} (could not raise to ${WANTED_NOFILE}: ${r.stderr.trim() || 'prlimit failed'})`;
}

const CLOCK_TICKS = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return r.status === 0 && n > 0 ? n : 100;
})();

/** Resident set size of `pid` in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`expected VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is field 3. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds `pid` has used so far (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (f === undefined) return 0;
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS; // utime, stime: fields 14 and 15
}

/** Nanoseconds the main thread of `pid` has spent on a CPU and waiting for one while runnable
 *  (/proc/<pid>/task/<pid>/schedstat; zeros once it is gone). A large wait means the thread was
 *  ready to work and the machine had no CPU for it. */
export function schedNanoseconds(pid: number): { run: number; wait: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { run: run ?? 0, wait: wait ?? 0 };
  } catch {
    return { run: 0, wait: 0 };
  }
}

/** `pid` and its live children (e.g. a postmaster and its backends). */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f !== undefined && Number(f[1]) === pid) pids.push(Number(entry));
  }
  return pids;
}

export interface ServerChild {
  readonly name: string;
  readonly pid: number;
  /** The first capture group of the ready pattern (the URL or the port). */
  readonly ready: string;
  /** process.memoryUsage() of the child after a full GC (probe.ts). */
  memory(): Promise<MemoryReport>;
  /** The end of what the child wrote on stderr (for failure reports). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `node --expose-gc [nodeFlags] --import tsx <script> [args]` from the repository root and
 * resolves once a stdout line matches `readyPattern`.
 */
export async function startServerChild(name: string, script: string, args: readonly string[], readyPattern: RegExp, nodeFlags: readonly string[] = []): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...nodeFlags, '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: string): void => {
      out += chunk;
      const m = readyPattern.exec(out);
      if (m?.[1] !== undefined) {
        child.stdout?.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      reject(new Error(`${name} exited (${String(code ?? signal)}) before it listened: ${stderr.trim()}`));
    });
  });
  child.stdout?.resume(); // keep draining whatever else it prints
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: no pid`);

  const probes: ((r: MemoryReport) => void)[] = [];
  child.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'memory') probes.shift()?.(m as MemoryReport);
  });
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid,
    ready,
    memory: () =>
      new Promise<MemoryReport>((resolve, reject) => {
        probes.push(resolve);
        child.send({ type: 'memory' }, (e) => {
          if (e !== null) reject(e);
        });
      }),
    stderrTail: () => stderr,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
