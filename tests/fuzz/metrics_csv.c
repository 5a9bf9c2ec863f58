/* metrics_csv.c - fuzz harness of the reader of a training run's metrics.csv, which
 * `layerpipe report --runs` reads back (metrics_read).
 * Checks: a refusal carries a message; accepted accuracies are within the epochs the
 * reader keeps and none is negative. */
#include "../../sw/report/metrics.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("metrics.csv", data, size);
    FILE *f = fopen(path, "r");
    FUZZ_CHECK(f);
    struct metrics *m = calloc(1, sizeof *m);
    FUZZ_CHECK(m);
    struct diag d = {0};
    if (metrics_read(m, f, path, &d)) {
        FUZZ_REFUSED(d);
        FUZZ_CHECK(d.line >= 1);
        free(m);
        return 0;
    }
    if (fuzz_inject())
        m->n[0] = METRICS_MAX_EPOCHS + 1;
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        FUZZ_CHECK(m->n[k] >= 0 && m->n[k] <= METRICS_MAX_EPOCHS);
        for (int e = 0; e < m->n[k]; e++)
            FUZZ_CHECK(m->pct[k][e] >= 0);
    }
    free(m);
    return 0;
}
