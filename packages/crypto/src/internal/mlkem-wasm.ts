// ML-KEM-1024 (FIPS 203) in WebAssembly: PQClean's "clean" C implementation compiled by
// packages/crypto/wasm/mlkem1024/build.sh, embedded as base64 in ./mlkem1024-wasm.ts. About 5× faster
// than @noble/post-quantum in pure JS (bench/mlkem-candidates.ts), and seeded like the reference:
// keygen from the 64-byte d || z, encapsulation from the 32-byte m, so every provider produces
// byte-identical transcripts from the same Rng (test/mlkem-wasm.test.ts checks it against noble).
//
// Semantics are exactly the reference provider's (packages/protocol/src/crypto/noble.ts): the same
// length checks (ERR_CRYPTO_PARAMETER) in the same order, the FIPS 203 §7.2 encapsulation-key modulus
// check and §7.3 decapsulation-key hash check (ERR_KEY_INVALID; made in C, shim/sotto_mlkem1024.c),
// and implicit rejection of ciphertexts that do not re-encrypt (§7.3, done by PQClean).
//
// The module is compiled once, asynchronously, on first use (browsers refuse large synchronous
// compiles on the main thread; the provider methods are async anyway). Each call then runs
// synchronously: copy the inputs into the module's static buffers, call, copy the outputs out, and
// wipe every region that held a secret (the buffers, PQClean's SHAKE context pool and the whole shadow
// stack) before returning — also when the call fails. Engines without WebAssembly, or that refuse to
// compile it (e.g. a Content-Security-Policy without 'wasm-unsafe-eval'), get @noble/post-quantum
// through the reference provider instead.
import { isProtocolError, nobleProvider, ProtocolError, type MlKemEncapsulation, type MlKemKeyPair } from '@sotto/protocol';
import { checkLength } from './checks.ts';
import { MLKEM1024_WASM_BASE64 } from './mlkem1024-wasm.ts';

// Lengths (same values as packages/protocol/src/crypto/provider.ts).
const PUBLIC_KEY_BYTES = 1568; // FIPS 203 Table 3, ek
const SECRET_KEY_BYTES = 3168; // FIPS 203 Table 3, dk
const CIPHERTEXT_BYTES = 1568; // FIPS 203 Table 3, c
const SHARED_SECRET_BYTES = 32; // FIPS 203 §7.2, K
const SEED_BYTES = 64; // FIPS 203 §7.1, d || z
const MESSAGE_BYTES = 32; // FIPS 203 §7.2, m

// The slice of the WebAssembly JS API used here, typed locally so that this file needs neither DOM
// nor Node types (like ../webcrypto.ts).
interface WasmNamespace {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ readonly exports: object }>;
}

/** What mlkem1024.wasm exports (build.sh lists them; shim/sotto_mlkem1024.c documents them). */
interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  /** Top of the shadow stack: the stack is [0, __global_base) (linked with --stack-first). */
  readonly __global_base: { readonly value: number };
  sotto_pk(): number;
  sotto_sk(): number;
  sotto_ct(): number;
  sotto_ss(): number;
  sotto_coins(): number;
  /** keypair_derand(pk, sk, coins); returns 0. */
  sotto_keypair(): number;
  /** enc_derand(ct, ss, pk, coins); returns -1 (writing nothing) when pk fails the §7.2 modulus check. */
  sotto_enc(): number;
  /** dec(ss, ct, sk); returns -1 (writing nothing) when sk fails the §7.3 hash check. */
  sotto_dec(): number;
  /** Zeroes the static buffers and the SHAKE context pool. */
  sotto_wipe(): void;
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const FUNCTIONS = ['sotto_pk', 'sotto_sk', 'sotto_ct', 'sotto_ss', 'sotto_coins', 'sotto_keypair', 'sotto_enc', 'sotto_dec', 'sotto_wipe'] as const;

function asExports(e: object): Exports {
  const x = e as Partial<Record<string, unknown>>;
  const ok =
    FUNCTIONS.every((f) => typeof x[f] === 'function') &&
    typeof (x['memory'] as { buffer?: unknown } | undefined)?.buffer === 'object' &&
    typeof (x['__global_base'] as { value?: unknown } | undefined)?.value === 'number';
  if (!ok) throw new Error('mlkem1024.wasm does not have the expected exports');
  return e as Exports;
}

async function load(): Promise<Exports | undefined> {
  const wasm = (globalThis as { WebAssembly?: WasmNamespace }).WebAssembly;
  if (wasm === undefined) return undefined;
  try {
    const module = await wasm.compile(decodeBase64(MLKEM1024_WASM_BASE64));
    const instance = await wasm.instantiate(module, {}); // no imports: no libc, no randomness
    return asExports(instance.exports);
  } catch {
    return undefined; // compilation refused (CSP) or impossible: the reference provider does the work
  }
}

let loaded: Promise<Exports | undefined> | undefined;
/** The instance, compiled on first use; undefined when this engine cannot run it. */
function instance(): Promise<Exports | undefined> {
  return (loaded ??= load());
}

/** Which implementation serves ML-KEM-1024 on this engine (for tests and benchmarks). */
export async function mlKem1024Backend(): Promise<'wasm' | 'noble'> {
  return (await instance()) === undefined ? 'noble' : 'wasm';
}

/**
 * Runs `f` on the instance's memory, then wipes the static buffers and the whole shadow stack, also
 * when `f` throws. Runs synchronously: no other call can interleave between copy-in and wipe.
 */
function run<T>(x: Exports, f: (mem: Uint8Array) => T): T {
  const mem = new Uint8Array(x.memory.buffer);
  try {
    return f(mem);
  } catch (e) {
    // Not expected to happen (fixed sizes, no allocation beyond the pool), but a trap would leave
    // the instance's stack pointer and allocator mid-call: the next call gets a fresh instance.
    if (!isProtocolError(e)) loaded = undefined;
    throw e;
  } finally {
    x.sotto_wipe();
    mem.fill(0, 0, x.__global_base.value);
  }
}

function keyInvalid(what: '7.2' | '7.3'): ProtocolError {
  // The reference provider's errors, word for word.
  return new ProtocolError(
    'ERR_KEY_INVALID',
    what === '7.2' ? 'ML-KEM-1024 public key fails the FIPS 203 §7.2 modulus check' : 'ML-KEM-1024 secret key fails the FIPS 203 §7.3 hash check',
  );
}

/** FIPS 203 ML-KEM.KeyGen_internal(d, z) from seed = d || z (§7.1, Algorithm 16). */
export async function mlKem1024KeyGen(seed: Uint8Array): Promise<MlKemKeyPair> {
  checkLength('ML-KEM seed', seed, SEED_BYTES);
  const x = await instance();
  if (x === undefined) return nobleProvider.mlKem1024KeyGen(seed);
  return run(x, (mem) => {
    mem.set(seed, x.sotto_coins());
    x.sotto_keypair();
    const pk = x.sotto_pk();
    const sk = x.sotto_sk();
    return { publicKey: mem.slice(pk, pk + PUBLIC_KEY_BYTES), secretKey: mem.slice(sk, sk + SECRET_KEY_BYTES) };
  });
}

/** FIPS 203 ML-KEM.Encaps_internal(ek, m) after the §7.2 input checks (Algorithm 17). */
export async function mlKem1024Encapsulate(publicKey: Uint8Array, message: Uint8Array): Promise<MlKemEncapsulation> {
  checkLength('ML-KEM-1024 public key', publicKey, PUBLIC_KEY_BYTES);
  checkLength('ML-KEM message', message, MESSAGE_BYTES);
  const x = await instance();
  if (x === undefined) return nobleProvider.mlKem1024Encapsulate(publicKey, message);
  return run(x, (mem) => {
    mem.set(publicKey, x.sotto_pk());
    mem.set(message, x.sotto_coins());
    if (x.sotto_enc() !== 0) throw keyInvalid('7.2');
    const ct = x.sotto_ct();
    const ss = x.sotto_ss();
    return { ciphertext: mem.slice(ct, ct + CIPHERTEXT_BYTES), sharedSecret: mem.slice(ss, ss + SHARED_SECRET_BYTES) };
  });
}

/** FIPS 203 ML-KEM.Decaps(dk, c) with the §7.3 input checks and implicit rejection (Algorithm 18/21). */
export async function mlKem1024Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> {
  checkLength('ML-KEM-1024 ciphertext', ciphertext, CIPHERTEXT_BYTES);
  checkLength('ML-KEM-1024 secret key', secretKey, SECRET_KEY_BYTES);
  const x = await instance();
  if (x === undefined) return nobleProvider.mlKem1024Decapsulate(ciphertext, secretKey);
  return run(x, (mem) => {
    mem.set(ciphertext, x.sotto_ct());
    mem.set(secretKey, x.sotto_sk());
    if (x.sotto_dec() !== 0) throw keyInvalid('7.3');
    const ss = x.sotto_ss();
    return mem.slice(ss, ss + SHARED_SECRET_BYTES);
  });
}

/**
 * For tests only: a copy of the module's whole linear memory as it is between calls (after the
 * wipe), so that a test can check that no secret remains. Undefined without WebAssembly.
 */
export async function mlKem1024WasmMemoryForTests(): Promise<Uint8Array | undefined> {
  const x = await instance();
  return x === undefined ? undefined : new Uint8Array(x.memory.buffer).slice();
}
