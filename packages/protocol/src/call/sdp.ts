// The SDP rules of a call (docs/protocol/11 §11.2.4). The SDP is bound whole into the call transcript
// (§11.3), and its DTLS fingerprint (RFC 8122 §5) is what ties the media transport to the call keys:
// the WebRTC stack refuses a DTLS peer whose certificate does not match the remote SDP's fingerprint
// (RFC 8842 §5). So the checker must see every fingerprint the WebRTC stack could act on:
//   - a line is treated as a fingerprint attribute when it starts, ignoring case and leading blanks,
//     with "a=fingerprint" — a superset of what any SDP parser reads as one; each such line must be
//     exactly `a=fingerprint:sha-256 ` + 32 colon-separated hex pairs (case-insensitive), and all of
//     them must carry the same value;
//   - CR may appear only in CRLF (stricter than §11.2.4's character rule, which allows CR anywhere:
//     a lone CR could split lines differently in another parser and hide a second fingerprint).
// Nothing here echoes the SDP in an error message (it holds addresses).
import { ProtocolError } from '../errors.ts';
import { MAX_CALL_SDP_CHARS } from '../limits.ts';

/** RFC 6464 header extension: every packet's voice level, in the clear (docs/protocol/11 §11.2.4). */
export const SSRC_AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** RFC 6465 header extension: a mixer's per-contributor voice levels, in the clear (§11.2.4). A 1:1
 *  call has no mixer, and no endpoint may announce one to the other's WebRTC stack. */
export const CSRC_AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:csrc-audio-level';

/** docs/protocol/11 §11.2.4: the only hash function a call's DTLS fingerprint may use. */
const FINGERPRINT_HASH = 'sha-256';
/** SHA-256 digest bytes, written as 32 colon-separated hex pairs (RFC 8122 §5). */
const FINGERPRINT_BYTES = 32;

const FINGERPRINT_LINE = /^a=fingerprint:(\S+) (.*)$/i;
const FINGERPRINT_VALUE = new RegExp(`^[0-9a-f]{2}(?::[0-9a-f]{2}){${FINGERPRINT_BYTES - 1}}$`, 'i');
/** docs/protocol/11 §11.2.4: printable ASCII, CR and LF only. */
const ALLOWED_CHARS = /^[\x20-\x7e\r\n]*$/;
/** A CR not followed by LF (see the header). */
const LONE_CR = /\r(?!\n)/;

function fail(message: string): never {
  throw new ProtocolError('ERR_CALL_SDP', message);
}

/** The lines of an SDP without their CRLF / LF terminators. */
function lines(sdp: string): string[] {
  return sdp.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** True for an `a=extmap:` line that names an audio-level extension, ssrc (RFC 6464) or csrc (RFC 6465),
 *  also in RFC 6904's encrypted form, which names it too. Case-insensitive, so it catches every
 *  spelling a parser might accept. */
function namesAudioLevel(line: string): boolean {
  const l = line.trimStart().toLowerCase();
  return l.startsWith('a=extmap') && (l.includes(SSRC_AUDIO_LEVEL_URI) || l.includes(CSRC_AUDIO_LEVEL_URI));
}

/**
 * docs/protocol/11 §11.2.4: removes every `a=extmap:` line naming `urn:ietf:params:rtp-hdrext:ssrc-audio-level`
 * (RFC 6464) or `urn:ietf:params:rtp-hdrext:csrc-audio-level` (RFC 6465), keeping every other line and
 * its line ending. Senders apply it before sending an SDP.
 */
export function stripAudioLevel(sdp: string): string {
  let out = '';
  let start = 0;
  while (start < sdp.length) {
    const nl = sdp.indexOf('\n', start);
    const end = nl === -1 ? sdp.length : nl + 1;
    const piece = sdp.slice(start, end);
    const line = piece.replace(/\r?\n$/, '');
    if (!namesAudioLevel(line)) out += piece;
    start = end;
  }
  return out;
}

/**
 * Checks an SDP against docs/protocol/11 §11.2.4 and returns its DTLS fingerprint in canonical form:
 * `sha-256 ` plus 32 upper-case hex pairs joined by colons. Throws ERR_CALL_SDP when the SDP is longer
 * than MAX_CALL_SDP_CHARS, holds a character outside printable ASCII / CRLF, does not hold exactly one
 * distinct sha-256 fingerprint (or holds a fingerprint line of another hash function or a malformed
 * one), or negotiates an audio-level header extension (ssrc or csrc).
 */
export function sdpFingerprint(sdp: string): string {
  if (typeof sdp !== 'string') fail(`expected a string, got ${typeof sdp}`);
  if (sdp.length > MAX_CALL_SDP_CHARS) fail(`expected at most ${MAX_CALL_SDP_CHARS} characters, got ${sdp.length}`);
  if (!ALLOWED_CHARS.test(sdp)) fail('holds a character outside printable ASCII, CR and LF');
  if (LONE_CR.test(sdp)) fail('holds a CR that does not end a line (CR is allowed only in CRLF)');
  const found = new Set<string>();
  for (const [i, line] of lines(sdp).entries()) {
    if (namesAudioLevel(line)) fail(`line ${i + 1} negotiates an audio-level header extension (RFC 6464 / RFC 6465): strip it with stripAudioLevel`);
    if (!line.trimStart().toLowerCase().startsWith('a=fingerprint')) continue;
    const m = FINGERPRINT_LINE.exec(line);
    if (m === null) fail(`line ${i + 1}: expected "a=fingerprint:sha-256 " and 32 hex pairs`);
    const [, hash = '', value = ''] = m;
    if (hash.toLowerCase() !== FINGERPRINT_HASH) fail(`line ${i + 1}: expected the hash function ${FINGERPRINT_HASH}, got another (nothing is negotiated)`);
    if (!FINGERPRINT_VALUE.test(value)) fail(`line ${i + 1}: expected ${FINGERPRINT_BYTES} colon-separated hex pairs after "${FINGERPRINT_HASH} "`);
    found.add(`${FINGERPRINT_HASH} ${value.toUpperCase()}`);
  }
  if (found.size !== 1) fail(`expected exactly one distinct DTLS fingerprint, got ${found.size}`);
  const [fp = ''] = found;
  return fp;
}
