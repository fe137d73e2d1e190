// `sotto [--home DIR] call <username> [--play in.wav] [--record out.wav] [--duration <s>]`: places a
// call through the SDK (client.placeCall, docs/protocol/11) with the CLI's werift media
// (src/calls/werift-media.ts) and runs it to its end (src/calls/session.ts). The trust rules are a
// send's: a `changed` contact is refused (ERR_TRUST_CHANGED, described with what to do).
import { CallSession, callError, readPlayFile, runCall } from '../calls/session.ts';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { flushOutbox, foldUsername, withClient } from '../internal/open-client.ts';
import { waitForStopSignal } from '../internal/signals.ts';

export async function call(inv: Extract<Invocation, { command: 'call' }>, ctx: Context): Promise<void> {
  // Read first: a mistyped or unusable --play file fails at once, before the passphrase and its Argon2id.
  const play = await readPlayFile(inv.audio.play);
  await withClient(inv.globals, ctx, async (client) => {
    await flushOutbox(client, ctx);
    const signals = waitForStopSignal();
    const session = await CallSession.open(client, ctx, inv.globals.home, inv.audio, play);
    try {
      ctx.out.note(`calling ${foldUsername(inv.to)}`);
      let placed;
      try {
        placed = await client.placeCall(inv.to, session.media);
      } catch (e) {
        throw callError(e, foldUsername(inv.to));
      }
      await runCall(placed, session, ctx, inv.audio.durationMs, signals);
    } finally {
      signals.dispose();
      await session.stop();
    }
  });
}
