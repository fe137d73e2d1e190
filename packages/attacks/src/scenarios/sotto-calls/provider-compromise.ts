// Sotto calls, attack 2 — provider compromise (docs/scorecard.md §4, "Sotto calls" 2). Mallory owns the provider:
// the server's data directory (SQLite database and WAL), the proxy's recording of all signalling, and its relay's
// recording of all media. alice calls bob and they talk; then bob calls alice, and the provider falls while that
// second call is still going on. Mallory dumps every table and row, greps everything (raw and decoded) for the
// call secrets — the SFrame base keys of both calls, as the endpoints' media were given them (a test-only window:
// SframeMedia's revealKeys) — and for what was said, takes every 32-byte value as a candidate secret, tries each
// as an identity on every sealed envelope (to read the call signalling) and as an SFrame base key on every
// recorded frame.
//
// Control: the same frame-decryption code, given the endpoints' real keys, reads every recorded frame.
import { join } from 'node:path';
import { fastProvider } from '@sotto/crypto';
import { systemRng } from '../../internal/rng.ts';
import { SottoCallWorld } from '../../internal/sotto-calls.ts';
import { describeFailures, harvestValues, tryStolenKeys } from '../../mallory/sotto-keys.ts';
import { candidateSecrets, dumpServerData, occursIn, recordedBlobs, recordedEnvelopes } from '../../mallory/sotto-recording.ts';
import { recordedFrames, secretsFoundIn, tryCallSecrets } from '../../mallory/sotto-call-media.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoCallsProviderCompromiseEvidence extends AttackResult {
  readonly tablesDumped: number;
  readonly rowsDumped: number;
  readonly envelopes: number;
  readonly framesRecorded: number;
  readonly framesSpoken: number;
  readonly candidateSecrets: number;
  /** Distinct call secrets (SFrame base keys) the endpoints held, and how many of them the loot contains. */
  readonly callSecrets: number;
  readonly callSecretsFound: number;
  readonly transcriptsFound: number;
  /** Sealed envelopes (the call signalling) opened with anything in the loot. */
  readonly envelopesOpened: number;
  readonly framesRead: number;
  /** The compromise happened while a call was active. */
  readonly duringLiveCall: boolean;
  readonly controlFramesRead: number;
}

export async function runSottoCallsProviderCompromise(): Promise<SottoCallsProviderCompromiseEvidence> {
  const cw = await SottoCallWorld.create();
  try {
    const alice = await cw.party('alice');
    const bob = await cw.party('bob');
    const first = await cw.connect(alice, bob);
    await cw.converse(first, ['Alice here. The vault code changed.', 'To what?', 'Eight, one, one, four, zero.']);
    await cw.hangUp(first);
    const second = await cw.connect(bob, alice);
    await cw.converse(second, ['Bob again: the courier lands at Gatwick at nine.', 'Same terminal as last time?', 'North terminal, gate 12.']);

    // The provider falls during the second call.
    const duringLiveCall = second.call.state === 'active' && second.answered.state === 'active';
    const loot = await dumpServerData(cw.world.dataDir, join(cw.world.dir, 'mallory-loot'));
    const blobs = [...loot.blobs, ...recordedBlobs(cw.world.proxy.records), ...cw.relay.capture.map((d) => d.bytes)];
    await cw.hangUp(second);
    cw.checkHealthy();

    const texts = cw.spoken.map((s) => s.text);
    const secrets = new Map<string, Uint8Array>();
    for (const k of cw.revealed) for (const b of [k.send.baseKey, k.receive.baseKey]) secrets.set(Buffer.from(b).toString('hex'), b);
    const callSecretsFound = secretsFoundIn(blobs, [...secrets.values()]);
    const transcriptsFound = texts.filter((t) => occursIn(blobs, t)).length;

    const envelopes = recordedEnvelopes(cw.world.proxy.records);
    const candidates = candidateSecrets(blobs);
    const everything = await harvestValues(fastProvider, [], [...blobs, ...candidates]);
    const signalling = await tryStolenKeys(fastProvider, systemRng, everything, envelopes, Date.now());
    const frames = recordedFrames(cw.relay.capture);
    const media = await tryCallSecrets(candidates, frames);
    const control = await tryCallSecrets([...secrets.values()], frames);

    const framesRead = media.decrypted.length;
    const outcome = callSecretsFound + transcriptsFound + framesRead + signalling.plaintexts.length > 0 ? 'compromised' : 'resisted';
    const rows = loot.tables.reduce((n, t) => n + t.rows.length, 0);
    const detail =
      outcome === 'resisted'
        ? `Took the server's SQLite files (${loot.tables.length} tables, ${rows} rows) during a live call, with every relayed byte (${envelopes.length} sealed signalling envelopes, ${frames.length} media frames of 2 calls): 0 of ${texts.length} frames decrypted. ` +
          `The server holds no call key: none of the ${secrets.size} SFrame base keys the endpoints used, and none of the transcripts, appears in the dump or the recording, raw or decoded. ` +
          `${candidates.length} candidate 32-byte secrets from all of it opened ${signalling.opened} envelopes (${describeFailures(signalling.failures)}) and decrypted ${framesRead} frames (${describeFailures(media.failures)}). ` +
          `Control: the endpoints' real keys read ${control.decrypted.length} of ${frames.length} with the same code.`
        : `Found ${callSecretsFound} call secrets and ${transcriptsFound} transcripts in the loot; decrypted ${framesRead} frames and ${signalling.plaintexts.length} signalling messages.`;
    return {
      outcome, detail, tablesDumped: loot.tables.length, rowsDumped: rows, envelopes: envelopes.length, framesRecorded: frames.length, framesSpoken: texts.length, candidateSecrets: candidates.length,
      callSecrets: secrets.size, callSecretsFound, transcriptsFound, envelopesOpened: signalling.opened, framesRead, duringLiveCall, controlFramesRead: control.decrypted.length,
    };
  } finally {
    await cw.close();
  }
}

export const sottoCallsProviderCompromise: Scenario = { attack: 'provider-compromise', system: 'Sotto calls', run: runSottoCallsProviderCompromise };
