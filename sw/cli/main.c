/* main.c - the layerpipe command line.
 *
 * Exit status: 0 success; 2 bad input (usage, config, dataset, trace, sweep database)
 * or an output that cannot be written (a full disk, a file-size limit), with
 * "file:line:column: message" or "file: cannot write: reason" on stderr; 1 anything
 * else (memory, a bug). Output goes to stdout only once it is complete; output files
 * appear whole or keep what they held (sw/base/outfile.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../model/plan.h"
#include "../../sim/replay.h"
#include "../base/outfile.h"
#include "../config/config.h"
#include "../report/report.h"
#include "../report/report_plan.h"
#include "../run/sim_run.h"
#include "../run/trace.h"
#include "../run/train_run.h"
#include "../run/verify.h"
#include "../sweep/sweep_run.h"

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
    "exit status: 0 ok, 2 bad input or an output that cannot be written (file:line:column:\n"
    "message on stderr), 1 other errors\n"
    "(for replay and verify: 1 when the RTL disagrees)\n";

/* stdout could not take the output: status 2, as for any output file. */
static int stdout_failed(void)
{
    fprintf(stderr, "layerpipe: standard output: cannot write: %s\n", strerror(errno));
    return EXIT_BAD_INPUT;
}

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
    return rc ? stdout_failed() : 0;
}

static int load(struct config *c, const char *path)
{
    struct diag d;
    if (cfg_load(c, path, &d) == 0)
        return 0;
    diag_print(&d, stderr);
    return EXIT_BAD_INPUT;
}

/* ---- the arguments: one table of options, parsed by getopt_long ---- */

enum opt {
    /* from 2: getopt_long returns 1 for an operand */
    O_JSON = 2, O_SCHEDULE, O_POLICY, O_EPOCHS, O_OUT, O_STEPS, O_INJECT_FAULT, O_TRACE,
    O_RUNS, O_MODEL, O_JOBS, O_TRAIN, O_AREA, O_RETRY_FAILED, O_EMIT, O_POINT, O_MERGE,
    O_PARETO, O_OBJECTIVES, O_N
};

/* In enum opt's order: options[o - O_JSON] is option o. */
static const struct option options[] = {
    {"json", no_argument, NULL, O_JSON},
    {"schedule", required_argument, NULL, O_SCHEDULE},
    {"policy", required_argument, NULL, O_POLICY},
    {"epochs", required_argument, NULL, O_EPOCHS},
    {"out", required_argument, NULL, O_OUT},
    {"steps", required_argument, NULL, O_STEPS},
    {"inject-fault", no_argument, NULL, O_INJECT_FAULT},
    {"trace", required_argument, NULL, O_TRACE},
    {"runs", required_argument, NULL, O_RUNS},
    {"model", required_argument, NULL, O_MODEL},
    {"jobs", required_argument, NULL, O_JOBS},
    {"train", no_argument, NULL, O_TRAIN},
    {"area", no_argument, NULL, O_AREA},
    {"retry-failed", no_argument, NULL, O_RETRY_FAILED},
    {"emit", required_argument, NULL, O_EMIT},
    {"point", required_argument, NULL, O_POINT},
    {"merge", required_argument, NULL, O_MERGE},
    {"pareto", required_argument, NULL, O_PARETO},
    {"objectives", required_argument, NULL, O_OBJECTIVES},
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

#define BIT(o) (1u << (o))
#define POLICY_ALL PLAN_N_POLICIES   /* --policy all */

/* What the options and operands of one command line say. */
struct args {
    const char *pos[2];
    int n_pos;
    int json, inject_fault, train, area, retry_failed;
    int64_t schedule, epochs, steps, jobs, point;
    int policy, model, emit;           /* -1: not given */
    const char *out, *trace, *runs, *merge, *pareto, *objectives;
};

/* The commands: what each accepts. */
struct command {
    const char *name;
    int (*run)(const struct args *a);
    unsigned opts;        /* BIT(enum opt) of each option it takes */
    int min_pos, max_pos; /* operands */
    const char *what;     /* what an operand is */
    int policy_all;       /* --policy all is accepted */
};

static const char *policy_name(int k)
{
    return k == POLICY_ALL ? "all" : plan_policy_name((enum plan_policy)k);
}

static const char *model_name(int k)
{
    return sim_model_name((enum sim_model)k);
}

static const char *emit_name(int k)
{
    return k ? "parallel" : "slurm";
}

/* v as one of name(0 .. n-1): its index, or -1 after saying what it may be. */
static int parse_choice(const char *opt, const char *v, const char *(*name)(int), int n)
{
    char list[256];
    int len = 0;
    for (int k = 0; k < n; k++) {
        if (!strcmp(v, name(k)))
            return k;
        len += snprintf(list + len, sizeof list - (size_t)len, "%s%s",
                        k == 0 ? "" : k == n - 1 ? " or " : ", ", name(k));
    }
    bad_usage("--%s must be %s, not \"%s\"", opt, list, v);
    return -1;
}

/* A whole number from lo to hi, or -1 after saying so. */
static int parse_count(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        bad_usage("--%s needs a count from %lld to %lld, not \"%s\"", opt, (long long)lo,
                  (long long)hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

/* One option's value into a. Returns 0, or -1 after saying what is wrong. */
static int set_option(const struct command *cmd, int o, const char *v, struct args *a)
{
    const char *name = options[o - O_JSON].name;
    switch ((enum opt)o) {
    case O_JSON: a->json = 1; return 0;
    case O_INJECT_FAULT: a->inject_fault = 1; return 0;
    case O_TRAIN: a->train = 1; return 0;
    case O_AREA: a->area = 1; return 0;
    case O_RETRY_FAILED: a->retry_failed = 1; return 0;
    case O_SCHEDULE: return parse_count(name, v, 1, 1000000, &a->schedule);
    case O_EPOCHS: return parse_count(name, v, 1, 1000000, &a->epochs);
    case O_STEPS: return parse_count(name, v, 1, 1000000, &a->steps);
    case O_JOBS: return parse_count(name, v, 1, 256, &a->jobs);
    case O_POINT: return parse_count(name, v, 0, INT64_MAX, &a->point);
    case O_POLICY:
        return (a->policy = parse_choice(name, v, policy_name,
                                         PLAN_N_POLICIES + cmd->policy_all)) < 0 ? -1 : 0;
    case O_MODEL:
        return (a->model = parse_choice(name, v, model_name, SIM_N_MODELS)) < 0 ? -1 : 0;
    case O_EMIT: return (a->emit = parse_choice(name, v, emit_name, 2)) < 0 ? -1 : 0;
    case O_TRACE: {
        size_t n = strlen(v);
        if (n < 5 || (strcmp(v + n - 4, ".vcd") && strcmp(v + n - 4, ".fst"))) {
            bad_usage("--trace needs a file ending in .vcd or .fst, not \"%s\"", v);
            return -1;
        }
        a->trace = v;
        return 0;
    }
    case O_OUT: a->out = v; return 0;
    case O_RUNS: a->runs = v; return 0;
    case O_MERGE: a->merge = v; return 0;
    case O_PARETO: a->pareto = v; return 0;
    case O_OBJECTIVES: a->objectives = v; return 0;
    case O_N: break;
    }
    return -1;
}

/* One more operand, or -1 after saying there are too many. */
static int add_operand(const struct command *cmd, struct args *a, const char *v)
{
    if (a->n_pos == cmd->max_pos) {
        bad_usage("%s: more than one %s (%s)", cmd->name, cmd->what, v);
        return -1;
    }
    a->pos[a->n_pos++] = v;
    return 0;
}

/* The command's options and operands (argv[0] is the command's name). Returns 0, or
 * EXIT_BAD_INPUT after saying what is wrong. */
static int parse_args(const struct command *cmd, int argc, char **argv, struct args *a)
{
    struct option mine[N_OPTIONS + 1];
    int n = 0;
    for (int i = 0; i < N_OPTIONS; i++)
        if (cmd->opts & BIT(options[i].val))
            mine[n++] = options[i];
    mine[n] = (struct option){0};
    *a = (struct args){.policy = -1, .model = -1, .emit = -1, .point = -1};
    opterr = 0;
    /* "-": operands come back in order as option 1, wherever they stand (and whatever
     * POSIXLY_CORRECT says); ":": a missing value is ':', not '?'. */
    for (int o; (o = getopt_long(argc, argv, "-:", mine, NULL)) != -1;) {
        if (o == ':')
            return bad_usage("%s: %s needs a value", cmd->name, argv[optind - 1]);
        if (o == '?')
            return bad_usage("%s: unknown option %s", cmd->name, argv[optind - 1]);
        if (o != 1 && set_option(cmd, o, optarg, a))
            return EXIT_BAD_INPUT;
        if (o == 1 && add_operand(cmd, a, optarg))
            return EXIT_BAD_INPUT;
    }
    for (; optind < argc; optind++)   /* after "--": operands only */
        if (add_operand(cmd, a, argv[optind]))
            return EXIT_BAD_INPUT;
    if (a->n_pos < cmd->min_pos)
        return bad_usage("%s: which %s?", cmd->name, cmd->what);
    return 0;
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
    else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
        rc = stdout_failed();
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

static int cmd_plan(const struct args *a)
{
    struct config c;
    struct plan p;
    struct diag e;
    int rc = load(&c, a->pos[0]);
    if (rc)
        return rc;
    if (plan_build(&p, &c.net, c.pipeline.stage_of, c.pipeline.n_stages, c.training.batch, &e)) {
        fprintf(stderr, "%s: %s\n", a->pos[0], e.msg);
        cfg_free(&c);
        return 1;
    }
    struct plan_output o = {&c, &p, a->json, a->schedule};
    rc = output(write_plan, &o);
    plan_free(&p);
    cfg_free(&c);
    return rc;
}

static int cmd_train(const struct args *a)
{
    struct train_request rq = {.progress = isatty(STDERR_FILENO), .epochs = (int)a->epochs,
                               .out_dir = a->out, .all_policies = a->policy == POLICY_ALL};
    struct config c;
    int rc = load(&c, a->pos[0]);
    if (rc)
        return rc;
    rq.policy = a->policy >= 0 && !rq.all_policies ? (enum plan_policy)a->policy
                                                   : c.pipeline.policy;
    struct diag d;
    rc = train_run(&c, &rq, stdout, &d);
    if (rc)
        diag_print(&d, stderr);
    else if (fflush(stdout) || ferror(stdout))   /* train writes its lines as it goes */
        rc = stdout_failed();
    cfg_free(&c);
    return rc;
}

static int cmd_tracegen(const struct args *a)
{
    if (!a->out)
        return bad_usage("tracegen needs --out DIR");
    int64_t steps = a->steps ? a->steps : 8;
    struct config c;
    struct diag d;
    int rc = load(&c, a->pos[0]);
    if (rc)
        return rc;
    rc = trace_generate(&c, steps, a->out, &d);
    if (rc)
        diag_print(&d, stderr);
    else
        printf("wrote %s/ (%lld minibatches of %s)\n", a->out, (long long)steps, c.name);
    cfg_free(&c);
    return rc;
}

static int cmd_trace(const struct args *a)
{
    struct trace tr;
    struct diag d;
    if (trace_load(&tr, a->pos[0], &d)) {
        diag_print(&d, stderr);
        return EXIT_BAD_INPUT;
    }
    int64_t words[TRAIN_N_PROBES] = {0}, records[TRAIN_N_PROBES] = {0};
    for (int64_t i = 0; i < tr.n_records; i++) {
        records[tr.records[i].kind]++;
        words[tr.records[i].kind] += tr.records[i].count;
    }
    printf("vector set %s: %s (config hash %016llx), policy %s, %d stages, %lld minibatches, "
           "%lld records\n", a->pos[0], tr.config.name, (unsigned long long)tr.config.hash,
           plan_policy_name(tr.config.pipeline.policy), tr.config.pipeline.n_stages,
           (long long)tr.minibatches, (long long)tr.n_records);
    for (int k = 0; k < TRAIN_N_PROBES; k++)
        if (records[k])
            printf("  %-12s %6lld records %10lld words\n", trace_kind_name((enum train_probe)k),
                   (long long)records[k], (long long)words[k]);
    trace_free(&tr);
    return 0;
}

static int cmd_replay(const struct args *a)
{
    const char *dir = a->pos[0];
    int fault = a->inject_fault;
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
    struct diag e;
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

static int cmd_verify(const struct args *a)
{
    struct verify_request rq = {a->steps ? a->steps : 8, a->policy, a->trace, a->inject_fault};
    return report_to_stdout(a->pos[0], verify_report, &rq);
}

static int report_report(const struct config *c, const void *rq, FILE *out, struct diag *d)
{
    return report_run(c, rq, out, d);
}

static int cmd_report(const struct args *a)
{
    if (!a->out)
        return bad_usage("report needs --out DIR");
    struct report_request rq = {a->out, a->runs, a->policy == POLICY_ALL ? -1 : a->policy};
    return report_to_stdout(a->pos[0], report_report, &rq);
}

static int cmd_sim(const struct args *a)
{
    struct sim_request rq = {a->model >= 0 ? (enum sim_model)a->model : SIM_ANALYTIC,
                             a->steps ? a->steps : 8, a->policy, a->json};
    return report_to_stdout(a->pos[0], sim_report, &rq);
}

static int cmd_sweep(const struct args *a)
{
    struct sweep_request rq = {.mode = SWEEP_RUN, .sweep = a->pos[0], .dir = a->out,
                               .jobs = (int)a->jobs, .point = -1,
                               .progress = isatty(STDERR_FILENO), .retry_failed = a->retry_failed,
                               .objectives = a->objectives};
    rq.o.model = a->model >= 0 ? (enum sim_model)a->model : SIM_ANALYTIC;
    rq.o.train = a->train;
    rq.o.area = a->area;
    if (a->emit >= 0)
        rq.mode = a->emit ? SWEEP_EMIT_PARALLEL : SWEEP_EMIT_SLURM;
    if (a->point >= 0)
        rq.mode = SWEEP_POINT, rq.point = a->point;
    if (a->merge || a->pareto)
        rq.mode = a->merge ? SWEEP_MERGE : SWEEP_PARETO, rq.dir = a->merge ? a->merge : a->pareto;
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
    else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout))
        rc = stdout_failed();
    free(buf);
    return rc;
}

static int write_config(FILE *out, const void *ctx)
{
    return cfg_write(ctx, out, 1);
}

static int cmd_config(const struct args *a)
{
    struct config c;
    int rc = load(&c, a->pos[0]);
    if (rc)
        return rc;
    rc = output(write_config, &c);
    cfg_free(&c);
    return rc;
}

static const unsigned RUN_OPTS = BIT(O_STEPS) | BIT(O_POLICY);
static const unsigned SWEEP_OPTS = BIT(O_OUT) | BIT(O_JOBS) | BIT(O_MODEL) | BIT(O_TRAIN) |
                                   BIT(O_AREA) | BIT(O_RETRY_FAILED) | BIT(O_EMIT) |
                                   BIT(O_POINT) | BIT(O_MERGE) | BIT(O_PARETO) |
                                   BIT(O_OBJECTIVES);

/* Run a command; one that writes a directory (--out DIR, but a sweep's, which keeps its
 * results as it goes) replaces its files together or not at all (outfile.h: stages). */
static int run_staged(const struct command *cmd, const struct args *a)
{
    struct diag d;
    int staged = a->out && cmd->run != cmd_sweep;
    if (staged && outfile_stage_begin(a->out, &d)) {
        diag_print(&d, stderr);
        return EXIT_BAD_INPUT;
    }
    int rc = cmd->run(a);
    if (staged && outfile_stage_end(rc == 0, &d) && rc == 0) {
        diag_print(&d, stderr);
        rc = EXIT_BAD_INPUT;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const struct command commands[] = {
        {"plan", cmd_plan, BIT(O_JSON) | BIT(O_SCHEDULE), 1, 1, "config", 0},
        {"train", cmd_train, BIT(O_POLICY) | BIT(O_EPOCHS) | BIT(O_OUT), 1, 1, "config", 1},
        {"tracegen", cmd_tracegen, BIT(O_OUT) | BIT(O_STEPS), 1, 1, "config", 0},
        {"trace", cmd_trace, 0, 1, 1, "vector set", 0},
        {"replay", cmd_replay, BIT(O_INJECT_FAULT), 1, 1, "vector set", 0},
        {"verify", cmd_verify, RUN_OPTS | BIT(O_TRACE) | BIT(O_INJECT_FAULT), 1, 1, "config", 0},
        {"report", cmd_report, BIT(O_OUT) | BIT(O_RUNS) | BIT(O_POLICY), 1, 1, "config", 1},
        {"sim", cmd_sim, RUN_OPTS | BIT(O_MODEL) | BIT(O_JSON), 1, 1, "config", 0},
        {"sweep", cmd_sweep, SWEEP_OPTS, 0, 1, "sweep file", 0},
        {"config", cmd_config, 0, 1, 1, "config", 0},
    };
    /* Past a file-size limit a write fails with EFBIG, which is reported, rather than
     * killing the process part way through an output; children inherit this. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2)
        return bad_usage("no command given");
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) {
            struct args a;
            int rc = parse_args(&commands[i], argc - 1, argv + 1, &a);
            return rc ? rc : run_staged(&commands[i], &a);
        }
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
