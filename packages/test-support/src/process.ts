// Real child processes for end-to-end tests (STYLE.md §8: "end-to-end tests spawn the real process").
// startProcess keeps a long-running child (a server) and lets the test wait for a line it prints;
// runProcess runs a command to completion without blocking the event loop, so a server child of the
// same test keeps being served meanwhile. Timeouts here only guard against a hang (the test fails
// with what the child printed); they are never assertions about speed.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface ProcessOptions {
  readonly cwd?: string;
  /** The child's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed (default: stdin closed at once). */
  readonly input?: string;
  /** Leave the child's stdin open (a pipe, not a terminal) for write() and endInput(): for a command
   *  that reads answers, to which a closed stdin is EOF. Not with `input`. */
  readonly keepInput?: boolean;
}

export interface ProcessExit {
  /** The exit status, or null when a signal ended the process. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunResult extends ProcessExit {
  readonly stdout: string;
  readonly stderr: string;
}

export interface StartedProcess {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in the output so far or to come (stdout unless
   *  `stream` says stderr); rejects if the process exits first or `timeoutMs` pass. */
  waitFor(pattern: RegExp, options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** Writes to the child's stdin (only with `keepInput`; a child that has gone shows in `exited`). */
  write(text: string): void;
  /** Closes the child's stdin (EOF; only with `keepInput`). */
  endInput(): void;
  /** Sends `signal` (default SIGTERM) and resolves when the process has exited; after `timeoutMs`
   *  it is killed with SIGKILL (and the promise still resolves, with signal SIGKILL). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
}

const DEFAULT_WAIT_MS = 60_000;

export function startProcess(command: string, args: readonly string[], options: ProcessOptions = {}): StartedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out.stdout += chunk;
    notify();
  });
  child.stderr.on('data', (chunk: string) => {
    out.stderr += chunk;
    notify();
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    // 'close' (not 'exit') so that all output has been read when it resolves.
    child.on('close', (status, signal) => {
      resolve({ status, signal });
      notify();
    });
    child.on('error', (e) => {
      out.stderr += `\n[spawn error] ${e.message}`;
      resolve({ status: null, signal: null });
      notify();
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  if (options.keepInput === true) {
    if (options.input !== undefined) throw new Error('startProcess: give `input` or `keepInput`, not both');
    child.stdin.on('error', () => undefined); // EPIPE when the child has gone: the test sees its exit
  } else if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const openInput = (): NodeJS.WritableStream => {
    if (options.keepInput !== true) throw new Error('startProcess: stdin was closed at start (pass keepInput: true)');
    return child.stdin;
  };

  const describe = (): string => `\n--- stdout ---\n${out.stdout}\n--- stderr ---\n${out.stderr}`;

  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    write: (text) => {
      openInput().write(text);
    },
    endInput: () => {
      openInput().end();
    },
    waitFor: (pattern, opts = {}) =>
      new Promise((resolve, reject) => {
        const stream = opts.stream ?? 'stdout';
        const limit = opts.timeoutMs ?? DEFAULT_WAIT_MS;
        const timer = setTimeout(() => {
          finish(() => {
            reject(new Error(`no ${String(pattern)} on ${stream} after ${limit} ms${describe()}`));
          });
        }, limit);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        const check = (): void => {
          const m = pattern.exec(out[stream]);
          if (m !== null) {
            finish(() => {
              resolve(m);
            });
          } else if (done) {
            finish(() => {
              reject(new Error(`process exited before printing ${String(pattern)} on ${stream}${describe()}`));
            });
          }
        };
        listeners.add(check);
        check();
      }),
    stop: async (signal = 'SIGTERM', timeoutMs = DEFAULT_WAIT_MS) => {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => {
        if (!done) child.kill('SIGKILL');
      }, timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to completion; after `timeoutMs` (default 120 s) it is killed and the result says so. */
export async function runProcess(command: string, args: readonly string[], options: ProcessOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  const p = startProcess(command, args, options);
  const timer = setTimeout(() => {
    p.child.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  try {
    const exit = await p.exited;
    return { ...exit, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** A free TCP port on 127.0.0.1, as the kernel hands out ephemeral ones (for a server that must be
 *  restarted on the same port, or a cluster that needs its port before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}
