// RFC 9180 Appendix A.1 (AES-128-GCM) and A.2 (ChaCha20-Poly1305), DHKEM(X25519, HKDF-SHA256) +
// HKDF-SHA256, all four modes: every intermediate value, every encryption and every export is
// recomputed from the vector's inputs and compared (STYLE.md §11: data-driven, cases named).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors } from '@sotto/test-support';
import { nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { fastProvider } from '@sotto/crypto';
import { fromHex, toHex } from '../src/internal/bytes.ts';
import { deriveKeyPair, decap, authDecap } from '../src/hpke/dhkem.ts';
import { keySchedule } from '../src/hpke/context.ts';
import { setupHpkeRecipient, setupHpkeSenderDeterministic, type HpkeRecipientAuth, type HpkeSenderAuth } from '../src/hpke/hpke.ts';
import { AEAD_ID, KDF_ID_HKDF_SHA256, KEM_ID_X25519_HKDF_SHA256, type HpkeAead, type HpkeModeName } from '../src/hpke/suite.ts';

interface Encryption {
  readonly pt: string;
  readonly aad: string;
  readonly nonce: string;
  readonly ct: string;
  readonly sequence_number: number;
}
interface Export {
  readonly exporter_context: string;
  readonly L: number;
  readonly exported_value: string;
}
interface Vector {
  readonly mode: number;
  readonly kem_id: number;
  readonly kdf_id: number;
  readonly aead_id: number;
  readonly info: string;
  readonly ikmE: string;
  readonly pkEm: string;
  readonly skEm: string;
  readonly ikmR: string;
  readonly pkRm: string;
  readonly skRm: string;
  readonly ikmS?: string;
  readonly pkSm?: string;
  readonly skSm?: string;
  readonly psk?: string;
  readonly psk_id?: string;
  readonly enc: string;
  readonly shared_secret: string;
  readonly key_schedule_context: string;
  readonly secret: string;
  readonly key: string;
  readonly base_nonce: string;
  readonly exporter_secret: string;
  readonly rfc9180_section: string;
  readonly encryptions: readonly Encryption[];
  readonly exports: readonly Export[];
}

const vectors = loadVectors<Vector[]>('rfc9180-hpke/hpke-rfc9180-appendix-A1-A2.json');
const MODES: readonly HpkeModeName[] = ['base', 'psk', 'auth', 'auth_psk'];
const AEADS = Object.entries(AEAD_ID) as [HpkeAead, number][];

function str(v: string | undefined, what: string): string {
  if (v === undefined) throw new Error(`vector lacks ${what}`);
  return v;
}

test('the vector file holds the eight cases of A.1 and A.2 (4 modes x 2 AEADs)', () => {
  assert.equal(vectors.length, 8);
  const seen = new Set(vectors.map((v) => `${v.mode}/${v.aead_id}`));
  assert.equal(seen.size, 8);
});

async function checkCase(crypto: CryptoProvider, v: Vector): Promise<void> {
  const name = `RFC 9180 ${v.rfc9180_section} (mode ${v.mode}, aead ${v.aead_id})`;
  assert.equal(v.kem_id, KEM_ID_X25519_HKDF_SHA256, `${name}: kem_id`);
  assert.equal(v.kdf_id, KDF_ID_HKDF_SHA256, `${name}: kdf_id`);
  const aeadEntry = AEADS.find(([, id]) => id === v.aead_id);
  if (aeadEntry === undefined) throw new Error(`${name}: unknown aead_id`);
  const aead = aeadEntry[0];
  const mode = MODES[v.mode];
  if (mode === undefined) throw new Error(`${name}: unknown mode`);
  const isAuth = mode === 'auth' || mode === 'auth_psk';
  const isPsk = mode === 'psk' || mode === 'auth_psk';

  // §7.1.3 DeriveKeyPair for every ikm in the vector
  const e = await deriveKeyPair(crypto, fromHex(v.ikmE));
  assert.equal(toHex(e.privateKey), v.skEm, `${name}: skEm`);
  assert.equal(toHex(e.publicKey), v.pkEm, `${name}: pkEm`);
  const r = await deriveKeyPair(crypto, fromHex(v.ikmR));
  assert.equal(toHex(r.privateKey), v.skRm, `${name}: skRm`);
  assert.equal(toHex(r.publicKey), v.pkRm, `${name}: pkRm`);
  let s: { privateKey: Uint8Array; publicKey: Uint8Array } | undefined;
  if (isAuth) {
    s = await deriveKeyPair(crypto, fromHex(str(v.ikmS, 'ikmS')));
    assert.equal(toHex(s.privateKey), v.skSm, `${name}: skSm`);
    assert.equal(toHex(s.publicKey), v.pkSm, `${name}: pkSm`);
  } else {
    assert.equal(v.ikmS, undefined, `${name}: a non-auth case carries no sender key`);
  }
  const psk = isPsk ? fromHex(str(v.psk, 'psk')) : new Uint8Array(0);
  const pskId = isPsk ? fromHex(str(v.psk_id, 'psk_id')) : new Uint8Array(0);
  const info = fromHex(v.info);

  const senderAuth: HpkeSenderAuth =
    mode === 'base'
      ? { mode }
      : mode === 'psk'
        ? { mode, psk, pskId }
        : mode === 'auth'
          ? { mode, senderPrivateKey: fromHex(str(v.skSm, 'skSm')) }
          : { mode, psk, pskId, senderPrivateKey: fromHex(str(v.skSm, 'skSm')) };
  const recipientAuth: HpkeRecipientAuth =
    mode === 'base'
      ? { mode }
      : mode === 'psk'
        ? { mode, psk, pskId }
        : mode === 'auth'
          ? { mode, senderPublicKey: fromHex(str(v.pkSm, 'pkSm')) }
          : { mode, psk, pskId, senderPublicKey: fromHex(str(v.pkSm, 'pkSm')) };

  // §4.1 Encap / AuthEncap (sender side) and Decap / AuthDecap (recipient side)
  const sender = await setupHpkeSenderDeterministic(crypto, fromHex(v.ikmE), { aead, recipientPublicKey: fromHex(v.pkRm), info, auth: senderAuth });
  assert.equal(toHex(sender.enc), v.enc, `${name}: enc`);
  assert.equal(toHex(sender.sharedSecret), v.shared_secret, `${name}: shared_secret (encap)`);
  const decapped = isAuth
    ? await authDecap(crypto, fromHex(v.enc), fromHex(v.skRm), fromHex(str(v.pkSm, 'pkSm')))
    : await decap(crypto, fromHex(v.enc), fromHex(v.skRm));
  assert.equal(toHex(decapped), v.shared_secret, `${name}: shared_secret (decap)`);

  // §5.1 KeySchedule
  const ks = keySchedule(crypto, aead, mode, fromHex(v.shared_secret), info, psk, pskId);
  assert.equal(toHex(ks.keyScheduleContext), v.key_schedule_context, `${name}: key_schedule_context`);
  assert.equal(toHex(ks.secret), v.secret, `${name}: secret`);
  assert.equal(toHex(ks.key), v.key, `${name}: key`);
  assert.equal(toHex(ks.baseNonce), v.base_nonce, `${name}: base_nonce`);
  assert.equal(toHex(ks.exporterSecret), v.exporter_secret, `${name}: exporter_secret`);

  // §5.2 every encryption, at its sequence number, on both sides. The vectors skip sequence numbers
  // (0, 1, 2, 4, 255, 256), so the contexts are advanced with filler messages in between, as the RFC did.
  const recipientStart = await setupHpkeRecipient(crypto, fromHex(v.enc), { aead, recipientPrivateKey: fromHex(v.skRm), info, auth: recipientAuth });
  let sctx = sender.context;
  let rctx = recipientStart;
  const filler = new Uint8Array(0);
  for (const enc of v.encryptions) {
    const caseName = `${name} encryption seq ${enc.sequence_number}`;
    while (sctx.sequence < enc.sequence_number) {
      const sealed = await sctx.seal(crypto, filler, filler);
      sctx = sealed.context;
      rctx = (await rctx.open(crypto, filler, sealed.ciphertext)).context;
    }
    assert.equal(sctx.sequence, enc.sequence_number, `${caseName}: sequence`);
    const sealed = await sctx.seal(crypto, fromHex(enc.aad), fromHex(enc.pt));
    assert.equal(toHex(sealed.ciphertext), enc.ct, `${caseName}: ct`);
    const opened = await rctx.open(crypto, fromHex(enc.aad), fromHex(enc.ct));
    assert.equal(toHex(opened.plaintext), enc.pt, `${caseName}: pt`);
    sctx = sealed.context;
    rctx = opened.context;
  }
  assert.equal(v.encryptions.length, 6, `${name}: six encryptions`);

  // §5.3 every export, from both sides
  for (const ex of v.exports) {
    const caseName = `${name} export context "${ex.exporter_context}" L ${ex.L}`;
    assert.equal(toHex(sender.context.export(crypto, fromHex(ex.exporter_context), ex.L)), ex.exported_value, `${caseName}: sender`);
    assert.equal(toHex(recipientStart.export(crypto, fromHex(ex.exporter_context), ex.L)), ex.exported_value, `${caseName}: recipient`);
  }
  assert.equal(v.exports.length, 3, `${name}: three exports`);
}

for (const provider of [nobleProvider, fastProvider]) {
  for (const v of vectors) {
    test(`RFC 9180 ${v.rfc9180_section}: mode ${v.mode}, aead ${v.aead_id} (${provider.name} provider)`, async () => {
      await checkCase(provider, v);
    });
  }
}
