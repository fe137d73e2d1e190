// Shared helpers of the ratchet tests: a session pair, a state fingerprint, and the fast-check corpus
// (STYLE.md §12, vodozemac's run_corpus): every shrunk counterexample is saved under test/corpus/ and
// every saved one is replayed before the random runs, on every run.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { isProtocolError, type CryptoProvider, type ProtocolErrorCode, type Rng } from '@sotto/protocol';
import { initRatchetAsInitiator, initRatchetAsResponder, type RatchetState } from '../src/ratchet/double-ratchet.ts';
import { encodeRatchetState } from '../src/wire/ratchet-state.ts';
import { fromHex, toHex } from '../src/internal/bytes.ts';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

/** A fresh initiator/responder pair as after PQXDH: shared secret, the responder's signed prekey as
 *  its first ratchet key pair, and 66 bytes of associated data (two encoded identity keys and more). */
export async function sessionPair(crypto: CryptoProvider, rng: Rng): Promise<{ alice: RatchetState; bob: RatchetState }> {
  const sharedSecret = rng(32);
  const associatedData = rng(66);
  const privateKey = rng(32);
  const publicKey = await crypto.x25519PublicKey(privateKey);
  const alice = await initRatchetAsInitiator(crypto, rng, { sharedSecret, peerRatchetPublicKey: publicKey, associatedData });
  const bob = initRatchetAsResponder({ sharedSecret, ownRatchetKeyPair: { privateKey, publicKey }, associatedData });
  return { alice, bob };
}

/** The persisted form, as hex: two states are the same state exactly when these are equal. */
export function fingerprint(state: RatchetState): string {
  return toHex(encodeRatchetState(state));
}

/** Asserts that `run` rejects with a ProtocolError whose code is one of `codes`. Returns the code. */
export async function rejectsWith(run: () => Promise<unknown>, codes: readonly ProtocolErrorCode[], what: string): Promise<ProtocolErrorCode> {
  try {
    await run();
  } catch (e) {
    assert.ok(isProtocolError(e), `${what}: expected a ProtocolError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `${what}: expected one of ${codes.join(', ')}, got ${e.code}`);
    return e.code;
  }
  assert.fail(`${what}: expected a rejection with one of ${codes.join(', ')}, but it succeeded`);
}

// JSON with byte strings, so that corpus files stay readable and diffable.
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: toHex(v) } : v), 1);
}
function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (typeof v === 'object' && v !== null && '$bytes' in v) {
      const hex = v.$bytes;
      if (typeof hex === 'string') return fromHex(hex);
    }
    return v;
  });
}

/** Saved counterexamples of property `name`, oldest first. */
export function corpusEntries(name: string): { file: string; value: unknown }[] {
  if (!existsSync(CORPUS_DIR)) return [];
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, value: fromJson(readFileSync(join(CORPUS_DIR, file), 'utf8')) }));
}

/**
 * Replays the corpus of `name`, then runs the property. A failure's shrunk counterexample is saved to
 * test/corpus/<name>-<hash>.json before the test fails, so it is replayed on every later run.
 */
export async function checkWithCorpus<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  params: fc.Parameters<[T]>,
): Promise<void> {
  for (const { file, value } of corpusEntries(name)) {
    try {
      await predicate(value as T);
    } catch (e) {
      assert.fail(`corpus ${file} fails again: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), params);
  if (details.failed) {
    if (details.counterexample !== null) {
      const text = toJson(details.counterexample[0]);
      const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
      mkdirSync(CORPUS_DIR, { recursive: true });
      writeFileSync(join(CORPUS_DIR, `${name}-${hash}.json`), `${text}\n`);
    }
    assert.fail(await fc.asyncDefaultReportMessage(details));
  }
}
