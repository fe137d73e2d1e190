// The software keystore against real files in a fresh temporary directory: round trips, typed errors
// for every way the file can be wrong, atomic writes, no plaintext on disk, redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { sha256 } from '@noble/hashes/sha2.js';
import { ClientError, isClientError, type ClientErrorCode, type Keystore } from '@sotto/client';
import { createSoftwareKeystore, KEYSTORE_FILE, openSoftwareKeystore } from '@sotto/client/node';

// TESTS ONLY: weak Argon2id parameters (m = 8 KiB, t = 1, p = 1) so the suite stays fast.
const WEAK = { testOnlyWeakKdf: { m: 8, t: 1, p: 1 } } as const;
const ALLOW_WEAK = { testOnlyAllowWeakKdf: true } as const;
const PASS = 'correct horse battery staple';

async function freshDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sotto-keystore-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function rejectsWith(p: Promise<unknown>, codes: readonly ClientErrorCode[], label = ''): Promise<ClientErrorCode> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClientError, `${label}: expected a ClientError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `${label}: expected one of ${codes.join(', ')}, got ${e.code}`);
    return e.code;
  }
  assert.fail(`${label}: expected a rejection with ${codes.join(', ')}, got success`);
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A weak-parameter store in a fresh dir holding two entries; returns the dir and its file's bytes. */
async function sampleStore(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; file: Uint8Array }> {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS, WEAK);
  await ks.put('identity', bytes('identity-secret-0123456789'));
  await ks.put('session/1', new Uint8Array([1, 2, 3, 4, 5]));
  await ks.close();
  return { dir, file: new Uint8Array(await readFile(join(dir, KEYSTORE_FILE))) };
}

function withChecksum(file: Uint8Array): Uint8Array {
  const out = file.slice();
  out.set(sha256(out.subarray(0, out.length - 32)), out.length - 32);
  return out;
}

test('round trip across close and reopen; values are copied in and out', async (t) => {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS, WEAK);
  assert.deepEqual(await ks.names(), []);
  const v = bytes('value-one');
  await ks.put('b', v);
  v.fill(0); // mutating the caller's buffer must not reach the store
  await ks.put('a', new Uint8Array(0));
  await ks.put('ünïcode/名前', new Uint8Array([0, 255, 7]));
  await ks.put('gone', bytes('x'));
  assert.equal(await ks.delete('gone'), true);
  assert.equal(await ks.delete('never'), false);
  const got = await ks.get('b');
  assert.deepEqual(got, bytes('value-one'));
  got.fill(0);
  assert.deepEqual(await ks.get('b'), bytes('value-one'));
  await ks.close();
  await ks.close(); // idempotent

  const again = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  assert.deepEqual(await again.names(), ['a', 'b', 'ünïcode/名前']);
  assert.deepEqual(await again.get('a'), new Uint8Array(0));
  assert.deepEqual(await again.get('b'), bytes('value-one'));
  assert.deepEqual(await again.get('ünïcode/名前'), new Uint8Array([0, 255, 7]));
  assert.equal(await again.get('gone'), undefined);
  await again.put('b', bytes('replaced'));
  await again.close();
  const third = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  assert.deepEqual(await third.get('b'), bytes('replaced'));
  await third.close();
  // The file is private to the user, and no temp file is left behind.
  assert.equal((await stat(join(dir, KEYSTORE_FILE))).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(dir), [KEYSTORE_FILE]);
});

test('concurrent writes are serialised and all land', async (t) => {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS, WEAK);
  await Promise.all(Array.from({ length: 20 }, (_, i) => ks.put(`k${String(i).padStart(2, '0')}`, new Uint8Array([i]))));
  await ks.close();
  const again = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  const names = await again.names();
  assert.equal(names.length, 20);
  for (let i = 0; i < 20; i++) assert.deepEqual(await again.get(`k${String(i).padStart(2, '0')}`), new Uint8Array([i]));
  await again.close();
});

test('a wrong passphrase is ERR_KEYSTORE_WRONG_PASSPHRASE and leaves the file byte for byte unchanged', async (t) => {
  const { dir, file } = await sampleStore(t);
  await rejectsWith(openSoftwareKeystore(dir, 'Correct horse battery staple', ALLOW_WEAK), ['ERR_KEYSTORE_WRONG_PASSPHRASE']);
  await rejectsWith(openSoftwareKeystore(dir, 'x', ALLOW_WEAK), ['ERR_KEYSTORE_WRONG_PASSPHRASE']);
  assert.deepEqual(new Uint8Array(await readFile(join(dir, KEYSTORE_FILE))), file);
  assert.deepEqual(await readdir(dir), [KEYSTORE_FILE]);
  const ks = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK); // still opens with the right one
  assert.deepEqual(await ks.get('session/1'), new Uint8Array([1, 2, 3, 4, 5]));
  await ks.close();
});

test('every single-byte corruption is a typed error, never a crash', async (t) => {
  const { dir, file } = await sampleStore(t);
  const path = join(dir, KEYSTORE_FILE);
  for (let i = 0; i < file.length; i++) {
    for (const mask of [0x01, 0xff]) {
      const bad = file.slice();
      bad[i] = (bad[i] ?? 0) ^ mask;
      await writeFile(path, bad);
      const allowed: ClientErrorCode[] = i === 8 ? ['ERR_KEYSTORE_VERSION'] : ['ERR_KEYSTORE_CORRUPT'];
      await rejectsWith(openSoftwareKeystore(dir, PASS, ALLOW_WEAK), allowed, `byte ${i} ^ ${mask}`);
    }
  }
});

test('a deliberate edit with a recomputed checksum is caught by the verifier or the AEAD', async (t) => {
  // The trailing SHA-256 only reports accidents; an attacker can recompute it. Then the header (AAD and
  // key derivation inputs) and the body (AEAD) must still refuse every single-byte change.
  const { dir, file } = await sampleStore(t);
  const path = join(dir, KEYSTORE_FILE);
  const seen = new Map<string, Set<ClientErrorCode>>();
  for (let i = 0; i < file.length - 32; i++) {
    for (const mask of [0x01, 0xff]) {
      const bad = file.slice();
      bad[i] = (bad[i] ?? 0) ^ mask;
      let expect: ClientErrorCode[];
      let region: string;
      if (i < 8) [region, expect] = ['magic', ['ERR_KEYSTORE_CORRUPT']];
      else if (i === 8) [region, expect] = ['version', ['ERR_KEYSTORE_VERSION']];
      else if (i < 21) [region, expect] = ['params', ['ERR_KEYSTORE_CORRUPT', 'ERR_KEYSTORE_WRONG_PASSPHRASE']];
      else if (i < 69) [region, expect] = ['salt+verifier', ['ERR_KEYSTORE_WRONG_PASSPHRASE']];
      else [region, expect] = ['nonce+ciphertext+tag', ['ERR_KEYSTORE_CORRUPT']];
      await writeFile(path, withChecksum(bad));
      const code = await rejectsWith(openSoftwareKeystore(dir, PASS, ALLOW_WEAK), expect, `byte ${i} ^ ${mask} (${region})`);
      const s = seen.get(region) ?? new Set<ClientErrorCode>();
      s.add(code);
      seen.set(region, s);
    }
  }
  assert.deepEqual([...seen.keys()], ['magic', 'version', 'params', 'salt+verifier', 'nonce+ciphertext+tag']);
});

test('truncation at every length and trailing bytes are ERR_KEYSTORE_CORRUPT', async (t) => {
  const { dir, file } = await sampleStore(t);
  const path = join(dir, KEYSTORE_FILE);
  for (let n = 0; n < file.length; n++) {
    await writeFile(path, file.subarray(0, n));
    await rejectsWith(openSoftwareKeystore(dir, PASS, ALLOW_WEAK), ['ERR_KEYSTORE_CORRUPT'], `truncated to ${n}`);
  }
  for (const extra of [new Uint8Array(1), new Uint8Array(32).fill(0xab)]) {
    const longer = new Uint8Array(file.length + extra.length);
    longer.set(file);
    longer.set(extra, file.length);
    await writeFile(path, longer);
    await rejectsWith(openSoftwareKeystore(dir, PASS, ALLOW_WEAK), ['ERR_KEYSTORE_CORRUPT'], `${extra.length} trailing bytes`);
  }
});

test('another format version is ERR_KEYSTORE_VERSION, even with a valid checksum', async (t) => {
  const { dir, file } = await sampleStore(t);
  const path = join(dir, KEYSTORE_FILE);
  for (const v of [0, 2, 255]) {
    const other = file.slice();
    other[8] = v;
    await writeFile(path, withChecksum(other));
    await rejectsWith(openSoftwareKeystore(dir, PASS, ALLOW_WEAK), ['ERR_KEYSTORE_VERSION'], `version ${v}`);
  }
});

test('a missing store is NOT_FOUND; creating over an existing one is EXISTS and changes nothing', async (t) => {
  const empty = await freshDir(t);
  await rejectsWith(openSoftwareKeystore(empty, PASS, ALLOW_WEAK), ['ERR_KEYSTORE_NOT_FOUND']);
  const { dir, file } = await sampleStore(t);
  await rejectsWith(createSoftwareKeystore(dir, 'another passphrase', WEAK), ['ERR_KEYSTORE_EXISTS']);
  assert.deepEqual(new Uint8Array(await readFile(join(dir, KEYSTORE_FILE))), file);
  // Two concurrent creators: exactly one wins.
  const race = await freshDir(t);
  const results = await Promise.allSettled([createSoftwareKeystore(race, PASS, WEAK), createSoftwareKeystore(race, PASS, WEAK)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) {
    if (r.status === 'fulfilled') await r.value.close();
    else assert.ok(isClientError(r.reason, 'ERR_KEYSTORE_EXISTS'));
  }
});

test('changePassphrase: the old passphrase fails, the new one opens the same entries', async (t) => {
  const { dir, file } = await sampleStore(t);
  const ks = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  await rejectsWith(ks.changePassphrase('not the passphrase', 'new one'), ['ERR_KEYSTORE_WRONG_PASSPHRASE']);
  assert.deepEqual(new Uint8Array(await readFile(join(dir, KEYSTORE_FILE))), file);
  await ks.changePassphrase(PASS, 'a brand new passphrase');
  await ks.put('after', bytes('written under the new key'));
  await ks.close();
  await rejectsWith(openSoftwareKeystore(dir, PASS, ALLOW_WEAK), ['ERR_KEYSTORE_WRONG_PASSPHRASE']);
  const again = await openSoftwareKeystore(dir, 'a brand new passphrase', ALLOW_WEAK);
  assert.deepEqual(await again.names(), ['after', 'identity', 'session/1']);
  assert.deepEqual(await again.get('identity'), bytes('identity-secret-0123456789'));
  assert.deepEqual(await again.get('after'), bytes('written under the new key'));
  await again.close();
});

test('a crash between temp write and rename leaves the previous state readable', async (t) => {
  const { dir, file } = await sampleStore(t);
  // Simulate the crash: a later state was fully written to a temp file, another only half-written,
  // and neither was renamed into place.
  const ks = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  await ks.put('newer', bytes('newer state'));
  await ks.close();
  const newer = await readFile(join(dir, KEYSTORE_FILE));
  await writeFile(join(dir, KEYSTORE_FILE), file); // the rename never happened
  await writeFile(join(dir, `${KEYSTORE_FILE}.tmp-0011223344556677`), newer);
  await writeFile(join(dir, `${KEYSTORE_FILE}.tmp-8899aabbccddeeff`), newer.subarray(0, 50));
  const after = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  assert.deepEqual(await after.names(), ['identity', 'session/1']);
  assert.deepEqual(await after.get('identity'), bytes('identity-secret-0123456789'));
  // And it keeps working: the next write replaces the file, the stray temp files are never read.
  await after.put('later', bytes('ok'));
  await after.close();
  const last = await openSoftwareKeystore(dir, PASS, ALLOW_WEAK);
  assert.deepEqual(await last.names(), ['identity', 'later', 'session/1']);
  await last.close();
});

test('the file never contains an entry name, an entry value or the passphrase', async (t) => {
  const dir = await freshDir(t);
  const passphrase = 'PASSPHRASE-MARKER-do-not-store';
  const ks = await createSoftwareKeystore(dir, passphrase, WEAK);
  const entries: [string, string][] = [
    ['NAME-MARKER-identity', 'VALUE-MARKER-identity-private-key'],
    ['NAME-MARKER-session', 'VALUE-MARKER-ratchet-state-bytes'],
  ];
  for (const [n, v] of entries) await ks.put(n, bytes(v));
  await ks.changePassphrase(passphrase, `${passphrase}-2`);
  await ks.close();
  const disk = Buffer.concat(await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f)))));
  for (const needle of [passphrase, 'MARKER', ...entries.flat()]) {
    assert.equal(disk.indexOf(Buffer.from(needle, 'utf8')), -1, `found ${needle} on disk`);
    assert.equal(disk.indexOf(Buffer.from(needle, 'utf16le')), -1, `found ${needle} (UTF-16) on disk`);
  }
});

test('the keystore redacts itself under String, JSON and util.inspect', async (t) => {
  const dir = await freshDir(t);
  const ks: Keystore = await createSoftwareKeystore(dir, PASS, WEAK);
  await ks.put('identity', bytes('SECRET-VALUE'));
  const marker = '[SoftwareKeystore: redacted]';
  assert.equal(String(ks), marker);
  assert.equal(JSON.stringify(ks), JSON.stringify(marker));
  assert.equal(JSON.stringify({ ks }), JSON.stringify({ ks: marker }));
  assert.equal(inspect(ks, { showHidden: true, depth: 10 }), marker);
  assert.equal(inspect({ nested: ks }), `{ nested: ${marker} }`);
  for (const s of [String(ks), JSON.stringify(ks), inspect(ks, { showHidden: true })]) {
    assert.ok(!s.includes('SECRET') && !s.includes(PASS) && !s.includes('identity'));
  }
  await ks.close();
});

test('closed keystores and bad arguments are typed errors', async (t) => {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS, WEAK);
  await rejectsWith(ks.put('', new Uint8Array(1)), ['ERR_KEYSTORE_ARGUMENT']);
  await rejectsWith(ks.put('x'.repeat(256), new Uint8Array(1)), ['ERR_KEYSTORE_ARGUMENT']);
  await rejectsWith(ks.put('\ud800', new Uint8Array(1)), ['ERR_KEYSTORE_ARGUMENT']);
  await rejectsWith(ks.changePassphrase(PASS, ''), ['ERR_KEYSTORE_ARGUMENT']);
  await ks.close();
  await rejectsWith(ks.get('a'), ['ERR_KEYSTORE_CLOSED']);
  await rejectsWith(ks.put('a', new Uint8Array(1)), ['ERR_KEYSTORE_CLOSED']);
  await rejectsWith(ks.delete('a'), ['ERR_KEYSTORE_CLOSED']);
  await rejectsWith(ks.names(), ['ERR_KEYSTORE_CLOSED']);
  await rejectsWith(createSoftwareKeystore(await freshDir(t), '', WEAK), ['ERR_KEYSTORE_ARGUMENT']);
  await rejectsWith(createSoftwareKeystore(await freshDir(t), PASS, { testOnlyWeakKdf: { m: 4, t: 1, p: 1 } }), ['ERR_KEYSTORE_ARGUMENT']);
});

test('production parameters: create and reopen; a weak file is refused without the test-only option', async (t) => {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS);
  await ks.put('identity', bytes('prod'));
  await ks.close();
  const file = await readFile(join(dir, KEYSTORE_FILE));
  assert.deepEqual([file.readUInt32BE(9), file.readUInt32BE(13), file.readUInt32BE(17)], [65_536, 3, 4]);
  const again = await openSoftwareKeystore(dir, PASS);
  assert.deepEqual(await again.get('identity'), bytes('prod'));
  await again.close();

  const { dir: weakDir } = await sampleStore(t);
  await rejectsWith(openSoftwareKeystore(weakDir, PASS), ['ERR_KEYSTORE_CORRUPT']);
});
