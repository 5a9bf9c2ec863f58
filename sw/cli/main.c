/* main.c - the layerpipe command line.
 *
 * Exit status: 0 success; 2 bad input (usage, config, dataset, trace), with
 * "file:line:column: message" on stderr; 1 anything else (I/O, memory).
 * Output goes to stdout only once it is complete.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../model/plan.h"
#include "../../sim/replay.h"
#include "../config/config.h"
#include "../report/report.h"
#include "../report/report_plan.h"
#include "../run/trace.h"
#include "../run/train_run.h"
#include "../run/sim_run.h"
#include "../sweep/sweep_run.h"
#include "../run/verify.h"

#define EXIT_BAD_INPUT 2

#ifndef LAYERPIPE_VERSION
#define LAYERPIPE_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: layerpipe COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  plan CONFIG [--json] [--schedule K]\n"
    "                    stages, delays, weight-history and activation memory per layer;\n"
    "                    with --schedule, what each stage does in steps 0..K-1\n"
    "  train CONFIG [--policy P|all] [--epochs N] [--out DIR]\n"
    "                    train on the config's dataset under one weight-history policy\n"
    "                    (sequential, stale, stash, ema; default: the config's) or all of\n"
    "                    them from the same start; with --out, write metrics.csv,\n"
    "                    summary.json and the weights as .npy under DIR\n"
    "  tracegen CONFIG --out DIR [--steps N]\n"
    "                    write a golden vector set: N minibatches (default 8) of the\n"
    "                    fixed-point model, every value the RTL must reproduce\n"
    "  trace DIR         check a vector set and summarise it\n"
    "  replay DIR [--inject-fault]\n"
    "                    run a vector set through the Verilated RTL blocks without the C\n"
    "                    model and compare every value; exit 0 only with no mismatch\n"
    "  verify CONFIG [--steps N] [--policy P] [--trace FILE.vcd|FILE.fst] [--inject-fault]\n"
    "                    train N minibatches (default 8) of a fixed-point dense network on\n"
    "                    the Verilated pipeline RTL and the golden model in lockstep,\n"
    "                    compare every value; print cycles per step per stage and the\n"
    "                    words the RTL's memories hold against the planner's\n"
    "  sim CONFIG [--model analytic|systemc|systemc-rtl|rtl] [--steps N] [--policy P]\n"
    "      [--json]\n"
    "                    cycles of N minibatches (default 8) through the pipeline, fill and\n"
    "                    drain included, per step and stage; speedup over sequential on\n"
    "                    the same hardware and why; memory per policy\n"
    "  report CONFIG --out DIR [--policy P] [--runs DIR]\n"
    "                    area (Yosys, OSU 0.18 um cells, SRAM table), timing (OpenSTA),\n"
    "                    cycles, latency, memory and accuracy of the hardware under every\n"
    "                    policy: report.md, layers.csv, summary.json and plots in DIR\n"
    "  sweep SWEEP.yaml --out DIR [--jobs N] [--model M] [--train] [--area]\n"
    "      [--retry-failed]\n"
    "                    every point of a design-space sweep (a base config and axes) in N\n"
    "                    worker processes into DIR/sweep.db (SQLite); run it again to resume;\n"
    "                    --train adds accuracy, --area synthesis (as report does)\n"
    "  sweep SWEEP.yaml --out DIR --emit slurm|parallel [same options]\n"
    "                    the pending points as a Slurm job array (DIR/sweep.sbatch) or a GNU\n"
    "                    parallel job list (DIR/jobs.txt); each job writes DIR/results/N.json\n"
    "  sweep SWEEP.yaml --out DIR --point N [same options]\n"
    "                    one point into DIR/results/N.json (what each job runs)\n"
    "  sweep --merge DIR load DIR/results/*.json into DIR/sweep.db\n"
    "  sweep --pareto DIR [--objectives a,b,...]\n"
    "                    the Pareto front (default: area when there is one, cycles, memory,\n"
    "                    accuracy when trained) as DIR/pareto.csv and DIR/pareto.png/.svg\n"
    "  config CONFIG     print the effective config: every default filled in\n"
    "  version           print the version\n"
    "  help              print this text\n"
    "\n"
    "exit status: 0 ok, 2 bad input (file:line:column: message on stderr), 1 other errors\n"
    "(for replay and verify: 1 when the RTL disagrees)\n";

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("layerpipe: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(run 'layerpipe help' for usage)\n", stderr);
    return EXIT_BAD_INPUT;
}

/* Run fn into memory, then copy the result to stdout in one go, so a failure
 * part way leaves stdout empty rather than half-written. */
static int output(int (*fn)(FILE *out, const void *ctx), const void *ctx)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int rc = !mem || fn(mem, ctx);
    if ((mem && fclose(mem)) || rc) {
        free(buf);
        fputs("layerpipe: out of memory\n", stderr);
        return 1;
    }
    rc = fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0;
    free(buf);
    if (rc) {
        perror("layerpipe: writing output");
        return 1;
    }
    return 0;
}

static int load(struct config *c, const char *path)
{
    struct diag d;
    if (cfg_load(c, path, &d) == 0)
        return 0;
    diag_print(&d, stderr);
    return EXIT_BAD_INPUT;
}

static int parse_count(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 1 || v > 1000000)
        return -1;
    *out = v;
    return 0;
}

/* The policy named name, or -1. */
static int parse_policy(const char *name)
{
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (strcmp(name, plan_policy_name((enum plan_policy)k)) == 0)
            return k;
    return -1;
}

/* A report written by fn (verify_run, sim_run): into memory first, then to stdout, so
 * a failure part way leaves stdout empty. A run that fails after writing its report
 * (a mismatch) shows the report; one that fails before shows its diagnostic. */
typedef int (*report_fn)(const struct config *c, const void *rq, FILE *out, struct diag *d);

static int report_to_stdout(const char *path, report_fn fn, const void *rq)
{
    struct config c;
    int rc = load(&c, path);
    if (rc)
        return rc;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    struct diag d;
    rc = mem ? fn(&c, rq, mem, &d) : 1;
    if (mem && fclose(mem))
        rc = 1;
    if (!mem)
        fputs("layerpipe: out of memory\n", stderr);
    else if (rc == 2 || (rc && len == 0))
        diag_print(&d, stderr);
    else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
        perror("layerpipe: writing output");
        rc = 1;
    }
    free(buf);
    cfg_free(&c);
    return rc;
}

static int verify_report(const struct config *c, const void *rq, FILE *out, struct diag *d)
{
    return verify_run(c, rq, out, d);
}

static int sim_report(const struct config *c, const void *rq, FILE *out, struct diag *d)
{
    return sim_run(c, rq, out, d);
}

struct plan_output {
    const struct config *c;
    const struct plan *p;
    int json;
    int64_t steps;
};

static int write_plan(FILE *out, const void *ctx)
{
    const struct plan_output *o = ctx;
    return o->json ? report_plan_json(out, o->c, o->p, o->steps)
                   : report_plan_text(out, o->c, o->p, o->steps);
}

static int cmd_plan(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    int64_t steps = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--schedule") == 0) {
            if (i + 1 >= argc || parse_count(argv[++i], &steps))
                return bad_usage("--schedule needs a step count from 1 to 1000000");
        } else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("plan: unknown option %s", argv[i]);
        else if (path)
            return bad_usage("plan: more than one config (%s)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return bad_usage("plan: which config?");

    struct config c;
    struct plan p;
    struct lp_err e;
    int rc = load(&c, path);
    if (rc)
        return rc;
    if (plan_build(&p, &c.net, c.pipeline.stage_of, c.pipeline.n_stages, c.training.batch, &e)) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        cfg_free(&c);
        return 1;
    }
    struct plan_output o = {&c, &p, json, steps};
    rc = output(write_plan, &o);
    plan_free(&p);
    cfg_free(&c);
    return rc;
}

static int cmd_train(int argc, char **argv)
{
    struct train_request rq = {.progress = isatty(STDERR_FILENO)};
    const char *path = NULL, *policy = NULL;
    int64_t epochs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
            policy = argv[++i];
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &epochs))
                return bad_usage("--epochs needs a count from 1 to 1000000, not \"%s\"",
                                 argv[i]);
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            rq.out_dir = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("train: unknown option or missing value: %s", argv[i]);
        else if (path)
            return bad_usage("train: more than one config (%s)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return bad_usage("train: which config?");
    rq.epochs = (int)epochs;
    struct config c;
    int rc = load(&c, path);
    if (rc)
        return rc;
    rq.policy = c.pipeline.policy;
    if (policy && strcmp(policy, "all") == 0) {
        rq.all_policies = 1;
    } else if (policy) {
        int found = parse_policy(policy);
        if (found < 0) {
            cfg_free(&c);
            return bad_usage("--policy must be sequential, stale, stash, ema or all, not "
                             "\"%s\"", policy);
        }
        rq.policy = (enum plan_policy)found;
    }
    struct diag d;
    rc = train_run(&c, &rq, stdout, &d);
    if (rc)
        diag_print(&d, stderr);
    cfg_free(&c);
    return rc;
}

static int cmd_tracegen(int argc, char **argv)
{
    const char *path = NULL, *out = NULL;
    int64_t steps = 8;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &steps))
                return bad_usage("--steps needs a count from 1 to 1000000, not \"%s\"",
                                 argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("tracegen: unknown option or missing value: %s", argv[i]);
        else if (path)
            return bad_usage("tracegen: more than one config (%s)", argv[i]);
        else
            path = argv[i];
    }
    if (!path || !out)
        return bad_usage("tracegen needs a CONFIG and --out DIR");
    struct config c;
    struct diag d;
    int rc = load(&c, path);
    if (rc)
        return rc;
    rc = trace_generate(&c, steps, out, &d);
    if (rc)
        diag_print(&d, stderr);
    else
        printf("wrote %s/ (%lld minibatches of %s)\n", out, (long long)steps, c.name);
    cfg_free(&c);
    return rc;
}

static int cmd_trace(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return bad_usage("trace takes one vector-set directory");
    struct trace tr;
    struct diag d;
    if (trace_load(&tr, argv[0], &d)) {
        diag_print(&d, stderr);
        return EXIT_BAD_INPUT;
    }
    int64_t words[TRAIN_N_PROBES] = {0}, records[TRAIN_N_PROBES] = {0};
    for (int64_t i = 0; i < tr.n_records; i++) {
        records[tr.records[i].kind]++;
        words[tr.records[i].kind] += tr.records[i].count;
    }
    printf("vector set %s: %s (config hash %016llx), policy %s, %d stages, %lld minibatches, "
           "%lld records\n", argv[0], tr.config.name, (unsigned long long)tr.config.hash,
           plan_policy_name(tr.config.pipeline.policy), tr.config.pipeline.n_stages,
           (long long)tr.minibatches, (long long)tr.n_records);
    for (int k = 0; k < TRAIN_N_PROBES; k++)
        if (records[k])
            printf("  %-12s %6lld records %10lld words\n", trace_kind_name((enum train_probe)k),
                   (long long)records[k], (long long)words[k]);
    trace_free(&tr);
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    const char *dir = NULL;
    int fault = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--inject-fault") == 0)
            fault = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("replay: unknown option %s", argv[i]);
        else if (dir)
            return bad_usage("replay: more than one set (%s)", argv[i]);
        else
            dir = argv[i];
    }
    if (!dir)
        return bad_usage("replay: which vector set?");
    struct trace tr;
    struct diag d;
    if (trace_load(&tr, dir, &d)) {
        diag_print(&d, stderr);
        return EXIT_BAD_INPUT;
    }
    const struct config *c = &tr.config;
    struct replay_record *recs = calloc((size_t)tr.n_records + 1, sizeof *recs);
    int32_t corrupt = 0;
    struct fixed_spec q;
    struct train_opts o;
    struct replay_result res;
    struct lp_err e;
    int rc = recs ? 0 : 1;
    for (int64_t i = 0; recs && i < tr.n_records; i++) {
        const struct trace_record *t = &tr.records[i];
        recs[i] = (struct replay_record){t->kind, t->layer, t->minibatch, t->count, t->words};
        if (fault && !corrupt && t->kind == TRAIN_PROBE_ACTIVATION) {
            corrupt = t->words[0] ^ 1;   /* one expected word off by one bit */
            recs[i].words = &corrupt;
            recs[i].count = 1;
        }
    }
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, c->pipeline.policy, tr.minibatches, 1, &q, &o);
    struct replay_setup s = {&c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, &q,
                             tr.minibatches};
    if (!rc && replay_run(&s, recs, tr.n_records, &res, &e)) {
        fprintf(stderr, "%s: %s\n", dir, e.msg);
        rc = 1;
    }
    if (!rc) {
        printf("replay %s: %s, policy %s, %lld minibatches: %lld records, %lld words "
               "compared, %lld mismatches; %lld MAC tiles in %lld cycles\n", dir, c->name,
               plan_policy_name(c->pipeline.policy), (long long)tr.minibatches,
               (long long)res.records, (long long)res.compared, (long long)res.mismatches,
               (long long)res.mac_tiles, (long long)res.mac_cycles);
        if (res.mismatches) {
            const struct replay_mismatch *m = &res.first;
            printf("first mismatch: step %lld, stage %d, layer %s, %s of minibatch %lld, "
                   "index %lld: expected %d, RTL %d\n", (long long)m->step, m->stage,
                   m->layer >= 0 ? c->net.layers[m->layer].name : "input",
                   trace_kind_name(m->kind), (long long)m->minibatch, (long long)m->index,
                   m->expected, m->actual);
            rc = 1;
        }
    }
    free(recs);
    trace_free(&tr);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    const char *path = NULL;
    struct verify_request rq = {8, -1, NULL, 0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &rq.minibatches))
                return bad_usage("--steps needs a count from 1 to 1000000, not \"%s\"",
                                 argv[i]);
        } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            if ((rq.policy = parse_policy(argv[++i])) < 0)
                return bad_usage("--policy must be sequential, stale, stash or ema, not \"%s\"",
                                 argv[i]);
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            rq.trace = argv[++i];
            size_t n = strlen(rq.trace);
            if (n < 5 || (strcmp(rq.trace + n - 4, ".vcd") && strcmp(rq.trace + n - 4, ".fst")))
                return bad_usage("--trace needs a file ending in .vcd or .fst, not \"%s\"",
                                 rq.trace);
        } else if (strcmp(argv[i], "--inject-fault") == 0)
            rq.inject_fault = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("verify: unknown option or missing value: %s", argv[i]);
        else if (path)
            return bad_usage("verify: more than one config (%s)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return bad_usage("verify needs a CONFIG");
    return report_to_stdout(path, verify_report, &rq);
}

static int report_report(const struct config *c, const void *rq, FILE *out, struct diag *d)
{
    return report_run(c, rq, out, d);
}

static int cmd_report(int argc, char **argv)
{
    const char *path = NULL;
    struct report_request rq = {NULL, NULL, -1};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            rq.out_dir = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            rq.runs = argv[++i];
        else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            if (strcmp(argv[++i], "all") != 0 && (rq.policy = parse_policy(argv[i])) < 0)
                return bad_usage("--policy must be sequential, stale, stash, ema or all, not "
                                 "\"%s\"", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("report: unknown option or missing value: %s", argv[i]);
        else if (path)
            return bad_usage("report: more than one config (%s)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return bad_usage("report needs a CONFIG");
    if (!rq.out_dir)
        return bad_usage("report needs --out DIR");
    return report_to_stdout(path, report_report, &rq);
}

static int cmd_sim(int argc, char **argv)
{
    const char *path = NULL;
    struct sim_request rq = {SIM_ANALYTIC, 8, -1, 0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &rq.minibatches))
                return bad_usage("--steps needs a count from 1 to 1000000, not \"%s\"",
                                 argv[i]);
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            const char *name = argv[++i];
            int found = -1;
            for (int k = 0; k < SIM_N_MODELS; k++)
                if (strcmp(name, sim_model_name((enum sim_model)k)) == 0)
                    found = k;
            if (found < 0)
                return bad_usage("--model must be analytic, systemc, systemc-rtl or rtl, not "
                                 "\"%s\"", name);
            rq.model = (enum sim_model)found;
        } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            if ((rq.policy = parse_policy(argv[++i])) < 0)
                return bad_usage("--policy must be sequential, stale, stash or ema, not \"%s\"",
                                 argv[i]);
        } else if (strcmp(argv[i], "--json") == 0)
            rq.json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return bad_usage("sim: unknown option or missing value: %s", argv[i]);
        else if (path)
            return bad_usage("sim: more than one config (%s)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return bad_usage("sim needs a CONFIG");
    return report_to_stdout(path, sim_report, &rq);
}

static int parse_model(const char *name)
{
    for (int k = 0; k < SIM_N_MODELS; k++)
        if (strcmp(name, sim_model_name((enum sim_model)k)) == 0)
            return k;
    return -1;
}

static int cmd_sweep(int argc, char **argv)
{
    struct sweep_request rq = {.mode = SWEEP_RUN, .jobs = 0, .point = -1,
                               .progress = isatty(STDERR_FILENO)};
    int64_t n;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--out") && v)
            rq.dir = argv[++i];
        else if (!strcmp(a, "--jobs") && v) {
            if (parse_count(argv[++i], &n) || n > 256)
                return bad_usage("--jobs needs a count from 1 to 256, not \"%s\"", v);
            rq.jobs = (int)n;
        } else if (!strcmp(a, "--model") && v) {
            int m = parse_model(argv[++i]);
            if (m < 0)
                return bad_usage("--model must be analytic, systemc, systemc-rtl or rtl, not "
                                 "\"%s\"", v);
            rq.o.model = (enum sim_model)m;
        } else if (!strcmp(a, "--train"))
            rq.o.train = 1;
        else if (!strcmp(a, "--area"))
            rq.o.area = 1;
        else if (!strcmp(a, "--retry-failed"))
            rq.retry_failed = 1;
        else if (!strcmp(a, "--emit") && v) {
            i++;
            if (!strcmp(v, "slurm"))
                rq.mode = SWEEP_EMIT_SLURM;
            else if (!strcmp(v, "parallel"))
                rq.mode = SWEEP_EMIT_PARALLEL;
            else
                return bad_usage("--emit must be slurm or parallel, not \"%s\"", v);
        } else if (!strcmp(a, "--point") && v) {
            char *end;
            long long p = strtoll(argv[++i], &end, 10);
            if (!*v || *end || p < 0)
                return bad_usage("--point needs a point number, not \"%s\"", v);
            rq.mode = SWEEP_POINT, rq.point = p;
        } else if ((!strcmp(a, "--merge") || !strcmp(a, "--pareto")) && v) {
            rq.mode = a[2] == 'm' ? SWEEP_MERGE : SWEEP_PARETO;
            rq.dir = argv[++i];
        } else if (!strcmp(a, "--objectives") && v)
            rq.objectives = argv[++i];
        else if (a[0] == '-' && a[1])
            return bad_usage("sweep: unknown option or missing value: %s", a);
        else if (rq.sweep)
            return bad_usage("sweep: more than one sweep file (%s)", a);
        else
            rq.sweep = a;
    }
    int by_dir = rq.mode == SWEEP_MERGE || rq.mode == SWEEP_PARETO;
    if (by_dir && rq.sweep)
        return bad_usage("sweep --merge/--pareto DIR take no sweep file");
    if (!by_dir && (!rq.sweep || !rq.dir))
        return bad_usage("sweep needs a SWEEP.yaml and --out DIR");
    if (rq.objectives && rq.mode != SWEEP_PARETO)
        return bad_usage("--objectives goes with --pareto DIR");
    if (!rq.jobs) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        rq.jobs = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
    }
    struct diag d = {0};
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fputs("layerpipe: out of memory\n", stderr);
        return 1;
    }
    int rc = sweep_main(&rq, mem, &d);
    fclose(mem);
    /* An interrupted run still says what it did and how to go on. */
    if (rc && rc != 130)
        diag_print(&d, stderr);
    else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
        perror("layerpipe: writing output");
        rc = 1;
    }
    free(buf);
    return rc;
}

static int write_config(FILE *out, const void *ctx)
{
    return cfg_write(ctx, out, 1);
}

static int cmd_config(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return bad_usage("config takes one CONFIG");
    struct config c;
    int rc = load(&c, argv[0]);
    if (rc)
        return rc;
    rc = output(write_config, &c);
    cfg_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return bad_usage("no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "plan") == 0)
        return cmd_plan(argc - 2, argv + 2);
    if (strcmp(cmd, "train") == 0)
        return cmd_train(argc - 2, argv + 2);
    if (strcmp(cmd, "tracegen") == 0)
        return cmd_tracegen(argc - 2, argv + 2);
    if (strcmp(cmd, "trace") == 0)
        return cmd_trace(argc - 2, argv + 2);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 2, argv + 2);
    if (strcmp(cmd, "sim") == 0)
        return cmd_sim(argc - 2, argv + 2);
    if (strcmp(cmd, "config") == 0)
        return cmd_config(argc - 2, argv + 2);
    if (strcmp(cmd, "sweep") == 0)
        return cmd_sweep(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("layerpipe %s\n", LAYERPIPE_VERSION);
        return 0;
    }
    return bad_usage("unknown command \"%s\"", cmd);
}
