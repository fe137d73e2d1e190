// main() in process (fast: no Argon2id, no server) and the executable as a real process: help on
// stdout with status 0; usage errors as one `sotto: ` line with status 2; other failures one line
// with status 1; nothing on stdout when something fails; no stack traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@sotto/test-support';
import { main } from '../src/main.ts';
import { captureOutput, cleanEnv, oneErrorLine, SOTTO } from './helpers.ts';

const io = (env: Record<string, string> = {}) => ({ out: captureOutput(), env, terminal: undefined, userHome: '/nonexistent-home' });

test('help goes to stdout with status 0; every command has its own', async () => {
  const general = io();
  assert.equal(await main(['--help'], general), 0);
  const text = general.out.stdout.join('\n');
  for (const usage of [
    'sotto serve [--host 127.0.0.1] [--port 8080] [--data DIR] [--database URL]',
    'sotto [--home DIR] [--server URL] register <username>',
    'sotto [--home DIR] send <username> <text>',
    'sotto [--home DIR] send-file <username> <path>',
    'sotto [--home DIR] receive [--wait <seconds>] [--json] [--save-dir DIR]',
    'sotto [--home DIR] contacts [--json]',
    'sotto [--home DIR] safety-number <username>',
    'sotto [--home DIR] verify <username> <safety-number>',
    'sotto [--home DIR] trust <username> --accept-new-key',
  ]) {
    assert.ok(text.includes(usage), `the help lists: ${usage}`);
  }
  assert.deepEqual(general.out.stderr, []);
  for (const command of ['serve', 'register', 'send', 'send-file', 'receive', 'contacts', 'safety-number', 'verify', 'trust']) {
    const one = io();
    assert.equal(await main([command, '--help'], one), 0);
    assert.match(one.out.stdout.join('\n'), new RegExp(`^Usage: sotto .*${command}`), command);
    const viaHelp = io();
    assert.equal(await main(['help', command], viaHelp), 0);
    assert.deepEqual(viaHelp.out.stdout, one.out.stdout);
  }
});

test('usage errors: status 2, one line on stderr, nothing on stdout', async () => {
  for (const argv of [[], ['nope'], ['send', 'bob'], ['contacts', '--verbose'], ['receive', '--wait', 'x'], ['trust', 'bob'], ['serve', '--port', '99999']]) {
    const r = io();
    assert.equal(await main(argv, r), 2, JSON.stringify(argv));
    assert.equal(r.out.stderr.length, 1, JSON.stringify(argv));
    assert.match(r.out.stderr[0] ?? '', /^sotto: \S/);
    assert.deepEqual(r.out.stdout, []);
  }
});

test('without $SOTTO_PASSPHRASE and without a terminal: one clear line, status 1, before any work', async () => {
  const r = io();
  assert.equal(await main(['--home', '/nonexistent/sotto-home', 'contacts'], r), 1);
  assert.deepEqual(r.out.stderr, ['sotto: no passphrase: set SOTTO_PASSPHRASE, or run in a terminal to be asked for it']);
  assert.deepEqual(r.out.stdout, []);
});

test('an account that does not exist, a file that cannot be sent: one line each, status 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-main-'));
  try {
    const missing = io({ SOTTO_PASSPHRASE: 'pw' });
    assert.equal(await main(['--home', join(dir, 'nobody'), 'contacts'], missing), 1);
    assert.deepEqual(missing.out.stderr, [`sotto: no account in ${join(dir, 'nobody')}: register one with 'sotto register <username>', or pass --home`]);
    const noFile = io({ SOTTO_PASSPHRASE: 'pw' });
    assert.equal(await main(['--home', dir, 'send-file', 'bob', join(dir, 'missing.txt')], noFile), 1);
    assert.deepEqual(noFile.out.stderr, [`sotto: cannot read ${join(dir, 'missing.txt')} (ENOENT)`]);
    writeFileSync(join(dir, 'empty.txt'), '');
    const empty = io({ SOTTO_PASSPHRASE: 'pw' });
    assert.equal(await main(['--home', dir, 'send-file', 'bob', join(dir, 'empty.txt')], empty), 1);
    assert.match(empty.out.stderr.join('\n'), /is empty$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the executable runs from any working directory; errors are one line without a stack', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'sotto-cli-cwd-'));
  try {
    // A stray tsconfig.json in the working directory does not change how sotto is compiled.
    writeFileSync(join(cwd, 'tsconfig.json'), '{ "compilerOptions": { "jsx": "preserve", "paths": { "@sotto/*": ["nowhere/*"] } } }');
    const help = await runProcess(process.execPath, [SOTTO, '--help'], { cwd, env: cleanEnv() });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Sotto: end-to-end encrypted messaging\./);
    assert.equal(help.stderr, '');

    const usage = await runProcess(process.execPath, [SOTTO, 'contacts', '--bogus'], { cwd, env: cleanEnv() });
    assert.equal(usage.status, 2);
    assert.equal(oneErrorLine(usage), "sotto: unknown option '--bogus' for 'contacts'; run 'sotto contacts --help'");
    assert.equal(usage.stdout, '');

    // stdin is a pipe here, not a terminal, and no SOTTO_PASSPHRASE: refused, never read from the pipe.
    const noPass = await runProcess(process.execPath, [SOTTO, '--home', join(cwd, 'h'), 'contacts'], { cwd, env: cleanEnv(), input: 'secret\n' });
    assert.equal(noPass.status, 1);
    assert.equal(oneErrorLine(noPass), 'sotto: no passphrase: set SOTTO_PASSPHRASE, or run in a terminal to be asked for it');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
