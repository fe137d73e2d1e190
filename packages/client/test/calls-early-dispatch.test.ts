// A received call body reaches its call (or its ringing phone) as soon as it is decrypted, while its
// batch is still being written (src/client.ts #processBatch, docs/protocol/11 §11.6), and nothing about
// persistence is weakened: the batch is acknowledged only after the write, whatever the call sends in
// response is sealed after the write, and a crash between the dispatch and the write re-delivers the body, which
// the restarted client drops (it names a call the crash took with it). Real clients, a real server on
// loopback; the keystore is the real software keystore behind a gate that holds, or fails, the writes
// of received batches (the ones that record a seen id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccount, openClient, type IncomingCall, type Keystore, type KeystoreOpener, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { softwareKeystore } from '@sotto/client/node';
import { loopbackPair, reached } from './calls-support.ts';
import { jsonResponse, PASS, tempDir, testServer, WEAK_KDF, wire, type TestServer, type Wire } from './support.ts';

type After = Parameters<typeof tempDir>[0];

/** Holds (or fails) the keystore writes that record a seen id: the commits of received batches. */
class Gate {
  armed = false;
  failing = false;
  /** Received batches to let through before holding one. */
  skip = 0;
  readonly held: (() => void)[] = [];
  #poke: (() => void) | undefined;

  /** Resolves once a write is held. */
  holding(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#poke = resolve;
    });
  }

  async pass(changes: ReadonlyMap<string, Uint8Array | null>): Promise<void> {
    if (!this.armed || !changes.has('seen')) return;
    if (this.skip > 0) {
      this.skip--;
      return;
    }
    await new Promise<void>((resolve) => {
      this.held.push(resolve);
      this.#poke?.();
    });
    if (this.failing) throw new Error('injected: the device died before this write reached the disk');
  }

  release(): void {
    this.armed = false;
    for (const r of this.held.splice(0)) r();
  }
}

function gated(inner: KeystoreOpener, gate: Gate): KeystoreOpener {
  const wrap = (ks: Keystore): Keystore => ({
    get: (n) => ks.get(n),
    put: (n, b) => ks.put(n, b),
    update: async (changes) => {
      await gate.pass(changes);
      await ks.update(changes);
    },
    delete: (n) => ks.delete(n),
    names: () => ks.names(),
    changePassphrase: (c, n) => ks.changePassphrase(c, n),
    close: () => ks.close(),
    toString: () => ks.toString(),
  });
  return {
    create: async (p) => wrap(await inner.create(p)),
    open: async (p) => wrap(await inner.open(p)),
    remove: () => inner.remove(),
    toString: () => inner.toString(),
  };
}

interface Side {
  client: SottoClient;
  readonly home: string;
  readonly wire: Wire;
  readonly gate: Gate;
  readonly errors: unknown[];
  stop: () => Promise<void>;
}

async function side(t: After, server: TestServer, name: string): Promise<Side> {
  const home = await tempDir(t, `early-${name}`);
  const w = wire();
  const gate = new Gate();
  const client = await createAccount({ keystore: gated(softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), gate), webSocket: w.webSocket, passphrase: PASS, serverUrl: server.url, username: name, fetch: w.fetch });
  const s: Side = { client, home, wire: w, gate, errors: [], stop: () => Promise.resolve() };
  s.stop = client.listen(() => undefined, (e) => s.errors.push(e));
  t.after(async () => {
    s.gate.release();
    await s.stop();
    await s.client.close();
  });
  return s;
}

function ringing(c: SottoClient): Promise<IncomingCall> {
  return new Promise((resolve) => {
    const off = c.onIncomingCall((ic) => {
      off();
      resolve(ic);
    });
  });
}

const isPut = (r: { method: string; path: string }): boolean => r.method === 'PUT' && r.path.startsWith('/v1/messages/');

test('the ringing callee gets the confirm before its batch is written and keys the call from it at accept; a crash before the write re-delivers it, and the restarted client drops it', async (t) => {
  const server = await testServer(t);
  const alice = await side(t, server, 'alice');
  const bob = await side(t, server, 'bob');
  const [aliceMedia, bobMedia] = loopbackPair();
  const rings = ringing(bob.client);
  // Bob's first received batch (the offer) is written; the next one (alice's confirm) is held, and that
  // write will never reach the disk.
  bob.gate.armed = true;
  bob.gate.skip = 1;
  bob.gate.failing = true;
  const call = await alice.client.placeCall('bob', aliceMedia);
  const incoming = await rings;
  await bob.gate.holding();
  // The confirm's batch is decrypted and held before its write; the ringing call kept the confirm, and
  // accepting keys the callee's media from it (its answer SDP bound in) while the write is still held.
  const accepting = incoming.accept(bobMedia).catch((e: unknown) => e);
  while (bobMedia.keys === undefined) await new Promise((r) => setImmediate(r));
  assert.equal(bob.gate.held.length, 1, 'the write of the confirm’s batch has not happened');
  assert.equal(bob.wire.requests.filter(isPut).length, 1, 'only the ringing left bob: the answer is sealed after the write');

  // The device dies: the write fails, nothing after it runs, the process state is gone.
  bob.gate.release();
  await accepting;
  await bob.stop();
  await bob.client.close();

  // Restarted from what is on disk: the unacknowledged confirm comes again (so it was not
  // acknowledged before the write), decrypts from the state before it, and names no call here.
  const backlog: number[] = [];
  bob.wire.intercept = async (r, forward) => {
    if (r.method !== 'GET' || !r.path.startsWith('/v1/messages')) return undefined;
    const res = await forward();
    const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
    backlog.push((JSON.parse(text) as { messages: unknown[] }).messages.length);
    return jsonResponse(res.status, text);
  };
  bob.client = await openClient({ keystore: softwareKeystore(bob.home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: bob.wire.webSocket, passphrase: PASS, fetch: bob.wire.fetch });
  let rang = false;
  bob.client.onIncomingCall(() => {
    rang = true;
  });
  const errors: unknown[] = [];
  const got: ReceivedMessage[] = await bob.client.receive({ waitMs: 0, onError: (e) => errors.push(e) });
  assert.ok((backlog[0] ?? 0) >= 1, `the confirm was re-delivered (backlog pages: ${backlog.join(',')})`);
  assert.deepEqual(got, [], 'a call body is never a message');
  assert.equal(rang, false);
  assert.deepEqual(errors, []);
  // This time the batch was written, then acknowledged: nothing comes again.
  backlog.length = 0;
  await bob.client.receive({ waitMs: 0 });
  assert.deepEqual(backlog, [0]);
  await call.hangUp();
});

test('the caller handles the ringing values before their batch is written, but its confirm is sealed and sent only after the write', async (t) => {
  const server = await testServer(t);
  const alice = await side(t, server, 'alice');
  const bob = await side(t, server, 'bob');
  const [aliceMedia, bobMedia] = loopbackPair();
  const rings = ringing(bob.client);
  const call = await alice.client.placeCall('bob', aliceMedia);
  alice.gate.armed = true; // hold alice's write of the ringing's batch
  const putsBefore = alice.wire.requests.filter(isPut).length;
  const incoming = await rings;
  await alice.gate.holding();
  // The ringing values reached the call (s0 and the SAS are derived) while the write is held ...
  await reached(call, 'ringing');
  // ... but the confirm waits for the write: it is sealed under the state that write commits.
  await new Promise((r) => setImmediate(r));
  assert.equal(alice.wire.requests.filter(isPut).length, putsBefore, 'no confirm left before the write');
  alice.gate.release();
  const bobCall = await incoming.accept(bobMedia);
  await Promise.all([reached(call, 'active'), reached(bobCall, 'active')]);
  assert.equal(call.sas?.base32, bobCall.sas?.base32);
  assert.deepEqual(bobMedia.keys?.receive.baseKey, aliceMedia.keys?.send.baseKey);
  assert.deepEqual(alice.errors, []);
  await call.hangUp();
});
