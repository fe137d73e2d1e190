// What `sotto call` and `sotto answer` share (docs/protocol/11): the audio set-up (--play, --record),
// the live listen() loop the SDK's calls need (call signalling arrives as session messages), and
// running one call to its end.
//
// Output: the SAS line on stdout when the call becomes active — the one result a script or a person
// reads — and everything else (call and media states, the summary) on stderr. Messages that arrive
// during the call are shown on stdout as `sotto receive` shows them (the live loop takes them off the
// server, so they must not vanish); files and voicemails among them are saved in <home>/files.
//
// Endings: after --duration (counted from `active`) or Ctrl-C we hang up: exit 0. The other side
// hanging up an active call: exit 0. Anything else — declined, busy, no answer, a failure, the
// media never connecting, a hang-up before the call was active — is one ERR_CLI_CALL line, exit 1.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isClientError, type Call, type CallEndReason, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { CliError } from '../errors.ts';
import type { CallAudioOptions } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { describeError } from '../internal/describe-error.ts';
import { saveUnique } from '../internal/files.ts';
import { changedSenderWarning, formatDuration, formatMessage, type SaveOutcome } from '../internal/format.ts';
import type { SignalWait } from '../internal/signals.ts';
import { MAX_PLAY_WAV_BYTES } from '../limits.ts';
import { AudioTimeline } from './timeline.ts';
import { CALL_SAMPLE_RATE, WavWriter, parseWav, toMono48k } from './wav.ts';
import { WeriftCallMedia, pcmSource } from './werift-media.ts';

/** Where files received during a call are saved, as `receive` does by default (<home>/files). */
const FILES_DIR = 'files';

/** Reads and converts the --play file (before the passphrase: a mistyped path fails at once). */
export async function readPlayFile(path: string | undefined): Promise<Int16Array | undefined> {
  if (path === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CliError('ERR_CLI_AUDIO', `--play: ${path} is not a regular file`);
    if (info.size > MAX_PLAY_WAV_BYTES) throw new CliError('ERR_CLI_AUDIO', `--play: ${path} is larger than ${MAX_PLAY_WAV_BYTES / 1024 / 1024} MiB`);
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code: unknown = (e as { code?: unknown }).code;
    throw new CliError('ERR_CLI_AUDIO', `--play: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: e });
  }
  try {
    return toMono48k(parseWav(bytes));
  } catch (e) {
    if (e instanceof CliError) throw new CliError(e.code, `--play ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The media, the recorder and the message loop of one command; stop() undoes all of it. */
export class CallSession {
  readonly media: WeriftCallMedia;
  readonly #recorder: WavWriter | undefined;
  readonly #stopListening: () => Promise<void>;
  readonly #ctx: Context;

  private constructor(media: WeriftCallMedia, recorder: WavWriter | undefined, stopListening: () => Promise<void>, ctx: Context) {
    this.media = media;
    this.#recorder = recorder;
    this.#stopListening = stopListening;
    this.#ctx = ctx;
  }

  /** Opens --record, fetches TURN credentials, registers `beforeListen` (answer's onIncomingCall,
   *  which must be in place before the first message is read) and starts listening. */
  static async open(client: SottoClient, ctx: Context, home: string, audio: CallAudioOptions, play: Int16Array | undefined, beforeListen?: () => void): Promise<CallSession> {
    const recorder = audio.record === undefined ? undefined : await WavWriter.create(audio.record);
    try {
      const iceServers = await client.turnServers();
      const timeline =
        recorder === undefined
          ? undefined
          : new AudioTimeline((s) => {
              recorder.write(s);
            });
      let lastState = '';
      const media = new WeriftCallMedia({
        iceServers,
        ...(play === undefined ? {} : { source: pcmSource(play) }),
        ...(timeline === undefined
          ? {}
          : {
              onAudio: (s: Int16Array, at: number): void => {
                timeline.put(s, at);
              },
            }),
        onConnectionState: (s) => {
          if (s !== lastState && s !== 'new') ctx.out.note(`media: ${s}`);
          lastState = s;
        },
      });
      beforeListen?.();
      const stop = client.listen(
        (m) => showMessage(client, ctx, home, m),
        (e) => {
          ctx.out.note(describeError(e, ctx.learned.server === undefined ? {} : { server: ctx.learned.server }).message);
        },
      );
      return new CallSession(media, recorder, stop, ctx);
    } catch (e) {
      await recorder?.close().catch(() => undefined);
      throw e;
    }
  }

  /** Closes the media, stops listening and finishes the recording (a write error is thrown here). */
  async stop(): Promise<void> {
    this.media.close();
    await this.#stopListening();
    if (this.#recorder !== undefined) {
      await this.#recorder.close();
      const seconds = this.#recorder.samples / CALL_SAMPLE_RATE;
      this.#ctx.out.note(`recorded ${seconds.toFixed(1)} s${this.#recorder.full ? ' (stopped at the WAV size limit)' : ''}`);
    }
  }
}

/** Why a call that did not end well ended, in words, for the one error line. */
function endedText(peer: string, reason: CallEndReason, by: 'local' | 'remote', wasActive: boolean): string {
  switch (reason) {
    case 'decline':
      return `${peer} declined the call`;
    case 'busy':
      return `${peer} is busy (on another call)`;
    case 'timeout':
      return by === 'local' ? `${peer} did not answer` : `the call from ${peer} was no longer ringing`;
    case 'sas-mismatch':
      return `the call ended: the words did not match on ${by === 'local' ? 'this' : `${peer}'s`} side, so someone may be intercepting the call; it was not trusted`;
    case 'failed':
      return `the call with ${peer} failed (the media could not connect, or a call message did not verify)`;
    case 'hangup':
      return wasActive ? `the call with ${peer} ended` : `${peer} hung up before the call was connected`;
  }
}

/**
 * Runs `call` to its end: states to stderr, the SAS line on stdout when active, --duration, Ctrl-C,
 * the media connection. Resolves when the call ended well (see the header), else ERR_CLI_CALL.
 */
export async function runCall(call: Call, session: CallSession, ctx: Context, durationMs: number | undefined, signals: SignalWait): Promise<void> {
  // Changed by callbacks while this function awaits the end.
  const seen: { wasActive: boolean; activeAt: number; mediaFailure: string | undefined; durationUp: boolean } = { wasActive: false, activeAt: 0, mediaFailure: undefined, durationUp: false };
  let durationTimer: NodeJS.Timeout | undefined;
  // The SDK ends the call at once and then sends call-end: the command must wait for that send before
  // the client closes, or the peer never hears the hang-up.
  let hangingUp: Promise<void> = Promise.resolve();
  const hangUp = (): void => {
    hangingUp = call.hangUp().catch(() => undefined);
  };
  const onActive = (): void => {
    if (seen.wasActive) return;
    seen.wasActive = true;
    seen.activeAt = Date.now();
    const sas = call.sas;
    if (sas !== undefined) ctx.out.line(`SAS: ${sas.words[0]} ${sas.words[1]} (${sas.base32}) — read it aloud and compare`);
    if (durationMs !== undefined) {
      durationTimer = setTimeout(() => {
        seen.durationUp = true;
        hangUp();
      }, durationMs);
    }
  };
  ctx.out.note(`call: ${call.state}`);
  const unsubscribe = call.onState((state) => {
    ctx.out.note(`call: ${state}`);
    if (state === 'active') onActive();
  });
  if (call.state === 'active') onActive(); // became active before we subscribed
  // The media failing (ICE or DTLS) ends the call: the keys are useless without a path.
  session.media.whenConnected().catch((e: unknown) => {
    if (call.state !== 'ended') {
      seen.mediaFailure = e instanceof Error ? e.message : String(e);
      hangUp();
    }
  });
  void signals.received.then((signal) => {
    ctx.out.note(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: hanging up`);
    hangUp();
  });
  let ended: { reason: CallEndReason; by: 'local' | 'remote' };
  try {
    ended = await call.ended;
  } finally {
    clearTimeout(durationTimer);
    unsubscribe();
  }
  await hangingUp;
  const stats = session.media.stats;
  const { wasActive, mediaFailure, durationUp } = seen;
  const length = wasActive ? ` after ${formatDuration(Date.now() - seen.activeAt)}` : '';
  ctx.out.note(`call ended (${ended.reason}, by ${ended.by === 'local' ? 'us' : call.peer})${length}; frames sent ${stats.sent}, received ${stats.received}, dropped ${stats.dropped}`);
  if (mediaFailure !== undefined && ended.by === 'local' && !durationUp) {
    throw new CliError('ERR_CLI_CALL', `the call with ${call.peer} failed: ${mediaFailure} (no network path between the two devices; a TURN server may be needed)`);
  }
  const fine = ended.reason === 'hangup' && (ended.by === 'local' || wasActive);
  if (!fine) throw new CliError('ERR_CLI_CALL', endedText(call.peer, ended.reason, ended.by, wasActive));
}

/** The SDK's call errors, as one line that says what happened. */
export function callError(e: unknown, peer: string): unknown {
  if (isClientError(e, 'ERR_CALL_BUSY')) return new CliError('ERR_CLI_CALL', 'this device is already in a call', { cause: e });
  if (isClientError(e, 'ERR_CALL_FAILED')) {
    return new CliError('ERR_CLI_CALL', `the call with ${peer} could not be set up: ${e.message.replace(/^ERR_CALL_FAILED: /, '')}`, { cause: e });
  }
  return e;
}

/** A message that arrived during the call, shown as `sotto receive` shows it; files are saved. */
async function showMessage(client: SottoClient, ctx: Context, home: string, m: ReceivedMessage): Promise<void> {
  let saved: SaveOutcome | undefined;
  if (m.kind === 'file' || m.kind === 'voicemail') {
    try {
      saved = { savedAs: await saveUnique(join(home, FILES_DIR), m.file.name, await client.downloadFile(m.file)) };
    } catch (e) {
      saved = { error: describeError(e, { home }).message };
    }
  }
  if (m.kind !== 'delivered' && m.senderState === 'changed') ctx.out.note(changedSenderWarning(m.from));
  ctx.out.line(formatMessage(m, saved));
}
