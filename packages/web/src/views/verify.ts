// The verification screen (docs/protocol/07 §7.3–7.4, DESIGN.md "Trust"): the 60-digit safety number
// in 12 groups of 5 and the same as a QR code, and two ways to verify — scan the other person's QR
// code with the camera, or type the digits their screen shows. Both end in the SDK (verifyScanned /
// verify), which compares against the contact's CURRENT key, so a number of an old key verifies nothing.
import type { Contact } from '@sotto/client';
import { h, replaceChildren, uid } from '../dom.ts';
import { qrSvgMarkup } from '../qr.ts';
import { safetyNumberGroups } from '../trust.ts';
import { trustBadge } from './badge.ts';

export interface VerifyHandlers {
  verifyDigits(digits: string): Promise<void>;
  /** Starts the camera on `video`; resolves when a code was scanned and checked (or the scan stopped). */
  scan(video: HTMLVideoElement, canvas: HTMLCanvasElement): { done: Promise<void>; stop: () => void };
  back(): void;
}

export interface VerifyView {
  readonly username: string;
  readonly element: HTMLElement;
  show(info: { digits: string; scannable: Uint8Array; contact: Contact }): void;
  updateContact(contact: Contact): void;
  fail(message: string): void;
  succeed(message: string): void;
  focus(): void;
  /** Stops the camera (when the screen is left). */
  dispose(): void;
}

/** The SVG of the QR code as a DOM node (parsed, never innerHTML; uqr's output has no scripts). */
function qrNode(payload: Uint8Array, label: string): Element {
  const doc = new DOMParser().parseFromString(qrSvgMarkup(payload), 'image/svg+xml');
  const svg = document.importNode(doc.documentElement, true);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'qr');
  return svg;
}

export function verifyView(username: string, handlers: VerifyHandlers): VerifyView {
  const titleId = uid('verify-title');
  const back = h('button', { type: 'button', class: 'back back--always' }, 'Back', h('span', { class: 'visually-hidden' }, ` to the conversation with ${username}`));
  back.addEventListener('click', () => {
    handlers.back();
  });
  const badgeSlot = h('span', { class: 'badge-slot' });
  const title = h('h2', { id: titleId, tabindex: '-1' }, `Verify ${username}`);
  const changedNote = h('p', { class: 'notice notice--warning', hidden: true });
  const numberBox = h('div', { class: 'safety-number', role: 'group', 'aria-label': 'Safety number' });
  const qrBox = h('div', { class: 'qr-box' });
  const status = h('p', { role: 'status', class: 'success' });
  const error = h('p', { role: 'alert', class: 'error' });

  // --- scanning ---
  const video = h('video', { muted: true, playsinline: true, class: 'scanner__video', 'aria-label': `Camera view: point it at ${username}'s QR code` });
  video.muted = true;
  const canvas = h('canvas', { hidden: true });
  const scanStatus = h('p', { class: 'hint' }, `Hold ${username}'s screen so that the QR code fills most of the camera view.`);
  const stopButton = h('button', { type: 'button', class: 'secondary' }, 'Stop scanning');
  const scanner = h('div', { class: 'scanner', hidden: true }, video, canvas, scanStatus, stopButton);
  const scanButton = h('button', { type: 'button', class: 'primary' }, `Scan ${username}'s code`);
  let scanning: { stop: () => void } | undefined;
  const endScan = (): void => {
    scanning?.stop();
    scanning = undefined;
    scanner.hidden = true;
    scanButton.hidden = false;
  };
  scanButton.addEventListener('click', () => {
    error.textContent = '';
    status.textContent = '';
    scanner.hidden = false;
    scanButton.hidden = true;
    const s = handlers.scan(video, canvas);
    scanning = s;
    void s.done.finally(() => {
      if (scanning === s) {
        endScan();
        scanButton.focus();
      }
    });
    stopButton.focus();
  });
  stopButton.addEventListener('click', () => {
    endScan();
    scanButton.focus();
  });
  scanner.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      endScan();
      scanButton.focus();
    }
  });

  // --- typing the number ---
  const digitsId = uid('digits');
  const digits = h('input', { id: digitsId, type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', name: 'digits' });
  const digitsHint = h('p', { class: 'hint', id: `${digitsId}-hint` }, `The 60 digits ${username}'s screen shows for you; spaces do not matter.`);
  digits.setAttribute('aria-describedby', digitsHint.id);
  const verifyButton = h('button', { type: 'submit', class: 'primary' }, 'Verify');
  const form = h('form', { class: 'verify__form', novalidate: true }, h('label', { for: digitsId }, `${username}'s safety number`), digits, digitsHint, verifyButton);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    status.textContent = '';
    verifyButton.disabled = true;
    void handlers.verifyDigits(digits.value).finally(() => {
      verifyButton.disabled = false;
    });
  });

  const element = h(
    'section',
    { class: 'verify', 'aria-labelledby': titleId },
    h('header', { class: 'chat__header' }, back, title, badgeSlot),
    h(
      'p',
      { class: 'lead' },
      `If ${username}'s screen shows the same number, your messages reach ${username} and nobody in between. Compare in person or on a call you trust — not over Sotto itself.`,
    ),
    changedNote,
    h('div', { class: 'verify__codes' }, h('figure', {}, numberBox, h('figcaption', {}, `Your safety number with ${username}`)), h('figure', {}, qrBox, h('figcaption', {}, `Let ${username} scan this code`))),
    status,
    error,
    h('h3', {}, 'Scan their code'),
    h('p', {}, `Open the verification screen for you on ${username}'s device and scan the code it shows.`),
    scanButton,
    scanner,
    h('h3', {}, 'Or compare the numbers'),
    form,
  );

  const updateContact = (contact: Contact): void => {
    replaceChildren(badgeSlot, trustBadge(contact));
    changedNote.hidden = contact.state !== 'changed';
    changedNote.textContent =
      contact.state === 'changed' ? `${username}'s key changed. This number belongs to the NEW key: verify it with ${username} before you trust it.` : '';
  };

  return {
    username,
    element,
    show(info) {
      const rows = [0, 4, 8].map((i) => h('span', { class: 'safety-number__row' }, ...safetyNumberGroups(info.digits).slice(i, i + 4).flatMap((g, j) => [j > 0 ? ' ' : '', h('span', { class: 'group' }, g)])));
      replaceChildren(numberBox, ...rows);
      replaceChildren(qrBox, qrNode(info.scannable, `QR code of your safety number with ${username}`));
      updateContact(info.contact);
    },
    updateContact,
    fail(message) {
      error.textContent = message;
    },
    succeed(message) {
      status.textContent = message;
      digits.value = '';
    },
    focus() {
      title.focus();
    },
    dispose() {
      endScan();
    },
  };
}
