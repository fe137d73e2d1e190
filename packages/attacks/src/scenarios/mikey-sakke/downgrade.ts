// MIKEY-SAKKE, attack 6 — downgrade (docs/scorecard.md §3.6). MIKEY-SAKKE has no negotiation: one simplex
// I_MESSAGE, no response (RFC 6509 §2). What it does carry are choices the Initiator makes — the PRF (RFC 3830
// §6.1: MIKEY-1/HMAC-SHA-1 or HMAC-SHA-256, RFC 6043 §6.1) and the SRTP security policy (RFC 3830 §6.10.1:
// cipher, key lengths, authentication) — and version/type code points. Mallory, on the network without any KMS
// secret, rewrites each of them in alice's INVITEs in flight and records what bob's phone reports. Separately,
// it records whether bob's software would accept a weakened policy that is validly signed — which only a
// key holder (ultimately the KMS) can produce.
import {
  decodeIMessage,
  eccsiSign,
  encodeIMessage,
  encodeIMessageSignedPart,
  initiateCall,
  installUserKeys,
  kmsProvisionUser,
  keyPeriodOfUnixMs,
  MIKEY_PRF,
  type MikeySakkeIMessage,
  type MikeySakkeIMessageBody,
} from '@sotto/escrow';
import { ALICE, BOB, MikeyWorld, utc } from '../../internal/mikey-world.ts';
import { KEY_MGMT_PREFIX, parseSignalling } from '../../mallory/mikey-network.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

/** SRTP policy parameter types and values (RFC 3830 §6.10.1 Tables 6.10.1.a–c). */
const SRTP = { ENCR_ALG: 0, ENCR_KEY_LEN: 1, AUTH_ALG: 2, NULL: 0 } as const;

export interface MikeyDowngradeAttempt {
  readonly what: string;
  /** What bob's phone reported: 'accepted' or the refusal code. */
  readonly bobReported: string;
}

export interface MikeyDowngradeEvidence extends AttackResult {
  readonly networkAttempts: readonly MikeyDowngradeAttempt[];
  /** Bob's phone's verdict on a validly signed I_MESSAGE naming PRF MIKEY-1 and a NULL-cipher SRTP policy. */
  readonly signedWeakPolicy: string;
}

type Rewrite = (m: MikeySakkeIMessage) => MikeySakkeIMessage;

const withPolicy = (type: number, value: number): Rewrite => (m) => ({
  ...m,
  securityPolicies: m.securityPolicies.map((p) => ({ ...p, params: p.params.map((q) => (q.type === type ? { type, value: Uint8Array.of(value) } : q)) })),
});

const REWRITES: readonly { what: string; rewrite: Rewrite | 'version' }[] = [
  { what: 'PRF HMAC-SHA-256 → MIKEY-1 (HMAC-SHA-1)', rewrite: (m) => ({ ...m, prfFunc: MIKEY_PRF.MIKEY_1 }) },
  { what: 'SRTP cipher AES-CM → NULL', rewrite: withPolicy(SRTP.ENCR_ALG, SRTP.NULL) },
  { what: 'SRTP authentication HMAC-SHA-1 → NULL', rewrite: withPolicy(SRTP.AUTH_ALG, SRTP.NULL) },
  { what: 'SRTP master key length 16 → 1 octet', rewrite: withPolicy(SRTP.ENCR_KEY_LEN, 1) },
  { what: 'security policy payload removed', rewrite: (m) => ({ ...m, securityPolicies: [] }) },
  { what: 'MIKEY version 1 → 2', rewrite: 'version' },
];

function rewriteInvite(bytes: Uint8Array, rewrite: Rewrite | 'version'): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const msg = parseSignalling(bytes);
  const line = msg?.body.split('\r\n').find((l) => l.startsWith(KEY_MGMT_PREFIX));
  if (msg?.method !== 'INVITE' || line === undefined) return bytes;
  const original = new Uint8Array(Buffer.from(line.slice(KEY_MGMT_PREFIX.length), 'base64'));
  let changed: Uint8Array;
  if (rewrite === 'version') {
    changed = original.slice();
    changed[0] = 2; //                                        HDR version (RFC 3830 §6.1)
  } else {
    changed = encodeIMessage(rewrite(decodeIMessage(original).message)); // alice's signature kept as it was
  }
  return new TextEncoder().encode(text.replace(line, `${KEY_MGMT_PREFIX}${Buffer.from(changed).toString('base64')}`));
}

export async function runMikeyDowngrade(): Promise<MikeyDowngradeEvidence> {
  const world = await MikeyWorld.create(utc(2026, 11, 12, 9), ['alice', 'bob']);
  try {
    const [alice, bob] = [world.phone('alice'), world.phone('bob')];
    const attempts: MikeyDowngradeAttempt[] = [];
    for (const { what, rewrite } of REWRITES) {
      world.network.setSignallingTamper((bytes) => rewriteInvite(bytes, rewrite));
      const after = bob.events.length;
      const dialled = await alice.dial(BOB);
      const e = await bob.waitForEvent((ev) => ev.kind !== 'media-refused', after);
      attempts.push({ what, bobReported: e.kind === 'call-refused' ? e.code : dialled.ok ? 'accepted' : `alice saw ${dialled.code}` });
    }
    world.network.setSignallingTamper(undefined);

    // Not a network attack: a weakened policy SIGNED as alice, with a key set the KMS minted for her Identifier.
    const minted = installUserKeys(world.community, kmsProvisionUser(world.kms, ALICE, keyPeriodOfUnixMs(world.now), world.rng));
    const fresh = decodeIMessage(initiateCall({ initiator: minted, responderUri: BOB, nowMs: world.now, rng: world.rng }).iMessage).message;
    const weak = withPolicy(SRTP.ENCR_ALG, SRTP.NULL)({ ...fresh, prfFunc: MIKEY_PRF.MIKEY_1 });
    const body: MikeySakkeIMessageBody = { ...weak }; //   the signed fields only; SIGN is computed below
    const signature = eccsiSign(minted.community.kpak, minted.identifier, minted.signing.ssk, minted.signing.pvt, encodeIMessageSignedPart(body), world.rng);
    const signedInvite = [`INVITE ${BOB}`, `From: ${ALICE}`, 'Call-ID: 5157e7ed0000', 'Media: 127.0.0.1:9', '', `${KEY_MGMT_PREFIX}${Buffer.from(encodeIMessage({ ...body, signature })).toString('base64')}`].join('\r\n');
    const after = bob.events.length;
    await world.network.injectSignalling(BOB, new TextEncoder().encode(signedInvite));
    const verdict = await bob.waitForEvent((ev) => ev.callId === '5157e7ed0000', after);
    const signedWeakPolicy = verdict.kind === 'call-connected' ? 'accepted' : verdict.kind === 'call-refused' ? verdict.code : verdict.reason;

    const accepted = attempts.filter((a) => a.bobReported === 'accepted');
    const outcome = accepted.length > 0 ? 'compromised' : 'resisted';
    const codes = [...new Set(attempts.map((a) => a.bobReported))].join(', ');
    const detail =
      outcome === 'resisted'
        ? `Nothing is negotiated, and every in-flight rewrite (${attempts.map((a) => a.what).join('; ')}) was refused by bob's phone (${codes}): the PRF and the SRTP policy are under alice's ECCSI signature. ` +
          `But the policy is whatever the signer says: bob's software ${signedWeakPolicy === 'accepted' ? 'accepted' : `refused (${signedWeakPolicy})`} an I_MESSAGE naming PRF MIKEY-1 and a NULL SRTP cipher signed with a KMS-minted alice key.`
        : `Bob's phone accepted a rewritten I_MESSAGE: ${accepted.map((a) => a.what).join('; ')}.`;
    return { outcome, detail, networkAttempts: attempts, signedWeakPolicy };
  } finally {
    await world.close();
  }
}

export const mikeyDowngrade: Scenario = {
  attack: 'downgrade',
  system: 'MIKEY-SAKKE',
  run: runMikeyDowngrade,
};
