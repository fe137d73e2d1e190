// Every resource bound of the protocol core, each with its reason (STYLE.md §3; libsignal consts.rs).

/** Most message keys one chain may skip ahead in a single step (Double Ratchet rev 1 §3.5 MAX_SKIP).
 *  Bounds the work and memory a forged counter can force on the receiver. libsignal uses 2000. */
export const MAX_SKIP = 2000;

/** Most skipped message keys kept per session, oldest dropped first: lost messages must not grow
 *  state without bound (Double Ratchet rev 1 §6.5 "deleting skipped message keys"). */
export const MAX_SKIPPED_KEYS = 2000;

/** Most receiving chains kept (current + previous), so a late message from an older ratchet step can
 *  still be read without keeping every chain forever. libsignal keeps 5 previous states. */
export const MAX_RECEIVER_CHAINS = 5;

/** Largest plaintext one message may carry (64 MiB). Bigger payloads go as attachments. */
export const MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024;

/** Largest encoded message any decoder accepts: plaintext bound plus headers and padding. */
export const MAX_MESSAGE_BYTES = MAX_PLAINTEXT_BYTES + 64 * 1024;

/** Message counters are u32 on the wire; a chain refuses to go past this (rekey first). */
export const MAX_COUNTER = 0xffffffff;
