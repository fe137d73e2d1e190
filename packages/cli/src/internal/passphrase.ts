// Where the keystore passphrase comes from: $SOTTO_PASSPHRASE (scripts, tests), else a prompt on the
// terminal with echo off. Without either, a clear error: reading a passphrase from a pipe would
// invite `echo secret | sotto ...`, which leaves it in the shell history.
//
// The prompt puts the terminal in raw mode and edits the line itself (passphraseEditor, pure, tested
// in test/passphrase.test.ts): no character is echoed, not even a '*', so the length stays private.
import { CliError } from '../errors.ts';
import { MAX_PASSPHRASE_CHARS } from '../limits.ts';
import type { Output } from '../output.ts';
import type { Env } from './args.ts';

export type EditorResult = { readonly status: 'more' } | { readonly status: 'done'; readonly value: string } | { readonly status: 'cancelled' };

export interface PassphraseEditor {
  /** Feeds what the terminal sent (keys, pasted text). */
  feed(chunk: string): EditorResult;
}

/** A line editor for raw-mode input: Enter ends the line; Backspace deletes one character; Ctrl-U
 *  clears; Ctrl-C cancels; Ctrl-D cancels an empty line and ends a non-empty one; escape sequences
 *  (arrow keys, bracketed-paste markers) and other control characters are ignored. */
export function passphraseEditor(): PassphraseEditor {
  let chars: string[] = [];
  // ESC, then CSI ("ESC [") parameters until a final byte 0x40–0x7E (ECMA-48 §5.4), or SS3
  // ("ESC O" and one character: arrow keys in application mode), or Alt+key (ESC and one character).
  let escape: 'none' | 'esc' | 'csi' | 'ss3' = 'none';
  let finished: EditorResult | undefined;
  return {
    feed(chunk: string): EditorResult {
      if (finished !== undefined) return finished;
      for (const ch of chunk) {
        const code = ch.codePointAt(0) ?? 0;
        if (escape === 'esc') {
          escape = ch === '[' ? 'csi' : ch === 'O' ? 'ss3' : 'none';
          continue;
        }
        if (escape === 'ss3') {
          escape = 'none';
          continue;
        }
        if (escape === 'csi') {
          if (code >= 0x40 && code <= 0x7e) escape = 'none';
          continue;
        }
        if (ch === '\r' || ch === '\n') return (finished = { status: 'done', value: chars.join('') });
        if (ch === '\u0003') return (finished = { status: 'cancelled' });
        if (ch === '\u0004') return (finished = chars.length === 0 ? { status: 'cancelled' } : { status: 'done', value: chars.join('') });
        if (ch === '\u001b') escape = 'esc';
        else if (ch === '\u007f' || ch === '\b') chars.pop();
        else if (ch === '\u0015') chars = [];
        else if (code >= 0x20 && !(code >= 0x80 && code <= 0x9f) && chars.length < MAX_PASSPHRASE_CHARS) chars.push(ch);
      }
      return { status: 'more' };
    },
  };
}

/** The terminal the prompt reads from: process.stdin when it is a TTY. */
export interface PromptInput {
  readonly isTTY: boolean;
  setRawMode(raw: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PassphraseSource {
  readonly env: Env;
  readonly out: Output;
  /** Undefined when stdin is not a terminal. */
  readonly terminal: PromptInput | undefined;
}

/** The passphrase for the keystore in `home`; with `confirm` (a new keystore), asked twice. */
export async function getPassphrase(src: PassphraseSource, home: string, confirm: boolean): Promise<string> {
  const fromEnv = src.env['SOTTO_PASSPHRASE'];
  if (fromEnv !== undefined) {
    if (fromEnv === '') throw new CliError('ERR_CLI_NO_PASSPHRASE', 'SOTTO_PASSPHRASE is set but empty');
    return fromEnv;
  }
  const tty = src.terminal;
  if (tty === undefined || !tty.isTTY) {
    throw new CliError('ERR_CLI_NO_PASSPHRASE', 'no passphrase: set SOTTO_PASSPHRASE, or run in a terminal to be asked for it');
  }
  const first = await ask(tty, src.out, confirm ? `New passphrase for ${home}: ` : `Passphrase for ${home}: `);
  if (first === '') throw new CliError('ERR_CLI_NO_PASSPHRASE', 'the passphrase is empty');
  if (!confirm) return first;
  const second = await ask(tty, src.out, 'Repeat the passphrase: ');
  if (second !== first) throw new CliError('ERR_CLI_PASSPHRASE_MISMATCH', 'the two passphrases differ; nothing was created');
  return first;
}

function ask(tty: PromptInput, out: Output, prompt: string): Promise<string> {
  out.prompt(prompt);
  const editor = passphraseEditor();
  return new Promise((resolve, reject) => {
    const onData = (chunk: string): void => {
      const r = editor.feed(chunk);
      if (r.status === 'more') return;
      tty.removeListener('data', onData);
      tty.setRawMode(false);
      tty.pause();
      out.prompt('\n');
      if (r.status === 'done') resolve(r.value);
      else reject(new CliError('ERR_CLI_CANCELLED', 'cancelled'));
    };
    tty.setEncoding('utf8');
    tty.setRawMode(true);
    tty.on('data', onData);
    tty.resume();
  });
}
