// `sotto [--home DIR] call <username> [--play in.wav] [--record out.wav] [--duration <s>] [--ring <s>]
// [--voicemail in.wav]`: places a call through the SDK (client.placeCall, docs/protocol/11) with the
// CLI's werift media (src/calls/werift-media.ts) and runs it to its end (src/calls/session.ts). The
// trust rules are a send's: a `changed` contact is refused (ERR_TRUST_CHANGED, described with what to
// do).
//
// --ring S hangs up after S seconds without an answer (the SDK's own limit is 45 s). --voicemail: when
// the call is not answered (no answer, declined, busy), the WAV's audio is sent as a voicemail (§11.6)
// — Ogg Opus (src/calls/voicemail.ts), an ordinary encrypted attachment naming the unanswered call —
// and the command succeeds with "left a voicemail for <user> (m:ss)" on stdout.
import { MAX_VOICEMAIL_DURATION_MS } from '@sotto/client';
import { CliError } from '../errors.ts';
import { OGG_OPUS_MIME } from '../calls/ogg-opus.ts';
import { CallSession, callError, readPlayFile, readWavFile, runCall, type CallOutcome } from '../calls/session.ts';
import { CALL_SAMPLE_RATE } from '../calls/wav.ts';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { formatDuration } from '../internal/format.ts';
import { flushOutbox, foldUsername, withClient } from '../internal/open-client.ts';
import { waitForStopSignal } from '../internal/signals.ts';

export async function call(inv: Extract<Invocation, { command: 'call' }>, ctx: Context): Promise<void> {
  // Read first: a mistyped or unusable --play or --voicemail file fails at once, before the passphrase and its Argon2id.
  const play = await readPlayFile(inv.audio.play);
  const voicemail = inv.voicemail === undefined ? undefined : await readVoicemail(inv.voicemail);
  await withClient(inv.globals, ctx, async (client) => {
    await flushOutbox(client, ctx);
    const signals = waitForStopSignal();
    const session = await CallSession.open(client, ctx, inv.globals.home, inv.audio, play);
    const peer = foldUsername(inv.to);
    let outcome: CallOutcome;
    let callId: string;
    try {
      ctx.out.note(`calling ${peer}`);
      let placed;
      try {
        placed = await client.placeCall(inv.to, session.media, { ringMs: inv.ringMs });
      } catch (e) {
        throw callError(e, peer);
      }
      callId = placed.id;
      outcome = await runCall(placed, session, ctx, inv.audio.durationMs, signals, { ringMs: inv.ringMs, unansweredIsResult: voicemail !== undefined });
    } finally {
      signals.dispose();
      await session.stop();
    }
    if (outcome.kind === 'unanswered' && voicemail !== undefined) {
      ctx.out.note(`${outcome.why}; leaving a voicemail`);
      // Loaded only now: encoding needs the Opus codec (WebAssembly), which a call that was answered never uses for this.
      const { encodeVoicemail } = await import('../calls/voicemail.ts');
      const encoded = encodeVoicemail(voicemail);
      await client.sendVoicemail(peer, { bytes: encoded.bytes, mime: OGG_OPUS_MIME, durationMs: encoded.durationMs }, callId);
      ctx.out.line(`left a voicemail for ${peer} (${formatDuration(encoded.durationMs)})`);
    }
  });
}

/** The --voicemail WAV as mono 48 kHz, within the voicemail's length limit (§11.6, one hour). */
async function readVoicemail(path: string): Promise<Int16Array> {
  const samples = await readWavFile(path, '--voicemail');
  if (samples.length === 0) throw new CliError('ERR_CLI_AUDIO', `--voicemail ${path}: the file holds no audio`);
  const ms = (samples.length * 1000) / CALL_SAMPLE_RATE;
  if (ms > MAX_VOICEMAIL_DURATION_MS) {
    throw new CliError('ERR_CLI_AUDIO', `--voicemail ${path}: ${formatDuration(ms)} long; a voicemail is at most ${MAX_VOICEMAIL_DURATION_MS / 60_000} minutes`);
  }
  return samples;
}
