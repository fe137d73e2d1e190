// The call key agreement (docs/protocol/11 §11.1–11.4): both sides agree, the keys cross over, the hash
// commitment (RFC 6189 §4.4.1.1) and the transcript binding hold against a man in the middle and against
// tampering with any field (the DTLS fingerprints included), pending states are single-use, keep no
// state change on bad input and erase their secrets. Runs with the portable and the fast provider.
//
// No published vectors exist for this construction, nor for ZRTP's SAS (shared/vectors/README.md: "Not
// available anywhere we looked: SAS test vectors for ZRTP"). So one test recomputes hvi, th, s0, sashash
// and the base keys a second time, written plainly from the spec text with @noble directly (not through
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
  answerCallOffer,
  completeCallAsCallee,
  completeCallAsCaller,
  createCallOffer,
  isProtocolError,
  nobleProvider,
  type CallAnswerMessage,
  type CallConfirmMessage,
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
  readonly answer: CallAnswerMessage;
  readonly confirm: CallConfirmMessage;
  readonly caller: CallKeys;
  readonly callee: CallKeys;
  readonly callerRng: ReturnType<typeof recordingRng>;
  readonly calleeRng: ReturnType<typeof recordingRng>;
}

async function identities(crypto: CryptoProvider, label: string): Promise<{ ikI: Uint8Array; ikR: Uint8Array }> {
  const rng = seededRng(`call/identities/${label}`);
  return { ikI: (await IdentityKeyPair.generate(crypto, rng)).publicKey, ikR: (await IdentityKeyPair.generate(crypto, rng)).publicKey };
}

async function agree(crypto: CryptoProvider, label: string): Promise<Run> {
  const { ikI, ikR } = await identities(crypto, label);
  const callerRng = recordingRng(`call/caller/${label}`);
  const calleeRng = recordingRng(`call/callee/${label}`);
  const { state: cs, offer } = await createCallOffer(crypto, callerRng.rng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
  const { state: rs, answer } = await answerCallOffer(crypto, calleeRng.rng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer, sdp: chromiumAnswer() });
  const { keys: caller, confirm } = await completeCallAsCaller(crypto, cs, answer);
  const { keys: callee } = await completeCallAsCallee(crypto, rs, confirm);
  return { ikI, ikR, offer, answer, confirm, caller, callee, callerRng, calleeRng };
}

function assertSameCall(a: CallKeys, b: CallKeys, what: string): void {
  assert.deepEqual(a.sas, b.sas, `${what}: SAS`);
  assert.deepEqual(a.send, b.receive, `${what}: one side's send key is the other's receive key`);
  assert.deepEqual(a.receive, b.send, `${what}: and the other way round`);
}

function assertDifferentCall(a: CallKeys, b: CallKeys, what: string): void {
  assert.notDeepEqual(a.sas.value, b.sas.value, `${what}: SAS values differ`);
  assert.notDeepEqual(a.send.baseKey, b.receive.baseKey, `${what}: caller→callee keys differ`);
  assert.notDeepEqual(a.receive.baseKey, b.send.baseKey, `${what}: callee→caller keys differ`);
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
    assert.equal(r.answer.dh.length, 32);
    assert.equal(r.answer.ct.length, 1568);
    assert.equal(r.confirm.dh.length, 32);
    assert.equal(r.caller.sas.value.length, 4);
    assert.equal(r.caller.sas.base32.length, 4);
    // The offer's call id comes from rng(16), drawn first.
    assert.deepEqual(r.offer.call, r.callerRng.copies[0]);
  });
}

test('both providers produce the same transcript from the same seeds', async () => {
  const a = await agree(nobleProvider, 'cross-provider');
  const b = await agree(fastProvider, 'cross-provider');
  assert.deepEqual(a.offer, b.offer);
  assert.deepEqual(a.answer, b.answer);
  assert.deepEqual(a.confirm, b.confirm);
  assertSameCall(a.caller, b.callee, 'noble caller vs fast callee');
});

for (const crypto of PROVIDERS) {
  test(`an independent computation of hvi, th, s0, sashash and the base keys from the spec text agrees (${crypto.name})`, async () => {
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
    assert.deepEqual(r.answer.dh, ER);
    assert.deepEqual(r.answer.ct, ct);
    assert.deepEqual(r.confirm.dh, EI);

    // §11.2.1 hvi = SHA-256("Sotto_v1_CallCommit" || call || IK_I || IK_R || E_I)
    const hvi = sha256(cat(enc.encode('Sotto_v1_CallCommit'), callId, r.ikI, r.ikR, EI));
    assert.deepEqual(r.offer.commit, hvi, 'hvi');

    // §11.2.4 canonical fingerprints: the ones written into the fixture SDPs.
    const fpOffer = fingerprintOf(digestBytes(1));
    const fpAnswer = fingerprintOf(digestBytes(2));
    // §11.3 th
    const th = sha256(
      cat(
        enc.encode('Sotto_v1_CallTranscript'),
        callId, r.ikI, r.ikR,
        sha256(ekI), hvi, vec16(fpOffer), vec32(chromiumOffer()),
        ER, sha256(ct), vec16(fpAnswer), vec32(chromiumAnswer()),
        EI,
      ),
    );
    // §11.3 s0 = SHA-256(u32(1) || dh || ss_kem || "Sotto_v1_Call" || IK_I || IK_R || th), dh = X25519(e_I, E_R)
    const dh = x25519.getSharedSecret(eI, ER);
    assert.deepEqual(x25519.getSharedSecret(eR, EI), dh);
    const s0 = sha256(cat(u32(1), dh, ssKem, enc.encode('Sotto_v1_Call'), r.ikI, r.ikR, th));
    // RFC 6189 §4.5.1 KDF(KI, Label, Context, L) = HMAC(KI, i || Label || 0x00 || Context || L), i = 1, L = 256
    const context = cat(callId, r.ikI, r.ikR, th);
    const kdf = (label: string): Uint8Array => hmac(sha256, s0, cat(u32(1), enc.encode(label), Uint8Array.of(0), context, u32(256)));
    const sashash = kdf('SAS');
    assert.deepEqual(r.caller.sas.value, sashash.slice(0, 4), 'sasvalue = sashash[0..4]');
    assert.deepEqual(r.callee.sas.value, sashash.slice(0, 4));
    assert.deepEqual(r.caller.send.baseKey, kdf('Sotto SFrame caller'), 'caller base key');
    assert.deepEqual(r.caller.receive.baseKey, kdf('Sotto SFrame callee'), 'callee base key');
  });
}

for (const crypto of PROVIDERS) {
  test(`a confirm whose E_I does not open the commitment is ERR_CALL_COMMITMENT; the state stays usable (${crypto.name})`, async () => {
    const { ikI, ikR } = await identities(crypto, 'commit');
    const { state: cs, offer } = await createCallOffer(crypto, seededRng('commit/caller'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
    const { state: rs, answer } = await answerCallOffer(crypto, seededRng('commit/callee'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer, sdp: chromiumAnswer() });
    const { keys: caller, confirm } = await completeCallAsCaller(crypto, cs, answer);
    const other = await crypto.x25519PublicKey(seededRng('commit/other')(32));
    const flipped = confirm.dh.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    for (const [what, dh] of [['another key', other], ['one bit flipped', flipped], ['empty', new Uint8Array(0)], ['33 bytes', new Uint8Array(33)]] as const) {
      await assert.rejects(completeCallAsCallee(crypto, rs, { call: confirm.call, dh }), rejectsWith('ERR_CALL_COMMITMENT', what));
      assert.ok(rs.usable, `${what}: the pending state is unchanged`);
    }
    const { keys: callee } = await completeCallAsCallee(crypto, rs, confirm);
    assertSameCall(caller, callee, 'after refused confirms, the genuine one completes');
  });

  test(`wrong call id and reuse are ERR_CALL_STATE; erase() ends a pending state (${crypto.name})`, async () => {
    const { ikI, ikR } = await identities(crypto, 'state');
    const { state: cs, offer } = await createCallOffer(crypto, seededRng('state/caller'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
    const { state: rs, answer } = await answerCallOffer(crypto, seededRng('state/callee'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer, sdp: chromiumAnswer() });
    const otherCall = offer.call.slice();
    otherCall[15] = (otherCall[15] ?? 0) ^ 0x80;
    await assert.rejects(completeCallAsCaller(crypto, cs, { ...answer, call: otherCall }), rejectsWith('ERR_CALL_STATE', 'answer for another call'));
    await assert.rejects(completeCallAsCaller(crypto, cs, { ...answer, call: otherCall.slice(0, 8) }), rejectsWith('ERR_CALL_STATE', 'short call id'));
    assert.ok(cs.usable);
    // Two completions at once: exactly one wins.
    const both = await Promise.allSettled([completeCallAsCaller(crypto, cs, answer), completeCallAsCaller(crypto, cs, answer)]);
    assert.equal(both.filter((x) => x.status === 'fulfilled').length, 1);
    const lost = both.find((x) => x.status === 'rejected');
    assert.ok(lost !== undefined && isProtocolError(lost.reason, 'ERR_CALL_STATE'));
    const won = both.find((x) => x.status === 'fulfilled');
    if (won?.status !== 'fulfilled') throw new Error('no completion');
    const { confirm } = won.value;
    assert.ok(!cs.usable);
    await assert.rejects(completeCallAsCaller(crypto, cs, answer), rejectsWith('ERR_CALL_STATE', 'caller state reused'));
    await assert.rejects(completeCallAsCallee(crypto, rs, { ...confirm, call: otherCall }), rejectsWith('ERR_CALL_STATE', 'confirm for another call'));
    await completeCallAsCallee(crypto, rs, confirm);
    await assert.rejects(completeCallAsCallee(crypto, rs, confirm), rejectsWith('ERR_CALL_STATE', 'callee state reused'));
    // erase(): the call ended before it completed.
    const { state: cs2, offer: offer2 } = await createCallOffer(crypto, seededRng('state/caller2'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
    const { state: rs2, answer: answer2 } = await answerCallOffer(crypto, seededRng('state/callee2'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer: offer2, sdp: chromiumAnswer() });
    cs2.erase();
    rs2.erase();
    cs2.erase();
    assert.ok(!cs2.usable && !rs2.usable);
    await assert.rejects(completeCallAsCaller(crypto, cs2, answer2), rejectsWith('ERR_CALL_STATE', 'erased caller state'));
    await assert.rejects(completeCallAsCallee(crypto, rs2, confirm), rejectsWith('ERR_CALL_STATE', 'erased callee state'));
    // erase() while a completion runs: the completion fails and hands out no keys.
    const { state: cs3, offer: offer3 } = await createCallOffer(crypto, seededRng('state/caller3'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
    const { answer: answer3 } = await answerCallOffer(crypto, seededRng('state/callee3'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer: offer3, sdp: chromiumAnswer() });
    const running = completeCallAsCaller(crypto, cs3, answer3);
    cs3.erase();
    await assert.rejects(running, rejectsWith('ERR_CALL_STATE', 'erased while completing'));
  });

  test(`ephemeral secrets are erased after use; keys erase on demand; everything prints redacted (${crypto.name})`, async () => {
    const r = await agree(crypto, 'erase');
    // Caller draws: call id, ML-KEM seed, e_I; callee draws: e_R, m. All but the public call id are zero now.
    const [, seed, eI] = r.callerRng.handed;
    const [eR, m] = r.calleeRng.handed;
    for (const [what, b] of [['ML-KEM seed', seed], ['e_I', eI], ['e_R', eR], ['m', m]] as const) {
      assert.ok(b !== undefined && b.length > 0 && b.every((x) => x === 0), `${what} is wiped`);
    }
    const { ikI, ikR } = await identities(crypto, 'erase');
    const { state, offer } = await createCallOffer(crypto, seededRng('erase/print'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
    const { state: calleeState } = await answerCallOffer(crypto, seededRng('erase/print2'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer, sdp: chromiumAnswer() });
    for (const [obj, marker, secrets] of [
      [state, '[CallerPending: redacted]', []],
      [calleeState, '[CalleePending: redacted]', []],
      [r.caller, '[CallKeys: redacted]', [r.caller.send.baseKey, r.caller.receive.baseKey]],
    ] as const) {
      for (const shown of [(obj as { toString(): string }).toString(), JSON.stringify(obj), JSON.stringify({ nested: [obj] }), inspect(obj, { showHidden: true, depth: Infinity, getters: true }), inspect({ obj }, { depth: 5 })]) {
        assert.ok(shown.includes(marker), `${marker}: got ${shown.slice(0, 100)}`);
        for (const s of secrets) assert.ok(!shown.includes(hex(s).slice(0, 16)), `${marker} leaks a key`);
      }
    }
    state.erase();
    calleeState.erase();
    assert.ok(!Object.keys(r.caller).some((k) => k === 'send' || k === 'receive'), 'the base keys are not own enumerable properties');
    assert.ok(!JSON.stringify({ ...r.caller }).includes(hex(r.caller.send.baseKey).slice(0, 16)), 'spreading copies no key');
    r.caller.erase();
    r.callee.erase();
    for (const k of [r.caller.send, r.caller.receive, r.callee.send, r.callee.receive]) assert.ok(k.baseKey.every((x) => x === 0), 'base key zeroed');
  });

  test(`a man in the middle running two agreements gets different SAS values and keys on the two legs (${crypto.name})`, async () => {
    // Alice calls Bob; Mallory (who can replace call messages, e.g. inside a compromised session) answers
    // Alice herself and places her own call to Bob, substituting her keys on each leg (docs/protocol/11 §11.2.3).
    const { ikI: alice, ikR: bob } = await identities(crypto, 'mitm');
    for (let round = 0; round < 3; round++) {
      const a = await createCallOffer(crypto, seededRng(`mitm/alice/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, sdp: chromiumOffer() });
      // Leg A: Mallory as callee (her E_R, ct to Alice's ek_I, her own DTLS endpoint).
      const mToAlice = await answerCallOffer(crypto, seededRng(`mitm/mallory-a/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, offer: a.offer, sdp: chromiumAnswer({ fingerprint: fingerprintOf(digestBytes(66)) }) });
      // Leg B: Mallory as caller (her ek, E_I, commitment, her DTLS endpoint), to Bob.
      const mToBob = await createCallOffer(crypto, seededRng(`mitm/mallory-b/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, sdp: chromiumOffer({ fingerprint: fingerprintOf(digestBytes(67)) }), call: a.offer.call });
      const b = await answerCallOffer(crypto, seededRng(`mitm/bob/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, offer: mToBob.offer, sdp: chromiumAnswer() });
      const aliceDone = await completeCallAsCaller(crypto, a.state, mToAlice.answer);
      const mDoneA = await completeCallAsCallee(crypto, mToAlice.state, aliceDone.confirm);
      const mDoneB = await completeCallAsCaller(crypto, mToBob.state, b.answer);
      const bobDone = await completeCallAsCallee(crypto, b.state, mDoneB.confirm);
      assertSameCall(aliceDone.keys, mDoneA.keys, 'Mallory completes leg A');
      assertSameCall(mDoneB.keys, bobDone.keys, 'Mallory completes leg B');
      assertDifferentCall(aliceDone.keys, bobDone.keys, `round ${round}: Alice vs Bob`);
      assert.notDeepEqual(aliceDone.keys.sas.words, bobDone.keys.sas.words, 'the words the users read differ');
      // Relaying Alice's confirm to Bob instead fails the commitment Mallory made on leg B.
      const b2 = await answerCallOffer(crypto, seededRng(`mitm/bob2/${round}`), { callerIdentityKey: alice, calleeIdentityKey: bob, offer: mToBob.offer, sdp: chromiumAnswer() });
      await assert.rejects(completeCallAsCallee(crypto, b2.state, aliceDone.confirm), rejectsWith('ERR_CALL_COMMITMENT', 'relayed confirm'));
    }
  });

  test(`tampering with either SDP (the DTLS fingerprint or any line) or any field changes the SAS and keys or is refused (${crypto.name})`, async () => {
    const { ikI, ikR } = await identities(crypto, 'tamper');
    const honest = await agree(crypto, 'tamper');
    const otherFp = fingerprintOf(digestBytes(99));
    // Each case: how the offer reaching the callee, and the answer reaching the caller, are changed.
    type Tamper = { offer?: (o: CallOfferMessage) => CallOfferMessage; answer?: (a: CallAnswerMessage) => CallAnswerMessage; calleeView?: { ikI: Uint8Array } };
    const otherKem = (await createCallOffer(crypto, seededRng('tamper/kem'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() })).offer.kem;
    const otherDh = await crypto.x25519PublicKey(seededRng('tamper/dh')(32));
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const c = b.slice();
      c[i] = (c[i] ?? 0) ^ 0x01;
      return c;
    };
    const changed: [string, Tamper][] = [
      ['offer DTLS fingerprint swapped', { offer: (o) => ({ ...o, sdp: chromiumOffer({ fingerprint: otherFp }) }) }],
      ['answer DTLS fingerprint swapped', { answer: (a) => ({ ...a, sdp: chromiumAnswer({ fingerprint: otherFp }) }) }],
      ['offer ICE candidate address changed', { offer: (o) => ({ ...o, sdp: chromiumOffer({ host: '192.0.2.99' }) }) }],
      ['answer session id changed', { answer: (a) => ({ ...a, sdp: chromiumAnswer({ sessionId: '1' }) }) }],
      ['offer line endings changed', { offer: (o) => ({ ...o, sdp: chromiumOffer({ eol: '\n' }) }) }],
      ['offer kem replaced', { offer: (o) => ({ ...o, kem: otherKem }) }],
      ['answer dh replaced', { answer: (a) => ({ ...a, dh: otherDh }) }],
      ['answer ct bit flipped', { answer: (a) => ({ ...a, ct: flip(a.ct, 100) }) }],
    ];
    for (const [what, t] of changed) {
      const callerRng = seededRng('call/caller/tamper');
      const calleeRng = seededRng('call/callee/tamper');
      const c = await createCallOffer(crypto, callerRng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
      const r = await answerCallOffer(crypto, calleeRng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer: t.offer?.(c.offer) ?? c.offer, sdp: chromiumAnswer() });
      const cDone = await completeCallAsCaller(crypto, c.state, t.answer?.(r.answer) ?? r.answer);
      const rDone = await completeCallAsCallee(crypto, r.state, cDone.confirm);
      assertDifferentCall(cDone.keys, rDone.keys, what);
      // The untouched side keeps the honest run's values when only the other side saw a change (a new
      // kem changes the answer's ct too).
      if (t.answer === undefined && what !== 'offer kem replaced') assert.deepEqual(cDone.keys.sas, honest.caller.sas, `${what}: the caller saw the honest transcript`);
      if (t.offer === undefined) assert.deepEqual(rDone.keys.sas, honest.callee.sas, `${what}: the callee saw the honest transcript`);
    }
    // Fields that the commitment or the call id cover are refused outright.
    const refused: [string, Tamper, 'answer' | 'confirm', ProtocolErrorCode][] = [
      ['offer commit changed', { offer: (o) => ({ ...o, commit: flip(o.commit, 0) }) }, 'confirm', 'ERR_CALL_COMMITMENT'],
      ['offer call id changed', { offer: (o) => ({ ...o, call: flip(o.call, 3) }) }, 'answer', 'ERR_CALL_STATE'],
      ['callee sees another caller identity', { calleeView: { ikI: ikR } }, 'confirm', 'ERR_CALL_COMMITMENT'],
    ];
    for (const [what, t, where, code] of refused) {
      const c = await createCallOffer(crypto, seededRng('call/caller/tamper'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
      const r = await answerCallOffer(crypto, seededRng('call/callee/tamper'), { callerIdentityKey: t.calleeView?.ikI ?? ikI, calleeIdentityKey: ikR, offer: t.offer?.(c.offer) ?? c.offer, sdp: chromiumAnswer() });
      if (where === 'answer') {
        await assert.rejects(completeCallAsCaller(crypto, c.state, r.answer), rejectsWith(code, what));
        continue;
      }
      const cDone = await completeCallAsCaller(crypto, c.state, r.answer);
      await assert.rejects(completeCallAsCallee(crypto, r.state, cDone.confirm), rejectsWith(code, what));
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

  const answerArgs = { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer, sdp: chromiumAnswer() };
  const badKem = offer.kem.slice();
  badKem[0] = 0xff;
  badKem[1] = (badKem[1] ?? 0) | 0x0f; // first 12-bit coefficient 0xfff >= q
  await assert.rejects(answerCallOffer(crypto, rng, { ...answerArgs, offer: { ...offer, kem: badKem } }), rejectsWith('ERR_KEY_INVALID', 'ek_I fails the modulus check'));
  await assert.rejects(answerCallOffer(crypto, rng, { ...answerArgs, offer: { ...offer, kem: offer.kem.slice(1) } }), rejectsWith('ERR_KEY_INVALID', 'short ek_I'));
  await assert.rejects(answerCallOffer(crypto, rng, { ...answerArgs, offer: { ...offer, commit: offer.commit.slice(1) } }), rejectsWith('ERR_ARGUMENT', 'short commit'));
  await assert.rejects(answerCallOffer(crypto, rng, { ...answerArgs, offer: { ...offer, call: offer.call.slice(1) } }), rejectsWith('ERR_ARGUMENT', 'short call'));
  await assert.rejects(answerCallOffer(crypto, rng, { ...answerArgs, offer: { ...offer, sdp: chromiumOffer({ audioLevel: true }) } }), rejectsWith('ERR_CALL_SDP', 'offer SDP with audio level'));
  await assert.rejects(answerCallOffer(crypto, rng, { ...answerArgs, sdp: 'v=0\r\n' }), rejectsWith('ERR_CALL_SDP', 'own answer without fingerprint'));

  const { state: rs, answer } = await answerCallOffer(crypto, rng, answerArgs);
  const smallOrder = new Uint8Array(32); // u = 0
  const nonCanonical = answer.dh.slice();
  nonCanonical[31] = (nonCanonical[31] ?? 0) | 0x80;
  const bad: [string, CallAnswerMessage, ProtocolErrorCode][] = [
    ['small-order E_R', { ...answer, dh: smallOrder }, 'ERR_KEY_INVALID'],
    ['non-canonical E_R', { ...answer, dh: nonCanonical }, 'ERR_KEY_INVALID'],
    ['short E_R', { ...answer, dh: answer.dh.slice(1) }, 'ERR_KEY_INVALID'],
    ['short ct', { ...answer, ct: answer.ct.slice(1) }, 'ERR_ARGUMENT'],
    ['answer SDP with audio level', { ...answer, sdp: chromiumAnswer({ audioLevel: true }) }, 'ERR_CALL_SDP'],
    ['answer SDP with sha-1', { ...answer, sdp: chromiumAnswer({ fingerprint: 'sha-1 AB:CD' }) }, 'ERR_CALL_SDP'],
  ];
  for (const [what, a, code] of bad) {
    await assert.rejects(completeCallAsCaller(crypto, state, a), rejectsWith(code, what));
    assert.ok(state.usable, `${what}: state unchanged`);
  }
  const { keys, confirm } = await completeCallAsCaller(crypto, state, answer);
  const { keys: calleeKeys } = await completeCallAsCallee(crypto, rs, confirm);
  assertSameCall(keys, calleeKeys, 'after refused answers, the genuine one completes');
});

test('property: garbage answers and confirms give a typed error and leave both pending states usable', async () => {
  const crypto = fastProvider;
  const { ikI, ikR } = await identities(crypto, 'garbage');
  const { state: cs, offer } = await createCallOffer(crypto, seededRng('garbage/caller'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: chromiumOffer() });
  const { state: rs, answer } = await answerCallOffer(crypto, seededRng('garbage/callee'), { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer, sdp: chromiumAnswer() });
  const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
  // Each garbage answer differs from the genuine one in at least one field that must be refused.
  const badAnswer = fc.oneof(
    bytes(20).map((call) => ({ ...answer, call })),
    bytes(40).filter((dh) => dh.length !== 32).map((dh) => ({ ...answer, dh })),
    bytes(1600).filter((ct) => ct.length !== 1568).map((ct) => ({ ...answer, ct })),
    fc.string({ maxLength: 200 }).map((sdp) => ({ ...answer, sdp })),
  );
  const codes: readonly ProtocolErrorCode[] = ['ERR_CALL_STATE', 'ERR_KEY_INVALID', 'ERR_ARGUMENT', 'ERR_CALL_SDP'];
  await checkWithCorpus(corpusDir, 'call-garbage-answer', badAnswer, async (a) => {
    await assert.rejects(completeCallAsCaller(crypto, cs, a), (e) => codes.some((c) => isProtocolError(e, c)));
    assert.ok(cs.usable);
  }, { numRuns: 200 });
  const badConfirm = fc.record({ call: fc.oneof(fc.constant(offer.call), bytes(20)), dh: bytes(40) }, { noNullPrototype: true });
  await checkWithCorpus(corpusDir, 'call-garbage-confirm', badConfirm, async (c) => {
    await assert.rejects(completeCallAsCallee(crypto, rs, c), (e) => isProtocolError(e, 'ERR_CALL_STATE') || isProtocolError(e, 'ERR_CALL_COMMITMENT'));
    assert.ok(rs.usable);
  }, { numRuns: 200 });
  const { keys, confirm } = await completeCallAsCaller(crypto, cs, answer);
  const { keys: calleeKeys } = await completeCallAsCallee(crypto, rs, confirm);
  assertSameCall(keys, calleeKeys, 'the genuine messages still complete');
});
