// Running the real `sotto` executable in tests: the server as a child process on an ephemeral
// loopback port (`sotto serve --port 0`, its URL read from the line it prints), and CLI users with
// their own --home and $SOTTO_PASSPHRASE. Generic process handling is @sotto/test-support's.
import { mkdtempSync } from 'node:fs';
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
