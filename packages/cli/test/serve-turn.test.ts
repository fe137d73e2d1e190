// `sotto serve --turn-url URL ... [--turn-secret SECRET]` (docs/protocol/11 §11.7, 09 §9.12): the
// parser takes repeated --turn-url and the secret from --turn-secret or $SOTTO_TURN_SECRET, both or
// neither; the real process hands a device credentials made with that secret and never prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTurnCredentialsResponse } from '@sotto/protocol';
import { runProcess, startProcess } from '@sotto/test-support';
import { parseCommandLine, type Env, type Invocation } from '../src/internal/args.ts';
import { helpText } from '../src/internal/usage.ts';
import { isCliError } from '../src/errors.ts';
import { authenticate, bearer, expectOk, newUser, register, viaNetwork } from '../../server/test/support.ts';
import { cleanEnv, oneErrorLine, SOTTO } from './helpers.ts';

const parse = (argv: string[], env: Env = {}): Invocation => parseCommandLine(argv, env, '/home/tester');
const SECRET = 'turn-secret-0123456789abcdef';
const URL_UDP = 'turn:turn.example.org:3478?transport=udp';
const URL_TCP = 'turn:turn.example.org:3478?transport=tcp';

function usageError(argv: string[], pattern: RegExp, env: Env = {}): void {
  assert.throws(
    () => parse(argv, env),
    (e: unknown) => {
      assert.ok(isCliError(e, 'ERR_CLI_USAGE'), `expected ERR_CLI_USAGE for ${JSON.stringify(argv)}, got ${String(e)}`);
      assert.match(e.message, pattern, `message for ${JSON.stringify(argv)}`);
      assert.ok(!e.message.includes(SECRET), 'the secret is never echoed');
      return true;
    },
  );
}

test('parse: repeated --turn-url with the secret from $SOTTO_TURN_SECRET or --turn-secret (the flag wins)', () => {
  const turnOf = (inv: Invocation): unknown => (inv.command === 'serve' ? inv.turn : 'not serve');
  assert.equal(turnOf(parse(['serve'])), undefined);
  assert.ok(!('turn' in parse(['serve'])), 'no turn key without TURN');
  assert.deepEqual(turnOf(parse(['serve', '--turn-url', URL_UDP, '--turn-url', URL_TCP], { SOTTO_TURN_SECRET: SECRET })), { urls: [URL_UDP, URL_TCP], secret: SECRET });
  assert.deepEqual(turnOf(parse(['serve', `--turn-url=${URL_UDP}`, '--turn-secret', SECRET])), { urls: [URL_UDP], secret: SECRET });
  assert.deepEqual(turnOf(parse(['serve', '--turn-url', URL_UDP, '--turn-secret', SECRET], { SOTTO_TURN_SECRET: 'from-the-environment-1234' })), { urls: [URL_UDP], secret: SECRET });
  assert.deepEqual(turnOf(parse(['serve', '--turn-url', URL_UDP, '--turn-secret', SECRET], { SOTTO_TURN_SECRET: '' })), { urls: [URL_UDP], secret: SECRET });
});

test('parse: both or neither, TURN URIs only, one line each and the secret never echoed', () => {
  usageError(['serve', '--turn-url', URL_UDP], /--turn-url needs coturn's static-auth-secret: set \$SOTTO_TURN_SECRET/);
  usageError(['serve', '--turn-url', URL_UDP], /--turn-url needs/, { SOTTO_TURN_SECRET: '' });
  usageError(['serve', '--turn-secret', SECRET], /--turn-secret needs --turn-url/);
  usageError(['serve'], /\$SOTTO_TURN_SECRET is set but no --turn-url/, { SOTTO_TURN_SECRET: SECRET });
  usageError(['serve', '--turn-url', 'stun:turn.example.org', '--turn-secret', SECRET], /--turn-url must be a turn: or turns: URI/);
  usageError(['serve', '--turn-url', `turn:user:${SECRET}@host`], /--turn-url must be a turn: or turns: URI/, { SOTTO_TURN_SECRET: SECRET });
  usageError(['serve', '--turn-url', URL_UDP, '--turn-secret', SECRET, '--turn-secret', SECRET], /--turn-secret is given twice/);
  usageError(['serve', '--turn-url'], /--turn-url needs a value/);
  usageError(['serve', ...Array.from({ length: 9 }, () => ['--turn-url', URL_UDP]).flat()], /at most 8/, { SOTTO_TURN_SECRET: SECRET });
  usageError(['contacts', '--turn-url', URL_UDP], /unknown option '--turn-url' for 'contacts'/);
});

test('help shows the TURN options and recommends the environment variable', () => {
  assert.match(helpText('serve'), /--turn-url URL \.\.\.\] \[--turn-secret SECRET\]/);
  assert.match(helpText('serve'), /\$SOTTO_TURN_SECRET/);
  assert.match(helpText(undefined), /sotto serve .*--turn-url URL/);
});

test('serve with TURN: a device gets credentials made with the secret, which never shows in the output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-turn-'));
  const proc = startProcess(process.execPath, [SOTTO, 'serve', '--port', '0', '--data', join(dir, 'data'), '--turn-url', URL_UDP, '--turn-url', URL_TCP], {
    cwd: tmpdir(),
    env: cleanEnv({ SOTTO_TURN_SECRET: SECRET }),
  });
  try {
    const url = (await proc.waitFor(/^sotto: listening on (http:\/\/127\.0\.0\.1:\d+)$/m))[1] ?? '';
    const http = viaNetwork(url);
    const alice = await newUser('cli_turn_alice');
    await register(http, alice);
    const token = await authenticate(http, alice);
    const creds = decodeTurnCredentialsResponse(await expectOk(await http('GET', '/v1/calls/turn', { headers: bearer(token) })));
    assert.deepEqual(creds.urls, [URL_UDP, URL_TCP]);
    assert.equal(creds.credential, createHmac('sha1', SECRET).update(creds.username).digest('base64'));
    assert.deepEqual(await proc.stop('SIGTERM'), { status: 0, signal: null });
    assert.ok(!proc.stdout().includes(SECRET) && !proc.stderr().includes(SECRET), 'the secret is never printed');
  } finally {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve refuses a weak TURN secret in one line that does not echo it (exit 1)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-turn-'));
  try {
    const r = await runProcess(process.execPath, [SOTTO, 'serve', '--port', '0', '--data', join(dir, 'data'), '--turn-url', URL_UDP], { env: cleanEnv({ SOTTO_TURN_SECRET: 'weak!sec' }) });
    assert.equal(r.status, 1, r.stderr);
    assert.match(oneErrorLine(r), /^sotto: cannot start the server: turn\.secret: expected 16 to 256 visible ASCII characters/);
    assert.ok(!r.stderr.includes('weak!sec'), 'the secret is not echoed');
    const missing = await runProcess(process.execPath, [SOTTO, 'serve', '--port', '0', '--data', join(dir, 'data'), '--turn-url', URL_UDP], { env: cleanEnv() });
    assert.equal(missing.status, 2);
    assert.match(oneErrorLine(missing), /--turn-url needs coturn's static-auth-secret/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
