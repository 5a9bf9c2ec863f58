/* data.h - a labelled dataset in memory, its normalisation, and a synthetic
 * generator for tests.
 *
 * Values are float, one sample after another (n x dim). Loading from files
 * lives in sw/ (model/ does no I/O). Ownership: data_init / data_free.
 */
#ifndef LP_DATA_H
#define LP_DATA_H

#include <stdint.h>

struct dataset {
    int n;          /* samples */
    int dim;        /* values per sample */
    int classes;    /* labels are 0..classes-1 */
    float *x;       /* n * dim values */
    uint8_t *y;     /* n labels */
};

/* Allocate n samples of dim values (zeroed). Returns 0, or -1 out of memory. */
int data_init(struct dataset *d, int n, int dim, int classes);
void data_free(struct dataset *d);
/* Keep only the first n samples (n <= d->n). */
void data_truncate(struct dataset *d, int n);

/* Mean and standard deviation over every value of d (accumulated in double). */
void data_stats(const struct dataset *d, double *mean, double *std);
/* x <- (x - mean) / std, in float. */
void data_normalize(struct dataset *d, double mean, double std);

/* A synthetic classification set: each class has a fixed random prototype
 * (from seed), each sample is its class's prototype plus Gaussian noise of
 * standard deviation noise, labels drawn uniformly. sample_seed picks the
 * samples, so a train and a test set share prototypes but not samples.
 * Returns 0, or -1 out of memory. */
int data_synthetic(struct dataset *d, int n, int dim, int classes, uint64_t seed,
                   uint64_t sample_seed, float noise);

#endif
