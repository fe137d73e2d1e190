// The scorecard's SRTP (src/internal/srtp.ts) against RFC 3711 Appendix B.2/B.3 and libsrtp's packet vector
// (test/vectors/srtp-rfc3711.json), so that the MIKEY-SAKKE media the scorecard records and decrypts is real
// SRTP; plus the receiver's replay list and tag check. Table-driven from the vector file (STYLE.md §11).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeRtpHeader, srtpDeriveSessionKey, srtpOpenRecorded, srtpProtect, SrtpReceiver, SrtpSender, srtpSessionKeys, SRTP_LABEL } from '../src/internal/srtp.ts';

interface Vectors {
  aes_cm_keystream: { session_key: string; session_salt: string; keystream: string };
  key_derivation: { master_key: string; master_salt: string; cipher_key: string; cipher_salt: string; auth_key_94_octets: string };
  srtp_packet: { master_key: string; master_salt: string; roc: number; rtp_plaintext: string; srtp_ciphertext: string };
}

const v = JSON.parse(readFileSync(new URL('./vectors/srtp-rfc3711.json', import.meta.url), 'utf8')) as Vectors;
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

test('RFC 3711 B.3: session encryption key, salt and the 94-octet authentication keystream', () => {
  const k = v.key_derivation;
  assert.equal(toHex(srtpDeriveSessionKey(hex(k.master_key), hex(k.master_salt), SRTP_LABEL.ENCRYPTION, 16)), k.cipher_key, 'B.3 cipher key');
  assert.equal(toHex(srtpDeriveSessionKey(hex(k.master_key), hex(k.master_salt), SRTP_LABEL.SALT, 14)), k.cipher_salt, 'B.3 cipher salt');
  assert.equal(toHex(srtpDeriveSessionKey(hex(k.master_key), hex(k.master_salt), SRTP_LABEL.AUTHENTICATION, 94)), k.auth_key_94_octets, 'B.3 auth key');
  const s = srtpSessionKeys(hex(k.master_key), hex(k.master_salt));
  assert.equal(toHex(s.authentication), k.auth_key_94_octets.slice(0, 40), 'HMAC-SHA1 key = first 160 bits');
});

test('RFC 3711 B.2: the AES-CM keystream for SSRC 0, index 0 (an all-zero payload encrypts to the keystream)', () => {
  const c = v.aes_cm_keystream;
  const keys = { encryption: hex(c.session_key), salt: hex(c.session_salt), authentication: new Uint8Array(20) };
  const packet = srtpProtect(keys, { payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, marker: false }, 0, new Uint8Array(48));
  assert.equal(toHex(packet.subarray(12, 12 + 48)), c.keystream, 'B.2 keystream');
});

test('libsrtp packet vector: protect gives the reference SRTP packet, and a receiver opens it', () => {
  const p = v.srtp_packet;
  const keys = srtpSessionKeys(hex(p.master_key), hex(p.master_salt));
  const rtp = hex(p.rtp_plaintext);
  const header = decodeRtpHeader(rtp);
  assert.ok(header !== undefined, 'vector header decodes');
  assert.equal(toHex(srtpProtect(keys, header, p.roc, rtp.subarray(12))), p.srtp_ciphertext, 'SRTP ciphertext and tag');
  const receiver = new SrtpReceiver(keys, header.ssrc);
  const opened = receiver.unprotect(hex(p.srtp_ciphertext));
  assert.deepEqual(opened, { ok: true, payload: rtp.subarray(12) }, 'receiver decrypts');
  assert.deepEqual(srtpOpenRecorded(keys, hex(p.srtp_ciphertext)), rtp.subarray(12), 'recorder with the keys decrypts');
});

test('receiver: a replayed packet, a flipped bit, a wrong key and a foreign SSRC are refused without changing state', () => {
  const p = v.srtp_packet;
  const keys = srtpSessionKeys(hex(p.master_key), hex(p.master_salt));
  const sender = new SrtpSender(keys, 0x1234, 65_530); // crosses a sequence wrap: the ROC must follow
  const packets = Array.from({ length: 10 }, (_, i) => sender.protect(new TextEncoder().encode(`frame ${i}`), i * 160, 96));
  const receiver = new SrtpReceiver(keys, 0x1234);
  const first = packets[0];
  const second = packets[1];
  assert.ok(first !== undefined && second !== undefined, 'packets made');
  assert.equal(receiver.unprotect(first).ok, true, 'first packet');
  assert.deepEqual(receiver.unprotect(first), { ok: false, reason: 'replayed' }, 'same packet again');
  const flipped = second.slice();
  flipped[14] = (flipped[14] ?? 0) ^ 1;
  assert.deepEqual(receiver.unprotect(flipped), { ok: false, reason: 'auth-failed' }, 'tampered payload');
  const other = srtpSessionKeys(new Uint8Array(16).fill(7), new Uint8Array(14));
  assert.deepEqual(new SrtpReceiver(other, 0x1234).unprotect(second), { ok: false, reason: 'auth-failed' }, 'wrong keys');
  assert.deepEqual(new SrtpReceiver(keys, 0x9999).unprotect(second), { ok: false, reason: 'wrong-ssrc' }, 'foreign SSRC');
  // Everything after the refusals still decrypts in order, across the sequence-number wrap (ROC 0 → 1).
  const texts = packets.slice(1).map((pk) => {
    const r = receiver.unprotect(pk);
    assert.ok(r.ok, 'in-order packet after refusals');
    return new TextDecoder().decode(r.payload);
  });
  assert.deepEqual(texts, Array.from({ length: 9 }, (_, i) => `frame ${i + 1}`));
  assert.equal(srtpOpenRecorded(keys, packets[9] ?? new Uint8Array()), undefined, 'a recorder assuming ROC 0 cannot open a ROC 1 packet');
  assert.notEqual(srtpOpenRecorded(keys, packets[9] ?? new Uint8Array(), 1), undefined, 'with ROC 1 it can');
});
