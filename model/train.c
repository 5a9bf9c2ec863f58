#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "layers.h"
#include "rng.h"

#define TRAIN_MAX_READERS 256   /* layers that may read one layer's output */

/* Per-layer runtime state; the pointers are views into the trainer's families. */
struct tlayer {
    int stage, S, d;          /* d = 2S, the delay */
    int slots;                /* activation delay line depth, 2S+1 */
    int64_t in, out;          /* elements per sample */
    int64_t params, weights;  /* biases follow the weights */
    int hist;                 /* 1: keeps weight history (propagates an error, d > 0) */
    int propagates;           /* 1: its backward sends an error to an input */
    int64_t saved;            /* words per sample in the delay line */
    float beta;               /* ema decay */
    int64_t live;             /* updates applied: the live weights are W^(live) */
    struct conv_geom g;       /* conv and pools */

    float *w, *grad, *vel;    /* params: live weights, gradient, momentum */
    int32_t *master;          /* params, fixed point only: the weights the update writes */
    int64_t sat;              /* fixed point: saturation events this epoch */
    /* The history holds weights only (no biases) and exists only where hist is
     * set: the input gradient dx = dy W^T is its only reader. */
    float *stash;             /* d * weights: W^(v) at v mod d (stash policy) */
    float *shadow;            /* d * weights: the same, for diagnostics only */
    float *ema;               /* weights: moving average m of the update steps */
    float *rebuilt;           /* weights: W + gap*m (ema policy) */
    int64_t *tags;            /* d+1: the version each in-flight forward read */
    float *line;              /* slots * batch * saved: the activation delay line */
    float *y;                 /* batch * out: this step's forward output */
    float *dy;                /* batch * out: this step's output gradient */
    int n_out;                /* edges leaving this layer */
    int *out_edges;
    int in_edges[NET_MAX_INPUTS];
};

struct tedge {
    int from, to;
    int delay;                /* steps: stage boundaries crossed */
    int64_t elems;            /* per sample */
    float *fwd;               /* delay * batch * elems: activations on their way */
    float *bwd;               /* delay * batch * elems: gradients on their way back */
    float *grad;              /* batch * elems: gradient within a stage (delay 0) */
};

struct trainer {
    const struct net *net;
    struct train_opts o;
    const struct fixed_spec *q;   /* NULL: float32; else points at qs */
    struct fixed_spec qs;
    int M, L, n_edges, B;
    struct tlayer *ly;
    struct tedge *ed;
    int *edge_store;          /* out_edges arrays */
    float *params_mem, *history_mem, *act_mem, *reg_mem, *work_mem;
    int64_t act_words, fwd_words, bwd_words;
    float *x;                 /* batch * input: the minibatch entering stage 1 */
    float *dloss;             /* batch * classes: loss gradient of the last layer */
    float *scratch;
    uint8_t *labels;          /* batch: labels of the minibatch at the loss */
    struct train_layer_stats *lstats;
    struct {                  /* the epoch in progress (trainer_epoch_begin) */
        const struct dataset *d;
        const int32_t *order;
        int64_t n_mb, first_mb, steps;
        struct train_stats *st;
    } ep;
};

static void probe(const struct trainer *t, enum train_probe kind, int layer, int64_t mb,
                  const void *words, int64_t count);

/* ---- construction ---- */

static int64_t at_least(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static void set_geom(struct tlayer *t, const struct net_layer *nl)
{
    t->g.C = nl->in_shape.dim[0], t->g.H = nl->in_shape.dim[1], t->g.W = nl->in_shape.dim[2];
    t->g.OC = nl->out_shape.dim[0], t->g.OH = nl->out_shape.dim[1];
    t->g.OW = nl->out_shape.dim[2];
    t->g.k = nl->kernel, t->g.stride = nl->stride, t->g.pad = nl->pad;
}

static float *take(float **cursor, int64_t n)
{
    float *p = *cursor;
    *cursor += n;
    return n ? p : NULL;
}

/* The sizes, in floats, of the trainer's allocations (llm.c's size table): parameters
 * with gradients, velocities and master copies; weight history; activation delay lines;
 * registers between stages; work buffers and scratch. */
struct tsizes {
    int64_t params, hist, act, regs, work, scratch, in_elems, classes;
};

static void layout_sizes(struct trainer *t, struct tsizes *z)
{
    const struct net *n = t->net;
    int64_t params = 0, hist = 0, act = 0, regs = 0, work = 0, scratch = 0;
    int diag = t->o.diagnostics && t->o.policy != PLAN_STASH;
    for (int l = 0; l < t->L; l++) {
        const struct net_layer *nl = &n->layers[l];
        struct tlayer *tl = &t->ly[l];
        tl->S = t->M - tl->stage;   /* stage: set by trainer_create */
        tl->d = 2 * tl->S;
        tl->slots = 2 * tl->S + 1;
        tl->in = net_shape_elems(&nl->in_shape);
        tl->out = net_shape_elems(&nl->out_shape);
        tl->params = nl->params;
        tl->weights = nl->weights;
        tl->propagates = plan_propagates(n, l);
        tl->hist = tl->propagates && tl->d > 0;
        tl->saved = nl->saved;
        tl->beta = t->o.ema_beta_auto ? ema_beta_auto(tl->d) : (float)t->o.ema_beta;
        if (nl->kind == NET_CONV || nl->kind == NET_MAXPOOL || nl->kind == NET_AVGPOOL)
            set_geom(tl, nl);
        params += (t->q ? 4 : 3) * tl->params;
        if (tl->hist && t->o.policy == PLAN_STASH)
            hist += tl->d * tl->weights;
        if (tl->hist && t->o.policy == PLAN_EMA)
            hist += 2 * tl->weights;   /* m, and the rebuilt weights (a read-path buffer) */
        if (tl->hist && diag)
            hist += tl->d * tl->weights;
        act += (int64_t)tl->slots * t->B * tl->saved;
        work += 2 * t->B * tl->out;
        if (nl->kind == NET_DENSE)
            scratch = at_least(scratch, t->q ? fixed_dense_scratch(t->B, (int)tl->in,
                                                                   (int)tl->out) / 4 + 1
                                             : dense_scratch(t->B, (int)tl->in, (int)tl->out));
        if (nl->kind == NET_CONV)
            scratch = at_least(scratch, t->q ? fixed_conv_scratch(&tl->g) / 4 + 1
                                             : conv_scratch(&tl->g));
        if (t->q && (nl->kind == NET_MAXPOOL || nl->kind == NET_AVGPOOL))
            scratch = at_least(scratch, fixed_pool_scratch(&tl->g) / 4 + 1);
    }
    for (int i = 0; i < t->n_edges; i++) {
        struct tedge *te = &t->ed[i];
        regs += 2 * te->delay * t->B * te->elems;
        if (te->delay == 0 && te->from != NET_INPUT)
            work += t->B * te->elems;
    }
    int64_t in_elems = net_shape_elems(&n->input);
    int64_t classes = t->ly[t->L - 1].out;
    work += t->B * in_elems + t->B * classes + scratch + 1;
    *z = (struct tsizes){params, hist, act, regs, work, scratch, in_elems, classes};
}

/* Every layer's and edge's named views into the allocations, in layout_sizes' order. */
static void layout_views(struct trainer *t, const struct tsizes *z)
{
    int diag = t->o.diagnostics && t->o.policy != PLAN_STASH;
    int64_t in_elems = z->in_elems, classes = z->classes, scratch = z->scratch;
    float *p = t->params_mem, *h = t->history_mem, *a = t->act_mem, *r = t->reg_mem,
          *w = t->work_mem;
    for (int l = 0; l < t->L; l++) {
        struct tlayer *tl = &t->ly[l];
        tl->w = take(&p, tl->params);
        tl->grad = take(&p, tl->params);
        tl->vel = take(&p, tl->params);
        if (t->q)
            tl->master = (int32_t *)take(&p, tl->params);
        if (tl->hist && t->o.policy == PLAN_STASH)
            tl->stash = take(&h, tl->d * tl->weights);
        if (tl->hist && t->o.policy == PLAN_EMA) {
            tl->ema = take(&h, tl->weights);
            tl->rebuilt = take(&h, tl->weights);
        }
        if (tl->hist && diag)
            tl->shadow = take(&h, tl->d * tl->weights);
        tl->line = take(&a, (int64_t)tl->slots * t->B * tl->saved);
        tl->y = take(&w, t->B * tl->out);
        tl->dy = take(&w, t->B * tl->out);
    }
    for (int i = 0; i < t->n_edges; i++) {
        struct tedge *te = &t->ed[i];
        int64_t n_reg = te->delay * t->B * te->elems;
        te->fwd = take(&r, n_reg);
        t->fwd_words += n_reg;
        if (te->from != NET_INPUT) {
            te->bwd = take(&r, n_reg);
            t->bwd_words += n_reg;
        }
        if (te->delay == 0 && te->from != NET_INPUT)
            te->grad = take(&w, t->B * te->elems);
    }
    t->x = take(&w, t->B * in_elems);
    t->dloss = take(&w, t->B * classes);
    w += (w - t->work_mem) & 1;   /* 8-byte alignment for int64 scratch */
    t->scratch = take(&w, scratch);
    t->act_words = z->act;
}

/* Sizes first (so each family is one allocation), then the views. */
static int layout(struct trainer *t, struct diag *e)
{
    struct tsizes z;
    layout_sizes(t, &z);
    t->params_mem = calloc((size_t)at_least(z.params, 1), sizeof(float));
    t->history_mem = calloc((size_t)at_least(z.hist, 1), sizeof(float));
    t->act_mem = calloc((size_t)at_least(z.act, 1), sizeof(float));
    t->reg_mem = calloc((size_t)at_least(z.regs, 1), sizeof(float));
    t->work_mem = calloc((size_t)at_least(z.work, 1), sizeof(float));
    if (!t->params_mem || !t->history_mem || !t->act_mem || !t->reg_mem || !t->work_mem)
        return lp_fail(e, -1, NULL, "out of memory for the trainer");
    layout_views(t, &z);
    return 0;
}

static int build_edges(struct trainer *t, struct diag *e)
{
    const struct net *n = t->net;
    int k = 0;
    for (int l = 0; l < t->L; l++)
        t->n_edges += n->layers[l].n_inputs;
    t->ed = calloc((size_t)t->n_edges, sizeof *t->ed);
    t->edge_store = calloc((size_t)t->n_edges, sizeof *t->edge_store);
    if (!t->ed || !t->edge_store)
        return lp_fail(e, -1, NULL, "out of memory for the trainer");
    for (int l = 0; l < t->L; l++)
        for (int i = 0; i < n->layers[l].n_inputs; i++, k++) {
            struct tedge *te = &t->ed[k];
            te->from = n->layers[l].inputs[i];
            te->to = l;
            int from_stage = te->from == NET_INPUT ? 1 : t->ly[te->from].stage;
            te->delay = t->ly[l].stage - from_stage;
            te->elems = te->from == NET_INPUT ? net_shape_elems(&n->input)
                                              : net_shape_elems(&n->layers[te->from].out_shape);
            t->ly[l].in_edges[i] = k;
            if (te->from != NET_INPUT)
                t->ly[te->from].n_out++;
        }
    for (int l = 0; l < t->L; l++)
        if (t->ly[l].n_out > TRAIN_MAX_READERS)
            return lp_fail(e, l, NULL, "layer %s is read by %d layers; at most %d",
                           n->layers[l].name, t->ly[l].n_out, TRAIN_MAX_READERS);
    int *store = t->edge_store;
    for (int l = 0; l < t->L; l++) {
        t->ly[l].out_edges = store;
        store += t->ly[l].n_out;
        t->ly[l].n_out = 0;
    }
    for (k = 0; k < t->n_edges; k++)
        if (t->ed[k].from != NET_INPUT) {
            struct tlayer *src = &t->ly[t->ed[k].from];
            src->out_edges[src->n_out++] = k;
        }
    return 0;
}

static void init_weights(struct trainer *t)
{
    struct rng r;
    rng_seed(&r, t->o.seed);
    for (int l = 0; l < t->L; l++) {
        struct tlayer *tl = &t->ly[l];
        if (tl->params == 0)
            continue;
        const struct net_layer *nl = &t->net->layers[l];
        int64_t fan_in = nl->kind == NET_DENSE ? tl->in : tl->weights / nl->out;
        float bound = (float)(1.0 / sqrt((double)fan_in));
        for (int64_t i = 0; i < tl->params; i++) {
            float v = (2.0f * rng_uniform(&r) - 1.0f) * bound;
            if (t->q) {
                tl->master[i] = fixed_from_double(v, t->q->master, t->q->rounding, &tl->sat);
                ((int32_t *)tl->w)[i] = fixed_narrow(tl->master[i], t->q->master.frac,
                                                     t->q->weight, t->q->rounding, &tl->sat);
            } else {
                tl->w[i] = v;
            }
        }
        /* Every stored version starts as W^(0) (weights only). */
        for (int64_t v = 0; v < tl->d; v++) {
            if (tl->stash)
                memcpy(tl->stash + v * tl->weights, tl->w, sizeof(float) * (size_t)tl->weights);
            if (tl->shadow)
                memcpy(tl->shadow + v * tl->weights, tl->w, sizeof(float) * (size_t)tl->weights);
        }
    }
}

int trainer_create(struct trainer **out, const struct net *net, const int *stage_of,
                   int n_stages, const struct train_opts *opts, struct diag *e)
{
    *out = NULL;
    if (opts->batch < 1)
        return lp_fail(e, -1, "batch", "batch must be at least 1");
    if (!opts->ema_beta_auto && !(opts->ema_beta >= 0 && opts->ema_beta < 1))
        return lp_fail(e, -1, "ema_beta", "ema_beta must be in [0, 1)");
    if (opts->lr_schedule == TRAIN_LR_STEP && opts->minibatches_per_epoch < 1)
        return lp_fail(e, -1, "lr_schedule", "a step schedule needs minibatches_per_epoch >= 1");
    if (opts->policy != PLAN_SEQUENTIAL && plan_check(net, stage_of, n_stages, e))
        return -1;
    struct trainer *t = calloc(1, sizeof *t);
    if (!t)
        return lp_fail(e, -1, NULL, "out of memory for the trainer");
    t->net = net;
    t->o = *opts;
    if (opts->fixed) {
        if (fixed_check(net, opts->fixed, opts->batch, e)) {
            free(t);
            return -1;
        }
        t->qs = *opts->fixed;
        t->q = &t->qs;
        t->o.fixed = t->q;
    }
    t->L = net->n_layers;
    t->B = opts->batch;
    t->M = opts->policy == PLAN_SEQUENTIAL ? 1 : n_stages;
    t->ly = calloc((size_t)t->L, sizeof *t->ly);
    t->lstats = calloc((size_t)t->L, sizeof *t->lstats);
    if (!t->ly || !t->lstats) {
        trainer_destroy(t);
        return lp_fail(e, -1, NULL, "out of memory for the trainer");
    }
    for (int l = 0; l < t->L; l++)   /* stages first: build_edges reads them */
        t->ly[l].stage = t->M == 1 ? 1 : stage_of[l];
    if (build_edges(t, e) || layout(t, e)) {
        trainer_destroy(t);
        return -1;
    }
    t->labels = malloc((size_t)t->B);
    if (!t->labels) {
        trainer_destroy(t);
        return lp_fail(e, -1, NULL, "out of memory for the trainer");
    }
    for (int l = 0; l < t->L; l++) {
        struct tlayer *tl = &t->ly[l];
        tl->tags = calloc((size_t)tl->d + 1, sizeof *tl->tags);
        if (!tl->tags) {
            trainer_destroy(t);
            return lp_fail(e, -1, NULL, "out of memory for the trainer");
        }
    }
    init_weights(t);
    for (int l = 0; l < t->L; l++)   /* the initial weights: minibatch -1 */
        if (t->ly[l].params) {
            probe(t, TRAIN_PROBE_WEIGHTS, l, -1, t->ly[l].w, t->ly[l].params);
            if (t->q)
                probe(t, TRAIN_PROBE_MASTER, l, -1, t->ly[l].master, t->ly[l].params);
        }
    *out = t;
    return 0;
}

void trainer_destroy(struct trainer *t)
{
    if (!t)
        return;
    for (int l = 0; t->ly && l < t->L; l++)
        free(t->ly[l].tags);
    free(t->ly);
    free(t->ed);
    free(t->edge_store);
    free(t->params_mem);
    free(t->history_mem);
    free(t->act_mem);
    free(t->reg_mem);
    free(t->work_mem);
    free(t->lstats);
    free(t->labels);
    free(t);
}

/* ---- one step ---- */

static float *slot(float *ring, int64_t index, int depth, int64_t size)
{
    return ring + (index % depth) * size;
}

/* Where layer l's input i comes from when forwarding minibatch n. */
static const float *input_src(struct trainer *t, int e, int64_t n)
{
    const struct tedge *te = &t->ed[e];
    if (te->delay > 0)
        return slot(te->fwd, n, te->delay, t->B * te->elems);
    return te->from == NET_INPUT ? t->x : t->ly[te->from].y;
}

static void probe(const struct trainer *t, enum train_probe kind, int layer, int64_t mb,
                  const void *words, int64_t count)
{
    if (t->o.probe)
        t->o.probe(t->o.probe_ctx, kind, layer, mb, words, count);
}

#define Q32(p) ((int32_t *)(p))
#define CQ32(p) ((const int32_t *)(p))

static int has_relu(const struct net_layer *nl)
{
    return nl->act == NET_ACT_RELU || nl->kind == NET_RELU;
}

/* The forward arithmetic of layer l on B samples: inputs src[], output y;
 * maxpool also writes its argmax. Float or fixed point. */
static void compute_forward(struct trainer *t, int l, const float *const *src, float *y,
                            float *argmax, int B)
{
    const struct net_layer *nl = &t->net->layers[l];
    struct tlayer *tl = &t->ly[l];
    const float *b = tl->params > tl->weights ? tl->w + tl->weights : NULL;
    const struct fixed_spec *q = t->q;
    int64_t count = B * tl->out;
    switch (nl->kind) {
    case NET_DENSE:
        if (q)
            fixed_dense_forward(Q32(y), CQ32(src[0]), CQ32(tl->w), CQ32(b), B, (int)tl->in,
                                (int)tl->out, q, t->scratch, &tl->sat);
        else
            dense_forward(y, src[0], tl->w, b, B, (int)tl->in, (int)tl->out);
        break;
    case NET_CONV:
        if (q)
            fixed_conv_forward(Q32(y), CQ32(src[0]), CQ32(tl->w), CQ32(b), B, &tl->g, q,
                               t->scratch, &tl->sat);
        else
            conv_forward(y, src[0], tl->w, b, B, &tl->g, t->scratch);
        break;
    case NET_MAXPOOL:
        if (q)
            fixed_maxpool_forward(Q32(y), Q32(argmax), CQ32(src[0]), B, &tl->g);
        else
            maxpool_forward(y, argmax, src[0], B, &tl->g);
        break;
    case NET_AVGPOOL:
        if (q)
            fixed_avgpool_forward(Q32(y), CQ32(src[0]), B, &tl->g, q);
        else
            avgpool_forward(y, src[0], B, &tl->g);
        break;
    case NET_ADD:
        if (q) {
            fixed_add(Q32(y), (const int32_t *const *)src, nl->n_inputs, count, q->act,
                      &tl->sat);
        } else {
            memcpy(y, src[0], sizeof(float) * (size_t)count);
            for (int i = 1; i < nl->n_inputs; i++)
                for (int64_t k = 0; k < count; k++)
                    y[k] += src[i][k];
        }
        break;
    case NET_FLATTEN:
    case NET_RELU:
        memcpy(y, src[0], sizeof(float) * (size_t)count);
        break;
    }
    if (has_relu(nl)) {
        if (q)
            for (int64_t k = 0; k < count; k++)
                Q32(y)[k] = Q32(y)[k] > 0 ? Q32(y)[k] : 0;
        else
            relu_forward(y, y, count);
    }
}

/* Forward of layer l for minibatch n in the pipeline: inputs from the
 * registers, the saved input and relu mask (or argmax) into the delay line. */
static void forward_layer(struct trainer *t, int l, int64_t n)
{
    const struct net_layer *nl = &t->net->layers[l];
    struct tlayer *tl = &t->ly[l];
    float *line = slot(tl->line, n, tl->slots, t->B * tl->saved);
    const float *src[NET_MAX_INPUTS];
    float *mask = line;
    for (int i = 0; i < nl->n_inputs; i++)
        src[i] = input_src(t, tl->in_edges[i], n);
    if (tl->d > 0)
        tl->tags[n % (tl->d + 1)] = tl->live;
    if (tl->params)
        probe(t, TRAIN_PROBE_FWD_WEIGHTS, l, n, tl->w, tl->params);
    if (nl->kind == NET_DENSE || nl->kind == NET_CONV) {
        memcpy(line, src[0], sizeof(float) * (size_t)(t->B * tl->in));   /* the saved input */
        src[0] = line;
        mask = line + t->B * tl->in;
    }
    compute_forward(t, l, src, tl->y, line, t->B);
    if (has_relu(nl))
        memcpy(mask, tl->y, sizeof(float) * (size_t)(t->B * tl->out));
    probe(t, TRAIN_PROBE_ACTIVATION, l, n, tl->y, t->B * tl->out);
}

static double loss_of(struct trainer *t, const float *z, int B, int64_t *correct)
{
    int classes = (int)t->ly[t->L - 1].out, mse = t->net->loss == NET_LOSS_MSE;
    if (t->q)
        return fixed_loss(Q32(t->dloss), CQ32(z), t->labels, B, classes, mse, t->q, correct,
                          &t->ly[t->L - 1].sat);
    if (mse)
        return mse_onehot(t->dloss, z, t->labels, B, classes, correct);
    return softmax_ce(t->dloss, z, t->labels, B, classes, correct);
}

/* The host's side: B samples (or their labels) from the dataset; under fixed
 * point the inputs are rounded to the activation format. */
static void load_samples(struct trainer *t, const struct dataset *d, const int32_t *idx, int B,
                         float *x, uint8_t *labels)
{
    for (int s = 0; s < B; s++) {
        int64_t i = idx[s];
        if (labels)
            labels[s] = d->y[i];
        if (!x)
            continue;
        const float *from = d->x + i * d->dim;
        float *to = x + (int64_t)s * d->dim;
        if (t->q)
            for (int k = 0; k < d->dim; k++)
                Q32(to)[k] = fixed_from_double(from[k], t->q->act, t->q->rounding, NULL);
        else
            memcpy(to, from, sizeof(float) * (size_t)d->dim);
    }
}

/* Phase 1 for stage k: forward its layers for minibatch n (local index j of the
 * epoch's order), compute the loss if it is the last stage, then send outputs
 * into the registers of later stages. */
static void forward_stage(struct trainer *t, int k, int64_t n, int64_t j,
                          const struct dataset *d, const int32_t *order, struct train_stats *st)
{
    for (int l = 0; l < t->L; l++)
        if (t->ly[l].stage == k)
            forward_layer(t, l, n);
    if (k == t->M) {
        load_samples(t, d, order + j * t->B, t->B, NULL, t->labels);
        st->loss_sum += loss_of(t, t->ly[t->L - 1].y, t->B, &st->correct);
        st->samples += t->B;
        probe(t, TRAIN_PROBE_LOSS_GRAD, t->L - 1, n, t->dloss, t->B * t->ly[t->L - 1].out);
    }
    for (int i = 0; i < t->n_edges; i++) {
        struct tedge *te = &t->ed[i];
        int from_stage = te->from == NET_INPUT ? 1 : t->ly[te->from].stage;
        if (te->delay > 0 && from_stage == k)
            memcpy(slot(te->fwd, n, te->delay, t->B * te->elems),
                   te->from == NET_INPUT ? t->x : t->ly[te->from].y,
                   sizeof(float) * (size_t)(t->B * te->elems));
    }
}

/* Where layer l's gradient for input i goes when backwarding minibatch m. */
static float *grad_dst(struct trainer *t, int e, int64_t m)
{
    struct tedge *te = &t->ed[e];
    if (te->from == NET_INPUT)
        return NULL;
    return te->delay > 0 ? slot(te->bwd, m, te->delay, t->B * te->elems) : te->grad;
}

/* Relative L2 distance of a from exact (words: float, or int32 of one format). */
static double rel_l2(const struct trainer *t, const float *a, const float *exact, int64_t n)
{
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = t->q ? CQ32(a)[i] : a[i], e = t->q ? CQ32(exact)[i] : exact[i];
        diff += (x - e) * (x - e);
        norm += e * e;
    }
    return norm > 0 ? sqrt(diff / norm) : sqrt(diff);
}

/* The weights (no biases) layer l's backward of minibatch m reads under the
 * policy to propagate the error. A layer that propagates none reads no weights
 * (its weight gradient reads activations only): it gets the live ones, which the
 * kernel does not touch, and nothing is reported. */
static const float *backward_weights(struct trainer *t, int l, int64_t m)
{
    struct tlayer *tl = &t->ly[l];
    const float *w = tl->w, *exact = tl->w;
    if (!tl->propagates)
        return w;
    if (tl->hist) {
        int64_t v = tl->tags[m % (tl->d + 1)], gap = tl->live - v;
        if (gap > 0) {
            const float *stored = tl->stash ? tl->stash : tl->shadow;
            if (stored)
                exact = stored + (v % tl->d) * tl->weights;
            if (t->o.policy == PLAN_STASH) {
                w = exact;
            } else if (t->o.policy == PLAN_EMA) {
                if (t->q)
                    fixed_rebuild(Q32(tl->rebuilt), tl->master, CQ32(tl->ema), gap, tl->weights,
                                  t->q, &tl->sat);
                else
                    ema_rebuild(tl->rebuilt, tl->w, tl->ema, gap, tl->weights);
                w = tl->rebuilt;
            }
        }
    }
    if (t->o.diagnostics) {
        struct train_layer_stats *s = &t->lstats[l];
        double err = w == exact ? 0.0 : rel_l2(t, w, exact, tl->weights);
        s->recon_sum += err;
        s->recon_max = err > s->recon_max ? err : s->recon_max;
        s->recon_count++;
    }
    probe(t, TRAIN_PROBE_BWD_WEIGHTS, l, m, w, tl->weights);
    return w;
}

double trainer_lr(const struct trainer *t, int64_t m)
{
    return train_lr_at(&t->o, m);
}

double train_lr_at(const struct train_opts *o, int64_t m)
{
    switch (o->lr_schedule) {
    case TRAIN_LR_STEP:
        return o->lr * pow(o->lr_decay, (double)(m / o->minibatches_per_epoch));
    case TRAIN_LR_COSINE:
        return o->lr * 0.5 * (1.0 + cos(3.141592653589793 * (double)m /
                                        (double)(o->total_minibatches > 0 ? o->total_minibatches : 1)));
    default:
        return o->lr;
    }
}

/* SGD with momentum and weight decay on every parameter:
 *   v <- momentum*v + (grad + wd*w);  u = lr*v;  w <- w - u;  m <- beta*m + (1-beta)*u
 * with the live weights first kept in the history ring. The history (ring and m)
 * covers the weights only, and only where the layer keeps one. Fixed point: the
 * same on the master weights, lr divided by the batch (docs/numerics.md); the
 * words with an EMA buffer and the rest are two calls (elementwise, so the same
 * words as one). */
static void update_layer(struct trainer *t, int l, int64_t m)
{
    struct tlayer *tl = &t->ly[l];
    if (tl->params == 0)
        return;
    if (tl->hist) {
        int64_t at = (tl->live % tl->d) * tl->weights;
        size_t bytes = sizeof(float) * (size_t)tl->weights;
        if (tl->stash)
            memcpy(tl->stash + at, tl->w, bytes);
        if (tl->shadow)
            memcpy(tl->shadow + at, tl->w, bytes);
    }
    double lr = trainer_lr(t, m);
    if (t->q) {
        uint64_t lrq = fixed_const(lr / t->B, FIXED_LR_FRAC);
        uint64_t wd = fixed_const(t->o.weight_decay, FIXED_LR_FRAC);
        uint32_t mu = fixed_coef(t->o.momentum), beta = fixed_coef(tl->beta);
        int64_t nm = tl->ema ? tl->weights : 0;   /* the words with an EMA buffer */
        if (nm)
            fixed_update(tl->master, Q32(tl->w), Q32(tl->vel), Q32(tl->ema), CQ32(tl->grad),
                         nm, lrq, wd, mu, beta, t->q, &tl->sat);
        fixed_update(tl->master + nm, Q32(tl->w) + nm, Q32(tl->vel) + nm, NULL,
                     CQ32(tl->grad) + nm, tl->params - nm, lrq, wd, mu, beta, t->q, &tl->sat);
    } else {
        float lrf = (float)lr, mu = (float)t->o.momentum, wd = (float)t->o.weight_decay;
        for (int64_t i = 0; i < tl->params; i++) {
            float v = mu * tl->vel[i] + (tl->grad[i] + wd * tl->w[i]);
            tl->vel[i] = v;
            tl->grad[i] = lrf * v;   /* the grad buffer now holds the step u */
            tl->w[i] -= tl->grad[i];
        }
        if (tl->ema)
            ema_update(tl->ema, tl->grad, tl->beta, tl->weights);
    }
    tl->live++;
}

/* dy = the sum of the gradients its readers sent, in edge order (fixed point:
 * exact, then saturated to the error format). */
/* dy = the sum of the gradients its readers sent, in edge order (fixed point:
 * the exact sum, saturated once to the error format). */
static void gather_dy(struct trainer *t, struct tlayer *tl, int64_t m, int64_t count)
{
    const float *g[TRAIN_MAX_READERS];
    int n = tl->n_out;   /* <= TRAIN_MAX_READERS: build_edges checks */
    for (int i = 0; i < n; i++) {
        struct tedge *te = &t->ed[tl->out_edges[i]];
        g[i] = te->delay > 0 ? slot(te->bwd, m, te->delay, count) : te->grad;
    }
    for (int64_t k = 0; k < count; k++) {
        if (t->q) {
            int64_t sum = 0;
            for (int i = 0; i < n; i++)
                sum += CQ32(g[i])[k];
            Q32(tl->dy)[k] = fixed_sat(sum, t->q->err, &tl->sat);
        } else {
            float sum = 0;
            for (int i = 0; i < n; i++)
                sum += g[i][k];
            tl->dy[k] = sum;
        }
    }
}

static void backward_layer(struct trainer *t, int l, int64_t m)
{
    const struct net_layer *nl = &t->net->layers[l];
    struct tlayer *tl = &t->ly[l];
    const struct fixed_spec *q = t->q;
    const float *line = slot(tl->line, m, tl->slots, t->B * tl->saved);
    int64_t count = t->B * tl->out;
    float *dy = tl->dy;

    if (l == t->L - 1)
        memcpy(dy, t->dloss, sizeof(float) * (size_t)count);
    else
        gather_dy(t, tl, m, count);
    if (has_relu(nl)) {
        const float *mask = nl->kind == NET_DENSE || nl->kind == NET_CONV
                                ? line + t->B * tl->in : line;
        if (q)
            for (int64_t k = 0; k < count; k++)
                Q32(dy)[k] = CQ32(mask)[k] > 0 ? Q32(dy)[k] : 0;
        else
            relu_backward(dy, dy, mask, count);
    }
    probe(t, TRAIN_PROBE_ERROR, l, m, dy, count);

    float *dx = grad_dst(t, tl->in_edges[0], m);
    float *db = tl->params > tl->weights ? tl->grad + tl->weights : NULL;
    switch (nl->kind) {
    case NET_DENSE:
    case NET_CONV: {
        const float *w = backward_weights(t, l, m);
        if (q && nl->kind == NET_DENSE)
            fixed_dense_backward(Q32(dx), Q32(tl->grad), Q32(db), CQ32(dy), CQ32(line), CQ32(w),
                                 t->B, (int)tl->in, (int)tl->out, q, t->scratch, &tl->sat);
        else if (q)
            fixed_conv_backward(Q32(dx), Q32(tl->grad), Q32(db), CQ32(dy), CQ32(line), CQ32(w),
                                t->B, &tl->g, q, t->scratch, &tl->sat);
        else {
            memset(tl->grad, 0, sizeof(float) * (size_t)tl->params);
            if (nl->kind == NET_DENSE)
                dense_backward(dx, tl->grad, db, dy, line, w, t->B, (int)tl->in, (int)tl->out,
                               t->scratch);
            else
                conv_backward(dx, tl->grad, db, dy, line, w, t->B, &tl->g, t->scratch);
        }
        probe(t, TRAIN_PROBE_GRADIENT, l, m, tl->grad, tl->params);
        update_layer(t, l, m);
        probe(t, TRAIN_PROBE_WEIGHTS, l, m, tl->w, tl->params);
        if (t->q)
            probe(t, TRAIN_PROBE_MASTER, l, m, tl->master, tl->params);
        break;
    }
    case NET_MAXPOOL:
        if (dx && q)
            fixed_maxpool_backward(Q32(dx), CQ32(dy), CQ32(line), t->B, &tl->g, q, t->scratch,
                                   &tl->sat);
        else if (dx)
            maxpool_backward(dx, dy, line, t->B, &tl->g);
        break;
    case NET_AVGPOOL:
        if (dx && q)
            fixed_avgpool_backward(Q32(dx), CQ32(dy), t->B, &tl->g, q, t->scratch, &tl->sat);
        else if (dx)
            avgpool_backward(dx, dy, t->B, &tl->g);
        break;
    case NET_FLATTEN:
    case NET_RELU:
        if (dx)
            memcpy(dx, dy, sizeof(float) * (size_t)count);
        break;
    case NET_ADD:
        for (int i = 0; i < nl->n_inputs; i++) {
            float *di = grad_dst(t, tl->in_edges[i], m);
            if (di)
                memcpy(di, dy, sizeof(float) * (size_t)count);
        }
        break;
    }
}

int64_t trainer_epoch_begin(struct trainer *t, const struct dataset *d, const int32_t *order,
                            int64_t n_mb, int64_t first_mb, struct train_stats *st)
{
    memset(st, 0, sizeof *st);
    memset(t->lstats, 0, sizeof *t->lstats * (size_t)t->L);
    for (int l = 0; l < t->L; l++)
        t->ly[l].sat = 0;
    st->layer = t->lstats;
    t->ep.d = d, t->ep.order = order, t->ep.st = st;
    t->ep.n_mb = n_mb > 0 ? n_mb : 0, t->ep.first_mb = first_mb;
    t->ep.steps = n_mb > 0 ? n_mb + 2 * t->M - 2 : 0;
    return t->ep.steps;
}

void trainer_step_input(struct trainer *t, int64_t s)
{
    /* Global minibatch numbers keep counting across epochs: the ring slots and
     * version tags are indexed by them. Minibatch first_mb + j is local j. */
    if (s < t->ep.n_mb) {
        load_samples(t, t->ep.d, t->ep.order + s * t->B, t->B, t->x, NULL);
        probe(t, TRAIN_PROBE_INPUT, -1, t->ep.first_mb + s, t->x,
              (int64_t)t->B * t->ep.d->dim);
    }
}

void trainer_stage_forward(struct trainer *t, int k, int64_t s)
{
    int64_t j = s - (k - 1);
    if (j >= 0 && j < t->ep.n_mb)
        forward_stage(t, k, t->ep.first_mb + j, j, t->ep.d, t->ep.order, t->ep.st);
}

void trainer_stage_backward(struct trainer *t, int k, int64_t s)
{
    int64_t j = s - (2 * t->M - 1 - k);
    if (j < 0 || j >= t->ep.n_mb)
        return;
    for (int l = t->L - 1; l >= 0; l--)
        if (t->ly[l].stage == k)
            backward_layer(t, l, t->ep.first_mb + j);
}

void trainer_epoch_step(struct trainer *t, int64_t s)
{
    trainer_step_input(t, s);
    /* Phase 1: forwards, last stage first, so a register is read before the
     * stage before it overwrites it. */
    for (int k = t->M; k >= 1; k--)
        trainer_stage_forward(t, k, s);
    /* Phase 2: backwards and updates, first stage first. */
    for (int k = 1; k <= t->M; k++)
        trainer_stage_backward(t, k, s);
    if (t->o.progress && ((s + 1) % 64 == 0 || s + 1 == t->ep.steps))
        t->o.progress(t->o.progress_ctx, s + 1, t->ep.steps, t->ep.st->loss_sum,
                      t->ep.st->samples);
}

void trainer_epoch_end(struct trainer *t)
{
    for (int l = 0; l < t->L; l++)
        t->lstats[l].saturations = t->ly[l].sat;
    t->ep.st->steps = t->ep.steps;
}

void trainer_epoch(struct trainer *t, const struct dataset *d, const int32_t *order,
                   int64_t n_mb, int64_t first_mb, struct train_stats *st)
{
    int64_t steps = trainer_epoch_begin(t, d, order, n_mb, first_mb, st);
    for (int64_t s = 0; s < steps; s++)
        trainer_epoch_step(t, s);
    trainer_epoch_end(t);
}

/* ---- evaluation, accessors ---- */

void trainer_evaluate(struct trainer *t, const struct dataset *d, int64_t n, double *loss_sum,
                      int64_t *correct)
{
    int32_t idx[256];
    *loss_sum = 0;
    *correct = 0;
    for (int64_t i = 0; i < n; i += t->B) {
        int B = (int)(n - i < t->B ? n - i : t->B);
        for (int s0 = 0; s0 < B; s0 += 256) {   /* the identity order, in chunks */
            int c = B - s0 < 256 ? B - s0 : 256;
            for (int k = 0; k < c; k++)
                idx[k] = (int32_t)(i + s0 + k);
            load_samples(t, d, idx, c, t->x + (int64_t)s0 * d->dim, t->labels + s0);
        }
        for (int l = 0; l < t->L; l++) {
            const struct net_layer *nl = &t->net->layers[l];
            const float *src[NET_MAX_INPUTS];
            for (int k = 0; k < nl->n_inputs; k++) {
                const struct tedge *te = &t->ed[t->ly[l].in_edges[k]];
                src[k] = te->from == NET_INPUT ? t->x : t->ly[te->from].y;
            }
            compute_forward(t, l, src, t->ly[l].y, t->ly[l].dy, B);   /* argmax: unused */
        }
        *loss_sum += loss_of(t, t->ly[t->L - 1].y, B, correct);
    }
}

int64_t trainer_params(const struct trainer *t, int l, float *out)
{
    const struct tlayer *tl = &t->ly[l];
    for (int64_t i = 0; out && i < tl->params; i++)
        out[i] = t->q ? (float)fixed_to_double(CQ32(tl->w)[i], t->q->weight) : tl->w[i];
    return tl->params;
}

void trainer_alloc(const struct trainer *t, struct train_alloc *a)
{
    memset(a, 0, sizeof *a);
    for (int l = 0; l < t->L; l++) {
        const struct tlayer *tl = &t->ly[l];
        if (tl->stash)
            a->stash_words += tl->d * tl->weights;
        if (tl->ema)
            a->ema_words += tl->weights;
    }
    a->act_words = t->act_words;
    a->forward_reg_words = t->fwd_words;
    a->backward_reg_words = t->bwd_words;
}

int trainer_stages(const struct trainer *t)
{
    return t->M;
}
