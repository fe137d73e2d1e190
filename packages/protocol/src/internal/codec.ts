// Strict byte reader/writer behind every wire/ codec (docs/protocol.md §2).
// Readers never read past the end, and `end()` rejects trailing bytes, so every decoder is exact.
import { ProtocolError } from '../errors.ts';
import { WIRE_VERSION, type WireType } from '../wire/version.ts';

export class Reader {
  private off = 0;
  constructor(
    private readonly buf: Uint8Array,
    /** What is being decoded, for error messages. */
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.off;
  }

  /** Exactly n bytes, copied (the result never aliases the input). */
  bytes(n: number): Uint8Array {
    if (n > this.remaining) {
      throw new ProtocolError('ERR_WIRE_TRUNCATED', `${this.what}: expected ${n} more bytes, got ${this.remaining}`);
    }
    const out = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** A boolean byte: exactly 0x00 or 0x01; anything else is non-canonical (docs/protocol.md §2.3). */
  flag(what: string): boolean {
    const v = this.u8();
    if (v > 1) throw new ProtocolError('ERR_WIRE_NON_CANONICAL', `${this.what}: ${what}: expected 0 or 1, got ${v}`);
    return v === 1;
  }

  u8(): number {
    if (this.remaining < 1) throw new ProtocolError('ERR_WIRE_TRUNCATED', `${this.what}: expected 1 more byte, got 0`);
    const v = this.buf[this.off] ?? 0;
    this.off += 1;
    return v;
  }

  u16(): number {
    const b = this.bytes(2);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  }

  u32(): number {
    const b = this.bytes(4);
    return (((b[0] ?? 0) << 24) >>> 0) + (((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0));
  }

  /** u16 length prefix, then that many bytes; the length must lie in [min, max]. */
  vec16(min: number, max: number): Uint8Array {
    const n = this.u16();
    if (n < min || n > max) throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `${this.what}: length ${n} outside [${min}, ${max}]`);
    return this.bytes(n);
  }

  /** u32 length prefix, then that many bytes; the length must lie in [min, max]. */
  vec32(min: number, max: number): Uint8Array {
    const n = this.u32();
    if (n < min || n > max) throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `${this.what}: length ${n} outside [${min}, ${max}]`);
    return this.bytes(n);
  }

  /** All remaining bytes. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  end(): void {
    if (this.remaining !== 0) throw new ProtocolError('ERR_WIRE_TRAILING_BYTES', `${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

export class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  bytes(b: Uint8Array): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  u8(v: number): this {
    return this.bytes(Uint8Array.of(v & 0xff));
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new ProtocolError('ERR_ARGUMENT', `u16 out of range: ${v}`);
    return this.bytes(Uint8Array.of(v >>> 8, v & 0xff));
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ProtocolError('ERR_ARGUMENT', `u32 out of range: ${v}`);
    return this.bytes(Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff));
  }

  vec16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }

  vec32(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** docs/protocol.md §2.1: the shared start of every encoded object — the version byte (only
 *  WIRE_VERSION exists, nothing to downgrade to), then the object's own type byte. */
export function expectHeader(r: Reader, type: WireType, what: string): void {
  const v = r.u8();
  if (v !== WIRE_VERSION) throw new ProtocolError('ERR_WIRE_UNKNOWN_VERSION', `${what}: expected version ${WIRE_VERSION}, got ${v}`);
  const t = r.u8();
  if (t !== type) throw new ProtocolError('ERR_WIRE_UNKNOWN_TYPE', `${what}: expected type ${type}, got ${t}`);
}
