/* bench.c - how fast the config loader, the planner and the training model are.
 *
 * usage: bench OUT.txt  (run from the repository root by `make bench`)
 * Prints each figure and writes the same lines to OUT.txt. Wall-clock times
 * are measurements, never test conditions. Training is measured on the MLP of
 * configs/fmnist-mlp4.yaml (784-256-128-64-10, batch 32) on synthetic data of
 * the same shape, one thread. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../model/plan.h"
#include "../model/train.h"
#include "../sim/replay.h"
#include "../sw/trace.h"
#include "../sw/train_run.h"
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

/* Training samples per second of the MLP under a policy, float or fixed. */
static double train_rate(const struct config *mlp, enum plan_policy pol, int fixed)
{
    struct dataset d;
    struct trainer *t;
    struct train_stats st;
    struct fixed_spec q;
    int B = mlp->training.batch;
    int64_t n_mb = fixed ? 64 : 256;
    cfg_fixed_spec(mlp, &q);
    struct train_opts o = {.policy = pol, .ema_beta_auto = 1, .batch = B, .lr = 0.01,
                           .momentum = 0.5, .minibatches_per_epoch = n_mb, .seed = 1,
                           .fixed = fixed ? &q : NULL};
    if (data_synthetic(&d, (int)n_mb * B, 784, 10, 1, 2, 1.0f) ||
        trainer_create(&t, &mlp->net, mlp->pipeline.stage_of, mlp->pipeline.n_stages, &o, NULL))
        return 0;
    int32_t *order = malloc(sizeof *order * (size_t)d.n);
    for (int i = 0; order && i < d.n; i++)
        order[i] = i;
    double best = 0;
    for (int rep = 0; order && rep < 3; rep++) {   /* best of 3 epochs */
        double t0 = now();
        trainer_epoch(t, &d, order, n_mb, rep * n_mb, &st);
        double rate = (double)(n_mb * B) / (now() - t0);
        best = rate > best ? rate : best;
    }
    free(order);
    trainer_destroy(t);
    data_free(&d);
    return best;
}

/* Replays of a vector set through the RTL blocks per second; *cycles: MAC cycles each. */
static double replay_rate(const char *dir, int64_t *cycles, int64_t *minibatches)
{
    struct trace tr;
    struct diag d;
    struct fixed_spec q;
    struct train_opts o;
    struct replay_result res;
    struct lp_err e;
    double rate = 0;
    if (trace_load(&tr, dir, &d))
        return 0;
    struct replay_record *recs = calloc((size_t)tr.n_records, sizeof *recs);
    for (int64_t i = 0; recs && i < tr.n_records; i++) {
        const struct trace_record *t = &tr.records[i];
        recs[i] = (struct replay_record){t->kind, t->layer, t->minibatch, t->count, t->words};
    }
    cfg_fixed_spec(&tr.config, &q);
    train_fill_opts(&tr.config, tr.config.pipeline.policy, tr.minibatches, 1, &q, &o);
    struct replay_setup s = {&tr.config.net, tr.config.pipeline.stage_of,
                             tr.config.pipeline.n_stages, &o, &q, tr.minibatches};
    if (recs)
        RATE(rate, if (replay_run(&s, recs, tr.n_records, &res, &e)) break);
    *cycles = res.mac_cycles;
    *minibatches = tr.minibatches;
    free(recs);
    trace_free(&tr);
    return rate;
}

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
        fputs("usage: bench OUT.txt\n", stderr);
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

    struct config mlp;
    if (cfg_load(&mlp, "configs/fmnist-mlp4.yaml", &d)) {
        diag_print(&d, stderr);
        cfg_free(&c);
        return 2;
    }
    double f_seq = train_rate(&mlp, PLAN_SEQUENTIAL, 0), f_ema = train_rate(&mlp, PLAN_EMA, 0);
    double q_seq = train_rate(&mlp, PLAN_SEQUENTIAL, 1), q_ema = train_rate(&mlp, PLAN_EMA, 1);
    int64_t rp_cycles = 0, rp_mb = 0;
    double rp_rate = replay_rate("traces/m4-ema", &rp_cycles, &rp_mb);
    cfg_free(&mlp);

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
        fprintf(both[i], "bench: training the fmnist-mlp4 MLP, batch 32, one thread\n");
        fprintf(both[i], "train_float32_sequential_samples_per_s %8.0f\n", f_seq);
        fprintf(both[i], "train_float32_ema_samples_per_s        %8.0f  (4 stages)\n", f_ema);
        fprintf(both[i], "train_fixed_sequential_samples_per_s   %8.0f\n", q_seq);
        fprintf(both[i], "train_fixed_ema_samples_per_s          %8.0f  (4 stages)\n", q_ema);
        fprintf(both[i], "bench: block-level RTL replay of traces/m4-ema (%lld minibatches)\n",
                (long long)rp_mb);
        fprintf(both[i], "replay_minibatches_per_s               %8.0f\n", rp_rate * rp_mb);
        fprintf(both[i], "replay_mac_cycles_per_s                %8.0f  (%lld MAC cycles each)\n",
                rp_rate * rp_cycles, (long long)rp_cycles);
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
