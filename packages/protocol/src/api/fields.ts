// The field rules of docs/protocol/09 §9.1, as small symmetric codecs: each knows how to check and
// produce one JSON value. A body is an `object(...)` of fields, so its encoder and its decoder apply
// the same rules by construction: an encoder refuses (ERR_ARGUMENT) exactly what the decoder would
// refuse (ERR_API_DECODE), and decode(encode(x)) = x for every x the encoder accepts.
import { ProtocolError } from '../errors.ts';
import { isJsonObject, isWellFormedString, parseStrictJson, type JsonValue } from '../internal/strict-json.ts';
import { decodeBase64url, encodeBase64url, type Base64urlBound } from './base64url.ts';

export interface FieldCodec<T> {
  /** Checks a parsed JSON value; ERR_API_DECODE naming `what` when it breaks a rule. */
  decode(value: JsonValue, what: string): T;
  /** Checks a value and gives its JSON form; ERR_ARGUMENT naming `what` when it breaks a rule. */
  encode(value: T, what: string): JsonValue;
}

export type Decoded<C> = C extends FieldCodec<infer T> ? T : never;

function decodeError(what: string, message: string): never {
  throw new ProtocolError('ERR_API_DECODE', `${what}: ${message}`);
}

function argError(what: string, message: string): never {
  throw new ProtocolError('ERR_ARGUMENT', `${what}: ${message}`);
}

/** Decoder errors become ERR_ARGUMENT when the same rule runs on an encoder's input. */
function asArgument<T>(body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof ProtocolError && e.code === 'ERR_API_DECODE') throw new ProtocolError('ERR_ARGUMENT', e.message.replace(/^ERR_API_DECODE: /, ''));
    throw e;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A non-negative safe integer no larger than `max`. */
export function integer(max = Number.MAX_SAFE_INTEGER): FieldCodec<number> {
  const check = (v: unknown, what: string, fail: (w: string, m: string) => never): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || Object.is(v, -0)) return fail(what, `expected a non-negative integer, got ${describe(v)}`);
    if (v > max) return fail(what, `expected at most ${max}, got ${v}`);
    return v;
  };
  return {
    decode: (v, what) => check(v, what, decodeError),
    encode: (v, what) => check(v, what, argError),
  };
}

/** u32 (device ids). */
export const u32 = integer(0xffffffff);
/** Milliseconds since the Unix epoch, or a queue position: any non-negative safe integer. */
export const uint = integer();

export const boolean: FieldCodec<boolean> = {
  decode: (v, what) => (typeof v === 'boolean' ? v : decodeError(what, `expected a boolean, got ${describe(v)}`)),
  encode: (v, what) => (typeof v === 'boolean' ? v : argError(what, `expected a boolean, got ${describe(v)}`)),
};

/** A string of `min..max` UTF-16 code units, well-formed Unicode, optionally checked further by
 *  `rule` (which throws a ProtocolError; its message must not quote the value). */
export function string(min: number, max: number, rule?: (s: string, what: string) => void): FieldCodec<string> {
  const check = (v: unknown, what: string, fail: (w: string, m: string) => never): string => {
    if (typeof v !== 'string') return fail(what, `expected a string, got ${describe(v)}`);
    if (v.length < min || v.length > max) return fail(what, `expected ${min} to ${max} characters, got ${v.length}`);
    if (!isWellFormedString(v)) return fail(what, 'expected well-formed Unicode, got a lone surrogate');
    return v;
  };
  return {
    decode: (v, what) => {
      const s = check(v, what, decodeError);
      rule?.(s, what);
      return s;
    },
    encode: (v, what) => {
      const s = check(v, what, argError);
      asArgument(() => rule?.(s, what));
      return s;
    },
  };
}

/** Exactly the string `value` (a frame's "type", the health "status"). */
export function literal<S extends string>(value: S): FieldCodec<S> {
  const check = (v: unknown, what: string, fail: (w: string, m: string) => never): S =>
    v === value ? value : fail(what, `expected "${value}"`);
  return { decode: (v, what) => check(v, what, decodeError), encode: (v, what) => check(v, what, argError) };
}

/** One of a closed set of strings. */
export function oneOf<S extends string>(values: readonly S[]): FieldCodec<S> {
  const set = new Set<string>(values);
  const check = (v: unknown, what: string, fail: (w: string, m: string) => never): S =>
    typeof v === 'string' && set.has(v) ? (v as S) : fail(what, 'expected one of the registered values');
  return { decode: (v, what) => check(v, what, decodeError), encode: (v, what) => check(v, what, argError) };
}

/** Binary data as canonical unpadded base64url (§9.1), with an exact or a maximum decoded length,
 *  and optionally a further rule on the bytes. Decoded arrays are fresh copies. */
export function bytes(bound: Base64urlBound, rule?: (b: Uint8Array, what: string) => void): FieldCodec<Uint8Array> {
  return {
    decode: (v, what) => {
      if (typeof v !== 'string') return decodeError(what, `expected a base64url string, got ${describe(v)}`);
      const b = decodeBase64url(v, what, bound);
      rule?.(b, what);
      return b;
    },
    encode: (v, what) => {
      if (!(v instanceof Uint8Array)) return argError(what, `expected a Uint8Array, got ${describe(v)}`);
      if ('length' in bound ? v.length !== bound.length : v.length > bound.max || v.length < (bound.min ?? 0)) {
        const range = 'length' in bound ? `${bound.length}` : `${bound.min ?? 0} to ${bound.max}`;
        return argError(what, `expected ${range} bytes, got ${v.length}`);
      }
      asArgument(() => rule?.(v, what));
      return encodeBase64url(v);
    },
  };
}

/** An array of `min..max` items of one kind. */
export function arrayOf<T>(item: FieldCodec<T>, min: number, max: number): FieldCodec<readonly T[]> {
  return {
    decode: (v, what) => {
      if (!Array.isArray(v)) return decodeError(what, `expected an array, got ${describe(v)}`);
      const items = v as readonly JsonValue[];
      if (items.length < min || items.length > max) return decodeError(what, `expected ${min} to ${max} items, got ${items.length}`);
      return items.map((x, i) => item.decode(x, `${what}[${i}]`));
    },
    encode: (v, what) => {
      if (!Array.isArray(v)) return argError(what, `expected an array, got ${describe(v)}`);
      const items = v as readonly T[];
      if (items.length < min || items.length > max) return argError(what, `expected ${min} to ${max} items, got ${items.length}`);
      return items.map((x, i) => item.encode(x, `${what}[${i}]`));
    },
  };
}

type Shape = Readonly<Record<string, FieldCodec<unknown>>>;
type ShapeValue<S extends Shape> = { readonly [K in keyof S]: Decoded<S[K]> };

/** A JSON object with exactly these fields, all required; any other field is an error (§9.1). The
 *  encoder writes the fields in the order given here and ignores nothing: a missing one is an error. */
export function object<S extends Shape>(shape: S): FieldCodec<ShapeValue<S>> {
  const keys = Object.keys(shape);
  const expected = keys.join(', ');
  return {
    decode: (v, what) => {
      if (!isJsonObject(v)) return decodeError(what, `expected a JSON object, got ${describe(v)}`);
      for (const k of Object.keys(v)) {
        // The unknown field's name is not quoted: it is attacker-chosen text.
        if (!Object.prototype.hasOwnProperty.call(shape, k)) decodeError(what, `unexpected field (expected only: ${expected})`);
      }
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const field = v[k];
        if (field === undefined) decodeError(what, `missing field "${k}"`);
        out[k] = (shape[k] as FieldCodec<unknown>).decode(field, `${what}.${k}`);
      }
      return out as ShapeValue<S>;
    },
    encode: (v, what) => {
      if (typeof v !== 'object' || (v as unknown) === null) return argError(what, `expected an object, got ${describe(v)}`);
      const source = v as Readonly<Record<string, unknown>>;
      const out: Record<string, JsonValue> = {};
      for (const k of keys) {
        const field = source[k];
        if (field === undefined) argError(what, `missing field "${k}"`);
        out[k] = (shape[k] as FieldCodec<unknown>).encode(field, `${what}.${k}`);
      }
      return out;
    },
  };
}

/** One of several objects told apart by their "type" field (the WebSocket frames of §9.8). Each
 *  variant's codec must include `type: literal(<its tag>)`. */
export function tagged<T extends { readonly type: string }>(variants: { readonly [K in T['type']]: FieldCodec<Extract<T, { type: K }>> }): FieldCodec<T> {
  const table = variants as Readonly<Record<string, FieldCodec<T>>>;
  const variantOf = (type: unknown): FieldCodec<T> | undefined =>
    typeof type === 'string' && Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
  return {
    decode: (v, what) => {
      if (!isJsonObject(v)) return decodeError(what, `expected a JSON object, got ${describe(v)}`);
      const variant = variantOf(v.type);
      if (variant === undefined) return decodeError(what, `expected "type" to be one of: ${Object.keys(table).join(', ')}`);
      return variant.decode(v, what);
    },
    encode: (v, what) => {
      const variant = variantOf((v as { readonly type?: unknown } | null)?.type);
      if (variant === undefined) return argError(what, `expected "type" to be one of: ${Object.keys(table).join(', ')}`);
      return variant.encode(v, what);
    },
  };
}

/** The encode/decode pair of one JSON body: text in, typed value out, and back. */
export interface BodyCodec<T> {
  readonly encode: (value: T) => string;
  readonly decode: (input: string | Uint8Array) => T;
}

export function body<T>(codec: FieldCodec<T>, what: string): BodyCodec<T> {
  return {
    encode: (value) => JSON.stringify(codec.encode(value, what)),
    decode: (input) => codec.decode(parseStrictJson(input, what), what),
  };
}
