// One operation at a time on the client state: every read-modify-commit of ClientState runs inside
// `run`, so two concurrent operations (a send and a live receive) never commit over each other.

export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(op, op);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every operation queued so far has finished. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
