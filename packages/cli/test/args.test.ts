// The command line parser (src/internal/args.ts): every usage line of issue 3 parses to what it says,
// defaults come from the environment and then the built-in values, and anything else is a one-line
// ERR_CLI_USAGE — never silently ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { parseCommandLine, type Env, type Invocation } from '../src/internal/args.ts';
import { isCliError } from '../src/errors.ts';
import { MAX_RING_SECONDS } from '../src/limits.ts';
import { CALL_RING_TIMEOUT_MS } from '@sotto/client';

const HOME = '/home/tester';
const noEnv: Env = {};
const parse = (argv: string[], env: Env = noEnv): Invocation => parseCommandLine(argv, env, HOME);

function usageError(argv: string[], pattern: RegExp, env: Env = noEnv): void {
  assert.throws(
    () => parse(argv, env),
    (e: unknown) => {
      assert.ok(isCliError(e, 'ERR_CLI_USAGE'), `expected ERR_CLI_USAGE for ${JSON.stringify(argv)}, got ${String(e)}`);
      assert.match(e.message, pattern, `message for ${JSON.stringify(argv)}`);
      assert.ok(!e.message.includes('\n'), 'a usage error is one line');
      return true;
    },
  );
}

const sixty = '12345'.repeat(12);

test('every usage line of issue 3 parses', () => {
  assert.deepEqual(parse(['serve']), { command: 'serve', host: '127.0.0.1', port: 8080, dataDir: resolve('data'), databaseUrl: undefined });
  assert.deepEqual(parse(['serve', '--host', '0.0.0.0', '--port', '0', '--data', '/tmp/d', '--database', 'postgres://u@h/db']), {
    command: 'serve',
    host: '0.0.0.0',
    port: 0,
    dataDir: '/tmp/d',
    databaseUrl: 'postgres://u@h/db',
  });
  const globals = { home: '/h', serverUrl: 'http://example.org:9', serverExplicit: true };
  const g = ['--home', '/h', '--server', 'http://example.org:9'];
  assert.deepEqual(parse([...g, 'register', 'alice']), { command: 'register', globals, username: 'alice' });
  assert.deepEqual(parse([...g, 'send', 'bob', 'hello there']), { command: 'send', globals, to: 'bob', text: 'hello there' });
  assert.deepEqual(parse([...g, 'send-file', 'bob', 'a.pdf']), { command: 'send-file', globals, to: 'bob', path: 'a.pdf' });
  assert.deepEqual(parse([...g, 'receive']), { command: 'receive', globals, waitMs: 0, json: false, saveDir: undefined });
  assert.deepEqual(parse([...g, 'receive', '--wait', '2.5', '--json', '--save-dir', '/tmp/in']), { command: 'receive', globals, waitMs: 2500, json: true, saveDir: '/tmp/in' });
  assert.deepEqual(parse([...g, 'contacts', '--json']), { command: 'contacts', globals, json: true });
  assert.deepEqual(parse([...g, 'safety-number', 'bob']), { command: 'safety-number', globals, username: 'bob' });
  assert.deepEqual(parse([...g, 'verify', 'bob', sixty]), { command: 'verify', globals, username: 'bob', digits: sixty });
  assert.deepEqual(parse([...g, 'trust', 'bob', '--accept-new-key']), { command: 'trust', globals, username: 'bob' });
});

test('--home defaults to $SOTTO_HOME, then ~/.sotto; --server to $SOTTO_SERVER, then 127.0.0.1:8080', () => {
  assert.deepEqual(parse(['contacts']), { command: 'contacts', globals: { home: join(HOME, '.sotto'), serverUrl: 'http://127.0.0.1:8080', serverExplicit: false }, json: false });
  const env = { SOTTO_HOME: '/env/home', SOTTO_SERVER: 'https://sotto.example/' };
  assert.deepEqual(parse(['contacts'], env), { command: 'contacts', globals: { home: '/env/home', serverUrl: 'https://sotto.example', serverExplicit: true }, json: false });
  // The flag wins over the environment; an empty variable counts as unset.
  assert.deepEqual(parse(['--home', '/flag', 'contacts', '--server=http://10.0.0.1:1'], env), {
    command: 'contacts',
    globals: { home: '/flag', serverUrl: 'http://10.0.0.1:1', serverExplicit: true },
    json: false,
  });
  assert.deepEqual(parse(['contacts'], { SOTTO_HOME: '', SOTTO_SERVER: '' }), { command: 'contacts', globals: { home: join(HOME, '.sotto'), serverUrl: 'http://127.0.0.1:8080', serverExplicit: false }, json: false });
  // A relative --home is made absolute against the working directory.
  const inv = parse(['--home', 'rel', 'contacts']);
  assert.equal(inv.command === 'contacts' ? inv.globals.home : '', resolve('rel'));
});

test('global options stand before or after the command; --name=value works; -- ends options', () => {
  const a = parse(['send', 'bob', 'hi', '--home', '/h']);
  const b = parse(['--home=/h', 'send', 'bob', 'hi']);
  assert.deepEqual(a, b);
  assert.deepEqual(parse(['--home', '/h', 'send', 'bob', '--', '--not-an-option']), {
    command: 'send',
    globals: { home: '/h', serverUrl: 'http://127.0.0.1:8080', serverExplicit: false },
    to: 'bob',
    text: '--not-an-option',
  });
  const dash = parse(['--home', '/h', 'send', 'bob', '-']);
  assert.equal(dash.command === 'send' ? dash.text : '', '-', 'a lone "-" is an argument');
});

test('a safety number may be typed in groups, as separate arguments or one quoted one', () => {
  const groups = sixty.match(/\d{5}/g) ?? [];
  for (const argv of [['verify', 'bob', ...groups], ['verify', 'bob', groups.join(' ')], ['verify', 'bob', ` ${groups.slice(0, 6).join('  ')}`, groups.slice(6).join('')]]) {
    const inv = parse(['--home', '/h', ...argv]);
    assert.equal(inv.command === 'verify' ? inv.digits : '', sixty, JSON.stringify(argv));
  }
  usageError(['verify', 'bob', sixty.slice(1)], /60 digits, got 59/);
  usageError(['verify', 'bob', `${sixty}1`], /60 digits, got 61/);
  usageError(['verify', 'bob', `${sixty.slice(1)}x`], /only digits/);
  usageError(['verify', 'bob'], /missing <safety-number>/);
});

test('help: sotto --help, sotto help <cmd>, sotto <cmd> --help, -h', () => {
  assert.deepEqual(parse(['--help']), { command: 'help', topic: undefined });
  assert.deepEqual(parse(['-h']), { command: 'help', topic: undefined });
  assert.deepEqual(parse(['help']), { command: 'help', topic: undefined });
  assert.deepEqual(parse(['help', 'receive']), { command: 'help', topic: 'receive' });
  assert.deepEqual(parse(['receive', '--help']), { command: 'help', topic: 'receive' });
  // --help wins over missing arguments: `sotto send --help` must not complain about <username>.
  assert.deepEqual(parse(['send', '-h']), { command: 'help', topic: 'send' });
  usageError(['help', 'nope'], /unknown command 'nope'/);
});

test('usage errors: one clear line each', () => {
  usageError([], /expected a command/);
  usageError(['frobnicate'], /unknown command 'frobnicate'/);
  usageError(['--verbose', 'contacts'], /unknown option '--verbose'/);
  usageError(['contacts', '--verbose'], /unknown option '--verbose' for 'contacts'/);
  usageError(['--json', 'contacts'], /before the command/);
  usageError(['receive', '--json=yes'], /--json takes no value/);
  usageError(['contacts', '-x'], /unknown option '-x'/);
  usageError(['send', 'bob'], /'send' is missing <text>/);
  usageError(['send'], /'send' is missing <username> <text>/);
  usageError(['send', 'bob', 'hello', 'world'], /quote a message/);
  usageError(['send', '', 'hi'], /empty <username>/);
  usageError(['send', 'bob', ''], /empty <text>/);
  usageError(['contacts', 'bob'], /takes no arguments, got 1 argument/);
  usageError(['register'], /missing <username>/);
  usageError(['--home'], /--home needs a value/);
  usageError(['--home', '--json', 'contacts'], /--home needs a value, got the option '--json'/);
  usageError(['--home=', 'contacts'], /--home needs a value/);
  usageError(['--home', '/a', '--home', '/b', 'contacts'], /--home is given twice/);
  usageError(['receive', '--wait', 'soon'], /--wait must be a number of seconds/);
  usageError(['receive', '--wait', '-1'], /--wait needs a value|--wait must be/);
  usageError(['receive', '--wait', '86401'], /--wait must be a number of seconds from 0 to 86400/);
  usageError(['serve', '--port', '65536'], /--port must be a number from 0 to 65535/);
  usageError(['serve', '--port', '80a'], /--port must be/);
  usageError(['serve', '--home', '/h'], /--home is not an option of 'serve'/);
  usageError(['serve', '--database', 'mysql://root:secret@db/x'], /^--database must be a postgres:\/\/ or postgresql:\/\/ URL$/);
  usageError(['serve', 'extra'], /'serve' takes no arguments/);
  usageError(['trust', 'bob'], /needs --accept-new-key/);
  usageError(['--', 'contacts'], /expected a command before '--'/);
  usageError(['--server', 'ftp://x', 'contacts'], /--server must be an http:\/\/ or https:\/\/ URL/);
  usageError(['--server', 'not a url', 'contacts'], /--server must be a URL/);
  usageError(['--server', 'http://u:p@h', 'contacts'], /must not contain a user name or password/);
  usageError(['contacts'], /SOTTO_SERVER must be a URL/, { SOTTO_SERVER: '::' });
});

test('an option name that is an Object property is still unknown (no prototype lookups)', () => {
  usageError(['--constructor', 'contacts'], /unknown option '--constructor'/);
  usageError(['contacts', '--toString'], /unknown option '--toString'/);
  usageError(['__proto__'], /unknown command/);
});

test('call and answer: --play/--record become absolute paths, --duration and --wait are seconds', () => {
  const globals = { home: '/h', serverUrl: 'http://127.0.0.1:8080', serverExplicit: false };
  const none = { play: undefined, record: undefined, durationMs: undefined };
  assert.deepEqual(parse(['--home', '/h', 'call', 'bob']), { command: 'call', globals, to: 'bob', audio: none, ringMs: 45_000, voicemail: undefined });
  assert.deepEqual(parse(['--home', '/h', 'call', 'bob', '--play', 'in.wav', '--record=/tmp/out.wav', '--duration', '2.5']), {
    command: 'call',
    globals,
    to: 'bob',
    audio: { play: resolve('in.wav'), record: '/tmp/out.wav', durationMs: 2500 },
    ringMs: 45_000,
    voicemail: undefined,
  });
  // --ring shortens the ring; --voicemail may be the --play file (the same audio, live or left).
  assert.deepEqual(parse(['--home', '/h', 'call', 'bob', '--ring', '2', '--voicemail', 'in.wav', '--play', 'in.wav']), {
    command: 'call',
    globals,
    to: 'bob',
    audio: { ...none, play: resolve('in.wav') },
    ringMs: 2_000,
    voicemail: resolve('in.wav'),
  });
  assert.equal(MAX_RING_SECONDS * 1000, CALL_RING_TIMEOUT_MS, "--ring's bound is the SDK's ring time-out (docs/protocol/11 §11.6)");
  assert.deepEqual(parse(['--home', '/h', 'answer']), { command: 'answer', globals, audio: none, waitMs: undefined });
  assert.deepEqual(parse(['answer', '--wait', '30', '--duration', '10', '--home', '/h']), { command: 'answer', globals, audio: { ...none, durationMs: 10_000 }, waitMs: 30_000 });
  assert.deepEqual(parse(['call', '--help']), { command: 'help', topic: 'call' });
  assert.deepEqual(parse(['help', 'answer']), { command: 'help', topic: 'answer' });
});

test('call and answer: usage errors', () => {
  usageError(['call'], /'call' is missing <username>/);
  usageError(['call', 'bob', 'carol'], /'call' takes <username>, got 2 arguments/);
  usageError(['answer', 'bob'], /'answer' takes no arguments/);
  usageError(['call', 'bob', '--duration', '0'], /--duration must be a number of seconds of the call, more than 0 and at most 86400, got '0'/);
  usageError(['call', 'bob', '--duration', '86401'], /--duration must be/);
  usageError(['call', 'bob', '--duration', 'soon'], /--duration must be/);
  usageError(['answer', '--wait', '-1'], /--wait needs a value|--wait must be/);
  usageError(['answer', '--wait', '0'], /--wait must be a number of seconds for an incoming call/);
  usageError(['call', 'bob', '--wait', '5'], /unknown option '--wait' for 'call'/);
  usageError(['call', 'bob', '--play', 'a.wav', '--record', './a.wav'], /--play and --record name the same file/);
  usageError(['call', 'bob', '--record'], /--record needs a value/);
  usageError(['answer', '--play', 'a.wav', '--play', 'b.wav'], /--play is given twice/);
  for (const bad of ['0', '46', '1.5', 'soon', '-1', '007']) usageError(['call', 'bob', '--ring', bad], /--ring needs a value|--ring must be a whole number of seconds from 1 to 45/);
  usageError(['answer', '--ring', '5'], /unknown option '--ring' for 'answer'/);
  usageError(['answer', '--voicemail', 'a.wav'], /unknown option '--voicemail' for 'answer'/);
  usageError(['call', 'bob', '--voicemail', 'a.wav', '--record', 'a.wav'], /--voicemail and --record name the same file/);
});
