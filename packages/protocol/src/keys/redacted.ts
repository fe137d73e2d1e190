// Secrets never print (STYLE.md §10): objects that hold secret key material extend Redacted, so
// String(x), JSON.stringify(x) and util.inspect(x) show a fixed marker instead of bytes. The secret
// bytes live in ECMAScript private fields, which neither inspect nor JSON can reach.

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

export abstract class Redacted {
  protected abstract readonly kind: string;

  toString(): string {
    return `[${this.kind}: redacted]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

declare const brand: unique symbol;
/** A distinct compile-time type for each kind of key material (STYLE.md §6). */
export type Brand<T, B extends string> = T & { readonly [brand]: B };
