#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

int data_init(struct dataset *d, int n, int dim, int classes)
{
    memset(d, 0, sizeof *d);
    if (n < 0 || dim < 1)
        return -1;
    d->x = calloc((size_t)(n ? n : 1) * (size_t)dim, sizeof *d->x);
    d->y = calloc((size_t)(n ? n : 1), 1);
    if (!d->x || !d->y) {
        data_free(d);
        return -1;
    }
    d->n = n, d->dim = dim, d->classes = classes;
    return 0;
}

void data_free(struct dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

void data_truncate(struct dataset *d, int n)
{
    if (n >= 0 && n < d->n)
        d->n = n;
}

void data_stats(const struct dataset *d, double *mean, double *std)
{
    double s = 0, s2 = 0;
    size_t count = (size_t)d->n * (size_t)d->dim;
    for (size_t i = 0; i < count; i++)
        s += d->x[i];
    double m = count ? s / (double)count : 0;
    for (size_t i = 0; i < count; i++)
        s2 += ((double)d->x[i] - m) * ((double)d->x[i] - m);
    *mean = m;
    *std = count ? sqrt(s2 / (double)count) : 1;
    if (*std == 0)
        *std = 1;
}

void data_normalize(struct dataset *d, double mean, double std)
{
    size_t count = (size_t)d->n * (size_t)d->dim;
    float m = (float)mean, inv = (float)(1.0 / std);
    for (size_t i = 0; i < count; i++)
        d->x[i] = (d->x[i] - m) * inv;
}

int data_synthetic(struct dataset *d, int n, int dim, int classes, uint64_t seed,
                   uint64_t sample_seed, float noise)
{
    struct rng r;
    if (classes < 1 || classes > 256 || data_init(d, n, dim, classes))
        return -1;
    float *proto = malloc(sizeof *proto * (size_t)classes * (size_t)dim);
    if (!proto) {
        data_free(d);
        return -1;
    }
    rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)classes * (size_t)dim; i++)
        proto[i] = rng_normal(&r);
    rng_seed(&r, sample_seed ^ 0x5eed5eed5eed5eedull);
    for (int s = 0; s < n; s++) {
        int c = (int)rng_below(&r, (uint32_t)classes);
        d->y[s] = (uint8_t)c;
        for (int i = 0; i < dim; i++)
            d->x[(size_t)s * (size_t)dim + (size_t)i] =
                proto[(size_t)c * (size_t)dim + (size_t)i] + noise * rng_normal(&r);
    }
    free(proto);
    return 0;
}
