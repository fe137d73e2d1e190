// What a copy of the server's data holds after a real conversation (docs/server-data.md, issue 3).
// SDK clients alice, bob and carol talk through a real startServer on 127.0.0.1 — first-contact sends
// with a bearer token, sealed sends with access keys, a file, delivery receipts, and messages left
// unacknowledged because bob went offline — then the test takes everything an intruder would: every
// table, row and column, the database files byte for byte (SQLite's file and WAL while the server
// runs and after it stopped; PostgreSQL's database directory and WAL after a checkpoint), the server's
// log lines at debug level and /metrics. It asserts: no plaintext, no sender of a sealed message, no
// contact list, no profile key, access key or token. Every search has a control that runs the same
// code over something that must be found (an identity key, an access-key hash, a queued message), so
// a search that cannot find anything fails instead of passing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { fastProvider as crypto } from '@sotto/crypto';
import {
  IdentityKeyPair,
  accessKeyFromProfileKey,
  decodeAccessKeyHeader,
  decodeAckRequest,
  decodeAttachmentResponse,
  decodeBearerAuthorization,
  decodeRegistrationRequest,
  decodeSendMessageRequest,
  decodeSendMessageResponse,
  decodeTokenResponse,
} from '@sotto/protocol';
import { jsonLogger, limits, startServer, SQLITE_FILE, type RunningServer } from '@sotto/server';
import { createAccount, type FetchLike, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { softwareKeystore } from '@sotto/client/node';
// Test-only: the profile key lives only in the client's encrypted keystore; loadState reads it back.
import { loadState } from '../../client/src/messaging/state.ts';
import { startPostgresCluster, type PostgresCluster } from '../../store/test/fixtures/postgres-cluster.ts';

/** TESTS ONLY: weak Argon2id (the KDF is tested in packages/client). */
const WEAK_KDF = { m: 8, t: 1, p: 1 } as const;
const PASS = 'server data dump passphrase';
const RATE_LIMITS = { perAddress: { capacity: 100_000, refillPerSecond: 100_000 }, perAccount: { capacity: 100_000, refillPerSecond: 100_000 } };
const DAY = limits.STORED_TIME_GRANULARITY_MS;
const MESSAGE_ROUTE = '/v1/messages/:username/:deviceId';

// Usernames long enough that random envelope bytes never spell one by chance (a 3-byte "bob" would,
// about once in 16 MiB); still alice, bob and carol.
const NAMES = { alice: 'alice_dumptest', bob: 'bob_dumptest', carol: 'carol_dumptest' } as const;

/** The tables and columns docs/server-data.md describes, in definition order. A new table or column
 *  fails here until it is documented (and checked by this test). */
const SCHEMA: Record<string, readonly string[]> = {
  accounts: ['username', 'identity_key', 'created_at', 'access_key_hash'],
  devices: ['username', 'device_id', 'created_at', 'last_seen_at'],
  signed_prekeys: ['username', 'device_id', 'prekey_id', 'record'],
  last_resort_kem_prekeys: ['username', 'device_id', 'prekey_id', 'record'],
  one_time_prekeys: ['seq', 'username', 'device_id', 'kind', 'prekey_id', 'record'],
  messages: ['seq', 'username', 'device_id', 'message_id', 'envelope', 'received_at', 'expires_at'],
  attachments: ['id', 'bytes', 'size', 'expires_at'],
  schema_version: ['version', 'name'],
};
const SQLITE_INTERNAL: Record<string, readonly string[]> = {
  sqlite_schema: ['type', 'name', 'tbl_name', 'rootpage', 'sql'],
  sqlite_sequence: ['name', 'seq'],
};
const POSTGRES_INTERNAL: Record<string, readonly string[]> = { pg_sequences: ['sequencename', 'last_value'] };

// ---------------------------------------------------------------------------------------------
// The search: a needle in its raw bytes, as hex, and as base64 / base64url at each of the three
// alignments it can have inside a longer encoded blob.

interface Needle {
  readonly label: string;
  readonly forms: readonly Buffer[];
}

function needle(label: string, value: Uint8Array | string): Needle {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const hex = bytes.toString('hex');
  const forms = new Map<string, Buffer>();
  const add = (b: Buffer): void => {
    forms.set(b.toString('hex'), b);
  };
  add(bytes);
  add(Buffer.from(hex));
  add(Buffer.from(hex.toUpperCase()));
  for (let k = 0; k < 3; k++) {
    // The needle starting k bytes into a 3-byte group of the blob: its bytes from k on that fill
    // whole groups are encoded the same whatever surrounds them.
    const whole = bytes.subarray(k, k + Math.floor((bytes.length - k) / 3) * 3);
    if (whole.length < 9) continue; // too short to be told from chance
    add(Buffer.from(whole.toString('base64')));
    add(Buffer.from(whole.toString('base64url')));
  }
  return { label, forms: [...forms.values()] };
}

function found(haystack: Uint8Array, n: Needle): boolean {
  const h = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  return n.forms.some((f) => h.includes(f));
}

// ---------------------------------------------------------------------------------------------
// Dumps

type Cell = Buffer | string | number | bigint | null;
interface Table {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}
interface ForeignKey {
  readonly table: string;
  readonly references: string;
  readonly columns: readonly string[];
}
interface RawFile {
  readonly name: string;
  readonly bytes: Buffer;
}
interface Dump {
  readonly tables: readonly Table[];
  readonly foreignKeys: readonly ForeignKey[];
  readonly files: readonly RawFile[];
}

function toCell(v: unknown): Cell {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || Buffer.isBuffer(v)) return v;
  throw new Error(`unexpected cell of type ${typeof v}`);
}

function cellBytes(c: Cell): Buffer {
  if (c === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(c)) return c;
  return Buffer.from(String(c), 'utf8');
}

async function filesUnder(dir: string, prefix = ''): Promise<RawFile[]> {
  const out: RawFile[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await filesUnder(p, `${prefix}${name}/`)));
    else out.push({ name: prefix + name, bytes: await readFile(p) });
  }
  return out;
}

/** The SQLite data directory as a thief copies it (the WAL too), then every table of the copy. The
 *  copy is opened, never the live file: opening replays the WAL into the file it opens. */
async function dumpSqlite(dataDir: string, scratch: string): Promise<Dump> {
  const files = await filesUnder(dataDir);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  for (const f of files) if (!f.name.endsWith('-shm')) await writeFile(join(scratch, f.name), f.bytes);
  const db = new Database(join(scratch, SQLITE_FILE), { fileMustExist: true });
  try {
    const names = ['sqlite_schema', ...(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[])];
    const tables: Table[] = [];
    const foreignKeys: ForeignKey[] = [];
    for (const name of names) {
      const stmt = db.prepare(`SELECT * FROM "${name}"`).raw(true);
      const rows = (stmt.all() as unknown[][]).map((r) => r.map(toCell));
      tables.push({ name, columns: stmt.columns().map((c) => c.name), rows });
      const fks = db.pragma(`foreign_key_list("${name}")`) as { id: number; table: string; from: string }[];
      for (const id of new Set(fks.map((f) => f.id))) {
        const parts = fks.filter((f) => f.id === id);
        foreignKeys.push({ table: name, references: parts[0]?.table ?? '', columns: parts.map((p) => p.from) });
      }
    }
    return { tables, foreignKeys, files };
  } finally {
    db.close();
  }
}

/** Every table of the database, the identity sequences, the foreign keys; and, after a CHECKPOINT,
 *  the database's own files and the cluster's WAL as raw bytes. */
async function dumpPostgres(cluster: PostgresCluster, database: string): Promise<Dump> {
  const client = new pg.Client(cluster.config(database));
  await client.connect();
  try {
    const tables: Table[] = [];
    const names = (await client.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r.t);
    for (const name of names) {
      const r = await client.query<unknown[]>({ text: `SELECT * FROM "${name}"`, rowMode: 'array' });
      tables.push({ name, columns: r.fields.map((f) => f.name), rows: r.rows.map((row) => row.map(toCell)) });
    }
    const seq = await client.query<unknown[]>({ text: "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1", rowMode: 'array' });
    tables.push({ name: 'pg_sequences', columns: seq.fields.map((f) => f.name), rows: seq.rows.map((row) => row.map(toCell)) });
    const fk = await client.query<{ tbl: string; ref: string; cols: string[] }>(
      `SELECT c.conrelid::regclass::text AS tbl, c.confrelid::regclass::text AS ref, array_agg(a.attname::text ORDER BY a.attnum) AS cols
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        GROUP BY c.oid, c.conrelid, c.confrelid`,
    );
    const foreignKeys = fk.rows.map((r) => ({ table: r.tbl, references: r.ref, columns: r.cols }));
    await client.query('CHECKPOINT');
    const oid = (await client.query<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = $1', [database])).rows[0]?.oid;
    assert.ok(oid !== undefined);
    const data = join(cluster.dir, 'data');
    const files = [...(await filesUnder(join(data, 'base', String(oid)), 'base/')), ...(await filesUnder(join(data, 'pg_wal'), 'pg_wal/'))];
    return { tables, foreignKeys, files };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The conversation, recorded on the clients' side of the wire

interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly status: number;
  readonly response: Uint8Array;
}

function recordingFetch(log: Exchange[]): FetchLike {
  return async (url, init) => {
    const res = await fetch(url, init);
    const response = new Uint8Array(await res.arrayBuffer());
    const u = new URL(url);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.headers)) headers[k.toLowerCase()] = v;
    const body = init.body === undefined ? new Uint8Array(0) : typeof init.body === 'string' ? new TextEncoder().encode(init.body) : init.body.slice();
    log.push({ method: init.method, path: u.pathname + u.search, headers, body, status: res.status, response });
    return new Response(res.status === 204 || res.status === 304 ? null : response, { status: res.status, headers: res.headers });
  };
}

interface Person {
  readonly name: string;
  readonly home: string;
  readonly client: SottoClient;
}

interface UserSecrets {
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly profileKey: Uint8Array;
  readonly accessKey: Uint8Array;
}

interface Conversation {
  readonly users: readonly UserSecrets[];
  readonly wire: readonly Exchange[];
  readonly plaintexts: readonly Needle[];
  /** Attachment keys from the file messages as received. */
  readonly attachmentKeys: readonly Uint8Array[];
}

const texts = (ms: readonly ReceivedMessage[]): string[] => ms.flatMap((m) => (m.kind === 'text' ? [m.text] : []));

async function converse(serverUrl: string, dir: string): Promise<Conversation> {
  const wire: Exchange[] = [];
  const fetchLike = recordingFetch(wire);
  const person = async (name: string): Promise<Person> => {
    const home = join(dir, `home-${name}`);
    const client = await createAccount({ keystore: softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), passphrase: PASS, serverUrl, username: name, fetch: fetchLike });
    return { name, home, client };
  };
  const people: Person[] = [];
  try {
    people.push(await person(NAMES.alice), await person(NAMES.bob), await person(NAMES.carol));
    return await talk(people, wire);
  } finally {
    for (const p of people) await p.client.close();
  }
}

async function talk(people: readonly Person[], wire: readonly Exchange[]): Promise<Conversation> {
  const [alice, bob, carol] = people;
  assert.ok(alice !== undefined && bob !== undefined && carol !== undefined);
  const tag = randomBytes(6).toString('hex');
  const T = (n: number, words: string): string => `message ${n} ${tag}: ${words} — ünïcödé ✓`;
  const t = [
    T(1, 'alice to bob, first contact, meet at the old mill at dawn'),
    T(2, 'bob to alice, sealed: bring the second key'),
    T(3, 'alice to bob, sealed: the second key is under the stone'),
    T(4, 'carol to alice, first contact: I heard about the mill'),
    T(5, 'alice to carol, sealed: who told you about the mill'),
    T(6, 'alice to bob while bob is offline: plans changed'),
    T(7, 'alice to bob while bob is offline: the bridge at noon'),
    T(8, 'carol to bob while bob is offline, first contact: hello bob'),
  ] as const;
  const fileName = `mill-plans-${tag}.txt`;
  const fileBytes = new TextEncoder().encode(`secret mill plans ${tag}\n`.repeat(300));

  await alice.client.sendText(bob.name, t[0]); // bearer: alice has no profile key of bob's yet
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), [t[0]]); // + a sealed receipt to alice
  await bob.client.sendText(alice.name, t[1]); // sealed
  assert.deepEqual(texts(await alice.client.receive({ waitMs: 0 })), [t[1]]); // the receipt, t2; a receipt back
  await alice.client.sendText(bob.name, t[2]); // sealed
  await alice.client.sendFile(bob.name, { name: fileName, mime: 'text/plain', bytes: fileBytes });
  const bobGot = await bob.client.receive({ waitMs: 0 });
  assert.deepEqual(texts(bobGot), [t[2]]);
  const file = bobGot.find((m) => m.kind === 'file');
  assert.ok(file?.kind === 'file');
  assert.equal(file.file.name, fileName);
  assert.deepEqual(await bob.client.downloadFile(file.file), fileBytes);
  await carol.client.sendText(alice.name, t[3]); // bearer: first contact
  assert.deepEqual(texts(await alice.client.receive({ waitMs: 0 })), [t[3]]);
  await alice.client.sendText(carol.name, t[4]); // sealed; carol never fetches it
  // bob is offline from here on: these stay in his queue.
  await alice.client.sendText(bob.name, t[5]);
  await alice.client.sendText(bob.name, t[6]);
  await carol.client.sendText(bob.name, t[7]); // bearer: first contact

  for (const p of people) await p.client.close(); // idempotent; the keystores are read back below
  const users: UserSecrets[] = [];
  for (const p of people) {
    const ks = await softwareKeystore(p.home, { testOnlyWeakKdf: WEAK_KDF }).open(PASS);
    try {
      const s = await loadState(ks);
      const identity = await IdentityKeyPair.fromSeed(crypto, s.account.identitySeed);
      users.push({ name: p.name, identityKey: identity.publicKey, profileKey: s.account.profileKey, accessKey: accessKeyFromProfileKey(crypto, s.account.profileKey) });
    } finally {
      await ks.close();
    }
  }
  const mid = Math.floor(fileBytes.length / 2);
  return {
    users,
    wire,
    plaintexts: [
      ...t.map((x, i) => needle(`text ${i + 1}`, x)),
      needle('file name', fileName),
      needle('file content (start)', fileBytes.subarray(0, 48)),
      needle('file content (middle)', fileBytes.subarray(mid, mid + 48)),
    ],
    attachmentKeys: [Buffer.from(file.file.key, 'base64url')],
  };
}

// ---------------------------------------------------------------------------------------------
// What the recorded wire says the server must hold, and must never hold

interface Expected {
  /** hex(message id) → recipient and envelope of every message sent and never acknowledged. */
  readonly queued: ReadonlyMap<string, { readonly recipient: string; readonly envelope: Uint8Array }>;
  readonly enqueued: number;
  readonly attachmentBlobs: readonly Uint8Array[];
  readonly attachmentIds: readonly Uint8Array[];
  readonly messageIds: readonly Uint8Array[];
  readonly tokens: readonly Uint8Array[];
  readonly bearerSends: number;
  readonly sealedSends: number;
}

function expectedFrom(c: Conversation): Expected {
  const sent = new Map<string, { recipient: string; envelope: Uint8Array }>();
  const acked = new Set<string>();
  const tokens = new Map<string, Uint8Array>();
  const attachmentBlobs: Uint8Array[] = [];
  const attachmentIds: Uint8Array[] = [];
  const messageIds: Uint8Array[] = [];
  let enqueued = 0;
  let bearerSends = 0;
  let sealedSends = 0;
  const keep = (token: Uint8Array): void => {
    tokens.set(Buffer.from(token).toString('hex'), token);
  };
  for (const x of c.wire) {
    const authorization = x.headers.authorization;
    if (authorization !== undefined) keep(decodeBearerAuthorization(authorization));
    if (x.status !== 200 && x.status !== 201) continue;
    if (x.method === 'POST' && x.path === '/v1/auth/token') keep(decodeTokenResponse(x.response).token);
    const send = /^\/v1\/messages\/([a-z0-9_]+)\/1$/.exec(x.path);
    if (x.method === 'PUT' && send !== null) {
      const req = decodeSendMessageRequest(x.body);
      sent.set(Buffer.from(req.id).toString('hex'), { recipient: send[1] ?? '', envelope: req.envelope });
      messageIds.push(req.id);
      if (!decodeSendMessageResponse(x.response).duplicate) enqueued++;
      if (x.headers['sotto-access-key'] !== undefined) sealedSends++;
      else bearerSends++;
    }
    if (x.method === 'POST' && x.path === '/v1/messages/ack') for (const id of decodeAckRequest(x.body).ids) acked.add(Buffer.from(id).toString('hex'));
    if (x.method === 'POST' && x.path === '/v1/attachments') {
      attachmentBlobs.push(x.body);
      attachmentIds.push(decodeAttachmentResponse(x.response).id);
    }
  }
  const queued = new Map([...sent].filter(([id]) => !acked.has(id)));
  return { queued, enqueued, attachmentBlobs, attachmentIds, messageIds, tokens: [...tokens.values()], bearerSends, sealedSends };
}

/** Secrets that must appear nowhere: profile keys, access keys (raw), tokens and their hashes,
 *  attachment keys. */
function secretNeedles(c: Conversation, e: Expected): Needle[] {
  return [
    ...c.users.flatMap((u) => [needle(`${u.name}'s profile key`, u.profileKey), needle(`${u.name}'s access key`, u.accessKey)]),
    ...e.tokens.flatMap((tk, i) => [needle(`token ${i}`, tk), needle(`SHA-256 of token ${i}`, crypto.sha256(tk))]),
    ...c.attachmentKeys.map((k, i) => needle(`attachment key ${i}`, k)),
  ];
}

const ADDRESS_NEEDLES = [needle('the clients\' address', '127.0.0.1')];

// ---------------------------------------------------------------------------------------------
// The checks

function checkSchema(dump: Dump, internal: Record<string, readonly string[]>): void {
  const want = { ...SCHEMA, ...internal };
  assert.deepEqual(
    Object.fromEntries(dump.tables.map((t) => [t.name, t.columns])),
    Object.fromEntries(Object.keys(want).sort().map((k) => [k, want[k]])),
    'every table and column is one docs/server-data.md describes',
  );
  // No contact list by construction: a table that names accounts names at most one, through its
  // `username` column (and a device of that same account), never a second account.
  const byTable = new Map<string, ForeignKey[]>();
  for (const fk of dump.foreignKeys) byTable.set(fk.table, [...(byTable.get(fk.table) ?? []), fk]);
  for (const [table, fks] of byTable) {
    assert.equal(fks.length, 1, `${table}: one foreign key at most, got ${JSON.stringify(fks)}`);
    const [fk] = fks;
    assert.ok(fk !== undefined && (fk.references === 'accounts' || fk.references === 'devices'), `${table}: references ${fk?.references ?? '?'}`);
    assert.deepEqual([...fk.columns].sort(), fk.references === 'accounts' ? ['username'] : ['device_id', 'username'], `${table}: the reference is through its own username column`);
  }
  assert.deepEqual([...byTable.keys()].sort(), ['devices', 'last_resort_kem_prekeys', 'messages', 'one_time_prekeys', 'signed_prekeys'], 'the tables that belong to an account');
  for (const t of dump.tables) {
    const userish = t.columns.filter((c) => c !== 'username' && /user|account|sender|from|contact|peer|friend|owner|author/i.test(c));
    assert.deepEqual(userish, [], `${t.name}: no second column naming a person`);
  }
}

function checkRows(dump: Dump, c: Conversation, e: Expected, forbidden: readonly Needle[]): void {
  const userNeedles = c.users.map((u) => ({ name: u.name, username: needle(`${u.name}'s username`, u.name), identityKey: needle(`${u.name}'s identity key`, u.identityKey) }));
  const table = (name: string): Table => {
    const t = dump.tables.find((x) => x.name === name);
    assert.ok(t !== undefined, `table ${name}`);
    return t;
  };
  const col = (t: Table, row: readonly Cell[], name: string): Cell => row[t.columns.indexOf(name)] ?? null;

  for (const t of dump.tables) {
    const usernameAt = t.columns.indexOf('username');
    for (const [r, row] of t.rows.entries()) {
      const where = `${t.name} row ${r}`;
      const cells = row.map(cellBytes);
      for (const n of forbidden) {
        for (const [i, cell] of cells.entries()) assert.ok(!found(cell, n), `${where}, column ${t.columns[i] ?? '?'}: holds ${n.label}`);
      }
      // Whose row is it? Only its own account's name may be in it, and only in `username`.
      const owner = usernameAt >= 0 ? row[usernameAt] : undefined;
      if (usernameAt >= 0) assert.ok(c.users.some((u) => u.name === owner), `${where}: username is one of the three accounts`);
      for (const u of userNeedles) {
        for (const [i, cell] of cells.entries()) {
          if (i === usernameAt) continue;
          assert.ok(!found(cell, u.username), `${where}, column ${t.columns[i] ?? '?'}: names ${u.name}`);
        }
        if (u.name !== owner) assert.ok(!cells.some((cell) => found(cell, u.identityKey)), `${where} (${String(owner ?? 'no account')}): holds ${u.identityKey.label}`);
      }
    }
  }

  // Controls: what must be there is found by the same search.
  const accounts = table('accounts');
  for (const u of c.users) {
    const mine = accounts.rows.filter((row) => col(accounts, row, 'username') === u.name);
    assert.equal(mine.length, 1, `${u.name}: one accounts row`);
    const row = mine[0] ?? [];
    assert.ok(found(cellBytes(col(accounts, row, 'identity_key')), needle('identity key', u.identityKey)), `control: ${u.name}'s identity key is in the accounts row`);
    assert.ok(found(cellBytes(col(accounts, row, 'access_key_hash')), needle('access-key hash', crypto.sha256(u.accessKey))), `control: SHA-256 of ${u.name}'s access key is stored`);
    assert.equal(Number(col(accounts, row, 'created_at')) % DAY, 0, `${u.name}: created_at is a day`);
  }
  const devices = table('devices');
  assert.equal(devices.rows.length, 3);
  for (const row of devices.rows) {
    for (const k of ['created_at', 'last_seen_at']) assert.equal(Number(col(devices, row, k)) % DAY, 0, `devices.${k} is a day, not a moment`);
  }

  const messages = table('messages');
  const stored = new Map(messages.rows.map((row) => [cellBytes(col(messages, row, 'message_id')).toString('hex'), row]));
  assert.deepEqual([...stored.keys()].sort(), [...e.queued.keys()].sort(), 'control: the queue holds exactly what was sent and never acknowledged');
  for (const [id, q] of e.queued) {
    const row = stored.get(id) ?? [];
    assert.equal(col(messages, row, 'username'), q.recipient, 'the row names its recipient');
    assert.ok(cellBytes(col(messages, row, 'envelope')).equals(Buffer.from(q.envelope)), 'the row holds the envelope as sent');
  }
  const bob = NAMES.bob;
  assert.ok(messages.rows.filter((row) => col(messages, row, 'username') === bob).length >= 3, 'bob\'s offline messages wait in his queue');

  const attachments = table('attachments');
  assert.equal(attachments.rows.length, e.attachmentBlobs.length);
  for (const [i, blob] of e.attachmentBlobs.entries()) {
    assert.ok(attachments.rows.some((row) => cellBytes(col(attachments, row, 'bytes')).equals(Buffer.from(blob))), `control: attachment ${i} is stored as uploaded`);
  }
}

/** Raw database files: nothing forbidden; controls: every identity key and a queued message id. */
function checkFiles(files: readonly RawFile[], c: Conversation, e: Expected, forbidden: readonly Needle[], what: string): void {
  assert.ok(files.length > 0, `${what}: files to search`);
  for (const f of files) for (const n of forbidden) assert.ok(!found(f.bytes, n), `${what} ${f.name}: holds ${n.label}`);
  const all = Buffer.concat(files.map((f) => f.bytes));
  for (const u of c.users) assert.ok(found(all, needle('identity key', u.identityKey)), `control: ${u.name}'s identity key is in the ${what}`);
  const [firstQueued] = e.queued.keys();
  assert.ok(firstQueued !== undefined && found(all, needle('queued message id', Buffer.from(firstQueued, 'hex'))), `control: a queued message id is in the ${what}`);
}

const LOG_EVENTS = new Set(['request', 'request.failed', 'store.unavailable', 'sweep', 'sweep.failed', 'ws.failed', 'server.listening', 'server.closed']);
/** The route templates of app.ts (docs/protocol/09), and `unmatched`: what a `route` field may hold. */
const LOG_ROUTES = new Set([
  '/health', '/metrics', '/v1/accounts', '/v1/accounts/:username', '/v1/auth/challenge', '/v1/auth/token', '/v1/keys', '/v1/keys/:username/:deviceId',
  MESSAGE_ROUTE, '/v1/messages', '/v1/messages/ack', '/v1/attachments', '/v1/attachments/:id', '/v1/ws', 'unmatched',
]);
const LOG_FIELDS = new Set(['level', 'event', 'time', 'method', 'route', 'status', 'ms', 'error', 'during', 'messages', 'attachments', 'port']);

/** The server's log lines: only known events and fields, route templates, nothing forbidden. */
function checkLog(lines: readonly string[], c: Conversation, e: Expected, forbidden: readonly Needle[]): void {
  const text = Buffer.from(lines.join(''), 'utf8');
  const sensitive = [
    ...forbidden,
    ...c.users.flatMap((u) => [needle(`${u.name}'s username`, u.name), needle(`${u.name}'s identity key`, u.identityKey)]),
    ...e.messageIds.map((id, i) => needle(`message id ${i}`, id)),
    ...e.attachmentIds.map((id, i) => needle(`attachment id ${i}`, id)),
    ...ADDRESS_NEEDLES,
  ];
  for (const n of sensitive) assert.ok(!found(text, n), `the server log holds ${n.label}`);
  let sends = 0;
  for (const line of lines) {
    assert.ok(line.endsWith('\n'));
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.ok(LOG_EVENTS.has(String(entry.event)), `a log event the docs list: ${line}`);
    for (const k of Object.keys(entry)) assert.ok(LOG_FIELDS.has(k), `a log field the docs list: ${k}`);
    if ('route' in entry) assert.ok(LOG_ROUTES.has(String(entry.route)), `route templates only, never a path: ${String(entry.route)}`);
    if (entry.event === 'request' && entry.route === MESSAGE_ROUTE && entry.status === 200) sends++;
  }
  // Control: the capture is the server's real output — one `request` line per send it answered.
  const answered = c.wire.filter((x) => x.method === 'PUT' && x.path.startsWith('/v1/messages/') && x.status === 200).length;
  assert.ok(answered > 0);
  assert.equal(sends, answered, 'one request line per message send');
}

async function checkMetrics(url: string, c: Conversation, e: Expected): Promise<void> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const body = Buffer.from(text);
  for (const n of [...c.users.map((u) => needle(u.name, u.name)), ...ADDRESS_NEEDLES]) assert.ok(!found(body, n), `/metrics holds ${n.label}`);
  assert.match(text, new RegExp(`^sotto_messages_enqueued_total ${e.enqueued}$`, 'm'), 'control: /metrics counts the enqueued messages');
}

function checkConversation(c: Conversation, e: Expected): void {
  assert.ok(e.bearerSends >= 3, `first-contact sends with a bearer token happened (${e.bearerSends})`);
  assert.ok(e.sealedSends >= 5, `sealed sends with an access key happened (${e.sealedSends})`);
  assert.equal(e.attachmentBlobs.length, 1);
  // The secrets searched for are the real ones: each account registered with this access key, and
  // the sealed sends presented them.
  for (const u of c.users) {
    const reg = c.wire.find((x) => x.method === 'POST' && x.path === '/v1/accounts' && decodeRegistrationRequest(x.body).username === u.name);
    assert.ok(reg !== undefined);
    assert.deepEqual(decodeRegistrationRequest(reg.body).accessKey, u.accessKey, `${u.name}: the access key from the keystore's profile key`);
  }
  const presented = c.wire.flatMap((x) => (x.headers['sotto-access-key'] === undefined ? [] : [Buffer.from(decodeAccessKeyHeader(x.headers['sotto-access-key'])).toString('hex')]));
  assert.ok(c.users.every((u) => presented.includes(Buffer.from(u.accessKey).toString('hex'))), 'every access key was presented on the wire');
  assert.ok(e.tokens.length >= 3, 'tokens were issued');
}

/** A copy of `dump` with `change` applied to the rows of `table` that `pick` selects. */
function doctor(dump: Dump, table: string, pick: (get: (column: string) => Cell) => boolean, change: (row: Cell[], at: (column: string) => number) => void): Dump {
  return {
    ...dump,
    tables: dump.tables.map((t) => {
      if (t.name !== table) return t;
      const at = (column: string): number => t.columns.indexOf(column);
      return {
        ...t,
        rows: t.rows.map((r) => {
          if (!pick((column) => r[at(column)] ?? null)) return r;
          const copy = [...r];
          change(copy, at);
          return copy;
        }),
      };
    }),
  };
}

/** The checks are able to fail: each kind of leak, planted in a copy of a clean dump, is caught. */
function checksCatchPlantedLeaks(clean: Dump, c: Conversation, e: Expected, forbidden: readonly Needle[], lines: readonly string[]): void {
  const [alice, bob] = c.users;
  assert.ok(alice !== undefined && bob !== undefined);
  const toBob = (get: (column: string) => Cell): boolean => get('username') === bob.name;
  const append = (column: string, extra: Uint8Array) => (row: Cell[], at: (column: string) => number): void => {
    row[at(column)] = Buffer.concat([cellBytes(row[at(column)] ?? null), Buffer.from(extra)]);
  };
  const planted: [string, () => void, RegExp][] = [
    ['the sender\'s name in a queued envelope', () => { checkRows(doctor(clean, 'messages', toBob, append('envelope', Buffer.from(alice.name))), c, e, forbidden); }, /names alice_dumptest/],
    ['the sender\'s identity key in a queued envelope', () => { checkRows(doctor(clean, 'messages', toBob, append('envelope', alice.identityKey)), c, e, forbidden); }, /alice_dumptest's identity key/],
    ['a plaintext, base64url-encoded, in an attachment', () => { checkRows(doctor(clean, 'attachments', () => true, append('bytes', Buffer.from(Buffer.from(`..${c.plaintexts[0]?.forms[0]?.toString() ?? ''}`).toString('base64url')))), c, e, forbidden); }, /text 1/],
    ['a raw access key instead of its hash', () => { checkRows(doctor(clean, 'accounts', toBob, (row, at) => { row[at('access_key_hash')] = Buffer.concat([Buffer.from(bob.accessKey), Buffer.alloc(16)]); }), c, e, forbidden); }, /access key/],
    ['a last-seen time to the millisecond', () => { checkRows(doctor(clean, 'devices', toBob, (row, at) => { row[at('last_seen_at')] = Number(row[at('last_seen_at')]) + 12_345; }), c, e, forbidden); }, /last_seen_at is a day/],
    ['a message the queue should not hold any more', () => { checkRows({ ...clean, tables: clean.tables.map((t) => (t.name === 'messages' ? { ...t, rows: t.rows.slice(1) } : t)) }, c, e, forbidden); }, /exactly what was sent/],
    ['a sender column', () => { checkSchema({ ...clean, tables: clean.tables.map((t) => (t.name === 'messages' ? { ...t, columns: [...t.columns, 'sender'] } : t)) }, SQLITE_INTERNAL); }, /docs\/server-data.md describes/],
    ['a second account referenced from a row', () => { checkSchema({ ...clean, foreignKeys: [...clean.foreignKeys, { table: 'messages', references: 'accounts', columns: ['peer'] }] }, SQLITE_INTERNAL); }, /one foreign key at most/],
    ['a token in a database file', () => { checkFiles([...clean.files, { name: 'planted', bytes: Buffer.from(e.tokens[0] ?? []) }], c, e, forbidden, 'files'); }, /token 0/],
    ['a username in a log line', () => { checkLog([...lines, `${JSON.stringify({ level: 'info', event: 'request', route: MESSAGE_ROUTE, user: alice.name })}\n`], c, e, forbidden); }, /alice_dumptest's username/],
  ];
  for (const [what, run, message] of planted) assert.throws(run, message, `planted: ${what}`);
}

// ---------------------------------------------------------------------------------------------
// The tests

test('the search finds a needle raw, as hex and as base64 / base64url at every alignment, and not in random bytes', () => {
  const secret = randomBytes(32);
  const n = needle('secret', secret);
  for (let pad = 0; pad < 3; pad++) {
    const wrapped = Buffer.concat([randomBytes(pad), secret, randomBytes(5)]);
    for (const enc of ['base64', 'base64url', 'hex'] as const) {
      assert.ok(found(Buffer.from(`{"f":"${wrapped.toString(enc)}"}`), n), `${enc}, ${pad} bytes before it`);
    }
  }
  assert.ok(found(Buffer.concat([randomBytes(100), secret, randomBytes(100)]), n), 'raw');
  assert.ok(found(Buffer.from(`x${Buffer.from('message ✓ one').toString('base64url')}`), needle('text', 'message ✓ one')), 'a UTF-8 text in base64url');
  assert.ok(!found(randomBytes(1 << 16), n), 'not in random bytes');
});

test('SQLite: after a conversation the database, its files and the log hold no plaintext, no sender, no contact list, no secret', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sotto-dump-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const lines: string[] = [];
  const server: RunningServer = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logger: jsonLogger((l) => lines.push(l), 'debug'),
    limits: { sweepIntervalMs: 0 },
    rateLimits: RATE_LIMITS,
  });
  t.after(() => server.close());

  const c = await converse(server.url, dir);
  const e = expectedFrom(c);
  checkConversation(c, e);
  const forbidden = [...c.plaintexts, ...secretNeedles(c, e), ...ADDRESS_NEEDLES];

  // While the server runs: the file and its WAL, as copied by someone with disk access.
  const live = await dumpSqlite(dataDir, join(dir, 'copy-live'));
  assert.ok(live.files.some((f) => f.name === `${SQLITE_FILE}-wal` && f.bytes.length > 0), 'the WAL was copied too');
  checkSchema(live, SQLITE_INTERNAL);
  checkRows(live, c, e, forbidden);
  checkFiles(live.files, c, e, forbidden, 'SQLite files (server running)');
  await checkMetrics(server.url, c, e);

  // After a clean stop: the checkpointed file.
  await server.close();
  const stopped = await dumpSqlite(dataDir, join(dir, 'copy-stopped'));
  checkSchema(stopped, SQLITE_INTERNAL);
  checkRows(stopped, c, e, forbidden);
  checkFiles(stopped.files, c, e, forbidden, 'SQLite files (server stopped)');
  checkLog(lines, c, e, forbidden);
  assert.ok(lines.some((l) => l.includes('"event":"server.closed"')), 'the log was captured to the end');
  checksCatchPlantedLeaks(stopped, c, e, forbidden, lines);
});

test('PostgreSQL: the same conversation leaves the same nothing in the tables, the database files, the WAL and both logs', { timeout: 180_000 }, async (t) => {
  const cluster = await startPostgresCluster();
  t.after(() => cluster.stop());
  const dir = await mkdtemp(join(tmpdir(), 'sotto-dump-pg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const database = await cluster.createDatabase();
  const lines: string[] = [];
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'unused'),
    databaseUrl: `postgres://postgres@127.0.0.1:${cluster.port}/${database}`,
    logger: jsonLogger((l) => lines.push(l), 'debug'),
    limits: { sweepIntervalMs: 0 },
    rateLimits: RATE_LIMITS,
  });
  t.after(() => server.close());

  const c = await converse(server.url, dir);
  const e = expectedFrom(c);
  checkConversation(c, e);
  const forbidden = [...c.plaintexts, ...secretNeedles(c, e), ...ADDRESS_NEEDLES];
  await checkMetrics(server.url, c, e);
  await server.close();

  const dump = await dumpPostgres(cluster, database);
  checkSchema(dump, POSTGRES_INTERNAL);
  checkRows(dump, c, e, forbidden);
  checkFiles(dump.files, c, e, forbidden, 'PostgreSQL database files and WAL');
  checkLog(lines, c, e, forbidden);
  // PostgreSQL's own server log: it logs failing statements with their details (a unique violation
  // names the key), and this conversation has none, so it names nobody (docs/server-data.md).
  const pgLog = await readFile(join(cluster.dir, 'server.log'));
  // (It does name its own listening address, so addresses are not searched for here.)
  for (const n of [...c.plaintexts, ...secretNeedles(c, e), ...c.users.map((u) => needle(u.name, u.name))]) assert.ok(!found(pgLog, n), `PostgreSQL's log holds ${n.label}`);
});
