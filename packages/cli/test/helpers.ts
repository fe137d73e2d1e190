// Running the real `sotto` executable in tests: the server as a child process on an ephemeral
// loopback port (`sotto serve --port 0`, its URL read from the line it prints), and CLI users with
// their own --home and $SOTTO_PASSPHRASE. Generic process handling is @sotto/test-support's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, startProcess, type RunResult, type StartedProcess } from '@sotto/test-support';
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

/** A scratch directory with a real `sotto serve` (its data in <dir>/data) and two CLI users, alice and
 *  bob (homes in <dir>/alice and <dir>/bob), registered on it; all stopped and removed after the test. */
export async function twoRegisteredUsers(
  t: { after: (fn: () => Promise<void>) => void },
  prefix: string,
  passphrases: { readonly alice: string; readonly bob: string },
): Promise<{ dir: string; server: RunningServer; alice: CliUser; bob: CliUser }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const started: { server?: RunningServer } = {};
  t.after(async () => {
    await started.server?.proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const server = (started.server = await startServe(join(dir, 'data')));
  const alice = new CliUser(join(dir, 'alice'), passphrases.alice);
  const bob = new CliUser(join(dir, 'bob'), passphrases.bob);
  const [ra, rb] = await Promise.all([alice.run(['--server', server.url, 'register', 'alice']), bob.run(['--server', server.url, 'register', 'bob'])]);
  expectOk(ra, 'alice register');
  expectOk(rb, 'bob register');
  return { dir, server, alice, bob };
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
  startInteractive(args: readonly string[]): StartedProcess {
    return this.start(args, { keepInput: true });
  }

  /** Starts `sotto --home <home> <args>` and leaves it running (receive --wait). */
  start(args: readonly string[], options: { keepInput?: boolean } = {}): StartedProcess {
    return startProcess(process.execPath, [SOTTO, '--home', this.home, ...args], { cwd: tmpdir(), env: cleanEnv({ SOTTO_PASSPHRASE: this.passphrase }), ...options });
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

/** Asserts that `r` exited 0 (else fails with its status and output); returns it. */
export function expectOk(r: RunResult, what: string): RunResult {
  if (r.status !== 0) throw new Error(`${what} exited with ${String(r.status)} (signal ${String(r.signal)})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The last non-empty line of `text`. */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** Asserts the usual shape of a failure: nothing on stdout, exactly one `sotto: ` line on stderr. */
export function oneErrorLine(r: RunResult): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || !(lines[0] ?? '').startsWith('sotto: ')) {
    throw new Error(`expected one 'sotto: ' line on stderr, got:\n${r.stderr}\n(stdout: ${r.stdout})`);
  }
  return lines[0] ?? '';
}
