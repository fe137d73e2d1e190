// The trust store (docs/protocol/10 §10.4; DESIGN.md "Trust: the user chooses, the product
// cross-checks"): per contact (folded username) the identity key this device trusts, a state, and
// when the state was set. Pure transitions over an immutable map (STYLE.md §5): every function returns
// a new store and leaves its input untouched; a refused transition throws a typed error and changes
// nothing. Persistence is the caller's (src/messaging/state.ts writes it through the keystore).
//
//   (none) --observe k--------------------------> unverified(k)                 first use (TOFU)
//   unverified(k) / verified(k) --observe k-----> unchanged
//   unverified(k) / verified(k) --observe k'----> changed(k, new k', wasVerified) the old key is kept
//   changed(k, k') --observe k''-----------------> changed(k, new k'')           the latest key is shown
//   changed(k, k') --observe k or k'-------------> unchanged
//   any --verify (digits of the current key)----> verified(current key, method)
//   changed(k, k') --accept---------------------> unverified(k')
// Sending (sendDecision): to k in unverified(k) and verified(k); refused in changed, whatever the
// state before, until verify or accept.
import { ClientError } from '../errors.ts';
import { bytesEqual } from '../internal/bytes.ts';

/** docs/protocol/10 §10.4. */
export type TrustState = 'unverified' | 'verified' | 'changed';
/** How a contact was verified (DESIGN.md "Trust"); more methods arrive with SMP and organisation CAs. */
export type VerificationMethod = 'safety-number' | 'qr' | 'sas';
export const VERIFICATION_METHODS: readonly VerificationMethod[] = ['safety-number', 'qr', 'sas'];

/** One contact's trust record, as the UI shows it. */
export interface Contact {
  readonly username: string;
  readonly state: TrustState;
  /** When verified: how. */
  readonly method?: VerificationMethod;
  /** When changed: whether the previous key had been verified (sending is refused either way; this
   *  says which advice the user gets, docs/protocol/10 §10.4). */
  readonly wasVerified?: boolean;
  /** The trusted key: the one seen first, or the one the user verified or accepted. */
  readonly identityKey: Uint8Array;
  /** When changed: the key that appeared (the latest one, if several did). */
  readonly newIdentityKey?: Uint8Array;
  /** Milliseconds since the epoch when the state was set. */
  readonly since: number;
}

/** All contacts by folded username. */
export type TrustStore = ReadonlyMap<string, Contact>;

export const EMPTY_TRUST_STORE: TrustStore = new Map();

/** What observing a key did: a new contact, nothing, or a (new) change. */
export type KeyObservation = 'first-use' | 'same' | 'changed';

function checkNow(now: number): void {
  if (!Number.isSafeInteger(now) || now < 0) throw new ClientError('ERR_ARGUMENT', `now: expected milliseconds since the epoch, got ${now}`);
}

function withContact(store: TrustStore, contact: Contact): TrustStore {
  const next = new Map(store);
  next.set(contact.username, contact);
  return next;
}

/** The key of `contact` that a safety number or a verification is about: the new one when changed
 *  (what the user is asked to check before sends resume, docs/protocol/10 §10.4). */
export function currentKey(contact: Contact): Uint8Array {
  return contact.state === 'changed' && contact.newIdentityKey !== undefined ? contact.newIdentityKey : contact.identityKey;
}

/**
 * docs/protocol/10 §10.4: a key was seen for `username` (account lookup, bundle fetch, or the sender
 * certificate of a sealed message). First use trusts it; a different key moves the contact to
 * `changed`, keeping the trusted key.
 */
export function observeIdentityKey(store: TrustStore, username: string, key: Uint8Array, now: number): { store: TrustStore; contact: Contact; observation: KeyObservation } {
  checkNow(now);
  const known = store.get(username);
  if (known === undefined) {
    const contact: Contact = { username, state: 'unverified', identityKey: key.slice(), since: now };
    return { store: withContact(store, contact), contact, observation: 'first-use' };
  }
  if (bytesEqual(known.identityKey, key)) return { store, contact: known, observation: 'same' };
  if (known.state === 'changed') {
    if (known.newIdentityKey !== undefined && bytesEqual(known.newIdentityKey, key)) return { store, contact: known, observation: 'same' };
    const contact: Contact = { ...known, newIdentityKey: key.slice(), since: now };
    return { store: withContact(store, contact), contact, observation: 'changed' };
  }
  const contact: Contact = {
    username,
    state: 'changed',
    wasVerified: known.state === 'verified',
    identityKey: known.identityKey,
    newIdentityKey: key.slice(),
    since: now,
  };
  return { store: withContact(store, contact), contact, observation: 'changed' };
}

/** What a send to `contact` may do (docs/protocol/10 §10.4 "sending" column). A refusal says whether
 *  the contact had been verified before its key changed, so the user is told what to do. */
export type SendDecision =
  | { readonly allowed: true; readonly key: Uint8Array }
  | { readonly allowed: false; readonly wasVerified: boolean };

/** Unverified and verified contacts: send to the trusted key. Changed — whether or not it had been
 *  verified — refused until the user verifies the new key or accepts it (DESIGN.md "Trust": sends to a
 *  changed contact need confirmation), so a substituted key of any existing contact is caught before
 *  anything is encrypted to it. Only first contact is trust on first use. */
export function sendDecision(contact: Contact): SendDecision {
  if (contact.state === 'changed') return { allowed: false, wasVerified: contact.wasVerified === true };
  return { allowed: true, key: contact.identityKey };
}

/** The contact as a message from `key` is shown: its state, and whether `key` is one this store
 *  knows for it at all (false: the caller observes it first). */
export function senderStateFor(contact: Contact, key: Uint8Array): TrustState | undefined {
  if (bytesEqual(contact.identityKey, key)) return contact.state;
  if (contact.newIdentityKey !== undefined && bytesEqual(contact.newIdentityKey, key)) return 'changed';
  return undefined;
}

function mustGet(store: TrustStore, username: string): Contact {
  const c = store.get(username);
  if (c === undefined) throw new ClientError('ERR_NOT_FOUND', 'expected a known contact, got none with that name');
  return c;
}

/**
 * The user checked the contact's current key out of band (the caller compared the digits or the
 * scanned payload first): state = verified with that key and `method`. The previous trusted key is
 * gone from the record (sessions with it are the caller's to drop).
 */
export function markVerified(store: TrustStore, username: string, method: VerificationMethod, now: number): { store: TrustStore; contact: Contact; previousKey: Uint8Array } {
  checkNow(now);
  if (!VERIFICATION_METHODS.includes(method)) throw new ClientError('ERR_ARGUMENT', `method: expected one of ${VERIFICATION_METHODS.join(', ')}`);
  const known = mustGet(store, username);
  const contact: Contact = { username, state: 'verified', method, identityKey: currentKey(known).slice(), since: now };
  return { store: withContact(store, contact), contact, previousKey: known.identityKey };
}

/** `trust --accept-new-key`: a changed contact becomes unverified with the new key. ERR_TRUST_STATE
 *  when the contact is not changed (nothing to accept). */
export function acceptNewKey(store: TrustStore, username: string, now: number): { store: TrustStore; contact: Contact; previousKey: Uint8Array } {
  checkNow(now);
  const known = mustGet(store, username);
  if (known.state !== 'changed' || known.newIdentityKey === undefined) {
    throw new ClientError('ERR_TRUST_STATE', `expected a contact in state changed, got ${known.state}`);
  }
  const contact: Contact = { username, state: 'unverified', identityKey: known.newIdentityKey.slice(), since: now };
  return { store: withContact(store, contact), contact, previousKey: known.identityKey };
}
