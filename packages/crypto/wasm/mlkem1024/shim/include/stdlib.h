/* Sotto's freestanding wasm32 build of PQClean ML-KEM-1024: fips202.c allocates its SHAKE contexts
 * with malloc and calls exit(111) when that fails. malloc/free are served from a small fixed pool of
 * context-sized slots (wiped on free) and exit traps; see ../sotto_mlkem1024.c. */
#ifndef SOTTO_SHIM_STDLIB_H
#define SOTTO_SHIM_STDLIB_H
#include <stddef.h>

void *malloc(size_t n);
void free(void *p);
__attribute__((noreturn)) void exit(int status);

#endif
