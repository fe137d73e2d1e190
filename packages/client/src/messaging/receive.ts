// Receiving (docs/protocol/10 §10.1, §10.4, §10.5): a batch of queued envelopes in, the new client
// state, the messages for the application and the ids to acknowledge out. Nothing here writes or
// sends: the caller commits the returned state with ONE keystore write, then acknowledges, then hands
// the messages over (src/client.ts). Per message, in order:
//   1. an id already seen for any contact is acknowledged and dropped (§10.5);
//   2. `receiveSealed` opens the envelope and decrypts (prekey use is staged, not yet kept);
//   3. the sender certificate's (username, identity key) is checked against the trust store (§10.4).
//      A binding the store does not hold — a new contact or a key other than the trusted one — is
//      cross-checked with the server's directory (§9.6) first: a certificate naming a username whose
//      directory key is another key is a forgery by whoever holds that key (certificates are
//      self-signed, docs/protocol/06 §6.9), so the message is dropped with nothing kept. Otherwise the
//      key is observed: first use, or `changed` (the message is kept, shown with the warning).
//   4. the content is decoded; its id must be the queue id;
//   5. the session, the prekey use, the seen id, the sender's profile key and the message are kept.
// Call bodies (docs/protocol/11 §11.6) are not messages: they are kept out of the inbox, get no
// receipt, and come back in `calls` for the call manager (src/calls/) once the batch is committed; an
// offer that must not ring (older than CALL_OFFER_MAX_AGE_MS by `now`, from a `changed` contact or from
// a key sends do not go to, or while nothing would ring) becomes a `missed-call` message instead.
// Their ids are still recorded as seen, so a re-delivered offer never rings twice. src/client.ts may
// hand the bodies that are not offers to the call manager before the batch is committed (call setup's
// critical path); it still acknowledges only after the commit.
// A message that fails a check is acknowledged and dropped with an ERR_MESSAGE_REJECTED report; the
// session state of an authenticated sender is kept even when its content is bad. When the directory
// cannot be reached, the batch stops there: the rest stays unacknowledged and comes again.
import {
  decodeSession,
  encodeBase64url,
  encodeSession,
  isFoldedUsername,
  receiveSealed,
  type CryptoProvider,
  type IdentityKeyPair,
  type Rng,
  type SealedReceived,
} from '@sotto/protocol';
import { ClientError, isClientError } from '../errors.ts';
import { bytesEqual, toHex } from '../internal/bytes.ts';
import { decodeContent, isCallSignal, type CallSignalBody, type Content, type FileContent } from '../content/content.ts';
import { CALL_OFFER_MAX_AGE_MS } from '../limits.ts';
import { observeIdentityKey, sendDecision, senderStateFor, type TrustState } from '../trust/trust-store.ts';
import { StatePrekeyStore } from './prekeys.ts';
import { seenAnywhere, withSeen, type ClientState } from './state.ts';
import type { FileRef, ReceivedMessage } from './types.ts';

/** One queued message as the server delivers it (docs/protocol/09 §9.8). */
export interface IncomingMessage {
  readonly id: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
}

/** What the directory says of a username (docs/protocol/09 §9.6). */
export interface DirectoryEntry {
  readonly identityKey: Uint8Array;
  readonly devices: readonly number[];
}

export interface ReceiveContext {
  readonly crypto: CryptoProvider;
  readonly rng: Rng;
  readonly identity: IdentityKeyPair;
  readonly now: number;
  /** Whether a fresh call offer may ring (an `onIncomingCall` handler is registered); else it is a missed call. */
  readonly ringable?: boolean;
  /** GET /v1/accounts/{username}; ERR_NOT_FOUND for no such account, ERR_NETWORK & co. otherwise. */
  lookup(username: string): Promise<DirectoryEntry>;
}

/** Delivery receipts to send for a sender (docs/protocol/10 §10.2), to the key and device the messages came from. */
export interface ReceiptPlan {
  readonly username: string;
  readonly identityKey: Uint8Array;
  readonly deviceId: number;
  readonly ids: Uint8Array[];
}

/** A call-signalling body from an authenticated sender, for the call manager (docs/protocol/11 §11.6). */
export interface CallSignal {
  /** The message (queue) id, hex: the call manager drops one it has routed already. */
  readonly id: string;
  readonly from: string;
  /** The key the envelope was sealed and signed with, and the sender's device. */
  readonly identityKey: Uint8Array;
  readonly deviceId: number;
  readonly senderState: TrustState;
  readonly sentAt: number;
  readonly body: CallSignalBody;
}

export interface BatchResult {
  readonly state: ClientState;
  /** The messages for the application, in queue order (also appended to `state.inbox`). */
  readonly messages: ReceivedMessage[];
  /** The ids to acknowledge: every message handled, kept or dropped (a prefix of the batch). */
  readonly handled: Uint8Array[];
  readonly receipts: ReceiptPlan[];
  /** Call-signalling bodies in queue order, persisted nowhere but the seen ids (never in the inbox). */
  readonly calls: CallSignal[];
  /** Why messages were dropped (ERR_MESSAGE_REJECTED with the cause). */
  readonly rejected: ClientError[];
  /** Set when the batch stopped early (the directory could not be asked); the rest comes again. */
  readonly stoppedBy: ClientError | undefined;
}

function rejected(message: string, cause?: unknown): ClientError {
  return new ClientError('ERR_MESSAGE_REJECTED', message, cause === undefined ? undefined : { cause });
}

export async function processBatch(initial: ClientState, batch: readonly IncomingMessage[], ctx: ReceiveContext): Promise<BatchResult> {
  let state = initial;
  const messages: ReceivedMessage[] = [];
  const handled: Uint8Array[] = [];
  const receipts = new Map<string, ReceiptPlan>();
  const rejections: ClientError[] = [];
  const calls: CallSignal[] = [];
  let stoppedBy: ClientError | undefined;

  for (const m of batch) {
    const idHex = toHex(m.id);
    if (seenAnywhere(state.seen, idHex)) {
      handled.push(m.id); //                                             step 1 (§10.5)
      continue;
    }
    const prekeys = new StatePrekeyStore(ctx.crypto, state.prekeys);
    const sessions = state.sessions;
    let r: SealedReceived;
    try {
      r = await receiveSealed(ctx.crypto, ctx.rng, {
        identity: ctx.identity,
        now: ctx.now,
        prekeys,
        session: (key) => {
          const b = sessions.get(toHex(key));
          return b === undefined ? undefined : decodeSession(b);
        },
      }, m.envelope); //                                                step 2
    } catch (e) {
      handled.push(m.id);
      rejections.push(rejected('an envelope did not open or decrypt', e));
      continue;
    }
    const username = r.sender.username;
    const key = r.sender.identityKey;
    if (!isFoldedUsername(username)) {
      handled.push(m.id);
      rejections.push(rejected('the sender certificate names no valid username'));
      continue;
    }
    let trust = state.trust; //                                          step 3 (§10.4)
    const known = trust.get(username);
    let senderState: TrustState | undefined = known === undefined ? undefined : senderStateFor(known, key);
    if (senderState === undefined) {
      let entry: DirectoryEntry;
      try {
        entry = await ctx.lookup(username);
      } catch (e) {
        if (isClientError(e, 'ERR_NOT_FOUND')) {
          handled.push(m.id);
          rejections.push(rejected('the sender certificate names a username the directory does not know', e));
          continue;
        }
        stoppedBy = e instanceof ClientError ? e : new ClientError('ERR_NETWORK', 'the directory could not be asked', { cause: e });
        break;
      }
      if (!bytesEqual(entry.identityKey, key) || !entry.devices.includes(r.sender.deviceId)) {
        handled.push(m.id);
        rejections.push(rejected("the sender certificate claims a username with another key than the directory's (forged sender)"));
        continue;
      }
      const observed = observeIdentityKey(trust, username, key, ctx.now);
      trust = observed.store;
      senderState = senderStateFor(observed.contact, key) ?? 'changed';
    }
    // From here the sender is authenticated: its session state is kept whatever the content holds.
    const sessionHex = toHex(key);
    const nextSessions = new Map(state.sessions);
    nextSessions.set(sessionHex, encodeSession(r.session));
    state = { ...state, trust, prekeys: prekeys.state, sessions: nextSessions };
    handled.push(m.id);

    let content: Content;
    try {
      content = decodeContent(r.plaintext); //                          step 4
    } catch (e) {
      rejections.push(rejected('the content does not decode', e));
      continue;
    }
    if (!bytesEqual(content.id, m.id)) {
      rejections.push(rejected('the content id differs from the queue id'));
      continue;
    }
    // Step 5. Sends go to one key per contact, and to none while it is changed (§10.4); only that
    // key's holder sets the profile key they are sealed with (docs/protocol/09 §9.7), and only it gets
    // receipts (a receipt is a send too).
    const contact = state.trust.get(username);
    const decision = contact === undefined ? undefined : sendDecision(contact);
    const sendsHere = decision?.allowed === true && bytesEqual(decision.key, key);
    let profiles = state.profiles;
    const knownProfileKey = profiles.get(username);
    if (sendsHere && (knownProfileKey === undefined || !bytesEqual(knownProfileKey, content.profileKey))) {
      // Only a new or changed profile key makes a new map: an unchanged one must not rewrite the
      // profiles entry on every message received (src/messaging/state.ts stateChanges).
      const next = new Map(profiles);
      next.set(username, content.profileKey);
      profiles = next;
    }
    state = { ...state, seen: withSeen(state.seen, username, idHex), profiles };

    const id = encodeBase64url(content.id);
    const base = { from: username, sentAt: content.sentAt, receivedAt: m.receivedAt };
    let message: ReceivedMessage;
    const body = content.body;
    if (isCallSignal(body)) {
      // docs/protocol/11 §11.6: an offer rings only when it is fresh (either way from our clock), comes
      // from the key sends go to (never from a `changed` contact, §10.4) and something can ring.
      const fresh = Math.abs(ctx.now - content.sentAt) <= CALL_OFFER_MAX_AGE_MS;
      if (body.type === 'call-offer' && (!fresh || !sendsHere || senderState === 'changed' || ctx.ringable !== true)) {
        messages.push({ kind: 'missed-call', id, ...base, call: encodeBase64url(body.call), senderState });
      } else {
        calls.push({ id: idHex, from: username, identityKey: key, deviceId: r.sender.deviceId, senderState, sentAt: content.sentAt, body });
      }
      continue;
    }
    if (body.type === 'delivered') {
      message = { kind: 'delivered', ...base, ids: body.ids.map(encodeBase64url) };
    } else {
      if (body.type === 'text') {
        message = { kind: 'text', id, ...base, text: body.text, senderState };
      } else if (body.type === 'file') {
        message = { kind: 'file', id, ...base, file: fileRef(body.file), senderState };
      } else {
        // A voicemail is shown and played like a message (§11.6), so it gets a receipt like one.
        message = { kind: 'voicemail', id, ...base, call: encodeBase64url(body.call), file: fileRef(body.file), durationMs: body.durationMs, senderState };
      }
      if (sendsHere) {
        const plan = receipts.get(username) ?? { username, identityKey: key, deviceId: r.sender.deviceId, ids: [] };
        plan.ids.push(content.id);
        receipts.set(username, plan);
      }
    }
    messages.push(message);
  }
  if (messages.length > 0) state = { ...state, inbox: [...state.inbox, ...messages] };
  return { state, messages, handled, receipts: [...receipts.values()], calls, rejected: rejections, stoppedBy };
}

function fileRef(f: FileContent): FileRef {
  return { attachment: encodeBase64url(f.attachment), key: encodeBase64url(f.key), digest: encodeBase64url(f.digest), size: f.size, name: f.name, mime: f.mime };
}
