// Reading the client's own records back from the keystore. They are written by this code and sealed
// by the keystore's AEAD, so a failure here means a bug or a file from another version, never an
// attacker; still, every field is checked so a bad record is a typed ERR_STATE_CORRUPT, not a crash.
import { ClientError } from '../errors.ts';
import { toHex } from './bytes.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function corrupt(what: string, message: string): ClientError {
  return new ClientError('ERR_STATE_CORRUPT', `${what}: ${message}`);
}

export function parseRecord(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupt(what, 'expected a JSON record');
  }
  return asObject(v, what);
}

export function serialize(value: Json): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(what, 'expected an object');
  return v as Record<string, unknown>;
}

export function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw corrupt(what, 'expected an array');
  return v as unknown[];
}

export function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw corrupt(what, 'expected a string');
  return v;
}

export function asInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw corrupt(what, 'expected a non-negative integer');
  return v;
}

export function asBool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw corrupt(what, 'expected a boolean');
  return v;
}

export function asHex(v: unknown, what: string, length?: number): Uint8Array {
  const s = asString(v, what);
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw corrupt(what, 'expected lowercase hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  if (length !== undefined && out.length !== length) throw corrupt(what, `expected ${length} bytes, got ${out.length}`);
  return out;
}

export function hex(b: Uint8Array): string {
  return toHex(b);
}

export function optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : read(v);
}
