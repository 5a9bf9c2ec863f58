/* bench_plan.c - how fast the config loader and the planner are.
 *
 * usage: bench_plan OUT.txt  (run from the repository root by `make bench`)
 * Prints each figure and writes the same lines to OUT.txt. Wall-clock times
 * are measurements, never test conditions. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../model/plan.h"
#include "../sw/config.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Repeat fn until at least 0.5 s has passed; return calls per second. */
#define RATE(result, body)                                                  \
    do {                                                                    \
        long calls_ = 0;                                                    \
        double t0_ = now(), t_;                                             \
        do {                                                                \
            for (int i_ = 0; i_ < 16; i_++, calls_++) { body; }             \
        } while ((t_ = now() - t0_) < 0.5);                                 \
        (result) = (double)calls_ / t_;                                     \
    } while (0)

int main(int argc, char **argv)
{
    const char *cfg_path = "configs/resnet18.yaml";
    struct config c;
    struct diag d;
    struct plan p;
    double load_rate, plan_rate, balance_rate;
    int stage_of[4096];
    int failures = 0;

    if (argc != 2) {
        fputs("usage: bench_plan OUT.txt\n", stderr);
        return 2;
    }
    if (cfg_load(&c, cfg_path, &d)) {
        diag_print(&d, stderr);
        return 2;
    }
    RATE(load_rate, {
        struct config c2;
        failures += cfg_load(&c2, cfg_path, &d) != 0;
        cfg_free(&c2);
    });
    RATE(plan_rate, {
        failures += plan_build(&p, &c.net, c.pipeline.stage_of, c.pipeline.n_stages,
                               c.training.batch, NULL) != 0;
        plan_free(&p);
    });
    RATE(balance_rate, failures += plan_balance(&c.net, 4, stage_of, NULL) != 0);

    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        cfg_free(&c);
        return 1;
    }
    FILE *both[2] = {stdout, out};
    for (int i = 0; i < 2; i++) {
        fprintf(both[i], "bench: planner on %s (%d layers, %d stages)\n", cfg_path,
                c.net.n_layers, c.pipeline.n_stages);
        fprintf(both[i], "config_loads_per_s      %12.0f  (YAML parse, checks, shapes, hash)\n",
                load_rate);
        fprintf(both[i], "plans_per_s             %12.0f  (plan_build: delays, edges, memory)\n",
                plan_rate);
        fprintf(both[i], "balanced_4_per_s        %12.0f  (plan_balance into 4 stages)\n",
                balance_rate);
        fprintf(both[i], "plan_build_us           %12.3f\n", 1e6 / plan_rate);
    }
    int rc = fclose(out) ? 1 : 0;
    cfg_free(&c);
    if (failures) {
        fprintf(stderr, "bench: %d calls failed\n", failures);
        return 1;
    }
    printf("written to %s\n", argv[1]);
    return rc;
}
