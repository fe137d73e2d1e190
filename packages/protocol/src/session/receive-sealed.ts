// Receiving a sealed session message in one call (docs/protocol/08 §8.8): open the envelope, then
// hand its content to the session layer, enforcing docs/protocol/06 §6.9's cross-check that the
// session message comes from the same identity key that authenticated the envelope. For a prekey
// message the check runs on the decoded header, BEFORE any prekey is looked up or consumed, so an
// envelope that wraps someone else's first message can neither start a session nor use up a key.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider, Rng } from '../crypto/provider.ts';
import { constantTimeEqual } from '../internal/bytes.ts';
import type { IdentityKeyPair, IdentityPublicKey } from '../keys/identity.ts';
import { openEnvelope, type OpenedEnvelope } from '../sealed/sealed-sender.ts';
import { decodePrekeyMessage } from '../wire/prekey-message.ts';
import { acceptPrekeyMessage, sessionDecrypt, type PrekeyUse, type ResponderPrekeyStore, type Session } from './session.ts';

type MaybePromise<T> = T | Promise<T>;

export interface SealedReceiveContext {
  /** This device's identity (the envelope's recipient). */
  readonly identity: IdentityKeyPair;
  /** Milliseconds since the Unix epoch, for the sender certificate's expiry. */
  readonly now: number;
  /** The caller's prekeys, for prekey messages (consumed only after the message authenticates). */
  readonly prekeys: ResponderPrekeyStore;
  /** The current session with the peer whose identity key this is, if there is one. */
  session(remoteIdentityKey: IdentityPublicKey): MaybePromise<Session | undefined>;
}

export interface SealedReceived {
  /** Who sent it, as authenticated by the envelope (check it against the trust store, §6.9). */
  readonly sender: OpenedEnvelope['sender'];
  /** The new state of the session the message belongs to: persist it before acting on the plaintext. */
  readonly session: Session;
  readonly plaintext: Uint8Array;
  /** Set when the message started a new session: what the prekey store consumed. */
  readonly consumed: PrekeyUse | undefined;
}

/**
 * Opens `envelope` and decrypts the session message inside. Errors: everything `openEnvelope`,
 * `acceptPrekeyMessage` and `sessionDecrypt` raise; ERR_SEALED_SENDER_MISMATCH when the session
 * message is not from the envelope's authenticated sender; ERR_SESSION_MISMATCH for a ratchet message
 * from a sender without a session. Nothing changes on any error.
 */
export async function receiveSealed(crypto: CryptoProvider, rng: Rng, ctx: SealedReceiveContext, envelope: Uint8Array): Promise<SealedReceived> {
  const opened = await openEnvelope(crypto, ctx.identity, envelope, ctx.now);
  const sender = opened.sender;
  if (opened.contentType === 'prekey') {
    const header = decodePrekeyMessage(opened.content);
    // docs/protocol/06 §6.9: the initiator identity inside must be the key that sealed the envelope.
    if (!constantTimeEqual(header.identityKey, sender.identityKey)) {
      throw new ProtocolError('ERR_SEALED_SENDER_MISMATCH', 'the prekey message inside names another identity key than the envelope sender');
    }
    const existing = await ctx.session(sender.identityKey);
    if (existing !== undefined) {
      // A later prekey message of the PQXDH run that created the current session (docs/protocol/08 §8.4).
      try {
        const { session, plaintext } = await sessionDecrypt(crypto, rng, existing, opened.content);
        return { sender, session, plaintext, consumed: undefined };
      } catch (e) {
        if (!(e instanceof ProtocolError && e.code === 'ERR_SESSION_MISMATCH')) throw e;
        // A new PQXDH run from the same peer (e.g. it lost its state): accept it as a new session.
      }
    }
    const accepted = await acceptPrekeyMessage(crypto, rng, ctx.identity, ctx.prekeys, opened.content);
    return { sender, session: accepted.session, plaintext: accepted.plaintext, consumed: accepted.consumed };
  }
  const session = await ctx.session(sender.identityKey);
  if (session === undefined) {
    throw new ProtocolError('ERR_SESSION_MISMATCH', 'a ratchet message from a sender this device has no session with');
  }
  if (!constantTimeEqual(session.remoteIdentityKey, sender.identityKey)) {
    throw new ProtocolError('ERR_SEALED_SENDER_MISMATCH', 'the session given for this sender belongs to another identity key');
  }
  const { session: next, plaintext } = await sessionDecrypt(crypto, rng, session, opened.content);
  return { sender, session: next, plaintext, consumed: undefined };
}
