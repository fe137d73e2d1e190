// Timing marks for the call-setup benchmark (bench/calls/browser.ts): where one call signal's hop
// spends its time (seal, persist, the server, decrypt, dispatch). Bench-only: a mark is recorded only
// when the page (or process) defines `globalThis.__sottoTrace` as an array before the client runs,
// which the application never does. A mark is a fixed event name, a content body type and a clock
// reading (`performance.timeOrigin + performance.now()`, comparable across the pages of one machine):
// never a key, an id, a username or any content.

/** Records `event:detail` with the time, when the benchmark asked for marks; else does nothing. */
export function benchMark(event: string, detail: string): void {
  const sink = (globalThis as { __sottoTrace?: unknown }).__sottoTrace;
  if (Array.isArray(sink)) sink.push([`${event}:${detail}`, performance.timeOrigin + performance.now()]);
}
