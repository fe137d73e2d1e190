// Sotto, attack 6 — downgrade (docs/scorecard.md §4.6). Sotto negotiates nothing: one suite per protocol
// version, version 1 the only one (docs/protocol.md §1.2, §2.1). Mallory, as the server, tries anyway:
//   * envelopes delivered to bob get another version byte (0x00, 0x02) on the way (WebSocket push and fetch);
//   * bundles handed to carol for her first message to bob are altered: another version byte, the ML-KEM-1024
//     prekey replaced by mallory's own (a "suite" without bob's post-quantum key), the ML-KEM part removed
//     entirely (classical X25519 only), or the signed prekey replaced by mallory's.
// What the SDKs show and report is the result: nothing shown, nothing sent under a weakened bundle, a typed
// rejection; afterwards both conversations must still work.
import { isClientError } from '@sotto/client';
import { fastProvider } from '@sotto/crypto';
import { decodePrekeyBundle, encodePrekeyBundle, IdentityKeyPair, KemPrekeyPrivate, SignedPrekeyPrivate } from '@sotto/protocol';
import { systemRng } from '../../internal/rng.ts';
import { causes, SottoWorld } from '../../internal/sotto-world.ts';
import { rewriteDeliveredEnvelopes } from '../../mallory/sotto-signalling.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface EnvelopeDowngrade {
  readonly what: string;
  /** What bob's SDK reported (the rejection, with its causes), or 'shown' if it showed the message. */
  readonly result: string;
}

export interface BundleDowngrade {
  readonly what: string;
  /** The error (with its causes) carol's send failed with, or 'sent'. */
  readonly result: string;
  /** Sends to bob that reached the server during this attempt (must be 0). */
  readonly sendsReachingServer: number;
}

export interface SottoDowngradeEvidence extends AttackResult {
  readonly envelopeAttempts: readonly EnvelopeDowngrade[];
  readonly bundleAttempts: readonly BundleDowngrade[];
  readonly conversationsStillWork: boolean;
}

export async function runSottoDowngrade(): Promise<SottoDowngradeEvidence> {
  const world = await SottoWorld.create();
  try {
    const alice = await world.user('alice');
    const bob = await world.user('bob');
    const carol = await world.user('carol');
    await world.send(alice, bob, 'Hello Bob.');
    await world.send(bob, alice, 'Hello Alice.');
    await world.drain();

    // Envelopes with another version byte, on delivery to bob.
    const envelopeAttempts: EnvelopeDowngrade[] = [];
    for (const version of [0x02, 0x00]) {
      const rewrite = (envelope: Uint8Array): Uint8Array => {
        const e = envelope.slice();
        e[0] = version;
        return e;
      };
      world.proxy.setHooks(rewriteDeliveredEnvelopes(rewrite));
      const text = `Version ${version} test message.`;
      await alice.client.sendText(bob.username, text);
      const reported: string[] = [];
      const shown = (await bob.client.receive({ waitMs: 0, onError: (e) => reported.push(causes(e)) })).filter((m) => m.kind === 'text');
      envelopeAttempts.push({ what: `envelope version byte 0x01 → 0x${version.toString(16).padStart(2, '0')}`, result: shown.length > 0 ? 'shown' : reported.join('; ') || 'nothing reported' });
    }
    world.proxy.setHooks({});

    // Bundles for carol's first message to bob.
    const mallory = await IdentityKeyPair.generate(fastProvider, systemRng);
    const mallorysKem = (await KemPrekeyPrivate.generate(fastProvider, systemRng, mallory, 7, true)).public;
    const mallorysSpk = (await SignedPrekeyPrivate.generate(fastProvider, systemRng, mallory, 7)).public;
    const bundleRewrites: { what: string; rewrite: (b: Uint8Array) => Uint8Array }[] = [
      { what: 'bundle version byte 0x01 → 0x02', rewrite: (b) => Uint8Array.of(0x02, ...b.subarray(1)) },
      {
        what: "ML-KEM-1024 prekey replaced by mallory's",
        rewrite: (b) => {
          const d = decodePrekeyBundle(b);
          return encodePrekeyBundle({ ...d, kemPrekey: { ...d.kemPrekey, publicKey: mallorysKem.publicKey } });
        },
      },
      {
        what: 'ML-KEM-1024 part removed (X25519 only)',
        rewrite: (b) => {
          const d = decodePrekeyBundle(b);
          const kemBytes = 4 + 1 + d.kemPrekey.publicKey.length + d.kemPrekey.signature.length;
          return b.subarray(0, b.length - kemBytes);
        },
      },
      {
        what: "signed prekey replaced by mallory's",
        rewrite: (b) => {
          const d = decodePrekeyBundle(b);
          return encodePrekeyBundle({ ...d, signedPrekey: { ...d.signedPrekey, publicKey: mallorysSpk.publicKey } });
        },
      },
    ];
    const bundleAttempts: BundleDowngrade[] = [];
    for (const { what, rewrite } of bundleRewrites) {
      world.proxy.setHooks({
        response: (req, res) => (req.method === 'GET' && req.path.startsWith(`/v1/keys/${bob.username}/`) && res.status === 200 ? { ...res, body: rewrite(res.body) } : undefined),
      });
      const before = world.proxy.records.length;
      let result = 'sent';
      try {
        await carol.client.sendText(bob.username, `Carol's first message (${what}).`);
      } catch (e) {
        if (!isClientError(e)) throw e;
        result = causes(e);
      }
      const reaching = world.proxy.records.slice(before).filter((r) => r.kind === 'http' && r.method === 'PUT' && r.path.startsWith(`/v1/messages/${bob.username}/`) && r.status === 200).length;
      bundleAttempts.push({ what, result, sendsReachingServer: reaching });
    }
    world.proxy.setHooks({});

    let works = true;
    try {
      await world.send(alice, bob, 'Still there?');
      await world.send(carol, bob, 'Carol again, with the real bundle.');
    } catch {
      works = false;
    }
    world.proxy.checkHealthy();

    const failed = [...envelopeAttempts.filter((a) => a.result === 'shown'), ...bundleAttempts.filter((a) => a.result === 'sent' || a.sendsReachingServer > 0)];
    const outcome = failed.length > 0 ? 'compromised' : 'resisted';
    const detail =
      outcome === 'resisted'
        ? `Nothing is negotiated. Envelopes re-versioned in delivery were rejected by bob's SDK and never shown (${[...new Set(envelopeAttempts.map((a) => a.result))].join('; ')}; the altered message is lost — denial of service is out of scope); ` +
          `altered bundles (${bundleAttempts.map((a) => a.what).join('; ')}) made carol's send fail with nothing sent (${[...new Set(bundleAttempts.map((a) => a.result))].join('; ')}). ` +
          `Both conversations ${works ? 'worked' : 'DID NOT work'} afterwards.`
        : `Accepted: ${failed.map((a) => a.what).join('; ')}.`;
    return { outcome, detail, envelopeAttempts, bundleAttempts, conversationsStillWork: works };
  } finally {
    await world.close();
  }
}

export const sottoDowngrade: Scenario = { attack: 'downgrade', system: 'Sotto', run: runSottoDowngrade };
