/* rng.h - a small deterministic random number generator (xoshiro256**,
 * seeded through splitmix64). The same seed gives the same stream on every
 * machine; nothing here reads the clock or the environment. */
#ifndef LP_RNG_H
#define LP_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1) with 24 random bits (exact in float). */
float rng_uniform(struct rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Standard normal (Box-Muller, in double, rounded to float). */
float rng_normal(struct rng *r);
/* Fisher-Yates shuffle of idx[0..n-1]. */
void rng_shuffle(struct rng *r, int32_t *idx, int n);

#endif
