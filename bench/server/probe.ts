// Bench-only, runs inside a server child (bare-relay.ts, sotto-server.ts): answers the parent's
// memory probes over the IPC channel. A probe runs a full garbage collection first (the child is
// started with --expose-gc), so that "before" and "after" compare live memory, not whatever garbage
// the last phase left. RSS itself is read by the parent from /proc/<pid>/status (processes.ts).

/** What a child answers to {type:'memory'}: process.memoryUsage() after a full GC. */
export interface MemoryReport {
  readonly type: 'memory';
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export function answerMemoryProbes(): void {
  if (process.send === undefined) return; // started without an IPC channel: nothing to answer
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== 'memory') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    // Twice: the first collection runs finalizers whose objects the second one frees.
    gc?.();
    gc?.();
    const report: MemoryReport = { type: 'memory', ...process.memoryUsage() };
    process.send?.(report);
  });
}
