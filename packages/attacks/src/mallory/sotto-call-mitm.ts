// Mallory in the middle of a first-contact Sotto call (docs/scorecard.md §4, "Sotto calls" 3b): the strongest
// attack a malicious provider has on calls. It needs the session AND the call:
//   * the session — on lookups and bundle fetches it answers with an impostor for each side (its own identity keys,
//     bundles it signed): alice is handed "bob" = mallory's key, bob is handed "alice" = another mallory key. First
//     contact is trust on first use, so neither SDK can tell. Sends between them never reach the server: mallory
//     answers the PUT itself, opens the envelope with the impostor's keys, and pushes its own sealed messages to
//     the other side's WebSocket connection, as the server would.
//   * the call — it runs two real call key agreements (@sotto/protocol, docs/protocol/11 §11.2), one per leg: it is
//     the callee for alice and the caller for bob, with its own media endpoints on its relay, and re-speaks every
//     frame it hears on one leg into the other. Every frame is read in the middle.
// With `'direct'` in place of the relay, mallory substitutes only the call key agreements (still two real ones) and
// passes each side's SDP on unchanged: the victims' DTLS connects directly (the fingerprints are the real ones) and
// mallory relays no media, so each side encrypts under its own leg's keys and no frame decrypts at the other. That
// is the "substituted call keys: the SAS differs and nothing is heard" case of the browser test
// (packages/web/test/browser-call-key-substitution.test.ts).
// What it cannot do is choose the two legs' short authentication strings: each is fixed by values committed before
// mallory sees the other side's (the hash commitment, §11.2.3), so they differ except with probability 2⁻¹⁶, and
// the users' comparison catches it. The scenario measures what the users see.
import { decodeContent, encodeContent, type ContentBody, type Content, type CallSignalBody } from '@sotto/client';
import { fastProvider } from '@sotto/crypto';
import {
  completeCall,
  confirmCallAsCallee,
  confirmCallAsCaller,
  createCallOffer,
  createSenderCertificate,
  ringCallOffer,
  SEALED_WEBSOCKET_PATH,
  decodeAccountResponse,
  decodePrekeyBundle,
  decodeSendMessageRequest,
  encodeAccountResponse,
  encodeSendMessageResponse,
  encodeServerFrame,
  IdentityKeyPair,
  initiateSession,
  MemoryPrekeyStore,
  parseIdentityPublicKey,
  receiveSealed,
  sealEnvelope,
  sessionEncrypt,
  verifyPrekeyBundle,
  type CallConfirmed,
  type CalleePending,
  type CallerPending,
  type CallRingingMessage,
  type Sas,
  type Session,
} from '@sotto/protocol';
import { AttacksError } from '../errors.ts';
import { systemRng } from '../internal/rng.ts';
import { SframeMedia } from '../internal/sframe-media.ts';
import type { CallRelay } from './call-relay.ts';
import { forgeIdentity } from './sotto-keys.ts';
import type { ProxyResponse, RecordingProxy } from './proxy.ts';

/** docs/protocol/09 §9.6: every account's first (and only) device. */
const DEVICE_ID = 1;
/** How long mallory's self-issued sender certificates claim to be valid (docs/protocol/06 §6.3). */
const CERTIFICATE_LIFETIME_MS = 24 * 60 * 60 * 1000;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Mallory's stand-in for one user: its own identity key, a bundle it signed, and its sessions. */
export class Impostor {
  readonly username: string;
  readonly identity: IdentityKeyPair;
  readonly bundle: Uint8Array;
  readonly #store: MemoryPrekeyStore;
  readonly #sessions = new Map<string, Session>();
  readonly #profileKey = systemRng(32);

  private constructor(username: string, identity: IdentityKeyPair, bundle: Uint8Array, store: MemoryPrekeyStore) {
    this.username = username;
    this.identity = identity;
    this.bundle = bundle;
    this.#store = store;
  }

  static async create(username: string): Promise<Impostor> {
    const { identity, bundle, store } = await forgeIdentity(fastProvider, systemRng);
    return new Impostor(username, identity, bundle, store);
  }

  /** Opens an envelope sent to the impersonated user (the session it starts or continues is kept). */
  async open(envelope: Uint8Array): Promise<{ senderKey: Uint8Array; content: Content }> {
    const r = await receiveSealed(fastProvider, systemRng, { identity: this.identity, now: Date.now(), prekeys: this.#store, session: (k) => this.#sessions.get(hex(k)) }, envelope);
    this.#sessions.set(hex(r.sender.identityKey), r.session);
    return { senderKey: r.sender.identityKey, content: decodeContent(r.plaintext) };
  }

  /** Starts a session with a real user from the bundle the real server serves. */
  async startSession(bundle: Uint8Array, peerKey: Uint8Array): Promise<void> {
    const verified = await verifyPrekeyBundle(fastProvider, decodePrekeyBundle(bundle), peerKey);
    this.#sessions.set(hex(peerKey), await initiateSession(fastProvider, systemRng, this.identity, verified));
  }

  hasSession(peerKey: Uint8Array): boolean {
    return this.#sessions.has(hex(peerKey));
  }

  /** Seals `body` to the peer in the impostor's session, under a certificate naming the impersonated user. */
  async seal(peerKey: Uint8Array, body: ContentBody): Promise<{ id: Uint8Array; envelope: Uint8Array }> {
    const session = this.#sessions.get(hex(peerKey));
    if (session === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'the impostor has no session with that peer');
    const id = systemRng(16);
    const plaintext = encodeContent({ id, sentAt: Date.now(), profileKey: this.#profileKey, body });
    const { session: next, message } = await sessionEncrypt(fastProvider, systemRng, session, plaintext);
    this.#sessions.set(hex(peerKey), next);
    const certificate = await createSenderCertificate(fastProvider, this.identity, { username: this.username, deviceId: DEVICE_ID, expiresAt: Date.now() + CERTIFICATE_LIFETIME_MS });
    const envelope = await sealEnvelope(fastProvider, systemRng, { sender: this.identity, certificate, recipient: parseIdentityPublicKey(peerKey), contentType: message.kind, content: message.bytes });
    return { id, envelope };
  }
}

/** One victim as mallory addresses it. */
export interface MitmVictim {
  readonly username: string;
  /** The victim's WebSocket connection on the proxy (mallory pushes to it). */
  readonly connection: number;
}

type Body<T extends CallSignalBody['type']> = Extract<CallSignalBody, { type: T }>;

/**
 * The attack of the header. `a` is the caller (alice), `b` the callee (bob). Install with `start()`; the proxy's
 * hooks are mallory's from then on. `framesRead` is what mallory heard in the middle.
 */
export class CallMitm {
  readonly framesRead: string[] = [];
  /** What mallory did, in order (for the scenario's evidence). */
  readonly log: string[] = [];
  readonly #proxy: RecordingProxy;
  /** Mallory's media relay for the bridge, or 'direct': no media of its own, the SDPs passed on. */
  readonly #relay: CallRelay | 'direct';
  readonly #serverUrl: string;
  readonly #a: MitmVictim;
  readonly #b: MitmVictim;
  /** Stands in for b towards a, and for a towards b. */
  readonly #asB: Impostor;
  readonly #asA: Impostor;
  #aKey: Uint8Array | undefined;
  #bKey: Uint8Array | undefined;
  #offerA: Body<'call-offer'> | undefined;
  #pendingA: CalleePending | undefined;
  /** Leg A's ringing values (mallory as callee), sent to alice when bob's phone rings. */
  #ringingA: CallRingingMessage | undefined;
  #confirmedA: CallConfirmed | undefined;
  /** Mallory's answer SDP on leg A, once bob answered leg B. */
  #answerSdpA: string | undefined;
  #pendingB: CallerPending | undefined;
  #confirmedB: CallConfirmed | undefined;
  #callB: Uint8Array | undefined;
  #mediaA: SframeMedia | undefined;
  #mediaB: SframeMedia | undefined;
  #sasA: Sas | undefined;
  #sasB: Sas | undefined;
  #queue: Promise<void> = Promise.resolve();
  #seq = 5_000_000;
  #rewrites = 0;
  #failure: unknown;

  private constructor(proxy: RecordingProxy, relay: CallRelay | 'direct', serverUrl: string, a: MitmVictim, b: MitmVictim, asB: Impostor, asA: Impostor) {
    this.#proxy = proxy;
    this.#relay = relay;
    this.#serverUrl = serverUrl;
    this.#a = a;
    this.#b = b;
    this.#asB = asB;
    this.#asA = asA;
  }

  static async create(proxy: RecordingProxy, relay: CallRelay | 'direct', serverUrl: string, a: MitmVictim, b: MitmVictim): Promise<CallMitm> {
    return new CallMitm(proxy, relay, serverUrl, a, b, await Impostor.create(b.username), await Impostor.create(a.username));
  }

  /** mallory's identity keys as each victim is shown them ("bob" for alice, "alice" for bob). */
  get impostorKeys(): { readonly asCallee: Uint8Array; readonly asCaller: Uint8Array } {
    return { asCallee: this.#asB.identity.publicKey, asCaller: this.#asA.identity.publicKey };
  }

  /** The SAS of mallory's key agreement with a (as "b") and with b (as "a"), once each is confirmed. */
  get legSas(): { readonly withA: Sas | undefined; readonly withB: Sas | undefined } {
    return { withA: this.#sasA, withB: this.#sasB };
  }

  /** Directory answers and bundles rewritten (lookups of either victim). */
  get rewrites(): number {
    return this.#rewrites;
  }

  /** Mallory's own endpoints' drops (none expected). */
  checkHealthy(): void {
    if (this.#failure !== undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'mallory-in-the-middle failed', { cause: this.#failure });
    this.#mediaA?.checkHealthy();
    this.#mediaB?.checkHealthy();
  }

  start(): void {
    const impostorFor = (username: string): Impostor | undefined => (username === this.#a.username ? this.#asA : username === this.#b.username ? this.#asB : undefined);
    // Mallory is the server: it refuses the sealed-send socket (docs/protocol/09 §9.7.1), so the SDKs send
    // over HTTP PUT, where it answers the sends to the impersonated users itself (below).
    this.#proxy.setHooks({
      upgrade: (path) => path !== SEALED_WEBSOCKET_PATH,
      response: (req, res): ProxyResponse | undefined => {
        if (req.method !== 'GET' || res.status !== 200) return undefined;
        const account = /^\/v1\/accounts\/([a-z0-9_]+)$/.exec(req.path);
        const bundle = /^\/v1\/keys\/([a-z0-9_]+)\/\d+$/.exec(req.path);
        const who = impostorFor(account?.[1] ?? bundle?.[1] ?? '');
        if (who === undefined) return undefined;
        this.#rewrites++;
        if (account !== null) return { ...res, body: new TextEncoder().encode(encodeAccountResponse({ ...decodeAccountResponse(res.body), identityKey: who.identity.publicKey })) };
        return { ...res, body: who.bundle };
      },
      request: (req) => {
        const to = /^\/v1\/messages\/([a-z0-9_]+)\/\d+$/.exec(req.path)?.[1];
        if (req.method !== 'PUT' || to === undefined) return undefined;
        const who = impostorFor(to);
        if (who === undefined) return undefined;
        // Answered here: the real server never sees it, the real recipient never gets it.
        const { envelope } = decodeSendMessageRequest(req.body);
        this.#enqueue(() => this.#received(who, envelope));
        return { status: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(encodeSendMessageResponse({ seq: this.#seq++, duplicate: false })) };
      },
    });
    this.#proxy.closeConnections(SEALED_WEBSOCKET_PATH);
  }

  stop(): void {
    this.#proxy.setHooks({});
  }

  /** Waits for every event mallory has taken so far to be handled. */
  async idle(): Promise<void> {
    await this.#queue;
    this.checkHealthy();
  }

  #enqueue(op: () => Promise<void>): void {
    this.#queue = this.#queue.then(op).catch((e: unknown) => {
      this.#failure ??= e;
    });
  }

  async #push(impostor: Impostor, to: MitmVictim, peerKey: Uint8Array, body: ContentBody): Promise<void> {
    const { id, envelope } = await impostor.seal(peerKey, body);
    const frame = encodeServerFrame({ type: 'message', seq: this.#seq++, id, envelope, receivedAt: Date.now() });
    if (!this.#proxy.injectToConnection(to.connection, frame)) throw new AttacksError('ERR_ATTACKS_NETWORK', `${to.username} is not connected`);
  }

  /** To a (alice), as "b". */
  #toA(body: ContentBody): Promise<void> {
    if (this.#aKey === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', "alice's key is not known yet");
    return this.#push(this.#asB, this.#a, this.#aKey, body);
  }

  /** To b (bob), as "a". */
  #toB(body: ContentBody): Promise<void> {
    if (this.#bKey === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', "bob's key is not known yet");
    return this.#push(this.#asA, this.#b, this.#bKey, body);
  }

  /** Bob's real key and bundle, from the real server (mallory runs it; it borrows any recorded bearer token). */
  async #sessionWithB(): Promise<void> {
    const auth = [...this.#proxy.records].reverse().find((r) => r.kind === 'http' && (r.requestHeaders.authorization ?? '').startsWith('Bearer '));
    const authorization = auth?.kind === 'http' ? auth.requestHeaders.authorization : undefined;
    if (authorization === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'no bearer token in the recording');
    const account = decodeAccountResponse(new Uint8Array(await (await fetch(`${this.#serverUrl}/v1/accounts/${this.#b.username}`, { headers: { authorization } })).arrayBuffer()));
    const res = await fetch(`${this.#serverUrl}/v1/keys/${this.#b.username}/${DEVICE_ID}`, { headers: { authorization } });
    if (res.status !== 200) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', `bundle fetch answered ${res.status}`);
    this.#bKey = account.identityKey;
    await this.#asA.startSession(new Uint8Array(await res.arrayBuffer()), account.identityKey);
  }

  async #received(impostor: Impostor, envelope: Uint8Array): Promise<void> {
    const { senderKey, content } = await impostor.open(envelope);
    const body = content.body;
    this.log.push(`${impostor === this.#asB ? this.#a.username : this.#b.username}: ${body.type}`);
    if (impostor === this.#asB) {
      this.#aKey = senderKey;
      await this.#fromA(body);
    } else {
      await this.#fromB(body);
    }
  }

  /** From alice (the caller), sent to "bob". */
  async #fromA(body: ContentBody): Promise<void> {
    if (body.type === 'call-offer') {
      // Leg A: mallory is the callee (its own E_R and ct to alice's ek_I, §11.2.2), held until bob rings.
      // Leg B: mallory calls bob as "alice", with its own offer and its own media endpoint.
      this.#offerA = body;
      if (this.#aKey === undefined) return;
      const a = await ringCallOffer(fastProvider, systemRng, { callerIdentityKey: this.#aKey, calleeIdentityKey: this.#asB.identity.publicKey, offer: body });
      this.#pendingA = a.state;
      this.#ringingA = a.ringing;
      if (this.#relay !== 'direct') {
        this.#mediaA = await SframeMedia.open(this.#relay, 'mallory (as bob, towards alice)');
        this.#mediaB = await SframeMedia.open(this.#relay, 'mallory (as alice, towards bob)');
      }
      await this.#sessionWithB();
      if (this.#bKey === undefined) return;
      const sdp = this.#mediaB === undefined ? body.sdp : await this.#mediaB.createOffer(); // 'direct': alice's own SDP
      const { state, offer } = await createCallOffer(fastProvider, systemRng, { callerIdentityKey: this.#asA.identity.publicKey, calleeIdentityKey: this.#bKey, sdp });
      this.#pendingB = state;
      this.#callB = offer.call;
      await this.#toB({ type: 'call-offer', call: offer.call, kem: offer.kem, commit: offer.commit, sdp: offer.sdp });
    } else if (body.type === 'call-confirm' && this.#pendingA !== undefined) {
      this.#confirmedA = (await confirmCallAsCallee(fastProvider, this.#pendingA, { call: body.call, dh: body.dh })).state;
      this.#sasA = this.#confirmedA.sas;
      await this.#finishA();
    } else if (body.type === 'call-end' && this.#callB !== undefined) {
      await this.#toB({ type: 'call-end', call: this.#callB, reason: body.reason });
    }
  }

  /** From bob (the callee), sent to "alice". */
  async #fromB(body: ContentBody): Promise<void> {
    const offerA = this.#offerA;
    if (offerA === undefined || (this.#relay !== 'direct' && (this.#mediaA === undefined || this.#mediaB === undefined))) return;
    if (body.type === 'call-ringing' && this.#pendingB !== undefined && this.#ringingA !== undefined) {
      const b = await confirmCallAsCaller(fastProvider, this.#pendingB, { call: body.call, dh: body.dh, ct: body.ct });
      this.#confirmedB = b.state;
      this.#sasB = b.state.sas;
      await this.#toB({ type: 'call-confirm', call: b.confirm.call, dh: b.confirm.dh });
      const r = this.#ringingA;
      await this.#toA({ type: 'call-ringing', call: r.call, dh: r.dh, ct: r.ct });
    } else if (body.type === 'call-answer' && this.#confirmedB !== undefined) {
      const { keys } = await completeCall(fastProvider, this.#confirmedB, { call: body.call, sdp: body.sdp });
      if (this.#mediaB === undefined) keys.erase();
      else {
        await this.#mediaB.acceptAnswer(body.sdp);
        await this.#mediaB.setKeys({ send: keys.send, receive: keys.receive });
      }
      // Only now answer alice, so that her call connects when bob's does ('direct': bob's own SDP) — and
      // only once leg A is keyed (#finishA), so that her first words are not lost on mallory.
      this.#answerSdpA = this.#mediaA === undefined ? body.sdp : await this.#mediaA.acceptOffer(offerA.sdp);
      await this.#finishA();
    } else if (body.type === 'call-end') {
      await this.#toA({ type: 'call-end', call: offerA.call, reason: body.reason });
    }
  }

  /** Leg A's keys and mallory's answer to alice, once alice's confirm is in and bob answered (in either order). */
  async #finishA(): Promise<void> {
    const confirmed = this.#confirmedA;
    const sdp = this.#answerSdpA;
    const offerA = this.#offerA;
    if (confirmed === undefined || sdp === undefined || offerA === undefined) return;
    this.#confirmedA = undefined;
    const { keys } = await completeCall(fastProvider, confirmed, { call: offerA.call, sdp });
    if (this.#mediaA === undefined) keys.erase();
    else {
      await this.#mediaA.setKeys({ send: keys.send, receive: keys.receive });
      this.#bridge();
    }
    await this.#toA({ type: 'call-answer', call: offerA.call, sdp });
  }

  /** Every frame heard on one leg is read, then re-spoken (re-encrypted) on the other. */
  #bridge(): void {
    const a = this.#mediaA;
    const b = this.#mediaB;
    if (a === undefined || b === undefined) return;
    a.onPlayed = (text) => {
      this.framesRead.push(text);
      this.#enqueue(async () => {
        await b.speak(text);
      });
    };
    b.onPlayed = (text) => {
      this.framesRead.push(text);
      this.#enqueue(async () => {
        await a.speak(text);
      });
    };
  }

  close(): void {
    for (const m of [this.#mediaA, this.#mediaB]) if (m !== undefined && !m.closed) m.close();
  }
}
