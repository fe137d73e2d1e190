// The two screens before the account is open: create it (username, passphrase twice) and unlock it
// (passphrase). Both show progress while Argon2id stretches the passphrase (a few seconds, on purpose)
// and any error in plain words in an alert region next to the form.
import { h, uid } from '../dom.ts';
import { WebError } from '../errors.ts';

export interface FormHandle {
  /** The whole screen. */
  readonly element: HTMLElement;
  /** Shows an error (and re-enables the form); with `remedy`, a button that offers a way out. */
  fail(message: string, remedy?: { label: string; run: () => Promise<void> }): void;
  /** Moves focus to the first field. */
  focus(): void;
}

/** Checks what the create form can check locally; the server checks the username itself. */
export function checkNewPassphrase(passphrase: string, repeat: string): void {
  if (passphrase !== repeat) throw new WebError('ERR_WEB_PASSPHRASE_MISMATCH', 'the two passphrases differ');
}

function field(label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  const id = uid('field');
  input.id = id;
  const hintEl = hint === undefined ? undefined : h('p', { class: 'hint', id: `${id}-hint` }, hint);
  if (hintEl !== undefined) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl);
}

function busyParts(submitLabel: string, busyText: string): { button: HTMLButtonElement; status: HTMLParagraphElement; error: HTMLParagraphElement; setBusy: (b: boolean) => void } {
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const status = h('p', { role: 'status', class: 'progress' });
  const error = h('p', { role: 'alert', class: 'error' });
  return {
    button,
    status,
    error,
    setBusy: (b) => {
      button.disabled = b;
      status.textContent = b ? busyText : '';
      if (b) error.textContent = '';
    },
  };
}

export function createAccountScreen(onSubmit: (username: string, passphrase: string, repeat: string) => Promise<void>): FormHandle {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, maxlength: '32' });
  const pass = h('input', { type: 'password', name: 'passphrase', autocomplete: 'new-password', required: true });
  const repeat = h('input', { type: 'password', name: 'repeat', autocomplete: 'new-password', required: true });
  const { button, status, error, setBusy } = busyParts('Create account', 'Creating your keys and registering… this takes a few seconds.');
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field('Username', username, '3 to 32 characters: a–z, 0–9 and _, starting with a letter. Others find you by it.'),
    field('Passphrase', pass, 'It protects everything Sotto keeps in this browser. It cannot be recovered: without it, this account is lost.'),
    field('Repeat the passphrase', repeat),
    button,
    status,
    error,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setBusy(true);
    void onSubmit(username.value.trim(), pass.value, repeat.value).finally(() => {
      pass.value = '';
      repeat.value = '';
    });
  });
  const element = h(
    'main',
    { id: 'main', class: 'screen screen--account' },
    h('h1', { tabindex: '-1' }, 'Create your Sotto account'),
    h('p', { class: 'lead' }, 'Sotto encrypts every message on this device. The server relays them but cannot read them.'),
    form,
  );
  return {
    element,
    fail(message) {
      setBusy(false);
      error.textContent = message;
      username.focus();
    },
    focus() {
      username.focus();
    },
  };
}

export function unlockScreen(onSubmit: (passphrase: string) => Promise<void>): FormHandle {
  const pass = h('input', { type: 'password', name: 'passphrase', autocomplete: 'current-password', required: true });
  const { button, status, error, setBusy } = busyParts('Unlock', 'Unlocking… this takes a few seconds, so that guessing your passphrase is slow.');
  const form = h('form', { class: 'card', novalidate: true }, field('Passphrase', pass), button, status, error);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setBusy(true);
    const value = pass.value;
    pass.value = '';
    void onSubmit(value);
  });
  const element = h(
    'main',
    { id: 'main', class: 'screen screen--account' },
    h('h1', { tabindex: '-1' }, 'Unlock Sotto'),
    h('p', { class: 'lead' }, 'Your account and messages in this browser are locked. Enter your passphrase to open them.'),
    form,
  );
  const remedySlot = h('div', { class: 'remedy' });
  form.append(remedySlot);
  return {
    element,
    fail(message, remedy) {
      setBusy(false);
      error.textContent = message;
      remedySlot.replaceChildren();
      if (remedy === undefined) {
        pass.focus();
        return;
      }
      const b = h('button', { type: 'button', class: 'secondary' }, remedy.label);
      b.addEventListener('click', () => {
        b.disabled = true;
        void remedy.run().finally(() => {
          b.disabled = false;
        });
      });
      remedySlot.append(b);
      b.focus();
    },
    focus() {
      pass.focus();
    },
  };
}
