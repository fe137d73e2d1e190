// SRTP (RFC 3711) with the default transform AES_CM_128_HMAC_SHA1_80 — the media protection the MIKEY-SAKKE
// call set-up keys (RFC 6509 §3.1: TGK = SSV, RFC 3830 §4.1.3 and Appendix A: TEK = SRTP master key,
// salting key = SRTP master salt). @sotto/escrow stops at the master key and salt; this file turns them
// into session keys (RFC 3711 §4.3) and protects RTP packets (§3.3, §4.1.1, §4.2) so that the scorecard
// records and attacks real SRTP packets rather than keys.
//
// Modelled: RTP without CSRCs or header extensions, the 48-bit packet index with the RFC 3711 Appendix A
// roll-over-counter estimate, key derivation rate 0 (session keys derived once), no MKI, and the receiver's
// replay list (§3.3.2) with the default 64-packet window. Not modelled: SRTCP. Checked against RFC 3711
// Appendix B.2/B.3 and libsrtp's packet vector in test/srtp-rfc3711.test.ts.
//
// Not constant-time where it does not matter (the tag comparison is); this is the counter-example's media
// layer, never Sotto's.
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { AttacksError } from '../errors.ts';

/** RFC 3711 §4.3.1: key derivation labels for SRTP. */
export const SRTP_LABEL = { ENCRYPTION: 0x00, AUTHENTICATION: 0x01, SALT: 0x02 } as const;
/** RFC 3711 §8.2 defaults: n_e = 128 bits, n_a = 160 bits (HMAC-SHA1 key), n_s = 112 bits, tag 80 bits. */
export const SRTP_SESSION_KEY_BYTES = 16;
export const SRTP_AUTH_KEY_BYTES = 20;
export const SRTP_SALT_BYTES = 14;
export const SRTP_TAG_BYTES = 10;
/** RFC 3711 §3.3.2: "the replay list SHOULD" cover at least 64 packets (the default window). */
export const SRTP_REPLAY_WINDOW = 64n;
/** RFC 3550 §5.1: the fixed RTP header, without CSRCs. */
export const RTP_HEADER_BYTES = 12;

/** Session keys of one SRTP crypto context (RFC 3711 §3.2.1, §4.3). */
export interface SrtpSessionKeys {
  readonly encryption: Uint8Array;
  readonly authentication: Uint8Array;
  readonly salt: Uint8Array;
}

/** AES-CM keystream (RFC 3711 §4.1.1): AES_k(IV) || AES_k(IV + 1) || ... truncated to `bytes`. */
function aesCmKeystream(key: Uint8Array, iv: Uint8Array, bytes: number): Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', key, iv); // CTR over the whole 128-bit block = RFC 3711's counter
  return new Uint8Array(cipher.update(new Uint8Array(bytes)));
}

/**
 * RFC 3711 §4.3.1 with kdr = 0 (r = 0): key_id = label || r (56 bits), x = key_id XOR master_salt,
 * PRF_n(k_master, x) = AES-CM keystream with IV = x * 2^16 (§4.3.3).
 */
export function srtpDeriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, bytes: number): Uint8Array {
  if (masterKey.length !== 16 || masterSalt.length !== SRTP_SALT_BYTES) {
    throw new AttacksError('ERR_ATTACKS_ARGUMENT', `SRTP master key/salt: expected 16/14 bytes, got ${masterKey.length}/${masterSalt.length}`);
  }
  const iv = new Uint8Array(16);
  iv.set(masterSalt); //                                 x = master_salt ...
  iv[7] = (iv[7] ?? 0) ^ label; //                       ... XOR (label || r): label sits 7 bytes from the salt's end
  return aesCmKeystream(masterKey, iv, bytes); //        IV = x * 2^16 (the two low bytes stay zero)
}

/** All three session keys for SRTP (RFC 3711 §4.3.1, labels 0x00, 0x01, 0x02). */
export function srtpSessionKeys(masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeys {
  return {
    encryption: srtpDeriveSessionKey(masterKey, masterSalt, SRTP_LABEL.ENCRYPTION, SRTP_SESSION_KEY_BYTES),
    authentication: srtpDeriveSessionKey(masterKey, masterSalt, SRTP_LABEL.AUTHENTICATION, SRTP_AUTH_KEY_BYTES),
    salt: srtpDeriveSessionKey(masterKey, masterSalt, SRTP_LABEL.SALT, SRTP_SALT_BYTES),
  };
}

/** RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
function packetIv(salt: Uint8Array, ssrc: number, index: bigint): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(salt); //                                       k_s * 2^16: the 112-bit salt in bytes 0..13
  const view = new DataView(iv.buffer);
  view.setUint32(4, view.getUint32(4) ^ ssrc); //        SSRC * 2^64: bytes 4..7
  const hi = Number(index >> 16n) >>> 0; //              i * 2^16: the 48-bit index in bytes 8..13
  const lo = Number(index & 0xffffn);
  view.setUint32(8, view.getUint32(8) ^ hi);
  view.setUint16(12, view.getUint16(12) ^ lo);
  return iv;
}

/** RFC 3711 §4.2: HMAC-SHA1(k_a, authenticated portion || ROC), truncated to 80 bits. */
function authTag(key: Uint8Array, authenticated: Uint8Array, roc: number): Uint8Array {
  const rocBytes = new Uint8Array(4);
  new DataView(rocBytes.buffer).setUint32(0, roc);
  return new Uint8Array(createHmac('sha1', key).update(authenticated).update(rocBytes).digest()).subarray(0, SRTP_TAG_BYTES);
}

/** The fields of a minimal RTP header (RFC 3550 §5.1: V = 2, no padding, extension or CSRC). */
export interface RtpHeader {
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
}

export function encodeRtpHeader(h: RtpHeader): Uint8Array {
  const out = new Uint8Array(RTP_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out[0] = 0x80; //                                      V = 2, P = 0, X = 0, CC = 0
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  view.setUint16(2, h.sequence);
  view.setUint32(4, h.timestamp);
  view.setUint32(8, h.ssrc);
  return out;
}

/** Reads the fixed RTP header of a packet, or undefined when it is not a plain RTP v2 packet. */
export function decodeRtpHeader(packet: Uint8Array): RtpHeader | undefined {
  if (packet.length < RTP_HEADER_BYTES || packet[0] !== 0x80) return undefined; // V = 2 and nothing optional
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const b1 = packet[1] ?? 0;
  return { marker: (b1 & 0x80) !== 0, payloadType: b1 & 0x7f, sequence: view.getUint16(2), timestamp: view.getUint32(4), ssrc: view.getUint32(8) };
}

/** Sender side of one SRTP stream (one SSRC): the roll-over counter follows the sequence number (§3.3.1). */
export class SrtpSender {
  readonly #keys: SrtpSessionKeys;
  readonly #ssrc: number;
  #index: bigint;

  constructor(keys: SrtpSessionKeys, ssrc: number, firstSequence: number) {
    this.#keys = keys;
    this.#ssrc = ssrc >>> 0;
    this.#index = BigInt(firstSequence & 0xffff);
  }

  /** RFC 3711 §3.3: encrypt the payload with AES-CM, append the authentication tag. */
  protect(payload: Uint8Array, timestamp: number, payloadType: number): Uint8Array {
    const index = this.#index++;
    return srtpProtect(this.#keys, { payloadType, sequence: Number(index & 0xffffn), timestamp, ssrc: this.#ssrc, marker: false }, Number(index >> 16n), payload);
  }
}

/** One SRTP packet for an explicit roll-over counter (RFC 3711 §3.3 steps 1–6, no MKI). */
export function srtpProtect(keys: SrtpSessionKeys, header: RtpHeader, roc: number, payload: Uint8Array): Uint8Array {
  const head = encodeRtpHeader(header);
  const index = (BigInt(roc >>> 0) << 16n) | BigInt(header.sequence & 0xffff); // i = 2^16 * ROC + SEQ
  const ks = aesCmKeystream(keys.encryption, packetIv(keys.salt, header.ssrc, index), payload.length);
  const out = new Uint8Array(head.length + payload.length + SRTP_TAG_BYTES);
  out.set(head);
  for (let j = 0; j < payload.length; j++) out[head.length + j] = (payload[j] ?? 0) ^ (ks[j] ?? 0); // step 5: encrypt
  out.set(authTag(keys.authentication, out.subarray(0, head.length + payload.length), roc), head.length + payload.length); // step 6: tag
  return out;
}

/** Why an SRTP packet was refused (RFC 3711 §3.3 receiver steps). */
export type SrtpRejection = 'not-rtp' | 'wrong-ssrc' | 'replayed' | 'auth-failed';

/** Receiver side of one SRTP stream: index estimate (Appendix A), replay list (§3.3.2), tag check, decrypt. */
export class SrtpReceiver {
  readonly #keys: SrtpSessionKeys;
  readonly #ssrc: number;
  #roc = 0;
  #highestSeq: number | undefined;
  #highestIndex = -1n;
  #window = 0n; //                                        bit k set: index (#highestIndex - k) was received

  constructor(keys: SrtpSessionKeys, ssrc: number) {
    this.#keys = keys;
    this.#ssrc = ssrc >>> 0;
  }

  /** The payload of an authentic, fresh packet; or why it was refused (state unchanged on refusal). */
  unprotect(packet: Uint8Array): { ok: true; payload: Uint8Array } | { ok: false; reason: SrtpRejection } {
    const header = decodeRtpHeader(packet);
    if (header === undefined || packet.length < RTP_HEADER_BYTES + SRTP_TAG_BYTES) return { ok: false, reason: 'not-rtp' };
    if (header.ssrc !== this.#ssrc) return { ok: false, reason: 'wrong-ssrc' };
    const v = this.#guessRoc(header.sequence); //                              §3.3.1 / Appendix A
    const index = (BigInt(v >>> 0) << 16n) | BigInt(header.sequence);
    if (this.#seen(index)) return { ok: false, reason: 'replayed' }; //          §3.3.2: replay list, before the tag
    const body = packet.subarray(0, packet.length - SRTP_TAG_BYTES);
    const tag = packet.subarray(packet.length - SRTP_TAG_BYTES);
    if (!timingSafeEqual(authTag(this.#keys.authentication, body, v), tag)) return { ok: false, reason: 'auth-failed' }; // step 5
    const ks = aesCmKeystream(this.#keys.encryption, packetIv(this.#keys.salt, header.ssrc, index), body.length - RTP_HEADER_BYTES);
    const payload = body.subarray(RTP_HEADER_BYTES).map((b, j) => b ^ (ks[j] ?? 0)); //                     step 6: decrypt
    this.#record(index, v, header.sequence); //                                                               step 7: update
    return { ok: true, payload };
  }

  /** RFC 3711 Appendix A: v = ROC - 1, ROC or ROC + 1 by comparing SEQ with the highest s_l seen. */
  #guessRoc(seq: number): number {
    const sl = this.#highestSeq;
    if (sl === undefined) return this.#roc;
    if (sl < 32_768) return seq - sl > 32_768 ? this.#roc - 1 : this.#roc;
    return sl - 32_768 > seq ? this.#roc + 1 : this.#roc;
  }

  #seen(index: bigint): boolean {
    if (index > this.#highestIndex) return false;
    const delta = this.#highestIndex - index;
    if (delta >= SRTP_REPLAY_WINDOW) return true; //                           too old to tell: refused (§3.3.2)
    return ((this.#window >> delta) & 1n) === 1n;
  }

  #record(index: bigint, v: number, seq: number): void {
    if (index > this.#highestIndex) {
      const shift = this.#highestIndex < 0n ? SRTP_REPLAY_WINDOW : index - this.#highestIndex;
      this.#window = shift >= SRTP_REPLAY_WINDOW ? 1n : ((this.#window << shift) | 1n) & ((1n << SRTP_REPLAY_WINDOW) - 1n);
      this.#highestIndex = index;
      this.#highestSeq = seq;
      this.#roc = v;
    } else {
      this.#window |= 1n << (this.#highestIndex - index);
    }
  }
}

/**
 * What a recorder does with keys it has recovered: authenticate-then-decrypt one recorded packet for an assumed
 * roll-over counter, without any replay state. Undefined when the tag does not verify (wrong keys or not SRTP).
 */
export function srtpOpenRecorded(keys: SrtpSessionKeys, packet: Uint8Array, roc = 0): Uint8Array | undefined {
  const header = decodeRtpHeader(packet);
  if (header === undefined || packet.length < RTP_HEADER_BYTES + SRTP_TAG_BYTES) return undefined;
  const body = packet.subarray(0, packet.length - SRTP_TAG_BYTES);
  if (!timingSafeEqual(authTag(keys.authentication, body, roc), packet.subarray(packet.length - SRTP_TAG_BYTES))) return undefined;
  const index = (BigInt(roc >>> 0) << 16n) | BigInt(header.sequence);
  const ks = aesCmKeystream(keys.encryption, packetIv(keys.salt, header.ssrc, index), body.length - RTP_HEADER_BYTES);
  return body.subarray(RTP_HEADER_BYTES).map((b, j) => b ^ (ks[j] ?? 0));
}
