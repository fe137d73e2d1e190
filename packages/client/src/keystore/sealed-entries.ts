// What every sealing keystore back-end shares (software: one file; browser: IndexedDB): the entries
// held in memory, argument checks and copies in and out, writes serialised in call order, "write the
// sealed next state first, then make it current" (a failed write changes nothing), wiping replaced
// values, and redaction. A back-end supplies only how a state is sealed and stored, how the keys are
// replaced for a new passphrase, and what closing releases.
import { ClientError } from '../errors.ts';
import { wipe } from '../internal/bytes.ts';
import { checkName, sortedNames } from './body.ts';
import { passphraseBytes } from './kdf.ts';
import type { Keystore } from './keystore.ts';

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

export abstract class SealedEntriesKeystore implements Keystore {
  #entries: Map<string, Uint8Array>;
  #closed = false;
  /** Writes run one at a time, in call order (each re-seals the whole state). */
  #queue: Promise<unknown> = Promise.resolve();

  protected constructor(entries: Map<string, Uint8Array>) {
    this.#entries = entries;
  }

  /** Seals `next` under the current keys and stores it durably; rejects having stored nothing. */
  protected abstract persist(next: ReadonlyMap<string, Uint8Array>): Promise<void>;
  /** Checks `current`, derives keys from `next`, stores `entries` under them and only then switches
   *  to them; ERR_KEYSTORE_WRONG_PASSPHRASE (nothing changed) for a wrong `current`. Wipes both. */
  protected abstract rekey(current: Uint8Array, next: Uint8Array, entries: ReadonlyMap<string, Uint8Array>): Promise<void>;
  /** Wipes the keys and releases whatever the back-end holds; called once, after the last write. */
  protected abstract release(): void;
  /** The redacted form, e.g. "[SoftwareKeystore: redacted]". */
  protected abstract readonly redacted: string;

  get(name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve().then(() => {
      this.#open();
      checkName(name);
      return this.#entries.get(name)?.slice();
    });
  }

  names(): Promise<string[]> {
    return Promise.resolve().then(() => {
      this.#open();
      return sortedNames(this.#entries);
    });
  }

  put(name: string, bytes: Uint8Array): Promise<void> {
    return Promise.resolve().then(() => {
      checkName(name);
      if (!(bytes instanceof Uint8Array)) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected the value to be a Uint8Array');
      return this.#serial(() => this.#apply(new Map([[name, bytes.slice()]])));
    });
  }

  update(changes: ReadonlyMap<string, Uint8Array | null>): Promise<void> {
    return Promise.resolve().then(() => {
      if (!((changes as unknown) instanceof Map)) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected the changes as a Map');
      const copies = new Map<string, Uint8Array | null>();
      for (const [name, bytes] of changes) {
        checkName(name);
        if (bytes !== null && !(bytes instanceof Uint8Array)) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected each value to be a Uint8Array or null');
        copies.set(name, bytes === null ? null : bytes.slice());
      }
      return this.#serial(() => this.#apply(copies));
    });
  }

  delete(name: string): Promise<boolean> {
    return Promise.resolve().then(() => {
      checkName(name);
      return this.#serial(async () => {
        if (!this.#entries.has(name)) return false;
        await this.#apply(new Map([[name, null]]));
        return true;
      });
    });
  }

  changePassphrase(current: string, next: string): Promise<void> {
    return Promise.resolve().then(() => {
      const cur = passphraseBytes(current);
      const nxt = passphraseBytes(next);
      return this.#serial(() => this.rekey(cur, nxt, this.#entries));
    });
  }

  close(): Promise<void> {
    const done = this.#queue.then(
      () => undefined,
      () => undefined,
    );
    return done.then(() => {
      if (this.#closed) return;
      this.#closed = true;
      for (const v of this.#entries.values()) wipe(v);
      this.#entries = new Map();
      this.release();
    });
  }

  toString(): string {
    return this.redacted;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspectCustom](): string {
    return this.toString();
  }

  /** Stores the next state first and only then makes it current: a failed write changes nothing. */
  async #apply(copies: Map<string, Uint8Array | null>): Promise<void> {
    const next = new Map(this.#entries);
    for (const [name, v] of copies) {
      if (v === null) next.delete(name);
      else next.set(name, v);
    }
    try {
      await this.persist(next);
    } catch (e) {
      for (const v of copies.values()) if (v !== null) wipe(v);
      throw e;
    }
    const old = [...copies.keys()].map((n) => this.#entries.get(n)).filter((v): v is Uint8Array => v !== undefined);
    this.#entries = next;
    for (const v of old) wipe(v);
  }

  #open(): void {
    if (this.#closed) throw new ClientError('ERR_KEYSTORE_CLOSED', 'expected an open keystore, got a closed one');
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(
      () => {
        this.#open();
        return op();
      },
      () => {
        this.#open();
        return op();
      },
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
