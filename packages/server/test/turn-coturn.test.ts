// TURN credentials against a real coturn (docs/protocol/11 §11.7): a real Sotto server (startServer,
// loopback, SQLite in a temporary directory) started with coturn's secret hands a device credentials
// over HTTP, and coturn's own client, turnutils_uclient, performs real TURN Allocate requests with
// them (two clients relaying packets to each other through their allocations). A credential with one
// character changed, one minted an hour in the past (expired) and one minted under another secret
// are refused by coturn. Nothing is mocked; everything stays on 127.0.0.1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTurnCredentialsResponse, type TurnCredentialsResponse } from '@sotto/protocol';
import { mintTurnCredentials, startServer, type RunningServer } from '@sotto/server';
import { runProcess, type RunResult } from '@sotto/test-support';
import { startCoturn, type Coturn } from './fixtures/coturn.ts';
import { authenticate, bearer, expectError, expectOk, newUser, register, viaNetwork, type Http } from './support.ts';

const ACCOUNT = 'turn_caller_alice';

let coturn: Coturn;
let server: RunningServer;
let plain: RunningServer;
let http: Http;
let token: Uint8Array;
const dir = mkdtempSync(join(tmpdir(), 'sotto-turn-coturn-'));

before(async () => {
  coturn = await startCoturn();
  server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'turn'), webDir: false, turn: { urls: [coturn.url], secret: coturn.secret } });
  plain = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'plain'), webDir: false });
  http = viaNetwork(server.url);
  const alice = await newUser(ACCOUNT);
  await register(http, alice);
  token = await authenticate(http, alice);
});

after(async () => {
  await server.close();
  await plain.close();
  await coturn.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** TURN Allocates by coturn's test client: `-y` runs two clients that each allocate a relay and send
 *  `-n messages` to each other's relay address (so packets really cross the relay), `-c` skips the
 *  extra RTCP allocations. Exit status 0 only when every allocation succeeded. */
function allocate(username: string, credential: string, messages = 1): Promise<RunResult> {
  return runProcess('turnutils_uclient', ['-u', username, '-w', credential, '-p', String(coturn.port), '-n', String(messages), '-c', '-y', '127.0.0.1'], { timeoutMs: 60_000 });
}

const describe = (r: RunResult): string => `uclient exit ${String(r.status)}\n--- uclient ---\n${r.stdout}${r.stderr}\n--- coturn ---\n${coturn.log().slice(-4000)}`;

function assertRefused(r: RunResult, why: string): void {
  assert.notEqual(r.status, 0, `${why}: coturn should refuse\n${describe(r)}`);
  assert.match(r.stdout + r.stderr, /Cannot complete Allocation/, `${why}: refused at Allocate\n${describe(r)}`);
}

async function fetchCredentials(): Promise<TurnCredentialsResponse> {
  return decodeTurnCredentialsResponse(await expectOk(await http('GET', '/v1/calls/turn', { headers: bearer(token) }), 200, 'GET /v1/calls/turn'));
}

test('coturn accepts the credentials the server hands out: two real Allocates relay packets', async () => {
  const creds = await fetchCredentials();
  assert.deepEqual(creds.urls, [coturn.url]);
  assert.equal(creds.ttl, 3600);
  const r = await allocate(creds.username, creds.credential);
  assert.equal(r.status, 0, describe(r));
  const totals = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(r.stdout + r.stderr);
  assert.ok(totals !== null && Number(totals[2]) >= 1, `packets relayed through the allocations\n${describe(r)}`);
  // §11.7: the TURN server's logs do not say who called.
  assert.ok(!coturn.log().includes(ACCOUNT), 'coturn never sees the account name');
});

test('coturn refuses a tampered credential, an expired one and one under another secret', async () => {
  const creds = await fetchCredentials();
  const first = creds.credential.charAt(0);
  const tampered = (first === 'A' ? 'B' : 'A') + creds.credential.slice(1);
  assertRefused(await allocate(creds.username, tampered), 'tampered credential');
  // The same username with a changed random part: the HMAC no longer matches.
  const [expiry] = creds.username.split(':');
  assertRefused(await allocate(`${expiry ?? ''}:AAAAAAAAAAAAAAAAAAAAAA`, creds.credential), 'tampered username');

  // Minted with the right secret by a clock two hours behind: the expiry passed an hour ago.
  const expired = mintTurnCredentials({ urls: [coturn.url], secret: coturn.secret, nowMs: Date.now() - 2 * 3600 * 1000, random: randomBytes(16) });
  assertRefused(await allocate(expired.username, expired.credential), 'expired credential');
  // Control: the same minting with the real clock is accepted, so only the expiry made the difference.
  const fresh = mintTurnCredentials({ urls: [coturn.url], secret: coturn.secret, nowMs: Date.now(), random: randomBytes(16) });
  const ok = await allocate(fresh.username, fresh.credential, 0);
  assert.equal(ok.status, 0, `control: fresh credential\n${describe(ok)}`);

  const otherSecret = mintTurnCredentials({ urls: [coturn.url], secret: randomBytes(32).toString('hex'), nowMs: Date.now(), random: randomBytes(16) });
  assertRefused(await allocate(otherSecret.username, otherSecret.credential), 'another secret');
});

test('a server started without TURN answers 404 over HTTP', async () => {
  const h = viaNetwork(plain.url);
  const bob = await newUser('turn_plain_bob');
  await register(h, bob);
  await expectError(await h('GET', '/v1/calls/turn', { headers: bearer(await authenticate(h, bob)) }), 404, 'ERR_API_NOT_FOUND', 'no TURN');
});
