// A strict JSON parser for the server API (docs/protocol/09 §9.1), stricter than JSON.parse (RFC 8259)
// where leniency would let two implementations read one body differently:
// - a duplicate object key is an error (JSON.parse keeps the last; another parser may keep the first);
// - numbers are non-negative integers only, and must be safe integers (no fraction, no exponent, no
//   sign: no body of chapter 9 has any other number, and "-0" or "1e2" would have two meanings);
// - strings must be well-formed Unicode (a lone surrogate escape \ud800 is an error);
// - nesting is bounded (MAX_API_JSON_DEPTH), so a hostile body cannot exhaust the stack;
// - bytes must be strict UTF-8; a byte-order mark is not whitespace, so it is an error.
// Objects are null-prototype records, so a key named "__proto__" is an ordinary (unknown) field.
import { ProtocolError } from '../errors.ts';
import { MAX_API_JSON_DEPTH } from '../limits.ts';
import { fromUtf8 } from './bytes.ts';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** True for a parsed JSON object (a null-prototype record), false for arrays and scalars. */
export function isJsonObject(v: JsonValue): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `s` holds no lone surrogate (it is well-formed UTF-16, i.e. encodable as UTF-8). */
export function isWellFormedString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false; // a low surrogate without a high one before it
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** Parses one JSON text; `what` names the body in error messages (which never quote the input). */
export function parseStrictJson(input: string | Uint8Array, what: string): JsonValue {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    try {
      text = fromUtf8(input);
    } catch {
      throw new ProtocolError('ERR_API_DECODE', `${what}: expected UTF-8 text, got invalid UTF-8`);
    }
  } else {
    throw new ProtocolError('ERR_API_DECODE', `${what}: expected a string or bytes`);
  }
  return new Parser(text, what).document();
}

class Parser {
  #i = 0;
  readonly #s: string;
  readonly #what: string;

  constructor(s: string, what: string) {
    this.#s = s;
    this.#what = what;
  }

  #fail(message: string): never {
    throw new ProtocolError('ERR_API_DECODE', `${this.#what}: ${message} at offset ${this.#i}`);
  }

  document(): JsonValue {
    this.#ws();
    const v = this.#value(0);
    this.#ws();
    if (this.#i !== this.#s.length) this.#fail('expected the end of the JSON text, got more');
    return v;
  }

  #ws(): void {
    const s = this.#s;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return; // RFC 8259 §2
      this.#i++;
    }
  }

  #value(depth: number): JsonValue {
    if (this.#i >= this.#s.length) this.#fail('expected a value, got the end of the text');
    const c = this.#s.charCodeAt(this.#i);
    if (c === 0x7b /* { */) return this.#object(depth + 1);
    if (c === 0x5b /* [ */) return this.#array(depth + 1);
    if (c === 0x22 /* " */) return this.#string();
    if (c >= 0x30 && c <= 0x39) return this.#number();
    if (c === 0x2d /* - */) this.#fail('expected a non-negative integer, got a negative number');
    if (this.#s.startsWith('true', this.#i)) return this.#literal(4, true);
    if (this.#s.startsWith('false', this.#i)) return this.#literal(5, false);
    if (this.#s.startsWith('null', this.#i)) return this.#literal(4, null);
    return this.#fail('expected a JSON value');
  }

  #literal<T>(n: number, v: T): T {
    this.#i += n;
    return v;
  }

  #object(depth: number): JsonObject {
    if (depth > MAX_API_JSON_DEPTH) this.#fail(`expected nesting of at most ${MAX_API_JSON_DEPTH} levels`);
    this.#i++; // {
    const out = Object.create(null) as Record<string, JsonValue>;
    this.#ws();
    if (this.#s.charCodeAt(this.#i) === 0x7d /* } */) {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      if (this.#s.charCodeAt(this.#i) !== 0x22) this.#fail('expected a string key');
      const key = this.#string();
      if (Object.prototype.hasOwnProperty.call(out, key)) this.#fail('expected distinct keys, got a duplicate key');
      this.#ws();
      if (this.#s.charCodeAt(this.#i) !== 0x3a /* : */) this.#fail("expected ':'");
      this.#i++;
      this.#ws();
      out[key] = this.#value(depth);
      this.#ws();
      const c = this.#s.charCodeAt(this.#i);
      this.#i++;
      if (c === 0x7d) return out;
      if (c !== 0x2c /* , */) {
        this.#i--;
        this.#fail("expected ',' or '}'");
      }
    }
  }

  #array(depth: number): JsonValue[] {
    if (depth > MAX_API_JSON_DEPTH) this.#fail(`expected nesting of at most ${MAX_API_JSON_DEPTH} levels`);
    this.#i++; // [
    const out: JsonValue[] = [];
    this.#ws();
    if (this.#s.charCodeAt(this.#i) === 0x5d /* ] */) {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      out.push(this.#value(depth));
      this.#ws();
      const c = this.#s.charCodeAt(this.#i);
      this.#i++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.#i--;
        this.#fail("expected ',' or ']'");
      }
    }
  }

  #number(): number {
    const s = this.#s;
    const start = this.#i;
    if (s.charCodeAt(this.#i) === 0x30 /* 0 */) {
      this.#i++;
    } else {
      while (this.#i < s.length && s.charCodeAt(this.#i) >= 0x30 && s.charCodeAt(this.#i) <= 0x39) this.#i++;
    }
    const next = s.charCodeAt(this.#i);
    if (next === 0x2e /* . */ || next === 0x65 /* e */ || next === 0x45 /* E */) this.#fail('expected an integer, got a fraction or an exponent');
    if (next >= 0x30 && next <= 0x39) this.#fail('expected an integer without leading zeros');
    const digits = s.slice(start, this.#i);
    // 16 digits hold every safe integer; reading more would only produce an unsafe one.
    if (digits.length > 16) this.#fail('expected a safe integer (at most 2^53 - 1)');
    const v = Number(digits);
    if (!Number.isSafeInteger(v)) this.#fail('expected a safe integer (at most 2^53 - 1)');
    return v;
  }

  #string(): string {
    const s = this.#s;
    const n = s.length;
    // The common case, a string without escapes: one scan to the closing quote, one slice. Lone
    // surrogates are looked for only when a surrogate code unit was seen.
    let i = this.#i + 1; // after the opening quote
    const start = i;
    let surrogates = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x22 /* " */) {
        const out = s.slice(start, i);
        this.#i = i + 1;
        if (surrogates && !isWellFormedString(out)) this.#fail('expected well-formed Unicode, got a lone surrogate');
        return out;
      }
      if (c < 0x20 || c === 0x5c /* \ */) break;
      if (c >= 0xd800 && c <= 0xdfff) surrogates = true;
    }
    this.#i = i;
    return this.#escapedString(start);
  }

  /** The rest of a string that has an escape or a control character (at #i), from `start`. */
  #escapedString(start: number): string {
    const s = this.#s;
    let out = s.slice(start, this.#i);
    let runStart = this.#i;
    for (;;) {
      if (this.#i >= s.length) this.#fail('expected a closing quote, got the end of the text');
      const c = s.charCodeAt(this.#i);
      if (c === 0x22) {
        out += s.slice(runStart, this.#i);
        this.#i++;
        break;
      }
      if (c < 0x20) this.#fail('expected no control character inside a string');
      if (c !== 0x5c /* \ */) {
        this.#i++;
        continue;
      }
      out += s.slice(runStart, this.#i);
      const e = s.charCodeAt(this.#i + 1);
      this.#i += 2;
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const hex = s.slice(this.#i, this.#i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.#fail('expected four hex digits after \\u');
          out += String.fromCharCode(parseInt(hex, 16));
          this.#i += 4;
          break;
        }
        default:
          this.#i -= 2;
          this.#fail('expected a valid escape sequence');
      }
      runStart = this.#i;
    }
    if (!isWellFormedString(out)) this.#fail('expected well-formed Unicode, got a lone surrogate');
    return out;
  }
}
