// The only place the sotto command writes to the terminal (STYLE.md layout: "output.ts is the only
// writer to the terminal"). Commands describe what to show through this interface; what they show is
// formatted by the pure functions of internal/format.ts, so tests can check both without a terminal.
//
// stdout carries results (messages, contacts, safety numbers, `listening on`), one line per item, so
// that scripts can read it; stderr carries errors, warnings and prompts, so they never mix with JSON.

/** Where the command writes. `terminalOutput()` writes to the process; tests pass their own. */
export interface Output {
  /** One line of results on stdout (the text may hold newlines: a QR code, a multi-line message). */
  line(text: string): void;
  /** One JSON value as one line on stdout (JSON Lines). */
  json(value: unknown): void;
  /** One line of advice or warning on stderr, prefixed `sotto: `. */
  note(text: string): void;
  /** The single line an error becomes on stderr: `sotto: <message>`. */
  error(message: string): void;
  /** A prompt on stderr without a newline (interactive passphrase entry only). */
  prompt(text: string): void;
  /** A multi-line diagnostic on stderr: a bug's stack trace, only when SOTTO_DEBUG=1 asks for it. */
  debug(text: string): void;
  /** A server log line (JSON, already newline-terminated) on stderr; the server's logger never puts
   *  request contents, usernames, addresses or keys in one (packages/server/src/logger.ts). */
  log(line: string): void;
  /** Waits until everything written has been handed to the operating system. */
  flush(): Promise<void>;
}

/** The prefix of every line the command writes on stderr. */
export const PREFIX = 'sotto: ';

/** JSON.stringify escapes C0 controls; C1 controls (U+0080–U+009F) and the bidi overrides are
 *  escaped too, so a JSON line shown in a terminal cannot carry an escape sequence or reorder text. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Collapses a message to one printable line: an error or note is exactly one line on stderr, and
 *  nothing in it (an error text from a server, a file name) can move the cursor or change colours. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/\r?\n/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** Writes to process.stdout / process.stderr. A closed stdout (`sotto receive | head -1`) ends the
 *  output quietly instead of crashing with EPIPE. */
export function terminalOutput(): Output {
  let stdoutClosed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') stdoutClosed = true;
    else throw e;
  });
  const out = (s: string): void => {
    if (!stdoutClosed) process.stdout.write(s);
  };
  const err = (s: string): void => {
    process.stderr.write(s);
  };
  return {
    line: (text) => {
      out(`${text}\n`);
    },
    json: (value) => {
      out(`${jsonLine(value)}\n`);
    },
    note: (text) => {
      err(`${PREFIX}${oneLine(text)}\n`);
    },
    error: (message) => {
      err(`${PREFIX}${oneLine(message)}\n`);
    },
    prompt: (text) => {
      err(text);
    },
    debug: (text) => {
      err(`${text}\n`);
    },
    log: (line) => {
      err(line);
    },
    flush: async () => {
      const drain = (stream: NodeJS.WriteStream): Promise<void> =>
        new Promise((resolve) => {
          if (stream.writableLength === 0 || stream.destroyed) resolve();
          else stream.write('', () => {
            resolve();
          });
        });
      await Promise.all([stdoutClosed ? Promise.resolve() : drain(process.stdout), drain(process.stderr)]);
    },
  };
}
