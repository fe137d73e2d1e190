// Sotto, attack 1 — passive capture (docs/scorecard.md §4.1). Mallory sits between the clients and the real
// server and records every request, response and WebSocket frame of a conversation (texts both ways, a file
// through an attachment). It holds no server secret — only the recording and, as an insider, its own account
// and keystore. It greps everything (raw and base64url/hex-decoded) for what was written, tries its own keys on
// every sealed envelope, and notes what the traffic itself reveals.
import { fastProvider } from '@sotto/crypto';
import { harvestKeystore, tryStolenKeys, describeFailures } from '../../mallory/sotto-keys.ts';
import { occursIn, recordedBlobs, recordedEnvelopes } from '../../mallory/sotto-recording.ts';
import { SECRET_FILE, SottoWorld, typicalConversation } from '../../internal/sotto-world.ts';
import { systemRng } from '../../internal/rng.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoPassiveCaptureEvidence extends AttackResult {
  readonly requestsRecorded: number;
  readonly framesRecorded: number;
  readonly envelopesRecorded: number;
  readonly textsWritten: number;
  /** Written texts (and the file) found in the recording, in clear or decoded. */
  readonly plaintextsFound: number;
  /** Envelopes the insider's own keys opened, and plaintexts they gave. */
  readonly insiderOpened: number;
  readonly insiderPlaintexts: number;
  /** Sends that named their sender to the server (bearer token, first contact, docs/protocol/09 §9.7) vs sealed sends. */
  readonly sendsWithSender: number;
  readonly sealedSends: number;
}

export async function runSottoPassiveCapture(): Promise<SottoPassiveCaptureEvidence> {
  const world = await SottoWorld.create();
  try {
    const mallory = await world.user('mallory'); //                 an insider with an account of its own
    await typicalConversation(world);
    const records = world.proxy.records;
    const blobs = recordedBlobs(records);
    const secrets = [...world.said.map((s) => s.text), SECRET_FILE.text];
    const found = secrets.filter((t) => occursIn(blobs, t));
    const envelopes = recordedEnvelopes(records);
    const own = await harvestKeystore(fastProvider, mallory.home, mallory.passphrase);
    const attempt = await tryStolenKeys(fastProvider, systemRng, own, envelopes, Date.now());
    const insiderHits = secrets.filter((t) => attempt.plaintexts.some((p) => p.text.includes(t)));
    const sends = records.filter((r) => r.kind === 'http' && r.method === 'PUT' && r.path.startsWith('/v1/messages/'));
    const withSender = sends.filter((r) => r.kind === 'http' && 'authorization' in r.requestHeaders).length;
    const requests = records.filter((r) => r.kind === 'http').length;
    const frames = records.length - requests;
    const attachments = records.filter((r) => r.kind === 'http' && r.method === 'POST' && r.path === '/v1/attachments').length;
    const outcome = found.length + insiderHits.length > 0 ? 'compromised' : 'resisted';
    const detail =
      outcome === 'resisted'
        ? `Recorded ${requests} HTTP exchanges and ${frames} WebSocket frames (${envelopes.length} sealed envelopes, ${attachments} attachment upload(s)); none of the ${secrets.length} secrets written appears in them, raw or decoded. ` +
          `An insider's own keys opened ${attempt.opened} envelopes (${describeFailures(attempt.failures)}). ` +
          `Metadata: each envelope names its recipient; ${withSender} of ${sends.length} sends named their sender (first contact, before a profile key was known), the rest were sealed.`
        : `Found ${found.length} of ${secrets.length} secrets in the recording and ${insiderHits.length} through an insider's keys.`;
    return {
      outcome, detail, requestsRecorded: requests, framesRecorded: frames, envelopesRecorded: envelopes.length, textsWritten: world.said.length,
      plaintextsFound: found.length, insiderOpened: attempt.opened, insiderPlaintexts: insiderHits.length, sendsWithSender: withSender, sealedSends: sends.length - withSender,
    };
  } finally {
    await world.close();
  }
}

export const sottoPassiveCapture: Scenario = { attack: 'passive-capture', system: 'Sotto', run: runSottoPassiveCapture };
