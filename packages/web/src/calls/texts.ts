// What the call screens say (docs/protocol/11 §11.4, §11.6). Pure, like src/trust.ts: the views put
// these strings on screen, tests check them. The SAS words are what people read aloud; the warning on
// a mismatch is deliberately loud, because a mismatch is how a man in the middle shows.
import type { CallEndReason, CallState } from '@sotto/client';

/** The line under the person's name while a call runs. */
export function callStateText(state: CallState, peer: string, role: 'caller' | 'callee'): string {
  switch (state) {
    case 'dialing':
      return `Calling ${peer}…`;
    case 'ringing':
      return role === 'caller' ? `Ringing ${peer}…` : `${peer} is calling you`;
    case 'connecting':
      return 'Connecting… setting up the call’s own encryption keys';
    case 'active':
      return `In a call with ${peer}`;
    case 'ended':
      return 'Call ended';
  }
}

/** Why the call ended, from this user's point of view (`by`: who ended it). */
export function callEndText(reason: CallEndReason, by: 'local' | 'remote', peer: string): string {
  switch (reason) {
    case 'hangup':
      return by === 'local' ? 'You ended the call.' : `${peer} ended the call.`;
    case 'decline':
      return by === 'local' ? 'You declined the call.' : `${peer} declined the call.`;
    case 'busy':
      return `${peer} is in another call. Try again later.`;
    case 'timeout':
      return by === 'local' ? `${peer} did not answer.` : `You missed a call from ${peer}.`;
    case 'sas-mismatch':
      return sasMismatchTitle(peer);
    case 'failed':
      return `The call with ${peer} could not be connected. Check your connection and try again.`;
  }
}

export function sasMismatchTitle(peer: string): string {
  return `Warning: the words did not match — someone may be listening in on your call with ${peer}`;
}

/** The loud warning after a mismatch, on both sides. The contact's state is not changed (a misheard
 *  word is possible), but the user is told what a mismatch most likely means (§11.4). */
export function sasMismatchParagraphs(peer: string, by: 'local' | 'remote'): string[] {
  return [
    by === 'local' ? `You said the words on your screen were not the ones ${peer} read. The call was ended.` : `${peer} said the words on their screen were not the ones you read. The call was ended.`,
    `Different words mean the two of you were not connected directly: a man in the middle — for example someone controlling the server or the network — may have been able to listen to this call.`,
    `Nothing about ${peer} was changed. Check ${peer}'s safety number in person, or call again and compare the words carefully. Do not say anything sensitive until the words match.`,
  ];
}

/** Above the SAS on the in-call screen. */
export function sasInstructions(peer: string): string {
  return `Read these two words to ${peer}, and listen to the two words ${peer} reads. If they are the same on both screens, nobody is in between.`;
}

export function sasMatchedText(peer: string): string {
  return `The words matched: ${peer} is now verified by words compared in a call.`;
}

/** The list item of a missed call. */
export function missedCallText(peer: string): string {
  return `Missed call from ${peer}`;
}

/** A voicemail in the conversation, either way (`durationMs` as m:ss): "Voicemail (0:12)". */
export function voicemailText(durationMs: number): string {
  return `Voicemail (${formatDuration(durationMs)})`;
}

/** The accessible name of a received voicemail's Play button. */
export function playVoicemailLabel(peer: string, durationMs: number): string {
  return `Play the voicemail from ${peer} (${formatDuration(durationMs)})`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Why a microphone could not be opened, in plain words (getUserMedia's DOMException names). */
export function microphoneProblem(e: unknown): string {
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'Sotto may not use your microphone. Allow it in the browser’s site settings and try again.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Connect one and try again.';
  if (name === 'NotReadableError') return 'Your microphone is in use by another application, or it failed. Close the other application and try again.';
  return 'The microphone could not be opened. Try again.';
}
