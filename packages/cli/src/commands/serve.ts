// `sotto serve [--host 127.0.0.1] [--port 8080] [--data DIR] [--database URL] [--turn-url URL ...]
// [--turn-secret SECRET]` (issue 3; TURN: docs/protocol/11 §11.7): runs the server in this process
// until SIGINT or SIGTERM, then closes it (connections, store) and returns.
// The one line on stdout, `sotto: listening on <url>`, is printed only once the socket accepts
// connections, and carries the real port (tests and scripts pass --port 0 and read it).
import { mkdir } from 'node:fs/promises';
import { jsonLogger, startServer } from '@sotto/server';
import { CliError } from '../errors.ts';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { waitForStopSignal } from '../internal/signals.ts';

export async function serve(inv: Extract<Invocation, { command: 'serve' }>, ctx: Context): Promise<void> {
  // Listen for signals first: a SIGTERM during start-up must still stop the server cleanly.
  const signals = waitForStopSignal();
  try {
    if (inv.databaseUrl === undefined) {
      try {
        await mkdir(inv.dataDir, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new CliError('ERR_CLI_SERVE', `cannot create the data directory ${inv.dataDir} (${errno(e) ?? 'I/O error'})`, { cause: e });
      }
    }
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        host: inv.host,
        port: inv.port,
        dataDir: inv.dataDir,
        // Operators see the server's events (start, stop, sweeps, failures) as JSON lines on stderr.
        logger: jsonLogger((line) => {
          ctx.out.log(line);
        }, 'info'),
        ...(inv.databaseUrl === undefined ? {} : { databaseUrl: inv.databaseUrl }),
        ...(inv.turn === undefined ? {} : { turn: inv.turn }),
      });
    } catch (e) {
      throw explainStartFailure(e, inv);
    }
    ctx.out.line(`sotto: listening on ${server.url}`);
    const signal = await signals.received;
    ctx.out.note(`${signal} received, shutting down`);
    await server.close();
  } finally {
    signals.dispose();
  }
}

/** Start-up failures as one sentence: the server wraps the system error (ERR_SERVER_LISTEN with the
 *  errno in `cause`), the store reports a database it cannot open (a StoreError). */
function explainStartFailure(e: unknown, inv: Extract<Invocation, { command: 'serve' }>): unknown {
  const where = `${inv.host}:${inv.port}`;
  const system = errno(e instanceof Error ? e.cause : undefined) ?? errno(e);
  switch (system) {
    case 'EADDRINUSE':
      return new CliError('ERR_CLI_SERVE', `cannot listen on ${where}: the address is already in use`, { cause: e });
    case 'EACCES':
      return new CliError('ERR_CLI_SERVE', `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, { cause: e });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new CliError('ERR_CLI_SERVE', `cannot listen on ${where}: ${inv.host} is not an address of this machine`, { cause: e });
    default:
      break;
  }
  // Settings the server refuses (the TURN secret's length or characters): its message names the
  // setting and the rule, never the value.
  if (e instanceof Error && e.name === 'ServerError' && errno(e) === 'ERR_SERVER_CONFIG') {
    return new CliError('ERR_CLI_SERVE', `cannot start the server: ${e.message.replace(/^ERR_[A-Z_]+: /, '')}`, { cause: e });
  }
  if (e instanceof Error && e.name === 'StoreError') {
    const what = inv.databaseUrl === undefined ? `the SQLite database in ${inv.dataDir}` : 'the PostgreSQL database';
    return new CliError('ERR_CLI_SERVE', `cannot open ${what}: ${e.message.replace(/^ERR_[A-Z_]+: /, '')}`, { cause: e });
  }
  return e;
}

function errno(e: unknown): string | undefined {
  const code: unknown = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
