// Shared helpers of the ratchet tests: a session pair, a state fingerprint, and the fast-check corpus
// (STYLE.md §12, vodozemac's run_corpus, implemented by @sotto/test-support's corpusAt): every shrunk
// counterexample is saved under test/corpus/ and every saved one is replayed before the random runs.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type fc from 'fast-check';
import { corpusAt, type CorpusEntry } from '@sotto/test-support';
import { isProtocolError, type CryptoProvider, type ProtocolErrorCode, type Rng } from '@sotto/protocol';
import { initRatchetAsInitiator, initRatchetAsResponder, type RatchetState } from '../src/ratchet/double-ratchet.ts';
import { encodeRatchetState } from '../src/wire/ratchet-state.ts';
import { toHex } from '../src/internal/bytes.ts';

export const CORPUS_DIR = fileURLToPath(new URL('corpus', import.meta.url));
const corpus = corpusAt(CORPUS_DIR);

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

/** Saved counterexamples of property `name` in test/corpus/, in file-name order. */
export function corpusEntries(name: string): CorpusEntry[] {
  return corpus.entries(name);
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
  await corpus.check(name, arbitrary, predicate, params);
}
