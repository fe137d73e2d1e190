// What mallory does with the media of Sotto calls (docs/scorecard.md §4, "Sotto calls"): take every SFrame frame
// its relay recorded (src/mallory/call-relay.ts) and try every candidate secret it holds as an SFrame base key
// (docs/protocol/11 §11.5: RFC 9605 §4.4.2 key derivation, suite AES_256_GCM_SHA512_128) for the KID each frame's
// header names. A frame counts as read only if its AEAD tag verifies, so a hit is real content. The same code,
// given the endpoints' real keys, is the scenarios' control.
import { fastProvider } from '@sotto/crypto';
import { decodeSframeHeader, deriveSframeKeys, isProtocolError, sframeDecryptFrame, SOTTO_SFRAME_SUITE, type SframeKeys } from '@sotto/protocol';
import type { RelayedDatagram } from './call-relay.ts';
import { decodedViews } from './sotto-recording.ts';

/** One recorded media frame. */
export interface RecordedFrame {
  readonly n: number;
  readonly allocation: string;
  readonly bytes: Uint8Array;
}

/** Every non-empty datagram the relay forwarded (not mallory's own injections). */
export function recordedFrames(capture: readonly RelayedDatagram[]): RecordedFrame[] {
  return capture.filter((d) => !d.injected && d.bytes.length > 0).map((d) => ({ n: d.n, allocation: d.allocation, bytes: d.bytes }));
}

export interface FrameAttempt {
  readonly frames: number;
  readonly candidates: number;
  /** Frames whose tag verified under some candidate, with the transcript they held. */
  readonly decrypted: readonly { readonly n: number; readonly text: string }[];
  /** Failed attempts by ProtocolError code. */
  readonly failures: ReadonlyMap<string, number>;
}

/** Tries every candidate base key on every frame (with the KID the frame's header names). */
export async function tryCallSecrets(candidates: readonly Uint8Array[], frames: readonly RecordedFrame[]): Promise<FrameAttempt> {
  const failures = new Map<string, number>();
  const fail = (code: string): void => {
    failures.set(code, (failures.get(code) ?? 0) + 1);
  };
  const derived = new Map<string, SframeKeys>();
  const keysFor = (candidate: Uint8Array, i: number, kid: bigint): SframeKeys => {
    const k = `${i}:${kid}`;
    let keys = derived.get(k);
    if (keys === undefined) {
      keys = deriveSframeKeys(SOTTO_SFRAME_SUITE, candidate, kid);
      derived.set(k, keys);
    }
    return keys;
  };
  const decrypted: { n: number; text: string }[] = [];
  for (const f of frames) {
    let kid: bigint;
    try {
      kid = decodeSframeHeader(f.bytes).kid;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      fail(e.code);
      continue;
    }
    for (const [i, candidate] of candidates.entries()) {
      if (candidate.length === 0) continue;
      try {
        const { plaintext } = await sframeDecryptFrame(fastProvider, SOTTO_SFRAME_SUITE, keysFor(candidate, i, kid), f.bytes, new Uint8Array(0));
        decrypted.push({ n: f.n, text: new TextDecoder().decode(plaintext) });
        break;
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        fail(e.code);
      }
    }
  }
  return { frames: frames.length, candidates: candidates.length, decrypted, failures };
}

/** How many of `secrets` occur (as bytes) in any decoded view of any blob (raw, base64url, hex). */
export function secretsFoundIn(blobs: readonly Uint8Array[], secrets: readonly Uint8Array[]): number {
  const needles = secrets.map((s) => Buffer.from(s));
  const found = new Set<number>();
  for (const b of blobs) {
    for (const v of decodedViews(b)) {
      const hay = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      for (const [i, n] of needles.entries()) if (!found.has(i) && hay.includes(n)) found.add(i);
    }
    if (found.size === needles.length) break;
  }
  return found.size;
}
