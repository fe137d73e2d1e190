// The device's local state and how it is kept in the keystore. One keystore entry per part, so a
// change rewrites only what changed in memory — but the software keystore rewrites its whole file on
// every write, so every operation collects its changes and commits them with ONE `Keystore.update`
// (atomic: a crash leaves all of an operation's changes or none, docs/protocol/10 §10.1).
//
// | entry              | holds                                                                    |
// |--------------------|--------------------------------------------------------------------------|
// | `account`          | username, device id, server URL, identity seed, profile key, progress    |
// | `prekeys`          | private prekeys (signed, last resort, one-time), id counters, replay log |
// | `trust`            | the trust store (src/trust/trust-codec.ts)                               |
// | `profiles`         | contacts' profile keys (docs/protocol/09 §9.7), by username              |
// | `seen`             | the last MAX_SEEN_IDS message ids per contact (docs/protocol/10 §10.5)   |
// | `outbox`           | sealed messages not yet acknowledged by the server (§10.5)               |
// | `inbox`            | received messages persisted but not yet handed to the application (§10.1) |
// | `session/<hex IK>` | the encoded session with the peer whose identity key that is             |
//
// Records are JSON with hex for bytes; sessions are @sotto/protocol's `encodeSession` bytes.
import { ClientError } from '../errors.ts';
import type { Keystore } from '../keystore/keystore.ts';
import { MAX_SEEN_IDS } from '../limits.ts';
import { asArray, asBool, asHex, asInt, asObject, asString, hex, parseRecord, serialize, type Json } from '../internal/state-json.ts';
import { decodeTrustStore, encodeTrustStore } from '../trust/trust-codec.ts';
import { EMPTY_TRUST_STORE, type TrustState, type TrustStore } from '../trust/trust-store.ts';
import type { FileRef, ReceivedMessage } from './types.ts';

const RECORD_VERSION = 1;
export const ENTRY_ACCOUNT = 'account';
export const ENTRY_PREKEYS = 'prekeys';
export const ENTRY_TRUST = 'trust';
export const ENTRY_PROFILES = 'profiles';
export const ENTRY_SEEN = 'seen';
export const ENTRY_OUTBOX = 'outbox';
export const ENTRY_INBOX = 'inbox';
const SESSION_PREFIX = 'session/';

export function sessionEntry(identityKeyHex: string): string {
  return SESSION_PREFIX + identityKeyHex;
}

export interface AccountRecord {
  /** Folded username (docs/protocol/09 §9.2). */
  readonly username: string;
  readonly deviceId: number;
  readonly serverUrl: string;
  /** The Ed25519 identity seed (docs/protocol/03 §3.1). */
  readonly identitySeed: Uint8Array;
  /** Our profile key (docs/protocol/09 §9.7). */
  readonly profileKey: Uint8Array;
  /** POST /v1/accounts succeeded (createAccount keeps the keystore on a network failure and finishes later). */
  readonly registered: boolean;
  /** The first PUT /v1/keys succeeded. */
  readonly prekeysUploaded: boolean;
}

/** An X25519 prekey (signed or one-time) as kept: id, private scalar, the identity's signature. */
export interface X25519PrekeyRecord {
  readonly id: number;
  readonly secret: Uint8Array;
  readonly signature: Uint8Array;
}

/** An ML-KEM-1024 prekey as kept: id, FIPS 203 seed, signature, last-resort flag. */
export interface KemPrekeyRecord {
  readonly id: number;
  readonly seed: Uint8Array;
  readonly signature: Uint8Array;
  readonly lastResort: boolean;
}

export interface PrekeyState {
  readonly signed: X25519PrekeyRecord;
  readonly lastResort: KemPrekeyRecord;
  readonly oneTime: ReadonlyMap<number, X25519PrekeyRecord>;
  readonly kem: ReadonlyMap<number, KemPrekeyRecord>;
  /** docs/protocol/08 §8.5: "kemPrekeyId:hex(baseKey)" of every accepted use of the last-resort key. */
  readonly lastResortUses: ReadonlySet<string>;
  readonly nextOneTimeId: number;
  /** KEM ids are one space for one-time and last-resort keys (a bundle names a KEM prekey by id alone). */
  readonly nextKemId: number;
}

/** A sealed message waiting for the server's acknowledgement (docs/protocol/10 §10.5). */
export interface OutboxItem {
  readonly id: Uint8Array;
  readonly to: string;
  readonly deviceId: number;
  readonly envelope: Uint8Array;
  readonly kind: 'text' | 'file' | 'delivered' | 'voicemail';
  readonly sentAt: number;
}

export interface ClientState {
  readonly account: AccountRecord;
  readonly prekeys: PrekeyState;
  readonly trust: TrustStore;
  readonly profiles: ReadonlyMap<string, Uint8Array>;
  /** Per contact, hex message ids oldest first (at most MAX_SEEN_IDS each). */
  readonly seen: ReadonlyMap<string, readonly string[]>;
  readonly outbox: readonly OutboxItem[];
  /** Received messages stored durably before they were acknowledged, until the application has them. */
  readonly inbox: readonly ReceivedMessage[];
  /** Encoded sessions by hex identity key of the peer. */
  readonly sessions: ReadonlyMap<string, Uint8Array>;
}

// ---------------------------------------------------------------------------------------------
// Codecs

function corrupt(what: string, message: string): ClientError {
  return new ClientError('ERR_STATE_CORRUPT', `${what}: ${message}`);
}

function checkVersion(r: Record<string, unknown>, what: string): void {
  if (r.v !== RECORD_VERSION) throw corrupt(what, `expected version ${RECORD_VERSION}`);
}

export function encodeAccount(a: AccountRecord): Uint8Array {
  return serialize({
    v: RECORD_VERSION,
    username: a.username,
    deviceId: a.deviceId,
    serverUrl: a.serverUrl,
    identitySeed: hex(a.identitySeed),
    profileKey: hex(a.profileKey),
    registered: a.registered,
    prekeysUploaded: a.prekeysUploaded,
  });
}

export function decodeAccount(bytes: Uint8Array): AccountRecord {
  const r = parseRecord(bytes, 'account');
  checkVersion(r, 'account');
  return {
    username: asString(r.username, 'account username'),
    deviceId: asInt(r.deviceId, 'account device id'),
    serverUrl: asString(r.serverUrl, 'account server URL'),
    identitySeed: asHex(r.identitySeed, 'identity seed', 32),
    profileKey: asHex(r.profileKey, 'profile key', 32),
    registered: asBool(r.registered, 'account registered'),
    prekeysUploaded: asBool(r.prekeysUploaded, 'account prekeys uploaded'),
  };
}

const x25519Json = (k: X25519PrekeyRecord): Json => ({ id: k.id, secret: hex(k.secret), signature: hex(k.signature) });
const kemJson = (k: KemPrekeyRecord): Json => ({ id: k.id, seed: hex(k.seed), signature: hex(k.signature), lastResort: k.lastResort });

function x25519From(v: unknown, what: string): X25519PrekeyRecord {
  const o = asObject(v, what);
  return { id: asInt(o.id, `${what} id`), secret: asHex(o.secret, `${what} secret`, 32), signature: asHex(o.signature, `${what} signature`, 64) };
}

function kemFrom(v: unknown, what: string): KemPrekeyRecord {
  const o = asObject(v, what);
  return {
    id: asInt(o.id, `${what} id`),
    seed: asHex(o.seed, `${what} seed`, 64),
    signature: asHex(o.signature, `${what} signature`, 64),
    lastResort: asBool(o.lastResort, `${what} last-resort flag`),
  };
}

export function encodePrekeys(p: PrekeyState): Uint8Array {
  return serialize({
    v: RECORD_VERSION,
    signed: x25519Json(p.signed),
    lastResort: kemJson(p.lastResort),
    oneTime: [...p.oneTime.values()].map(x25519Json),
    kem: [...p.kem.values()].map(kemJson),
    lastResortUses: [...p.lastResortUses],
    nextOneTimeId: p.nextOneTimeId,
    nextKemId: p.nextKemId,
  });
}

export function decodePrekeys(bytes: Uint8Array): PrekeyState {
  const r = parseRecord(bytes, 'prekeys');
  checkVersion(r, 'prekeys');
  const oneTime = new Map<number, X25519PrekeyRecord>();
  for (const v of asArray(r.oneTime, 'one-time prekeys')) {
    const k = x25519From(v, 'one-time prekey');
    oneTime.set(k.id, k);
  }
  const kem = new Map<number, KemPrekeyRecord>();
  for (const v of asArray(r.kem, 'KEM prekeys')) {
    const k = kemFrom(v, 'KEM prekey');
    if (k.lastResort) throw corrupt('KEM prekey', 'expected a one-time key in the one-time list');
    kem.set(k.id, k);
  }
  const lastResort = kemFrom(r.lastResort, 'last-resort KEM prekey');
  if (!lastResort.lastResort) throw corrupt('last-resort KEM prekey', 'expected the last-resort flag');
  return {
    signed: x25519From(r.signed, 'signed prekey'),
    lastResort,
    oneTime,
    kem,
    lastResortUses: new Set(asArray(r.lastResortUses, 'last-resort uses').map((v) => asString(v, 'last-resort use'))),
    nextOneTimeId: asInt(r.nextOneTimeId, 'next one-time id'),
    nextKemId: asInt(r.nextKemId, 'next KEM id'),
  };
}

export function encodeProfiles(p: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const profiles: Record<string, Json> = {};
  for (const [u, k] of [...p].sort(([a], [b]) => (a < b ? -1 : 1))) profiles[u] = hex(k);
  return serialize({ v: RECORD_VERSION, profiles });
}

export function decodeProfiles(bytes: Uint8Array): Map<string, Uint8Array> {
  const r = parseRecord(bytes, 'profiles');
  checkVersion(r, 'profiles');
  const out = new Map<string, Uint8Array>();
  for (const [u, k] of Object.entries(asObject(r.profiles, 'profiles'))) out.set(u, asHex(k, 'profile key', 32));
  return out;
}

export function encodeSeen(s: ReadonlyMap<string, readonly string[]>): Uint8Array {
  const seen: Record<string, Json> = {};
  for (const [u, ids] of s) seen[u] = [...ids];
  return serialize({ v: RECORD_VERSION, seen });
}

export function decodeSeen(bytes: Uint8Array): Map<string, readonly string[]> {
  const r = parseRecord(bytes, 'seen ids');
  checkVersion(r, 'seen ids');
  const out = new Map<string, readonly string[]>();
  for (const [u, ids] of Object.entries(asObject(r.seen, 'seen ids'))) {
    out.set(u, asArray(ids, 'seen ids').map((v) => hex(asHex(v, 'seen id', 16))));
  }
  return out;
}

export function encodeOutbox(items: readonly OutboxItem[]): Uint8Array {
  return serialize({
    v: RECORD_VERSION,
    items: items.map((i) => ({ id: hex(i.id), to: i.to, deviceId: i.deviceId, envelope: hex(i.envelope), kind: i.kind, sentAt: i.sentAt })),
  });
}

const OUTBOX_KINDS: readonly OutboxItem['kind'][] = ['text', 'file', 'delivered', 'voicemail'];

export function decodeOutbox(bytes: Uint8Array): OutboxItem[] {
  const r = parseRecord(bytes, 'outbox');
  checkVersion(r, 'outbox');
  return asArray(r.items, 'outbox items').map((v) => {
    const o = asObject(v, 'outbox item');
    const kind = asString(o.kind, 'outbox kind') as OutboxItem['kind'];
    if (!OUTBOX_KINDS.includes(kind)) throw corrupt('outbox item', 'unknown kind');
    return {
      id: asHex(o.id, 'outbox id', 16),
      to: asString(o.to, 'outbox recipient'),
      deviceId: asInt(o.deviceId, 'outbox device id'),
      envelope: asHex(o.envelope, 'outbox envelope'),
      kind,
      sentAt: asInt(o.sentAt, 'outbox sentAt'),
    };
  });
}

export function encodeInbox(items: readonly ReceivedMessage[]): Uint8Array {
  return serialize({ v: RECORD_VERSION, items: items.map((m) => JSON.parse(JSON.stringify(m)) as Json) });
}

const TRUST_STATES: readonly TrustState[] = ['unverified', 'verified', 'changed'];

function trustStateFrom(v: unknown): TrustState {
  const s = asString(v, 'inbox sender state') as TrustState;
  if (!TRUST_STATES.includes(s)) throw corrupt('inbox message', 'unknown sender state');
  return s;
}

function fileRefFrom(v: unknown): FileRef {
  const o = asObject(v, 'inbox file');
  return {
    attachment: asString(o.attachment, 'inbox attachment'),
    key: asString(o.key, 'inbox file key'),
    digest: asString(o.digest, 'inbox file digest'),
    size: asInt(o.size, 'inbox file size'),
    name: asString(o.name, 'inbox file name'),
    mime: asString(o.mime, 'inbox file mime'),
  };
}

export function decodeInbox(bytes: Uint8Array): ReceivedMessage[] {
  const r = parseRecord(bytes, 'inbox');
  checkVersion(r, 'inbox');
  return asArray(r.items, 'inbox items').map((v): ReceivedMessage => {
    const o = asObject(v, 'inbox message');
    const from = asString(o.from, 'inbox sender');
    const sentAt = asInt(o.sentAt, 'inbox sentAt');
    const receivedAt = asInt(o.receivedAt, 'inbox receivedAt');
    switch (o.kind) {
      case 'text':
        return { kind: 'text', id: asString(o.id, 'inbox id'), from, sentAt, receivedAt, text: asString(o.text, 'inbox text'), senderState: trustStateFrom(o.senderState) };
      case 'file':
        return { kind: 'file', id: asString(o.id, 'inbox id'), from, sentAt, receivedAt, file: fileRefFrom(o.file), senderState: trustStateFrom(o.senderState) };
      case 'delivered':
        return { kind: 'delivered', from, sentAt, receivedAt, ids: asArray(o.ids, 'inbox receipt ids').map((x) => asString(x, 'inbox receipt id')) };
      case 'voicemail':
        return {
          kind: 'voicemail',
          id: asString(o.id, 'inbox id'),
          from,
          sentAt,
          receivedAt,
          call: asString(o.call, 'inbox call id'),
          file: fileRefFrom(o.file),
          durationMs: asInt(o.durationMs, 'inbox voicemail duration'),
          senderState: trustStateFrom(o.senderState),
        };
      case 'missed-call':
        return { kind: 'missed-call', id: asString(o.id, 'inbox id'), from, sentAt, receivedAt, call: asString(o.call, 'inbox call id'), senderState: trustStateFrom(o.senderState) };
      default:
        throw corrupt('inbox message', 'unknown kind');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Loading and committing

/** Reads the whole state. ERR_STATE_CORRUPT when the keystore holds no account (not a client's). */
export async function loadState(ks: Keystore): Promise<ClientState> {
  const accountBytes = await ks.get(ENTRY_ACCOUNT);
  const prekeyBytes = await ks.get(ENTRY_PREKEYS);
  if (accountBytes === undefined || prekeyBytes === undefined) throw corrupt('keystore', 'expected a Sotto account in the keystore, found none');
  const get = async <T>(name: string, decode: (b: Uint8Array) => T, empty: T): Promise<T> => {
    const b = await ks.get(name);
    return b === undefined ? empty : decode(b);
  };
  const sessions = new Map<string, Uint8Array>();
  for (const name of await ks.names()) {
    if (!name.startsWith(SESSION_PREFIX)) continue;
    const b = await ks.get(name);
    if (b !== undefined) sessions.set(name.slice(SESSION_PREFIX.length), b);
  }
  return {
    account: decodeAccount(accountBytes),
    prekeys: decodePrekeys(prekeyBytes),
    trust: await get(ENTRY_TRUST, decodeTrustStore, EMPTY_TRUST_STORE),
    profiles: await get(ENTRY_PROFILES, decodeProfiles, new Map()),
    seen: await get(ENTRY_SEEN, decodeSeen, new Map()),
    outbox: await get(ENTRY_OUTBOX, decodeOutbox, []),
    inbox: await get(ENTRY_INBOX, decodeInbox, []),
    sessions,
  };
}

/** The keystore writes that turn `before` into `after` (parts compared by identity: every
 *  transition returns a new object for what it changed and the same object for what it did not). */
export function stateChanges(before: ClientState | undefined, after: ClientState): Map<string, Uint8Array | null> {
  const out = new Map<string, Uint8Array | null>();
  if (before?.account !== after.account) out.set(ENTRY_ACCOUNT, encodeAccount(after.account));
  if (before?.prekeys !== after.prekeys) out.set(ENTRY_PREKEYS, encodePrekeys(after.prekeys));
  if (before?.trust !== after.trust) out.set(ENTRY_TRUST, encodeTrustStore(after.trust));
  if (before?.profiles !== after.profiles) out.set(ENTRY_PROFILES, encodeProfiles(after.profiles));
  if (before?.seen !== after.seen) out.set(ENTRY_SEEN, encodeSeen(after.seen));
  if (before?.outbox !== after.outbox) out.set(ENTRY_OUTBOX, encodeOutbox(after.outbox));
  if (before?.inbox !== after.inbox) out.set(ENTRY_INBOX, encodeInbox(after.inbox));
  if (before?.sessions !== after.sessions) {
    for (const [k, v] of after.sessions) if (before?.sessions.get(k) !== v) out.set(sessionEntry(k), v);
    if (before !== undefined) for (const k of before.sessions.keys()) if (!after.sessions.has(k)) out.set(sessionEntry(k), null);
  }
  return out;
}

// Membership of the seen ids, across contacts: how many contacts' lists hold each id. Every received
// message asks it (receive.ts step 1), and scanning the lists — up to MAX_SEEN_IDS per contact — made
// each message cost as much as every id seen so far. An index belongs to one snapshot of `seen` (the
// state is immutable: a batch that fails is retried from the snapshot before it); withSeen moves it
// to the snapshot it makes, updated in O(1), and a snapshot without one gets it built once.
const seenIndexes = new WeakMap<ReadonlyMap<string, readonly string[]>, Map<string, number>>();

function seenIndex(seen: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  let index = seenIndexes.get(seen);
  if (index === undefined) {
    index = new Map();
    for (const ids of seen.values()) for (const id of ids) index.set(id, (index.get(id) ?? 0) + 1);
    seenIndexes.set(seen, index);
  }
  return index;
}

/** Adds `id` to the contact's seen list, dropping the oldest beyond MAX_SEEN_IDS (docs/protocol/10 §10.5). */
export function withSeen(seen: ReadonlyMap<string, readonly string[]>, username: string, idHex: string): Map<string, readonly string[]> {
  const list = [...(seen.get(username) ?? []), idHex];
  const kept = list.length > MAX_SEEN_IDS ? list.slice(list.length - MAX_SEEN_IDS) : list;
  const next = new Map(seen);
  next.set(username, kept);
  const index = seenIndexes.get(seen);
  if (index !== undefined) {
    // The index moves to the new snapshot; the old one builds its own again if it is ever asked.
    seenIndexes.delete(seen);
    index.set(idHex, (index.get(idHex) ?? 0) + 1);
    for (const dropped of list.slice(0, list.length - kept.length)) {
      const n = (index.get(dropped) ?? 0) - 1;
      if (n > 0) index.set(dropped, n);
      else index.delete(dropped);
    }
    seenIndexes.set(next, index);
  }
  return next;
}

/** True when any contact's seen list holds `idHex`. */
export function seenAnywhere(seen: ReadonlyMap<string, readonly string[]>, idHex: string): boolean {
  return seenIndex(seen).has(idHex);
}
