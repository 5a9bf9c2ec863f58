#include "cosim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../model/history.h"
#include "../model/plan.h"

/* ---- the top's parameters ---- */

static int is_sequential(const struct cosim_setup *s)
{
    return s->opts->policy == PLAN_SEQUENTIAL;
}

/* The top's Policy parameter: sequential runs the stale datapath with every delay 0. */
static int policy_code(enum plan_policy p)
{
    return p == PLAN_STASH ? 1 : p == PLAN_EMA ? 2 : 0;
}

/* "<32n>'h..." of n 32-bit words, element 0 in the low bits. */
static int hexvec(char *out, size_t size, const int64_t *v, int n)
{
    int k = snprintf(out, size, "%d'h", 32 * n);
    for (int i = n - 1; i >= 0 && k > 0 && (size_t)k < size; i--)
        k += snprintf(out + k, size - (size_t)k, "%08x", (unsigned)v[i]);
    return k > 0 && (size_t)k < size ? 0 : -1;
}

/* The parameters of lp_top for s, one Verilator option per line. */
int cosim_top_params(const struct cosim_setup *s, char *out, size_t size, struct diag *e)
{
    const struct net *n = s->net;
    int L = n->n_layers;
    if (L > LPTOP_MAX_LAYERS)
        return lp_fail(e, -1, NULL, "the RTL top takes at most %d layers, not %d",
                       LPTOP_MAX_LAYERS, L);
    if (s->mac_latency < 2)
        return lp_fail(e, -1, NULL, "the RTL's MAC array needs hardware.mac_pipeline >= 2 "
                       "(an operand register and at least one product register)");
    int64_t dims[LPTOP_MAX_LAYERS + 1], stage[LPTOP_MAX_LAYERS], relu[LPTOP_MAX_LAYERS],
        bias[LPTOP_MAX_LAYERS];
    for (int l = 0; l < L; l++) {
        const struct net_layer *nl = &n->layers[l];
        if (nl->kind != NET_DENSE)
            return lp_fail(e, l, NULL, "layer %s is a %s layer; the RTL runs dense layers only",
                           nl->name, net_kind_name(nl->kind));
        if (l > 0 && (nl->n_inputs != 1 || nl->inputs[0] != l - 1))
            return lp_fail(e, l, NULL, "layer %s does not read the layer before it; the RTL "
                           "runs a chain of layers", nl->name);
        dims[l] = net_shape_elems(&nl->in_shape);
        dims[l + 1] = nl->out;
        stage[l] = s->stage_of[l];
        relu[l] = nl->act == NET_ACT_RELU;
        bias[l] = nl->bias != 0;
    }
    char hd[16 * (LPTOP_MAX_LAYERS + 2)], hs[16 * (LPTOP_MAX_LAYERS + 2)],
        hr[16 * (LPTOP_MAX_LAYERS + 2)], hb[16 * (LPTOP_MAX_LAYERS + 2)];
    if (hexvec(hd, sizeof hd, dims, L + 1) || hexvec(hs, sizeof hs, stage, L) ||
        hexvec(hr, sizeof hr, relu, L) || hexvec(hb, sizeof hb, bias, L))
        return lp_fail(e, -1, NULL, "the RTL parameters do not fit");
    /* The MAC array as narrow as the formats allow: operands hold any activation, error
     * or weight word and the bias beat's 1 << act.frac; the accumulator is the config's
     * (fixed_check has made sure every sum fits). */
    const struct fixed_spec *q = s->q;
    int opw = q->act.bits > q->err.bits ? q->act.bits : q->err.bits;
    opw = opw > q->weight.bits ? opw : q->weight.bits;
    opw = opw > q->act.frac + 2 ? opw : q->act.frac + 2;
    int k = snprintf(out, size,
                     "-GNLayers=%d\n-GNStages=%d\n-GBatch=%d\n-GRows=%d\n-GCols=%d\n"
                     "-GMulStages=%d\n-GOpW=%d\n-GAccW=%d\n-GPolicy=%d\n-GSequential=%d\n"
                     "-GDims=%s\n-GStageOf=%s\n-GRelus=%s\n-GBiases=%s\n",
                     L, s->n_stages, s->opts->batch, s->rows, s->cols, s->mac_latency - 1, opw,
                     q->acc_bits, policy_code(s->opts->policy), is_sequential(s), hd, hs, hr, hb);
    return k > 0 && (size_t)k < size ? 0 : lp_fail(e, -1, NULL, "the RTL parameters do not fit");
}

/* ---- the run ---- */

/* What the model produced in the current step, per kind and layer. */
struct expect {
    int present;
    int64_t mb, count, seen;
    int32_t *words;
    uint8_t *hit;                    /* per word: observed */
    int64_t cap;
};

struct cosim {
    const struct cosim_setup *s;
    void *dl;
    const struct lptop_api *api;
    struct lptop *top;
    struct lptop_geom geom;
    struct trainer *t;
    struct train_stats st;
    int L, M, Mm;                    /* layers, RTL stages, the model's stages */
    int hist;                        /* the RTL reads history (stash or ema) */
    int precompute;                  /* bare: the probe collects the inputs only */
    int64_t steps, step;
    struct expect exp[TRAIN_N_PROBES][LPTOP_MAX_LAYERS + 1];   /* [kind][layer + 1] */
    int32_t *live[LPTOP_MAX_LAYERS], *snap[LPTOP_MAX_LAYERS];  /* the RTL's weights */
    int64_t params[LPTOP_MAX_LAYERS];
    int32_t *inputs;                 /* bare: every minibatch's input */
    int64_t in_words, out_words;
    int64_t *step_cycles;
    struct cosim_counts *counts;
    struct lptop_counts *prev;
    struct cosim_result res;
    int oom;
    /* Errors the RTL wrote a step before the model computes them: a stage receives the
     * error of its output (through the mask) while the stage after runs its backward, and
     * the model's probe reports it when the stage itself backwards, a step later. */
    struct lptop_obs *early;
    int64_t n_early, cap_early;
};

static struct expect *slot_of(struct cosim *c, enum train_probe kind, int layer)
{
    return &c->exp[kind][layer + 1];
}

static void on_probe(void *ctx, enum train_probe kind, int layer, int64_t mb, const void *words,
                     int64_t count)
{
    struct cosim *c = ctx;
    if (c->precompute) {
        if (kind == TRAIN_PROBE_INPUT && mb >= 0 && mb < c->s->minibatches &&
            count == c->in_words)
            memcpy(c->inputs + mb * count, words, sizeof(int32_t) * (size_t)count);
        if (!(kind == TRAIN_PROBE_WEIGHTS || kind == TRAIN_PROBE_MASTER) || mb >= 0)
            return;
    }
    struct expect *x = slot_of(c, kind, layer);
    if (x->cap < count) {
        int32_t *w = realloc(x->words, sizeof *w * (size_t)count);
        if (w)
            x->words = w;
        uint8_t *h = w ? realloc(x->hit, (size_t)count) : NULL;
        if (h)
            x->hit = h, x->cap = count;
        if (!w || !h) {
            c->oom = 1;
            return;
        }
    }
    x->present = 1, x->mb = mb, x->count = count, x->seen = 0;
    memcpy(x->words, words, sizeof(int32_t) * (size_t)count);
    memset(x->hit, 0, (size_t)count);
}

static int stage_of_layer(const struct cosim *c, int layer)
{
    return layer < 0 ? 1 : c->s->stage_of[layer];
}

static void mismatch(struct cosim *c, enum train_probe kind, int layer, int64_t mb,
                     int64_t index, int32_t expected, int32_t actual, int what)
{
    c->res.compared += what == 0;
    if (c->res.mismatches++ == 0)
        c->res.first = (struct cosim_mismatch){kind, layer, stage_of_layer(c, layer), c->step,
                                               mb, index, expected, actual, what};
}

static void compare(struct cosim *c, enum train_probe kind, int layer, int64_t mb,
                    int64_t index, int32_t actual)
{
    struct expect *x = slot_of(c, kind, layer);
    if (kind == TRAIN_PROBE_ERROR && (!x->present || x->mb != mb) && c->early) {
        if (c->n_early == c->cap_early) {
            int64_t cap = c->cap_early ? 2 * c->cap_early : 1024;
            struct lptop_obs *e = realloc(c->early, sizeof *e * (size_t)cap);
            if (!e) {
                c->oom = 1;
                return;
            }
            c->early = e, c->cap_early = cap;
        }
        c->early[c->n_early++] = (struct lptop_obs){layer, kind, mb, index, actual};
        return;
    }
    if (!x->present || x->mb != mb || index < 0 || index >= x->count || x->hit[index]) {
        mismatch(c, kind, layer, mb, index, 0, actual, 2);
        return;
    }
    x->hit[index] = 1;
    x->seen++;
    c->res.compared++;
    if (x->words[index] != actual)
        mismatch(c, kind, layer, mb, index, x->words[index], actual, 0);
}

static void on_observe(void *ctx, const struct lptop_obs *o)
{
    struct cosim *c = ctx;
    if (o->layer < 0 || o->layer >= c->L || o->kind < 0 || o->kind >= TRAIN_N_PROBES)
        return;
    if (o->kind == TRAIN_PROBE_WEIGHTS && o->index >= 0 && o->index < c->params[o->layer])
        c->live[o->layer][o->index] = o->value;
    compare(c, (enum train_probe)o->kind, o->layer, o->minibatch, o->index, o->value);
}

/* The host's part: the loss gradient from the RTL's logits. */
static void on_loss(void *ctx, const int32_t *logits, int32_t *loss)
{
    struct cosim *c = ctx;
    const struct cosim_setup *s = c->s;
    int B = s->opts->batch, classes = (int)(c->out_words / B);
    /* The minibatch at the last stage: the one the model's step computed the loss of
     * (bare: from the schedule). */
    int64_t mb = c->step - (c->M - 1);
    if (is_sequential(s))
        mb = c->step;
    struct expect *x = slot_of(c, TRAIN_PROBE_LOSS_GRAD, c->L - 1);
    if (!s->bare && x->present)
        mb = x->mb;
    uint8_t labels[4096];
    for (int b = 0; b < B && b < 4096; b++) {
        int64_t k = mb * B + b;
        labels[b] = mb >= 0 && mb < s->minibatches ? s->data->y[s->order[k]] : 0;
    }
    int64_t correct = 0, sat = 0;
    fixed_loss(loss, logits, labels, B, classes, s->net->loss == NET_LOSS_MSE, s->q, &correct,
               &sat);
    if (!s->bare)
        for (int64_t i = 0; i < c->out_words; i++)
            compare(c, TRAIN_PROBE_LOSS_GRAD, c->L - 1, mb, i, loss[i]);
}

/* ---- open, step, close ---- */

/* Load the RTL build s->lib, create its model, check that it was built for s, open the
 * waveform. Returns 0, or -1 with e set. */
static int load_rtl(struct cosim *c, struct diag *e)
{
    const struct cosim_setup *s = c->s;
    c->dl = dlopen(s->lib, RTLD_NOW | RTLD_LOCAL);
    const struct lptop_api *(*get)(void) = NULL;
    if (c->dl)
        *(void **)&get = dlsym(c->dl, "lptop_api");
    if (!c->dl || !get)
        return lp_fail(e, -1, NULL, "cannot load the RTL build %s: %s", s->lib, dlerror());
    c->api = get();
    if (!c->api || c->api->abi != LPTOP_ABI)
        return lp_fail(e, -1, NULL, "%s was built for another harness; rebuild it", s->lib);
    if (!(c->top = c->api->create()))
        return lp_fail(e, -1, NULL, "out of memory for the RTL model");
    c->api->geometry(c->top, &c->geom);
    const struct lptop_geom *g = &c->geom;
    c->in_words = g->in_words, c->out_words = g->out_words;
    if (g->n_layers != c->L || g->n_stages != c->M || g->batch != s->opts->batch ||
        g->policy != policy_code(s->opts->policy) || g->sequential != is_sequential(s) ||
        g->rows != s->rows || g->cols != s->cols || g->mul_stages != s->mac_latency - 1 ||
        c->in_words != s->opts->batch * s->data->dim)
        return lp_fail(e, -1, NULL, "the RTL build %s does not match the configuration", s->lib);
    if (s->trace && c->api->trace_open(c->top, s->trace))
        return lp_fail(e, -1, NULL, "cannot write the waveform %s", s->trace);
    return 0;
}

/* The numerics and optimizer constants into the RTL. */
static void configure_rtl(struct cosim *c)
{
    const struct cosim_setup *s = c->s;
    struct lptop_cfg cfg = {0};
    const struct fixed_spec *q = s->q;
    cfg.round_even = q->rounding == FIXED_NEAREST_EVEN;
    cfg.act_bits = q->act.bits, cfg.act_frac = q->act.frac;
    cfg.err_bits = q->err.bits, cfg.err_frac = q->err.frac;
    cfg.weight_bits = q->weight.bits, cfg.weight_frac = q->weight.frac;
    cfg.master_bits = q->master.bits, cfg.master_frac = q->master.frac;
    cfg.grad_bits = q->grad.bits, cfg.grad_frac = q->grad.frac;
    cfg.wd = fixed_const(s->opts->weight_decay, FIXED_LR_FRAC);
    cfg.mu = fixed_coef(s->opts->momentum);
    for (int l = 0; l < c->L; l++) {
        int d = is_sequential(s) ? 0 : 2 * (c->M - s->stage_of[l]);
        cfg.beta[l] = fixed_coef(s->opts->ema_beta_auto ? ema_beta_auto(d) : s->opts->ema_beta);
    }
    c->api->configure(c->top, &cfg);
}

/* The golden model, with its probe recording; the initial weights it reports loaded into
 * the RTL. Returns 0, or -1 with e set. */
static int start_model(struct cosim *c, struct diag *e)
{
    const struct cosim_setup *s = c->s;
    /* The model: its probe records; trainer_create reports the initial weights. */
    struct train_opts o = *s->opts;
    o.diagnostics = 0;
    o.probe = on_probe;
    o.probe_ctx = c;
    o.progress = NULL;
    c->precompute = s->bare;
    if (s->bare && !(c->inputs = malloc(sizeof *c->inputs * (size_t)(s->minibatches *
                                                                      c->in_words))))
        return lp_fail(e, -1, NULL, "out of memory for the inputs");
    if (trainer_create(&c->t, s->net, s->stage_of, s->n_stages, &o, e))
        return -1;
    for (int l = 0; l < c->L; l++) {
        struct expect *w = slot_of(c, TRAIN_PROBE_WEIGHTS, l), *m = slot_of(c, TRAIN_PROBE_MASTER, l);
        if (c->oom || !w->present || !m->present || w->count != m->count)
            return lp_fail(e, l, NULL, "the model did not report layer %d's initial weights", l);
        c->params[l] = w->count;
        c->live[l] = malloc(sizeof(int32_t) * (size_t)w->count);
        c->snap[l] = malloc(sizeof(int32_t) * (size_t)w->count);
        if (!c->live[l] || !c->snap[l])
            return lp_fail(e, -1, NULL, "out of memory for the weights");
        memcpy(c->live[l], w->words, sizeof(int32_t) * (size_t)w->count);
        int64_t out = s->net->layers[l].out;
        c->api->load_weights(c->top, l, w->words, m->words, w->count / out, out);
        w->present = m->present = 0;
    }
    return 0;
}

int cosim_open(struct cosim **cp, const struct cosim_setup *s, struct diag *e)
{
    struct cosim *c = calloc(1, sizeof *c);
    *cp = c;
    if (!c)
        return lp_fail(e, -1, NULL, "out of memory for the co-simulation");
    c->s = s;
    c->L = s->net->n_layers;
    c->M = s->n_stages;
    c->Mm = is_sequential(s) ? 1 : s->n_stages;
    c->hist = !is_sequential(s) && (s->opts->policy == PLAN_STASH || s->opts->policy == PLAN_EMA);
    if (s->opts->batch > 4096 || c->L > LPTOP_MAX_LAYERS)
        return lp_fail(e, -1, NULL, "the co-simulation takes batches up to 4096 and up to %d "
                       "layers", LPTOP_MAX_LAYERS);
    if (load_rtl(c, e))
        return -1;
    configure_rtl(c);
    if (start_model(c, e))
        return -1;
    c->steps = trainer_epoch_begin(c->t, s->data, s->order, s->minibatches, 0, &c->st);
    if (s->bare) {   /* the model runs first, alone, for the inputs; then only the RTL */
        for (int64_t k = 0; k < c->steps; k++)
            trainer_epoch_step(c->t, k);
        trainer_epoch_end(c->t);
        trainer_destroy(c->t);
        c->t = NULL;
        /* The RTL's steps: the model's for a pipeline, one per minibatch sequentially. */
    }
    if (c->oom)
        return lp_fail(e, -1, NULL, "out of memory for the expected values");
    c->step_cycles = calloc((size_t)c->steps + 1, sizeof *c->step_cycles);
    c->counts = calloc((size_t)(c->steps + 1) * (size_t)c->M, sizeof *c->counts);
    c->prev = calloc((size_t)c->M, sizeof *c->prev);
    if (!c->step_cycles || !c->counts || !c->prev)
        return lp_fail(e, -1, NULL, "out of memory for the counters");
    c->res.steps = c->steps;
    if (!s->bare && !(c->early = malloc(sizeof *c->early)))
        return lp_fail(e, -1, NULL, "out of memory for the co-simulation");
    c->cap_early = 1;
    return 0;
}

/* The BWD_WEIGHTS of a layer that reads no history are its live weights at the
 * step's start, which the RTL reported when it wrote them. */
static void check_live_reads(struct cosim *c)
{
    for (int l = 0; l < c->L; l++) {
        struct expect *x = slot_of(c, TRAIN_PROBE_BWD_WEIGHTS, l);
        int d = is_sequential(c->s) ? 0 : 2 * (c->M - c->s->stage_of[l]);
        if (!x->present || (c->hist && d > 0))
            continue;
        for (int64_t i = 0; i < x->count && i < c->params[l]; i++) {
            x->hit[i] = 1;
            x->seen++;
            c->res.compared++;
            if (x->words[i] != c->snap[l][i])
                mismatch(c, TRAIN_PROBE_BWD_WEIGHTS, l, x->mb, i, x->words[i], c->snap[l][i], 0);
        }
    }
}

static const enum train_probe checked[] = {
    TRAIN_PROBE_ACTIVATION, TRAIN_PROBE_LOSS_GRAD, TRAIN_PROBE_ERROR, TRAIN_PROBE_BWD_WEIGHTS,
    TRAIN_PROBE_GRADIENT,   TRAIN_PROBE_WEIGHTS,   TRAIN_PROBE_MASTER};

int cosim_step(struct cosim *c, struct diag *e)
{
    const struct cosim_setup *s = c->s;
    if (c->step >= c->steps)
        return 1;
    for (int k = 0; k < TRAIN_N_PROBES; k++)
        for (int l = 0; l <= c->L; l++)
            c->exp[k][l].present = 0;
    const int32_t *in = NULL;
    int64_t mb = -1;
    if (s->bare) {
        mb = is_sequential(s) ? c->step : c->step < s->minibatches ? c->step : -1;
        if (mb >= 0 && mb < s->minibatches)
            in = c->inputs + mb * c->in_words;
    } else {
        trainer_epoch_step(c->t, c->step);
        if (c->oom)
            return lp_fail(e, -1, NULL, "out of memory for the expected values");
        struct expect *x = slot_of(c, TRAIN_PROBE_INPUT, -1);
        if (x->present && x->count == c->in_words)
            in = x->words, mb = x->mb;
        if (s->inject_fault && c->step == 0) {   /* one expected value off by one bit */
            struct expect *a = slot_of(c, TRAIN_PROBE_ACTIVATION, 0);
            if (a->present && a->count > 0)
                a->words[0] ^= 1;
        }
    }
    /* The errors received a step early meet the model's values now; what still has no
     * value is unexpected. */
    int64_t n_early = c->n_early;
    c->n_early = 0;
    for (int64_t i = 0; i < n_early; i++) {
        const struct lptop_obs *o = &c->early[i];
        struct expect *x = slot_of(c, TRAIN_PROBE_ERROR, o->layer);
        if (x->present && x->mb == o->minibatch)
            compare(c, TRAIN_PROBE_ERROR, o->layer, o->minibatch, o->index, o->value);
        else
            mismatch(c, TRAIN_PROBE_ERROR, o->layer, o->minibatch, o->index, 0, o->value, 2);
    }
    for (int l = 0; l < c->L; l++)
        memcpy(c->snap[l], c->live[l], sizeof(int32_t) * (size_t)c->params[l]);
    uint64_t lr = mb >= 0 ? fixed_const(train_lr_at(s->opts, mb) / s->opts->batch, FIXED_LR_FRAC)
                          : 0;
    struct lptop_host h = {on_loss, s->bare ? NULL : on_observe, c};
    int64_t budget = 1000000000;
    int64_t cyc = c->api->step(c->top, in, mb, lr, &h, budget);
    if (cyc < 0)
        return lp_fail(e, -1, NULL, "step %lld: the RTL %s", (long long)c->step,
                       cyc == -1   ? "did not finish the step within 10^9 cycles"
                       : cyc == -3 ? "stopped on a failed assertion (Verilator's message above)"
                                   : "flagged an error (a stash read missed its version)");
    c->step_cycles[c->step] = cyc;
    c->res.cycles += (uint64_t)cyc;
    for (int k = 0; k < c->M; k++) {
        struct lptop_counts now;
        struct cosim_counts *d = &c->counts[c->step * c->M + k];
        c->api->counters(c->top, k, &now);
        d->busy = now.busy - c->prev[k].busy;
        d->stall = now.stall - c->prev[k].stall;
        d->idle = now.idle - c->prev[k].idle;
        c->prev[k] = now;
    }
    if (!s->bare) {
        check_live_reads(c);
        for (size_t k = 0; k < sizeof checked / sizeof *checked; k++)
            for (int l = 0; l < c->L; l++) {
                struct expect *x = slot_of(c, checked[k], l);
                for (int64_t i = 0; x->present && x->seen < x->count && i < x->count; i++)
                    if (!x->hit[i]) {
                        x->hit[i] = 1;
                        x->seen++;
                        mismatch(c, checked[k], l, x->mb, i, x->words[i], 0, 1);
                    }
            }
    }
    c->step++;
    c->res.steps_done = c->step;
    for (int64_t i = 0; c->step == c->steps && i < c->n_early; i++)   /* never computed */
        mismatch(c, TRAIN_PROBE_ERROR, c->early[i].layer, c->early[i].minibatch,
                 c->early[i].index, 0, c->early[i].value, 2);
    return 0;
}

void cosim_result(const struct cosim *c, struct cosim_result *r)
{
    *r = c->res;
    r->geom = c->geom;
    r->step_cycles = c->step_cycles;
    r->stage = c->counts;
}

void cosim_close(struct cosim *c)
{
    if (!c)
        return;
    if (c->t) {
        if (c->step >= c->steps && !c->s->bare)
            trainer_epoch_end(c->t);
        trainer_destroy(c->t);
    }
    if (c->top)
        c->api->destroy(c->top);
    if (c->dl)
        dlclose(c->dl);
    for (int k = 0; k < TRAIN_N_PROBES; k++)
        for (int l = 0; l <= LPTOP_MAX_LAYERS; l++)
            free(c->exp[k][l].words), free(c->exp[k][l].hit);
    for (int l = 0; l < LPTOP_MAX_LAYERS; l++)
        free(c->live[l]), free(c->snap[l]);
    free(c->inputs);
    free(c->early);
    free(c->step_cycles);
    free(c->counts);
    free(c->prev);
    free(c);
}
