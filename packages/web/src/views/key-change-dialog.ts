// The interruption when a contact's key changes (docs/protocol/10 §10.4): a modal alert dialog with
// the plain explanation and the choices, shown once when the change is first noticed while the user
// looks at that conversation. Escape (or "Not now") closes it; the same choices stay in the chat in
// place of the composer, and sending stays refused until one is made.
import type { Contact } from '@sotto/client';
import { h, uid } from '../dom.ts';
import { keyChangeExplanation } from '../trust.ts';

export interface KeyChangeChoices {
  verify(): void;
  accept(): Promise<void>;
  /** Called after the dialog closed, however it closed. */
  closed(): void;
}

export function showKeyChangeDialog(contact: Contact, choices: KeyChangeChoices): HTMLDialogElement {
  const text = keyChangeExplanation(contact);
  const titleId = uid('kc-title');
  const bodyId = uid('kc-body');
  const verify = h('button', { type: 'button', class: 'primary' }, 'Verify now');
  const accept = h('button', { type: 'button', class: 'secondary' }, 'Accept the new key');
  const later = h('button', { type: 'button', class: 'link' }, 'Not now');
  const dialog = h(
    'dialog',
    { class: 'dialog dialog--alert', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
    h('h2', { id: titleId }, text.title),
    h('div', { id: bodyId }, ...text.paragraphs.map((p) => h('p', {}, p))),
    h('div', { class: 'dialog__choices' }, verify, accept, later),
  );
  let afterClose: () => void = () => {
    choices.closed();
  };
  dialog.addEventListener('close', () => {
    dialog.remove();
    afterClose();
  });
  verify.addEventListener('click', () => {
    afterClose = () => {
      choices.verify();
    };
    dialog.close();
  });
  accept.addEventListener('click', () => {
    accept.disabled = true;
    void choices.accept().finally(() => {
      dialog.close();
    });
  });
  later.addEventListener('click', () => {
    dialog.close();
  });
  document.body.append(dialog);
  dialog.showModal();
  verify.focus();
  return dialog;
}
