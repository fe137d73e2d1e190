// The conversation list: every contact and conversation with its trust badge, unread count and last
// message, most recent first; and the form that starts a conversation by username. Rebuilt on every
// change (it is short), keeping keyboard focus on the conversation that had it.
import type { Contact } from '@sotto/client';
import { listOrder, preview, type Conversations } from '../conversations.ts';
import { h, replaceChildren, srOnly, uid } from '../dom.ts';
import { trustBadge } from './badge.ts';

export interface SidebarHandlers {
  open(username: string): void;
  start(username: string): Promise<void>;
}

export interface Sidebar {
  readonly element: HTMLElement;
  update(convs: Conversations, contacts: ReadonlyMap<string, Contact>, current: string | undefined): void;
  /** Shows why a conversation could not be started (empty to clear). */
  startFailed(message: string): void;
  focusNewConversation(): void;
}

export function sidebar(handlers: SidebarHandlers): Sidebar {
  const list = h('ul', { class: 'conv-list' });
  const input = h('input', { type: 'text', name: 'contact', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true, maxlength: '32' });
  const inputId = uid('new-conv');
  input.id = inputId;
  const error = h('p', { role: 'alert', class: 'error' });
  const startButton = h('button', { type: 'submit' }, 'Start');
  const form = h(
    'form',
    { class: 'new-conv', novalidate: true },
    h('label', { for: inputId }, 'New conversation with (username)'),
    h('div', { class: 'row' }, input, startButton),
    error,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (name === '') {
      error.textContent = 'Type the username of the person you want to write to.';
      input.focus();
      return;
    }
    error.textContent = '';
    startButton.disabled = true;
    void handlers
      .start(name)
      .then(() => {
        input.value = '';
      })
      .finally(() => {
        startButton.disabled = false;
      });
  });
  const headingId = uid('conv-heading');
  const empty = h('p', { class: 'empty' }, 'No conversations yet. Start one with a username above.');
  const element = h('nav', { class: 'sidebar', 'aria-labelledby': headingId }, h('h2', { id: headingId }, 'Conversations'), form, empty, list);

  return {
    element,
    update(convs, contacts, current) {
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset['username'] : undefined;
      const items = listOrder(convs).map((c) => {
        const contact = contacts.get(c.username);
        const unread = c.unread > 0 ? h('span', { class: 'unread' }, String(c.unread), srOnly(c.unread === 1 ? ' unread message' : ' unread messages')) : undefined;
        const button = h(
          'button',
          { type: 'button', class: 'conv', 'data-username': c.username, 'aria-current': c.username === current ? 'true' : undefined },
          h('span', { class: 'conv__top' }, h('span', { class: 'conv__name' }, c.username), unread),
          contact === undefined ? h('span', { class: 'badge badge--none' }, 'Not looked up yet') : trustBadge(contact),
          h('span', { class: 'conv__preview' }, preview(c)),
        );
        button.addEventListener('click', () => {
          handlers.open(c.username);
        });
        return h('li', {}, button);
      });
      replaceChildren(list, ...items);
      empty.hidden = items.length > 0;
      if (focused !== undefined) {
        const again = list.querySelector<HTMLButtonElement>(`button[data-username="${CSS.escape(focused)}"]`);
        again?.focus();
      }
    },
    startFailed(message) {
      error.textContent = message;
      if (message !== '') input.focus();
    },
    focusNewConversation() {
      input.focus();
    },
  };
}
