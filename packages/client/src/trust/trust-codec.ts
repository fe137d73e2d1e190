// Persistence of the trust store (src/trust/trust-store.ts) as one keystore entry: a JSON record
// { "v": 1, "contacts": [ {username, state, method?, wasVerified?, identityKey (hex), newIdentityKey?, since} ] }.
import { ClientError } from '../errors.ts';
import { asArray, asBool, asHex, asInt, asObject, asString, hex, optional, parseRecord, serialize, type Json } from '../internal/state-json.ts';
import { VERIFICATION_METHODS, type Contact, type TrustState, type TrustStore, type VerificationMethod } from './trust-store.ts';

const TRUST_RECORD_VERSION = 1;
const STATES: readonly TrustState[] = ['unverified', 'verified', 'changed'];
const IDENTITY_KEY_BYTES = 32;

export function encodeTrustStore(store: TrustStore): Uint8Array {
  const contacts: Json[] = [...store.values()]
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
    .map((c) => {
      const o: Record<string, Json> = { username: c.username, state: c.state, identityKey: hex(c.identityKey), since: c.since };
      if (c.method !== undefined) o.method = c.method;
      if (c.wasVerified !== undefined) o.wasVerified = c.wasVerified;
      if (c.newIdentityKey !== undefined) o.newIdentityKey = hex(c.newIdentityKey);
      return o;
    });
  return serialize({ v: TRUST_RECORD_VERSION, contacts });
}

function corrupt(message: string): ClientError {
  return new ClientError('ERR_STATE_CORRUPT', `trust store: ${message}`);
}

export function decodeTrustStore(bytes: Uint8Array): TrustStore {
  const r = parseRecord(bytes, 'trust store');
  if (r.v !== TRUST_RECORD_VERSION) throw corrupt(`expected version ${TRUST_RECORD_VERSION}`);
  const out = new Map<string, Contact>();
  for (const item of asArray(r.contacts, 'trust store contacts')) {
    const o = asObject(item, 'contact');
    const username = asString(o.username, 'contact username');
    const state = asString(o.state, 'contact state') as TrustState;
    if (!STATES.includes(state)) throw corrupt('unknown contact state');
    const method = optional(o.method, (v) => asString(v, 'contact method') as VerificationMethod);
    if (method !== undefined && !VERIFICATION_METHODS.includes(method)) throw corrupt('unknown verification method');
    if ((state === 'verified') !== (method !== undefined)) throw corrupt('a method exactly when verified');
    const wasVerified = optional(o.wasVerified, (v) => asBool(v, 'contact wasVerified'));
    const newIdentityKey = optional(o.newIdentityKey, (v) => asHex(v, 'contact new identity key', IDENTITY_KEY_BYTES));
    if ((state === 'changed') !== (newIdentityKey !== undefined && wasVerified !== undefined)) throw corrupt('a new key and wasVerified exactly when changed');
    if (out.has(username)) throw corrupt('a contact listed twice');
    const contact: Contact = {
      username,
      state,
      identityKey: asHex(o.identityKey, 'contact identity key', IDENTITY_KEY_BYTES),
      since: asInt(o.since, 'contact since'),
      ...(method === undefined ? {} : { method }),
      ...(wasVerified === undefined ? {} : { wasVerified }),
      ...(newIdentityKey === undefined ? {} : { newIdentityKey }),
    };
    out.set(username, contact);
  }
  return out;
}
