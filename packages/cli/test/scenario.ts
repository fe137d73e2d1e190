// The end-to-end scenario of issue 3 ("Tests"), run by e2e-sqlite.test.ts and e2e-postgres.test.ts:
// `sotto serve` as a child process on an ephemeral loopback port, and two CLI users, Alice
// and Bob, each with their own --home and $SOTTO_PASSPHRASE. They register, exchange messages and
// files in both directions, with the receiver online (a `receive --wait` already running) and
// offline (receiving later); they compare safety numbers and verify; then a malicious server swaps
// Bob's identity key, Alice's client shows `changed` and refuses to send until she accepts the new key;
// and when it swaps the (now only unverified) key once more, the send is refused again.
//
// Every invocation derives the keystore key with production Argon2id (~1 s): the CLI has no weaker
// setting, on purpose. So this is one scenario with ~26 invocations, not many small tests.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@sotto/test-support';
import { CliUser, oneErrorLine, startServe, type RunningServer } from './helpers.ts';

interface JsonMessage {
  readonly kind: 'text' | 'file' | 'delivered';
  readonly from: string;
  readonly id?: string;
  readonly sentAt: number;
  readonly senderState?: string;
  readonly text?: string;
  readonly file?: { name: string; size: number; mime: string; savedAs: string | null };
}

interface JsonContact {
  readonly username: string;
  readonly state: string;
  readonly method?: string;
  readonly wasVerified?: boolean;
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} exited with ${String(r.status)} (signal ${String(r.signal)})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function jsonLines(stdout: string): JsonMessage[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonMessage);
}

const content = (ms: readonly JsonMessage[]): JsonMessage[] => ms.filter((m) => m.kind !== 'delivered');

/** Where the server keeps its data, and how the test plays the malicious operator on it. */
export interface Backend {
  /** Extra `sotto serve` arguments (e.g. --database postgres://...). */
  readonly serveArgs: (dataDir: string) => readonly string[];
  /** Deletes an account straight from the database while the server is stopped (as anyone holding
   *  the database can); resolves to the number of rows deleted. */
  readonly deleteAccount: (dataDir: string, username: string) => Promise<number>;
}

/** The whole scenario against a server on `backend`. */
export async function twoUsersScenario(backend: Backend): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-e2e-'));
  const dataDir = join(dir, 'data');
  let server: RunningServer | undefined = await startServe(dataDir, backend.serveArgs(dataDir));
  try {
    const alice = new CliUser(join(dir, 'alice'), 'alice passphrase, long enough');
    const bob = new CliUser(join(dir, 'bob'), 'bob has another one');

    // --- registration (in parallel: each pays Argon2id) --------------------------------------------
    const [ra, rb] = await Promise.all([alice.run(['--server', server.url, 'register', 'alice']), bob.run(['--server', server.url, 'register', 'Bob'])]);
    assert.match(ok(ra, 'alice register').stdout, /^registered alice on http:\/\/127\.0\.0\.1:\d+; keystore in /);
    assert.match(ok(rb, 'bob register').stdout, /^registered bob on /, 'usernames are case-folded (docs/protocol/09 §9.2)');
    // The server URL is stored in the keystore: from now on no --server is needed.

    // --- Alice → Bob, text, Bob offline; Bob receives later (readable form) --------------------------
    assert.match(ok(await alice.run(['send', 'bob', 'Hello Bob, 1st message']), 'alice send').stdout, /^sent message to bob \(unverified\), id [A-Za-z0-9_-]{22}$/m);
    const bobFirst = ok(await bob.run(['receive']), 'bob receive').stdout;
    assert.match(bobFirst, /^\d{4}-\d\d-\d\d \d\d:\d\d {2}alice \(unverified\): Hello Bob, 1st message$/m);

    // --- Alice → Bob, a file, Bob online (receive --wait already running) --------------------------
    const bobSaves = join(dir, 'bob-files');
    const bobListening = bob.start(['receive', '--wait', '120', '--json', '--save-dir', bobSaves]);
    await bobListening.waitFor(/sotto: listening;/, { stream: 'stderr' });
    const report = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 0xff);
    writeFileSync(join(dir, 'report.bin'), report);
    assert.match(ok(await alice.run(['send-file', 'bob', join(dir, 'report.bin')]), 'alice send-file').stdout, /^sent file report\.bin \(70\.0 kB\) to bob/m);
    await bobListening.waitFor(/"kind":"file"/);
    const bobLive = await bobListening.stop('SIGINT');
    assert.equal(bobLive.status, 0, `receive --wait stops cleanly on SIGINT\n${bobListening.stderr()}`);
    const [fileMsg, ...more] = content(jsonLines(bobListening.stdout()));
    assert.ok(fileMsg !== undefined && more.length === 0, bobListening.stdout());
    assert.equal(fileMsg.from, 'alice');
    assert.equal(fileMsg.senderState, 'unverified');
    assert.equal(typeof fileMsg.id, 'string');
    assert.equal(typeof fileMsg.sentAt, 'number');
    assert.deepEqual(fileMsg.file, { name: 'report.bin', size: 70_000, mime: 'application/octet-stream', savedAs: join(bobSaves, 'report.bin') });
    assert.deepEqual(new Uint8Array(readFileSync(join(bobSaves, 'report.bin'))), report, 'the file arrives byte for byte');

    // --- Bob → Alice, text, Alice online ------------------------------------------------------------
    const aliceListening = alice.start(['receive', '--wait', '120', '--json']);
    await aliceListening.waitFor(/sotto: listening;/, { stream: 'stderr' });
    ok(await bob.run(['send', 'alice', 'Hi Alice! got "report.bin"\nsecond line']), 'bob send');
    await aliceListening.waitFor(/"kind":"text"/);
    assert.equal((await aliceListening.stop('SIGTERM')).status, 0, 'receive --wait stops cleanly on SIGTERM');
    const aliceLive = content(jsonLines(aliceListening.stdout()));
    assert.deepEqual(
      aliceLive.map((m) => [m.kind, m.from, m.text, m.senderState]),
      [['text', 'bob', 'Hi Alice! got "report.bin"\nsecond line', 'unverified']],
    );

    // --- Bob → Alice, a file, Alice offline; a name already taken in her folder is not overwritten ---
    const aliceSaves = join(dir, 'alice-files');
    mkdirSync(aliceSaves);
    writeFileSync(join(aliceSaves, 'notes.txt'), 'Alice own notes');
    writeFileSync(join(dir, 'notes.txt'), 'Bob notes for Alice\n');
    ok(await bob.run(['send-file', 'alice', join(dir, 'notes.txt')]), 'bob send-file');
    const aliceLater = content(jsonLines(ok(await alice.run(['receive', '--json', '--save-dir', aliceSaves]), 'alice receive').stdout));
    assert.deepEqual(
      aliceLater.map((m) => [m.kind, m.from, m.file]),
      [['file', 'bob', { name: 'notes.txt', size: 20, mime: 'text/plain', savedAs: join(aliceSaves, 'notes-1.txt') }]],
    );
    assert.equal(readFileSync(join(aliceSaves, 'notes.txt'), 'utf8'), 'Alice own notes', 'an existing file is never overwritten');
    assert.equal(readFileSync(join(aliceSaves, 'notes-1.txt'), 'utf8'), 'Bob notes for Alice\n');

    // --- trust: unverified on first use; the same safety number on both sides; verify ------------------
    const contactsBefore = JSON.parse(ok(await alice.run(['contacts', '--json']), 'alice contacts').stdout) as JsonContact[];
    assert.deepEqual(contactsBefore.map((c) => [c.username, c.state]), [['bob', 'unverified']]);
    const [sa, sb] = await Promise.all([alice.run(['safety-number', 'bob']), bob.run(['safety-number', 'alice'])]);
    const digitsOf = (r: RunResult): string => {
      const rows = ok(r, 'safety-number').stdout.split('\n').filter((l) => /^ {4}(\d{5} ){3}\d{5}$/.test(l));
      assert.equal(rows.length, 3, r.stdout);
      assert.match(r.stdout, /[█▀▄]{20}/, 'a QR code is drawn');
      return rows.join('').replace(/\s/g, '');
    };
    const number = digitsOf(sa);
    assert.match(number, /^\d{60}$/);
    assert.equal(digitsOf(sb), number, 'both sides see the same safety number');
    // A wrong number changes nothing (one line, status 1); the right one verifies.
    const wrongDigits = `${number.slice(0, 59)}${String((Number(number[59]) + 1) % 10)}`;
    const wrong = await alice.run(['verify', 'bob', wrongDigits]);
    assert.equal(wrong.status, 1);
    assert.match(oneErrorLine(wrong), /^sotto: the safety number does not match bob's current key; nothing changed/);
    const groups = number.match(/\d{5}/g) ?? [];
    assert.equal(ok(await alice.run(['verify', 'bob', ...groups]), 'alice verify').stdout, 'bob is now verified (safety number)\n');
    const contactsVerified = JSON.parse(ok(await alice.run(['contacts', '--json']), 'alice contacts').stdout) as JsonContact[];
    assert.deepEqual(contactsVerified.map((c) => [c.username, c.state, c.method]), [['bob', 'verified', 'safety-number']]);

    // --- a malicious server swaps Bob's identity key ------------------------------------------------
    // Realistic and independent of how the server encodes prekeys: the operator stops the server,
    // deletes Bob's account straight from the database (what anyone holding the database can do),
    // restarts it, and registers "bob" again with a fresh identity through the ordinary API — here
    // with the sotto CLI in Mallory's home. Every valid-looking key the server now hands out for
    // "bob" is Mallory's; nothing in the protocol lets Alice's client tell, except her trust store.
    assert.equal((await server.proc.stop('SIGTERM')).status, 0, 'the server shuts down cleanly on SIGTERM');
    server = undefined;
    assert.equal(await backend.deleteAccount(dataDir, 'bob'), 1);
    server = await startServe(dataDir, backend.serveArgs(dataDir));
    const mallory = new CliUser(join(dir, 'mallory'), 'mallory owns the server');
    ok(await mallory.run(['--server', server.url, 'register', 'bob']), 'mallory registers bob');

    // The server moved to another port: --server overrides the stored URL.
    const refused = await alice.run(['--server', server.url, 'send', 'bob', 'are you still Bob?']);
    assert.equal(refused.status, 1, `a send to a verified contact whose key changed is refused\n${refused.stdout}${refused.stderr}`);
    assert.equal(refused.stdout, '');
    assert.match(oneErrorLine(refused), /^sotto: not sent: bob's identity key has CHANGED since you verified it, so someone may be intercepting\. .*sotto trust bob --accept-new-key/);
    const contactsChanged = JSON.parse(ok(await alice.run(['--server', server.url, 'contacts', '--json']), 'alice contacts').stdout) as JsonContact[];
    assert.deepEqual(contactsChanged.map((c) => [c.username, c.state, c.wasVerified]), [['bob', 'changed', true]]);

    // Accepting the new key (without verifying) lets messages through again — to the new key.
    assert.match(ok(await alice.run(['--server', server.url, 'trust', 'bob', '--accept-new-key']), 'alice trust').stdout, /^accepted bob's new key; bob is now unverified$/m);
    ok(await alice.run(['--server', server.url, 'send', 'bob', 'sent after accepting the new key']), 'alice send after trust');
    const mallorySees = content(jsonLines(ok(await mallory.run(['receive', '--json']), 'mallory receive').stdout));
    assert.deepEqual(mallorySees.map((m) => [m.from, m.text]), [['alice', 'sent after accepting the new key']], 'only what was sent after accepting reaches the new key');
    assert.ok(!mallorySees.some((m) => m.text === 'are you still Bob?'), 'the refused message was never sent');

    // --- the key changes again, now for a contact that is only unverified: refused as well ---------
    // (docs/protocol/10 §10.4: a changed contact gets nothing until the user confirms, verified or not.)
    assert.equal((await server.proc.stop('SIGTERM')).status, 0);
    server = undefined;
    assert.equal(await backend.deleteAccount(dataDir, 'bob'), 1);
    server = await startServe(dataDir, backend.serveArgs(dataDir));
    const eve = new CliUser(join(dir, 'eve'), 'eve also wants to be bob');
    ok(await eve.run(['--server', server.url, 'register', 'bob']), 'eve registers bob');
    const refusedUnverified = await alice.run(['--server', server.url, 'send', 'bob', 'is this still you?']);
    assert.equal(refusedUnverified.status, 1, `a send to an unverified contact whose key changed is refused\n${refusedUnverified.stdout}${refusedUnverified.stderr}`);
    assert.equal(refusedUnverified.stdout, '');
    assert.match(oneErrorLine(refusedUnverified), /^sotto: not sent: bob's identity key has CHANGED since you first saw it \(a new device, or someone intercepting\)\. Compare safety numbers with bob .*sotto trust bob --accept-new-key/);
    const contactsChangedAgain = JSON.parse(ok(await alice.run(['--server', server.url, 'contacts', '--json']), 'alice contacts').stdout) as JsonContact[];
    assert.deepEqual(contactsChangedAgain.map((c) => [c.username, c.state, c.wasVerified]), [['bob', 'changed', false]]);
    assert.deepEqual(content(jsonLines(ok(await eve.run(['receive', '--json']), 'eve receive').stdout)), [], 'the new key received nothing');

    // --- a wrong passphrase is one clear line ------------------------------------------------------
    const wrongPass = await alice.run(['contacts'], { SOTTO_PASSPHRASE: 'not alice passphrase' });
    assert.equal(wrongPass.status, 1);
    assert.equal(oneErrorLine(wrongPass), `sotto: wrong passphrase for the keystore in ${alice.home}`);
    assert.equal(wrongPass.stdout, '');
    assert.ok(existsSync(join(alice.home)), 'the keystore is still there');
  } finally {
    if (server !== undefined) await server.proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
