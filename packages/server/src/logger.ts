// Structured logging. The server logs events with a few fields — route templates, status codes,
// counts, durations, error codes — and never request contents: no username, address, id, key,
// token or envelope byte ever reaches a log line (docs/protocol/09 §9.1, DESIGN.md "no plaintext
// metadata logs"). The embedder decides where lines go; the default writes nothing.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

/** Writes nothing. */
export const silentLogger: Logger = { log: () => undefined };

/** One JSON object per line ({"level","event",...fields,"time"}) to `write`, from `minLevel` up. */
export function jsonLogger(write: (line: string) => void, minLevel: LogLevel = 'info', now: () => number = Date.now): Logger {
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return {
    log(level, event, fields) {
      if (order[level] < order[minLevel]) return;
      write(`${JSON.stringify({ level, event, ...fields, time: new Date(now()).toISOString() })}\n`);
    },
  };
}
