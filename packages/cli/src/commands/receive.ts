// `sotto [--home DIR] receive [--wait <seconds>] [--json] [--save-dir DIR]`.
//
// Without --wait: the backlog, through the SDK's receive({ waitMs: 0 }). With --wait: the SDK's live
// mode (listen), so each message is shown as it arrives — and a file is saved before its message is
// acknowledged — until nothing arrived for that many seconds, or Ctrl-C / SIGTERM (a clean stop,
// exit 0). Files are saved into --save-dir (default <home>/files) under a safe, fresh name
// (internal/files.ts); one that cannot be fetched or saved is reported, the other messages are
// still shown, and the command exits 1 at the end.
import { join } from 'node:path';
import { isClientError, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { CliError } from '../errors.ts';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { describeError } from '../internal/describe-error.ts';
import { saveUnique } from '../internal/files.ts';
import { changedSenderWarning, formatMessage, messageJson, type SaveOutcome } from '../internal/format.ts';
import { flushOutbox, withClient } from '../internal/open-client.ts';
import { waitForStopSignal } from '../internal/signals.ts';

/** The default --save-dir, inside the account's own (owner-only) directory. */
export const FILES_DIR = 'files';

type ReceiveInvocation = Extract<Invocation, { command: 'receive' }>;

export async function receive(inv: ReceiveInvocation, ctx: Context): Promise<void> {
  const saveDir = inv.saveDir ?? join(inv.globals.home, FILES_DIR);
  await withClient(inv.globals, ctx, async (client) => {
    await flushOutbox(client, ctx);
    const warned = new Set<string>();
    let shown = 0;
    let unsaved = 0;
    const show = async (m: ReceivedMessage): Promise<void> => {
      let saved: SaveOutcome | undefined;
      if (m.kind === 'file' || m.kind === 'voicemail') {
        try {
          saved = { savedAs: await saveUnique(saveDir, m.file.name, await client.downloadFile(m.file)) };
        } catch (e) {
          unsaved++;
          saved = { error: describeError(e, { home: inv.globals.home }).message };
        }
      }
      if (m.kind !== 'delivered' && m.senderState === 'changed' && !warned.has(m.from)) {
        warned.add(m.from);
        ctx.out.note(changedSenderWarning(m.from));
      }
      if (inv.json) ctx.out.json(messageJson(m, saved));
      else ctx.out.line(formatMessage(m, saved));
      shown++;
    };

    if (inv.waitMs === 0) {
      const problems = (e: unknown): void => {
        ctx.out.note(describeError(e, aboutServer(ctx)).message);
      };
      for (const m of await client.receive({ waitMs: 0, onError: problems })) await show(m);
    } else {
      await listenUntilQuiet(client, inv.waitMs, show, ctx);
    }
    if (shown === 0 && !inv.json) ctx.out.note('no new messages');
    if (unsaved > 0) throw new CliError('ERR_CLI_SAVE', `${unsaved} received file${unsaved === 1 ? ' was' : 's were'} not saved (see above)`);
  });
}

/** Live mode until `quietMs` pass without a message, or a stop signal. */
async function listenUntilQuiet(client: SottoClient, quietMs: number, show: (m: ReceivedMessage) => Promise<void>, ctx: Context): Promise<void> {
  const signals = waitForStopSignal();
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: () => void = () => undefined;
  const quiet = new Promise<void>((resolve) => {
    wakeUp = resolve;
  });
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(wakeUp, quietMs);
  };
  let lastProblem = '';
  ctx.out.note(`listening; stops after ${quietMs / 1000} s without a message, or on Ctrl-C`);
  arm();
  const stop = client.listen(
    async (m) => {
      clearTimeout(timer);
      try {
        await show(m);
      } finally {
        arm();
      }
    },
    (e) => {
      // A dropped message is reported each time; a connection problem once until it changes (the
      // SDK reconnects by itself, with back-off).
      const problem = describeError(e, aboutServer(ctx)).message;
      if (isRejectedMessage(e)) ctx.out.note(problem);
      else if (problem !== lastProblem) ctx.out.note(`${problem} (reconnecting)`);
      if (!isRejectedMessage(e)) lastProblem = problem;
    },
  );
  try {
    await Promise.race([quiet, signals.received]);
  } finally {
    clearTimeout(timer);
    signals.dispose();
    await stop();
  }
}

function aboutServer(ctx: Context): { server?: string } {
  return ctx.learned.server === undefined ? {} : { server: ctx.learned.server };
}

function isRejectedMessage(e: unknown): boolean {
  return isClientError(e, 'ERR_MESSAGE_REJECTED') || isClientError(e, 'ERR_CONTENT_INVALID');
}
