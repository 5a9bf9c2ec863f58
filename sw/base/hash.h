/* hash.h - FNV-1a, 64 bits: the one hash of the tool (config hashes, sweep hashes, the
 * synthesis and RTL build caches' keys). Not cryptographic: it names content, it does
 * not defend against a chosen collision.
 *
 * Chain calls to hash several pieces: h = hash_str(hash_bytes(HASH_INIT, a, n), b).
 */
#ifndef LP_HASH_H
#define LP_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_INIT 0xcbf29ce484222325ull   /* FNV-1a's offset basis */

uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t hash_str(uint64_t h, const char *s);

#endif
