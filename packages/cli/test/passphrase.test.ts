// The passphrase: from $SOTTO_PASSPHRASE, else typed at a terminal with echo off (the raw-mode line
// editor is pure and tested here key by key), else a clear error — never read from a pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { getPassphrase, passphraseEditor, type PromptInput } from '../src/internal/passphrase.ts';
import { isCliError } from '../src/errors.ts';
import type { Output } from '../src/output.ts';
import { MAX_PASSPHRASE_CHARS } from '../src/limits.ts';

function typed(...chunks: string[]): ReturnType<ReturnType<typeof passphraseEditor>['feed']> {
  const editor = passphraseEditor();
  let last = editor.feed('');
  for (const c of chunks) last = editor.feed(c);
  return last;
}

test('the line editor: enter, backspace, ctrl-U, ctrl-C, ctrl-D, escape sequences, pasted text', () => {
  assert.deepEqual(typed('correct horse', '\r'), { status: 'done', value: 'correct horse' });
  assert.deepEqual(typed('abc\n'), { status: 'done', value: 'abc' });
  assert.deepEqual(typed('abX\u007fc\r'), { status: 'done', value: 'abc' }, 'DEL deletes');
  assert.deepEqual(typed('abX\bc\r'), { status: 'done', value: 'abc' }, 'BS deletes');
  assert.deepEqual(typed('h\u00e9\u{1f511}\u007f\r'), { status: 'done', value: 'h\u00e9' }, 'backspace removes a whole code point');
  assert.deepEqual(typed('wrong\u0015right\r'), { status: 'done', value: 'right' }, 'ctrl-U clears');
  assert.deepEqual(typed('secret\u0003'), { status: 'cancelled' });
  assert.deepEqual(typed('\u0004'), { status: 'cancelled' }, 'ctrl-D on an empty line cancels');
  assert.deepEqual(typed('pw\u0004'), { status: 'done', value: 'pw' });
  assert.deepEqual(typed('a\u001b[Db\u001b[1;5Cc\u001bOD\u001bxd\r'), { status: 'done', value: 'abcd' }, 'arrow keys and other escapes are ignored');
  assert.deepEqual(typed('\u001b[200~pasted pw\u001b[201~', '\r'), { status: 'done', value: 'pasted pw' }, 'bracketed paste markers are dropped');
  assert.deepEqual(typed('a\tb\u0007\u009bc\r'), { status: 'done', value: 'abc' }, 'control characters are not part of a passphrase');
  assert.deepEqual(typed('abc'), { status: 'more' });
  // Split across chunks, and nothing after the end of the line counts.
  const editor = passphraseEditor();
  assert.deepEqual(editor.feed('pass'), { status: 'more' });
  assert.deepEqual(editor.feed('word\rignored'), { status: 'done', value: 'password' });
  assert.deepEqual(editor.feed('more'), { status: 'done', value: 'password' });
  const long = typed('x'.repeat(MAX_PASSPHRASE_CHARS + 10), '\r');
  assert.equal(long.status === 'done' ? long.value.length : -1, MAX_PASSPHRASE_CHARS);
});

function capture(): Output & { stderr: string } {
  const o = {
    stderr: '',
    line: () => undefined,
    json: () => undefined,
    note: (t: string) => {
      o.stderr += `sotto: ${t}\n`;
    },
    error: (t: string) => {
      o.stderr += `sotto: ${t}\n`;
    },
    prompt: (t: string) => {
      o.stderr += t;
    },
    debug: () => undefined,
    log: () => undefined,
    flush: () => Promise.resolve(),
  };
  return o;
}

/** A terminal that types `keys` (one chunk each) as soon as it is put in raw mode and resumed. */
class FakeTerminal extends EventEmitter implements PromptInput {
  readonly isTTY = true;
  raw = false;
  rawModeCalls: boolean[] = [];
  constructor(private readonly keys: string[]) {
    super();
  }
  setRawMode(raw: boolean): this {
    this.raw = raw;
    this.rawModeCalls.push(raw);
    return this;
  }
  setEncoding(): this {
    return this;
  }
  resume(): this {
    const key = this.keys.shift();
    if (key !== undefined) setImmediate(() => this.emit('data', key));
    return this;
  }
  pause(): this {
    return this;
  }
}

test('getPassphrase: the environment first; a prompt with echo off on a terminal; else a clear error', async () => {
  const out = capture();
  assert.equal(await getPassphrase({ env: { SOTTO_PASSPHRASE: 'from env' }, out, terminal: undefined }, '/h', true), 'from env');
  await assert.rejects(getPassphrase({ env: { SOTTO_PASSPHRASE: '' }, out, terminal: undefined }, '/h', false), (e: unknown) => isCliError(e, 'ERR_CLI_NO_PASSPHRASE') && /empty/.test(e.message));
  await assert.rejects(
    getPassphrase({ env: {}, out, terminal: undefined }, '/h', false),
    (e: unknown) => isCliError(e, 'ERR_CLI_NO_PASSPHRASE') && e.message === 'no passphrase: set SOTTO_PASSPHRASE, or run in a terminal to be asked for it',
  );

  const tty = new FakeTerminal(['hunter2\r']);
  const prompted = capture();
  assert.equal(await getPassphrase({ env: {}, out: prompted, terminal: tty }, '/h', false), 'hunter2');
  assert.equal(prompted.stderr, 'Passphrase for /h: \n', 'the prompt, no echo of the passphrase, then a newline');
  assert.deepEqual(tty.rawModeCalls, [true, false], 'raw mode is switched off again');

  const confirm = new FakeTerminal(['new pw\r', 'new pw\r']);
  const c = capture();
  assert.equal(await getPassphrase({ env: {}, out: c, terminal: confirm }, '/h', true), 'new pw');
  assert.equal(c.stderr, 'New passphrase for /h: \nRepeat the passphrase: \n');

  await assert.rejects(getPassphrase({ env: {}, out: capture(), terminal: new FakeTerminal(['one\r', 'two\r']) }, '/h', true), (e: unknown) => isCliError(e, 'ERR_CLI_PASSPHRASE_MISMATCH'));
  const cancelled = new FakeTerminal(['sec\u0003']);
  await assert.rejects(getPassphrase({ env: {}, out: capture(), terminal: cancelled }, '/h', false), (e: unknown) => isCliError(e, 'ERR_CLI_CANCELLED'));
  assert.equal(cancelled.raw, false, 'raw mode is off after a cancel too');
  await assert.rejects(getPassphrase({ env: {}, out: capture(), terminal: new FakeTerminal(['\r']) }, '/h', false), (e: unknown) => isCliError(e, 'ERR_CLI_NO_PASSPHRASE') && /empty/.test(e.message));
});
