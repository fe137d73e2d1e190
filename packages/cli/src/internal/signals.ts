// Waiting for Ctrl-C (SIGINT) or SIGTERM, for the commands that run until told to stop (`serve`,
// `receive --wait`). The first signal asks for a clean stop; a second one while stopping means the
// user does not want to wait, so the process ends at once (the store's writes are transactional,
// so nothing half-written is left behind).

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalWait {
  /** Resolves with the first signal. */
  readonly received: Promise<StopSignal>;
  /** Removes the handlers (the default behaviour, ending the process, comes back). */
  dispose(): void;
}

export function waitForStopSignal(): SignalWait {
  let first = true;
  let resolveSignal: (s: StopSignal) => void = () => undefined;
  const received = new Promise<StopSignal>((resolve) => {
    resolveSignal = resolve;
  });
  const handler = (signal: StopSignal): void => {
    if (first) {
      first = false;
      resolveSignal(signal);
    } else {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    received,
    dispose: () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}
