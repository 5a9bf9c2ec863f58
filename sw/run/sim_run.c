#include "sim_run.h"

#include <stdlib.h>
#include <string.h>

#include "../../model/cycles.h"
#include "../../model/plan.h"
#include "../../sim/cosim.h"
#include "../../sim/scp.h"
#include "../base/json.h"
#include "../base/table.h"
#include "rtl_build.h"
#include "train_run.h"
#include "verify.h"

static const char *const model_names[] = {"analytic", "systemc", "systemc-rtl", "rtl"};

const char *sim_model_name(enum sim_model m)
{
    return m < SIM_N_MODELS ? model_names[m] : "unknown";
}

/* What a model measured for a run of n minibatches. */
struct sim_out {
    int M;
    int64_t n, steps, total;
    int64_t *cycles;              /* per step: what the host sees */
    struct cyc_stage_step *st;    /* [step * M + stage - 1] */
    int64_t offchip_read, offchip_write;
    int causes;                   /* the stall causes below are known (systemc) */
    int64_t stall_loss[64], stall_memory[64];   /* per stage, the run */
    int64_t offchip_words[64][3]; /* per stage: weights, activations, history off chip */
    int trained;                  /* the model computed the values (systemc) */
    double loss_sum;
    int64_t correct, samples;
};

/* The C model behind the behavioural SystemC stages: each stage runs its part of the
 * trainer's step, on the minibatches verify and tracegen take (the config's data,
 * shuffled once). */
struct sim_train {
    struct trainer *t;
    struct train_stats st;
    struct dataset train;
    int32_t *order;
};

static void sim_train_input(void *ctx, int64_t s)
{
    trainer_step_input(((struct sim_train *)ctx)->t, s);
}

static void sim_train_forward(void *ctx, int k, int64_t s)
{
    trainer_stage_forward(((struct sim_train *)ctx)->t, k, s);
}

static void sim_train_backward(void *ctx, int k, int64_t s)
{
    trainer_stage_backward(((struct sim_train *)ctx)->t, k, s);
}

static void sim_train_finish(void *ctx, double out[3])
{
    struct sim_train *x = ctx;
    trainer_epoch_end(x->t);
    out[0] = x->st.loss_sum, out[1] = (double)x->st.correct, out[2] = (double)x->st.samples;
}

static void sim_train_free(struct sim_train *x)
{
    if (x->t)
        trainer_destroy(x->t);
    free(x->order);
    data_free(&x->train);
    memset(x, 0, sizeof *x);
}

static int sim_train_init(struct sim_train *x, const struct config *c, enum plan_policy pol,
                          int64_t n, struct diag *e)
{
    struct diag d;
    struct fixed_spec q;
    struct train_opts o;
    memset(x, 0, sizeof *x);
    if (train_minibatches(c, n, &x->train, &x->order, &d))
        return lp_fail(e, -1, NULL, "%s", d.msg);
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, pol, n, 1, c->numerics.format == CFG_FIXED ? &q : NULL, &o);
    if (trainer_create(&x->t, &c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, e)) {
        sim_train_free(x);
        return -1;
    }
    trainer_epoch_begin(x->t, &x->train, x->order, n, 0, &x->st);
    return 0;
}

static void out_free(struct sim_out *o)
{
    free(o->cycles);
    free(o->st);
    memset(o, 0, sizeof *o);
}

static int out_alloc(struct sim_out *o, int M, int64_t n, int64_t steps)
{
    memset(o, 0, sizeof *o);
    o->M = M, o->n = n, o->steps = steps;
    o->cycles = calloc((size_t)steps + 1, sizeof *o->cycles);
    o->st = calloc((size_t)(steps + 1) * (size_t)M, sizeof *o->st);
    return o->cycles && o->st ? 0 : -1;
}

static void hw_of(const struct config *c, struct cyc_hw *hw)
{
    hw->rows = c->hardware.mac_rows, hw->cols = c->hardware.mac_cols;
    hw->mac_latency = c->hardware.mac_pipeline;
}

static int run_analytic(const struct config *c, enum plan_policy pol, int64_t n,
                        struct sim_out *o, struct diag *e)
{
    struct cyc_model m;
    struct cyc_hw hw;
    hw_of(c, &hw);
    if (cyc_build(&m, &c->net, c->pipeline.stage_of, c->pipeline.n_stages, c->training.batch,
                  pol, &hw, e))
        return -1;
    int64_t steps = cyc_steps(&m, n);
    int rc = m.M > 64 ? lp_fail(e, -1, NULL, "the cycle model takes up to 64 stages")
             : out_alloc(o, m.M, n, steps) ? lp_fail(e, -1, NULL, "out of memory")
                                           : 0;
    for (int64_t s = 0; !rc && s < steps; s++) {
        o->cycles[s] = cyc_step(&m, n, s, &o->st[s * m.M]);
        o->total += o->cycles[s];
    }
    cyc_free(&m);
    return rc;
}

static int run_rtl(const struct config *c, enum plan_policy pol, int64_t n, struct sim_out *o,
                   struct diag *e)
{
    struct dataset train;
    struct diag d;
    struct fixed_spec q;
    struct train_opts opts;
    int32_t *order;
    if (train_minibatches(c, n, &train, &order, &d))
        return lp_fail(e, -1, NULL, "%s", d.msg);
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, pol, n, 1, &q, &opts);
    char lib[1100];
    struct cosim_setup s = {&c->net, c->pipeline.stage_of, c->pipeline.n_stages, &opts, &q,
                            c->hardware.mac_rows, c->hardware.mac_cols,
                            c->hardware.mac_pipeline, &train, order, n, NULL, lib, 1, 0};
    struct cosim *cs = NULL;
    int rc = rtl_build(&s, "top", lib, sizeof lib, stderr, e);
    if (!rc)
        rc = cosim_open(&cs, &s, e);
    while (!rc && (rc = cosim_step(cs, e)) == 0)
        ;
    if (rc == 1) {
        struct cosim_result r;
        cosim_result(cs, &r);
        int M = r.geom.n_stages;
        rc = out_alloc(o, M, n, r.steps_done) ? lp_fail(e, -1, NULL, "out of memory") : 0;
        for (int64_t k = 0; !rc && k < r.steps_done; k++) {
            o->cycles[k] = r.step_cycles[k];
            o->total += r.step_cycles[k];
            for (int j = 0; j < M; j++) {
                struct cyc_stage_step *x = &o->st[k * M + j];
                const struct cosim_counts *y = &r.stage[k * M + j];
                x->busy = (int64_t)y->busy, x->stall = (int64_t)y->stall;
                x->idle = (int64_t)y->idle;
            }
        }
    }
    cosim_close(cs);
    free(order);
    data_free(&train);
    return rc;
}

/* What each layer command touches, in words (docs/cycle-model.md, "SystemC"). */
static void accesses(const struct cyc_model *m, const struct plan *p, int l, enum plan_policy pol,
                     struct scp_layer *y)
{
    const struct net_layer *nl = &m->net->layers[l];
    const struct plan_layer *pl = &p->layers[l];
    int64_t P = nl->params, W = nl->weights, act = (int64_t)m->batch * nl->saved;
    int hist = pol != PLAN_SEQUENTIAL && pl->delay > 0 && pl->propagates;
    memset(y, 0, sizeof *y);
    y->stage = m->stage_of[l];
    y->fwd = m->layer[l].fwd, y->bwd = m->layer[l].bwd;
    y->fa.weights_read = P;                        /* the forward reads W */
    y->fa.act_written = act;                       /* and saves its input (and output) */
    y->ba.weights_read = (pl->propagates ? W : 0) + 3 * P;   /* dx; w, master, vel */
    y->ba.weights_written = 3 * P;                 /* the update */
    y->ba.act_read = act;
    if (hist && pol == PLAN_STASH)
        y->ba.hist_read = W, y->ba.hist_written = W;          /* a version out, one in */
    if (hist && pol == PLAN_EMA)
        y->ba.hist_read = 2 * W, y->ba.hist_written = W;      /* rebuild; m's update */
}

/* The SystemC model's result r of n minibatches on M stages into o. Returns 0, or -1
 * with e set. */
static int take_systemc(struct sim_out *o, const struct scp_result *r, int M, int64_t n,
                        int trained, struct diag *e)
{
    int rc = out_alloc(o, M, n, r->steps) ? lp_fail(e, -1, NULL, "out of memory") : 0;
    o->causes = 1;
    memcpy(o->offchip_words, r->offchip_words, sizeof o->offchip_words);
    o->trained = trained;
    o->loss_sum = r->computed[0];
    o->correct = (int64_t)r->computed[1], o->samples = (int64_t)r->computed[2];
    for (int64_t s = 0; !rc && s < r->steps; s++) {
        o->cycles[s] = r->cycles[s];
        o->total += r->cycles[s];
        for (int k = 0; k < M; k++) {
            const struct scp_stage_step *y = &r->stage[s * M + k];
            struct cyc_stage_step *x = &o->st[s * M + k];
            x->busy = y->busy, x->idle = y->idle;
            x->stall = y->stall_loss + y->stall_memory;
            o->stall_loss[k] += y->stall_loss;
            o->stall_memory[k] += y->stall_memory;
            o->offchip_read += y->read_bytes;
            o->offchip_write += y->write_bytes;
        }
    }
    return rc;
}

static int run_systemc(const struct config *c, enum plan_policy pol, int64_t n, int rtl,
                       struct sim_out *o, struct diag *e)
{
    struct cyc_model m;
    struct cyc_hw hw;
    struct plan p = {0}, p1 = {0};
    int L = c->net.n_layers, M = c->pipeline.n_stages;
    int *one = calloc((size_t)L, sizeof *one);
    for (int l = 0; one && l < L; l++)
        one[l] = 1;
    hw_of(c, &hw);
    if (!one || M > 64)
        return free(one), lp_fail(e, -1, NULL, "the SystemC model takes up to 64 stages");
    if (cyc_build(&m, &c->net, c->pipeline.stage_of, M, c->training.batch, pol, &hw, e) ||
        plan_build(&p, &c->net, c->pipeline.stage_of, M, c->training.batch, e) ||
        plan_build(&p1, &c->net, one, 1, c->training.batch, e)) {
        cyc_free(&m), plan_free(&p), free(one);
        return -1;
    }
    struct scp_layer *ly = calloc((size_t)L, sizeof *ly);
    struct scp_stage *st = calloc((size_t)M, sizeof *st);
    struct scp_result r;
    char err[256];
    int rc = ly && st ? 0 : lp_fail(e, -1, NULL, "out of memory");
    for (int l = 0; !rc && l < L; l++) {
        struct scp_stage *x = &st[m.stage_of[l] - 1];
        accesses(&m, &p, l, pol, &ly[l]);
        x->weight_words += 3 * c->net.layers[l].params;
        x->act_words += (pol == PLAN_SEQUENTIAL ? &p1 : &p)->layers[l].act_words;
        x->hist_words += pol == PLAN_STASH ? p.layers[l].stash_words
                         : pol == PLAN_EMA ? p.layers[l].ema_words
                                           : 0;
    }
    for (int k = 1; !rc && k <= M; k++)
        st[k - 1].first = m.first[k], st[k - 1].count = m.count[k];
    char lib[1100];
    struct sim_train tr = {0};
    struct scp_params sp = {M, L, pol == PLAN_SEQUENTIAL, n, m.in_rows, m.loss_rows, ly, st,
                            c->hardware.onchip_kib * 1024 / 4,
                            c->hardware.offchip_bytes_per_cycle, c->hardware.offchip_latency,
                            rtl ? lib : NULL, NULL, NULL, NULL, NULL, &tr};
    if (!rc && !rtl && !(rc = sim_train_init(&tr, c, pol, n, e))) {
        sp.step_input = sim_train_input, sp.stage_forward = sim_train_forward;
        sp.stage_backward = sim_train_backward, sp.finish = sim_train_finish;
    }
    if (!rc && rtl) {   /* the RTL stages of this configuration */
        struct fixed_spec q;
        struct train_opts opts;
        cfg_fixed_spec(c, &q);
        train_fill_opts(c, pol, n, 1, &q, &opts);
        struct cosim_setup cs = {&c->net, c->pipeline.stage_of, M, &opts, &q,
                                 c->hardware.mac_rows, c->hardware.mac_cols,
                                 c->hardware.mac_pipeline, NULL, NULL, n, NULL, NULL, 1, 0};
        rc = rtl_build(&cs, "bank", lib, sizeof lib, stderr, e);
    }
    if (!rc && scp_run(&sp, &r, err, sizeof err))
        rc = lp_fail(e, -1, NULL, "%s", err);
    if (!rc) {
        rc = take_systemc(o, &r, M, n, sp.step_input != NULL, e);
        scp_free(&r);
    }
    sim_train_free(&tr);
    free(ly), free(st), free(one);
    cyc_free(&m), plan_free(&p), plan_free(&p1);
    return rc;
}

static int run_model(const struct config *c, enum sim_model model, enum plan_policy pol,
                     int64_t n, struct sim_out *o, struct diag *e)
{
    switch (model) {
    case SIM_ANALYTIC:
        return run_analytic(c, pol, n, o, e);
    case SIM_RTL:
        return run_rtl(c, pol, n, o, e);
    case SIM_SYSTEMC:
    case SIM_SYSTEMC_RTL:
        return run_systemc(c, pol, n, model == SIM_SYSTEMC_RTL, o, e);
    default:
        return lp_fail(e, -1, NULL, "no %s model", sim_model_name(model));
    }
}

/* ---- the report ---- */

static void stage_totals(const struct sim_out *o, int k, int64_t *busy, int64_t *stall,
                         int64_t *idle)
{
    *busy = *stall = *idle = 0;
    for (int64_t t = 0; t < o->steps; t++) {
        const struct cyc_stage_step *y = &o->st[t * o->M + k];
        *busy += y->busy, *stall += y->stall, *idle += y->idle;
    }
}

struct mem_policy {
    int64_t weights, history, activations, registers;
};

static void memory_of(const struct plan *p, const struct plan *p1, enum plan_policy pol,
                      struct mem_policy *m)
{
    const struct plan *pa = pol == PLAN_SEQUENTIAL ? p1 : p;
    /* weights, master weights and velocity: three words per parameter */
    m->weights = 3 * p->totals.params;
    m->history = plan_history_words(p, pol);
    m->activations = pa->totals.act_words;
    m->registers = p->totals.forward_reg_words + p->totals.backward_reg_words;
}

struct explain {
    int64_t steady;          /* a step with every stage busy, or -1 */
    int slowest;             /* its busiest stage, 1-based */
    int64_t slowest_busy;
    double mean_busy, balance, fill_drain, steady_speedup, speedup;
    int64_t mac_bound;       /* the slowest stage's tiles x beats in that step */
    double over_bound;       /* the steady step over it */
    int64_t lane_cycles;     /* what the EMA lanes add to the slowest stage, per step */
    int64_t host_cycles;     /* the host's input rows, start and loss wait, per step */
    double balance_limit;    /* the stages' MAC-bounds summed over the largest */
    int64_t stage_busy[64], stage_bound[64];   /* per stage, in the steady step */
};

static void explain_of(const struct sim_out *o, const struct cyc_model *cm, int64_t seq_total,
                       struct explain *x)
{
    int M = o->M;
    memset(x, 0, sizeof *x);
    x->steady = -1;
    x->speedup = o->total > 0 ? (double)seq_total / (double)o->total : 0;
    x->host_cycles = cyc_host_cycles(cm);
    int64_t s = cm->sequential ? 0 : 2 * (int64_t)M - 2;
    if (s >= o->n || s >= o->steps || cm->sequential)
        return;
    x->steady = o->cycles[s];
    const struct cyc_stage_step *st = &o->st[s * M];
    struct cyc_stage_step an[64];
    cyc_step(cm, o->n, s, an);   /* the MAC-bounds: tiles x beats, whatever the model */
    double sum = 0;
    int64_t bound_sum = 0, bound_max = 0;
    for (int k = 0; k < M; k++) {
        sum += (double)st[k].busy;
        if (st[k].busy > x->slowest_busy)
            x->slowest_busy = st[k].busy, x->slowest = k + 1;
        bound_sum += an[k].mac_bound;
        x->stage_busy[k] = st[k].busy, x->stage_bound[k] = an[k].mac_bound;
        bound_max = an[k].mac_bound > bound_max ? an[k].mac_bound : bound_max;
    }
    x->mean_busy = sum / M;
    x->balance = x->slowest_busy ? x->mean_busy / (double)x->slowest_busy : 0;
    x->fill_drain = o->total ? (double)(o->n * x->steady) / (double)o->total : 0;
    x->steady_speedup = (double)seq_total / (double)o->n / (double)x->steady;
    x->mac_bound = an[x->slowest - 1].mac_bound;
    x->over_bound = x->mac_bound ? (double)x->steady / (double)x->mac_bound : 0;
    x->balance_limit = bound_max ? (double)bound_sum / (double)bound_max : 0;
    for (int j = 0; j < cm->count[x->slowest]; j++) {
        const struct cyc_layer *y = &cm->layer[cm->first[x->slowest] + j];
        x->lane_cycles += y->lane_latency * (y->n_fwd > 0) * 2;   /* a forward, a backward */
    }
}

/* The JSON's "explain": why the speedup is what it is. */
static void json_explain(struct json *j, const struct explain *x, int M)
{
    json_begin_object(j, "explain");
    json_int(j, "ideal_speedup", M);
    json_int_or_null(j, "slowest_stage", x->steady >= 0 ? x->slowest : -1);
    json_real(j, "balance", x->balance);
    json_real(j, "fill_drain_efficiency", x->fill_drain);
    json_real(j, "steady_speedup", x->steady_speedup);
    json_int_or_null(j, "mac_bound_cycles_of_slowest_stage", x->steady >= 0 ? x->mac_bound : -1);
    json_real(j, "step_over_mac_bound", x->over_bound);
    json_real(j, "balance_limit", x->balance_limit);
    json_int(j, "ema_lane_cycles_in_slowest_stage", x->lane_cycles);
    json_int(j, "host_cycles_per_step", x->host_cycles);
    json_end_object(j);
}

/* The JSON's "layer_cycles": the analytic model's breakdown per layer. */
static void json_layer_cycles(struct json *j, const struct config *c, const struct cyc_model *cm)
{
    json_begin_array(j, "layer_cycles");   /* the analytic model's breakdown */
    for (int l = 0; l < cm->L; l++) {
        const struct cyc_layer *y = &cm->layer[l];
        json_begin_object(j, NULL);
        json_str(j, "layer", c->net.layers[l].name);
        json_int(j, "stage", cm->stage_of[l]);
        json_int(j, "forward", y->fwd);
        json_int(j, "backward", y->bwd);
        json_int(j, "forward_beats", y->fwd_beats);
        json_int(j, "input_gradient_beats", y->dx_beats);
        json_int(j, "weight_gradient_beats", y->dw_beats);
        json_int(j, "ema_lane_latency", y->lane_latency);
        json_int(j, "update_tail", y->update);
        json_end_object(j);
    }
    json_end_array(j);
}

/* The JSON's "per_stage": each stage's cycles over the run and in a steady step. */
static void json_per_stage(struct json *j, const struct sim_out *o, const struct explain *x)
{
    json_begin_array(j, "per_stage");
    for (int k = 0; k < o->M; k++) {
        int64_t b, s, i;
        stage_totals(o, k, &b, &s, &i);
        json_begin_object(j, NULL);
        json_int(j, "stage", k + 1);
        json_int(j, "busy", b);
        json_int(j, "stalled", s);
        json_int(j, "idle", i);
        json_real(j, "utilisation", b + s + i ? (double)b / (double)(b + s + i) : 0);
        json_int_or_null(j, "steady_step_busy", x->steady >= 0 ? x->stage_busy[k] : -1);
        json_int_or_null(j, "steady_step_mac_bound", x->steady >= 0 ? x->stage_bound[k] : -1);
        if (o->causes) {
            json_begin_object(j, "stalled_for");
            json_int(j, "backward", o->stall_loss[k]);   /* its input: the loss gradient */
            json_int(j, "memory", o->stall_memory[k]);
            json_end_object(j);
            json_begin_object(j, "offchip_words");
            json_int(j, "weights", o->offchip_words[k][0]);
            json_int(j, "activations", o->offchip_words[k][1]);
            json_int(j, "history", o->offchip_words[k][2]);
            json_end_object(j);
        }
        json_end_object(j);
    }
    json_end_array(j);
}

/* The JSON's "per_step": each step's cycles, per stage. */
static void json_per_step(struct json *j, const struct sim_out *o)
{
    json_begin_array(j, "per_step");
    for (int64_t t = 0; t < o->steps; t++) {
        json_begin_object(j, NULL);
        json_int(j, "step", t);
        json_int(j, "cycles", o->cycles[t]);
        json_begin_array(j, "stages");
        for (int k = 0; k < o->M; k++) {
            const struct cyc_stage_step *y = &o->st[t * o->M + k];
            json_begin_object(j, NULL);
            json_int(j, "busy", y->busy);
            json_int(j, "stalled", y->stall);
            json_int(j, "idle", y->idle);
            json_end_object(j);
        }
        json_end_array(j);
        json_end_object(j);
    }
    json_end_array(j);
}

static void write_json(FILE *out, const struct config *c, enum sim_model model,
                       enum plan_policy pol, const struct sim_out *o, int64_t seq_total,
                       const struct explain *x, const struct plan *p, const struct plan *p1,
                       const struct cyc_model *cm)
{
    struct json j;
    int M = o->M;
    char hash[20];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    json_init(&j, out);
    json_begin_object(&j, NULL);
    json_str(&j, "config", c->name);
    json_str(&j, "config_hash", hash);
    json_str(&j, "model", sim_model_name(model));
    json_str(&j, "policy", plan_policy_name(pol));
    json_int(&j, "stages", M);
    json_int(&j, "layers", c->net.n_layers);
    json_int(&j, "batch", c->training.batch);
    json_begin_object(&j, "mac_array");
    json_int(&j, "rows", c->hardware.mac_rows);
    json_int(&j, "cols", c->hardware.mac_cols);
    json_int(&j, "latency", c->hardware.mac_pipeline);
    json_end_object(&j);
    json_int(&j, "minibatches", o->n);
    json_int(&j, "steps", o->steps);
    json_int(&j, "total_cycles", o->total);
    json_int_or_null(&j, "steady_step_cycles", x->steady);
    json_int(&j, "sequential_total_cycles", seq_total);
    json_real(&j, "speedup_over_sequential", x->speedup);
    json_explain(&j, x, M);
    json_layer_cycles(&j, c, cm);
    json_per_stage(&j, o, x);
    json_per_step(&j, o);
    json_begin_object(&j, "memory_words");
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        struct mem_policy m;
        memory_of(p, p1, (enum plan_policy)k, &m);
        json_begin_object(&j, plan_policy_name((enum plan_policy)k));
        json_int(&j, "weights", m.weights);
        json_int(&j, "history", m.history);
        json_int(&j, "activations", m.activations);
        json_int(&j, "registers", m.registers);
        json_int(&j, "total_bytes", 4 * (m.weights + m.history + m.activations + m.registers));
        json_end_object(&j);
    }
    json_end_object(&j);
    if (o->trained) {
        json_begin_object(&j, "training");
        json_int(&j, "samples", o->samples);
        json_real(&j, "train_loss", o->samples ? o->loss_sum / (double)o->samples : 0);
        json_real(&j, "train_accuracy", o->samples ? (double)o->correct / (double)o->samples : 0);
        json_end_object(&j);
    } else {
        json_null(&j, "training");
    }
    json_begin_object(&j, "offchip");
    json_int(&j, "read_bytes", o->offchip_read);
    json_int(&j, "write_bytes", o->offchip_write);
    json_end_object(&j);
    json_end_object(&j);
    fputc('\n', out);
}

/* The text's account of the steady step: balance, fill and drain, the MAC-bound. */
static void text_explain(FILE *out, const struct sim_out *o, const struct explain *x,
                         const struct cyc_model *cm)
{
    if (x->steady >= 0) {
        fprintf(out, "steady step %lld cycles: of an ideal %dx, the slowest stage (%d, busy "
                "%lld) against the mean (%.1f) leaves %.2f; fill and drain (%lld steps for %lld "
                "minibatches) %.2f; each step also carries %lld host cycles (input rows, "
                "start, loss)\n",
                (long long)x->steady, o->M, x->slowest, (long long)x->slowest_busy, x->mean_busy,
                x->balance, (long long)o->steps, (long long)o->n, x->fill_drain,
                (long long)x->host_cycles);
        int cmds = 2 * cm->count[x->slowest];   /* a forward and a backward per layer */
        fprintf(out, "MAC-bound: stage %d's products need %lld cycles of its array (tiles x "
                "beats); its other %lld busy cycles fill and empty the engine (operand "
                "fetch, array latency, the last tile's drain), wait for the drain, "
                "and issue its %d commands; the step, %.3fx the "
                "MAC-bound, adds %lld cycles the stage is not busy (the host's input rows and loss "
                "gradient, off-chip memory, the sequencer); the balance limit "
                "(the stages' MAC-bounds summed over the largest) is %.2fx\n",
                x->slowest, (long long)x->mac_bound, (long long)(x->slowest_busy - x->mac_bound),
                cmds, x->over_bound, (long long)(x->steady - x->slowest_busy), x->balance_limit);
    }
}

static void write_text(FILE *out, const struct config *c, enum sim_model model,
                       enum plan_policy pol, const struct sim_out *o, int64_t seq_total,
                       const struct explain *x, const struct plan *p, const struct plan *p1,
                       const struct cyc_model *cm)
{
    int M = o->M;
    fprintf(out, "sim %s: %s model, policy %s, %d stage%s, %lld minibatches in %lld steps\n",
            c->name, sim_model_name(model), plan_policy_name(pol), M, M == 1 ? "" : "s",
            (long long)o->n, (long long)o->steps);
    fprintf(out, "total %lld cycles; sequential on the same hardware %lld cycles; speedup "
            "%.2fx\n", (long long)o->total, (long long)seq_total, x->speedup);
    if (o->trained)
        fprintf(out, "trained through the stages with the C model: %lld samples, train loss "
                "%.6f, train accuracy %.2f%%\n", (long long)o->samples,
                o->samples ? o->loss_sum / (double)o->samples : 0.0,
                o->samples ? 100.0 * (double)o->correct / (double)o->samples : 0.0);
    text_explain(out, o, x, cm);
    struct table t;
    table_init(&t, 7);
    table_row(&t, "stage|busy|stalled|idle|utilisation|steady_busy|steady_mac_bound");
    for (int k = 0; k < M; k++) {
        int64_t b, s, i;
        char sb[32] = "-", sm[32] = "-";
        stage_totals(o, k, &b, &s, &i);
        if (x->steady >= 0) {
            snprintf(sb, sizeof sb, "%lld", (long long)x->stage_busy[k]);
            snprintf(sm, sizeof sm, "%lld", (long long)x->stage_bound[k]);
        }
        table_row(&t, "%d|%lld|%lld|%lld|%.3f|%s|%s", k + 1, (long long)b, (long long)s,
                  (long long)i, b + s + i ? (double)b / (double)(b + s + i) : 0.0, sb, sm);
    }
    fprintf(out, "\ncycles per stage over the run, and in the steady step its busy cycles "
            "and MAC-bound (tiles x beats)\n");
    table_print(&t, out);
    table_free(&t);
    if (o->causes) {
        table_init(&t, 6);
        table_row(&t, "stage|stalled_backward|stalled_memory|offchip_weights|"
                      "offchip_activations|offchip_history");
        for (int k = 0; k < M; k++)
            table_row(&t, "%d|%lld|%lld|%lld|%lld|%lld", k + 1, (long long)o->stall_loss[k],
                      (long long)o->stall_memory[k], (long long)o->offchip_words[k][0],
                      (long long)o->offchip_words[k][1], (long long)o->offchip_words[k][2]);
        fprintf(out, "\nstalls by cause (cycles) and what is off chip (32-bit words); off-chip "
                "traffic %lld bytes read, %lld written\n", (long long)o->offchip_read,
                (long long)o->offchip_write);
        table_print(&t, out);
        table_free(&t);
    }
    table_init(&t, 9);
    table_row(&t, "layer|stage|forward|backward|fwd_beats|dx_beats|dw_beats|ema_lanes|"
                  "update_tail");
    for (int l = 0; l < cm->L; l++) {
        const struct cyc_layer *y = &cm->layer[l];
        table_row(&t, "%s|%d|%lld|%lld|%lld|%lld|%lld|%lld|%lld", c->net.layers[l].name,
                  cm->stage_of[l], (long long)y->fwd, (long long)y->bwd, (long long)y->fwd_beats,
                  (long long)y->dx_beats, (long long)y->dw_beats, (long long)y->lane_latency,
                  (long long)y->update);
    }
    fprintf(out, "\ncycles of each layer's commands and the MAC-bound of its products, tiles "
            "x beats (analytic model)\n");
    table_print(&t, out);
    table_free(&t);
    table_init(&t, 6);
    table_row(&t, "policy|weights|history|activations|registers|total_bytes");
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        struct mem_policy m;
        memory_of(p, p1, (enum plan_policy)k, &m);
        table_row(&t, "%s|%lld|%lld|%lld|%lld|%lld", plan_policy_name((enum plan_policy)k),
                  (long long)m.weights, (long long)m.history, (long long)m.activations,
                  (long long)m.registers,
                  (long long)(4 * (m.weights + m.history + m.activations + m.registers)));
    }
    fprintf(out, "\nmemory per policy, in 32-bit words\n");
    table_print(&t, out);
    table_free(&t);
}

/* Everything one run of a model gives: the run, the sequential run on the same
 * hardware, the plans and the analytic model that explain them. */
struct sim_state {
    enum plan_policy pol;
    struct sim_out o, seq;
    struct plan p, p1;
    struct cyc_model cm;
    struct explain x;
    int64_t seq_total;
};

static void state_free(struct sim_state *s)
{
    out_free(&s->o);
    out_free(&s->seq);
    cyc_free(&s->cm);
    plan_free(&s->p);
    plan_free(&s->p1);
}

/* Returns 0, or 2 / 1 with d set as sim_run does; s is to be freed either way. */
static int simulate(const struct config *c, const struct sim_request *rq, struct sim_state *s,
                    struct diag *d)
{
    struct cyc_hw hw;
    struct diag e = {0};
    memset(s, 0, sizeof *s);
    s->pol = rq->policy >= 0 ? (enum plan_policy)rq->policy : c->pipeline.policy;
    if ((rq->model == SIM_RTL || rq->model == SIM_SYSTEMC_RTL) && cfg_check_rtl(c, d))
        return 2;
    int *one = calloc((size_t)c->net.n_layers, sizeof *one);
    for (int l = 0; one && l < c->net.n_layers; l++)
        one[l] = 1;
    hw_of(c, &hw);
    int rc = !one ? lp_fail(&e, -1, NULL, "out of memory")
             : plan_build(&s->p, &c->net, c->pipeline.stage_of, c->pipeline.n_stages,
                          c->training.batch, &e) ||
                     plan_build(&s->p1, &c->net, one, 1, c->training.batch, &e) ||
                     cyc_build(&s->cm, &c->net, c->pipeline.stage_of, c->pipeline.n_stages,
                               c->training.batch, s->pol, &hw, &e)
                 ? -1
                 : 0;
    free(one);
    if (!rc)
        rc = run_model(c, rq->model, s->pol, rq->minibatches, &s->o, &e);
    if (!rc && s->pol != PLAN_SEQUENTIAL)
        rc = run_model(c, rq->model, PLAN_SEQUENTIAL, rq->minibatches, &s->seq, &e);
    if (rc) {
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        return 1;
    }
    s->seq_total = s->pol == PLAN_SEQUENTIAL ? s->o.total : s->seq.total;
    explain_of(&s->o, &s->cm, s->seq_total, &s->x);
    return 0;
}

int sim_run(const struct config *c, const struct sim_request *rq, FILE *out, struct diag *d)
{
    struct sim_state s;
    int rc = simulate(c, rq, &s, d);
    if (!rc && rq->json)
        write_json(out, c, rq->model, s.pol, &s.o, s.seq_total, &s.x, &s.p, &s.p1, &s.cm);
    else if (!rc)
        write_text(out, c, rq->model, s.pol, &s.o, s.seq_total, &s.x, &s.p, &s.p1, &s.cm);
    state_free(&s);
    return rc;
}

int sim_measure(const struct config *c, const struct sim_request *rq, struct sim_figures *f,
                struct diag *d)
{
    struct sim_state s;
    int rc = simulate(c, rq, &s, d);
    if (!rc) {
        struct mem_policy m;
        int arrays = 0;
        for (int l = 0; l < c->net.n_layers; l++)
            arrays += c->net.layers[l].params > 0;
        memory_of(&s.p, &s.p1, s.pol, &m);
        *f = (struct sim_figures){
            .stages = s.o.M,
            .params = s.p.totals.params,
            .mac_units = (int64_t)arrays * c->hardware.mac_rows * c->hardware.mac_cols,
            .total_cycles = s.o.total,
            /* sequential: every step is one minibatch's */
            .cycles_per_step = s.pol == PLAN_SEQUENTIAL ? s.o.cycles[0] : s.x.steady,
            .sequential_total_cycles = s.seq_total,
            .speedup = s.x.speedup,
            .weights_words = m.weights,
            .history_words = m.history,
            .activation_words = m.activations,
            .register_words = m.registers,
            .memory_bytes = 4 * (m.weights + m.history + m.activations + m.registers),
            .offchip_read_bytes = s.o.offchip_read,
            .offchip_write_bytes = s.o.offchip_write,
        };
    }
    state_free(&s);
    return rc;
}
