// Sotto, attack 3 — key substitution by the provider (docs/scorecard.md §4.3). Mallory controls what the server
// answers: from a point on, every lookup of bob (GET /v1/accounts/bob, docs/protocol/09 §9.6) returns mallory's
// identity key, and every bundle fetch for bob (GET /v1/keys/bob/1, §9.5) returns a bundle mallory made and
// signed with that key. Three users then write to "bob":
//   * alice, who had verified bob's safety number (docs/protocol/07) before the substitution;
//   * carol, who had talked with bob but never verified him (trust on first use);
//   * dave, who has never talked with bob (first contact happens under the substitution).
// Mallory tries its own keys on everything sent to bob afterwards. What each victim's SDK reports — the trust
// state of bob, a refused send, a failed safety-number comparison — is the result. Both existing contacts are
// refused (docs/protocol/10 §10.4: a changed contact gets nothing until the user confirms, verified or not).
// Controls, so that "mallory read 0" means something: dave's first-contact message is read by the same code,
// and carol, after accepting the new key unchecked, sends once more and mallory reads that.
import type { Contact } from '@sotto/client';
import { fastProvider } from '@sotto/crypto';
import { decodeAccountResponse, encodeAccountResponse, ProtocolError, receiveSealed, type Session } from '@sotto/protocol';
import { systemRng } from '../../internal/rng.ts';
import { clientErrorCode, SottoWorld, type SottoUser } from '../../internal/sotto-world.ts';
import { forgeIdentity } from '../../mallory/sotto-keys.ts';
import { recordedEnvelopes } from '../../mallory/sotto-recording.ts';
import { worstOutcome, type AttackResult, type Outcome, type Scenario } from '../../scenario.ts';

export interface SubstitutionVictim {
  readonly who: 'verified contact' | 'unverified contact' | 'first contact';
  /** bob's trust state as the victim's SDK shows it after the substitution. */
  readonly stateShown: Contact['state'] | 'none';
  readonly wasVerified: boolean | undefined;
  /** The error code of the send to bob after the substitution, or 'sent'. */
  readonly send: string;
  /** The safety-number comparison with the real bob: 'match', or the error code (first contact only). */
  readonly comparison: string | undefined;
  /** For existing contacts: the key the victim trusts for bob is still bob's real one (the state kept it). */
  readonly trustedKeyKept: boolean | undefined;
  /** The key shown as the new one is mallory's (what the warning points at). */
  readonly newKeyIsMallorys: boolean;
  /** Messages the victim wrote to bob after the substitution (before any accept) that mallory decrypted. */
  readonly readByMallory: number;
  /** Unverified contact only, the control: the user then accepts the new key without checking
   *  (`acceptNewKey`, `sotto trust --accept-new-key`) and sends again. */
  readonly afterAccepting?: { readonly send: string; readonly readByMallory: number };
  readonly outcome: Outcome;
}

export interface SottoKeySubstitutionEvidence extends AttackResult {
  readonly victims: readonly SubstitutionVictim[];
  /** Requests mallory rewrote (account lookups and bundle fetches for bob). */
  readonly rewrites: number;
}

export async function runSottoKeySubstitution(): Promise<SottoKeySubstitutionEvidence> {
  const world = await SottoWorld.create();
  try {
    const [alice, bob, carol, dave] = [await world.user('alice'), await world.user('bob'), await world.user('carol'), await world.user('dave')];
    await world.send(alice, bob, 'Hi Bob, it is Alice.');
    await world.send(bob, alice, 'Hi Alice. Let us compare safety numbers.');
    const bobSees = await bob.client.safetyNumber(alice.username);
    await alice.client.verify(bob.username, bobSees.digits, 'safety-number'); //   read aloud in person
    await world.send(carol, bob, 'Bob, carol here.');
    await world.send(bob, carol, 'Hello carol.');
    await world.drain();

    // Mallory's "bob": its own identity and a bundle it signs.
    const { identity: fake, bundle: fakeBundle, store } = await forgeIdentity(fastProvider, systemRng);
    let rewrites = 0;
    const from = world.proxy.records.length;
    world.proxy.setHooks({
      response: (req, res) => {
        if (res.status !== 200) return undefined;
        if (req.method === 'GET' && req.path === `/v1/accounts/${bob.username}`) {
          rewrites++;
          const account = decodeAccountResponse(res.body);
          return { ...res, body: new TextEncoder().encode(encodeAccountResponse({ ...account, identityKey: fake.publicKey })) };
        }
        if (req.method === 'GET' && req.path.startsWith(`/v1/keys/${bob.username}/`)) {
          rewrites++;
          return { ...res, body: fakeBundle };
        }
        return undefined;
      },
    });

    const after = 'This one is for Bob only: the vault code is 7731.';
    const attempt = async (user: SottoUser, who: SubstitutionVictim['who'], then: 'compare' | 'accept' | 'nothing'): Promise<SubstitutionVictim> => {
      const text = `${after} (from ${user.username})`;
      const trustedBefore = (await user.client.contacts()).find((x) => x.username === bob.username)?.identityKey;
      const send = await clientErrorCode(user.client.sendText(bob.username, text), 'sent');
      if (send === 'sent') world.said.push({ from: user.username, to: bob.username, text });
      let comparison: string | undefined;
      if (then === 'compare') {
        // dave and bob compare safety numbers out of band (bob reads his digits aloud).
        const real = await bob.client.safetyNumber(user.username);
        comparison = await clientErrorCode(user.client.verify(bob.username, real.digits, 'safety-number'), 'sent');
        if (comparison === 'sent') comparison = 'match';
      }
      const contact = (await user.client.contacts()).find((c) => c.username === bob.username);
      const readByMallory = (await malloryReads(text)).length;
      const flagged = contact?.state === 'changed' || send === 'ERR_TRUST_CHANGED' || (comparison !== undefined && comparison !== 'match');
      const outcome: Outcome = flagged ? 'detected' : readByMallory > 0 || send === 'sent' ? 'compromised' : 'resisted';
      const same = (x: Uint8Array | undefined, y: Uint8Array | undefined): boolean => x !== undefined && y !== undefined && Buffer.from(x).equals(Buffer.from(y));
      const trustedKeyKept = trustedBefore === undefined ? undefined : same(contact?.identityKey, trustedBefore);
      const newKeyIsMallorys = same(contact?.newIdentityKey ?? contact?.identityKey, fake.publicKey);
      const victim: SubstitutionVictim = { who, stateShown: contact?.state ?? 'none', wasVerified: contact?.wasVerified, send, comparison, trustedKeyKept, newKeyIsMallorys, readByMallory, outcome };
      if (then !== 'accept') return victim;
      // The control: what the refusal held back goes through once the user accepts without checking.
      await user.client.acceptNewKey(bob.username);
      const acceptedText = `Accepted the new key without checking; ${after} (from ${user.username})`;
      const sendAfter = await clientErrorCode(user.client.sendText(bob.username, acceptedText), 'sent');
      if (sendAfter === 'sent') world.said.push({ from: user.username, to: bob.username, text: acceptedText });
      return { ...victim, afterAccepting: { send: sendAfter, readByMallory: (await malloryReads(acceptedText)).length } };
    };
    const sessions = new Map<string, Session>();
    const malloryReads = async (text: string): Promise<string[]> => {
      const out: string[] = [];
      for (const env of recordedEnvelopes(world.proxy.records.slice(from))) {
        if (env.recipient !== bob.username) continue;
        try {
          const r = await receiveSealed(fastProvider, systemRng, { identity: fake, now: Date.now(), prekeys: store, session: (k) => sessions.get(Buffer.from(k).toString('hex')) }, env.envelope);
          sessions.set(Buffer.from(r.sender.identityKey).toString('hex'), r.session);
          const plain = new TextDecoder().decode(r.plaintext);
          if (plain.includes(text)) out.push(plain);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }
      return out;
    };
    const a = await attempt(alice, 'verified contact', 'nothing');
    const c = await attempt(carol, 'unverified contact', 'accept');
    const d = await attempt(dave, 'first contact', 'compare');
    world.proxy.checkHealthy();

    const victims = [a, c, d];
    const outcome = worstOutcome(victims.map((v) => v.outcome));
    const sent = (v: Pick<SubstitutionVictim, 'send'>): string => (v.send === 'sent' ? 'went through' : `refused (${v.send})`);
    const detail =
      `Mallory served its own key and a bundle it signed for bob (${rewrites} rewritten answers). ` +
      `Verified contact: bob shown as ${a.stateShown}, send ${sent(a)}, mallory read ${a.readByMallory}. ` +
      `Unverified contact: bob shown as ${c.stateShown}, send ${sent(c)}, mallory read ${c.readByMallory}` +
      (c.afterAccepting === undefined ? '. ' : ` (control: once the user accepted the new key unchecked, the next send ${sent(c.afterAccepting)} and mallory read ${c.afterAccepting.readByMallory}). `) +
      `First contact: bob shown as ${d.stateShown} (trust on first use) and mallory read ${d.readByMallory} message(s) sent before verifying; comparing safety numbers with the real bob: ${d.comparison ?? 'not done'}. ` +
      'Key transparency (automatic detection) is not built yet.';
    return { outcome, detail, victims, rewrites };
  } finally {
    await world.close();
  }
}

export const sottoKeySubstitution: Scenario = { attack: 'key-substitution', system: 'Sotto', run: runSottoKeySubstitution };
