// Running the real `sotto` executable in tests: the server as a child process on an ephemeral
// loopback port (`sotto serve --port 0`, its URL read from the line it prints), and CLI users with
// their own --home and $SOTTO_PASSPHRASE. Generic process handling is @sotto/test-support's.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, startProcess, type ProcessExit, type RunResult, type StartedProcess } from '@sotto/test-support';
import type { Output } from '../src/output.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The executable, by absolute path: tests run it from other working directories. */
export const SOTTO = fileURLToPath(new URL('../bin/sotto.mjs', import.meta.url));

/** This process's environment without any SOTTO_* variable (a developer's own settings must not leak
 *  into a test), HOME pointing at a scratch directory (so ~/.sotto is never the real one), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SOTTO_')) env[k] = v;
  env['HOME'] = mkdtempSync(join(tmpdir(), 'sotto-cli-home-'));
  return { ...env, ...extra };
}

export interface RunningServer {
  readonly url: string;
  readonly proc: StartedProcess;
}

/** `sotto serve --port 0 --data <dataDir>`; resolves once it printed `sotto: listening on <url>`. */
export async function startServe(dataDir: string, extra: readonly string[] = []): Promise<RunningServer> {
  const proc = startProcess(process.execPath, [SOTTO, 'serve', '--port', '0', '--data', dataDir, ...extra], { cwd: tmpdir(), env: cleanEnv() });
  const m = await proc.waitFor(/^sotto: listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
  const url = m[1] ?? '';
  return { url, proc };
}

/** One CLI user: a keystore directory and a passphrase. */
export class CliUser {
  constructor(
    readonly home: string,
    readonly passphrase: string,
  ) {}

  /** Runs `sotto --home <home> <args>` to completion, from a neutral working directory. */
  run(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    return runProcess(process.execPath, [SOTTO, '--home', this.home, ...args], {
      cwd: tmpdir(),
      env: cleanEnv({ SOTTO_PASSPHRASE: this.passphrase, ...extraEnv }),
    });
  }

  /** Starts `sotto --home <home> <args>` with stdin left open: the test types into it (the SAS answer). */
  startInteractive(args: readonly string[]): InteractiveProcess {
    return startInteractive(process.execPath, [SOTTO, '--home', this.home, ...args], { cwd: tmpdir(), env: cleanEnv({ SOTTO_PASSPHRASE: this.passphrase }) });
  }

  /** Starts `sotto --home <home> <args>` and leaves it running (receive --wait). */
  start(args: readonly string[]): StartedProcess {
    return startProcess(process.execPath, [SOTTO, '--home', this.home, ...args], { cwd: tmpdir(), env: cleanEnv({ SOTTO_PASSPHRASE: this.passphrase }) });
  }
}

/** An Output that records what main() writes, for in-process tests. */
export interface CapturedOutput extends Output {
  readonly stdout: string[];
  readonly stderr: string[];
}

export function captureOutput(): CapturedOutput {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    line: (t) => stdout.push(t),
    json: (v) => stdout.push(JSON.stringify(v)),
    note: (t) => stderr.push(`sotto: ${t}`),
    error: (t) => stderr.push(`sotto: ${t}`),
    prompt: (t) => stderr.push(t),
    debug: (t) => stderr.push(t),
    log: (t) => stderr.push(t),
    flush: () => Promise.resolve(),
  };
}

/** Asserts the usual shape of a failure: nothing on stdout, exactly one `sotto: ` line on stderr. */
export function oneErrorLine(r: RunResult): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || !(lines[0] ?? '').startsWith('sotto: ')) {
    throw new Error(`expected one 'sotto: ' line on stderr, got:\n${r.stderr}\n(stdout: ${r.stdout})`);
  }
  return lines[0] ?? '';
}

/** A child whose stdin stays open (a pipe, not a terminal): @sotto/test-support's startProcess closes
 *  it at once, which is EOF for a command that reads answers. */
export interface InteractiveProcess {
  stdout(): string;
  stderr(): string;
  /** Writes to the child's stdin. */
  write(text: string): void;
  /** Closes the child's stdin (EOF). */
  endInput(): void;
  /** Resolves with the first match of `pattern` on stdout (or stderr), or rejects when the child exits first or after 60 s. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  readonly exited: Promise<ProcessExit>;
  kill(signal: NodeJS.Signals): void;
}

function startInteractive(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): InteractiveProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    out.stdout += c;
    notify();
  });
  child.stderr.on('data', (c: string) => {
    out.stderr += c;
    notify();
  });
  child.stdin.on('error', () => undefined); // EPIPE when the child has gone: the test sees its exit
  let done = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on('close', (status, signal) => {
      done = true;
      resolve({ status, signal });
      notify();
    });
  });
  return {
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    write: (text) => {
      child.stdin.write(text);
    },
    endInput: () => {
      child.stdin.end();
    },
    exited,
    kill: (signal) => {
      if (!done) child.kill(signal);
    },
    waitFor: (pattern, stream = 'stdout') =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          finish(() => {
            reject(new Error(`no ${String(pattern)} on ${stream} after 60 s\n--- stdout ---\n${out.stdout}\n--- stderr ---\n${out.stderr}`));
          });
        }, 60_000);
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
              reject(new Error(`exited before printing ${String(pattern)} on ${stream}\n--- stdout ---\n${out.stdout}\n--- stderr ---\n${out.stderr}`));
            });
          }
        };
        listeners.add(check);
        check();
      }),
  };
}
