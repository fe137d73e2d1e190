// Property test of the call state machines (src/calls/: call-manager.ts, call.ts, incoming-call.ts;
// docs/protocol/11 §11.1–11.6) with the real key agreement: two managers wired through an in-memory
// network that a random schedule drives — deliver, duplicate, drop or reorder signalling, accept,
// decline, hang up either side, fire either side's time-out, deny the SAS. Whatever happens:
//   - each side only moves along §11.1's states (dialing → ringing → connecting → active → ended,
//     steps may be skipped, never taken back), and `ended` is final;
//   - a side's media is closed exactly once, exactly when its call ended;
//   - media that got keys got the matching keys (caller.send = callee.receive and back), and when both
//     sides were active they showed the same SAS;
//   - every failure reported is a typed error; at the end, after hang-ups, both sides have ended and
//     neither device is left busy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fastProvider as crypto } from '@sotto/crypto';
import { IdentityKeyPair, isProtocolError } from '@sotto/protocol';
import { chromiumAnswer, chromiumOffer, corpusAt, fingerprintOf, seededRng } from '@sotto/test-support';
import { isClientError, type Call, type CallMedia, type CallMediaKey, type CallState, type IncomingCall, type Timers } from '@sotto/client';
import { CallManager } from '../src/calls/call-manager.ts';
import type { CallPeer } from '../src/calls/call.ts';
import type { CallSignalBody } from '../src/content/content.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));
const rng = seededRng('client-calls-schedule');

class Timer implements Timers {
  readonly armed = new Map<number, () => void>();
  #n = 0;
  setTimeout(cb: () => void): unknown {
    this.armed.set(++this.#n, cb);
    return this.#n;
  }
  clearTimeout(h: unknown): void {
    this.armed.delete(h as number);
  }
  fireAll(): void {
    const due = [...this.armed];
    this.armed.clear();
    for (const [, cb] of due) cb();
  }
}

class Media implements CallMedia {
  closes = 0;
  keys: { send: CallMediaKey; receive: CallMediaKey } | undefined;
  readonly fp = rng(32);
  createOffer(): Promise<string> {
    return Promise.resolve(chromiumOffer({ fingerprint: fingerprintOf(this.fp) }));
  }
  acceptOffer(): Promise<string> {
    return Promise.resolve(chromiumAnswer({ fingerprint: fingerprintOf(this.fp) }));
  }
  acceptAnswer(): Promise<void> {
    return Promise.resolve();
  }
  setKeys(k: { send: CallMediaKey; receive: CallMediaKey }): void {
    assert.equal(this.closes, 0, 'no keys after close');
    this.keys = { send: { kid: k.send.kid, baseKey: k.send.baseKey.slice() }, receive: { kid: k.receive.kid, baseKey: k.receive.baseKey.slice() } };
  }
  close(): void {
    this.closes++;
  }
}

type Action =
  | { op: 'deliver' | 'dup' | 'drop'; at: number }
  | { op: 'accept' | 'decline' | 'hangA' | 'hangB' | 'timerA' | 'timerB' | 'sasNoA' | 'sasNoB' | 'sasYesA' };

const disrupt = fc.constantFrom<Action>({ op: 'decline' }, { op: 'hangA' }, { op: 'hangB' }, { op: 'timerA' }, { op: 'timerB' }, { op: 'sasNoA' }, { op: 'sasNoB' }, { op: 'sasYesA' });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constantFrom<'deliver' | 'dup' | 'drop'>('deliver', 'deliver', 'deliver', 'deliver', 'dup', 'drop'), at: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.constant<Action>({ op: 'accept' }) },
  { weight: 2, arbitrary: disrupt },
);

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const ORDER: readonly CallState[] = ['dialing', 'ringing', 'connecting', 'active', 'ended'];

function forwardOnly(seen: readonly CallState[], what: string): void {
  for (let i = 1; i < seen.length; i++) assert.ok(ORDER.indexOf(seen[i] ?? 'dialing') > ORDER.indexOf(seen[i - 1] ?? 'dialing'), `${what}: ${seen.join(' → ')}`);
}

interface Side {
  manager: CallManager;
  timers: Timer;
  errors: unknown[];
  verified: number;
}

test('calls: random schedules of signalling and user actions keep the state machines consistent', async () => {
  const ikA = await IdentityKeyPair.generate(crypto, rng);
  const ikB = await IdentityKeyPair.generate(crypto, rng);
  const reached = { bothActive: 0, keysBoth: 0, ended: new Set<string>() };
  await corpus.check(
    'calls-schedule',
    fc.array(action, { maxLength: 30 }),
    async (actions) => {
      const net: { to: 'A' | 'B'; body: CallSignalBody }[] = [];
      const mk = (self: 'A' | 'B', own: IdentityKeyPair, peer: CallPeer): Side => {
        const side: Side = { manager: undefined as unknown as CallManager, timers: new Timer(), errors: [], verified: 0 };
        side.manager = new CallManager({
          crypto,
          rng,
          timers: side.timers,
          identityKey: own.publicKey,
          prepare: () => Promise.resolve(peer),
          signal: (_p, body) => {
            net.push({ to: self === 'A' ? 'B' : 'A', body });
            return Promise.resolve();
          },
          verifyBySas: () => {
            side.verified++;
            return Promise.resolve();
          },
          report: (e) => side.errors.push(e),
        });
        return side;
      };
      const A = mk('A', ikA, { username: 'b', identityKey: ikB.publicKey, deviceId: 1 });
      const B = mk('B', ikB, { username: 'a', identityKey: ikA.publicKey, deviceId: 1 });
      const rung: IncomingCall[] = [];
      B.manager.onIncomingCall((c) => rung.push(c));
      let delivered = 0;
      const deliver = (m: { to: 'A' | 'B'; body: CallSignalBody }): void => {
        const [target, from, key] = m.to === 'A' ? [A, 'b', ikB.publicKey] : [B, 'a', ikA.publicKey];
        // A fresh message id per delivery: a duplicate here is a re-sent body, which the state machines drop.
        target.manager.route([{ id: `m${delivered++}`, from, identityKey: key, deviceId: 1, senderState: 'unverified', sentAt: 0, body: m.body }]);
      };

      const ma = new Media();
      const mb = new Media();
      const call = await A.manager.place('b', ma);
      const aStates: CallState[] = [call.state];
      call.onState((s) => aStates.push(s));
      let bCall: Call | undefined;
      const bStates: CallState[] = [];
      const swallow = (e: unknown): void => {
        if (!(isClientError(e) || isProtocolError(e))) throw e;
      };

      for (const a of actions) {
        switch (a.op) {
          case 'deliver':
          case 'dup':
          case 'drop': {
            if (net.length === 0) break;
            const i = a.at % net.length; // reorder: any queued message may go next
            const [m] = net.splice(i, 1);
            if (m === undefined) break;
            if (a.op !== 'drop') deliver(m);
            if (a.op === 'dup') deliver(m);
            break;
          }
          case 'accept': {
            const inc = rung[0];
            if (inc === undefined) break;
            try {
              bCall = await inc.accept(mb);
              bStates.push(bCall.state);
              bCall.onState((s) => bStates.push(s));
            } catch (e) {
              swallow(e);
            }
            break;
          }
          case 'decline':
            await rung[0]?.decline().catch(swallow);
            break;
          case 'hangA':
            await call.hangUp();
            break;
          case 'hangB':
            await bCall?.hangUp();
            break;
          case 'timerA':
            A.timers.fireAll();
            break;
          case 'timerB':
            B.timers.fireAll();
            break;
          case 'sasNoA':
            await call.confirmSas(false).catch(swallow);
            break;
          case 'sasNoB':
            await bCall?.confirmSas(false).catch(swallow);
            break;
          case 'sasYesA':
            await call.confirmSas(true).catch(swallow);
            break;
        }
        await settle();
        if (call.state === 'active' && bCall?.state === 'active') {
          reached.bothActive++;
          assert.deepEqual(call.sas, bCall.sas, 'both active: the same SAS');
        }
      }

      // Wind down: everything still queued arrives, then both hang up.
      while (net.length > 0) {
        const m = net.shift();
        if (m !== undefined) deliver(m);
        await settle();
      }
      await call.hangUp();
      await bCall?.hangUp();
      for (const r of rung) await r.decline().catch(swallow);
      await call.ended;
      if (bCall !== undefined) await bCall.ended;
      await settle();

      forwardOnly(aStates, 'caller');
      forwardOnly(bStates, 'callee');
      assert.equal(call.state, 'ended');
      assert.equal(ma.closes, 1, "the caller's media closed exactly once");
      assert.equal(mb.closes, bCall === undefined ? 0 : 1, "the callee's media closed once if it was used");
      reached.ended.add((await call.ended).reason);
      if (bCall !== undefined) reached.ended.add((await bCall.ended).reason);
      if (ma.keys !== undefined && mb.keys !== undefined) {
        reached.keysBoth++;
        assert.deepEqual(ma.keys.send, mb.keys.receive);
        assert.deepEqual(ma.keys.receive, mb.keys.send);
        assert.equal(ma.keys.send.kid, 0);
        assert.equal(mb.keys.send.kid, 1);
      }
      for (const e of [...A.errors, ...B.errors]) assert.ok(isClientError(e) || isProtocolError(e), `typed: ${String(e)}`);
      assert.equal(A.manager.busy, false);
      assert.equal(B.manager.busy, false);
    },
    { numRuns: 150 },
  );
  // The schedules exercised what they are for (not only early hang-ups).
  assert.ok(reached.bothActive > 0 && reached.keysBoth > 0, `active in ${reached.bothActive} steps, keys on both sides in ${reached.keysBoth} runs`);
  assert.ok(reached.ended.size >= 2, `end reasons seen: ${[...reached.ended].join(', ')}`);
});

test('an offer whose encapsulation key fails FIPS 203 §7.2 stops ringing as failed, tells the caller, and makes no values (docs/protocol/11 §11.2.2)', async () => {
  const ikA = await IdentityKeyPair.generate(crypto, rng);
  const ikB = await IdentityKeyPair.generate(crypto, rng);
  const sent: CallSignalBody[] = [];
  const errors: unknown[] = [];
  const B = new CallManager({
    crypto,
    rng,
    timers: new Timer(),
    identityKey: ikB.publicKey,
    prepare: () => Promise.reject(new Error('not used')),
    signal: (_p, body) => {
      sent.push(body);
      return Promise.resolve();
    },
    verifyBySas: () => Promise.resolve(),
    report: (e) => errors.push(e),
  });
  const rung: IncomingCall[] = [];
  B.onIncomingCall((c) => rung.push(c));
  const kem = new Uint8Array(1568).fill(0xff); // every 12-bit coefficient is 0xfff >= q
  const call = rng(16);
  B.route([{ id: 'bad-offer', from: 'a', identityKey: ikA.publicKey, deviceId: 1, senderState: 'unverified', sentAt: 0, body: { type: 'call-offer', call, kem, commit: rng(32), sdp: chromiumOffer() } }]);
  const ringing = rung[0];
  assert.ok(ringing !== undefined, 'the ring was registered at once (a call-end right behind the offer finds it)');
  assert.equal(await ringing.cancelled, 'failed');
  await settle();
  assert.deepEqual(sent.map((b) => b.type), ['call-end'], 'no ringing values, only the failure');
  assert.ok(sent[0]?.type === 'call-end' && sent[0].reason === 'failed');
  assert.ok(errors.length === 1 && isClientError(errors[0], 'ERR_CALL_FAILED') && isProtocolError((errors[0] as Error).cause, 'ERR_KEY_INVALID'), `reported: ${String(errors[0])}`);
  await assert.rejects(ringing.accept(new Media()), (e) => isClientError(e, 'ERR_CALL_STATE'));
  assert.equal(B.busy, false);
});
