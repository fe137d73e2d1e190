// Sotto, attack 5 — replay (docs/scorecard.md §4.5). alice writes to bob (a prekey message, then, after bob's
// reply, a ratchet message); everything is recorded and bob has received and acknowledged it all. Mallory
// then replays alice's recorded envelopes into bob's queue twice over:
//   1. it re-sends the recorded PUT /v1/messages requests byte for byte to the server (same id, same headers);
//   2. as the server, it pushes the recorded envelopes to bob's WebSocket under FRESH message ids
//      (docs/protocol/09 §9.8 frames), so that only the cryptography can recognise them.
// What bob's SDK shows (new messages) and reports (rejections) is the result; afterwards a genuine message must
// still arrive (the session survived).
import { encodeServerFrame } from '@sotto/protocol';
import { AttacksError } from '../../errors.ts';
import { NETWORK_WAIT_MS } from '../../limits.ts';
import { systemRng } from '../../internal/rng.ts';
import { SottoWorld } from '../../internal/sotto-world.ts';
import { recordedEnvelopes, type RecordedEnvelope } from '../../mallory/sotto-recording.ts';
import { sendsTo } from '../../mallory/sotto-signalling.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoReplayEvidence extends AttackResult {
  readonly replayedRequests: number;
  /** How the server answered the byte-for-byte replays: "200 duplicate", "200 queued", or the status. */
  readonly serverAnswers: readonly string[];
  /** Replayed sends the server delivered to bob again (the server keeps no ids after acknowledgement). */
  readonly redelivered: number;
  readonly injectedFrames: number;
  /** Messages bob's SDK showed during the replays (must be none). */
  readonly shownDuringReplay: number;
  /** Rejections bob's SDK reported (ClientError codes, with the protocol cause), one per refused envelope. */
  readonly rejections: readonly string[];
  /** A genuine message after the replays arrived. */
  readonly sessionSurvived: boolean;
}

/** Waits (polling the recording) until the proxy has relayed the server's `ready` frame on a connection opened after `from`. */
async function waitForReady(world: SottoWorld, from: number): Promise<void> {
  const deadline = Date.now() + NETWORK_WAIT_MS;
  for (;;) {
    const ready = world.proxy.records.slice(from).some((r) => r.kind === 'ws' && r.direction === 'to-client' && !r.injected && new TextDecoder().decode(r.data).includes('"ready"'));
    if (ready) return;
    if (Date.now() > deadline) throw new AttacksError('ERR_ATTACKS_TIMEOUT', 'bob never got a ready frame');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function reason(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) parts.push((c as { code?: unknown }).code === undefined ? c.name : String((c as { code?: unknown }).code));
  return parts.join(' ← ');
}

export async function runSottoReplay(): Promise<SottoReplayEvidence> {
  const world = await SottoWorld.create();
  try {
    const alice = await world.user('alice');
    const bob = await world.user('bob');
    await world.send(alice, bob, 'Transfer 500 to account 88-1204.');
    await world.send(bob, alice, 'Confirmed, once.');
    await world.send(alice, bob, 'And cancel the standing order.');
    await world.drain();

    const sends = sendsTo(world.proxy.records, bob.username);
    const envelopes: RecordedEnvelope[] = recordedEnvelopes(sends);
    const rejections: string[] = [];
    const onError = (e: unknown): void => {
      rejections.push(reason(e));
    };
    let shown = 0;

    // 1. Byte-for-byte replays of the recorded sends, straight to the server.
    const answers: string[] = [];
    for (const r of sends) {
      const headers = Object.fromEntries(Object.entries(r.requestHeaders).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)));
      const res = await fetch(`${world.server.url}${r.path}`, { method: 'PUT', headers, body: r.requestBody });
      const text = await res.text();
      answers.push(res.status === 200 ? (text.includes('"duplicate":true') ? '200 duplicate' : '200 queued') : String(res.status));
    }
    const replayedIds = new Set(envelopes.map((e) => e.id));
    const beforeFetch = world.proxy.records.length;
    shown += (await bob.client.receive({ waitMs: 0, onError })).filter((m) => m.kind !== 'delivered').length;
    const redelivered = recordedEnvelopes(world.proxy.records.slice(beforeFetch)).filter((e) => e.seenIn !== 'send' && replayedIds.has(e.id)).length;
    const rejectedByDedup = rejections.length;

    // 2. The same envelopes pushed to bob's live connection under fresh ids.
    const from = world.proxy.records.length;
    const receiving = bob.client.receive({ waitMs: 1_500, onError });
    await waitForReady(world, from);
    let seq = 1_000_000;
    for (const env of envelopes) {
      const frame = encodeServerFrame({ type: 'message', seq: seq++, id: systemRng(16), envelope: env.envelope, receivedAt: Date.now() });
      if (world.proxy.injectToClients(frame) !== 1) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'bob was not connected for the injection');
    }
    shown += (await receiving).filter((m) => m.kind !== 'delivered').length;
    if (rejections.length - rejectedByDedup + shown < envelopes.length) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'bob did not process every injected frame');

    // 3. The session is still usable.
    let survived = true;
    try {
      await world.send(alice, bob, 'This one is new.');
    } catch (e) {
      if (!(e instanceof AttacksError)) throw e;
      survived = false;
    }
    world.proxy.checkHealthy();

    const outcome = shown > 0 ? 'compromised' : 'resisted';
    const detail =
      outcome === 'resisted'
        ? `Replayed alice's ${sends.length} recorded sends byte for byte (server: ${[...new Set(answers)].join(', ')}; ${redelivered} delivered to bob again) and pushed the same ${envelopes.length} envelopes to bob's connection under fresh ids: ` +
          `bob's SDK showed nothing again — it dropped the known ids${rejectedByDedup === 0 ? ' silently' : ''} and rejected the fresh-id copies (${[...new Set(rejections)].join('; ')}). ` +
          `A genuine message afterwards ${survived ? 'arrived' : 'DID NOT arrive'}.`
        : `Bob's SDK showed ${shown} replayed message(s) again.`;
    return { outcome, detail, replayedRequests: sends.length, serverAnswers: answers, redelivered, injectedFrames: envelopes.length, shownDuringReplay: shown, rejections, sessionSurvived: survived };
  } finally {
    await world.close();
  }
}

export const sottoReplay: Scenario = { attack: 'replay', system: 'Sotto', run: runSottoReplay };
