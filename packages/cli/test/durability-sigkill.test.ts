// Issue 3 ("Tests"): "the server is killed with SIGKILL in the middle of a burst of 1,000 messages and
// restarted, and every message sent is received exactly once" — once with SQLite, once with
// PostgreSQL.
//
// The server is the real `sotto serve` child process on a loopback port chosen up front, so that it
// can be restarted on the same port and the clients need not be told. Alice and Bob are SDK clients
// (@sotto/client) in this process. Alice sends 1,000 distinct texts to Bob through the SDK's ordinary
// send path (outbox, retries, docs/protocol/10 §10.5), CONCURRENCY at a time; Bob listens live. Once
// KILL_AFTER sends have been acknowledged, the server gets SIGKILL with sends in flight, and is
// started again DOWN_MS later. Then:
// - every text reached Bob exactly once (none missing, none twice: docs/protocol/09 §9.7 "the
//   acknowledgement means on disk", §9.8 at-least-once delivery, docs/protocol/10 §10.5 de-duplication);
// - Bob's queue on the server is empty (everything acknowledged) and Alice's outbox is empty.
//
// The one injected fault: a SIGKILL loses the answers of what the server stored in its last instant
// (stored, not yet answered), the hardest case for "exactly once" — the sender must send again, and the
// receiver may already have the message. That instant is too short to catch a request reliably, so
// from the kill point on, Alice's fetch withholds the 200 answers of the PUTs that complete, kills the
// server once it holds at least one, and then fails them as "no answer" — every run has messages the
// server stored and the client does not know about.
//
// How a send that fails is retried follows the SDK's contract (client.ts `sendText`): a message that
// was sealed and put in the outbox stays there when one call gives up, and `flushOutbox` delivers it
// later, with the same id and envelope; a call that failed before sealing (the directory lookup that
// precedes every send, §10.4) sent nothing, and the application sends again. The error alone does
// not say which of the two happened, so the test tells them apart by what the client put on the wire:
// the injected fetch notes, per message, whether a PUT /v1/messages was attempted for it
// (AsyncLocalStorage names the message of each request). Guessing wrong would show up as a duplicate
// (sent again although queued) or a loss (queued message dropped), which the assertions catch.
//
// The server runs with its default rate limits, as `sotto serve` does; a 429 is retried like any
// other retryable failure. Timeouts here only guard against a hang; timings are reported, never
// asserted.
import { AsyncLocalStorage } from 'node:async_hooks';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ClientError, createAccount, type FetchLike, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { nodeWebSocket, openSoftwareKeystore, softwareKeystore } from '@sotto/client/node';
import { SQLITE_FILE } from '@sotto/server';
import { freePort, startProcess, type ProcessExit, type StartedProcess } from '@sotto/test-support';
import { startPostgresCluster } from '../../store/test/fixtures/postgres-cluster.ts';
import { SOTTO, cleanEnv } from './helpers.ts';

/** Messages in the burst (issue 3). */
const BURST = 1000;
/** Sends in flight at a time: enough to keep the server busy, as a busy client would. */
const CONCURRENCY = 32;
/** Acknowledged sends before the kill: well inside the burst, with most of it still to come. */
const KILL_AFTER = 400;
/** How long the server stays dead before it is started again. */
const DOWN_MS = 500;
/** Hang guard for one phase (never an assertion about speed). */
const GUARD_MS = 180_000;
/** TESTS ONLY: weak Argon2id, so keystores open in milliseconds (the KDF is tested in packages/client). */
const WEAK_KDF = { m: 8, t: 1, p: 1 } as const;
const PASS = 'durability test passphrase';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** `sotto serve --port <port>`; resolves once it printed that it listens there. */
async function serveOn(port: number, dataDir: string, extra: readonly string[]): Promise<StartedProcess> {
  const proc = startProcess(process.execPath, [SOTTO, 'serve', '--port', String(port), '--data', dataDir, ...extra], { cwd: tmpdir(), env: cleanEnv() });
  const m = await proc.waitFor(/^sotto: listening on http:\/\/127\.0\.0\.1:(\d+)$/m);
  assert.equal(Number(m[1]), port, 'the server listens on the port it was given');
  return proc;
}

/** The SDK's retryable failures (client.ts `retryable`): no answer, or 429 / 5xx. */
function retryable(e: unknown): e is ClientError {
  if (!(e instanceof ClientError)) return false;
  if (e.code === 'ERR_NETWORK' || e.code === 'ERR_BAD_RESPONSE') return true;
  return e.code === 'ERR_SERVER' && e.status !== undefined && (e.status === 429 || e.status >= 500);
}

function withGuard<T>(p: Promise<T>, what: string, describe: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: nothing after ${GUARD_MS} ms (a hang guard, not a speed limit)\n${describe()}`));
    }, GUARD_MS);
  });
  return Promise.race([p, guard]).finally(() => {
    clearTimeout(timer);
  });
}

interface Backend {
  /** Extra `sotto serve` arguments (e.g. --database postgres://...). */
  readonly serveArgs: readonly string[];
  /** Messages left in `username`'s queue, read from the database after the server stopped. */
  readonly queued: (dataDir: string, username: string) => Promise<number>;
}

async function sigkillMidBurst(backend: Backend, diagnostic: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-durability-'));
  const dataDir = join(dir, 'data');
  const started = Date.now();
  let server: StartedProcess | undefined;
  const clients: SottoClient[] = [];
  try {
    // A port chosen up front (retried if another process takes it before the server binds it).
    let port = 0;
    for (let attempt = 1; server === undefined; attempt++) {
      port = await freePort();
      try {
        server = await serveOn(port, dataDir, backend.serveArgs);
      } catch (e) {
        if (attempt === 3) throw e;
      }
    }
    const url = `http://127.0.0.1:${port}`;

    // Alice's fetch notes, per burst message, whether a PUT /v1/messages went out for it: then the
    // message was sealed and is in her outbox until the server acknowledges it (see the header).
    // Around the kill it also withholds answers (the injected fault, see below), and it counts what
    // came back, for the report at the end.
    const sending = new AsyncLocalStorage<number>();
    const putAttempted = new Set<number>();
    const answers = new Map<string, number>();
    let putsOutstanding = 0;
    let withholding = false;
    const withheld: (() => void)[] = [];
    const withheldIds = new Set<number>();
    let answerWithheld: () => void = () => undefined;
    const someWithheld = new Promise<void>((resolve) => {
      answerWithheld = resolve;
    });
    const aliceFetch: FetchLike = async (u, init) => {
      const i = sending.getStore();
      const isPut = init.method === 'PUT' && new URL(u).pathname.startsWith('/v1/messages/');
      if (i !== undefined && isPut) putAttempted.add(i);
      const tally = (what: string): void => {
        const key = `${isPut ? 'PUT message' : init.method} ${what}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      };
      if (isPut) putsOutstanding++;
      try {
        const res = await fetch(u, init);
        tally(String(res.status));
        if (isPut && i !== undefined && res.status === 200 && withholding) {
          // Stored (the server said 200: on disk, §9.7) — but the client never hears it: the answer is
          // held until the server has been killed, then lost, as if the server had died between its
          // commit and its reply. The SDK must send again, and Bob must still see it once.
          await res.arrayBuffer();
          withheldIds.add(i);
          await new Promise<void>((resolve) => {
            withheld.push(resolve);
            answerWithheld();
          });
          throw new TypeError('fetch failed (injected: the answer was lost with the killed server)');
        }
        return res;
      } catch (e) {
        if (!(e instanceof TypeError && e.message.startsWith('fetch failed (injected'))) tally('no answer');
        throw e;
      } finally {
        if (isPut) putsOutstanding--;
      }
    };
    const aliceHome = join(dir, 'alice');
    const alice = await createAccount({ keystore: softwareKeystore(aliceHome, { testOnlyWeakKdf: WEAK_KDF }), webSocket: nodeWebSocket, passphrase: PASS, serverUrl: url, username: 'alice', fetch: aliceFetch });
    clients.push(alice);
    const bob = await createAccount({ keystore: softwareKeystore(join(dir, 'bob'), { testOnlyWeakKdf: WEAK_KDF }), webSocket: nodeWebSocket, passphrase: PASS, serverUrl: url, username: 'bob' });
    clients.push(bob);

    // A conversation first, as before any real burst: the session exists, and Alice holds Bob's
    // profile key, so the burst is sealed (access key, no bearer token, docs/protocol/09 §9.7).
    await alice.sendText('bob', 'hello bob');
    assert.deepEqual((await bob.receive({ waitMs: 0 })).flatMap((m) => (m.kind === 'text' ? [m.text] : [])), ['hello bob']);
    await bob.sendText('alice', 'hello alice');
    assert.ok((await alice.receive({ waitMs: 0 })).some((m) => m.kind === 'text' && m.text === 'hello alice'));

    // Bob listens live through the whole burst, the kill and the restart.
    const texts = Array.from({ length: BURST }, (_, i) => `burst message ${String(i + 1).padStart(4, '0')} of ${BURST}`);
    const wanted = new Set(texts);
    const received = new Map<string, number>();
    const unexpected: ReceivedMessage[] = [];
    const bobErrors = new Map<string, number>();
    let allArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const onBobMessage = (m: ReceivedMessage): void => {
      if (m.kind === 'delivered') return; // Alice's receipt of "hello alice"
      if (m.kind !== 'text' || !wanted.has(m.text)) {
        unexpected.push(m);
        return;
      }
      received.set(m.text, (received.get(m.text) ?? 0) + 1);
      if (received.size === BURST) allArrived();
    };
    const stopListening = bob.listen(onBobMessage, (e) => {
      const code = e instanceof ClientError ? `${e.code}${e.serverCode === undefined ? '' : `/${e.serverCode}`}` : String(e);
      bobErrors.set(code, (bobErrors.get(code) ?? 0) + 1);
    });

    // --- the burst -------------------------------------------------------------------------------
    // 'while down' counts calls that resolved after the kill began: their answers came before it.
    type Phase = 'before kill' | 'while down' | 'after restart';
    let phase: Phase = 'before kill';
    const acked: Record<Phase, number> = { 'before kill': 0, 'while down': 0, 'after restart': 0 };
    let duplicates = 0; // acknowledgements with duplicate: true (stored before the kill, answer lost)
    let resent = 0; // sendText calls that failed before sealing and were made again
    const leftInOutbox = new Set<number>(); // sendText gave up after sealing: flushOutbox's job
    let inFlight = 0;
    let inFlightAtKill = -1;
    let reachedKillPoint: () => void = () => undefined;
    const killPoint = new Promise<void>((resolve) => {
      reachedKillPoint = resolve;
    });

    const sendOne = async (i: number): Promise<void> => {
      const text = texts[i] ?? '';
      for (let attempt = 0; ; attempt++) {
        inFlight++;
        try {
          const sent = await sending.run(i, () => alice.sendText('bob', text));
          acked[phase]++;
          if (sent.duplicate) duplicates++;
          if (acked['before kill'] === KILL_AFTER) reachedKillPoint();
          return;
        } catch (e) {
          if (!retryable(e)) throw e;
          if (putAttempted.has(i)) {
            leftInOutbox.add(i); // sealed and queued: never sent again by hand (that would be a duplicate)
            return;
          }
          if (attempt >= 200) throw new Error(`message ${i}: the directory lookup kept failing`, { cause: e });
          resent++;
          await sleep(Math.max(e.retryAfterMs ?? 0, 100 + Math.min(attempt, 10) * 100));
        } finally {
          inFlight--;
        }
      }
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < BURST) await sendOne(next++);
    };
    const describe = (): string =>
      `acked ${JSON.stringify(acked)}, resent ${resent}, left in outbox ${leftInOutbox.size}, received ${received.size}/${BURST}, ` +
      `bob errors ${JSON.stringify(Object.fromEntries(bobErrors))}\n--- server stderr ---\n${server?.stderr().slice(-4000) ?? ''}`;

    const burstStarted = Date.now();
    const burst = Promise.all(Array.from({ length: CONCURRENCY }, worker));
    burst.catch(() => undefined); // awaited below; a failure before that must not be unhandled

    // --- SIGKILL in the middle, then the same server again on the same port -----------------------
    await withGuard(Promise.race([killPoint, burst]), 'waiting for the kill point', describe);
    assert.ok(acked['before kill'] >= KILL_AFTER && acked['before kill'] < BURST, `the kill comes mid-burst (${describe()})`);
    // A real SIGKILL loses the answers of whatever the server stored in its last instant, but that
    // instant is short and rarely catches a request: make sure it does, every run.
    withholding = true;
    await withGuard(Promise.race([someWithheld, burst]), 'waiting for a stored message to withhold the answer of', describe);
    await sleep(20); // a few more sends get under way
    inFlightAtKill = inFlight;
    const putsAtKill = putsOutstanding - withheld.length;
    phase = 'while down';
    const killedAt = Date.now();
    const killed: ProcessExit = await server.stop('SIGKILL');
    server = undefined;
    withholding = false;
    for (const lose of withheld.splice(0)) lose();
    assert.equal(killed.signal, 'SIGKILL', 'the server died of SIGKILL');
    assert.equal(killed.status, null);
    await sleep(DOWN_MS);
    server = await serveOn(port, dataDir, backend.serveArgs);
    phase = 'after restart';
    const restartedAt = Date.now();

    await withGuard(burst, 'the burst', describe);
    const burstDone = Date.now();
    // What a call gave up on is still in the outbox; flushOutbox sends it with its id and envelope.
    // Flushed until a flush finds nothing left (it rejects while the server stays unreachable).
    let flushed = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const n = await alice.flushOutbox();
        flushed += n;
        if (n === 0) break;
      } catch (e) {
        if (!retryable(e) || attempt >= 20) throw e;
        await sleep(1000);
      }
    }
    assert.equal(flushed, leftInOutbox.size, `flushOutbox delivered exactly what the calls gave up on (${describe()})`);

    await withGuard(arrived, 'waiting for every message at Bob', describe);
    const allReceived = Date.now();
    await stopListening();
    // Whatever is still queued for Bob (nothing, if every delivery was acknowledged) comes now; all
    // of it has been seen, so it is dropped and acknowledged (§10.5): no text may come out of it.
    let late: ReceivedMessage[] | undefined;
    for (let attempt = 0; late === undefined; attempt++) {
      try {
        late = await bob.receive({ waitMs: 0 });
      } catch (e) {
        // The burst may have emptied this address's rate-limit bucket (429): wait as told.
        if (!retryable(e) || attempt >= 20) throw e;
        await sleep(Math.max(e.retryAfterMs ?? 0, 250));
      }
    }
    assert.deepEqual(late.filter((m) => m.kind !== 'delivered'), [], 'no message arrives a second time');

    // --- exactly once --------------------------------------------------------------------------------
    const twice = [...received].filter(([, n]) => n !== 1);
    const missing = texts.filter((t) => !received.has(t));
    assert.deepEqual(twice, [], 'no text was received more than once');
    assert.deepEqual(missing, [], 'no text was lost');
    assert.deepEqual(unexpected, [], 'nothing but the burst and receipts reached Bob');
    assert.equal([...received.values()].reduce((a, b) => a + b, 0), BURST);
    assert.equal(bobErrors.get('ERR_MESSAGE_REJECTED') ?? 0, 0, 'Bob dropped no message as invalid');
    assert.ok(inFlightAtKill > 0, 'sends were in flight when the server was killed');
    assert.ok(withheldIds.size > 0, 'the server had stored messages whose answers the client never got');
    assert.ok(acked['after restart'] > 0, `sends were acknowledged after the restart (${describe()})`);
    assert.equal(acked['before kill'] + acked['while down'] + acked['after restart'] + leftInOutbox.size, BURST);

    // --- the state left behind ---------------------------------------------------------------------
    for (const c of clients.splice(0)) await c.close();
    const ks = await openSoftwareKeystore(aliceHome, PASS, { testOnlyAllowWeakKdf: true });
    try {
      // docs/protocol/10 §10.5; the entry's layout is packages/client/src/messaging/state.ts's.
      const outbox = await ks.get('outbox');
      const items = outbox === undefined ? [] : (JSON.parse(new TextDecoder().decode(outbox)) as { items: unknown[] }).items;
      assert.deepEqual(items, [], "Alice's outbox is empty");
    } finally {
      await ks.close();
    }
    const stopped = await server.stop('SIGTERM');
    server = undefined;
    assert.equal(stopped.status, 0, 'the restarted server shuts down cleanly');
    assert.equal(await backend.queued(dataDir, 'bob'), 0, "Bob's queue on the server is empty: every message was acknowledged");

    diagnostic(
      `burst ${((burstDone - burstStarted) / 1000).toFixed(1)} s (kill at +${((killedAt - burstStarted) / 1000).toFixed(1)} s, ` +
        `back at +${((restartedAt - burstStarted) / 1000).toFixed(1)} s), all at Bob at +${((allReceived - burstStarted) / 1000).toFixed(1)} s, ` +
        `whole test ${((Date.now() - started) / 1000).toFixed(1)} s; acked ${JSON.stringify(acked)}, in flight at the kill ${inFlightAtKill} ` +
        `(PUTs awaiting an answer ${putsAtKill}, stored with the answer lost ${withheldIds.size}), ` +
        `answered duplicate ${duplicates}, re-sent after failing before sealing ${resent}, flushed from the outbox ${flushed}; ` +
        `Bob's listen errors ${JSON.stringify(Object.fromEntries(bobErrors))}; Alice's requests ${JSON.stringify(Object.fromEntries([...answers].sort()))}`,
    );
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    if (server !== undefined) await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sqlite: SIGKILL mid-burst of 1,000 messages and restart: every message arrives exactly once', async (t) => {
  await sigkillMidBurst(
    {
      serveArgs: [],
      queued: (dataDir, username) => {
        const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
        try {
          return Promise.resolve((db.prepare('SELECT count(*) AS n FROM messages WHERE username = ?').get(username) as { n: number }).n);
        } finally {
          db.close();
        }
      },
    },
    (line) => {
      t.diagnostic(line);
    },
  );
});

test('postgres: SIGKILL mid-burst of 1,000 messages and restart: every message arrives exactly once', async (t) => {
  const cluster = await startPostgresCluster();
  try {
    const database = await cluster.createDatabase();
    await sigkillMidBurst(
      {
        serveArgs: ['--database', `postgres://postgres@127.0.0.1:${cluster.port}/${database}`],
        queued: async (_dataDir, username) => Number((await cluster.sql<{ n: string }>('SELECT count(*) AS n FROM messages WHERE username = $1', [username], database))[0]?.n),
      },
      (line) => {
        t.diagnostic(line);
      },
    );
  } finally {
    await cluster.stop();
  }
});
