// Times the server writes about accounts and devices (created-at, last-seen-at), rounded down to the
// UTC day (limits.ts STORED_TIME_GRANULARITY_MS; docs/server-data.md "accounts", "devices"): the store
// needs a date, and a millisecond would tell a database dump when each device last authenticated.
import { STORED_TIME_GRANULARITY_MS } from '../limits.ts';

/** `ms` (non-negative epoch milliseconds) rounded down to the start of its UTC day. */
export function storedDay(ms: number): number {
  return ms - (ms % STORED_TIME_GRANULARITY_MS);
}
