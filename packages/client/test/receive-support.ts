// Shared by the receive-pipeline tests (receive-batch.test.ts, calls-receive.test.ts): Bob's client
// state with fresh prekeys, and a sender that speaks the protocol directly (what another client, or an
// attacker, does) — sessions started from Bob's real bundle, envelopes sealed with a sender certificate.
import assert from 'node:assert/strict';
import { fastProvider as crypto } from '@sotto/crypto';
import {
  IdentityKeyPair,
  createSenderCertificate,
  decodePrekeyBundle,
  encodePrekeyBundle,
  initiateSession,
  sealEnvelope,
  sessionEncrypt,
  verifyPrekeyBundle,
  type Session,
} from '@sotto/protocol';
import { encodeContent, type ContentBody } from '@sotto/client';
import { currentPublicPrekeys, generateInitialPrekeys, oneTimePublicPrekeys } from '../src/messaging/prekeys.ts';
import type { IncomingMessage } from '../src/messaging/receive.ts';
import type { ClientState } from '../src/messaging/state.ts';

type Rng = (n: number) => Uint8Array;

/** The receive tests' clock: every envelope is sent at NOW − 5 (unless told) and received at NOW − 1. */
export const NOW = 1_800_000_000_000;

/** Bob (device 1), registered, with three of each one-time prekey and nothing else yet. */
export async function bobState(rng: Rng, identity: IdentityKeyPair): Promise<ClientState> {
  return {
    account: { username: 'bob', deviceId: 1, serverUrl: 'http://127.0.0.1:1', identitySeed: identity.exportSeed(), profileKey: rng(32), registered: true, prekeysUploaded: true },
    prekeys: await generateInitialPrekeys(crypto, rng, identity, 3),
    trust: new Map(),
    profiles: new Map(),
    seen: new Map(),
    outbox: [],
    inbox: [],
    sessions: new Map(),
  };
}

/** A sender that speaks the protocol directly, under the name its certificate claims. */
export class Sender {
  session: Session | undefined;
  readonly profileKey: Uint8Array;
  constructor(
    readonly rng: Rng,
    readonly identity: IdentityKeyPair,
    readonly claimedName: string,
  ) {
    this.profileKey = rng(32);
  }

  /** One queue entry for Bob carrying `body`: `id` is the queue id, `contentId` the content's own. */
  async envelope(bob: IdentityKeyPair, state: ClientState, body: ContentBody, o: { sentAt?: number; id?: Uint8Array; contentId?: Uint8Array } = {}): Promise<IncomingMessage> {
    const rng = this.rng;
    const id = o.id ?? rng(16);
    if (this.session === undefined) {
      const fixed = await currentPublicPrekeys(crypto, state.prekeys);
      const ot = await oneTimePublicPrekeys(crypto, state.prekeys);
      const bundle = encodePrekeyBundle({ identityKey: bob.publicKey, signedPrekey: fixed.signedPrekey ?? assert.fail(), oneTimePrekey: ot.oneTime[0], kemPrekey: ot.kem[0] ?? assert.fail() });
      this.session = await initiateSession(crypto, rng, this.identity, await verifyPrekeyBundle(crypto, decodePrekeyBundle(bundle)));
    }
    const plaintext = encodeContent({ id: o.contentId ?? id, sentAt: o.sentAt ?? NOW - 5, profileKey: this.profileKey, body });
    const { session, message } = await sessionEncrypt(crypto, rng, this.session, plaintext);
    this.session = session;
    const certificate = await createSenderCertificate(crypto, this.identity, { username: this.claimedName, deviceId: 1, expiresAt: NOW + 60_000 });
    const envelope = await sealEnvelope(crypto, rng, { sender: this.identity, certificate, recipient: bob.publicKey, contentType: message.kind, content: message.bytes });
    return { id, envelope, receivedAt: NOW - 1 };
  }
}
