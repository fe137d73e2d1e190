// Sotto calls, attack 1 — passive capture (docs/scorecard.md §4, "Sotto calls" 1). alice calls bob, then bob calls
// alice (the first call is their first contact: the SDK opens the session to place it); both sides speak. Mallory
// records everything: every request, response and WebSocket frame of the signalling (the proxy) and every media
// datagram (its relay). It holds no server secret — only the recording and, as an insider, its own account and
// keystore. It greps every recorded byte (raw and base64url/hex-decoded) for what was said, tries its own keys on
// every sealed envelope, and tries every 32-byte value it holds (its keystore, the recording) as an SFrame base key
// on every recorded frame.
//
// Control (so that "read 0" means something): the same frame-decryption code, given the endpoints' real call
// keys, reads every recorded frame.
import { fastProvider } from '@sotto/crypto';
import { systemRng } from '../../internal/rng.ts';
import { SottoCallWorld } from '../../internal/sotto-calls.ts';
import { candidateSecrets, occursIn, recordedBlobs, recordedEnvelopes } from '../../mallory/sotto-recording.ts';
import { describeFailures, harvestKeystore, tryStolenKeys } from '../../mallory/sotto-keys.ts';
import { recordedFrames, tryCallSecrets } from '../../mallory/sotto-call-media.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoCallsPassiveCaptureEvidence extends AttackResult {
  readonly calls: number;
  readonly httpExchanges: number;
  readonly wsFrames: number;
  readonly envelopes: number;
  readonly mediaDatagrams: number;
  readonly framesSpoken: number;
  /** Spoken transcripts found anywhere in the recording, raw or decoded. */
  readonly transcriptsInClear: number;
  readonly insiderEnvelopesOpened: number;
  readonly insiderCandidates: number;
  /** Frames mallory decrypted with anything it holds (must be 0). */
  readonly framesRead: number;
  /** Control: frames the endpoints' real keys decrypt with the same code (must be all). */
  readonly controlFramesRead: number;
}

export async function runSottoCallsPassiveCapture(): Promise<SottoCallsPassiveCaptureEvidence> {
  const cw = await SottoCallWorld.create();
  try {
    const mallory = await cw.world.user('mallory'); //            an insider with an account of its own
    const alice = await cw.party('alice');
    const bob = await cw.party('bob');
    const first = await cw.connect(alice, bob);
    await cw.converse(first, ['Bob, can you hear me?', 'Loud and clear, Alice.', 'The board votes on Kestrel on Friday.', 'Then we sell before Thursday.']);
    await cw.hangUp(first);
    const second = await cw.connect(bob, alice);
    await cw.converse(second, ['Alice, it is Bob again.', 'Go ahead.', 'The broker is Jarvis, account 5512.']);
    await cw.hangUp(second);
    cw.checkHealthy();

    // Mallory's side: the recording and its own keystore.
    const records = cw.world.proxy.records;
    const capture = cw.relay.capture;
    const blobs = [...recordedBlobs(records), ...capture.map((d) => d.bytes)];
    const texts = cw.spoken.map((s) => s.text);
    const inClear = texts.filter((t) => occursIn(blobs, t));
    const envelopes = recordedEnvelopes(records);
    const own = await harvestKeystore(fastProvider, mallory.home, mallory.passphrase);
    const insider = await tryStolenKeys(fastProvider, systemRng, own, envelopes, Date.now());
    const frames = recordedFrames(capture);
    const candidates = candidateSecrets([...own.values, ...blobs]);
    const media = await tryCallSecrets(candidates, frames);
    const read = texts.filter((t) => media.decrypted.some((d) => d.text === t) || insider.plaintexts.some((p) => p.text.includes(t)));

    const control = await tryCallSecrets(cw.revealed.map((k) => k.send.baseKey), frames);

    const httpExchanges = records.filter((r) => r.kind === 'http').length;
    const wsFrames = records.length - httpExchanges;
    const outcome = inClear.length + read.length > 0 ? 'compromised' : 'resisted';
    const allocations = new Set(capture.map((d) => d.allocation)).size;
    const detail =
      outcome === 'resisted'
        ? `Recorded 2 calls: ${httpExchanges} HTTP exchanges and ${wsFrames} WebSocket frames of signalling (${envelopes.length} sealed envelopes) and ${frames.length} media datagrams through mallory's relay; read ${read.length} of ${texts.length} spoken frames. ` +
          `None of the transcripts appears in the recording, raw or decoded; an insider's own keys opened ${insider.opened} envelopes (${describeFailures(insider.failures)}), and ${candidates.length} candidate 32-byte keys from its keystore and the recording decrypted ${media.decrypted.length} frames (${describeFailures(media.failures)}). ` +
          `Control: the endpoints' real SFrame keys read ${control.decrypted.length} of ${frames.length} with the same code. ` +
          `Metadata: the server sees who signals whom and when; the relay sees ${allocations} endpoint addresses, frame timing and sizes — the sealed SDPs do not tell it which account is behind an address, but a provider that also runs the server can correlate them by IP address and time.`
        : `Found ${inClear.length} spoken frames in clear and read ${read.length} of ${texts.length} with the insider's keys or candidates from the recording.`;
    return {
      outcome, detail, calls: 2, httpExchanges, wsFrames, envelopes: envelopes.length, mediaDatagrams: capture.length, framesSpoken: texts.length, transcriptsInClear: inClear.length,
      insiderEnvelopesOpened: insider.opened, insiderCandidates: candidates.length, framesRead: read.length, controlFramesRead: control.decrypted.length,
    };
  } finally {
    await cw.close();
  }
}

export const sottoCallsPassiveCapture: Scenario = { attack: 'passive-capture', system: 'Sotto calls', run: runSottoCallsPassiveCapture };
