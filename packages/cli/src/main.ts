// The sotto command: parse (internal/args.ts), run one command (commands/, loaded on demand so that
// `--help` and usage errors do not load the SDK or the server), and turn any error into one line on
// stderr and an exit status — 2 for a usage error, 1 for anything else, 0 on success.
// bin/sotto.mjs calls main() with the real process; tests call it with their own Output.
import { homedir } from 'node:os';
import { parseCommandLine, type Env, type Invocation } from './internal/args.ts';
import type { Context } from './internal/context.ts';
import { describeError, type ErrorContext } from './internal/describe-error.ts';
import type { PromptInput } from './internal/passphrase.ts';
import type { AnswerInput } from './calls/sas-answer.ts';
import { helpText } from './internal/usage.ts';
import { terminalOutput, type Output } from './output.ts';

/** What main() runs against: the real process by default. */
export interface MainIo {
  readonly out: Output;
  readonly env: Env;
  /** stdin when it is a terminal (for the passphrase prompt), else undefined. */
  readonly terminal: PromptInput | undefined;
  /** stdin for the SAS answer of `call` / `answer` (terminal or pipe); none when undefined. */
  readonly stdin?: AnswerInput;
  /** The user's home directory, under which ~/.sotto is the default --home. */
  readonly userHome: string;
}

export function processIo(): MainIo {
  return {
    out: terminalOutput(),
    env: process.env,
    terminal: process.stdin.isTTY ? process.stdin : undefined,
    stdin: { stream: process.stdin, isTTY: process.stdin.isTTY },
    userHome: homedir(),
  };
}

/** Runs the command line `argv` (without node and the script) and resolves to the exit status. */
export async function main(argv: readonly string[], io: MainIo = processIo()): Promise<number> {
  const ctx: Context = { out: io.out, env: io.env, terminal: io.terminal, ...(io.stdin === undefined ? {} : { stdin: io.stdin }), learned: {} };
  let about: ErrorContext = {};
  try {
    const inv = parseCommandLine(argv, io.env, io.userHome);
    about = errorContext(inv);
    await run(inv, ctx);
    return 0;
  } catch (e) {
    const server = ctx.learned.server ?? about.server;
    const described = describeError(e, { ...about, ...(server === undefined ? {} : { server }) });
    io.out.error(described.message);
    if (!described.expected && io.env['SOTTO_DEBUG'] === '1' && e instanceof Error) io.out.debug(e.stack ?? e.message);
    return described.exitCode;
  } finally {
    await io.out.flush();
  }
}

async function run(inv: Invocation, ctx: Context): Promise<void> {
  switch (inv.command) {
    case 'help':
      ctx.out.line(helpText(inv.topic));
      return;
    case 'serve':
      return (await import('./commands/serve.ts')).serve(inv, ctx);
    case 'register':
      return (await import('./commands/register.ts')).register(inv, ctx);
    case 'send':
      return (await import('./commands/send.ts')).send(inv, ctx);
    case 'send-file':
      return (await import('./commands/send-file.ts')).sendFile(inv, ctx);
    case 'receive':
      return (await import('./commands/receive.ts')).receive(inv, ctx);
    case 'contacts':
      return (await import('./commands/contacts.ts')).contacts(inv, ctx);
    case 'safety-number':
      return (await import('./commands/safety-number.ts')).safetyNumber(inv, ctx);
    case 'verify':
      return (await import('./commands/verify.ts')).verify(inv, ctx);
    case 'trust':
      return (await import('./commands/trust.ts')).trust(inv, ctx);
    case 'call':
      return (await import('./commands/call.ts')).call(inv, ctx);
    case 'answer':
      return (await import('./commands/answer.ts')).answer(inv, ctx);
  }
}

function errorContext(inv: Invocation): ErrorContext {
  if (inv.command === 'help' || inv.command === 'serve') return {};
  const g = inv.globals;
  const base = { command: inv.command, home: g.home, ...(g.serverExplicit || inv.command === 'register' ? { server: g.serverUrl } : {}) };
  switch (inv.command) {
    case 'send':
    case 'send-file':
    case 'call':
      return { ...base, contact: inv.to };
    case 'safety-number':
    case 'verify':
    case 'trust':
      return { ...base, contact: inv.username };
    default:
      return base;
  }
}
