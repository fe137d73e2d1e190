// One message in the chat: its text, file, voicemail or missed call (docs/protocol/11 §11.6), when it
// was sent, and for a sent message its state — sending, sent (the server has it), delivered (the
// recipient's device sent a receipt), or not sent and why. Text from others goes in as text nodes only, with dir="auto" for right-to-left scripts.
import { missedCallText, playVoicemailLabel, voicemailText } from '../calls/texts.ts';
import type { ChatMessage } from '../conversations.ts';
import { h, replaceChildren, srOnly } from '../dom.ts';
import { displayFileName, formatSize, formatTime, isInlineImage } from '../format.ts';
import { MAX_INLINE_IMAGE_BYTES } from '../limits.ts';

export interface MessageActions {
  /** A blob: URL of the image (fetched, checked and decrypted for a received one), or undefined
   *  when it is not available (a file this device sent before a reload). Rejects with the reason. */
  imageUrl(m: ChatMessage): Promise<string | undefined>;
  /** The same for a voicemail's audio, fetched when the user presses Play. */
  mediaUrl(m: ChatMessage): Promise<string | undefined>;
  /** Fetches, decrypts and saves a received file; rejects with the reason (shown by the caller). */
  download(m: ChatMessage): Promise<void>;
  /** Plain-language text for an error. */
  describe(e: unknown): string;
}

const STATUS_TEXT = { sending: 'Sending…', sent: 'Sent', delivered: 'Delivered', failed: 'Not sent' } as const;

function statusLine(m: ChatMessage): HTMLElement | undefined {
  if (m.direction !== 'out' || m.status === undefined) return undefined;
  return h('span', { class: `status status--${m.status}` }, STATUS_TEXT[m.status], m.problem === undefined ? undefined : h('span', { class: 'problem' }, ` — ${m.problem}`));
}

function fileBody(m: ChatMessage, actions: MessageActions): HTMLElement {
  if (m.body.type !== 'file') throw new TypeError('expected a file message');
  const f = m.body.file;
  const label = `${displayFileName(f.name)} (${formatSize(f.size)})`;
  const box = h('div', { class: 'file' });
  const problem = h('p', { class: 'error', role: 'alert' });
  const downloadButton = (): HTMLButtonElement | undefined => {
    if (m.direction !== 'in' || f.ref === undefined) return undefined;
    const b = h('button', { type: 'button', class: 'download' }, `Download ${label}`);
    b.addEventListener('click', () => {
      b.disabled = true;
      problem.textContent = '';
      actions
        .download(m)
        .catch((e: unknown) => {
          problem.textContent = actions.describe(e);
        })
        .finally(() => {
          b.disabled = false;
        });
    });
    return b;
  };
  if (isInlineImage(f.mime) && f.size <= MAX_INLINE_IMAGE_BYTES) {
    const holder = h('p', { class: 'file__loading' }, `Loading image ${label}…`);
    box.append(holder);
    actions
      .imageUrl(m)
      .then((url) => {
        if (url === undefined) {
          replaceChildren(box, h('p', { class: 'file__name' }, `Image: ${label}`));
          return;
        }
        const img = h('img', { src: url, alt: `Image ${displayFileName(f.name)}`, class: 'file__image' });
        replaceChildren(box, img, h('p', { class: 'file__name' }, label), downloadButton(), problem);
      })
      .catch((e: unknown) => {
        replaceChildren(box, h('p', { class: 'file__name' }, `Image: ${label}`), downloadButton(), problem);
        problem.textContent = actions.describe(e);
      });
    return box;
  }
  box.append(h('p', { class: 'file__name' }, `File: ${label}`), downloadButton() ?? '', problem);
  return box;
}

/** A voicemail (docs/protocol/11 §11.6): "Voicemail (0:12)"; a received one has a Play button that
 *  fetches and decrypts the recording and puts an <audio> player in its place. */
function voicemailBody(m: ChatMessage, from: string, actions: MessageActions): HTMLElement {
  if (m.body.type !== 'voicemail') throw new TypeError('expected a voicemail');
  const { file, durationMs } = m.body;
  const label = voicemailText(durationMs);
  const box = h('div', { class: 'voicemail' }, h('p', { class: 'voicemail__label' }, label));
  if (m.direction !== 'in' || file.ref === undefined || file.size > MAX_INLINE_IMAGE_BYTES) return box;
  const problem = h('p', { class: 'error', role: 'alert' });
  const play = h('button', { type: 'button', class: 'secondary' }, 'Play');
  play.setAttribute('aria-label', playVoicemailLabel(from, durationMs));
  play.addEventListener('click', () => {
    play.disabled = true;
    problem.textContent = '';
    actions
      .mediaUrl(m)
      .then((url) => {
        if (url === undefined) return;
        const player = h('audio', { src: url, controls: true, class: 'voicemail__audio' });
        player.setAttribute('aria-label', `${label} from ${from}`);
        play.replaceWith(player);
        void player.play().catch(() => undefined);
      })
      .catch((e: unknown) => {
        play.disabled = false;
        problem.textContent = actions.describe(e);
      });
  });
  box.append(play, problem);
  return box;
}

function bodyOf(m: ChatMessage, from: string, actions: MessageActions): HTMLElement {
  switch (m.body.type) {
    case 'text':
      return h('p', { class: 'text', dir: 'auto' }, m.body.text);
    case 'file':
      return fileBody(m, actions);
    case 'voicemail':
      return voicemailBody(m, from, actions);
    case 'missed-call':
      return h('p', { class: 'call-entry' }, missedCallText(from));
  }
}

/** The list item for `m`; `from` names the other person for screen readers. */
export function messageItem(m: ChatMessage, from: string, now: number, actions: MessageActions): HTMLLIElement {
  const who = m.direction === 'out' ? 'You' : from;
  const body = bodyOf(m, from, actions);
  const warning =
    m.direction === 'in' && m.senderState === 'changed'
      ? h('p', { class: 'msg__warning' }, `Sent from ${from}'s new key, which you have not verified or accepted.`)
      : undefined;
  const time = new Date(m.sentAt);
  const status = statusLine(m);
  return h(
    'li',
    { class: `msg msg--${m.direction}${m.body.type === 'missed-call' ? ' msg--call' : ''}`, 'data-key': m.key, 'data-status': m.status },
    h('div', { class: 'bubble' }, srOnly(`${who}: `), warning, body),
    h('p', { class: 'meta' }, h('time', { datetime: time.toISOString() }, formatTime(m.sentAt, now)), status === undefined ? undefined : ' · ', status),
  );
}

/** Brings an existing item up to date with `m` (only a sent message's state changes). */
export function updateMessageItem(li: HTMLLIElement, m: ChatMessage): void {
  if (m.direction !== 'out' || li.dataset['status'] === m.status) return;
  if (m.status !== undefined) li.dataset['status'] = m.status;
  const old = li.querySelector('.status');
  const fresh = statusLine(m);
  if (old !== null && fresh !== undefined) old.replaceWith(fresh);
}
