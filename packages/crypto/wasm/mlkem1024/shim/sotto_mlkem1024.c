/*
 * Sotto's glue around PQClean's ML-KEM-1024 "clean" implementation, for a freestanding wasm32 build
 * (no C library, no imports, no randomness source). Written for Sotto; same terms as the rest of
 * packages/crypto (see README.md beside build.sh).
 *
 * The JavaScript side (packages/crypto/src/internal/mlkem-wasm.ts) copies inputs into the static
 * buffers below, calls one sotto_* function, copies the outputs out and then wipes: sotto_wipe()
 * zeroes these buffers, and the caller zeroes the whole shadow stack. build.sh links with
 * --stack-first, so the stack is [0, __global_base) and all data lies above it; a stack overflow
 * traps (out of bounds) instead of overwriting data. __global_base is exported for the caller.
 *
 * The FIPS 203 input checks that PQClean leaves to the caller are made here:
 *   - §7.2 encapsulation-key modulus check: ByteEncode12(ByteDecode12(ek)) = ek, i.e. every 12-bit
 *     coefficient of t-hat is < q;
 *   - §7.3 decapsulation-key hash check: H(dk[384k : 768k + 32]) = dk[768k + 32 : 768k + 64].
 * (The §7.2/§7.3 length checks are made by the caller, which has the lengths.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fips202.h"
#include "kem.h"
#include "params.h"
#include "verify.h"

#define PK_BYTES KYBER_PUBLICKEYBYTES   /* 1568, FIPS 203 Table 3 */
#define SK_BYTES KYBER_SECRETKEYBYTES   /* 3168 */
#define CT_BYTES KYBER_CIPHERTEXTBYTES  /* 1568 */
#define SS_BYTES KYBER_SSBYTES          /* 32 */
#define COINS_BYTES (2 * KYBER_SYMBYTES) /* 64: keygen d || z; encapsulation uses the first 32 (m) */

/* ---------------------------------------------------------------------------------------------- */
/* Input and output buffers, shared with JavaScript.                                               */
/* ---------------------------------------------------------------------------------------------- */

static uint8_t io_pk[PK_BYTES];
static uint8_t io_sk[SK_BYTES];
static uint8_t io_ct[CT_BYTES];
static uint8_t io_ss[SS_BYTES];
static uint8_t io_coins[COINS_BYTES];

uint8_t *sotto_pk(void);
uint8_t *sotto_sk(void);
uint8_t *sotto_ct(void);
uint8_t *sotto_ss(void);
uint8_t *sotto_coins(void);
int sotto_keypair(void);
int sotto_enc(void);
int sotto_dec(void);
void sotto_wipe(void);

uint8_t *sotto_pk(void) { return io_pk; }
uint8_t *sotto_sk(void) { return io_sk; }
uint8_t *sotto_ct(void) { return io_ct; }
uint8_t *sotto_ss(void) { return io_ss; }
uint8_t *sotto_coins(void) { return io_coins; }

/* ---------------------------------------------------------------------------------------------- */
/* malloc/free for fips202.c's SHAKE contexts: a fixed pool of context-sized slots.                */
/* ML-KEM holds at most one context at a time (gen_matrix releases each XOF state before the next */
/* absorb; rkprf uses one incremental SHAKE256), so four slots are ample. Slots are zeroed on free */
/* (a Keccak state of the PRF or the rejection-key hash is secret).                                */
/* ---------------------------------------------------------------------------------------------- */

#define POOL_SLOTS 4
#define SLOT_WORDS 26 /* PQC_SHAKEINCCTX_BYTES / 8, the largest context */

static uint64_t pool[POOL_SLOTS][SLOT_WORDS];
static uint8_t pool_used[POOL_SLOTS];

void *malloc(size_t n) {
    if (n > sizeof pool[0]) {
        return NULL;
    }
    for (size_t i = 0; i < POOL_SLOTS; i++) {
        if (!pool_used[i]) {
            pool_used[i] = 1;
            return pool[i];
        }
    }
    return NULL; /* fips202.c then calls exit(111), which traps */
}

void free(void *p) {
    for (size_t i = 0; i < POOL_SLOTS; i++) {
        if (p == (void *)pool[i]) {
            memset(pool[i], 0, sizeof pool[i]);
            pool_used[i] = 0;
            return;
        }
    }
}

__attribute__((noreturn)) void exit(int status) {
    (void)status;
    __builtin_trap();
}

/* Byte loops, compiled with -fno-builtin so that the compiler cannot turn them into calls to
 * themselves. */
void *memcpy(void *dest, const void *src, size_t n) {
    uint8_t *d = dest;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dest;
}

void *memmove(void *dest, const void *src, size_t n) {
    uint8_t *d = dest;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) {
            *d++ = *s++;
        }
    } else {
        d += n;
        s += n;
        while (n--) {
            *--d = *--s;
        }
    }
    return dest;
}

void *memset(void *dest, int c, size_t n) {
    uint8_t *d = dest;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dest;
}

/* ---------------------------------------------------------------------------------------------- */
/* Entry points                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

/* FIPS 203 §7.2 modulus check on ek = ByteEncode12(t-hat) || rho: every 12-bit coefficient < q. */
static int ek_modulus_ok(const uint8_t *ek) {
    int bad = 0;
    for (size_t i = 0; i < KYBER_POLYVECBYTES; i += 3) {
        uint16_t a = (uint16_t)(ek[i] | ((uint16_t)(ek[i + 1] & 0x0f) << 8));
        uint16_t b = (uint16_t)((ek[i + 1] >> 4) | ((uint16_t)ek[i + 2] << 4));
        bad |= (a >= KYBER_Q) | (b >= KYBER_Q);
    }
    return !bad;
}

/* FIPS 203 §7.3 hash check on dk = dk_pke || ek || h || z: H(ek) = h. */
static int dk_hash_ok(const uint8_t *dk) {
    uint8_t h[KYBER_SYMBYTES];
    sha3_256(h, dk + KYBER_INDCPA_SECRETKEYBYTES, KYBER_PUBLICKEYBYTES);
    int ok = PQCLEAN_MLKEM1024_CLEAN_verify(h, dk + KYBER_INDCPA_SECRETKEYBYTES + KYBER_PUBLICKEYBYTES, KYBER_SYMBYTES) == 0;
    memset(h, 0, sizeof h);
    return ok;
}

/* FIPS 203 §7.1 ML-KEM.KeyGen_internal(d, z) with io_coins = d || z: writes io_pk and io_sk. */
int sotto_keypair(void) {
    return PQCLEAN_MLKEM1024_CLEAN_crypto_kem_keypair_derand(io_pk, io_sk, io_coins);
}

/* FIPS 203 §7.2 ML-KEM.Encaps_internal(ek, m) with ek = io_pk, m = io_coins[0..32): writes io_ct,
 * io_ss. Returns -1 (and writes nothing) when ek fails the modulus check. */
int sotto_enc(void) {
    if (!ek_modulus_ok(io_pk)) {
        return -1;
    }
    return PQCLEAN_MLKEM1024_CLEAN_crypto_kem_enc_derand(io_ct, io_ss, io_pk, io_coins);
}

/* FIPS 203 §7.3 ML-KEM.Decaps(dk, c) with dk = io_sk, c = io_ct: writes io_ss (the implicit-rejection
 * key when c does not re-encrypt). Returns -1 (and writes nothing) when dk fails the hash check. */
int sotto_dec(void) {
    if (!dk_hash_ok(io_sk)) {
        return -1;
    }
    return PQCLEAN_MLKEM1024_CLEAN_crypto_kem_dec(io_ss, io_ct, io_sk);
}

/* Zeroes every static buffer that may hold a secret (the pool slots are zeroed on free already). */
void sotto_wipe(void) {
    memset(io_pk, 0, sizeof io_pk);
    memset(io_sk, 0, sizeof io_sk);
    memset(io_ct, 0, sizeof io_ct);
    memset(io_ss, 0, sizeof io_ss);
    memset(io_coins, 0, sizeof io_coins);
    memset(pool, 0, sizeof pool);
}
