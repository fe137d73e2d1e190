// ML-KEM-1024 implementations usable from Node and browsers: Sotto's own (PQClean's "clean" C compiled
// to WebAssembly by packages/crypto/wasm/mlkem1024/build.sh, what the fast providers use) and
// @noble/post-quantum (the reference provider's, and the fallback without WebAssembly), against the
// npm candidates. Not part of `npm run bench`; the candidates are not dependencies of Sotto: they
// are installed into <tmpdir>/sotto-mlkem-candidates and loaded from there.
//   node --import tsx bench/mlkem-candidates.ts
// Every candidate is first checked for interoperability with noble (FIPS 203 encodings): it
// decapsulates noble's ciphertext under noble's secret key, and noble decapsulates its ciphertext.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { median } from './harness.ts';
import { libsignalContender, loadLibsignal } from './libsignal.ts';
import { sottoContender } from './protocol.ts';
import { fastProvider } from '@sotto/crypto';
import { nobleProvider, type CryptoProvider } from '@sotto/protocol';

const DIR = join(tmpdir(), 'sotto-mlkem-candidates');
const CANDIDATES = ['@oqs/liboqs-js@0.15.1', '@openforge-sh/liboqs@0.14.3', 'pqclean@0.8.1', 'mlkem@2.7.0'];

interface Kem {
  readonly name: string;
  /** Whether keygen from a 64-byte seed and encapsulation from a 32-byte message exist (Sotto's provider interface needs both). */
  readonly derandomized: boolean;
  keygen(): Promise<{ publicKey: Uint8Array; secretKey: Uint8Array }> | { publicKey: Uint8Array; secretKey: Uint8Array };
  encaps(pk: Uint8Array): Promise<{ ciphertext: Uint8Array; sharedSecret: Uint8Array }> | { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  decaps(ct: Uint8Array, sk: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

function install(): void {
  if (CANDIDATES.every((c) => existsSync(join(DIR, 'node_modules', ...c.slice(0, c.lastIndexOf('@')).split('/'), 'package.json')))) return;
  console.log(`installing ${CANDIDATES.join(', ')} into ${DIR}`);
  const r = spawnSync('npm', ['install', '--prefix', DIR, '--no-save', '--no-audit', '--no-fund', ...CANDIDATES], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm install of the candidates failed');
}

const noble: Kem = {
  name: '@noble/post-quantum 0.7.1 (pure TS; reference provider, fallback)',
  derandomized: true,
  keygen: () => ml_kem1024.keygen(),
  encaps: (pk) => {
    const { cipherText, sharedSecret } = ml_kem1024.encapsulate(pk);
    return { ciphertext: cipherText, sharedSecret };
  },
  decaps: (ct, sk) => ml_kem1024.decapsulate(ct, sk),
};

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** Sotto's fast provider: PQClean "clean" → WebAssembly (packages/crypto/src/internal/mlkem-wasm.ts). */
const sottoWasm: Kem = {
  name: 'Sotto fastProvider: PQClean clean → WASM (clang, seeded API)',
  derandomized: true,
  keygen: () => fastProvider.mlKem1024KeyGen(random(64)),
  encaps: (pk) => fastProvider.mlKem1024Encapsulate(pk, random(32)),
  decaps: (ct, sk) => fastProvider.mlKem1024Decapsulate(ct, sk),
};

interface LiboqsKem {
  generateKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(pk: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(ct: Uint8Array, sk: Uint8Array): Uint8Array;
}

async function liboqs(pkg: string, label: string): Promise<Kem> {
  const mod = (await import(pathToFileURL(join(DIR, 'node_modules', ...pkg.split('/'), 'src', 'index.js')).href)) as { createMLKEM1024(): Promise<LiboqsKem> };
  const kem = await mod.createMLKEM1024();
  return {
    name: label,
    derandomized: false,
    keygen: () => kem.generateKeyPair(),
    encaps: (pk) => kem.encapsulate(pk),
    decaps: (ct, sk) => kem.decapsulate(ct, sk),
  };
}

interface PqcleanKem {
  keypair(): { publicKey: Uint8Array; privateKey: Uint8Array };
  generateKey(pk: Uint8Array): { key: Uint8Array; encryptedKey: Uint8Array };
  decryptKey(sk: Uint8Array, ct: Uint8Array): Uint8Array;
}

function pqclean(): Kem {
  const mod = createRequire(join(DIR, 'package.json'))('pqclean') as { KEM: new (alg: string) => PqcleanKem };
  const kem = new mod.KEM('ml-kem-1024');
  return {
    name: 'pqclean 0.8.1 (native addon, compiled at install; PQClean "clean" C)',
    derandomized: false,
    keygen: () => {
      const { publicKey, privateKey } = kem.keypair();
      return { publicKey, secretKey: privateKey };
    },
    encaps: (pk) => {
      const { key, encryptedKey } = kem.generateKey(pk);
      return { ciphertext: encryptedKey, sharedSecret: key };
    },
    decaps: (ct, sk) => kem.decryptKey(sk, ct),
  };
}

interface DajiajiKem {
  generateKeyPair(): Promise<[Uint8Array, Uint8Array]>;
  encap(pk: Uint8Array): Promise<[Uint8Array, Uint8Array]>;
  decap(ct: Uint8Array, sk: Uint8Array): Promise<Uint8Array>;
}

async function dajiaji(): Promise<Kem> {
  const mod = (await import(pathToFileURL(join(DIR, 'node_modules', 'mlkem', 'esm', 'mod.js')).href)) as { MlKem1024: new () => DajiajiKem };
  const kem = new mod.MlKem1024();
  return {
    name: 'mlkem 2.7.0 (pure TS, async API)',
    derandomized: true,
    keygen: async () => {
      const [publicKey, secretKey] = await kem.generateKeyPair();
      return { publicKey, secretKey };
    },
    encaps: async (pk) => {
      const [ciphertext, sharedSecret] = await kem.encap(pk);
      return { ciphertext, sharedSecret };
    },
    decaps: (ct, sk) => kem.decap(ct, sk),
  };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function interop(k: Kem): Promise<string> {
  const n = ml_kem1024.keygen();
  const e = ml_kem1024.encapsulate(n.publicKey);
  const a = same(await k.decaps(e.cipherText, n.secretKey), e.sharedSecret);
  const mine = await k.keygen();
  const f = await k.encaps(n.publicKey);
  const b = same(ml_kem1024.decapsulate(f.ciphertext, n.secretKey), f.sharedSecret);
  const g = ml_kem1024.encapsulate(mine.publicKey);
  const c = same(await k.decaps(g.cipherText, mine.secretKey), g.sharedSecret);
  return a && b && c ? 'interoperates with noble' : `DOES NOT interoperate (${String(a)}/${String(b)}/${String(c)})`;
}

async function time(f: () => unknown, batch: number, rounds: number): Promise<number> {
  const xs: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await f();
    if (r > 0) xs.push(((performance.now() - t0) * 1000) / batch);
  }
  return median(xs);
}

async function main(): Promise<void> {
  install();
  const kems: Kem[] = [noble, sottoWasm];
  for (const [what, load] of [
    ['@oqs/liboqs-js', () => liboqs('@oqs/liboqs-js', '@oqs/liboqs-js 0.15.1 (liboqs → WASM, inlined)')],
    ['@openforge-sh/liboqs', () => liboqs('@openforge-sh/liboqs', '@openforge-sh/liboqs 0.14.3 (liboqs → WASM, inlined)')],
    ['pqclean', () => Promise.resolve(pqclean())],
    ['mlkem', dajiaji],
  ] as const) {
    try {
      kems.push(await load());
    } catch (e) {
      console.log(`${what}: could not load (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  console.log(`Node ${process.version}; µs per operation, median of 5 rounds\n`);
  console.log(`${'implementation'.padEnd(72)} ${'keygen'.padStart(8)} ${'encaps'.padStart(8)} ${'decaps'.padStart(8)}  seeded  interop`);
  for (const k of kems) {
    const kp = await k.keygen();
    const enc = await k.encaps(kp.publicKey);
    const batch = 40;
    const kg = await time(() => k.keygen(), batch, 5);
    const en = await time(() => k.encaps(kp.publicKey), batch, 5);
    const de = await time(() => k.decaps(enc.ciphertext, kp.secretKey), batch, 5);
    console.log(`${k.name.padEnd(72)} ${kg.toFixed(0).padStart(8)} ${en.toFixed(0).padStart(8)} ${de.toFixed(0).padStart(8)}  ${k.derandomized ? 'yes   ' : 'no    '}  ${await interop(k)}`);
  }
  try {
    const lib = loadLibsignal();
    const kg = await time(() => lib.KEMKeyPair.generate(), 40, 5);
    console.log(`${'libsignal-client 0.103.0 KEMKeyPair.generate (Rust libcrux, native; keygen only in its API)'.padEnd(72)} ${kg.toFixed(0).padStart(8)}`);
  } catch (e) {
    console.log(`libsignal: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Session setups with the fast provider as it is (ML-KEM in Sotto's PQClean WASM), with its ML-KEM
 * replaced by noble (the fast provider before the WASM build), and — what-if — with ML-KEM
 * encapsulation and decapsulation in liboqs' WASM (key generation stays Sotto's: it is seeded, and
 * only in the untimed preparation). liboqs-js encapsulates with its own randomness, ignoring the
 * message the protocol passes, so that last one is a measurement only, not a usable provider.
 */
async function whatIf(): Promise<void> {
  const kem = await liboqs('@oqs/liboqs-js', 'liboqs');
  const withLiboqs: CryptoProvider = {
    ...fastProvider,
    name: 'node+liboqs-wasm (what-if)',
    mlKem1024Encapsulate: async (pk) => kem.encaps(pk),
    mlKem1024Decapsulate: async (ct, sk) => kem.decaps(ct, sk),
  };
  const withNoble: CryptoProvider = {
    ...fastProvider,
    name: `${fastProvider.name}+noble-ml-kem`,
    mlKem1024KeyGen: (seed) => nobleProvider.mlKem1024KeyGen(seed),
    mlKem1024Encapsulate: (pk, m) => nobleProvider.mlKem1024Encapsulate(pk, m),
    mlKem1024Decapsulate: (ct, sk) => nobleProvider.mlKem1024Decapsulate(ct, sk),
  };
  const contenders = [libsignalContender(), sottoContender(fastProvider), sottoContender(withNoble), sottoContender(withLiboqs)];
  for (const c of contenders) await c.prepare();
  const rates = contenders.map(() => ({ i: [] as number[], r: [] as number[], both: [] as number[] }));
  const n = 40;
  for (let round = 0; round < 6; round++) {
    for (const [k, c] of contenders.entries()) {
      const t = await c.setups(n);
      if (round === 0) continue; // warm-up
      rates[k]?.i.push(n / t.initiator);
      rates[k]?.r.push(n / t.responder);
      rates[k]?.both.push(n / (t.initiator + t.responder));
    }
  }
  console.log('\nsession setups/s (median of 5 rounds of 40)');
  const base = median(rates[0]?.both ?? []);
  for (const [k, c] of contenders.entries()) {
    const r = rates[k];
    if (r === undefined) continue;
    const both = median(r.both);
    console.log(`  ${c.name.padEnd(42)} initiator ${median(r.i).toFixed(0).padStart(5)}  responder ${median(r.r).toFixed(0).padStart(5)}  both ${both.toFixed(0).padStart(5)}  setup time ${(base / both).toFixed(2)}× libsignal's`);
  }
}

await main();
await whatIf();
