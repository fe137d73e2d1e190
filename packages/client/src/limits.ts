// Resource bounds of @sotto/client, each with a one-line why (STYLE.md §3).

/** Longest entry name in UTF-8 bytes: names are short identifiers ("identity", "session/<id>"). */
export const MAX_KEYSTORE_NAME_BYTES = 255;

/** Most entries in one keystore: the whole store is rewritten on every write, so it must stay small. */
export const MAX_KEYSTORE_ENTRIES = 65_536;

/** Largest keystore body in bytes (64 MiB): bounds the memory a (corrupted) file can make us allocate. */
export const MAX_KEYSTORE_BODY_BYTES = 64 * 1024 * 1024;

/** Longest passphrase in UTF-8 bytes: far beyond any human passphrase, bounds Argon2id input. */
export const MAX_PASSPHRASE_BYTES = 1024;

/** Largest Argon2id memory cost accepted from a file, in KiB (1 GiB): a corrupted or hostile header
 *  must not make the client allocate without bound (noble's own default ceiling is also 1 GiB). */
export const MAX_ARGON2_M_KIB = 1024 * 1024;

/** Largest Argon2id time cost accepted from a file: 16 passes at 1 GiB is already minutes. */
export const MAX_ARGON2_T = 16;

/** Largest Argon2id parallelism accepted from a file (RFC 9106 §3.1 allows up to 2^24 - 1 lanes). */
export const MAX_ARGON2_P = 64;
