// Exponential back-off with jitter (docs/protocol/10 §10.5: 250 ms doubling, at most 30 s, with
// jitter), for send retries and WebSocket reconnects. "Equal jitter": half the delay is fixed, half
// random, so retries never collapse to zero and never synchronise across clients.

/** The delay before retry number `attempt` (0 = the first retry). `random` in [0, 1). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: number): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (exp / 2) * random);
}
