// The WebAssembly ML-KEM-1024 (PQClean "clean", src/internal/mlkem-wasm.ts) against the reference
// (@noble/post-quantum through nobleProvider): byte-for-byte agreement on keys, ciphertexts and shared
// secrets, implicit rejection, the FIPS 203 §7.2/§7.3 input checks with the same errors, wiping of
// the module's memory, the fallback without WebAssembly, and a reproducible build of the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { seededRng } from '@sotto/test-support';
import { nodeProvider } from '@sotto/crypto/node';
import { webCryptoProvider } from '@sotto/crypto/webcrypto';
import * as wasmKem from '../src/internal/mlkem-wasm.ts';
import { MLKEM1024_WASM_BASE64, MLKEM1024_WASM_SHA256 } from '../src/internal/mlkem1024-wasm.ts';
import { hex, outcome, unhex, type Outcome } from './providers.ts';

const WASM_DIR = fileURLToPath(new URL('../wasm/mlkem1024/', import.meta.url));
const COMMITTED_WASM = join(WASM_DIR, 'mlkem1024.wasm');
const COMMITTED_TS = fileURLToPath(new URL('../src/internal/mlkem1024-wasm.ts', import.meta.url));

const Q = 3329; // FIPS 203 §2.4
const T_HAT_BYTES = 1536; // ByteEncode12 of k = 4 polynomials (FIPS 203 Algorithm 13 step 19)
const DK_PKE_BYTES = 1536; // dk = dk_pke || ek || h || z (FIPS 203 Algorithm 16)
const EK_BYTES = 1568;

type Kem = Pick<CryptoProvider, 'mlKem1024KeyGen' | 'mlKem1024Encapsulate' | 'mlKem1024Decapsulate'>;
const wasm: Kem = wasmKem;

/** Runs `f` on the WebAssembly implementation and on the reference; they must agree; returns it. */
async function same(what: string, f: (k: Kem) => unknown): Promise<Outcome> {
  const ref = await outcome(() => f(nobleProvider));
  const got = await outcome(() => f(wasm));
  assert.deepEqual(got, ref, `${what}: WebAssembly differs from noble`);
  return ref;
}

async function keyPair(seed: Uint8Array): Promise<{ pk: Uint8Array; sk: Uint8Array }> {
  const kp = await same('keygen', (k) => k.mlKem1024KeyGen(seed));
  assert.ok('value' in kp);
  const { publicKey, secretKey } = kp.value as { publicKey: string; secretKey: string };
  return { pk: unhex(publicKey), sk: unhex(secretKey) };
}

/** Sets 12-bit coefficient `i` of t-hat (ByteEncode12 packs two coefficients in three bytes). */
function setCoefficient(ek: Uint8Array, i: number, v: number): Uint8Array {
  const out = ek.slice();
  const at = 3 * (i >> 1);
  const mid = out[at + 1] ?? 0;
  if (i % 2 === 0) {
    out[at] = v & 0xff;
    out[at + 1] = (mid & 0xf0) | (v >> 8);
  } else {
    out[at + 1] = (mid & 0x0f) | ((v & 0x0f) << 4);
    out[at + 2] = v >> 4;
  }
  return out;
}

const sha3 = (b: Uint8Array): Buffer => createHash('sha3-256').update(b).digest();

// The WebAssembly JS API, typed here (the repository's TypeScript libs declare neither DOM nor it).
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  readonly Module: { new (bytes: Uint8Array): object; imports(module: object): unknown[] };
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

test('the fast providers use the WebAssembly implementation, which loads on Node', async () => {
  assert.equal(await wasmKem.mlKem1024Backend(), 'wasm');
  const member = (o: object, k: string): unknown => (o as Record<string, unknown>)[k];
  for (const p of [nodeProvider, webCryptoProvider]) {
    for (const k of ['mlKem1024KeyGen', 'mlKem1024Encapsulate', 'mlKem1024Decapsulate']) {
      assert.equal(member(p, k), member(wasmKem, k), `${p.name}.${k}`);
    }
  }
});

test('keygen, encapsulation, decapsulation and implicit rejection agree with noble byte for byte', async () => {
  const rng = seededRng('mlkem-wasm/agree');
  const seeds: Uint8Array[] = [new Uint8Array(64), new Uint8Array(64).fill(0xff)];
  for (let i = 0; i < 30; i++) seeds.push(rng(64));
  for (const [i, seed] of seeds.entries()) {
    const { pk, sk } = await keyPair(seed);
    const messages = i < 2 ? [new Uint8Array(32), new Uint8Array(32).fill(0xff)] : [rng(32), rng(32)];
    for (const [j, m] of messages.entries()) {
      const enc = await same(`encaps #${i}.${j}`, (k) => k.mlKem1024Encapsulate(pk, m));
      assert.ok('value' in enc);
      const { ciphertext, sharedSecret } = enc.value as { ciphertext: string; sharedSecret: string };
      const ct = unhex(ciphertext);
      assert.deepEqual(await same(`decaps #${i}.${j}`, (k) => k.mlKem1024Decapsulate(ct, sk)), { value: sharedSecret });
      // Corrupted ciphertexts: a bit in u, a bit in v, the first and last byte → implicit rejection (§7.3).
      const u = rng(1)[0] ?? 0;
      for (const at of [0, (u * 5) % 1408, 1408 + (u % 160), 1567]) {
        const bad = ct.slice();
        bad[at] = (bad[at] ?? 0) ^ (1 << (u % 8));
        const r = await same(`decaps of a corrupted ciphertext #${i}.${j} @${at}`, (k) => k.mlKem1024Decapsulate(bad, sk));
        assert.notDeepEqual(r, { value: sharedSecret }, 'implicit rejection gives another secret');
      }
    }
    // Ciphertexts that are not an encapsulation at all.
    for (const [what, ct] of [
      ['zeros', new Uint8Array(1568)],
      ['ones', new Uint8Array(1568).fill(0xff)],
      ['random', rng(1568)],
    ] as const) {
      await same(`decaps of ${what} #${i}`, (k) => k.mlKem1024Decapsulate(ct, sk));
    }
  }
});

test('an encapsulation key with a coefficient ≥ q fails the §7.2 modulus check alike (ERR_KEY_INVALID)', async () => {
  const rng = seededRng('mlkem-wasm/modulus');
  const { pk } = await keyPair(rng(64));
  const m = rng(32);
  for (const i of [0, 1, 2, 3, 511, 512, 1022, 1023]) {
    for (const v of [Q, Q + 1, 4095]) {
      const bad = setCoefficient(pk, i, v);
      assert.deepEqual(await same(`coefficient ${i} = ${v}`, (k) => k.mlKem1024Encapsulate(bad, m)), { error: 'ERR_KEY_INVALID' });
    }
    // q - 1 is the largest valid coefficient: accepted, same ciphertext and secret.
    const edge = setCoefficient(pk, i, Q - 1);
    assert.ok('value' in (await same(`coefficient ${i} = q - 1`, (k) => k.mlKem1024Encapsulate(edge, m))));
  }
  // rho (the last 32 bytes) is not range-checked: any value encapsulates, identically.
  const rho = pk.slice();
  rho.fill(0xff, T_HAT_BYTES);
  assert.ok('value' in (await same('rho all ones', (k) => k.mlKem1024Encapsulate(rho, m))));
  assert.deepEqual(await same('all ones', (k) => k.mlKem1024Encapsulate(new Uint8Array(1568).fill(0xff), m)), { error: 'ERR_KEY_INVALID' });
  assert.ok('value' in (await same('all zeros', (k) => k.mlKem1024Encapsulate(new Uint8Array(1568), m))));
});

test('decapsulation keys: §7.3 hash-check failures and other corruptions give noble’s result', async () => {
  const rng = seededRng('mlkem-wasm/dk');
  const { pk, sk } = await keyPair(rng(64));
  const m = rng(32);
  const enc = await same('encaps', (k) => k.mlKem1024Encapsulate(pk, m));
  assert.ok('value' in enc);
  const ct = unhex((enc.value as { ciphertext: string }).ciphertext);
  const flip = (at: number): Uint8Array => {
    const c = sk.slice();
    c[at] = (c[at] ?? 0) ^ 0x10;
    return c;
  };
  // ek or h changed: the hash check fails.
  for (const at of [DK_PKE_BYTES, DK_PKE_BYTES + 700, DK_PKE_BYTES + EK_BYTES - 1, DK_PKE_BYTES + EK_BYTES, DK_PKE_BYTES + EK_BYTES + 31]) {
    const bad = flip(at);
    assert.deepEqual(await same(`dk byte ${at}`, (k) => k.mlKem1024Decapsulate(ct, bad)), { error: 'ERR_KEY_INVALID' });
  }
  // dk_pke or z changed: no check covers them (FIPS 203 §7.3); both implementations return the same bytes.
  for (const at of [0, 767, DK_PKE_BYTES - 1, 3168 - 32, 3167]) {
    const bad = flip(at);
    assert.ok('value' in (await same(`dk byte ${at}`, (k) => k.mlKem1024Decapsulate(ct, bad))));
  }
  // dk_pke with coefficients ≥ q (noble reduces them on decoding, PQClean computes with them mod q).
  for (const i of [0, 1, 1023]) {
    for (const v of [Q, 4095]) {
      const bad = sk.slice();
      bad.set(setCoefficient(sk.subarray(0, DK_PKE_BYTES), i, v).subarray(0, DK_PKE_BYTES));
      assert.ok('value' in (await same(`dk_pke coefficient ${i} = ${v}`, (k) => k.mlKem1024Decapsulate(ct, bad))));
    }
  }
  // An ek inside dk with a coefficient ≥ q and a matching h: §7.3 does not check ek's modulus; the
  // re-encryption reads it modulo q in both implementations.
  for (const v of [Q, 4095]) {
    const ek = setCoefficient(pk, 5, v);
    const bad = sk.slice();
    bad.set(ek, DK_PKE_BYTES);
    bad.set(sha3(ek), DK_PKE_BYTES + EK_BYTES);
    assert.ok('value' in (await same(`ek in dk with coefficient ${v}, h recomputed`, (k) => k.mlKem1024Decapsulate(ct, bad))));
  }
  assert.deepEqual(await same('all-zero dk', (k) => k.mlKem1024Decapsulate(ct, new Uint8Array(3168))), { error: 'ERR_KEY_INVALID' });
});

test('wrong lengths are ERR_CRYPTO_PARAMETER, checked in the reference’s order', async () => {
  const z = (n: number): Uint8Array => new Uint8Array(n).fill(3);
  const cases: [string, (k: Kem) => unknown][] = [
    ['seed 0', (k) => k.mlKem1024KeyGen(z(0))],
    ['seed 65', (k) => k.mlKem1024KeyGen(z(65))],
    ['pk 1569', (k) => k.mlKem1024Encapsulate(z(1569), z(32))],
    ['pk 1567 with a bad modulus and m 31', (k) => k.mlKem1024Encapsulate(new Uint8Array(1567).fill(0xff), z(31))],
    ['m 33', (k) => k.mlKem1024Encapsulate(z(1568), z(33))],
    ['ct 1567', (k) => k.mlKem1024Decapsulate(z(1567), z(3168))],
    ['sk 3169', (k) => k.mlKem1024Decapsulate(z(1568), z(3169))],
    ['sk 0', (k) => k.mlKem1024Decapsulate(z(1568), z(0))],
  ];
  for (const [what, f] of cases) assert.deepEqual(await same(what, f), { error: 'ERR_CRYPTO_PARAMETER' }, what);
});

test('the module’s memory holds no secret after a call, also after a failed one', async () => {
  const rng = seededRng('mlkem-wasm/wipe');
  const { pk } = await keyPair(rng(64)); // the first call has set up the module's state
  const clean = await wasmKem.mlKem1024WasmMemoryForTests();
  assert.ok(clean !== undefined);
  const seed = rng(64);
  const m = rng(32);
  const kp = await wasmKem.mlKem1024KeyGen(seed);
  const enc = await wasmKem.mlKem1024Encapsulate(kp.publicKey, m);
  await wasmKem.mlKem1024Decapsulate(enc.ciphertext, kp.secretKey);
  const bad = kp.secretKey.slice();
  bad[3000] = (bad[3000] ?? 0) ^ 1;
  await assert.rejects(wasmKem.mlKem1024Decapsulate(enc.ciphertext, bad));
  await assert.rejects(wasmKem.mlKem1024Encapsulate(setCoefficient(pk, 0, Q), m));
  const after = await wasmKem.mlKem1024WasmMemoryForTests();
  assert.ok(after !== undefined);
  // Nothing that depends on the secrets above is left: the memory is what it was before them.
  assert.equal(hex(after), hex(clean), 'memory differs from its state before these calls');
  const image = Buffer.from(after);
  for (const [what, secret] of [
    ['seed d', seed.subarray(0, 32)],
    ['seed z', seed.subarray(32)],
    ['m', m],
    ['dk_pke', kp.secretKey.subarray(0, 64)],
    ['shared secret', enc.sharedSecret],
  ] as const) {
    assert.equal(image.indexOf(Buffer.from(secret)), -1, `${what} found in the module's memory`);
  }
});

test('without WebAssembly, or when compiling it is refused, ML-KEM falls back to noble byte for byte', async () => {
  const rng = seededRng('mlkem-wasm/fallback');
  const seed = rng(64);
  const m = rng(32);
  const original = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly');
  assert.ok(original !== undefined);
  // As a browser page whose Content-Security-Policy forbids compiling WebAssembly.
  const refusing = { ...WASM, compile: () => Promise.reject(new Error('CompileError: refused by Content-Security-Policy')) };
  for (const [tag, stand] of [
    ['no-wasm', undefined],
    ['refused', refusing],
  ] as const) {
    Object.defineProperty(globalThis, 'WebAssembly', { value: stand, configurable: true, writable: true });
    try {
      type Mod = typeof import('../src/internal/mlkem-wasm.ts');
      const mod = (await import(new URL(`../src/internal/mlkem-wasm.ts?${tag}`, import.meta.url).href)) as Mod;
      assert.equal(await mod.mlKem1024Backend(), 'noble', tag);
      const kp = await mod.mlKem1024KeyGen(seed);
      const ref = await nobleProvider.mlKem1024KeyGen(seed);
      assert.equal(hex(kp.secretKey), hex(ref.secretKey), `${tag}: keygen`);
      const enc = await mod.mlKem1024Encapsulate(kp.publicKey, m);
      assert.equal(hex(enc.ciphertext), hex((await nobleProvider.mlKem1024Encapsulate(ref.publicKey, m)).ciphertext), `${tag}: encaps`);
      assert.equal(hex(await mod.mlKem1024Decapsulate(enc.ciphertext, kp.secretKey)), hex(enc.sharedSecret), `${tag}: decaps`);
      await assert.rejects(mod.mlKem1024Encapsulate(new Uint8Array(1568).fill(0xff), m), /modulus/, `${tag}: modulus check`);
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', original);
    }
  }
});

test('after a trap inside the module, the next call runs on a fresh instance', async () => {
  const rng = seededRng('mlkem-wasm/trap');
  const seed = rng(64);
  const m = rng(32);
  const original = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly');
  assert.ok(original !== undefined);
  let instances = 0;
  let trapped = false;
  // The real engine, with an instance whose first encapsulation traps (as `unreachable` would).
  const stand = {
    compile: (b: Uint8Array) => WASM.compile(b),
    instantiate: async (module: object, imports: object) => {
      const real = (await (WASM as unknown as { instantiate(m: object, i: object): Promise<{ exports: Record<string, unknown> }> }).instantiate(module, imports)).exports;
      instances++;
      const enc = real['sotto_enc'] as () => number;
      const sottoEnc = (): number => {
        if (trapped) return enc();
        trapped = true;
        throw new Error('RuntimeError: unreachable');
      };
      return { exports: { ...real, sotto_enc: sottoEnc } };
    },
  };
  Object.defineProperty(globalThis, 'WebAssembly', { value: stand, configurable: true, writable: true });
  try {
    type Mod = typeof import('../src/internal/mlkem-wasm.ts');
    const mod = (await import(new URL('../src/internal/mlkem-wasm.ts?trap', import.meta.url).href)) as Mod;
    const kp = await mod.mlKem1024KeyGen(seed);
    await assert.rejects(mod.mlKem1024Encapsulate(kp.publicKey, m), /unreachable/);
    assert.equal(instances, 1);
    const enc = await mod.mlKem1024Encapsulate(kp.publicKey, m);
    assert.equal(instances, 2, 'a fresh instance after the trap');
    assert.equal(hex(enc.ciphertext), hex((await nobleProvider.mlKem1024Encapsulate(kp.publicKey, m)).ciphertext));
  } finally {
    Object.defineProperty(globalThis, 'WebAssembly', original);
  }
});

test('the embedded base64 is the committed mlkem1024.wasm, with the SHA-256 its comment states', () => {
  const committed = readFileSync(COMMITTED_WASM);
  const embedded = Buffer.from(MLKEM1024_WASM_BASE64, 'base64');
  assert.equal(embedded.toString('base64'), MLKEM1024_WASM_BASE64, 'canonical base64');
  assert.ok(embedded.equals(committed), 'embedded binary differs from wasm/mlkem1024/mlkem1024.wasm');
  const sha = createHash('sha256').update(committed).digest('hex');
  assert.equal(sha, MLKEM1024_WASM_SHA256);
  assert.ok(readFileSync(COMMITTED_TS, 'utf8').includes(`SHA-256 ${sha}`), 'the generated comment names the SHA-256');
  // No imports at all: no libc, no randomness source, nothing from the host.
  assert.deepEqual(WASM.Module.imports(new WASM.Module(committed)), []);
});

test('build.sh reproduces the committed binary and generated module byte for byte (needs clang and lld)', () => {
  const out = mkdtempSync(join(tmpdir(), 'sotto-mlkem-build-'));
  try {
    const r = spawnSync('sh', [join(WASM_DIR, 'build.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, `build.sh failed (npm test installs clang and lld through scripts/ensure-deps.mjs):\n${r.stdout}${r.stderr}`);
    assert.ok(readFileSync(join(out, 'mlkem1024.wasm')).equals(readFileSync(COMMITTED_WASM)), 'rebuilt mlkem1024.wasm differs from the committed one');
    assert.equal(readFileSync(join(out, 'mlkem1024-wasm.ts'), 'utf8'), readFileSync(COMMITTED_TS, 'utf8'), 'rebuilt mlkem1024-wasm.ts differs');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
