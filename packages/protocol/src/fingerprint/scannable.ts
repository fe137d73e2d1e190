// The scannable (QR) safety-number payload: libsignal's protobuf
//   message CombinedFingerprints { optional uint32 version = 1;
//     optional LogicalFingerprint local_fingerprint = 2; optional LogicalFingerprint remote_fingerprint = 3; }
//   message LogicalFingerprint { optional bytes content = 1; }
// (libsignal rust/protocol/src/proto/fingerprint.proto; docs/protocol/07-safety-numbers.md §7.4).
// The encoder writes the one canonical encoding; the decoder accepts only that encoding.
// Stricter than protobuf, on purpose: fields in field-number order, each exactly once, minimal
// varints, content exactly 32 bytes, nothing else. Every real encoder (prost, protobuf-java) writes
// fields in field-number order, so genuine payloads pass; anything else is ERR_FINGERPRINT_INVALID.
import { ProtocolError } from '../errors.ts';
import { Writer } from '../internal/codec.ts';
import { SCANNABLE_FINGERPRINT_BYTES } from './numeric-fingerprint.ts';

/** Protobuf tags (field number << 3 | wire type), docs/protocol/07 §7.4. */
const TAG_VERSION = (1 << 3) | 0; // field 1, varint
const TAG_LOCAL = (2 << 3) | 2; // field 2, length-delimited
const TAG_REMOTE = (3 << 3) | 2; // field 3, length-delimited
const TAG_CONTENT = (1 << 3) | 2; // LogicalFingerprint field 1, length-delimited
/** Encoded LogicalFingerprint: tag, length 32, 32 bytes. */
const LOGICAL_BYTES = 2 + SCANNABLE_FINGERPRINT_BYTES;

export interface ScannableFingerprint {
  /** The scannable version: 1 and 2 as in libsignal, SOTTO_SCANNABLE_VERSION for Sotto (docs/protocol/07 §7.5). */
  readonly version: number;
  /** First 32 bytes of the encoding party's own hash. */
  readonly local: Uint8Array;
  /** First 32 bytes of the other party's hash. */
  readonly remote: Uint8Array;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('ERR_FINGERPRINT_INVALID', `scannable fingerprint: ${message}`);
}

function varint(w: Writer, v: number): void {
  let x = v;
  while (x >= 0x80) {
    w.u8((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  w.u8(x);
}

function logical(w: Writer, tag: number, content: Uint8Array): void {
  w.u8(tag).u8(LOGICAL_BYTES).u8(TAG_CONTENT).u8(SCANNABLE_FINGERPRINT_BYTES).bytes(content);
}

export function encodeScannableFingerprint(f: ScannableFingerprint): Uint8Array {
  if (!Number.isInteger(f.version) || f.version < 0 || f.version > 0xffffffff) {
    throw new ProtocolError('ERR_ARGUMENT', `scannable version: expected a u32, got ${f.version}`);
  }
  for (const [what, b] of [['local', f.local], ['remote', f.remote]] as const) {
    if (b.length !== SCANNABLE_FINGERPRINT_BYTES) {
      throw new ProtocolError('ERR_ARGUMENT', `scannable ${what} fingerprint: expected ${SCANNABLE_FINGERPRINT_BYTES} bytes, got ${b.length}`);
    }
  }
  const w = new Writer();
  w.u8(TAG_VERSION);
  varint(w, f.version);
  logical(w, TAG_LOCAL, f.local);
  logical(w, TAG_REMOTE, f.remote);
  return w.finish();
}

/** Strict decoder: only the canonical encoding is accepted (ERR_FINGERPRINT_INVALID otherwise). */
export function decodeScannableFingerprint(bytes: Uint8Array): ScannableFingerprint {
  let off = 0;
  const byte = (): number => {
    const b = bytes[off];
    if (b === undefined) throw invalid(`truncated at byte ${off}`);
    off += 1;
    return b;
  };
  if (byte() !== TAG_VERSION) throw invalid('expected the version field first');
  // u32 varint: at most 5 bytes, minimal (no trailing 0x00 group), value <= 0xffffffff
  let version = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    if (i === 5) throw invalid('version varint longer than 5 bytes');
    const b = byte();
    version += (b & 0x7f) * scale;
    scale *= 0x80;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw invalid('version varint is not minimal');
      break;
    }
  }
  if (version > 0xffffffff) throw invalid('version exceeds u32');
  const content = (tag: number, what: string): Uint8Array => {
    if (byte() !== tag) throw invalid(`expected the ${what} field`);
    if (byte() !== LOGICAL_BYTES) throw invalid(`${what} field: expected length ${LOGICAL_BYTES}`);
    if (byte() !== TAG_CONTENT) throw invalid(`${what} field: expected its content field`);
    if (byte() !== SCANNABLE_FINGERPRINT_BYTES) throw invalid(`${what} content: expected length ${SCANNABLE_FINGERPRINT_BYTES}`);
    if (bytes.length - off < SCANNABLE_FINGERPRINT_BYTES) throw invalid(`${what} content truncated`);
    const out = bytes.slice(off, off + SCANNABLE_FINGERPRINT_BYTES);
    off += SCANNABLE_FINGERPRINT_BYTES;
    return out;
  };
  const local = content(TAG_LOCAL, 'local');
  const remote = content(TAG_REMOTE, 'remote');
  if (off !== bytes.length) throw invalid(`${bytes.length - off} unexpected trailing bytes`);
  return { version, local, remote };
}
