// The call panel (docs/protocol/11): one region above the conversations that shows the call in
// progress — an incoming call with Accept / Decline, dialing and ringing, the active call with the
// short authentication string shown large (two words to read aloud, and the base32 form) and the two
// answers "The words match" / "They don't match", mute and hang up; then why the call ended, the
// loud warning after a mismatch, and the voicemail recorder after a call nobody took. Built from a
// plain description of the screen (src/app.ts owns the call); the <audio> element that plays the other
// person stays the same across screens, so re-rendering never interrupts the sound.
import type { CallEndReason, CallState } from '@sotto/client';
import { h, replaceChildren, uid } from '../dom.ts';
import { callEndText, callStateText, formatDuration, sasInstructions, sasMismatchParagraphs, sasMismatchTitle } from '../calls/texts.ts';

export type CallScreen =
  | { readonly kind: 'none' }
  | { readonly kind: 'incoming'; readonly peer: string }
  | {
      readonly kind: 'call';
      readonly peer: string;
      readonly role: 'caller' | 'callee';
      readonly state: CallState;
      readonly sas: { readonly words: readonly [string, string]; readonly base32: string } | undefined;
      /** After "The words match": the confirmation line replaces the two answers. */
      readonly sasNote: string | undefined;
      readonly muted: boolean;
    }
  | { readonly kind: 'ended'; readonly peer: string; readonly reason: CallEndReason; readonly by: 'local' | 'remote'; readonly canLeaveVoicemail: boolean }
  | { readonly kind: 'mismatch'; readonly peer: string; readonly by: 'local' | 'remote' }
  | { readonly kind: 'recording'; readonly peer: string; readonly elapsedMs: number; readonly maxMs: number }
  /** Anything else to say about a call (voicemail sent, microphone refused, call refused). */
  | { readonly kind: 'notice'; readonly title: string; readonly text: string; readonly problem: boolean };

export interface CallPanelHandlers {
  readonly accept: () => void;
  readonly decline: () => void;
  readonly hangUp: () => void;
  readonly toggleMute: () => void;
  readonly confirmSas: (match: boolean) => void;
  readonly leaveVoicemail: () => void;
  readonly stopRecording: (send: boolean) => void;
  readonly dismiss: () => void;
}

export interface CallPanel {
  readonly element: HTMLElement;
  /** Plays the other person's voice (given to BrowserCallMedia). */
  readonly audio: HTMLAudioElement;
  show(screen: CallScreen): void;
  /** The screen now shown. */
  readonly screen: CallScreen;
}

function button(label: string, cls: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', class: cls, ...attrs }, label);
  b.addEventListener('click', () => {
    b.disabled = true; // one answer per click; the next screen brings fresh buttons
    onClick();
  });
  return b;
}

export function callPanel(handlers: CallPanelHandlers): CallPanel {
  const titleId = uid('call-title');
  const audio = h('audio', { class: 'call__audio', autoplay: true });
  audio.setAttribute('aria-label', 'The other person’s voice');
  const content = h('div', { class: 'call__content' });
  const element = h('section', { class: 'call', 'aria-labelledby': titleId, hidden: true }, content, audio);
  let current: CallScreen = { kind: 'none' };

  const title = (text: string): HTMLHeadingElement => h('h2', { id: titleId, tabindex: '-1' }, text);

  function render(s: CallScreen): { focus?: HTMLElement; attrs: { state: string; tone: string } } {
    switch (s.kind) {
      case 'none':
        replaceChildren(content);
        return { attrs: { state: 'none', tone: '' } };
      case 'incoming': {
        const accept = button('Accept', 'primary call__accept', handlers.accept);
        const decline = button('Decline', 'danger', handlers.decline);
        replaceChildren(content, title(`${s.peer} is calling you`), h('p', { class: 'call__status', role: 'status' }, 'Incoming audio call, end-to-end encrypted.'), h('div', { class: 'call__buttons' }, accept, decline));
        return { focus: accept, attrs: { state: 'incoming', tone: 'ring' } };
      }
      case 'call': {
        const status = h('p', { class: 'call__status', role: 'status' }, callStateText(s.state, s.peer, s.role));
        const mute = button(s.muted ? 'Unmute' : 'Mute', 'secondary', handlers.toggleMute, { 'aria-pressed': String(s.muted) });
        const hangUp = button(s.state === 'active' ? 'Hang up' : 'Cancel the call', 'danger', handlers.hangUp);
        const parts: (HTMLElement | undefined)[] = [title(`Call with ${s.peer}`), status];
        if (s.sas !== undefined) {
          const sasId = uid('sas');
          parts.push(
            h(
              'div',
              { class: 'sas', role: 'group', 'aria-labelledby': sasId },
              h('p', { id: sasId, class: 'sas__label' }, sasInstructions(s.peer)),
              h('p', { class: 'sas__words', lang: 'en' }, h('span', { class: 'sas__word' }, s.sas.words[0]), ' ', h('span', { class: 'sas__word' }, s.sas.words[1])),
              h('p', { class: 'sas__code' }, 'Code: ', h('span', { class: 'sas__base32' }, s.sas.base32)),
              s.sasNote === undefined
                ? h('div', { class: 'call__buttons' }, button('The words match', 'primary', () => {
                    handlers.confirmSas(true);
                  }),
                  button('They don’t match', 'danger', () => {
                    handlers.confirmSas(false);
                  }),)
                : h('p', { class: 'success', role: 'status' }, s.sasNote),
            ),
          );
        }
        parts.push(h('div', { class: 'call__buttons' }, s.state === 'active' ? mute : undefined, hangUp));
        replaceChildren(content, ...parts);
        return { focus: hangUp, attrs: { state: s.state, tone: s.state === 'active' ? 'live' : 'ring' } };
      }
      case 'ended': {
        const close = button('Close', 'secondary', handlers.dismiss);
        const voicemail = s.canLeaveVoicemail ? button('Leave a voicemail', 'primary', handlers.leaveVoicemail) : undefined;
        replaceChildren(content, title(`Call with ${s.peer}`), h('p', { class: 'call__status', role: 'status' }, callEndText(s.reason, s.by, s.peer)), h('div', { class: 'call__buttons' }, voicemail, close));
        return { focus: voicemail ?? close, attrs: { state: 'ended', tone: '' } };
      }
      case 'mismatch': {
        const close = button('I understand', 'secondary', handlers.dismiss);
        replaceChildren(
          content,
          h('div', { class: 'call__alarm', role: 'alert' }, title(sasMismatchTitle(s.peer)), ...sasMismatchParagraphs(s.peer, s.by).map((p) => h('p', {}, p))),
          h('div', { class: 'call__buttons' }, close),
        );
        return { focus: close, attrs: { state: 'mismatch', tone: 'alarm' } };
      }
      case 'recording': {
        const send = button('Stop and send', 'primary', () => {
          handlers.stopRecording(true);
        });
        const cancel = button('Cancel', 'secondary', () => {
          handlers.stopRecording(false);
        });
        replaceChildren(
          content,
          title(`Voicemail for ${s.peer}`),
          h('p', { class: 'call__status', role: 'status' }, `Recording… ${formatDuration(s.elapsedMs)} of ${formatDuration(s.maxMs)}`),
          h('div', { class: 'call__buttons' }, send, cancel),
        );
        return { focus: send, attrs: { state: 'recording', tone: 'live' } };
      }
      case 'notice': {
        const close = button('Close', 'secondary', handlers.dismiss);
        replaceChildren(content, title(s.title), h('p', { class: s.problem ? 'error' : 'call__status', role: s.problem ? 'alert' : 'status' }, s.text), h('div', { class: 'call__buttons' }, close));
        return { focus: close, attrs: { state: 'notice', tone: s.problem ? 'alarm' : '' } };
      }
    }
  }

  return {
    element,
    audio,
    get screen() {
      return current;
    },
    show(s) {
      if (current.kind === 'recording' && s.kind === 'recording') {
        // A tick of the recorder: only the time changes (buttons and focus stay).
        current = s;
        const status = content.querySelector('.call__status');
        if (status !== null) status.textContent = `Recording… ${formatDuration(s.elapsedMs)} of ${formatDuration(s.maxMs)}`;
        return;
      }
      const sameKind = current.kind === s.kind && (s.kind !== 'call' || (current.kind === 'call' && current.state === s.state));
      current = s;
      const hadFocus = element.contains(document.activeElement);
      const r = render(s);
      element.hidden = s.kind === 'none';
      element.dataset['state'] = r.attrs.state;
      element.dataset['tone'] = r.attrs.tone;
      // Move focus to the new screen's main button when the screen changed (not on a mute toggle or
      // a recording tick, which would steal focus from the user every second).
      if (r.focus !== undefined && (!sameKind || hadFocus)) r.focus.focus();
    },
  };
}
