/* fuzz.h - what the fuzz harnesses share (tests/fuzz/README.md).
 *
 * Each harness defines LLVMFuzzerTestOneInput, hands the input to one reader of
 * untrusted input and checks what the reader gives back: on failure a message, on
 * success what the bytes themselves say (sizes, counts, a round trip). libFuzzer calls
 * it (make fuzz); so does replay.c, over the committed corpora and findings (make test).
 *
 * The readers take paths, so the input goes to a file in a directory of this process's
 * own ($TMPDIR, else /dev/shm, else /tmp), removed at exit. A reader of two files gets
 * both in one input, split at FUZZ_SEP.
 *
 * With LPFUZZ_VERBOSE set, a harness prints why its reader refused an input (to see
 * which seeds get past the checks). With LPFUZZ_INJECT set, each harness breaks what
 * its reader returned before checking it (fuzz_inject), so the replay test can show
 * that the checks fail when a reader is wrong.
 */
#ifndef LP_FUZZ_H
#define LP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_SEP "\n@@LPFUZZ@@\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A harness's own check: a reader broke its contract. */
#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz check failed: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* A reader refused the input: it must say why (with LPFUZZ_VERBOSE set, printed). */
#define FUZZ_REFUSED(d)                                                             \
    do {                                                                            \
        FUZZ_CHECK((d).msg[0]);                                                     \
        if (getenv("LPFUZZ_VERBOSE"))                                               \
            fprintf(stderr, "refused: %s:%d:%d: %s\n", (d).file, (d).line, (d).col, \
                    (d).msg);                                                       \
    } while (0)

#define FUZZ_MAX_FILES 8
static char fuzz_dir_[256];
static char fuzz_files_[FUZZ_MAX_FILES][300];

static inline void fuzz_cleanup_(void)
{
    for (int i = 0; i < FUZZ_MAX_FILES && fuzz_files_[i][0]; i++)
        unlink(fuzz_files_[i]);
    rmdir(fuzz_dir_);
}

/* The path of file name in this process's directory (made on first use). */
static inline const char *fuzz_path(const char *name)
{
    if (!fuzz_dir_[0]) {
        const char *t = getenv("TMPDIR");
        if (!t || !*t)
            t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/lpfuzz-XXXXXX", t);
        if (!mkdtemp(fuzz_dir_)) {
            perror(fuzz_dir_);
            abort();
        }
        atexit(fuzz_cleanup_);
    }
    int i = 0;
    char want[300];
    snprintf(want, sizeof want, "%s/%s", fuzz_dir_, name);
    while (i < FUZZ_MAX_FILES && fuzz_files_[i][0] && strcmp(fuzz_files_[i], want))
        i++;
    if (i == FUZZ_MAX_FILES)
        abort();
    memcpy(fuzz_files_[i], want, sizeof want);
    return fuzz_files_[i];
}

/* Write len bytes to file name; returns its path. A failure here is the machine's. */
static inline const char *fuzz_write(const char *name, const void *data, size_t len)
{
    const char *path = fuzz_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
        perror(path);
        abort();
    }
    return path;
}

/* Split data at the first FUZZ_SEP: returns the length of the first part, and the
 * second in *b, *blen; without a separator, the whole input and *b = NULL. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **b,
                                size_t *blen)
{
    size_t n = sizeof FUZZ_SEP - 1;
    for (size_t i = 0; size >= n && i <= size - n; i++)
        if (!memcmp(data + i, FUZZ_SEP, n)) {
            *b = data + i + n;
            *blen = size - i - n;
            return i;
        }
    *b = NULL;
    *blen = 0;
    return size;
}

static inline int fuzz_inject(void)
{
    static int on = -1;
    if (on < 0)
        on = getenv("LPFUZZ_INJECT") != NULL;
    return on;
}

/* traces/m1-sequential's config, written out as trace_generate writes it (its hash is
 * the vector set's): the trace harness's config and the sweep harness's base. */
#define FUZZ_M1_CONFIG \
    "schema_version: 1\n" \
    "name: trace-m1-sequential\n" \
    "network:\n" \
    "  input: [8]\n" \
    "  layers:\n" \
    "    - {name: fc1, type: dense, inputs: [input], out: 6, act: relu, bias: true}\n" \
    "    - {name: fc2, type: dense, inputs: [fc1], out: 6, act: relu, bias: true}\n" \
    "    - {name: fc3, type: dense, inputs: [fc2], out: 5, act: relu, bias: true}\n" \
    "    - {name: fc4, type: dense, inputs: [fc3], out: 4, act: none, bias: true}\n" \
    "  loss: softmax_cross_entropy\n" \
    "pipeline:\n" \
    "  stages: [[fc1], [fc2], [fc3], [fc4]]\n" \
    "  policy: sequential\n" \
    "  ema_beta: auto\n" \
    "numerics:\n" \
    "  format: fixed\n" \
    "  activation: {bits: 16, frac: 10}\n" \
    "  error: {bits: 16, frac: 12}\n" \
    "  weight: {bits: 16, frac: 14}\n" \
    "  master_weight: {bits: 32, frac: 28}\n" \
    "  gradient: {bits: 32, frac: 20}\n" \
    "  accumulator_bits: 48\n" \
    "  rounding: nearest_even\n" \
    "training:\n" \
    "  dataset: synthetic\n" \
    "  data_dir: \"/usr/share/datasets/fashion-mnist\"\n" \
    "  batch: 4\n" \
    "  epochs: 5\n" \
    "  lr: 0.05\n" \
    "  momentum: 0.5\n" \
    "  weight_decay: 0\n" \
    "  lr_schedule: constant\n" \
    "  lr_decay: 0.6\n" \
    "  seed: 1\n" \
    "  normalize: true\n" \
    "  train_samples: 0\n" \
    "  test_samples: 0\n" \
    "hardware:\n" \
    "  mac_rows: 4\n" \
    "  mac_cols: 4\n" \
    "  mac_pipeline: 3\n" \
    "  clock_mhz: 200\n" \
    "  onchip_kib: 512\n" \
    "  offchip_bytes_per_cycle: 16\n" \
    "  offchip_latency: 100\n"

#endif
