// The call key agreement (docs/protocol/11 §11.1–11.4): both sides agree, the keys cross over, the hash
// commitment (RFC 6189 §4.4.1.1) and the transcript binding hold against a man in the middle and against
// tampering with any field (the DTLS fingerprints included), the SAS is fixed before the answer while the
// keys bind it, pending states are single-use, keep no state change on bad input and erase their secrets.
// Runs with the portable and the fast provider.
//
// No published vectors exist for this construction, nor for ZRTP's SAS (shared/vectors/README.md: "Not
// available anywhere we looked: SAS test vectors for ZRTP"). So one test recomputes hvi, th_ring, s0,
// sashash, th and the base keys a second time, written plainly from the spec text with @noble directly (not through
// the CryptoProvider), from the random bytes the two sides drew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { checkWithCorpus, chromiumAnswer, chromiumOffer, digestBytes, fingerprintOf, seededRng } from '@sotto/test-support';
import { fastProvider } from '@sotto/crypto';
import {
  IdentityKeyPair,
  completeCall,
  confirmCallAsCallee,
  confirmCallAsCaller,
  createCallOffer,
  ringCallOffer,
  isProtocolError,
  nobleProvider,
  type CallAnswerMessage,
  type CallConfirmed,
  type CalleePending,
  type CallerPending,
  type CallConfirmMessage,
  type CallRingingMessage,
  type CallKeys,
  type CallOfferMessage,
  type CryptoProvider,
  type ProtocolErrorCode,
  type Rng,
} from '@sotto/protocol';

const PROVIDERS: readonly CryptoProvider[] = [nobleProvider, fastProvider];
const corpusDir = new URL('corpus/', import.meta.url);
const enc = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** An Rng that also keeps every buffer it handed out (by reference, to check erasure, and as a copy). */
function recordingRng(seed: string): { rng: Rng; handed: Uint8Array[]; copies: Uint8Array[] } {
  const inner = seededRng(seed);
  const handed: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  return {
    handed,
    copies,
    rng: (n) => {
      const b = inner(n);
      handed.push(b);
      copies.push(b.slice());
      return b;
    },
  };
}

function rejectsWith(code: ProtocolErrorCode, what: string) {
  return (e: unknown): boolean => {
    assert.ok(isProtocolError(e, code), `${what}: expected ${code}, got ${String(e)}`);
    return true;
  };
}

interface Run {
  readonly ikI: Uint8Array;
  readonly ikR: Uint8Array;
  readonly offer: CallOfferMessage;
  readonly ringing: CallRingingMessage;
  readonly confirm: CallConfirmMessage;
  readonly answer: CallAnswerMessage;
  readonly caller: CallKeys;
  readonly callee: CallKeys;
  readonly callerRng: ReturnType<typeof recordingRng>;
  readonly calleeRng: ReturnType<typeof recordingRng>;
}

async function identities(crypto: CryptoProvider, label: string): Promise<{ ikI: Uint8Array; ikR: Uint8Array }> {
  const rng = seededRng(`call/identities/${label}`);
  return { ikI: (await IdentityKeyPair.generate(crypto, rng)).publicKey, ikR: (await IdentityKeyPair.generate(crypto, rng)).publicKey };
}

/** Offer and ringing (the phone rings): both pending states and the messages. */
async function ring(crypto: CryptoProvider, label: string, ids: { ikI: Uint8Array; ikR: Uint8Array }, o: { offerSdp?: string; call?: Uint8Array } = {}) {
  const c = await createCallOffer(crypto, seededRng(`${label}/caller`), { callerIdentityKey: ids.ikI, calleeIdentityKey: ids.ikR, sdp: o.offerSdp ?? chromiumOffer(), ...(o.call === undefined ? {} : { call: o.call }) });
  const r = await ringCallOffer(crypto, seededRng(`${label}/callee`), { callerIdentityKey: ids.ikI, calleeIdentityKey: ids.ikR, offer: c.offer });
  return { caller: c.state, callee: r.state, offer: c.offer, ringing: r.ringing };
}

/** Offer, ringing and confirm: both sides confirmed (s0 and the SAS). */
async function confirmBoth(crypto: CryptoProvider, label: string, ids: { ikI: Uint8Array; ikR: Uint8Array }) {
  const r = await ring(crypto, label, ids);
  const c = await confirmCallAsCaller(crypto, r.caller, r.ringing);
  const e = await confirmCallAsCallee(crypto, r.callee, c.confirm);
  return { ...r, callerConfirmed: c.state, calleeConfirmed: e.state, confirm: c.confirm };
}

async function agree(crypto: CryptoProvider, label: string): Promise<Run> {
  const { ikI, ikR } = await identities(crypto, label);
  const callerRng = recordingRng(`call/caller/${label}`);
  const calleeRng = recordingRng(`call/callee/${label}`);
  const { state: cs, offer } = await createCallOffer(crypto, callerRng.rng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
  const { state: rs, ringing } = await ringCallOffer(crypto, calleeRng.rng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer });
  const { state: cc, confirm } = await confirmCallAsCaller(crypto, cs, ringing);
  const { state: rc } = await confirmCallAsCallee(crypto, rs, confirm);
  const answer: CallAnswerMessage = { call: offer.call, sdp: chromiumAnswer() };
  const { keys: callee } = await completeCall(crypto, rc, answer);
  const { keys: caller } = await completeCall(crypto, cc, answer);
  return { ikI, ikR, offer, ringing, confirm, answer, caller, callee, callerRng, calleeRng };
}

function assertSameCall(a: CallKeys, b: CallKeys, what: string): void {
  assert.deepEqual(a.sas, b.sas, `${what}: SAS`);
  assert.deepEqual(a.send, b.receive, `${what}: one side's send key is the other's receive key`);
  assert.deepEqual(a.receive, b.send, `${what}: and the other way round`);
}

function assertDifferentKeys(a: CallKeys, b: CallKeys, what: string): void {
  assert.notDeepEqual(a.send.baseKey, b.receive.baseKey, `${what}: caller→callee keys differ`);
  assert.notDeepEqual(a.receive.baseKey, b.send.baseKey, `${what}: callee→caller keys differ`);
}

function assertDifferentCall(a: CallKeys, b: CallKeys, what: string): void {
  assert.notDeepEqual(a.sas.value, b.sas.value, `${what}: SAS values differ`);
  assertDifferentKeys(a, b, what);
}

for (const crypto of PROVIDERS) {
  test(`both sides derive the same SAS and crossed SFrame keys (caller KID 0, callee KID 1) (${crypto.name})`, async () => {
    const r = await agree(crypto, 'basic');
    assertSameCall(r.caller, r.callee, 'honest call');
    assert.equal(r.caller.role, 'caller');
    assert.equal(r.callee.role, 'callee');
    assert.equal(r.caller.send.kid, 0);
    assert.equal(r.caller.receive.kid, 1);
    assert.equal(r.callee.send.kid, 1);
    assert.equal(r.callee.receive.kid, 0);
    assert.equal(r.caller.send.baseKey.length, 32);
    assert.notDeepEqual(r.caller.send.baseKey, r.caller.receive.baseKey, 'each direction has its own key');
    assert.deepEqual(r.caller.call, r.offer.call);
    assert.deepEqual(r.callee.call, r.offer.call);
    // Sizes of docs/protocol/11 §11.1.
    assert.equal(r.offer.call.length, 16);
    assert.equal(r.offer.kem.length, 1568);
    assert.equal(r.offer.commit.length, 32);
    assert.equal(r.ringing.dh.length, 32);
    assert.equal(r.ringing.ct.length, 1568);
    assert.equal(r.confirm.dh.length, 32);
    assert.equal(r.caller.sas.value.length, 4);
    assert.equal(r.caller.sas.base32.length, 4);
    // The offer's call id comes from rng(16), drawn first.
    assert.deepEqual(r.offer.call, r.callerRng.copies[0]);
  });

  test(`the SAS is known on both sides after the confirm, before the answer, and is the one the keys carry (${crypto.name})`, async () => {
    const ids = await identities(crypto, 'sas-early');
    const b = await confirmBoth(crypto, 'sas-early', ids);
    assert.deepEqual(b.callerConfirmed.sas, b.calleeConfirmed.sas);
    assert.equal(b.callerConfirmed.role, 'caller');
    assert.equal(b.calleeConfirmed.role, 'callee');
    const answer = { call: b.offer.call, sdp: chromiumAnswer() };
    const { keys } = await completeCall(crypto, b.callerConfirmed, answer);
    assert.deepEqual(keys.sas, b.callerConfirmed.sas);
  });
}

test('both providers produce the same transcript from the same seeds', async () => {
  const a = await agree(nobleProvider, 'cross-provider');
  const b = await agree(fastProvider, 'cross-provider');
  assert.deepEqual(a.offer, b.offer);
  assert.deepEqual(a.ringing, b.ringing);
  assert.deepEqual(a.confirm, b.confirm);
  assertSameCall(a.caller, b.callee, 'noble caller vs fast callee');
});

for (const crypto of PROVIDERS) {
  test(`an independent computation of hvi, th_ring, s0, sashash, th and the base keys from the spec text agrees (${crypto.name})`, async () => {
    const r = await agree(crypto, 'independent');
    // The random bytes each side drew, in the documented order.
    const [callId, kemSeed, eI] = r.callerRng.copies;
    const [eR, m] = r.calleeRng.copies;
    if (callId === undefined || kemSeed === undefined || eI === undefined || eR === undefined || m === undefined) throw new Error('rng draws missing');
    const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n & 255);
    const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
    const vec16 = (s: string): Uint8Array => cat(u16(enc.encode(s).length), enc.encode(s));
    const vec32 = (s: string): Uint8Array => cat(u32(enc.encode(s).length), enc.encode(s));

    // §11.1 keys from the drawn randomness: ML-KEM-1024 keygen from d || z, X25519 public keys, Encaps(ek_I, m).
    const { publicKey: ekI, secretKey: dkI } = ml_kem1024.keygen(kemSeed);
    const EI = x25519.getPublicKey(eI);
    const ER = x25519.getPublicKey(eR);
    const { cipherText: ct, sharedSecret: ssKem } = ml_kem1024.encapsulate(ekI, m);
    assert.deepEqual(ml_kem1024.decapsulate(ct, dkI), ssKem);
    assert.deepEqual(r.offer.kem, ekI);
    assert.deepEqual(r.ringing.dh, ER);
    assert.deepEqual(r.ringing.ct, ct);
    assert.deepEqual(r.confirm.dh, EI);

    // §11.2.1 hvi = SHA-256("Sotto_v1_CallCommit" || call || IK_I || IK_R || E_I)
    const hvi = sha256(cat(enc.encode('Sotto_v1_CallCommit'), callId, r.ikI, r.ikR, EI));
    assert.deepEqual(r.offer.commit, hvi, 'hvi');

    // §11.2.4 canonical fingerprints: the ones written into the fixture SDPs.
    const fpOffer = fingerprintOf(digestBytes(1));
    const fpAnswer = fingerprintOf(digestBytes(2));
    // §11.3 th_ring
    const thRing = sha256(
      cat(
        enc.encode('Sotto_v1_CallTranscript'),
        callId, r.ikI, r.ikR,
        sha256(ekI), hvi, vec16(fpOffer), vec32(chromiumOffer()),
        ER, sha256(ct),
        EI,
      ),
    );
    // §11.3 s0 = SHA-256(u32(1) || dh || ss_kem || "Sotto_v1_Call" || IK_I || IK_R || th_ring), dh = X25519(e_I, E_R)
    const dh = x25519.getSharedSecret(eI, ER);
    assert.deepEqual(x25519.getSharedSecret(eR, EI), dh);
    const s0 = sha256(cat(u32(1), dh, ssKem, enc.encode('Sotto_v1_Call'), r.ikI, r.ikR, thRing));
    // RFC 6189 §4.5.1 KDF(KI, Label, Context, L) = HMAC(KI, i || Label || 0x00 || Context || L), i = 1, L = 256
    const kdf = (label: string, context: Uint8Array): Uint8Array => hmac(sha256, s0, cat(u32(1), enc.encode(label), Uint8Array.of(0), context, u32(256)));
    // §11.4 sashash over call || IK_I || IK_R || th_ring
    const sashash = kdf('SAS', cat(callId, r.ikI, r.ikR, thRing));
    assert.deepEqual(r.caller.sas.value, sashash.slice(0, 4), 'sasvalue = sashash[0..4]');
    assert.deepEqual(r.callee.sas.value, sashash.slice(0, 4));
    // §11.3 th = SHA-256("Sotto_v1_CallAnswer" || th_ring || vec16(fp_answer) || vec32(answerSdp)); keys over call || IK_I || IK_R || th
    const th = sha256(cat(enc.encode('Sotto_v1_CallAnswer'), thRing, vec16(fpAnswer), vec32(chromiumAnswer())));
    const context = cat(callId, r.ikI, r.ikR, th);
    assert.deepEqual(r.caller.send.baseKey, kdf('Sotto SFrame caller', context), 'caller base key');
    assert.deepEqual(r.caller.receive.baseKey, kdf('Sotto SFrame callee', context), 'callee base key');
  });
}

for (const crypto of PROVIDERS) {
  test(`a confirm whose E_I does not open the commitment is ERR_CALL_COMMITMENT; the state stays usable (${crypto.name})`, async () => {
    const ids = await identities(crypto, 'commit');
    const r = await ring(crypto, 'commit', ids);
    const { state: cc, confirm } = await confirmCallAsCaller(crypto, r.caller, r.ringing);
    const other = await crypto.x25519PublicKey(seededRng('commit/other')(32));
    const flipped = confirm.dh.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    for (const [what, dh] of [['another key', other], ['one bit flipped', flipped], ['empty', new Uint8Array(0)], ['33 bytes', new Uint8Array(33)]] as const) {
      await assert.rejects(confirmCallAsCallee(crypto, r.callee, { call: confirm.call, dh }), rejectsWith('ERR_CALL_COMMITMENT', what));
      assert.ok(r.callee.usable, `${what}: the pending state is unchanged`);
    }
    const { state: rc } = await confirmCallAsCallee(crypto, r.callee, confirm);
    const answer = { call: r.offer.call, sdp: chromiumAnswer() };
    assertSameCall((await completeCall(crypto, cc, answer)).keys, (await completeCall(crypto, rc, answer)).keys, 'after refused confirms, the genuine one completes');
  });

  test(`wrong call id and reuse are ERR_CALL_STATE; erase() ends a pending state (${crypto.name})`, async () => {
    const ids = await identities(crypto, 'state');
    const r = await ring(crypto, 'state', ids);
    const otherCall = r.offer.call.slice();
    otherCall[15] = (otherCall[15] ?? 0) ^ 0x80;
    await assert.rejects(confirmCallAsCaller(crypto, r.caller, { ...r.ringing, call: otherCall }), rejectsWith('ERR_CALL_STATE', 'ringing for another call'));
    await assert.rejects(confirmCallAsCaller(crypto, r.caller, { ...r.ringing, call: otherCall.slice(0, 8) }), rejectsWith('ERR_CALL_STATE', 'short call id'));
    assert.ok(r.caller.usable);
    // Two completions at once: exactly one wins.
    const both = await Promise.allSettled([confirmCallAsCaller(crypto, r.caller, r.ringing), confirmCallAsCaller(crypto, r.caller, r.ringing)]);
    assert.equal(both.filter((x) => x.status === 'fulfilled').length, 1);
    const lost = both.find((x) => x.status === 'rejected');
    assert.ok(lost !== undefined && isProtocolError(lost.reason, 'ERR_CALL_STATE'));
    const won = both.find((x) => x.status === 'fulfilled');
    if (won?.status !== 'fulfilled') throw new Error('no completion');
    const { confirm, state: cc } = won.value;
    assert.ok(!r.caller.usable);
    await assert.rejects(confirmCallAsCaller(crypto, r.caller, r.ringing), rejectsWith('ERR_CALL_STATE', 'caller state reused'));
    await assert.rejects(confirmCallAsCallee(crypto, r.callee, { ...confirm, call: otherCall }), rejectsWith('ERR_CALL_STATE', 'confirm for another call'));
    const { state: rc } = await confirmCallAsCallee(crypto, r.callee, confirm);
    await assert.rejects(confirmCallAsCallee(crypto, r.callee, confirm), rejectsWith('ERR_CALL_STATE', 'callee state reused'));
    // The confirmed states: an answer for another call is refused, each completes once.
    const answer = { call: r.offer.call, sdp: chromiumAnswer() };
    await assert.rejects(completeCall(crypto, cc, { ...answer, call: otherCall }), rejectsWith('ERR_CALL_STATE', 'answer for another call'));
    await completeCall(crypto, cc, answer);
    await assert.rejects(completeCall(crypto, cc, answer), rejectsWith('ERR_CALL_STATE', 'confirmed state reused'));
    await completeCall(crypto, rc, answer);
    // erase(): the call ended before it completed, in every state.
    const r2 = await ring(crypto, 'state2', ids);
    r2.caller.erase();
    r2.callee.erase();
    r2.caller.erase();
    assert.ok(!r2.caller.usable && !r2.callee.usable);
    await assert.rejects(confirmCallAsCaller(crypto, r2.caller, r2.ringing), rejectsWith('ERR_CALL_STATE', 'erased caller state'));
    await assert.rejects(confirmCallAsCallee(crypto, r2.callee, confirm), rejectsWith('ERR_CALL_STATE', 'erased callee state'));
    const b3 = await confirmBoth(crypto, 'state3', ids);
    b3.calleeConfirmed.erase();
    await assert.rejects(completeCall(crypto, b3.calleeConfirmed, { call: b3.offer.call, sdp: chromiumAnswer() }), rejectsWith('ERR_CALL_STATE', 'erased confirmed state'));
    // erase() while a completion runs: the completion fails and hands out nothing.
    const r4 = await ring(crypto, 'state4', ids);
    const running = confirmCallAsCaller(crypto, r4.caller, r4.ringing);
    r4.caller.erase();
    await assert.rejects(running, rejectsWith('ERR_CALL_STATE', 'erased while completing'));
  });

  test(`ephemeral secrets and s0 are erased after use; keys erase on demand; everything prints redacted (${crypto.name})`, async () => {
    const r = await agree(crypto, 'erase');
    // Caller draws: call id, ML-KEM seed, e_I; callee draws: e_R, m. All but the public call id are zero now.
    const [, seed, eI] = r.callerRng.handed;
    const [eR, m] = r.calleeRng.handed;
    for (const [what, b] of [['ML-KEM seed', seed], ['e_I', eI], ['e_R', eR], ['m', m]] as const) {
      assert.ok(b !== undefined && b.length > 0 && b.every((x) => x === 0), `${what} is wiped`);
    }
    const ids = await identities(crypto, 'erase');
    const b = await confirmBoth(crypto, 'erase/print', ids);
    const r2 = await ring(crypto, 'erase/print2', ids);
    const states: [CallerPending | CalleePending | CallConfirmed | CallKeys, string, readonly Uint8Array[]][] = [
      [r2.caller, '[CallerPending: redacted]', []],
      [r2.callee, '[CalleePending: redacted]', []],
      [b.callerConfirmed, '[CallConfirmed: redacted]', []],
      [r.caller, '[CallKeys: redacted]', [r.caller.send.baseKey, r.caller.receive.baseKey]],
    ];
    for (const [obj, marker, secrets] of states) {
      for (const shown of [(obj as { toString(): string }).toString(), JSON.stringify(obj), JSON.stringify({ nested: [obj] }), inspect(obj, { showHidden: true, depth: Infinity, getters: true }), inspect({ obj }, { depth: 5 })]) {
        assert.ok(shown.includes(marker), `${marker}: got ${shown.slice(0, 100)}`);
        for (const s of secrets) assert.ok(!shown.includes(hex(s).slice(0, 16)), `${marker} leaks a key`);
      }
    }
    r2.caller.erase();
    r2.callee.erase();
    b.callerConfirmed.erase();
    b.calleeConfirmed.erase();
    assert.ok(!Object.keys(r.caller).some((k) => k === 'send' || k === 'receive'), 'the base keys are not own enumerable properties');
    assert.ok(!JSON.stringify({ ...r.caller }).includes(hex(r.caller.send.baseKey).slice(0, 16)), 'spreading copies no key');
    r.caller.erase();
    r.callee.erase();
    for (const k of [r.caller.send, r.caller.receive, r.callee.send, r.callee.receive]) assert.ok(k.baseKey.every((x) => x === 0), 'base key zeroed');
  });

  test(`a man in the middle running two agreements gets different SAS values and keys on the two legs (${crypto.name})`, async () => {
    // Alice calls Bob; Mallory (who can replace call messages, e.g. inside a compromised session) rings for
    // Alice herself and places her own call to Bob, substituting her keys on each leg (docs/protocol/11 §11.2.3).
    const { ikI: alice, ikR: bob } = await identities(crypto, 'mitm');
    for (let round = 0; round < 3; round++) {
      const a = await createCallOffer(crypto, seededRng(`mitm/alice/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, sdp: chromiumOffer() });
      // Leg A: Mallory as callee (her E_R, ct to Alice's ek_I).
      const mToAlice = await ringCallOffer(crypto, seededRng(`mitm/mallory-a/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, offer: a.offer });
      // Leg B: Mallory as caller (her ek, E_I, commitment, her DTLS endpoint), to Bob.
      const mToBob = await createCallOffer(crypto, seededRng(`mitm/mallory-b/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, sdp: chromiumOffer({ fingerprint: fingerprintOf(digestBytes(67)) }), call: a.offer.call });
      const b = await ringCallOffer(crypto, seededRng(`mitm/bob/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, offer: mToBob.offer });
      const aliceConfirmed = await confirmCallAsCaller(crypto, a.state, mToAlice.ringing);
      const mConfirmedA = await confirmCallAsCallee(crypto, mToAlice.state, aliceConfirmed.confirm);
      const mConfirmedB = await confirmCallAsCaller(crypto, mToBob.state, b.ringing);
      const bobConfirmed = await confirmCallAsCallee(crypto, b.state, mConfirmedB.confirm);
      // Each leg's answer: Bob's to Mallory, Mallory's own (her DTLS endpoint) to Alice.
      const answerB = { call: a.offer.call, sdp: chromiumAnswer() };
      const answerA = { call: a.offer.call, sdp: chromiumAnswer({ fingerprint: fingerprintOf(digestBytes(66)) }) };
      const aliceDone = await completeCall(crypto, aliceConfirmed.state, answerA);
      const mDoneA = await completeCall(crypto, mConfirmedA.state, answerA);
      const mDoneB = await completeCall(crypto, mConfirmedB.state, answerB);
      const bobDone = await completeCall(crypto, bobConfirmed.state, answerB);
      assertSameCall(aliceDone.keys, mDoneA.keys, 'Mallory completes leg A');
      assertSameCall(mDoneB.keys, bobDone.keys, 'Mallory completes leg B');
      assertDifferentCall(aliceDone.keys, bobDone.keys, `round ${round}: Alice vs Bob`);
      assert.notDeepEqual(aliceDone.keys.sas.words, bobDone.keys.sas.words, 'the words the users read differ');
      // Relaying Alice's confirm to Bob instead fails the commitment Mallory made on leg B.
      const b2 = await ringCallOffer(crypto, seededRng(`mitm/bob2/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, offer: mToBob.offer });
      await assert.rejects(confirmCallAsCallee(crypto, b2.state, aliceConfirmed.confirm), rejectsWith('ERR_CALL_COMMITMENT', 'relayed confirm'));
    }
  });

  test(`tampering with either SDP (the DTLS fingerprint or any line) or any field changes the keys (and the SAS unless it is the answer) or is refused (${crypto.name})`, async () => {
    const ids = await identities(crypto, 'tamper');
    const { ikI, ikR } = ids;
    const honest = await agree(crypto, 'tamper');
    const otherFp = fingerprintOf(digestBytes(99));
    // Each case: how the offer reaching the callee, the ringing reaching the caller and the answer each side uses are changed.
    type Tamper = { offer?: (o: CallOfferMessage) => CallOfferMessage; ringing?: (r: CallRingingMessage) => CallRingingMessage; answerToCaller?: string; calleeView?: { ikI: Uint8Array } };
    const otherKem = (await createCallOffer(crypto, seededRng('tamper/kem'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() })).offer.kem;
    const otherDh = await crypto.x25519PublicKey(seededRng('tamper/dh')(32));
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const c = b.slice();
      c[i] = (c[i] ?? 0) ^ 0x01;
      return c;
    };
    // The answer is sent after E_I is revealed, so it cannot enter the SAS (a man in the middle could then
    // choose it to steer the SAS, docs/protocol/11 §11.3); it changes the keys only.
    const changed: [string, Tamper, 'sas and keys' | 'keys'][] = [
      ['offer DTLS fingerprint swapped', { offer: (o) => ({ ...o, sdp: chromiumOffer({ fingerprint: otherFp }) }) }, 'sas and keys'],
      ['offer ICE candidate address changed', { offer: (o) => ({ ...o, sdp: chromiumOffer({ host: '192.0.2.99' }) }) }, 'sas and keys'],
      ['offer line endings changed', { offer: (o) => ({ ...o, sdp: chromiumOffer({ eol: '\n' }) }) }, 'sas and keys'],
      ['offer kem replaced', { offer: (o) => ({ ...o, kem: otherKem }) }, 'sas and keys'],
      ['ringing dh replaced', { ringing: (r) => ({ ...r, dh: otherDh }) }, 'sas and keys'],
      ['ringing ct bit flipped', { ringing: (r) => ({ ...r, ct: flip(r.ct, 100) }) }, 'sas and keys'],
      ['answer DTLS fingerprint swapped', { answerToCaller: chromiumAnswer({ fingerprint: otherFp }) }, 'keys'],
      ['answer session id changed', { answerToCaller: chromiumAnswer({ sessionId: '1' }) }, 'keys'],
    ];
    for (const [what, t, differ] of changed) {
      const c = await createCallOffer(crypto, seededRng('call/caller/tamper'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
      const r = await ringCallOffer(crypto, seededRng('call/callee/tamper'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer: t.offer?.(c.offer) ?? c.offer });
      const cc = await confirmCallAsCaller(crypto, c.state, t.ringing?.(r.ringing) ?? r.ringing);
      const rc = await confirmCallAsCallee(crypto, r.state, cc.confirm);
      const cDone = await completeCall(crypto, cc.state, { call: c.offer.call, sdp: t.answerToCaller ?? chromiumAnswer() });
      const rDone = await completeCall(crypto, rc.state, { call: c.offer.call, sdp: chromiumAnswer() });
      if (differ === 'keys') {
        assertDifferentKeys(cDone.keys, rDone.keys, what);
        assert.deepEqual(cDone.keys.sas, rDone.keys.sas, `${what}: the SAS is fixed before the answer`);
      } else {
        assertDifferentCall(cDone.keys, rDone.keys, what);
      }
      // The untouched side keeps the honest run's SAS when only the other side saw a change (a new
      // kem changes the ringing's ct too).
      if (t.ringing === undefined && what !== 'offer kem replaced') assert.deepEqual(cDone.keys.sas, honest.caller.sas, `${what}: the caller saw the honest transcript`);
      if (t.offer === undefined) assert.deepEqual(rDone.keys.sas, honest.callee.sas, `${what}: the callee saw the honest transcript`);
    }
    // Fields that the commitment or the call id cover are refused outright.
    const refused: [string, Tamper, 'ringing' | 'confirm', ProtocolErrorCode][] = [
      ['offer commit changed', { offer: (o) => ({ ...o, commit: flip(o.commit, 0) }) }, 'confirm', 'ERR_CALL_COMMITMENT'],
      ['offer call id changed', { offer: (o) => ({ ...o, call: flip(o.call, 3) }) }, 'ringing', 'ERR_CALL_STATE'],
      ['callee sees another caller identity', { calleeView: { ikI: ikR } }, 'confirm', 'ERR_CALL_COMMITMENT'],
    ];
    for (const [what, t, where, code] of refused) {
      const c = await createCallOffer(crypto, seededRng('call/caller/tamper'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
      const r = await ringCallOffer(crypto, seededRng('call/callee/tamper'), { callerIdentityKey: t.calleeView?.ikI ?? ikI, calleeIdentityKey: ikR, offer: t.offer?.(c.offer) ?? c.offer });
      if (where === 'ringing') {
        await assert.rejects(confirmCallAsCaller(crypto, c.state, r.ringing), rejectsWith(code, what));
        continue;
      }
      const cc = await confirmCallAsCaller(crypto, c.state, r.ringing);
      await assert.rejects(confirmCallAsCallee(crypto, r.state, cc.confirm), rejectsWith(code, what));
    }
  });
}

test('inputs are checked before any state changes (FIPS 203 §7.2, docs/protocol/03 §3.2, §11.2.4)', async () => {
  const crypto = fastProvider;
  const { ikI, ikR } = await identities(crypto, 'inputs');
  const args = { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() };
  const rng = seededRng('inputs');
  await assert.rejects(createCallOffer(crypto, rng, { ...args, sdp: chromiumOffer({ audioLevel: true }) }), rejectsWith('ERR_CALL_SDP', 'own offer with audio level'));
  await assert.rejects(createCallOffer(crypto, rng, { ...args, call: new Uint8Array(15) }), rejectsWith('ERR_ARGUMENT', 'short call id'));
  await assert.rejects(createCallOffer(crypto, rng, { ...args, callerIdentityKey: new Uint8Array(31) }), rejectsWith('ERR_KEY_INVALID', 'short identity key'));
  const given = Uint8Array.from({ length: 16 }, (_, i) => i);
  const { state, offer } = await createCallOffer(crypto, rng, { ...args, call: given });
  assert.deepEqual(offer.call, given, 'a given call id is used');
  assert.deepEqual(state.call, given);

  const ringArgs = { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer };
  const badKem = offer.kem.slice();
  badKem[0] = 0xff;
  badKem[1] = (badKem[1] ?? 0) | 0x0f; // first 12-bit coefficient 0xfff >= q
  await assert.rejects(ringCallOffer(crypto, rng, { ...ringArgs, offer: { ...offer, kem: badKem } }), rejectsWith('ERR_KEY_INVALID', 'ek_I fails the modulus check'));
  await assert.rejects(ringCallOffer(crypto, rng, { ...ringArgs, offer: { ...offer, kem: offer.kem.slice(1) } }), rejectsWith('ERR_KEY_INVALID', 'short ek_I'));
  await assert.rejects(ringCallOffer(crypto, rng, { ...ringArgs, offer: { ...offer, commit: offer.commit.slice(1) } }), rejectsWith('ERR_ARGUMENT', 'short commit'));
  await assert.rejects(ringCallOffer(crypto, rng, { ...ringArgs, offer: { ...offer, call: offer.call.slice(1) } }), rejectsWith('ERR_ARGUMENT', 'short call'));
  await assert.rejects(ringCallOffer(crypto, rng, { ...ringArgs, offer: { ...offer, sdp: chromiumOffer({ audioLevel: true }) } }), rejectsWith('ERR_CALL_SDP', 'offer SDP with audio level'));

  const { state: rs, ringing } = await ringCallOffer(crypto, rng, ringArgs);
  const smallOrder = new Uint8Array(32); // u = 0
  const nonCanonical = ringing.dh.slice();
  nonCanonical[31] = (nonCanonical[31] ?? 0) | 0x80;
  const bad: [string, CallRingingMessage, ProtocolErrorCode][] = [
    ['small-order E_R', { ...ringing, dh: smallOrder }, 'ERR_KEY_INVALID'],
    ['non-canonical E_R', { ...ringing, dh: nonCanonical }, 'ERR_KEY_INVALID'],
    ['short E_R', { ...ringing, dh: ringing.dh.slice(1) }, 'ERR_KEY_INVALID'],
    ['short ct', { ...ringing, ct: ringing.ct.slice(1) }, 'ERR_ARGUMENT'],
  ];
  for (const [what, r, code] of bad) {
    await assert.rejects(confirmCallAsCaller(crypto, state, r), rejectsWith(code, what));
    assert.ok(state.usable, `${what}: state unchanged`);
  }
  const { state: cc, confirm } = await confirmCallAsCaller(crypto, state, ringing);
  const { state: rc } = await confirmCallAsCallee(crypto, rs, confirm);
  const badAnswers: [string, string][] = [
    ['answer SDP with audio level', chromiumAnswer({ audioLevel: true })],
    ['answer SDP with sha-1', chromiumAnswer({ fingerprint: 'sha-1 AB:CD' })],
    ['answer without fingerprint', 'v=0\r\n'],
  ];
  for (const [what, sdp] of badAnswers) {
    await assert.rejects(completeCall(crypto, cc, { call: offer.call, sdp }), rejectsWith('ERR_CALL_SDP', what));
    await assert.rejects(completeCall(crypto, rc, { call: offer.call, sdp }), rejectsWith('ERR_CALL_SDP', `${what} (own)`));
    assert.ok(cc.usable && rc.usable, `${what}: state unchanged`);
  }
  const answer = { call: offer.call, sdp: chromiumAnswer() };
  assertSameCall((await completeCall(crypto, cc, answer)).keys, (await completeCall(crypto, rc, answer)).keys, 'after refused inputs, the genuine ones complete');
});

test('property: garbage ringing, confirms and answers give a typed error and leave every pending state usable', async () => {
  const crypto = fastProvider;
  const ids = await identities(crypto, 'garbage');
  const r = await ring(crypto, 'garbage', ids);
  const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
  // Each garbage ringing differs from the genuine one in at least one field that must be refused.
  const badRinging = fc.oneof(
    bytes(20).map((call) => ({ ...r.ringing, call })),
    bytes(40).filter((dh) => dh.length !== 32).map((dh) => ({ ...r.ringing, dh })),
    bytes(1600).filter((ct) => ct.length !== 1568).map((ct) => ({ ...r.ringing, ct })),
  );
  const codes: readonly ProtocolErrorCode[] = ['ERR_CALL_STATE', 'ERR_KEY_INVALID', 'ERR_ARGUMENT'];
  await checkWithCorpus(corpusDir, 'call-garbage-ringing', badRinging, async (g) => {
    await assert.rejects(confirmCallAsCaller(crypto, r.caller, g), (e) => codes.some((c) => isProtocolError(e, c)));
    assert.ok(r.caller.usable);
  }, { numRuns: 200 });
  const badConfirm = fc.record({ call: fc.oneof(fc.constant(r.offer.call), bytes(20)), dh: bytes(40) }, { noNullPrototype: true });
  await checkWithCorpus(corpusDir, 'call-garbage-confirm', badConfirm, async (c) => {
    await assert.rejects(confirmCallAsCallee(crypto, r.callee, c), (e) => isProtocolError(e, 'ERR_CALL_STATE') || isProtocolError(e, 'ERR_CALL_COMMITMENT'));
    assert.ok(r.callee.usable);
  }, { numRuns: 200 });
  const { state: cc, confirm } = await confirmCallAsCaller(crypto, r.caller, r.ringing);
  const { state: rc } = await confirmCallAsCallee(crypto, r.callee, confirm);
  const badAnswer = fc.oneof(
    bytes(20).map((call) => ({ call, sdp: chromiumAnswer() })),
    fc.string({ maxLength: 200 }).map((sdp) => ({ call: r.offer.call, sdp })),
  );
  await checkWithCorpus(corpusDir, 'call-garbage-answer', badAnswer, async (a) => {
    await assert.rejects(completeCall(crypto, cc, a), (e) => isProtocolError(e, 'ERR_CALL_STATE') || isProtocolError(e, 'ERR_CALL_SDP'));
    assert.ok(cc.usable);
  }, { numRuns: 200 });
  const answer = { call: r.offer.call, sdp: chromiumAnswer() };
  assertSameCall((await completeCall(crypto, cc, answer)).keys, (await completeCall(crypto, rc, answer)).keys, 'the genuine messages still complete');
});
