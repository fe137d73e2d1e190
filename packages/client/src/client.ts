// The @sotto/client facade: one object per device that registers, sends, receives, downloads files
// and manages trust, on top of @sotto/protocol (all cryptography) and the server API
// (docs/protocol/09) as docs/protocol/10 specifies the client side. All local state lives in the
// device keystore (src/messaging/state.ts) and every operation commits its changes with one write.
//
// Concurrency: state transitions run one at a time (a mutex); network calls run outside it where
// they can, so a send waiting for its retries never blocks a live receive. One `listen` or `receive`
// per device at a time: the server keeps one WebSocket per device and a second replaces the first.
import { fastProvider } from '@sotto/crypto';
import {
  IdentityKeyPair,
  accessKeyFromProfileKey,
  buildRegistrationMessage,
  buildServerAuthMessage,
  compareScannable,
  createSenderCertificate,
  decodeBase64url,
  decodePrekeyBundle,
  decodeSession,
  encodeBase64url,
  encodeSession,
  foldUsername,
  initiateSession,
  isProtocolError,
  limits,
  parseIdentityPublicKey,
  sealEnvelope,
  sessionEncrypt,
  sottoSafetyNumber,
  verifyPrekeyBundle,
  type AccountResponse,
  type CryptoProvider,
  type MessageFrame,
  type Rng,
  type SafetyNumber,
  type SenderCertificate,
  type Session,
} from '@sotto/protocol';
import { decryptAttachment, encryptAttachment } from './attachments/attachment.ts';
import { CallManager } from './calls/call-manager.ts';
import type { CallPeer } from './calls/call.ts';
import { platformTimers, type Call, type CallMedia, type IncomingCall, type Timers } from './calls/types.ts';
import { checkFileName, checkMime, checkText, encodeContent, type CallSignalBody, type ContentBody } from './content/content.ts';
import { ClientError, isClientError, type ServerErrorInfo } from './errors.ts';
import { bytesEqual, constantTimeEqual, toHex, utf8 } from './internal/bytes.ts';
import { Mutex } from './internal/mutex.ts';
import type { Keystore, KeystoreOpener } from './keystore/keystore.ts';
import {
  CALL_SIGNAL_SEND_ATTEMPTS,
  CALL_RING_TIMEOUT_MS,
  FETCH_PAGE_LIMIT,
  MAX_OUTBOX_MESSAGES,
  MAX_RECEIPT_IDS,
  MAX_VOICEMAIL_DURATION_MS,
  PREKEY_TARGET_COUNT,
  RECONNECT_INITIAL_MS,
  RECONNECT_MAX_MS,
  SEALED_SOCKET_RETRY_MS,
  SEND_MAX_ATTEMPTS,
  SEND_RETRY_INITIAL_MS,
  SEND_RETRY_MAX_MS,
  SENDER_CERTIFICATE_LIFETIME_MS,
  SENDER_CERTIFICATE_RENEW_MS,
} from './limits.ts';
import { backoffDelay } from './messaging/backoff.ts';
import { benchMark } from './internal/trace.ts';
import { addOneTimePrekeys, currentPublicPrekeys, generateInitialPrekeys, oneTimePublicPrekeys, splitPrekeyUpload } from './messaging/prekeys.ts';
import { processBatch, type BatchResult, type IncomingMessage, type ReceiptPlan } from './messaging/receive.ts';
import { loadState, stateChanges, type AccountRecord, type ClientState, type OutboxItem } from './messaging/state.ts';
import type { ReceivedMessage, SentMessage, FileRef } from './messaging/types.ts';
import { ApiClient, normalizeServerUrl, type FetchLike } from './transport/http.ts';
import { SealedSendSocket, sealedWebSocketUrl } from './transport/sealed-websocket.ts';
import { connectMessageSocket, webSocketUrl, type MessageSocket, type WebSocketFactory, type WebSocketLike } from './transport/websocket.ts';
import {
  EMPTY_TRUST_STORE,
  acceptNewKey as acceptNewKeyTransition,
  currentKey,
  markVerified,
  observeIdentityKey,
  sendDecision,
  type Contact,
  type TrustState,
  type VerificationMethod,
} from './trust/trust-store.ts';

export interface ClientOptions {
  /** Where the device keystore lives: `softwareKeystore(dir)` from @sotto/client/node, or
   *  `browserKeystore(name)` from @sotto/client/browser. */
  readonly keystore: KeystoreOpener;
  readonly passphrase: string;
  /** Required by createAccount; stored in the keystore; openClient may override it. */
  readonly serverUrl?: string;
  /** Default: @sotto/crypto's fastProvider. */
  readonly crypto?: CryptoProvider;
  /** Default: the platform's global WebSocket (browsers, Node >= 22). On Node 20 pass `nodeWebSocket`
   *  from @sotto/client/node (the `ws` package); without either, live receiving fails with ERR_ARGUMENT. */
  readonly webSocket?: WebSocketFactory;
  /** Default: the platform's fetch. Tests inject network faults here. */
  readonly fetch?: FetchLike;
  /** Default: Date.now. */
  readonly now?: () => number;
  /** The timers of calls' time-outs (CALL_RING_TIMEOUT_MS). Default: the platform's. Tests inject
   *  their own, so a 45 s ring time-out is a function call, not a wait. */
  readonly timers?: Timers;
}

export interface SottoClient {
  /** The folded username (docs/protocol/09 §9.2). */
  readonly username: string;
  readonly serverUrl: string;
  /** Looks the contact up (GET /v1/accounts), applies the trust rules of docs/protocol/10 §10.4
   *  (ERR_TRUST_CHANGED, nothing sent, while the contact is `changed`: until `verify` of the new key
   *  or `acceptNewKey`), starts a session if needed (bundle fetch), encrypts, seals,
   *  puts in the outbox, sends with retries (§10.5). Resolves when the server acknowledged storage;
   *  after SEND_MAX_ATTEMPTS retryable failures it rejects and the message stays in the outbox. */
  sendText(to: string, text: string): Promise<SentMessage>;
  /** Encrypts and uploads the bytes as an attachment (§10.3) then sends a `file` message. */
  sendFile(to: string, file: { name: string; mime: string; bytes: Uint8Array }): Promise<SentMessage>;
  /** Retries everything left in the outbox (e.g. after a crash); resolves to how many were delivered.
   *  Rejects with the error when the server stays unreachable (the rest stays in the outbox). */
  flushOutbox(): Promise<number>;
  /** Takes the backlog (GET /v1/messages), then, when `waitMs` > 0, live messages over the WebSocket
   *  until `waitMs` passed with nothing new; persists, acknowledges, and returns them in order.
   *  Duplicates are dropped (§10.5); dropped messages and a failed live phase go to `onError`. Also
   *  sends delivery receipts and tops up prekeys when the server reports low water. */
  receive(opts: { waitMs: number; onError?: (e: unknown) => void }): Promise<ReceivedMessage[]>;
  /** Live mode: calls onMessage for each message as it arrives (after it is persisted, before ack);
   *  reconnects with back-off; returns a function that stops. One listen or receive at a time. */
  listen(onMessage: (m: ReceivedMessage) => void | Promise<void>, onError?: (e: unknown) => void): () => Promise<void>;
  /** Downloads, checks and decrypts an attachment (ERR_ATTACHMENT_CORRUPT on any mismatch). */
  downloadFile(file: FileRef): Promise<Uint8Array>;
  contacts(): Promise<Contact[]>;
  /** Fetches the contact's current key if unknown (trust rules apply), then the 60-digit safety
   *  number (digits without spaces) and the scannable payload (for the QR code). */
  safetyNumber(username: string): Promise<{ digits: string; scannable: Uint8Array; contact: Contact }>;
  /** `digits` (spaces ignored) must equal the safety number of the contact's CURRENT key (the new one
   *  when changed); then state = verified with `method`. ERR_SAFETY_NUMBER_MISMATCH otherwise (no change). */
  verify(username: string, digits: string, method?: VerificationMethod): Promise<Contact>;
  /** Verifies by a scanned QR payload (compareScannable); method `qr`. */
  verifyScanned(username: string, scanned: Uint8Array): Promise<Contact>;
  /** Accepts a changed key: state = unverified with the new key (the session with the old key is dropped). */
  acceptNewKey(username: string): Promise<Contact>;
  /** Calls (docs/protocol/11). They need a live `listen()` loop on both devices: the answer, confirm
   *  and hang-up come in as session messages. Looks the contact up and applies the trust rules as a
   *  send does (ERR_TRUST_CHANGED for a `changed` contact), asks `media` for its offer, and sends the
   *  offer (call-offer, §11.2.1). Resolves with the call in state `dialing`; after `ringMs`
   *  (CALL_RING_TIMEOUT_MS, 45 s, unless a shorter whole number of milliseconds ≥ 1,000 is given)
   *  without an answer it ends with `timeout`, which the callee is told. ERR_CALL_BUSY while this
   *  device has a call. */
  placeCall(to: string, media: CallMedia, opts?: { readonly ringMs?: number }): Promise<Call>;
  /** Offers that ring (fresh, from a contact that is not `changed`) go to every handler; while no
   *  handler is registered an offer is a `missed-call` message. Returns a function that unregisters. */
  onIncomingCall(handler: (call: IncomingCall) => void): () => void;
  /** Uploads `audio` as an encrypted attachment exactly like sendFile (§10.3), then sends a
   *  `voicemail` message (§11.6) naming `call` (the unanswered call's id, base64url; a fresh id when
   *  omitted). An ordinary message: it waits in the server's queue and the outbox like any other. */
  sendVoicemail(to: string, audio: { bytes: Uint8Array; mime: string; durationMs: number }, call?: string): Promise<SentMessage>;
  /** GET /v1/calls/turn (docs/protocol/11 §11.7): short-lived TURN credentials, shaped as
   *  RTCIceServer entries; [] when the server has no TURN server (404). */
  turnServers(): Promise<{ urls: string[]; username: string; credential: string }[]>;
  close(): Promise<void>;
  /** A fixed marker, never state: the client redacts itself (also under JSON and util.inspect). */
  toString(): string;
}

/** The first (and, until multi-device, only) device of an account (docs/protocol/09 §9.3). */
const FIRST_DEVICE_ID = 1;

interface Environment {
  readonly crypto: CryptoProvider;
  readonly rng: Rng;
  readonly now: () => number;
  readonly fetch: FetchLike;
  readonly webSocket: WebSocketFactory | undefined;
  readonly timers: Timers;
}

function environment(opts: ClientOptions): Environment {
  const ks = (opts as { keystore?: Partial<KeystoreOpener> }).keystore;
  if (typeof ks?.create !== 'function' || typeof ks.open !== 'function' || typeof ks.remove !== 'function') {
    throw new ClientError('ERR_ARGUMENT', 'keystore: expected a KeystoreOpener (softwareKeystore(dir) on Node, browserKeystore(name) in browsers)');
  }
  const platformFetch = (globalThis as { fetch?: unknown }).fetch;
  const fetch = opts.fetch ?? (typeof platformFetch === 'function' ? (platformFetch.bind(globalThis) as FetchLike) : undefined);
  if (fetch === undefined) throw new ClientError('ERR_ARGUMENT', 'expected a fetch implementation (none on this platform)');
  return {
    crypto: opts.crypto ?? fastProvider,
    rng: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
    now: opts.now ?? Date.now,
    fetch,
    webSocket: opts.webSocket,
    timers: opts.timers ?? platformTimers,
  };
}

/** The platform's own WebSocket. The SDK imports no WebSocket library, so a browser bundle pulls in
 *  nothing Node-only; Node 20 callers inject `nodeWebSocket` (@sotto/client/node). */
function platformWebSocket(): WebSocketFactory {
  const G = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (typeof G === 'function') return (url) => new G(url);
  throw new ClientError('ERR_ARGUMENT', 'expected a WebSocket implementation: this platform has none; pass `webSocket` (on Node 20: nodeWebSocket from @sotto/client/node)');
}

function foldOrThrow(username: string): string {
  try {
    return foldUsername(username);
  } catch (e) {
    throw new ClientError('ERR_USERNAME_INVALID', isProtocolError(e) ? e.message.replace(/^ERR_[A-Z_]+: /, '') : 'invalid username', { cause: e });
  }
}

/**
 * Generates the identity, profile key and prekeys, persists them in a NEW keystore (`opts.keystore`),
 * registers (POST /v1/accounts), authenticates and uploads the prekeys (PUT /v1/keys). When the name
 * is taken or refused, the new keystore is removed again; on any other failure it is kept and
 * `openClient` finishes the registration on first use.
 */
export async function createAccount(opts: ClientOptions & { username: string; serverUrl: string }): Promise<SottoClient> {
  const env = environment(opts);
  const username = foldOrThrow(opts.username);
  const serverUrl = normalizeServerUrl(opts.serverUrl);
  const ks = await opts.keystore.create(opts.passphrase);
  let client: Client;
  try {
    const identity = await IdentityKeyPair.generate(env.crypto, env.rng);
    const account: AccountRecord = {
      username,
      deviceId: FIRST_DEVICE_ID,
      serverUrl,
      identitySeed: identity.exportSeed(),
      profileKey: env.rng(32),
      registered: false,
      prekeysUploaded: false,
    };
    const state: ClientState = {
      account,
      prekeys: await generateInitialPrekeys(env.crypto, env.rng, identity, PREKEY_TARGET_COUNT),
      trust: EMPTY_TRUST_STORE,
      profiles: new Map(),
      seen: new Map(),
      outbox: [],
      inbox: [],
      sessions: new Map(),
    };
    await ks.update(stateChanges(undefined, state));
    client = new Client(ks, env, identity, state, serverUrl);
  } catch (e) {
    await ks.close();
    await opts.keystore.remove();
    throw e;
  }
  try {
    await client.ensureRegistered();
  } catch (e) {
    await client.close();
    if (isClientError(e, 'ERR_USERNAME_TAKEN') || isClientError(e, 'ERR_USERNAME_INVALID')) await opts.keystore.remove();
    throw e;
  }
  return client;
}

/** Opens an existing keystore. No network traffic until the first operation that needs the server. */
export async function openClient(opts: ClientOptions): Promise<SottoClient> {
  const env = environment(opts);
  const ks = await opts.keystore.open(opts.passphrase);
  try {
    const state = await loadState(ks);
    const identity = await IdentityKeyPair.fromSeed(env.crypto, state.account.identitySeed);
    const serverUrl = normalizeServerUrl(opts.serverUrl ?? state.account.serverUrl);
    return new Client(ks, env, identity, state, serverUrl);
  } catch (e) {
    await ks.close();
    throw e;
  }
}

function retryable(e: unknown): boolean {
  if (!(e instanceof ClientError)) return false;
  if (e.code === 'ERR_NETWORK' || e.code === 'ERR_BAD_RESPONSE') return true;
  return e.code === 'ERR_SERVER' && e.status !== undefined && (e.status === 429 || e.status >= 500);
}

class Client implements SottoClient {
  readonly username: string;
  readonly serverUrl: string;
  readonly #ks: Keystore;
  readonly #env: Environment;
  readonly #identity: IdentityKeyPair;
  readonly #api: ApiClient;
  readonly #lock = new Mutex();
  readonly #closing = new AbortController();
  /** Retry back-offs in progress; close() wakes them all (see #sleep). */
  readonly #sleepers = new Set<() => void>();
  readonly #listeners = new Set<() => Promise<void>>();
  #state: ClientState;
  #certificate: SenderCertificate | undefined;
  #webSocket: WebSocketFactory | undefined;
  /** listen() loops whose receiving socket is open: sealed sends use the sealed-send socket meanwhile. */
  #connected = 0;
  /** The sealed-send socket (§9.7.1), while connected. */
  #sealed: Promise<SealedSendSocket> | undefined;
  /** No sealed-send socket is opened before this time (one failed to open). */
  #sealedRetryAt = 0;
  #refilling: Promise<void> | undefined;
  #closed = false;
  readonly #calls: CallManager;
  /** Where call failures nobody awaits go: the onError of every running listen / receive. */
  readonly #callErrorSinks = new Set<(e: unknown) => void>();

  constructor(ks: Keystore, env: Environment, identity: IdentityKeyPair, state: ClientState, serverUrl: string) {
    this.#ks = ks;
    this.#env = env;
    this.#identity = identity;
    this.#state = state;
    this.username = state.account.username;
    this.serverUrl = serverUrl;
    this.#webSocket = env.webSocket;
    const { username, deviceId } = state.account;
    this.#api = new ApiClient({
      baseUrl: serverUrl,
      fetch: env.fetch,
      now: env.now,
      credentials: {
        username,
        deviceId,
        signServerAuth: (challenge) => identity.sign(env.crypto, buildServerAuthMessage(challenge, username, deviceId)),
      },
    });
    this.#calls = new CallManager({
      crypto: env.crypto,
      rng: env.rng,
      timers: env.timers,
      identityKey: identity.publicKey,
      prepare: (to) => this.#prepare(to),
      signal: (peer, body) => this.#signal(peer, body),
      verifyBySas: (peer) => this.#verifyBySas(peer),
      report: (e) => {
        for (const sink of [...this.#callErrorSinks]) sink(e);
      },
    });
  }

  toString(): string {
    return '[SottoClient: redacted]';
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // -------------------------------------------------------------------------------------------
  // State

  #checkOpen(): void {
    if (this.#closed) throw new ClientError('ERR_CLIENT_CLOSED', 'expected an open client, got a closed one');
  }

  /** Runs `op` on the current state under the lock and commits what it returns with one write.
   *  `beforeCommit` sees the result as soon as `op` has it, while the write is still to come (the lock
   *  is held until the write ends, so whatever it starts that needs the state waits for the commit). */
  #transact<T>(op: (s: ClientState) => Promise<{ state: ClientState; result: T }> | { state: ClientState; result: T }, beforeCommit?: (result: T) => void): Promise<T> {
    return this.#lock.run(async () => {
      this.#checkOpen();
      const { state, result } = await op(this.#state);
      beforeCommit?.(result);
      const changes = stateChanges(this.#state, state);
      if (changes.size > 0) await this.#ks.update(changes);
      this.#state = state;
      return result;
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closing.signal.aborted) {
        reject(new ClientError('ERR_CLIENT_CLOSED', 'the client was closed'));
        return;
      }
      // One abort listener for all sleepers (not one each): a burst of retries would otherwise pile
      // dozens of listeners on the signal, which Node reports as a possible leak.
      const wake = (): void => {
        clearTimeout(timer);
        reject(new ClientError('ERR_CLIENT_CLOSED', 'the client was closed'));
      };
      const timer = setTimeout(() => {
        this.#sleepers.delete(wake);
        resolve();
      }, ms);
      this.#sleepers.add(wake);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Registration and prekeys (docs/protocol/09 §9.3–9.5)

  /** Finishes what createAccount could not: registration, then the first prekey upload. */
  async ensureRegistered(): Promise<void> {
    this.#checkOpen();
    const account = this.#state.account;
    if (!account.registered) await this.#register(account);
    if (!this.#state.account.prekeysUploaded) await this.#firstUpload();
  }

  async #register(account: AccountRecord): Promise<void> {
    const { crypto } = this.#env;
    const accessKey = accessKeyFromProfileKey(crypto, account.profileKey);
    const signature = await this.#identity.sign(crypto, buildRegistrationMessage(account.username, account.deviceId, accessKey));
    try {
      await this.#api.register({ username: account.username, identityKey: this.#identity.publicKey, deviceId: account.deviceId, accessKey, signature });
    } catch (e) {
      if (!isClientError(e, 'ERR_USERNAME_TAKEN')) throw e;
      // A 409 after an earlier attempt whose answer was lost: the name may be ours already. Only
      // the holder of the registered identity key can authenticate as it (§9.4).
      try {
        await this.#api.bearerToken();
      } catch {
        throw e;
      }
    }
    await this.#transact((s) => ({ state: { ...s, account: { ...s.account, registered: true } }, result: undefined }));
  }

  async #firstUpload(): Promise<void> {
    const { crypto } = this.#env;
    const prekeys = this.#state.prekeys;
    const fixed = await currentPublicPrekeys(crypto, prekeys);
    const oneTime = await oneTimePublicPrekeys(crypto, prekeys);
    const bodies = splitPrekeyUpload({ identityKey: this.#identity.publicKey, ...fixed, oneTimePrekeys: oneTime.oneTime, kemPrekeys: oneTime.kem });
    for (const body of bodies) {
      try {
        await this.#api.uploadPrekeys(body);
      } catch (e) {
        // §9.5: 409 = a one-time id the server holds already, i.e. an earlier attempt got through.
        if (!(isClientError(e, 'ERR_SERVER') && e.serverCode === 'ERR_API_CONFLICT')) throw e;
      }
    }
    await this.#transact((s) => ({ state: { ...s, account: { ...s.account, prekeysUploaded: true } }, result: undefined }));
  }

  /** Tops the server's one-time prekeys up to PREKEY_TARGET_COUNT of each kind (§9.5 lowWater,
   *  §9.8 prekeysLow). The private halves are committed before the public ones are uploaded. */
  #refillPrekeys(counts?: { x25519: number; kem: number }): Promise<void> {
    // One refill at a time: a burst of prekeysLow frames must not generate a batch per frame.
    this.#refilling ??= this.#refill(counts).finally(() => {
      this.#refilling = undefined;
    });
    return this.#refilling;
  }

  async #refill(counts: { x25519: number; kem: number } | undefined): Promise<void> {
    const status = counts ?? (await this.#api.prekeyStatus());
    const x = Math.max(0, PREKEY_TARGET_COUNT - status.x25519);
    const k = Math.max(0, PREKEY_TARGET_COUNT - status.kem);
    if (x === 0 && k === 0) return;
    const { crypto, rng } = this.#env;
    const added = await this.#transact(async (s) => {
      const r = await addOneTimePrekeys(crypto, rng, this.#identity, s.prekeys, x, k);
      return { state: { ...s, prekeys: r.state }, result: r };
    });
    for (const body of splitPrekeyUpload({ identityKey: this.#identity.publicKey, oneTimePrekeys: added.oneTime, kemPrekeys: added.kem })) {
      await this.#api.uploadPrekeys(body);
    }
  }

  async #refillIfLow(report: (e: unknown) => void): Promise<void> {
    try {
      const status = await this.#api.prekeyStatus();
      if (status.lowWater) await this.#refillPrekeys(status);
    } catch (e) {
      report(e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sending (docs/protocol/10 §10.1, §10.4, §10.5)

  async #senderCertificate(): Promise<SenderCertificate> {
    const now = this.#env.now();
    const cached = this.#certificate;
    if (cached !== undefined && cached.expiresAt - now > SENDER_CERTIFICATE_LIFETIME_MS - SENDER_CERTIFICATE_RENEW_MS) return cached;
    const { username, deviceId } = this.#state.account;
    const cert = await createSenderCertificate(this.#env.crypto, this.#identity, { username, deviceId, expiresAt: now + SENDER_CERTIFICATE_LIFETIME_MS });
    this.#certificate = cert;
    return cert;
  }

  async sendText(to: string, text: string): Promise<SentMessage> {
    this.#checkOpen();
    const username = foldOrThrow(to);
    checkText(text);
    return this.#send(username, () => Promise.resolve({ type: 'text', text }), 'text', SEND_MAX_ATTEMPTS);
  }

  async sendFile(to: string, file: { name: string; mime: string; bytes: Uint8Array }): Promise<SentMessage> {
    this.#checkOpen();
    const username = foldOrThrow(to);
    const name = checkFileName(file.name);
    const mime = checkMime(file.mime);
    const encrypted = await encryptAttachment(this.#env.crypto, this.#env.rng, file.bytes); // ERR_ATTACHMENT_TOO_LARGE first
    return this.#send(
      username,
      async () => {
        const uploaded = await this.#api.uploadAttachment(encrypted.blob);
        return { type: 'file', file: { attachment: uploaded.id, key: encrypted.key, digest: encrypted.digest, size: encrypted.size, name, mime } };
      },
      'file',
      SEND_MAX_ATTEMPTS,
    );
  }

  /**
   * docs/protocol/10 §10.4 then §10.1: look the contact up, apply the trust rules, get a session
   * (bundle fetch when there is none with the key sends go to), then build the body (a file is
   * uploaded only now, once the send is allowed), encrypt, seal, put in the outbox, and deliver.
   */
  async #send(username: string, makeBody: () => Promise<ContentBody>, kind: OutboxItem['kind'], attempts: number): Promise<SentMessage> {
    const { deviceId, identityKey: key } = await this.#prepare(username);
    const body = await makeBody();
    const { item, recipientState } = await this.#seal(username, deviceId, key, body, kind);
    const res = await this.#deliver(item, attempts);
    return { id: encodeBase64url(item.id), sentAt: item.sentAt, duplicate: res.duplicate, recipientState };
  }

  /** The first half of every send to a contact: look it up, apply the trust rules (§10.4), and get a
   *  session with the key sends go to. */
  async #prepare(username: string): Promise<CallPeer> {
    await this.ensureRegistered();
    const entry = await this.#lookup(username);
    const deviceId = entry.devices[0];
    if (deviceId === undefined) throw new ClientError('ERR_NOT_FOUND', 'the account has no device');
    const key = await this.#observe(username, entry.identityKey);
    await this.#ensureSession(username, deviceId, key);
    return { username, identityKey: key, deviceId };
  }

  /** A call body (docs/protocol/11 §11.6) to exactly the peer's key and device: sealed like every
   *  message (the trust rules apply again under the lock, the session state is committed), but never
   *  put in the outbox and retried only briefly — signalling that arrives late is useless
   *  (src/calls/call-manager.ts). */
  async #signal(peer: CallPeer, body: CallSignalBody): Promise<void> {
    this.#checkOpen();
    benchMark('signal-start', body.type);
    await this.#ensureSession(peer.username, peer.deviceId, peer.identityKey);
    const { item } = await this.#seal(peer.username, peer.deviceId, peer.identityKey, body, 'call');
    benchMark('signal-persisted', body.type);
    await this.#deliver(item, CALL_SIGNAL_SEND_ATTEMPTS);
    benchMark('signal-put-done', body.type);
  }

  /** Observes a key the server showed for `username` and returns the key a send may go to;
   *  ERR_TRUST_CHANGED when the rules refuse the send (the change itself is kept). */
  async #observe(username: string, shown: Uint8Array): Promise<Uint8Array> {
    const decision = await this.#transact((s) => {
      const o = observeIdentityKey(s.trust, username, shown, this.#env.now());
      return { state: { ...s, trust: o.store }, result: sendDecision(o.contact) };
    });
    if (!decision.allowed) {
      // docs/protocol/10 §10.4: a changed contact gets nothing until the user verifies or accepts the
      // new key, whether or not the old one was verified; the advice differs.
      throw new ClientError(
        'ERR_TRUST_CHANGED',
        decision.wasVerified
          ? 'the contact was verified and its identity key changed: verify the new key or accept it'
          : "the contact's identity key changed since first use: compare safety numbers, or accept the new key",
        { wasVerified: decision.wasVerified },
      );
    }
    if (!bytesEqual(decision.key, shown)) {
      // Defensive: observing `shown` made it the trusted key or moved the contact to changed (refused above).
      throw new ClientError('ERR_TRUST_CHANGED', 'the server shows another identity key than the one this contact is trusted with');
    }
    return decision.key;
  }

  async #ensureSession(username: string, deviceId: number, key: Uint8Array): Promise<void> {
    if (this.#state.sessions.has(toHex(key))) return;
    const { crypto, rng } = this.#env;
    const bytes = await this.#fetchBundle(username, deviceId);
    let session: Session;
    try {
      const bundle = decodePrekeyBundle(bytes);
      if (!bytesEqual(bundle.identityKey, key)) {
        // A bundle is a place a key is seen too (§10.4): a different one is a change.
        const shown = parseIdentityPublicKey(bundle.identityKey);
        const contact = await this.#transact((s) => {
          const o = observeIdentityKey(s.trust, username, shown, this.#env.now());
          return { state: { ...s, trust: o.store }, result: o.contact };
        });
        throw new ClientError('ERR_TRUST_CHANGED', 'the prekey bundle holds another identity key than the directory', changedInfo(contact));
      }
      session = await initiateSession(crypto, rng, this.#identity, await verifyPrekeyBundle(crypto, bundle, key));
    } catch (e) {
      if (isProtocolError(e)) throw new ClientError('ERR_BAD_RESPONSE', `the prekey bundle is not valid (${e.code})`, { cause: e });
      throw e;
    }
    await this.#transact((s) => {
      if (s.sessions.has(toHex(key))) return { state: s, result: undefined }; // a concurrent send made one
      const sessions = new Map(s.sessions);
      sessions.set(toHex(key), encodeSession(session));
      return { state: { ...s, sessions }, result: undefined };
    });
  }

  /** §9.6: with the contact's access key when its profile key is known, so a lookup right before a
   *  sealed send does not name the sender; else — or when that key is refused — with the bearer token. */
  async #lookup(username: string): Promise<AccountResponse> {
    const profileKey = this.#state.profiles.get(username);
    if (profileKey !== undefined) {
      try {
        return await this.#api.account(username, accessKeyFromProfileKey(this.#env.crypto, profileKey));
      } catch (e) {
        if (!(isClientError(e, 'ERR_SERVER') && e.status === 401)) throw e;
      }
    }
    return this.#api.account(username);
  }

  /** §9.5: with the contact's access key when its profile key is known (the server then does not
   *  learn who fetches), else — or when that key is refused — with the bearer token. */
  async #fetchBundle(username: string, deviceId: number): Promise<Uint8Array> {
    const profileKey = this.#state.profiles.get(username);
    if (profileKey !== undefined) {
      try {
        return await this.#api.prekeyBundle(username, deviceId, accessKeyFromProfileKey(this.#env.crypto, profileKey));
      } catch (e) {
        if (!(isClientError(e, 'ERR_SERVER') && e.status === 401)) throw e;
      }
    }
    return this.#api.prekeyBundle(username, deviceId);
  }

  /** Encrypts and seals under the lock, puts the envelope in the outbox and commits the new session
   *  with it, before anything is sent (§10.1, README: persist before sending). */
  #seal(username: string, deviceId: number, key: Uint8Array, body: ContentBody, kind: OutboxItem['kind'] | 'call'): Promise<{ item: SealedItem; recipientState: TrustState }> {
    const { crypto, rng, now } = this.#env;
    return this.#transact(async (s) => {
      const contact = s.trust.get(username);
      const decision = contact === undefined ? undefined : sendDecision(contact);
      if (contact === undefined || decision?.allowed !== true || !bytesEqual(decision.key, key)) {
        throw new ClientError('ERR_TRUST_CHANGED', "the contact's trust changed while the message was prepared", contact === undefined ? undefined : changedInfo(contact));
      }
      const encoded = s.sessions.get(toHex(key));
      if (encoded === undefined) throw new ClientError('ERR_TRUST_CHANGED', 'the session with the contact was dropped while the message was prepared');
      const persist = kind !== 'call'; // call signalling never enters the outbox (src/calls/call-manager.ts)
      if (persist && s.outbox.length >= MAX_OUTBOX_MESSAGES) throw new ClientError('ERR_OUTBOX_FULL', `expected fewer than ${MAX_OUTBOX_MESSAGES} unsent messages, got ${s.outbox.length}: flush the outbox first`);
      const id = rng(16);
      const sentAt = now();
      const plaintext = encodeContent({ id, sentAt, profileKey: s.account.profileKey, body });
      const { session, message } = await sessionEncrypt(crypto, rng, decodeSession(encoded), plaintext);
      const envelope = await sealEnvelope(crypto, rng, {
        sender: this.#identity,
        certificate: await this.#senderCertificate(),
        recipient: parseIdentityPublicKey(key),
        contentType: message.kind,
        content: message.bytes,
      });
      if (envelope.length > limits.MAX_API_ENVELOPE_BYTES) throw new ClientError('ERR_ARGUMENT', `expected an envelope of at most ${limits.MAX_API_ENVELOPE_BYTES} bytes, got ${envelope.length}`);
      const item: SealedItem = { id, to: username, deviceId, envelope, sentAt };
      const sessions = new Map(s.sessions);
      sessions.set(toHex(key), encodeSession(session));
      const outbox = persist ? [...s.outbox, { ...item, kind }] : s.outbox;
      if (!persist) benchMark('signal-sealed', body.type);
      // The state the send was allowed in (never `changed`), not whatever a concurrent receive makes it later.
      return { state: { ...s, sessions, outbox }, result: { item, recipientState: contact.state } };
    });
  }

  /**
   * §10.5: sends the outbox item with the same id and envelope until the server answers 200 (also
   * `duplicate: true`), backing off exponentially between attempts. Sealed with the recipient's access
   * key when its profile key is known, else (or when the access key is refused) with the bearer token
   * (docs/protocol/09 §9.7). A permanent refusal (404, 400, 413) drops the item; after `attempts`
   * retryable failures it stays in the outbox for flushOutbox.
   */
  /** Delivers an outbox item with retries. An error while the item is still in the outbox (retries
   *  exhausted, or the client closed during a back-off) carries `queuedId`, so that the caller waits
   *  for flushOutbox instead of sending a copy. */
  async #deliver(item: SealedItem, attempts: number): Promise<{ duplicate: boolean }> {
    try {
      return await this.#deliverWithRetries(item, attempts);
    } catch (e) {
      if (!this.#state.outbox.some((i) => bytesEqual(i.id, item.id))) throw e;
      const server: { server?: ServerErrorInfo } =
        e instanceof ClientError && e.status !== undefined && e.serverCode !== undefined
          ? { server: { status: e.status, serverCode: e.serverCode, ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }) } }
          : {};
      const code = e instanceof ClientError ? e.code : 'ERR_NETWORK';
      throw new ClientError(code, `not delivered yet (${code === 'ERR_CLIENT_CLOSED' ? 'the client was closed' : `gave up after ${attempts} attempts`}); the message stays in the outbox and flushOutbox delivers it later`, {
        cause: e,
        queuedId: encodeBase64url(item.id),
        ...server,
      });
    }
  }

  async #deliverWithRetries(item: SealedItem, attempts: number): Promise<{ duplicate: boolean }> {
    let last: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        const base = backoffDelay(attempt - 1, SEND_RETRY_INITIAL_MS, SEND_RETRY_MAX_MS, Math.random());
        const hinted = last instanceof ClientError ? last.retryAfterMs : undefined;
        await this.#sleep(Math.min(SEND_RETRY_MAX_MS, Math.max(base, hinted ?? 0)));
      }
      this.#checkOpen();
      try {
        const res = await this.#putMessage(item);
        await this.#removeFromOutbox(item.id);
        return { duplicate: res.duplicate };
      } catch (e) {
        last = e;
        if (!retryable(e)) {
          await this.#removeFromOutbox(item.id);
          throw e;
        }
      }
    }
    throw last;
  }

  async #putMessage(item: SealedItem): Promise<{ duplicate: boolean }> {
    const req = { id: item.id, envelope: item.envelope };
    const profileKey = this.#state.profiles.get(item.to);
    if (profileKey !== undefined) {
      const accessKey = accessKeyFromProfileKey(this.#env.crypto, profileKey);
      try {
        return (await this.#sendOverSocket(item, req, accessKey)) ?? (await this.#api.sendMessage(item.to, item.deviceId, req, accessKey));
      } catch (e) {
        if (!(isClientError(e, 'ERR_SERVER') && e.status === 401)) throw e;
        // A stale or wrong profile key: fall back to the bearer token (§9.7 "first message").
      }
    }
    return this.#api.sendMessage(item.to, item.deviceId, req, undefined);
  }

  /**
   * docs/protocol/09 §9.7.1: while a listen() loop holds the receiving socket open, sealed sends go
   * over the anonymous sealed-send socket (opened on first need, separate from the receiving one so
   * that it carries no credential). undefined when not connected, or when that socket cannot be
   * opened or dropped before the answer: the caller then sends over HTTP with the same id (the server
   * de-duplicates, so a send that was stored after all is answered `duplicate`). A socket that failed
   * to open is not tried again for SEALED_SOCKET_RETRY_MS (e.g. a server without the endpoint).
   */
  async #sendOverSocket(item: SealedItem, req: { id: Uint8Array; envelope: Uint8Array }, accessKey: Uint8Array): Promise<{ duplicate: boolean } | undefined> {
    if (this.#connected === 0 || this.#env.now() < this.#sealedRetryAt) return undefined;
    try {
      let pending = this.#sealed;
      if (pending === undefined || !(await pending).usable) {
        const factory = await this.#socketFactory();
        pending = SealedSendSocket.open(factory, sealedWebSocketUrl(this.serverUrl));
        this.#sealed = pending;
        pending.catch(() => undefined); // awaited below; a later caller sees the failure there
      }
      const socket = await pending;
      return await socket.send(item.to, item.deviceId, req, accessKey);
    } catch (e) {
      if (!isClientError(e, 'ERR_NETWORK') && !isClientError(e, 'ERR_BAD_RESPONSE')) throw e;
      this.#dropSealedSocket();
      this.#sealedRetryAt = this.#env.now() + SEALED_SOCKET_RETRY_MS;
      return undefined;
    }
  }

  #dropSealedSocket(): void {
    const pending = this.#sealed;
    this.#sealed = undefined;
    pending?.then((s) => {
      s.close();
    }, () => undefined);
  }

  #removeFromOutbox(id: Uint8Array): Promise<void> {
    return this.#transact((s) => {
      const outbox = s.outbox.filter((i) => !bytesEqual(i.id, id));
      return { state: outbox.length === s.outbox.length ? s : { ...s, outbox }, result: undefined };
    });
  }

  async flushOutbox(): Promise<number> {
    this.#checkOpen();
    await this.ensureRegistered();
    let delivered = 0;
    for (const item of [...this.#state.outbox]) {
      if (!this.#state.outbox.some((i) => bytesEqual(i.id, item.id))) continue; // sent meanwhile
      try {
        await this.#deliver(item, SEND_MAX_ATTEMPTS);
        delivered++;
      } catch (e) {
        if (retryable(e)) throw e; // the server is unreachable: the rest would fail the same way
        // A permanent refusal dropped this one; carry on with the others.
      }
    }
    return delivered;
  }

  /** Delivery receipts (docs/protocol/10 §10.2) for what was just received: to the key and device the
   *  messages came from, no directory lookup (the envelope authenticated them), one attempt each;
   *  what fails stays in the outbox. */
  async #sendReceipts(plans: readonly ReceiptPlan[], report: (e: unknown) => void): Promise<void> {
    for (const plan of plans) {
      for (let i = 0; i < plan.ids.length; i += MAX_RECEIPT_IDS) {
        const ids = plan.ids.slice(i, i + MAX_RECEIPT_IDS);
        try {
          const { item } = await this.#seal(plan.username, plan.deviceId, plan.identityKey, { type: 'delivered', ids }, 'delivered');
          await this.#deliver(item, 1);
        } catch (e) {
          report(e);
        }
      }
    }
  }

  /** One more attempt for whatever an earlier call left in the outbox (receipts that failed, sends
   *  that gave up), while the server is evidently reachable. */
  async #retryOutboxOnce(report: (e: unknown) => void): Promise<void> {
    for (const item of [...this.#state.outbox]) {
      try {
        await this.#deliver(item, 1);
      } catch (e) {
        report(e);
        if (retryable(e)) return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Receiving (docs/protocol/09 §9.8, docs/protocol/10 §10.1)

  /** Processes a batch under the lock and commits it (with the messages in the inbox) in one write.
   *
   *  Call bodies (docs/protocol/11 §11.6) reach the call manager as soon as they are decrypted, while
   *  the batch is still being written, when none of them is an offer: an answer or a confirm is on
   *  the critical path of call setup, and a call body is never stored in the inbox, so there is
   *  nothing to lose. What still holds: the batch is acknowledged only after the write (the callers
   *  ack after this resolves), and anything the call sends in response is sealed under the lock, so
   *  after this write. If the write fails or the device crashes before it ends, the server re-delivers
   *  the body: a crash took the calls with it (the body names an unknown call and is dropped, §11.6),
   *  and within this process the manager drops a message id it has routed already. An offer is routed
   *  only after the write, as before: it must never ring twice, and only its seen id guarantees that
   *  across a crash. A batch holding an offer is routed whole after the write, to keep the order. */
  #processBatch(batch: readonly IncomingMessage[]): Promise<BatchResult> {
    let routed = false;
    const early = (r: BatchResult): void => {
      if (r.calls.length === 0) return;
      const types = r.calls.map((c) => c.body.type).join(',');
      benchMark('received-decrypted', types);
      if (r.calls.some((c) => c.body.type === 'call-offer')) return;
      routed = true;
      this.#calls.route(r.calls);
      benchMark('received-dispatched', types);
    };
    return this.#transact(async (s) => {
      const result = await processBatch(s, batch, {
        crypto: this.#env.crypto,
        rng: this.#env.rng,
        identity: this.#identity,
        now: this.#env.now(),
        ringable: this.#calls.ringable,
        lookup: (username) => this.#lookup(username),
      });
      return { state: result.state, result };
    }, early).then((r) => {
      // Committed: the call bodies not handed over early go to their calls now (never to the inbox, §11.6).
      if (r.calls.length > 0) benchMark('received-persisted', r.calls.map((c) => c.body.type).join(','));
      if (!routed) this.#calls.route(r.calls);
      return r;
    });
  }

  /** The application has the messages: they leave the inbox. */
  #handedOver(messages: readonly ReceivedMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const done = new Set(messages);
    return this.#transact((s) => ({ state: { ...s, inbox: s.inbox.filter((m) => !done.has(m)) }, result: undefined }));
  }

  async receive(opts: { waitMs: number; onError?: (e: unknown) => void }): Promise<ReceivedMessage[]> {
    this.#checkOpen();
    if (!Number.isSafeInteger(opts.waitMs) || opts.waitMs < 0) throw new ClientError('ERR_ARGUMENT', `waitMs: expected a non-negative integer, got ${opts.waitMs}`);
    const report = opts.onError ?? ((): void => undefined);
    this.#callErrorSinks.add(report);
    try {
      return await this.#receive(opts.waitMs, report);
    } finally {
      this.#callErrorSinks.delete(report);
    }
  }

  async #receive(waitMs: number, report: (e: unknown) => void): Promise<ReceivedMessage[]> {
    await this.ensureRegistered();
    // Messages a crash left between persistence and hand-over come first (§10.1: never lost).
    const out: ReceivedMessage[] = [...this.#state.inbox];
    const receipts: ReceiptPlan[] = [];
    const take = (r: BatchResult): void => {
      for (const e of r.rejected) report(e);
      out.push(...r.messages);
      receipts.push(...r.receipts);
    };
    // The backlog over HTTP (§9.8 fetch + ack): pages of FETCH_PAGE_LIMIT, one write each.
    let after = 0;
    for (;;) {
      const page = await this.#api.fetchMessages(after, FETCH_PAGE_LIMIT);
      if (page.messages.length === 0) break;
      const r = await this.#processBatch(page.messages);
      take(r);
      if (r.handled.length > 0) await this.#api.ack(r.handled);
      if (r.stoppedBy !== undefined) {
        report(r.stoppedBy);
        break;
      }
      after = page.messages[page.messages.length - 1]?.seq ?? after;
      if (!page.more) break;
    }
    await this.#refillIfLow(report);
    if (waitMs > 0) {
      try {
        await this.#receiveLive(waitMs, take, report);
      } catch (e) {
        // What the backlog gave is persisted and acknowledged: return it, and say why live failed.
        if (isClientError(e, 'ERR_CLIENT_CLOSED')) throw e;
        report(e);
      }
    }
    await this.#handedOver(out);
    await this.#sendReceipts(receipts, report);
    await this.#retryOutboxOnce(report);
    return out;
  }

  /** Live messages over the WebSocket until `waitMs` passed with nothing new. */
  async #receiveLive(waitMs: number, take: (r: BatchResult) => void, report: (e: unknown) => void): Promise<void> {
    const factory = await this.#socketFactory();
    const token = await this.#api.bearerToken();
    const queue: MessageFrame[] = [];
    const live: { socket?: MessageSocket } = {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const quiet = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(finish, waitMs);
    };
    let pump: Promise<void> = Promise.resolve();
    const drain = async (): Promise<void> => {
      while (queue.length > 0) {
        const r = await this.#processBatch(queue.splice(0));
        take(r);
        live.socket?.ack(r.handled);
        if (r.stoppedBy !== undefined) {
          report(r.stoppedBy);
          finish();
          return;
        }
      }
    };
    const socket = await connectMessageSocket(factory, webSocketUrl(this.serverUrl), token, {
      onMessage: (f) => {
        queue.push(f);
        quiet();
        pump = pump.then(drain).catch((e: unknown) => {
          report(e);
          finish();
        });
      },
      onPrekeysLow: (f) => {
        void this.#refillPrekeys(f).catch(report);
      },
      onClose: (e) => {
        if (e !== undefined) report(e);
        finish();
      },
    });
    live.socket = socket;
    const onAbort = (): void => {
      finish();
    };
    this.#closing.signal.addEventListener('abort', onAbort, { once: true });
    quiet();
    await done;
    this.#closing.signal.removeEventListener('abort', onAbort);
    if (timer !== undefined) clearTimeout(timer);
    await pump;
    socket.close();
  }

  #socketFactory(): Promise<WebSocketFactory> {
    return Promise.resolve().then(() => {
      this.#webSocket ??= platformWebSocket();
      return this.#webSocket;
    });
  }

  listen(onMessage: (m: ReceivedMessage) => void | Promise<void>, onError?: (e: unknown) => void): () => Promise<void> {
    this.#checkOpen();
    const report = (e: unknown): void => {
      try {
        onError?.(e);
      } catch {
        // the application's error handler failed; nothing more to tell it
      }
    };
    this.#callErrorSinks.add(report);
    let stopped = false;
    // Read through a function: `stopped` changes in `stop` while the loop awaits.
    const isStopped = (): boolean => stopped;
    let socket: MessageSocket | undefined;
    let wake: () => void = () => undefined;
    const queue: MessageFrame[] = [];
    let pump: Promise<void> = Promise.resolve();

    const handOver = async (messages: readonly ReceivedMessage[]): Promise<void> => {
      for (const m of messages) {
        try {
          await onMessage(m);
        } catch (e) {
          report(e);
        }
      }
    };
    const drain = async (): Promise<void> => {
      while (queue.length > 0 && !isStopped()) {
        const r = await this.#processBatch(queue.splice(0));
        for (const e of r.rejected) report(e);
        await handOver(r.messages); // persisted, not yet acknowledged (contract)
        socket?.ack(r.handled);
        await this.#handedOver(r.messages);
        if (r.stoppedBy !== undefined) {
          report(r.stoppedBy);
          socket?.close(); // reconnect: the server pushes what is unacknowledged again
        }
        await this.#sendReceipts(r.receipts, report);
      }
    };
    const loop = (async (): Promise<void> => {
      let attempt = 0;
      let first = true;
      while (!isStopped()) {
        try {
          await this.ensureRegistered();
          if (first) {
            // Messages a crash left in the inbox (§10.1).
            first = false;
            const left = [...this.#state.inbox];
            await handOver(left);
            await this.#handedOver(left);
          }
          const factory = await this.#socketFactory();
          const token = await this.#api.bearerToken();
          let closed: (e: ClientError | undefined) => void = () => undefined;
          const ended = new Promise<ClientError | undefined>((resolve) => {
            closed = resolve;
          });
          socket = await connectMessageSocket(factory, webSocketUrl(this.serverUrl), token, {
            onMessage: (f) => {
              benchMark('ws-message', '');
              queue.push(f);
              pump = pump.then(drain).catch(report);
            },
            onPrekeysLow: (f) => {
              void this.#refillPrekeys(f).catch(report);
            },
            onClose: (e) => {
              closed(e);
            },
          });
          if (isStopped()) socket.close();
          attempt = 0;
          this.#connected++;
          let why: ClientError | undefined;
          try {
            await this.#refillIfLow(report);
            why = await ended;
          } finally {
            if (--this.#connected === 0) this.#dropSealedSocket();
          }
          socket = undefined;
          if (why !== undefined) {
            report(why);
            if (why.serverCode === 'ERR_API_UNAUTHORIZED') this.#api.invalidateToken();
          }
        } catch (e) {
          if (isClientError(e, 'ERR_CLIENT_CLOSED') || isClientError(e, 'ERR_KEYSTORE_CLOSED')) break;
          report(e);
          if (isClientError(e) && e.serverCode === 'ERR_API_UNAUTHORIZED') this.#api.invalidateToken();
        }
        if (isStopped()) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoffDelay(attempt++, RECONNECT_INITIAL_MS, RECONNECT_MAX_MS, Math.random()));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    })();
    const stop = async (): Promise<void> => {
      stopped = true;
      socket?.close();
      wake();
      await loop;
      await pump;
      this.#listeners.delete(stop);
      this.#callErrorSinks.delete(report);
    };
    this.#listeners.add(stop);
    return stop;
  }

  // -------------------------------------------------------------------------------------------
  // Attachments (docs/protocol/10 §10.3)

  async downloadFile(file: FileRef): Promise<Uint8Array> {
    this.#checkOpen();
    let id: Uint8Array;
    let key: Uint8Array;
    let digest: Uint8Array;
    try {
      id = decodeBase64url(file.attachment, 'attachment id', { length: 16 });
      key = decodeBase64url(file.key, 'attachment key', { length: 32 });
      digest = decodeBase64url(file.digest, 'attachment digest', { length: 32 });
    } catch (e) {
      throw new ClientError('ERR_ARGUMENT', 'file reference: expected base64url id, key and digest', { cause: e });
    }
    const blob = await this.#api.downloadAttachment(id);
    return decryptAttachment(this.#env.crypto, blob, { key, digest, size: file.size });
  }

  // -------------------------------------------------------------------------------------------
  // Trust (docs/protocol/10 §10.4, docs/protocol/07)

  contacts(): Promise<Contact[]> {
    return Promise.resolve().then(() => {
      this.#checkOpen();
      return [...this.#state.trust.values()].sort((a, b) => (a.username < b.username ? -1 : 1)).map(copyContact);
    });
  }

  /** The contact, looked up in the directory (and observed) when this device has never seen it. */
  async #contact(username: string): Promise<Contact> {
    const known = this.#state.trust.get(username);
    if (known !== undefined) return known;
    await this.ensureRegistered();
    const entry = await this.#lookup(username);
    return this.#transact((s) => {
      const o = observeIdentityKey(s.trust, username, entry.identityKey, this.#env.now());
      return { state: { ...s, trust: o.store }, result: o.contact };
    });
  }

  #safety(contact: Contact): SafetyNumber {
    return sottoSafetyNumber(
      this.#env.crypto,
      { username: this.username, identityKey: this.#identity.publicKey },
      { username: contact.username, identityKey: parseIdentityPublicKey(currentKey(contact)) },
    );
  }

  async safetyNumber(username: string): Promise<{ digits: string; scannable: Uint8Array; contact: Contact }> {
    this.#checkOpen();
    const contact = await this.#contact(foldOrThrow(username));
    const sn = this.#safety(contact);
    return { digits: sn.displayable, scannable: sn.scannable, contact: copyContact(contact) };
  }

  async verify(username: string, digits: string, method: VerificationMethod = 'safety-number'): Promise<Contact> {
    this.#checkOpen();
    if (typeof digits !== 'string') throw new ClientError('ERR_ARGUMENT', 'digits: expected a string');
    const folded = foldOrThrow(username);
    await this.#contact(folded);
    const given = utf8(digits.replace(/\s+/g, ''));
    return this.#verifyWith(folded, method, (sn) => constantTimeEqual(utf8(sn.displayable), given));
  }

  async verifyScanned(username: string, scanned: Uint8Array): Promise<Contact> {
    this.#checkOpen();
    const folded = foldOrThrow(username);
    await this.#contact(folded);
    return this.#verifyWith(folded, 'qr', (sn) => {
      try {
        return compareScannable(sn.scannable, scanned) === 'match';
      } catch {
        return false; // a malformed payload or another version matches nothing
      }
    });
  }

  /** Compares under the lock against the contact's current key, so a key that changes meanwhile
   *  cannot be verified with the old key's number. ERR_SAFETY_NUMBER_MISMATCH changes nothing. */
  #verifyWith(username: string, method: VerificationMethod, matches: (sn: SafetyNumber) => boolean): Promise<Contact> {
    return this.#transact((s) => {
      const contact = s.trust.get(username);
      if (contact === undefined) throw new ClientError('ERR_NOT_FOUND', 'expected a known contact, got none with that name');
      if (!matches(this.#safety(contact))) {
        throw new ClientError('ERR_SAFETY_NUMBER_MISMATCH', "the safety number does not match the contact's current key: nothing was changed");
      }
      const v = markVerified(s.trust, username, method, this.#env.now());
      return { state: { ...s, trust: v.store, sessions: dropSessionUnlessKept(s.sessions, v.previousKey, v.contact.identityKey) }, result: copyContact(v.contact) };
    });
  }

  async acceptNewKey(username: string): Promise<Contact> {
    this.#checkOpen();
    const folded = foldOrThrow(username);
    return this.#transact((s) => {
      const a = acceptNewKeyTransition(s.trust, folded, this.#env.now());
      const profiles = new Map(s.profiles);
      profiles.delete(folded); // the old key holder's profile key; the new one sends its own
      return { state: { ...s, trust: a.store, sessions: dropSessionUnlessKept(s.sessions, a.previousKey, a.contact.identityKey), profiles }, result: copyContact(a.contact) };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Calls (docs/protocol/11; the state machines are in src/calls/)

  async placeCall(to: string, media: CallMedia, opts: { readonly ringMs?: number } = {}): Promise<Call> {
    this.#checkOpen();
    const username = foldOrThrow(to);
    if (username === this.username) throw new ClientError('ERR_ARGUMENT', 'to: expected another account than this one');
    checkMedia(media);
    const ringMs = opts.ringMs ?? CALL_RING_TIMEOUT_MS;
    if (!Number.isSafeInteger(ringMs) || ringMs < 1000 || ringMs > CALL_RING_TIMEOUT_MS) {
      throw new ClientError('ERR_ARGUMENT', `ringMs: expected whole milliseconds from 1000 to ${CALL_RING_TIMEOUT_MS}`);
    }
    return this.#calls.place(username, media, ringMs);
  }

  onIncomingCall(handler: (call: IncomingCall) => void): () => void {
    this.#checkOpen();
    return this.#calls.onIncomingCall(handler);
  }

  async sendVoicemail(to: string, audio: { bytes: Uint8Array; mime: string; durationMs: number }, call?: string): Promise<SentMessage> {
    this.#checkOpen();
    const username = foldOrThrow(to);
    const mime = checkMime(audio.mime);
    if (!/^audio\/[a-z0-9][a-z0-9!#$&^_.+-]*(;.*)?$/i.test(mime)) throw new ClientError('ERR_ARGUMENT', 'voicemail MIME type: expected audio/...');
    const { durationMs } = audio;
    if (!Number.isSafeInteger(durationMs) || durationMs < 0 || durationMs > MAX_VOICEMAIL_DURATION_MS) {
      throw new ClientError('ERR_ARGUMENT', `durationMs: expected an integer in 0..${MAX_VOICEMAIL_DURATION_MS}`);
    }
    let callId: Uint8Array;
    if (call === undefined) callId = this.#env.rng(16);
    else {
      try {
        callId = decodeBase64url(call, 'call id', { length: 16 });
      } catch (e) {
        throw new ClientError('ERR_ARGUMENT', 'call: expected the base64url id of a call (16 bytes)', { cause: e });
      }
    }
    const name = voicemailFileName(mime);
    const encrypted = await encryptAttachment(this.#env.crypto, this.#env.rng, audio.bytes); // ERR_ATTACHMENT_TOO_LARGE first
    return this.#send(
      username,
      async () => {
        const uploaded = await this.#api.uploadAttachment(encrypted.blob);
        const file = { attachment: uploaded.id, key: encrypted.key, digest: encrypted.digest, size: encrypted.size, name, mime };
        return { type: 'voicemail', call: callId, file, durationMs };
      },
      'voicemail',
      SEND_MAX_ATTEMPTS,
    );
  }

  async turnServers(): Promise<{ urls: string[]; username: string; credential: string }[]> {
    this.#checkOpen();
    await this.ensureRegistered();
    const body = await this.#api.turnCredentials();
    if (body === undefined) return [];
    return [{ urls: [...body.urls], username: body.username, credential: body.credential }];
  }

  /** §11.4 "the words match": verified by `sas` — only while the contact's trusted key is still the
   *  one the call's transcript covered (and not `changed`), else ERR_CALL_STATE and nothing changes. */
  #verifyBySas(peer: CallPeer): Promise<void> {
    return this.#transact((s) => {
      const contact = s.trust.get(peer.username);
      if (contact === undefined || contact.state === 'changed' || !bytesEqual(contact.identityKey, peer.identityKey)) {
        throw new ClientError('ERR_CALL_STATE', "the contact's identity key changed during the call: the SAS does not cover its current key");
      }
      const v = markVerified(s.trust, peer.username, 'sas', this.#env.now());
      return { state: { ...s, trust: v.store }, result: undefined };
    });
  }

  // -------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.#closed) return;
    // Calls first, while the client can still tell the peers (best effort, a few quick attempts).
    await this.#calls.closeAll();
    this.#closing.abort();
    for (const wake of this.#sleepers) wake();
    this.#sleepers.clear();
    for (const stop of [...this.#listeners]) await stop();
    await this.#lock.idle();
    this.#closed = true;
    await this.#ks.close();
  }
}

/** A sealed message on its way: an outbox item, or a call body that is never persisted. */
type SealedItem = Omit<OutboxItem, 'kind'>;

function checkMedia(media: CallMedia): void {
  const m = media as Partial<Record<keyof CallMedia, unknown>> | null;
  const fns: (keyof CallMedia)[] = ['createOffer', 'acceptOffer', 'acceptAnswer', 'setKeys', 'close'];
  if (typeof m !== 'object' || m === null || fns.some((f) => typeof m[f] !== 'function')) {
    throw new ClientError('ERR_ARGUMENT', `media: expected a CallMedia (${fns.join(', ')})`);
  }
}

/** A voicemail's file name (docs/protocol/10 §10.2 rules): "voicemail" with the MIME subtype as
 *  extension when it is a plain token (audio/ogg → voicemail.ogg). */
function voicemailFileName(mime: string): string {
  const sub = /^audio\/([a-z0-9]{1,16})(?:;|$)/i.exec(mime)?.[1];
  return sub === undefined ? 'voicemail' : `voicemail.${sub.toLowerCase()}`;
}

/** The session with `previous` goes when trust moves to another key (§10.4 "accept": the session with
 *  the old key is dropped). */
function dropSessionUnlessKept(sessions: ReadonlyMap<string, Uint8Array>, previous: Uint8Array, kept: Uint8Array): ReadonlyMap<string, Uint8Array> {
  if (bytesEqual(previous, kept) || !sessions.has(toHex(previous))) return sessions;
  const next = new Map(sessions);
  next.delete(toHex(previous));
  return next;
}

function copyContact(c: Contact): Contact {
  return {
    ...c,
    identityKey: c.identityKey.slice(),
    ...(c.newIdentityKey === undefined ? {} : { newIdentityKey: c.newIdentityKey.slice() }),
  };
}

/** What an ERR_TRUST_CHANGED tells about the contact (docs/protocol/10 §10.4): when it is `changed`,
 *  whether it had been verified before, so the user gets the right advice. */
function changedInfo(c: Contact): { wasVerified?: boolean } {
  return c.state === 'changed' ? { wasVerified: c.wasVerified === true } : {};
}
