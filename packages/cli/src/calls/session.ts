// What `sotto call` and `sotto answer` share (docs/protocol/11): the audio set-up (--play, --record),
// the live listen() loop the SDK's calls need (call signalling arrives as session messages), and
// running one call to its end.
//
// Output: the SAS line on stdout when the call becomes active — the one result a script or a person
// reads — and everything else (call and media states, the summary) on stderr. Messages that arrive
// during the call are shown on stdout as `sotto receive` shows them (the live loop takes them off the
// server, so they must not vanish); files and voicemails among them are saved in <home>/files.
//
// The SAS question (§11.4, sas-answer.ts): once the SAS line is out, stdin is read for 'y' or 'n';
// 'y' marks the peer verified (words compared in a call) and the call goes on; 'n' prints a loud
// warning and ends the call `sas-mismatch` on both sides (exit 1 on both).
//
// Endings: after --duration (counted from `active`) or Ctrl-C we hang up: exit 0. The other side
// hanging up an active call: exit 0. Anything else — declined, busy, no answer (45 s, or `call
// --ring`), a failure, the media never connecting, a hang-up before the call was active, the words
// not matching — is one ERR_CLI_CALL line, exit 1; except that `call --voicemail` turns "declined,
// busy, no answer" into leaving the voicemail (commands/call.ts).
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
import { SasQuestion, type SasAnswer } from './sas-answer.ts';
import { AudioTimeline } from './timeline.ts';
import { CALL_SAMPLE_RATE, WavWriter, parseWav, toMono48k } from './wav.ts';
import { WeriftCallMedia, pcmSource } from './werift-media.ts';

/** Where files received during a call are saved, as `receive` does by default (<home>/files). */
const FILES_DIR = 'files';

/** Reads and converts the --play file (before the passphrase: a mistyped path fails at once). */
export function readPlayFile(path: string | undefined): Promise<Int16Array | undefined> {
  return path === undefined ? Promise.resolve(undefined) : readWavFile(path, '--play');
}

/** Reads a WAV file given to `option` and converts it to mono 48 kHz; ERR_CLI_AUDIO in one line. */
export async function readWavFile(path: string, option: string): Promise<Int16Array> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CliError('ERR_CLI_AUDIO', `${option}: ${path} is not a regular file`);
    if (info.size > MAX_PLAY_WAV_BYTES) throw new CliError('ERR_CLI_AUDIO', `${option}: ${path} is larger than ${MAX_PLAY_WAV_BYTES / 1024 / 1024} MiB`);
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code: unknown = (e as { code?: unknown }).code;
    throw new CliError('ERR_CLI_AUDIO', `${option}: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: e });
  }
  try {
    return toMono48k(parseWav(bytes));
  } catch (e) {
    if (e instanceof CliError) throw new CliError(e.code, `${option} ${path}: ${e.message}`, { cause: e });
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

/** What runCall may do besides running the call. */
export interface RunCallOptions {
  /** `call --ring`: how long the SDK lets the call ring (placeCall's ringMs), for the message. */
  readonly ringMs?: number;
  /** `call --voicemail`: a call that was declined, busy or not answered resolves as `unanswered`
   *  instead of failing, so the caller can leave the voicemail. */
  readonly unansweredIsResult?: boolean;
}

/** How a call that did not fail ended: `done`, or not answered (with the sentence that says why). */
export type CallOutcome = { readonly kind: 'done' } | { readonly kind: 'unanswered'; readonly why: string };

/**
 * Runs `call` to its end: states to stderr, the SAS line on stdout when active and the SAS question
 * (sas-answer.ts), --duration, --ring, Ctrl-C, the media connection. Resolves when the call ended
 * well (see the header), else ERR_CLI_CALL.
 */
export async function runCall(call: Call, session: CallSession, ctx: Context, durationMs: number | undefined, signals: SignalWait, opts: RunCallOptions = {}): Promise<CallOutcome> {
  // Changed by callbacks while this function awaits the end.
  const seen: { wasActive: boolean; activeAt: number; mediaFailure: string | undefined; durationUp: boolean } = {
    wasActive: false,
    activeAt: 0,
    mediaFailure: undefined,
    durationUp: false,
  };
  let durationTimer: NodeJS.Timeout | undefined;
  // The SDK ends the call at once and then sends call-end: the command must wait for that send before
  // the client closes, or the peer never hears the hang-up.
  let hangingUp: Promise<void> = Promise.resolve();
  const hangUp = (): void => {
    hangingUp = call.hangUp().catch(() => undefined);
  };
  // §11.4: the answer to "do the words match?", from stdin once the SAS line is out.
  const question = ctx.stdin === undefined ? undefined : new SasQuestion(ctx.stdin, {
          prompt: (t) => {
            ctx.out.prompt(t);
          },
          note: (t) => {
            ctx.out.note(t);
          },
        });
  let confirming: Promise<void> = Promise.resolve();
  const onAnswer = (a: SasAnswer): void => {
    confirming = confirmSas(call, a, ctx);
  };
  const onActive = (): void => {
    if (seen.wasActive) return;
    seen.wasActive = true;
    seen.activeAt = Date.now();
    const sas = call.sas;
    if (sas !== undefined) {
      ctx.out.line(`SAS: ${sas.words[0]} ${sas.words[1]} (${sas.base32}) — read it aloud and compare`);
      question?.ask(onAnswer);
    }
    if (durationMs !== undefined) {
      durationTimer = setTimeout(() => {
        seen.durationUp = true;
        hangUp();
      }, durationMs);
    }
  };
  question?.start();
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
    question?.close();
  }
  await confirming;
  await hangingUp;
  const stats = session.media.stats;
  const { wasActive, mediaFailure, durationUp } = seen;
  const length = wasActive ? ` after ${formatDuration(Date.now() - seen.activeAt)}` : '';
  ctx.out.note(`call ended (${ended.reason}, by ${ended.by === 'local' ? 'us' : call.peer})${length}; frames sent ${stats.sent}, received ${stats.received}, dropped ${stats.dropped}`);
  if (wasActive && question !== undefined && !question.answered && ended.reason !== 'sas-mismatch') {
    ctx.out.note(`the words were not confirmed: ${call.peer}'s trust state is unchanged`);
  }
  if (mediaFailure !== undefined && ended.by === 'local' && !durationUp) {
    throw new CliError('ERR_CLI_CALL', `the call with ${call.peer} failed: ${mediaFailure} (no network path between the two devices; a TURN server may be needed)`);
  }
  const unanswered =
    !wasActive &&
    call.role === 'caller' &&
    ((ended.by === 'local' && ended.reason === 'timeout') || (ended.by === 'remote' && (ended.reason === 'decline' || ended.reason === 'busy')));
  if (unanswered) {
    // The SDK ends an unanswered call with `timeout` after placeCall's ringMs (and tells the callee).
    const why = ended.by === 'local' && ended.reason === 'timeout' && opts.ringMs !== undefined ? `${call.peer} did not answer within ${opts.ringMs / 1000} s` : endedText(call.peer, ended.reason, ended.by, wasActive);
    if (opts.unansweredIsResult === true) return { kind: 'unanswered', why };
    throw new CliError('ERR_CLI_CALL', why);
  }
  const fine = ended.reason === 'hangup' && (ended.by === 'local' || wasActive);
  if (!fine) throw new CliError('ERR_CLI_CALL', endedText(call.peer, ended.reason, ended.by, wasActive));
  return { kind: 'done' };
}

/** §11.4: acts on the user's answer. A match marks the peer verified (words compared in a call); a
 *  mismatch warns loudly and ends the call `sas-mismatch` (runCall then fails with its line). */
async function confirmSas(call: Call, answer: SasAnswer, ctx: Context): Promise<void> {
  if (answer === 'mismatch') {
    ctx.out.note(
      `WARNING: the words do not match. Someone may be in the middle of this call, listening to both of you. Ending the call; ${call.peer}'s trust state is unchanged (a word may have been misheard: compare safety numbers in person with 'sotto safety-number ${call.peer}').`,
    );
  }
  try {
    await call.confirmSas(answer === 'match');
    if (answer === 'match') ctx.out.line(`${call.peer} is now verified (words compared in a call)`);
  } catch (e) {
    // ERR_CALL_STATE: the call ended meanwhile, or the contact's key changed during the call.
    ctx.out.note(`${answer === 'match' ? `${call.peer} was not marked verified` : 'the call could not be ended as a mismatch'}: ${describeError(e).message}`);
  }
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
