/* Sotto's freestanding wasm32 build of PQClean ML-KEM-1024 has no randomness source, and replaces
 * PQClean's common/randombytes.h (which declares an external randombytes()) with this file.
 * Only the derandomized entry points (crypto_kem_keypair_derand, crypto_kem_enc_derand) and
 * crypto_kem_dec are exported; the randomized wrappers in kem.c that call randombytes() are not
 * exported and the linker drops them. Should anything ever reach them, they trap instead of
 * producing keys from missing randomness. The caller supplies all randomness (the seed d || z and
 * the message m) from its own Rng. */
#ifndef SOTTO_SHIM_RANDOMBYTES_H
#define SOTTO_SHIM_RANDOMBYTES_H
#include <stddef.h>
#include <stdint.h>

#define randombytes(output, n) ((void)(output), (void)(n), __builtin_trap())

#endif
