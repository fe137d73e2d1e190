// The web client's controller: which screen is shown, the open account, and every SDK call. Views
// (src/views/) build DOM and report what the user did; the history model (src/conversations.ts) is
// pure; this file wires them to @sotto/client and keeps the three in step.
//
// While unlocked the SDK's `listen` runs: messages arrive live, and on every (re)connection the server
// pushes what waited while the page was closed (docs/protocol/09 §9.8), so catching up needs nothing
// more. Each received message is put into the encrypted history before `listen` acknowledges it
// (the SDK calls back after persisting and before the ack, docs/protocol/10 §10.1): a page closed at
// any moment loses nothing.
import { isClientError, type Contact, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { CallController } from './calls/controller.ts';
import { missedCallText } from './calls/texts.ts';
import { accountExists, createBrowserAccount, removeBrowserAccount, unlockBrowserAccount, type Unlocked } from './account.ts';
import {
  NO_CONVERSATIONS,
  applyMissedCall,
  applyReceived,
  applySendFailed,
  applySending,
  applySent,
  ensureConversation,
  markRead,
  type ChatMessage,
  type Conversations,
} from './conversations.ts';
import { describeError, type Action } from './describe-error.ts';
import { h, replaceChildren } from './dom.ts';
import { WebError } from './errors.ts';
import { isInlineImage, mimeForUpload } from './format.ts';
import type { HistoryStore } from './history.ts';
import { HEALTH_PROBE_MS, MAX_SEND_FILE_BYTES } from './limits.ts';
import { startScan } from './scanner.ts';
import { methodLabel } from './trust.ts';
import { checkNewPassphrase, createAccountScreen, unlockScreen } from './views/account-forms.ts';
import { callPanel, type CallPanel } from './views/call.ts';
import { chatView, type ChatView } from './views/chat.ts';
import { showKeyChangeDialog } from './views/key-change-dialog.ts';
import { sidebar, type Sidebar } from './views/sidebar.ts';
import { verifyView, type VerifyView } from './views/verify.ts';

interface Session {
  readonly client: SottoClient;
  readonly history: HistoryStore | undefined;
  stopListening: () => Promise<void>;
}

type Pane = 'list' | 'chat' | 'verify';

export class App {
  readonly #root: HTMLElement;
  readonly #now: () => number = Date.now;
  #session: Session | undefined;
  #convs: Conversations = NO_CONVERSATIONS;
  #contacts = new Map<string, Contact>();
  #current: string | undefined;
  #pane: Pane = 'list';
  // The main screen's parts (undefined before unlock).
  #sidebar: Sidebar | undefined;
  #layout: HTMLElement | undefined;
  #mainPane: HTMLElement | undefined;
  #connection: HTMLElement | undefined;
  #notice: HTMLElement | undefined;
  #announcer: HTMLElement | undefined;
  #chat: ChatView | undefined;
  #verify: VerifyView | undefined;
  #dialog: HTMLDialogElement | undefined;
  /** Key changes the dialog was shown for (username and when the change was noticed). */
  readonly #interrupted = new Set<string>();
  /** blob: URLs of images by message key (revoked on lock). */
  readonly #images = new Map<string, Promise<string | undefined>>();
  #healthTimer: ReturnType<typeof setTimeout> | undefined;
  // Calls (docs/protocol/11): the panel above the layout and the controller while unlocked. Missed
  // calls and voicemails are messages of the history (src/conversations.ts).
  #callPanel: CallPanel | undefined;
  #calls: CallController | undefined;

  constructor(root: HTMLElement) {
    this.#root = root;
  }

  async start(): Promise<void> {
    let exists: boolean;
    try {
      exists = await accountExists();
    } catch (e) {
      replaceChildren(this.#root, h('main', { id: 'main', class: 'screen' }, h('h1', {}, 'Sotto'), h('p', { role: 'alert', class: 'error' }, describeError(e, { action: 'unlock' }))));
      return;
    }
    if (exists) this.#showUnlock();
    else this.#showCreate();
  }

  // -------------------------------------------------------------------------------------------
  // Create and unlock

  #showCreate(): void {
    const screen = createAccountScreen(async (username, passphrase, repeat) => {
      try {
        checkNewPassphrase(passphrase, repeat);
        await this.#enter(await createBrowserAccount(username, passphrase));
      } catch (e) {
        screen.fail(describeError(e, { action: 'create' }));
      }
    });
    replaceChildren(this.#root, screen.element);
    document.title = 'Create account · Sotto';
    screen.focus();
  }

  #showUnlock(): void {
    const screen = unlockScreen(async (passphrase) => {
      try {
        await this.#enter(await unlockBrowserAccount(passphrase));
      } catch (e) {
        if (!isClientError(e, 'ERR_KEYSTORE_DEVICE_KEY_MISSING')) {
          screen.fail(describeError(e, { action: 'unlock' }));
          return;
        }
        screen.fail(describeError(e, { action: 'unlock' }), {
          label: 'Remove the damaged account from this browser',
          run: async () => {
            try {
              await removeBrowserAccount();
              this.#showCreate();
            } catch (err) {
              screen.fail(describeError(err, { action: 'unlock' }));
            }
          },
        });
      }
    });
    replaceChildren(this.#root, screen.element);
    document.title = 'Unlock · Sotto';
    screen.focus();
  }

  async #enter(u: Unlocked): Promise<void> {
    // One open account per browser: the keystore's own Web Lock refuses a second tab
    // (ERR_KEYSTORE_IN_USE), which matters because the server keeps one WebSocket per device.
    let history = u.history;
    let historyNote: string | undefined;
    let convs: Conversations = NO_CONVERSATIONS;
    if (history !== undefined) {
      try {
        const loaded = await history.load();
        for (const c of loaded.conversations) convs = new Map(convs).set(c.username, c);
        if (loaded.unreadable > 0) historyNote = describeError(new WebError('ERR_WEB_HISTORY', 'unreadable records'), { action: 'unlock' });
      } catch (e) {
        // Unreadable as a whole: keep this session in memory rather than overwrite what is stored.
        history.close();
        history = undefined;
        historyNote = describeError(e, { action: 'unlock' });
      }
    } else {
      historyNote = describeError(u.historyProblem instanceof Error ? u.historyProblem : new WebError('ERR_WEB_HISTORY', 'no history'), { action: 'unlock' });
    }
    const session: Session = { client: u.client, history, stopListening: () => Promise.resolve() };
    this.#session = session;
    this.#convs = convs;
    try {
      this.#buildMain(u.client.username);
      if (historyNote !== undefined) this.#showNotice(historyNote);
      await this.#refreshContacts();
    } catch (e) {
      // Leave nothing open behind the unlock screen (the keystore's lock would refuse the next try).
      this.#session = undefined;
      history?.close();
      await u.client.close().catch(() => undefined);
      throw e;
    }
    // Before listen: an offer pushed on connection rings instead of becoming a missed call.
    this.#startCalls(u.client);
    session.stopListening = u.client.listen(
      (m) => this.#received(m),
      (e) => {
        this.#listenProblem(e);
      },
    );
    // What an earlier, interrupted send left in the SDK's outbox (docs/protocol/10 §10.5).
    void u.client.flushOutbox().catch((e: unknown) => {
      this.#setConnection(describeError(e, { action: 'receive' }));
    });
  }

  async #lock(): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    this.#session = undefined;
    this.#setConnection('');
    this.#verify?.dispose();
    this.#dialog?.close();
    await this.#calls?.dispose().catch(() => undefined);
    this.#calls = undefined;
    await s.stopListening().catch(() => undefined);
    await s.client.close().catch(() => undefined);
    s.history?.close();
    for (const p of this.#images.values()) {
      void p.then((url) => {
        if (url !== undefined) URL.revokeObjectURL(url);
      });
    }
    this.#images.clear();
    this.#convs = NO_CONVERSATIONS;
    this.#contacts = new Map();
    this.#current = undefined;
    this.#chat = undefined;
    this.#verify = undefined;
    this.#sidebar = undefined;
    this.#interrupted.clear();
    this.#showUnlock();
  }

  // -------------------------------------------------------------------------------------------
  // The main screen

  #buildMain(username: string): void {
    const lock = h('button', { type: 'button', class: 'secondary' }, 'Lock');
    lock.addEventListener('click', () => {
      void this.#lock();
    });
    this.#connection = h('p', { role: 'status', class: 'connection', hidden: true });
    this.#notice = h('p', { role: 'alert', class: 'notice', hidden: true });
    this.#announcer = h('p', { role: 'status', class: 'visually-hidden' });
    this.#sidebar = sidebar({
      open: (u) => {
        this.#openChat(u);
      },
      start: (u) => this.#startConversation(u),
    });
    this.#mainPane = h('main', { id: 'main', class: 'pane' });
    this.#callPanel = callPanel({
      accept: () => this.#calls?.handlers.accept(),
      decline: () => this.#calls?.handlers.decline(),
      hangUp: () => this.#calls?.handlers.hangUp(),
      toggleMute: () => this.#calls?.handlers.toggleMute(),
      confirmSas: (match) => this.#calls?.handlers.confirmSas(match),
      leaveVoicemail: () => this.#calls?.handlers.leaveVoicemail(),
      stopRecording: (send) => this.#calls?.handlers.stopRecording(send),
      dismiss: () => this.#calls?.handlers.dismiss(),
    });
    this.#layout = h('div', { class: 'layout', 'data-pane': 'list' }, this.#sidebar.element, this.#mainPane);
    replaceChildren(
      this.#root,
      h(
        'div',
        { class: 'shell' },
        h('header', { class: 'topbar' }, h('h1', { class: 'brand' }, 'Sotto'), h('p', { class: 'whoami' }, 'Signed in as ', h('strong', {}, username)), lock),
        this.#connection,
        this.#notice,
        this.#announcer,
        this.#callPanel.element,
        this.#layout,
      ),
    );
    this.#showPlaceholder();
    document.title = 'Sotto';
    this.#render();
    this.#sidebar.focusNewConversation();
  }

  #showPlaceholder(): void {
    if (this.#mainPane === undefined) return;
    replaceChildren(this.#mainPane, h('div', { class: 'placeholder' }, h('p', {}, 'Choose a conversation, or start a new one with a username.')));
  }

  #setPane(p: Pane): void {
    this.#pane = p;
    this.#layout?.setAttribute('data-pane', p === 'list' ? 'list' : 'chat');
  }

  #render(): void {
    this.#sidebar?.update(this.#convs, this.#contacts, this.#current);
    const u = this.#current;
    if (u === undefined) return;
    const contact = this.#contacts.get(u);
    const conv = this.#convs.get(u);
    if (this.#chat?.username === u && conv !== undefined) this.#chat.update(conv, contact);
    if (this.#verify?.username === u && contact !== undefined) this.#verify.updateContact(contact);
    this.#maybeInterrupt();
  }

  /** docs/protocol/10 §10.4: a key change stops the conversation and asks the user. */
  #maybeInterrupt(): void {
    const u = this.#current;
    const contact = u === undefined ? undefined : this.#contacts.get(u);
    if (this.#pane !== 'chat' || contact?.state !== 'changed' || this.#dialog !== undefined) return;
    const mark = `${contact.username}@${contact.since}`;
    if (this.#interrupted.has(mark)) return;
    this.#interrupted.add(mark);
    this.#dialog = showKeyChangeDialog(contact, {
      verify: () => {
        this.#openVerify(contact.username);
      },
      accept: () => this.#acceptNewKey(contact.username),
      closed: () => {
        this.#chat?.focusComposer();
      },
    });
    this.#dialog.addEventListener('close', () => {
      this.#dialog = undefined;
    });
  }

  #setConvs(next: Conversations, changed: readonly string[]): Promise<void> {
    this.#convs = next;
    this.#render();
    const history = this.#session?.history;
    if (history === undefined) return Promise.resolve();
    const saves = changed.map((u) => {
      const c = next.get(u);
      return c === undefined ? Promise.resolve() : history.save(c);
    });
    return Promise.all(saves).then(
      () => undefined,
      (e: unknown) => {
        this.#showNotice(describeError(e, { action: 'receive' }));
      },
    );
  }

  async #refreshContacts(): Promise<void> {
    const client = this.#session?.client;
    if (client === undefined) return;
    const list = await client.contacts();
    this.#contacts = new Map(list.map((c) => [c.username, c]));
    let convs = this.#convs;
    for (const c of list) convs = ensureConversation(convs, c.username, c.since);
    this.#convs = convs;
    this.#render();
  }

  /** Shows (or, with '', clears) the connection problem. While one is shown, the server's /health is
   *  asked now and then, and the notice goes once it answers: the SDK reconnects by itself with
   *  back-off (docs/protocol/10), but does not report that it did. */
  #setConnection(message: string): void {
    if (this.#connection === undefined) return;
    this.#connection.textContent = message;
    this.#connection.hidden = message === '';
    if (message === '') {
      clearTimeout(this.#healthTimer);
      this.#healthTimer = undefined;
    } else {
      this.#healthTimer ??= setTimeout(() => {
        this.#healthTimer = undefined;
        void this.#probe(message);
      }, HEALTH_PROBE_MS);
    }
  }

  async #probe(message: string): Promise<void> {
    const up = await fetch('/health', { cache: 'no-store' }).then(
      (r) => r.ok,
      () => false,
    );
    if (this.#session === undefined || this.#connection?.textContent !== message) return;
    this.#setConnection(up ? '' : message);
  }

  #showNotice(message: string): void {
    if (this.#notice === undefined) return;
    this.#notice.textContent = message;
    this.#notice.hidden = message === '';
  }

  #announce(message: string): void {
    if (this.#announcer !== undefined) this.#announcer.textContent = message;
  }

  #describe(e: unknown, action: Action, contact?: string): string {
    return describeError(e, contact === undefined ? { action } : { action, contact });
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  async #received(received: ReceivedMessage): Promise<void> {
    this.#setConnection('');
    const m = received;
    // Voicemails and missed calls (docs/protocol/11 §11.6) go into the history like any message.
    const open = m.kind !== 'delivered' && this.#pane === 'chat' && this.#current === m.from;
    await this.#setConvs(applyReceived(this.#convs, m, open, this.#now()), [m.from]);
    if (m.kind === 'delivered') return;
    if (m.kind === 'missed-call') this.#announce(missedCallText(m.from));
    else if (!open) this.#announce(`New message from ${m.from}`);
    if (m.senderState === 'changed' || !this.#contacts.has(m.from) || this.#contacts.get(m.from)?.state !== m.senderState) await this.#refreshContacts();
  }

  #listenProblem(e: unknown): void {
    if (isClientError(e, 'ERR_MESSAGE_REJECTED') || isClientError(e, 'ERR_CONTENT_INVALID')) {
      this.#showNotice(this.#describe(e, 'receive'));
      return;
    }
    // A call that could not be set up (docs/protocol/11) with no call waiting for it: not a
    // connection problem (the call panel shows the failure of a call in progress).
    if (isClientError(e, 'ERR_CALL_FAILED') || isClientError(e, 'ERR_CALL_STATE') || isClientError(e, 'ERR_CALL_BUSY')) {
      this.#showNotice(this.#describe(e, 'receive'));
      return;
    }
    if (isClientError(e, 'ERR_CLIENT_CLOSED') || isClientError(e, 'ERR_KEYSTORE_CLOSED')) return;
    // A session token the server no longer knows (it restarted): the SDK signs in again by itself.
    if (isClientError(e) && e.serverCode === 'ERR_API_UNAUTHORIZED') return;
    this.#setConnection(this.#describe(e, 'receive'));
  }

  // -------------------------------------------------------------------------------------------
  // Conversations

  async #startConversation(name: string): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    if (name.toLowerCase() === s.client.username) {
      this.#sidebar?.startFailed('That is your own username. Type the username of the person you want to write to.');
      return;
    }
    try {
      // Looks the name up in the directory and records the key seen (first use, §10.4).
      const r = await s.client.safetyNumber(name);
      this.#sidebar?.startFailed('');
      this.#convs = ensureConversation(this.#convs, r.contact.username, this.#now());
      await this.#refreshContacts();
      this.#openChat(r.contact.username);
    } catch (e) {
      this.#sidebar?.startFailed(this.#describe(e, 'new-conversation', name));
    }
  }

  #openChat(username: string): void {
    const s = this.#session;
    if (s === undefined || this.#mainPane === undefined) return;
    this.#verify?.dispose();
    this.#verify = undefined;
    if (this.#chat?.username !== username) {
      this.#chat = chatView(
        username,
        {
          sendText: (text) => this.#sendText(username, text),
          sendFile: (file) => this.#sendFile(username, file),
          verify: () => {
            this.#openVerify(username);
          },
          call: () => {
            void this.#calls?.place(username);
          },
          acceptNewKey: () => this.#acceptNewKey(username),
          back: () => {
            this.#backToList();
          },
          imageUrl: (m) => this.#imageUrl(m),
          mediaUrl: (m) => this.#imageUrl(m),
          download: (m) => this.#download(m),
          describe: (e) => this.#describe(e, 'download', username),
        },
        this.#now,
      );
    }
    this.#chat.setCallEnabled(this.#calls?.busy !== true);
    replaceChildren(this.#mainPane, this.#chat.element);
    this.#current = username;
    this.#setPane('chat');
    document.title = `${username} · Sotto`;
    void this.#setConvs(markRead(ensureConversation(this.#convs, username, this.#now()), username), [username]);
    this.#chat.focusComposer();
    this.#maybeInterrupt();
  }

  #backToList(): void {
    const u = this.#current;
    this.#setPane('list');
    this.#current = undefined;
    this.#chat = undefined;
    this.#showPlaceholder();
    this.#render();
    document.title = 'Sotto';
    const button = this.#sidebar?.element.querySelector<HTMLButtonElement>(`button[data-username="${CSS.escape(u ?? '')}"]`);
    if (button !== null && button !== undefined) button.focus();
    else this.#sidebar?.focusNewConversation();
  }

  async #sendText(to: string, text: string): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    const key = crypto.randomUUID();
    await this.#setConvs(applySending(this.#convs, to, key, { type: 'text', text }, this.#now()), [to]);
    try {
      const sent = await s.client.sendText(to, text);
      this.#setConnection('');
      await this.#setConvs(applySent(this.#convs, to, key, sent), [to]);
    } catch (e) {
      await this.#sendFailed(to, key, e, 'send');
    }
  }

  async #sendFile(to: string, file: File): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    if (file.size > MAX_SEND_FILE_BYTES || file.size === 0) {
      const why = file.size === 0 ? 'it is empty' : 'it is larger than 32 MB';
      this.#chat?.fail(this.#describe(new WebError('ERR_WEB_FILE', why), 'send-file', to));
      return;
    }
    const key = crypto.randomUUID();
    const mime = mimeForUpload(file.type);
    if (isInlineImage(mime)) this.#images.set(`out:${key}`, Promise.resolve(URL.createObjectURL(file)));
    await this.#setConvs(applySending(this.#convs, to, key, { type: 'file', file: { name: file.name, size: file.size, mime } }, this.#now()), [to]);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const sent = await s.client.sendFile(to, { name: file.name, mime, bytes });
      this.#setConnection('');
      await this.#setConvs(applySent(this.#convs, to, key, sent), [to]);
    } catch (e) {
      await this.#sendFailed(to, key, e, 'send-file');
    }
  }

  async #sendFailed(to: string, key: string, e: unknown, action: Action): Promise<void> {
    await this.#setConvs(applySendFailed(this.#convs, to, key, this.#describe(e, action, to)), [to]);
    if (!isClientError(e, 'ERR_NETWORK')) this.#setConnection(''); // the server answered
    // A refusal because the key changed (§10.4) or a lookup that observed a new key: show it now.
    if (isClientError(e, 'ERR_TRUST_CHANGED') || isClientError(e, 'ERR_NOT_FOUND')) await this.#refreshContacts().catch(() => undefined);
  }

  #imageUrl(m: ChatMessage): Promise<string | undefined> {
    const cached = this.#images.get(m.key);
    if (cached !== undefined) return cached;
    const client = this.#session?.client;
    if (client === undefined || (m.body.type !== 'file' && m.body.type !== 'voicemail') || m.body.file.ref === undefined) return Promise.resolve(undefined);
    const { ref, mime } = m.body.file;
    const p = client.downloadFile(ref).then((bytes) => URL.createObjectURL(new Blob([bytes.slice()], { type: mime })));
    this.#images.set(m.key, p);
    p.catch(() => {
      this.#images.delete(m.key); // try again when the conversation is opened again
    });
    return p;
  }

  async #download(m: ChatMessage): Promise<void> {
    const client = this.#session?.client;
    if (client === undefined || m.body.type !== 'file' || m.body.file.ref === undefined) return;
    const { ref, name, mime } = m.body.file;
    const bytes = await client.downloadFile(ref);
    const url = URL.createObjectURL(new Blob([bytes.slice()], { type: mime }));
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    // The download has started from the URL; keep it a while for browsers that read it lazily.
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 60_000);
  }

  // -------------------------------------------------------------------------------------------
  // Calls

  #startCalls(client: SottoClient): void {
    const panel = this.#callPanel;
    if (panel === undefined) return;
    this.#calls = new CallController(client, panel, {
      contactsChanged: () => this.#refreshContacts(),
      busyChanged: (busy) => {
        this.#chat?.setCallEnabled(!busy);
      },
      announce: (text) => {
        this.#announce(text);
      },
      missedCall: (peer, call, at) => {
        void this.#missedCall(peer, call, at);
      },
      voicemailSent: async (peer, v, sent) => {
        const key = crypto.randomUUID();
        const body = { type: 'voicemail' as const, file: { name: 'voicemail', size: v.size, mime: v.mime }, durationMs: v.durationMs, call: v.call };
        await this.#setConvs(applySending(ensureConversation(this.#convs, peer, this.#now()), peer, key, body, this.#now()), [peer]);
        await this.#setConvs(applySent(this.#convs, peer, key, sent), [peer]);
      },
    });
    this.#calls.start();
  }

  /** The caller gave up while it rang here: a missed call in the history, under the peer's trust
   *  state as this device knows it (the SDK rings only contacts that are not `changed`). */
  async #missedCall(peer: string, call: string, at: number): Promise<void> {
    const open = this.#pane === 'chat' && this.#current === peer;
    const senderState = this.#contacts.get(peer)?.state ?? 'unverified';
    await this.#setConvs(applyMissedCall(this.#convs, { from: peer, call, at, senderState }, open, this.#now()), [peer]);
    this.#announce(missedCallText(peer));
  }

  // -------------------------------------------------------------------------------------------
  // Trust

  #openVerify(username: string): void {
    const s = this.#session;
    if (s === undefined || this.#mainPane === undefined) return;
    this.#verify?.dispose();
    const view = verifyView(username, {
      verifyDigits: async (digits) => {
        try {
          const c = await s.client.verify(username, digits, 'safety-number');
          await this.#refreshContacts();
          view.succeed(`${username} is now verified by ${methodLabel(c.method)}.`);
        } catch (e) {
          view.fail(this.#describe(e, 'verify', username));
        }
      },
      scan: (video, canvas) => {
        const scan = startScan(video, canvas);
        const done = scan.result.then(
          async (payload) => {
            try {
              const c = await s.client.verifyScanned(username, payload);
              await this.#refreshContacts();
              view.succeed(`${username} is now verified by ${methodLabel(c.method)}.`);
            } catch (e) {
              view.fail(this.#describe(e, 'scan', username));
            }
          },
          (e: unknown) => {
            if (!(e instanceof DOMException && e.name === 'AbortError')) view.fail(this.#describe(e, 'scan', username));
          },
        );
        return {
          done,
          stop: () => {
            scan.stop();
          },
        };
      },
      back: () => {
        this.#openChat(username);
      },
    });
    this.#verify = view;
    this.#current = username;
    this.#setPane('verify');
    this.#layout?.setAttribute('data-pane', 'chat');
    replaceChildren(this.#mainPane, view.element);
    document.title = `Verify ${username} · Sotto`;
    view.focus();
    s.client.safetyNumber(username).then(
      (info) => {
        if (this.#verify === view) view.show(info);
      },
      (e: unknown) => {
        view.fail(this.#describe(e, 'verify', username));
      },
    );
  }

  async #acceptNewKey(username: string): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    try {
      await s.client.acceptNewKey(username);
      await this.#refreshContacts();
      this.#announce(`You accepted ${username}'s new key. ${username} is now unverified: compare safety numbers when you can.`);
      this.#chat?.focusComposer();
    } catch (e) {
      this.#chat?.fail(this.#describe(e, 'accept', username));
    }
  }
}
