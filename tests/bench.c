/* bench.c - how fast the config loader, the planner and the training model are.
 *
 * usage: bench OUT.txt  (run from the repository root by `make bench`)
 * Prints each figure and writes the same lines to OUT.txt. Wall-clock times
 * are measurements, never test conditions. Training is measured on the MLP of
 * configs/fmnist-mlp4.yaml (784-256-128-64-10, batch 32) on synthetic data of
 * the same shape, one thread. The co-simulation is measured on the verify tests'
 * M = 4 ema network (tests/configs/trace-m4-ema.yaml), with and without the model
 * and the comparison. The datapath's figures (steady step per policy against the slowest
 * stage's MAC-bound, speedup over sequential) are the analytic model's for 64 minibatches
 * of configs/fmnist-mlp4.yaml and configs/balanced-mlp4.yaml, and the RTL's for the
 * latter, whose steady step must equal the model's (docs/cycle-model.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model/cycles.h"
#include "../model/plan.h"
#include "../model/train.h"
#include "../sim/cosim.h"
#include "../sim/replay.h"
#include "../sw/config/config.h"
#include "../sw/report/report.h"
#include "../sw/run/rtl_build.h"
#include "../sw/run/sim_run.h"
#include "../sw/run/trace.h"
#include "../sw/run/train_run.h"
#include "../sw/run/verify.h"
#include "../sw/sweep/sweep_db.h"
#include "../sw/sweep/sweep_run.h"

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
    struct diag e;
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

/* The pipeline RTL over n minibatches, with the golden model and the comparison
 * (bare = 0) or alone (bare = 1): best of 3 runs; pipeline steps and RTL cycles per
 * second. Returns 0, or -1 when it could not run. */
struct cosim_rate {
    double steps_per_s, cycles_per_s;
    int64_t steps, mismatches;
    uint64_t cycles;
};

static int cosim_rate(const char *cfg_path, int bare, int64_t n, struct cosim_rate *out)
{
    struct config c;
    struct diag d;
    struct dataset train;
    int32_t *order;
    struct fixed_spec q;
    struct train_opts o;
    struct diag e;
    char lib[1100];
    int rc = -1;
    if (cfg_load(&c, cfg_path, &d))
        return -1;
    if (train_minibatches(&c, n, &train, &order, &d)) {
        cfg_free(&c);
        return -1;
    }
    cfg_fixed_spec(&c, &q);
    train_fill_opts(&c, c.pipeline.policy, n, 1, &q, &o);
    struct cosim_setup s = {&c.net, c.pipeline.stage_of, c.pipeline.n_stages, &o, &q,
                            c.hardware.mac_rows, c.hardware.mac_cols, c.hardware.mac_pipeline,
                            &train, order, n, NULL, lib, bare, 0};
    memset(out, 0, sizeof *out);
    if (!rtl_build(&s, "top", lib, sizeof lib, stderr, &e))
        for (int rep = 0; rep < 3; rep++) {
            struct cosim *cs;
            struct cosim_result r;
            int step_rc = cosim_open(&cs, &s, &e);
            double t0 = now();
            while (!step_rc && (step_rc = cosim_step(cs, &e)) == 0)
                ;
            double t = now() - t0;
            if (step_rc == 1) {
                cosim_result(cs, &r);
                if (r.steps_done / t > out->steps_per_s) {
                    out->steps_per_s = (double)r.steps_done / t;
                    out->cycles_per_s = (double)r.cycles / t;
                }
                out->steps = r.steps_done, out->cycles = r.cycles;
                out->mismatches = r.mismatches;
                rc = 0;
            }
            cosim_close(cs);
        }
    free(order);
    data_free(&train);
    cfg_free(&c);
    return rc;
}

/* `layerpipe sim` of n minibatches with a model: simulated cycles (the pipelined and
 * the sequential run) per second of wall time. */
static double sim_cycles_rate(const char *cfg_path, enum sim_model model, int64_t n)
{
    struct config c;
    struct diag d;
    if (cfg_load(&c, cfg_path, &d))
        return 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    struct sim_request rq = {model, n, -1, 1};
    double t0 = now();
    int rc = mem ? sim_run(&c, &rq, mem, &d) : 1;
    double t = now() - t0;
    if (mem)
        fclose(mem);
    long long total = 0, seq = 0;
    const char *a = buf ? strstr(buf, "\"total_cycles\": ") : NULL;
    const char *b = buf ? strstr(buf, "\"sequential_total_cycles\": ") : NULL;
    if (!rc && a && b) {
        total = atoll(a + strlen("\"total_cycles\": "));
        seq = atoll(b + strlen("\"sequential_total_cycles\": "));
    }
    free(buf);
    cfg_free(&c);
    return rc ? 0 : (double)(total + seq) / t;
}

/* The datapath of a config under each policy (analytic model, n minibatches): the
 * steady step, the slowest stage's MAC-bound (tiles x beats) and the speedup over
 * sequential on the same hardware; and the balance limit, the stages' MAC-bounds summed
 * over the largest. Returns the failures. */
struct datapath {
    int64_t steady[PLAN_N_POLICIES], bound[PLAN_N_POLICIES];
    double speedup[PLAN_N_POLICIES], limit;
};

static int datapath_of(const char *cfg_path, int64_t n, struct datapath *dp)
{
    struct config c;
    struct diag d;
    memset(dp, 0, sizeof *dp);
    if (cfg_load(&c, cfg_path, &d))
        return 1;
    struct cyc_hw hw = {c.hardware.mac_rows, c.hardware.mac_cols, c.hardware.mac_pipeline};
    int64_t seq = 0, M = c.pipeline.n_stages;
    int bad = 0;
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        struct cyc_model cm;
        struct cyc_stage_step st[64];
        if (M > 64 || cyc_build(&cm, &c.net, c.pipeline.stage_of, (int)M, c.training.batch,
                                (enum plan_policy)k, &hw, NULL)) {
            bad++;
            continue;
        }
        int64_t total = cyc_total(&cm, n), s = k == PLAN_SEQUENTIAL ? 0 : 2 * M - 2;
        dp->steady[k] = cyc_step(&cm, n, s, st);
        int slow = 0;
        int64_t sum = 0, max = 0;
        for (int j = 0; j < M; j++) {
            slow = st[j].busy > st[slow].busy ? j : slow;
            sum += st[j].mac_bound;
            max = st[j].mac_bound > max ? st[j].mac_bound : max;
        }
        /* sequential: one stage at a time, so the step's bound is every stage's work */
        dp->bound[k] = k == PLAN_SEQUENTIAL ? sum : st[slow].mac_bound;
        if (k == PLAN_SEQUENTIAL)
            seq = total;
        else
            dp->limit = max ? (double)sum / (double)max : 0;
        dp->speedup[k] = total > 0 ? (double)seq / (double)total : 0;
        cyc_free(&cm);
    }
    cfg_free(&c);
    return bad;
}

static void print_datapath(FILE *f, const char *name, const struct datapath *dp)
{
    fprintf(f, "bench: datapath of %s, 64 minibatches (analytic model; MAC-bound: the "
            "slowest stage's tiles x beats, sequential: all stages')\n", name);
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        fprintf(f, "%-10s steady_step %8lld  mac_bound %8lld  step/mac_bound %6.3f  speedup "
                "%5.2f\n", plan_policy_name((enum plan_policy)k), (long long)dp->steady[k],
                (long long)dp->bound[k],
                dp->bound[k] ? (double)dp->steady[k] / (double)dp->bound[k] : 0, dp->speedup[k]);
    fprintf(f, "balance_limit %.3f  ema_speedup_over_limit %.3f  ema_step_over_stale %.4f "
            "stash_step_over_stale %.4f\n", dp->limit,
            dp->limit > 0 ? dp->speedup[PLAN_EMA] / dp->limit : 0,
            (double)dp->steady[PLAN_EMA] / (double)dp->steady[PLAN_STALE],
            (double)dp->steady[PLAN_STASH] / (double)dp->steady[PLAN_STALE]);
}

/* `layerpipe report` on the default config, all four policies, twice: from an empty
 * synthesis cache (every module synthesised, every design timed) and again from the one
 * the first run left (nothing run). Wall-clock seconds of each; nonzero on failure. */
static int report_times(const char *cache_dir, double *cold, double *warm, double *fmax)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-out'", cache_dir, cache_dir);
    if (system(cmd) || setenv("LAYERPIPE_SYN_CACHE", cache_dir, 1))
        return 1;
    struct config c;
    struct diag d;
    if (cfg_load(&c, "configs/fmnist-mlp4.yaml", &d)) {
        diag_print(&d, stderr);
        return 1;
    }
    char out_dir[1200];
    snprintf(out_dir, sizeof out_dir, "%s-out", cache_dir);
    struct report_request rq = {out_dir, NULL, -1};
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *sink = open_memstream(&buf, &len);
        double t0 = now();
        rc = sink ? report_run(&c, &rq, sink, &d) : 1;
        *(i ? warm : cold) = now() - t0;
        if (sink)
            fclose(sink);
        free(buf);
        if (rc)
            diag_print(&d, stderr);
    }
    struct report_area a;
    c.pipeline.policy = PLAN_EMA;
    if (!rc && !(rc = report_area(&c, &a, &d)))
        *fmax = a.fmax_mhz;
    cfg_free(&c);
    unsetenv("LAYERPIPE_SYN_CACHE");
    return rc;
}

/* The 10,000-point analytic sweep of configs/sweeps/fmnist-mlp4-arch.yaml on 2 workers,
 * from nothing: loading and checking the sweep, creating the database, every point, the
 * last commit. Points per second, or 0 on failure. */
static double sweep_rate(const char *out_dir, int64_t *points)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    if (system(cmd))
        return 0;
    struct sweep_request rq = {.mode = SWEEP_RUN, .sweep = "configs/sweeps/fmnist-mlp4-arch.yaml",
                               .dir = out_dir, .jobs = 2, .o = {SIM_ANALYTIC, 0, 0}};
    struct diag d;
    char *buf = NULL;
    size_t len = 0;
    FILE *sink = open_memstream(&buf, &len);
    double t0 = now();
    int rc = sink ? sweep_main(&rq, sink, &d) : 1;
    double t = now() - t0;
    if (sink)
        fclose(sink);
    if (rc)
        diag_print(&d, stderr);
    free(buf);
    /* Every point recorded, and ok. */
    struct sweep_db db;
    int64_t ok = 0, failed = 0;
    if (!rc && !(rc = sweep_db_open_existing(&db, out_dir, &d))) {
        rc = sweep_db_counts(&db, &ok, &failed, &d) || failed || ok != db.n_points;
        sweep_db_close(&db);
    }
    *points = ok;
    return rc ? 0 : (double)ok / t;
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
    /* The analytic model of ResNet-18: build it and total a run of 1000 minibatches. */
    double an_rate = 0;
    {
        struct cyc_hw hw = {c.hardware.mac_rows, c.hardware.mac_cols, c.hardware.mac_pipeline};
        RATE(an_rate, {
            struct cyc_model cm;
            failures += cyc_build(&cm, &c.net, c.pipeline.stage_of, c.pipeline.n_stages,
                                  c.training.batch, PLAN_EMA, &hw, NULL) != 0 ||
                        cyc_total(&cm, 1000) <= 0;
            cyc_free(&cm);
        });
    }
    const char *vcfg = "tests/configs/trace-m4-ema.yaml";
    double sc_rate = sim_cycles_rate(vcfg, SIM_SYSTEMC, 1000);
    double sc_rtl_rate = sim_cycles_rate(vcfg, SIM_SYSTEMC_RTL, 1000);
    failures += sc_rate <= 0 || sc_rtl_rate <= 0;
    struct cosim_rate co, bare;
    int64_t co_mb = 1000;
    failures += cosim_rate(vcfg, 0, co_mb, &co) != 0 || co.mismatches != 0;
    failures += cosim_rate(vcfg, 1, co_mb, &bare) != 0;

    struct datapath dp_mlp, dp_bal;
    failures += datapath_of("configs/fmnist-mlp4.yaml", 64, &dp_mlp);
    failures += datapath_of("configs/balanced-mlp4.yaml", 64, &dp_bal);
    /* The RTL at full size: balanced-mlp4 on its 16x16 arrays (the first run builds it). */
    const char *bcfg = "configs/balanced-mlp4.yaml";
    struct cosim_rate big;
    int64_t big_mb = 8;
    failures += cosim_rate(bcfg, 1, big_mb, &big) != 0;
    double big_sim = sim_cycles_rate(bcfg, SIM_RTL, big_mb);
    failures += big_sim <= 0;
    /* ... whose cycles must be the analytic model's */
    int64_t big_model = 0;
    {
        struct config bc;
        struct cyc_model cm;
        if (!cfg_load(&bc, bcfg, &d)) {
            struct cyc_hw hw = {bc.hardware.mac_rows, bc.hardware.mac_cols,
                                bc.hardware.mac_pipeline};
            if (!cyc_build(&cm, &bc.net, bc.pipeline.stage_of, bc.pipeline.n_stages,
                           bc.training.batch, bc.pipeline.policy, &hw, NULL)) {
                big_model = cyc_total(&cm, big_mb);
                cyc_free(&cm);
            }
            cfg_free(&bc);
        }
    }
    failures += big_model != (int64_t)big.cycles;

    char sweep_dir[1100];
    const char *slash = strrchr(argv[1], '/');
    snprintf(sweep_dir, sizeof sweep_dir, "%.*sbench-sweep", slash ? (int)(slash - argv[1] + 1) : 0,
             argv[1]);
    int64_t sw_points = 0;
    double sw_rate = sweep_rate(sweep_dir, &sw_points);
    failures += sw_rate <= 0;

    char syn_dir[1100];
    snprintf(syn_dir, sizeof syn_dir, "%.*sbench-syn", slash ? (int)(slash - argv[1] + 1) : 0,
             argv[1]);
    double rep_cold = 0, rep_warm = 0, rep_fmax = 0;
    failures += report_times(syn_dir, &rep_cold, &rep_warm, &rep_fmax) != 0;

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
        fprintf(both[i], "analytic_evals_per_s    %12.0f  (cycle model: build + 1000-minibatch "
                "total)\n", an_rate);
        fprintf(both[i], "analytic_eval_us        %12.3f\n", 1e6 / an_rate);
        fprintf(both[i], "bench: training the fmnist-mlp4 MLP, batch 32, one thread\n");
        fprintf(both[i], "train_float32_sequential_samples_per_s %8.0f\n", f_seq);
        fprintf(both[i], "train_float32_ema_samples_per_s        %8.0f  (4 stages)\n", f_ema);
        fprintf(both[i], "train_fixed_sequential_samples_per_s   %8.0f\n", q_seq);
        fprintf(both[i], "train_fixed_ema_samples_per_s          %8.0f  (4 stages)\n", q_ema);
        fprintf(both[i], "bench: block-level RTL replay of traces/m4-ema (%lld minibatches)\n",
                (long long)rp_mb);
        fprintf(both[i], "replay_minibatches_per_s               %8.0f\n", rp_rate * rp_mb);
        fprintf(both[i], "bench: pipeline RTL (rtl/lp_top.sv) on %s, %lld minibatches, "
                "%lld steps, %llu cycles\n", vcfg, (long long)co_mb, (long long)co.steps,
                (unsigned long long)co.cycles);
        fprintf(both[i], "cosim_steps_per_s                      %8.0f  (RTL + golden model, "
                "every value compared)\n", co.steps_per_s);
        fprintf(both[i], "cosim_cycles_per_s                     %8.0f\n", co.cycles_per_s);
        fprintf(both[i], "bare_rtl_steps_per_s                   %8.0f  (the same steps, RTL "
                "alone)\n", bare.steps_per_s);
        fprintf(both[i], "bare_rtl_cycles_per_s                  %8.0f\n", bare.cycles_per_s);
        fprintf(both[i], "systemc_cycles_per_s                   %8.0f  (behavioural stages, "
                "pipelined and sequential runs)\n", sc_rate);
        fprintf(both[i], "systemc_rtl_cycles_per_s               %8.0f  (the same with the "
                "Verilated RTL stages)\n", sc_rtl_rate);
        fprintf(both[i], "cosim_overhead_pct                     %8.1f  (aim: at most 20)\n",
                bare.steps_per_s > 0 && co.steps_per_s > 0
                    ? 100.0 * (bare.steps_per_s / co.steps_per_s - 1) : 0.0);
        fprintf(both[i], "replay_mac_cycles_per_s                %8.0f  (%lld MAC cycles each)\n",
                rp_rate * rp_cycles, (long long)rp_cycles);
        print_datapath(both[i], "configs/fmnist-mlp4.yaml", &dp_mlp);
        print_datapath(both[i], "configs/balanced-mlp4.yaml", &dp_bal);
        fprintf(both[i], "bench: pipeline RTL on %s (16x16 arrays), %lld minibatches, %lld "
                "steps, %llu cycles (the analytic model: %lld)\n", bcfg, (long long)big_mb,
                (long long)big.steps, (unsigned long long)big.cycles, (long long)big_model);
        fprintf(both[i], "big_rtl_cycles_per_s                   %8.0f  (the RTL alone)\n",
                big.cycles_per_s);
        fprintf(both[i], "big_rtl_sim_cycles_per_s               %8.0f  (layerpipe sim --model "
                "rtl: the pipelined and the sequential run)\n", big_sim);
        fprintf(both[i], "bench: layerpipe sweep configs/sweeps/fmnist-mlp4-arch.yaml, %lld "
                "points, analytic, 2 workers, into %s\n", (long long)sw_points, sweep_dir);
        fprintf(both[i], "sweep_points_per_s                     %8.0f  (aim: at least 1000; "
                "file to database, every point committed)\n", sw_rate);
        fprintf(both[i], "bench: layerpipe report configs/fmnist-mlp4.yaml, 4 policies, "
                "synthesis cache %s (ema's fmax %.2f MHz)\n", syn_dir, rep_fmax);
        fprintf(both[i], "report_cold_s                          %8.1f  (aim: under 900; an "
                "empty cache)\n", rep_cold);
        fprintf(both[i], "report_warm_s                          %8.1f  (aim: under 60; the "
                "cache the cold run left)\n", rep_warm);
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
