// The conversation with one contact: header with the trust badge, the messages (a live log, so a screen
// reader announces new ones), and the composer (Enter sends, Shift+Enter starts a new line; a file
// can be attached). Built once per opened conversation and then patched, so typing and focus survive
// incoming messages. While the contact's key is `changed` (docs/protocol/10 §10.4), the composer is
// replaced by the interruption: what happened, in plain words, and the two ways on.
import type { Contact } from '@sotto/client';
import type { Conversation } from '../conversations.ts';
import { h, replaceChildren, uid } from '../dom.ts';
import { keyChangeExplanation } from '../trust.ts';
import { trustBadge } from './badge.ts';
import { messageItem, updateMessageItem, type MessageActions } from './message.ts';

export interface ChatHandlers extends MessageActions {
  sendText(text: string): Promise<void>;
  sendFile(file: File): Promise<void>;
  verify(): void;
  /** Starts an audio call with the contact (docs/protocol/11). */
  call(): void;
  acceptNewKey(): Promise<void>;
  back(): void;
}

export interface ChatView {
  readonly username: string;
  readonly element: HTMLElement;
  update(conv: Conversation, contact: Contact | undefined): void;
  /** Shows an error about this conversation (empty clears it). */
  fail(message: string): void;
  focusComposer(): void;
  /** Whether the Call button can be used (not while another call runs). */
  setCallEnabled(enabled: boolean): void;
}

export function chatView(username: string, handlers: ChatHandlers, now: () => number): ChatView {
  const titleId = uid('chat-title');
  const badgeSlot = h('span', { class: 'badge-slot' });
  const back = h('button', { type: 'button', class: 'back' }, 'Back', h('span', { class: 'visually-hidden' }, ' to conversations'));
  back.addEventListener('click', () => {
    handlers.back();
  });
  const verifyButton = h('button', { type: 'button', class: 'secondary' }, 'Safety number');
  verifyButton.setAttribute('aria-label', `Safety number and verification with ${username}`);
  verifyButton.addEventListener('click', () => {
    handlers.verify();
  });
  const callButton = h('button', { type: 'button', class: 'secondary call-button' }, 'Call');
  callButton.setAttribute('aria-label', `Call ${username}`);
  callButton.addEventListener('click', () => {
    handlers.call();
  });
  const header = h('header', { class: 'chat__header' }, back, h('h2', { id: titleId, tabindex: '-1' }, username), badgeSlot, callButton, verifyButton);

  const log = h('ol', { class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages with ${username}` });
  const emptyNote = h('p', { class: 'empty' }, `No messages with ${username} yet. Say hello: messages are end-to-end encrypted.`);
  const items = new Map<string, HTMLLIElement>();

  // --- the composer ---
  const textId = uid('composer');
  const text = h('textarea', { id: textId, name: 'message', rows: '2', maxlength: '16384', autocomplete: 'off', placeholder: `Write to ${username}… (Enter sends, Shift+Enter: new line)` });
  const fileInput = h('input', { type: 'file', hidden: true, tabindex: '-1' });
  fileInput.setAttribute('aria-label', `File to send to ${username}`);
  const attach = h('button', { type: 'button', class: 'secondary attach' }, 'Attach a file');
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const error = h('p', { role: 'alert', class: 'error' });
  const composer = h(
    'form',
    { class: 'composer', novalidate: true },
    h('label', { for: textId, class: 'visually-hidden' }, `Message to ${username}`),
    text,
    h('div', { class: 'composer__buttons' }, attach, fileInput, send),
  );
  const submit = (): void => {
    const value = text.value;
    if (value.trim() === '') return;
    error.textContent = '';
    text.value = '';
    void handlers.sendText(value);
  };
  composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
  });
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });
  attach.addEventListener('click', () => {
    fileInput.click();
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file === undefined) return;
    error.textContent = '';
    void handlers.sendFile(file);
  });

  // --- the interruption while the key is changed ---
  const changedTitleId = uid('changed-title');
  const changed = h('section', { class: 'key-change', 'aria-labelledby': changedTitleId, hidden: true });
  const renderChanged = (contact: Contact): void => {
    const text = keyChangeExplanation(contact);
    const verifyNow = h('button', { type: 'button', class: 'primary' }, 'Verify now');
    verifyNow.addEventListener('click', () => {
      handlers.verify();
    });
    const accept = h('button', { type: 'button', class: 'secondary' }, 'Accept the new key');
    accept.addEventListener('click', () => {
      accept.disabled = true;
      void handlers.acceptNewKey().finally(() => {
        accept.disabled = false;
      });
    });
    replaceChildren(
      changed,
      h('h3', { id: changedTitleId }, text.title),
      ...text.paragraphs.map((p) => h('p', {}, p)),
      h('div', { class: 'key-change__choices' }, verifyNow, accept),
    );
  };

  const element = h('section', { class: 'chat', 'aria-labelledby': titleId }, header, changed, emptyNote, log, composer, error);
  let shownState: string | undefined;

  return {
    username,
    element,
    update(conv, contact) {
      const t = now();
      let added = false;
      for (const m of conv.messages) {
        const li = items.get(m.key);
        if (li === undefined) {
          const item = messageItem(m, username, t, handlers);
          items.set(m.key, item);
          log.append(item);
          added = true;
        } else {
          updateMessageItem(li, m);
        }
      }
      emptyNote.hidden = items.size > 0;
      const state = contact === undefined ? 'none' : `${contact.state}/${contact.method ?? ''}/${String(contact.wasVerified)}`;
      if (state !== shownState) {
        shownState = state;
        replaceChildren(badgeSlot, contact === undefined ? undefined : trustBadge(contact));
        const isChanged = contact?.state === 'changed';
        if (contact !== undefined && isChanged) renderChanged(contact);
        changed.hidden = !isChanged;
        composer.hidden = isChanged;
        // A call is never placed to a key the user has not confirmed (§11.6, §10.4).
        callButton.hidden = isChanged;
      }
      // Only a new message scrolls (a status change must not pull a reader away from older ones).
      if (added) log.lastElementChild?.scrollIntoView({ block: 'end' });
    },
    fail(message) {
      error.textContent = message;
    },
    setCallEnabled(enabled) {
      callButton.disabled = !enabled;
    },
    focusComposer() {
      if (composer.hidden) changed.querySelector('button')?.focus();
      else text.focus();
    },
  };
}
