/* Sotto's freestanding wasm32 build of PQClean ML-KEM-1024: the few <string.h> functions the
 * vendored sources use, implemented in ../sotto_mlkem1024.c. There is no C library in this build. */
#ifndef SOTTO_SHIM_STRING_H
#define SOTTO_SHIM_STRING_H
#include <stddef.h>

void *memcpy(void *dest, const void *src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
void *memset(void *dest, int c, size_t n);

#endif
