// Waiting for something to happen on loopback without timing anything: poll until `check` holds, and fail the
// scenario (ERR_ATTACKS_TIMEOUT) rather than hang if it never does within NETWORK_WAIT_MS.
import { AttacksError } from '../errors.ts';
import { NETWORK_WAIT_MS } from '../limits.ts';

/** Resolves once `check()` is true (re-checked every few milliseconds). */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + NETWORK_WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new AttacksError('ERR_ATTACKS_TIMEOUT', `waited too long for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

