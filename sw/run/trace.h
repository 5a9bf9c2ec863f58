/* trace.h - golden vector sets: what the golden model computed, step by step,
 * for a fixed-point network, so the RTL can be checked without the C model.
 *
 * A set is a directory with config.yaml (the effective config) and vectors.bin
 * (the format is traces/README.md): a header, records of (kind, layer,
 * minibatch, words), a CRC-32 trailer. Record kinds are enum train_probe;
 * minibatch -1 holds the initial weights.
 *
 * trace_generate trains the config for n minibatches and writes a set (every
 * file whole or not at all). trace_load reads one back and checks everything:
 * magic, version, CRC, that the config loads and matches the hash, that every
 * record's kind, layer, minibatch and word count fit the config, and that
 * nothing is missing or left over. Bad sets get a diag naming the file and
 * the byte offset; trace_load then returns -1 with nothing allocated. A
 * vectors.bin over TRACE_MAX_BYTES is refused before it is read, and the
 * record count before anything is allocated for it.
 *
 * Ownership: struct trace owns its config and records (trace_free).
 */
#ifndef LP_TRACE_H
#define LP_TRACE_H

#include <stdint.h>

#include "../../model/train.h"
#include "../base/diag.h"
#include "../config/config.h"

#define TRACE_VERSION 1
/* The largest vectors.bin trace_load reads (zlib's crc32 takes a 32-bit length). */
#define TRACE_MAX_BYTES ((size_t)1 << 30)

struct trace_record {
    enum train_probe kind;
    int layer;                 /* -1 for the input */
    int64_t minibatch;         /* -1: the initial weights */
    int64_t count;
    const int32_t *words;      /* into the trace's buffer */
};

struct trace {
    struct config config;
    int64_t minibatches;
    int64_t n_records;
    struct trace_record *records;
    uint8_t *data;             /* the whole vectors.bin */
};

/* Train c (fixed point, dense layers) for n minibatches under its policy and
 * write the set into dir. Returns 0; 2 with d set when the config cannot be
 * traced or a file cannot be written; 1 with d set on other failures. */
int trace_generate(const struct config *c, int64_t n, const char *dir, struct diag *d);

/* Read and check the set in dir. Returns 0, or -1 with d set. */
int trace_load(struct trace *tr, const char *dir, struct diag *d);
void trace_free(struct trace *tr);

const char *trace_kind_name(enum train_probe kind);

#endif
