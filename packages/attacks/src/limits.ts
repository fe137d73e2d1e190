// Resource bounds of @sotto/attacks, each with a one-line why (STYLE.md §3).

/** Longest wait for one expected network event (a datagram, a proxied reply, a delivery): generous for a
 *  loaded CI machine on loopback, and a bound so that a broken scenario fails instead of hanging. */
export const NETWORK_WAIT_MS = 15_000;

/** Most bytes a recorder keeps: far above any scenario's traffic, and a bound on memory if one misbehaves. */
export const MAX_CAPTURE_BYTES = 64 * 1024 * 1024;

/** Largest HTTP body the recording proxy buffers (the server's largest route limit, 32 MiB attachments). */
export const MAX_PROXY_BODY_BYTES = 33 * 1024 * 1024;

/** Largest UDP datagram the MIKEY network relays: an I_MESSAGE in SIP-like signalling is ~1 KB, media ~200 B. */
export const MAX_DATAGRAM_BYTES = 8 * 1024;
