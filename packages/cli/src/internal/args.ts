// The command line of `sotto`, exactly as issue 3 gives it (and the README repeats):
//
//   sotto serve [--host 127.0.0.1] [--port 8080] [--data DIR] [--database URL] [--turn-url URL ...] [--turn-secret SECRET]
//   sotto [--home DIR] [--server URL] register <username>
//   sotto [--home DIR] send <username> <text>
//   sotto [--home DIR] send-file <username> <path>
//   sotto [--home DIR] receive [--wait <seconds>] [--json] [--save-dir DIR]
//   sotto [--home DIR] contacts [--json]
//   sotto [--home DIR] safety-number <username>
//   sotto [--home DIR] verify <username> <safety-number>
//   sotto [--home DIR] trust <username> --accept-new-key
//   sotto [--home DIR] call <username> [--play in.wav] [--record out.wav] [--duration <s>] [--ring <s>] [--voicemail in.wav]
//   sotto [--home DIR] answer [--play in.wav] [--record out.wav] [--duration <s>] [--wait <s>]
//
// A small strict parser instead of a framework: every option is known (an unknown one is a usage
// error, never ignored), options take their value as `--name value` or `--name=value`, each may be
// given once (except --turn-url, which lists several), `--` ends the options (for a message that starts with "-"), and the global options
// (--home, --server, --help) may stand before or after the command. Pure: the environment and the
// home directory come in as arguments, so tests need no process state.
import { join, resolve } from 'node:path';
import { isTurnUrl, MAX_TURN_URLS } from '@sotto/protocol';
import { CliError } from '../errors.ts';
import { MAX_ANSWER_WAIT_SECONDS, MAX_CALL_SECONDS, MAX_RING_SECONDS, MAX_WAIT_SECONDS } from '../limits.ts';

export const COMMANDS = ['serve', 'register', 'send', 'send-file', 'receive', 'contacts', 'safety-number', 'verify', 'trust', 'call', 'answer', 'help'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Defaults of issue 3: the embedded server listens on loopback port 8080 and keeps SQLite in ./data. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
export const DEFAULT_DATA_DIR = 'data';
/** The directory under the user's home that holds the keystore when neither --home nor SOTTO_HOME says. */
export const DEFAULT_HOME_NAME = '.sotto';

/** Where a client command finds its account, and which server it talks to. */
export interface ClientGlobals {
  /** Absolute path of the keystore directory. */
  readonly home: string;
  /** The server URL without a trailing slash. */
  readonly serverUrl: string;
  /** True when --server or $SOTTO_SERVER named the server; otherwise the URL stored at registration
   *  is used (serverUrl then holds the default, for `register` only). */
  readonly serverExplicit: boolean;
}

export type Invocation =
  | { readonly command: 'help'; readonly topic: CommandName | undefined }
  | { readonly command: 'serve'; readonly host: string; readonly port: number; readonly dataDir: string; readonly databaseUrl: string | undefined; readonly turn?: TurnSettings }
  | { readonly command: 'register'; readonly globals: ClientGlobals; readonly username: string }
  | { readonly command: 'send'; readonly globals: ClientGlobals; readonly to: string; readonly text: string }
  | { readonly command: 'send-file'; readonly globals: ClientGlobals; readonly to: string; readonly path: string }
  | { readonly command: 'receive'; readonly globals: ClientGlobals; readonly waitMs: number; readonly json: boolean; readonly saveDir: string | undefined }
  | { readonly command: 'contacts'; readonly globals: ClientGlobals; readonly json: boolean }
  | { readonly command: 'safety-number'; readonly globals: ClientGlobals; readonly username: string }
  | { readonly command: 'verify'; readonly globals: ClientGlobals; readonly username: string; readonly digits: string }
  | { readonly command: 'trust'; readonly globals: ClientGlobals; readonly username: string }
  | { readonly command: 'call'; readonly globals: ClientGlobals; readonly to: string; readonly audio: CallAudioOptions; readonly ringMs: number; readonly voicemail: string | undefined }
  | { readonly command: 'answer'; readonly globals: ClientGlobals; readonly audio: CallAudioOptions; readonly waitMs: number | undefined };

/** The audio options of `call` and `answer`: files as absolute paths, --duration in ms (undefined: until hang-up). */
export interface CallAudioOptions {
  readonly play: string | undefined;
  readonly record: string | undefined;
  readonly durationMs: number | undefined;
}

/** `sotto serve`'s TURN server (docs/protocol/11 §11.7): its URIs and coturn's static-auth-secret. */
export interface TurnSettings {
  readonly urls: readonly string[];
  readonly secret: string;
}

/** The environment variable that carries the TURN secret (preferred to --turn-secret: argv shows in ps). */
export const TURN_SECRET_ENV = 'SOTTO_TURN_SECRET';

/** The environment variables the command reads. */
export type Env = Readonly<Record<string, string | undefined>>;

/** 'strings': a string option that may be repeated (each occurrence adds one value). */
type Kind = 'string' | 'boolean' | 'strings';

interface CommandSpec {
  readonly options: ReadonlyMap<string, Kind>;
  /** Names of the positional arguments, for messages. */
  readonly positionals: readonly string[];
  /** The last positional may be split over several arguments (a safety number typed in groups). */
  readonly variadic: boolean;
  /** Whether the global --home / --server apply. */
  readonly client: boolean;
}

const GLOBAL_OPTIONS: ReadonlyMap<string, Kind> = new Map([
  ['home', 'string'],
  ['server', 'string'],
  ['help', 'boolean'],
]);

const spec = (options: [string, Kind][], positionals: string[], extra: Partial<Pick<CommandSpec, 'variadic' | 'client'>> = {}): CommandSpec => ({
  options: new Map(options),
  positionals,
  variadic: extra.variadic ?? false,
  client: extra.client ?? true,
});

const SPECS: Readonly<Record<CommandName, CommandSpec>> = {
  serve: spec([['host', 'string'], ['port', 'string'], ['data', 'string'], ['database', 'string'], ['turn-url', 'strings'], ['turn-secret', 'string']], [], { client: false }),
  register: spec([], ['username']),
  send: spec([], ['username', 'text']),
  'send-file': spec([], ['username', 'path']),
  receive: spec([['wait', 'string'], ['json', 'boolean'], ['save-dir', 'string']], []),
  contacts: spec([['json', 'boolean']], []),
  'safety-number': spec([], ['username']),
  verify: spec([], ['username', 'safety-number'], { variadic: true }),
  trust: spec([['accept-new-key', 'boolean']], ['username']),
  call: spec([['play', 'string'], ['record', 'string'], ['duration', 'string'], ['ring', 'string'], ['voicemail', 'string']], ['username']),
  answer: spec([['play', 'string'], ['record', 'string'], ['duration', 'string'], ['wait', 'string']], []),
  help: spec([], [], { client: false }),
};

export function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

const usage = (message: string): CliError => new CliError('ERR_CLI_USAGE', message);

/** Parses `argv` (without node and the script). Throws CliError ERR_CLI_USAGE with a one-line message. */
export function parseCommandLine(argv: readonly string[], env: Env, userHome: string): Invocation {
  const values = new Map<string, string | true | string[]>();
  const positionals: string[] = [];
  let command: CommandName | undefined;
  let endOfOptions = false;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (endOfOptions || !token.startsWith('-') || token === '-') {
      if (command !== undefined) positionals.push(token);
      else if (isCommand(token)) command = token;
      else throw usage(`unknown command '${token}'; run 'sotto --help' for the list`);
      continue;
    }
    if (token === '--') {
      if (command === undefined) throw usage("expected a command before '--'; run 'sotto --help' for the list");
      endOfOptions = true;
      continue;
    }
    if (token === '-h') {
      values.set('help', true);
      continue;
    }
    if (!token.startsWith('--')) {
      throw usage(`unknown option '${token}' (to pass an argument that starts with '-', put '--' before it)`);
    }
    const eq = token.indexOf('=');
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const kind = GLOBAL_OPTIONS.get(name) ?? (command === undefined ? undefined : SPECS[command].options.get(name));
    if (kind === undefined) {
      throw usage(
        command === undefined
          ? `unknown option '--${name}'${isCommandOption(name) ? ' before the command (put it after the command)' : ''}; run 'sotto --help'`
          : `unknown option '--${name}' for '${command}'; run 'sotto ${command} --help'`,
      );
    }
    if (values.has(name) && kind !== 'strings') throw usage(`--${name} is given twice`);
    if (kind === 'boolean') {
      if (eq >= 0) throw usage(`--${name} takes no value`);
      values.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = token.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
      // `--home --json` is a forgotten value, not a directory called "--json".
      if (value?.startsWith('--') === true) throw usage(`--${name} needs a value, got the option '${value}'`);
    }
    if (value === undefined || value === '') throw usage(`--${name} needs a value`);
    if (kind === 'strings') {
      const list = values.get(name);
      values.set(name, [...(Array.isArray(list) ? list : []), value]);
    } else {
      values.set(name, value);
    }
  }

  if (values.get('help') === true) {
    if (command !== 'help') return { command: 'help', topic: command };
    const topic = positionals[0];
    return { command: 'help', topic: topic !== undefined && isCommand(topic) ? topic : undefined };
  }
  if (command === undefined) throw usage("expected a command; run 'sotto --help' for the list");
  const s = SPECS[command];
  if (!s.client) {
    for (const name of ['home', 'server']) {
      if (values.has(name)) throw usage(`--${name} is not an option of '${command}'`);
    }
  }
  checkPositionals(command, s, positionals);
  const str = (name: string): string | undefined => {
    const v = values.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const flag = (name: string): boolean => values.get(name) === true;
  const arg = (n: number): string => positionals[n] ?? '';

  switch (command) {
    case 'help': {
      const topic = positionals[0];
      if (topic === undefined) return { command: 'help', topic: undefined };
      if (!isCommand(topic)) throw usage(`unknown command '${topic}'; run 'sotto --help' for the list`);
      return { command: 'help', topic };
    }
    case 'serve': {
      const urls = values.get('turn-url');
      const turn = parseTurn(Array.isArray(urls) ? urls : [], str('turn-secret'), env);
      return {
        command,
        host: str('host') ?? DEFAULT_HOST,
        port: parsePort(str('port')),
        dataDir: resolve(str('data') ?? DEFAULT_DATA_DIR),
        databaseUrl: parseDatabaseUrl(str('database')),
        ...(turn === undefined ? {} : { turn }),
      };
    }
    default:
      break;
  }

  const globals = clientGlobals(str('home'), str('server'), env, userHome);
  switch (command) {
    case 'register':
      return { command, globals, username: arg(0) };
    case 'send':
      return { command, globals, to: arg(0), text: arg(1) };
    case 'send-file':
      return { command, globals, to: arg(0), path: arg(1) };
    case 'receive': {
      const saveDir = str('save-dir');
      return { command, globals, waitMs: parseWait(str('wait')), json: flag('json'), saveDir: saveDir === undefined ? undefined : resolve(saveDir) };
    }
    case 'contacts':
      return { command, globals, json: flag('json') };
    case 'safety-number':
      return { command, globals, username: arg(0) };
    case 'verify':
      return { command, globals, username: arg(0), digits: parseSafetyNumber(positionals.slice(1)) };
    case 'trust':
      // The flag is required so that accepting a changed key is never one careless word away.
      if (!flag('accept-new-key')) throw usage("'trust' needs --accept-new-key: sotto trust <username> --accept-new-key");
      return { command, globals, username: arg(0) };
    case 'call': {
      const ring = str('ring');
      const voicemail = str('voicemail');
      const audio = callAudio(str);
      if (voicemail !== undefined && audio.record !== undefined && resolve(voicemail) === audio.record) throw usage('--voicemail and --record name the same file');
      return {
        command,
        globals,
        to: arg(0),
        audio,
        ringMs: ring === undefined ? MAX_RING_SECONDS * 1000 : parseRing(ring),
        voicemail: voicemail === undefined ? undefined : resolve(voicemail),
      };
    }
    case 'answer': {
      const wait = str('wait');
      return { command, globals, audio: callAudio(str), waitMs: wait === undefined ? undefined : parseSeconds('--wait', wait, MAX_ANSWER_WAIT_SECONDS, 'for an incoming call') };
    }
  }
}

/** --play, --record (made absolute) and --duration of `call` / `answer`. */
function callAudio(str: (name: string) => string | undefined): CallAudioOptions {
  const play = str('play');
  const record = str('record');
  const duration = str('duration');
  if (play !== undefined && record !== undefined && resolve(play) === resolve(record)) throw usage('--play and --record name the same file');
  return {
    play: play === undefined ? undefined : resolve(play),
    record: record === undefined ? undefined : resolve(record),
    durationMs: duration === undefined ? undefined : parseSeconds('--duration', duration, MAX_CALL_SECONDS, 'of the call'),
  };
}

/** --ring: whole seconds from 1 to MAX_RING_SECONDS (the SDK's own ring time-out, docs/protocol/11 §11.6). */
function parseRing(text: string): number {
  if (!/^[0-9]{1,2}$/.test(text) || Number(text) < 1 || Number(text) > MAX_RING_SECONDS) {
    throw usage(`--ring must be a whole number of seconds from 1 to ${MAX_RING_SECONDS}, got '${text}'`);
  }
  return Number(text) * 1000;
}

/** A positive number of seconds (up to 3 decimals) no larger than `max`, in milliseconds. */
function parseSeconds(option: string, text: string, max: number, what: string): number {
  if (!/^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(text) || Number(text) > max || Number(text) === 0) {
    throw usage(`${option} must be a number of seconds ${what}, more than 0 and at most ${max}, got '${text}'`);
  }
  return Math.round(Number(text) * 1000);
}

function isCommandOption(name: string): boolean {
  return COMMANDS.some((c) => SPECS[c].options.has(name));
}

function checkPositionals(command: CommandName, s: CommandSpec, got: readonly string[]): void {
  if (command === 'help') {
    if (got.length > 1) throw usage(`'help' takes at most one command name, got ${got.length} arguments`);
    return;
  }
  const want = s.positionals;
  if (got.length < want.length) {
    const missing = want.slice(got.length).map((n) => `<${n}>`).join(' ');
    throw usage(`'${command}' is missing ${missing}; run 'sotto ${command} --help'`);
  }
  if (got.length > want.length && !s.variadic) {
    const hint = command === 'send' ? " (quote a message that has spaces: sotto send bob 'see you at 5')" : '';
    throw usage(`'${command}' takes ${want.length === 0 ? 'no arguments' : want.map((n) => `<${n}>`).join(' ')}, got ${got.length} argument${got.length === 1 ? '' : 's'}${hint}`);
  }
  got.forEach((value, i) => {
    if (value === '') throw usage(`'${command}' got an empty <${want[Math.min(i, want.length - 1)] ?? 'argument'}>`);
  });
}

function clientGlobals(home: string | undefined, server: string | undefined, env: Env, userHome: string): ClientGlobals {
  const envHome = nonEmpty(env['SOTTO_HOME']);
  const envServer = nonEmpty(env['SOTTO_SERVER']);
  const serverText = server ?? envServer ?? DEFAULT_SERVER_URL;
  return {
    home: resolve(home ?? envHome ?? join(userHome, DEFAULT_HOME_NAME)),
    serverUrl: parseServerUrl(serverText, server !== undefined ? '--server' : envServer !== undefined ? 'SOTTO_SERVER' : 'the default server'),
    serverExplicit: server !== undefined || envServer !== undefined,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** An http(s) URL with a host, no credentials, no query or fragment; returned without a trailing slash. */
export function parseServerUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`${source} must be a URL such as http://127.0.0.1:8080, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`${source} must be an http:// or https:// URL, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw usage(`${source} must not contain a user name or password`);
  if (url.search !== '' || url.hash !== '') throw usage(`${source} must not have a query or fragment`);
  return url.href.replace(/\/+$/, '');
}

function parseDatabaseUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // The PostgreSQL URL is handed to the pg driver as it is (it may carry a password: never echoed).
  if (!/^postgres(ql)?:\/\/./.test(text)) throw usage('--database must be a postgres:// or postgresql:// URL');
  return text;
}

/** --turn-url (repeatable) and the secret from --turn-secret or $SOTTO_TURN_SECRET: all or nothing.
 *  The secret is never echoed; the server checks its length and characters when it starts. */
function parseTurn(urls: readonly string[], flagSecret: string | undefined, env: Env): TurnSettings | undefined {
  const envSecret = nonEmpty(env[TURN_SECRET_ENV]);
  const secret = flagSecret ?? envSecret;
  if (urls.length === 0) {
    if (flagSecret !== undefined) throw usage('--turn-secret needs --turn-url: give the TURN server\'s URL (e.g. --turn-url turn:turn.example.org:3478)');
    if (envSecret !== undefined) throw usage(`$${TURN_SECRET_ENV} is set but no --turn-url is given: add --turn-url (e.g. turn:turn.example.org:3478) or unset it`);
    return undefined;
  }
  if (urls.length > MAX_TURN_URLS) throw usage(`--turn-url is given ${urls.length} times; at most ${MAX_TURN_URLS}`);
  for (const url of urls) {
    if (!isTurnUrl(url)) throw usage('--turn-url must be a turn: or turns: URI such as turn:turn.example.org:3478?transport=udp (host, optional port, optional ?transport=udp|tcp)');
  }
  if (secret === undefined) throw usage(`--turn-url needs coturn's static-auth-secret: set $${TURN_SECRET_ENV} (preferred: other users can read the command line in ps) or give --turn-secret`);
  return { urls, secret };
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65_535) throw usage(`--port must be a number from 0 to 65535 (0: any free port), got '${text}'`);
  return Number(text);
}

function parseWait(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(text) || Number(text) > MAX_WAIT_SECONDS) {
    throw usage(`--wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}, got '${text}'`);
  }
  return Math.round(Number(text) * 1000);
}

/** A safety number as typed: 60 digits, in one argument or several, spaces anywhere. */
function parseSafetyNumber(parts: readonly string[]): string {
  const joined = parts.join('').replace(/\s+/g, '');
  if (!/^[0-9]*$/.test(joined)) throw usage('a safety number has only digits (and spaces), as `sotto safety-number` shows it');
  if (joined.length !== 60) throw usage(`a safety number has 60 digits, got ${joined.length}`);
  return joined;
}
