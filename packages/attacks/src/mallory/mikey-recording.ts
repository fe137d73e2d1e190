// Mallory's analysis of a MIKEY-SAKKE recording: everything here works from captured bytes alone, plus whatever
// key material a scenario grants (the KMS master secrets, a stolen device key, nothing). It finds the I_MESSAGEs
// in the signalling, turns whatever keys it can get into SRTP session keys, and tries them on every recorded
// media packet; a packet counts as read only if its RFC 3711 authentication tag verifies under the keys and it
// decrypts — so a "decrypted" frame is the real frame, never a guess.
import { decodeIMessage, type MikeySakkeIMessage, type SrtpMasterKeys } from '@sotto/escrow';
import { srtpOpenRecorded, srtpSessionKeys, type SrtpSessionKeys } from '../internal/srtp.ts';
import { KEY_MGMT_PREFIX, parseSignalling, type CapturedDatagram } from './mikey-network.ts';

const utf8 = new TextDecoder();

/** An I_MESSAGE found in recorded signalling, with what its cleartext payloads reveal. */
export interface RecordedSetup {
  readonly capturedAt: number;
  readonly iMessage: Uint8Array;
  readonly message: MikeySakkeIMessage;
  /** IDRi / IDRr as sent in clear (RFC 6509 §2.2.1: tel URIs). */
  readonly initiatorUri: string | undefined;
  readonly responderUri: string | undefined;
}

/** Every decodable I_MESSAGE in the capture's signalling (RFC 4567 key-mgmt lines of INVITEs). */
export function recordedSetups(capture: readonly CapturedDatagram[]): RecordedSetup[] {
  const out: RecordedSetup[] = [];
  for (const d of capture) {
    if (d.channel !== 'signalling') continue;
    const msg = parseSignalling(d.bytes);
    const line = msg?.body.split('\r\n').find((l) => l.startsWith(KEY_MGMT_PREFIX));
    if (line === undefined) continue;
    const iMessage = new Uint8Array(Buffer.from(line.slice(KEY_MGMT_PREFIX.length), 'base64'));
    try {
      const { message } = decodeIMessage(iMessage);
      const uri = (idr: { readonly data: Uint8Array } | undefined): string | undefined => (idr === undefined ? undefined : utf8.decode(idr.data));
      out.push({ capturedAt: d.atMs, iMessage, message, initiatorUri: uri(message.idri), responderUri: uri(message.idrr) });
    } catch {
      // not a MIKEY-SAKKE I_MESSAGE this decoder reads: nothing to learn from it here
    }
  }
  return out;
}

/** The recorded datagrams of the media channel. */
export function recordedMedia(capture: readonly CapturedDatagram[]): Uint8Array[] {
  return capture.filter((d) => d.channel === 'media').map((d) => d.bytes);
}

/** What a set of recovered SRTP master keys opened in a recording. */
export interface MediaReadout {
  /** Plaintext of every recorded media packet that authenticated and decrypted under one of the keys. */
  readonly frames: string[];
  readonly packetsTotal: number;
  readonly packetsOpened: number;
}

/** Tries every recovered master key on every recorded media packet (ROC 0: the recorded calls are short). */
export function readRecordedMedia(capture: readonly CapturedDatagram[], masterKeys: readonly SrtpMasterKeys[]): MediaReadout {
  const sessions: SrtpSessionKeys[] = masterKeys.map((k) => srtpSessionKeys(k.masterKey, k.masterSalt));
  const packets = recordedMedia(capture);
  const frames: string[] = [];
  for (const packet of packets) {
    for (const keys of sessions) {
      const payload = srtpOpenRecorded(keys, packet);
      if (payload !== undefined) {
        frames.push(utf8.decode(payload));
        break;
      }
    }
  }
  return { frames, packetsTotal: packets.length, packetsOpened: frames.length };
}

/** Which of `said` appear among `recovered` (exact frame plaintexts). */
export function recoveredOf(said: readonly { readonly text: string }[], recovered: readonly string[]): string[] {
  const got = new Set(recovered);
  return said.filter((s) => got.has(s.text)).map((s) => s.text);
}

/** Every printable-ASCII run of at least `min` characters in the recorded bytes: what grep on the capture finds. */
export function cleartextRuns(capture: readonly CapturedDatagram[], min = 12): string[] {
  const runs: string[] = [];
  for (const d of capture) {
    let run = '';
    for (const b of d.bytes) {
      if (b >= 0x20 && b < 0x7f) run += String.fromCharCode(b);
      else {
        if (run.length >= min) runs.push(run);
        run = '';
      }
    }
    if (run.length >= min) runs.push(run);
  }
  return runs;
}
