// Keystore.update: several puts and deletes in one atomic, durable write (what lets the client commit
// a whole batch of received messages with one file rewrite, docs/protocol/10 §10.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError } from '@sotto/client';
import { createSoftwareKeystore, KEYSTORE_FILE, openSoftwareKeystore } from '@sotto/client/node';

const WEAK = { testOnlyWeakKdf: { m: 8, t: 1, p: 1 } } as const;
const PASS = 'update passphrase';
const b = (s: string): Uint8Array => new TextEncoder().encode(s);

async function freshDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sotto-ks-update-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('update: puts and deletes land together, survive reopening, and values are copied in', async (t) => {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS, WEAK);
  await ks.put('a', b('1'));
  await ks.put('b', b('2'));
  const value = b('3');
  await ks.update(new Map<string, Uint8Array | null>([['a', null], ['c', value], ['b', b('22')], ['missing', null]]));
  value.fill(0);
  assert.deepEqual(await ks.names(), ['b', 'c']);
  assert.deepEqual(await ks.get('c'), b('3'));
  await ks.close();
  const again = await openSoftwareKeystore(dir, PASS, { testOnlyAllowWeakKdf: true });
  assert.deepEqual(await again.names(), ['b', 'c']);
  assert.deepEqual(await again.get('b'), b('22'));
  await again.close();
});

test('update: a refused update changes nothing, in memory or on disk', async (t) => {
  const dir = await freshDir(t);
  const ks = await createSoftwareKeystore(dir, PASS, WEAK);
  await ks.put('a', b('1'));
  const before = await readFile(join(dir, KEYSTORE_FILE));
  await assert.rejects(
    ks.update(new Map<string, Uint8Array | null>([['ok', b('x')], ['', b('empty name')]])),
    (e) => e instanceof ClientError && e.code === 'ERR_KEYSTORE_ARGUMENT',
  );
  await assert.rejects(
    ks.update(new Map<string, Uint8Array | null>([['ok', 'not bytes' as unknown as Uint8Array]])),
    (e) => e instanceof ClientError && e.code === 'ERR_KEYSTORE_ARGUMENT',
  );
  assert.deepEqual(await readFile(join(dir, KEYSTORE_FILE)), before, 'the file is unchanged');
  assert.deepEqual(await ks.names(), ['a']);
  assert.deepEqual((await readdir(dir)).sort(), [KEYSTORE_FILE], 'no temp file left');
  await ks.close();
  await assert.rejects(ks.update(new Map()), (e) => e instanceof ClientError && e.code === 'ERR_KEYSTORE_CLOSED');
});
