/* sweep.c - fuzz harness of the sweep file reader and its filter language (sweep_load,
 * which parses every filter and evaluates it over every combination of the axes).
 * The input is the sweep file; `base: base.yaml` names a fixed config beside it (that
 * of traces/m1-sequential: four dense layers fc1..fc4).
 * Checks: a refusal carries a message; an accepted sweep has points in increasing
 * order inside the axes' product, every filter keeps each of the first points and
 * drops each of the first combinations that is not one, and each of those points'
 * configs loads or says why not. */
#include "../../sw/sweep/sweep.h"

#include "fuzz.h"

static const char base_config[] = FUZZ_M1_CONFIG;   /* base.yaml of every input */

#define FIRST 16

static int keeps(const struct sweep *s, int64_t k)
{
    struct diag d = {0};
    int keep = 1;
    for (int i = 0; i < s->n_filters && keep > 0; i++)
        keep = sweep_filter_keep(s, s->filters[i], k, &d);
    FUZZ_CHECK(keep >= 0);   /* sweep_load evaluated them all without an error */
    return keep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int based;
    if (!based) {
        fuzz_write("base.yaml", base_config, sizeof base_config - 1);
        based = 1;
    }
    const char *path = fuzz_write("sweep.yaml", data, size);
    struct sweep s;
    struct diag d = {0};
    if (sweep_load(&s, path, &d)) {
        FUZZ_REFUSED(d);
        return 0;
    }
    int64_t total = 1;
    for (int a = 0; a < s.n_axes; a++) {
        FUZZ_CHECK(s.axes[a].n >= 1 && s.axes[a].n <= SWEEP_MAX_VALUES);
        total *= s.axes[a].n;
    }
    FUZZ_CHECK(total <= SWEEP_MAX_PRODUCT);
    if (fuzz_inject())
        s.combo[0] = total;
    FUZZ_CHECK(s.n_points >= 1 && s.n_points <= total);
    for (int64_t q = 0; q < s.n_points; q++)
        FUZZ_CHECK(s.combo[q] >= 0 && s.combo[q] < total &&
                   (q == 0 || s.combo[q] > s.combo[q - 1]));
    int64_t p = 0;
    for (int64_t k = 0; k < total && k < FIRST; k++) {
        int point = p < s.n_points && s.combo[p] == k;
        FUZZ_CHECK(keeps(&s, k) == point);
        if (!point)
            continue;
        for (int a = 0; a < s.n_axes; a++)
            FUZZ_CHECK(sweep_value_of(&s, p, a) == sweep_combo_value(&s, k, a));
        struct config c;
        memset(&d, 0, sizeof d);
        if (sweep_config(&s, p, &c, &d))
            FUZZ_CHECK(d.msg[0]);
        else
            cfg_free(&c);
        p++;
    }
    sweep_free(&s);
    return 0;
}
