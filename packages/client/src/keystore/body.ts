// The keystore body: the plaintext every back-end seals (the software keystore's file, the browser
// keystore's IndexedDB record). Platform-neutral.
//
// Body: count u32, then `count` entries sorted strictly by the UTF-8 bytes of their names:
// nameLen u8 (1..255) | name (UTF-8) | valueLen u32 | value. All integers big-endian. Decoding is
// strict (no trailing bytes, no duplicates, no unsorted names).
import { ClientError } from '../errors.ts';
import { MAX_KEYSTORE_BODY_BYTES, MAX_KEYSTORE_ENTRIES, MAX_KEYSTORE_NAME_BYTES } from '../limits.ts';

export function encodeBody(entries: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const names = sortedNames(entries);
  if (names.length > MAX_KEYSTORE_ENTRIES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected at most ${MAX_KEYSTORE_ENTRIES} entries, got ${names.length}`);
  }
  const enc = new TextEncoder();
  const parts: [Uint8Array, Uint8Array][] = names.map((n) => [enc.encode(n), entries.get(n) ?? new Uint8Array(0)]);
  let len = 4;
  for (const [n, v] of parts) len += 1 + n.length + 4 + v.length;
  if (len > MAX_KEYSTORE_BODY_BYTES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected the keystore to hold at most ${MAX_KEYSTORE_BODY_BYTES} bytes, got ${len}`);
  }
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length);
  let off = 4;
  for (const [n, v] of parts) {
    out[off] = n.length;
    out.set(n, off + 1);
    off += 1 + n.length;
    dv.setUint32(off, v.length);
    out.set(v, off + 4);
    off += 4 + v.length;
  }
  return out;
}

export function decodeBody(body: Uint8Array): Map<string, Uint8Array> {
  const bad = (what: string): ClientError => new ClientError('ERR_KEYSTORE_CORRUPT', `the decrypted body is malformed: ${what}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  if (body.length < 4) throw bad('no entry count');
  const count = dv.getUint32(0);
  if (count > MAX_KEYSTORE_ENTRIES) throw bad(`expected at most ${MAX_KEYSTORE_ENTRIES} entries, got ${count}`);
  const out = new Map<string, Uint8Array>();
  let off = 4;
  let prev: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const nlen = body[off];
    if (nlen === undefined || nlen === 0 || off + 1 + nlen + 4 > body.length) throw bad('truncated entry name');
    const nb = body.subarray(off + 1, off + 1 + nlen);
    if (prev !== undefined && compareBytes(prev, nb) >= 0) throw bad('entries not strictly sorted');
    prev = nb;
    let name: string;
    try {
      name = dec.decode(nb);
    } catch {
      throw bad('entry name is not UTF-8');
    }
    off += 1 + nlen;
    const vlen = dv.getUint32(off);
    if (off + 4 + vlen > body.length) throw bad('truncated entry value');
    out.set(name, body.slice(off + 4, off + 4 + vlen));
    off += 4 + vlen;
  }
  if (off !== body.length) throw bad(`expected ${off} bytes, got ${body.length}`);
  return out;
}

export function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected a non-empty entry name');
  const b = new TextEncoder().encode(name);
  if (b.length > MAX_KEYSTORE_NAME_BYTES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected an entry name of at most ${MAX_KEYSTORE_NAME_BYTES} UTF-8 bytes, got ${b.length}`);
  }
  if (new TextDecoder().decode(b) !== name) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected an entry name of well-formed Unicode');
}

export function sortedNames(entries: ReadonlyMap<string, Uint8Array>): string[] {
  const enc = new TextEncoder();
  return [...entries.keys()].sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)));
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

