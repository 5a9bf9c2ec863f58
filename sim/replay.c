#include "replay.h"

#include <stdlib.h>
#include <string.h>

#include "../model/history.h"
#include "blocks.h"
#include "blocks_ema_unit.h"
#include "blocks_mac_array.h"
#include "blocks_sgd_update.h"
#include "blocks_stash_ring_bank.h"

#define R SIM_MAC_ROWS
#define C SIM_MAC_COLS
#define SRB_RING 3                     /* the stash_ring_bank's ring of depth 6 */
#define SRB_N SIM_SRB_N

/* Per layer: the state the RTL keeps, and what each minibatch produced. */
struct rlayer {
    int in, out, params, d, stage;
    int weights;                       /* in * out: what the input gradient reads */
    int32_t *w, *master, *vel, *m;     /* params each */
    int64_t live, *tag;                /* tag[mb]: the version its forward read */
    int32_t *act, *dy, *dx;            /* per minibatch: [mb * size] */
    int32_t *wbwd;                     /* per minibatch: the weights dx read [mb * weights] */
    struct sim_srb *stash;             /* its ring SRB_RING holds the versions */
};

struct replay {
    const struct replay_setup *s;
    int L, B;
    struct rlayer *ly;
    int32_t *x, *loss;                 /* per minibatch */
    struct sim_mac *mac;
    struct sim_narrow *narrow;
    struct sim_ema_unit *ema;
    struct sim_sgd_update *sgd;
    struct replay_result *res;
};

/* ---- the blocks ---- */

static int32_t narrow(struct replay *r, int64_t x, int frac_in, struct fixed_fmt f)
{
    int sat;
    return sim_narrow_eval(r->narrow, x, frac_in - f.frac, f.bits,
                           r->s->q->rounding == FIXED_NEAREST_EVEN, &sat);
}

/* C[M x N] = A[M x K] * B[K x N] (row-major, strides lda, ldb) on the MAC array,
 * tile by tile; one extra beat adds bias_a[r] * bias_b[c] when bias_b is non-NULL. */
static int product(struct replay *r, int M, int N, int K, const int32_t *A, int lda,
                   const int32_t *B, int ldb, const int32_t *bias_a, const int32_t *bias_b,
                   int64_t *out)
{
    int Kb = K + (bias_b != NULL);
    int32_t *a = malloc(sizeof *a * (size_t)R * (size_t)Kb);
    int32_t *b = malloc(sizeof *b * (size_t)Kb * C);
    int64_t sums[R * C];
    int rc = a && b ? 0 : -1;
    for (int i0 = 0; !rc && i0 < M; i0 += R)
        for (int j0 = 0; !rc && j0 < N; j0 += C) {
            for (int k = 0; k < Kb; k++)
                for (int t = 0; t < R || t < C; t++) {
                    int i = i0 + t, j = j0 + t, bias = k == K;
                    if (t < R)
                        a[t * Kb + k] = i >= M ? 0 : bias ? bias_a[i] : A[(int64_t)i * lda + k];
                    if (t < C)
                        b[k * C + t] = j >= N ? 0 : bias ? bias_b[j] : B[(int64_t)k * ldb + j];
                }
            struct sim_mac_tile_stats st;
            rc = sim_mac_tile(r->mac, a, b, Kb, NULL, (uint32_t)r->res->mac_tiles, sums, &st);
            r->res->mac_tiles++;
            r->res->mac_cycles += st.cycles;
            for (int i = i0; !rc && i < M && i < i0 + R; i++)
                for (int j = j0; j < N && j < j0 + C; j++)
                    out[(int64_t)i * N + j] = sums[(i - i0) * C + (j - j0)];
        }
    free(a);
    free(b);
    return rc;
}

/* ---- comparing ---- */

static int64_t step_of(const struct replay *r, enum train_probe kind, int stage, int64_t mb)
{
    int M = r->s->opts->policy == PLAN_SEQUENTIAL ? 1 : r->s->n_stages;
    int fwd = kind == TRAIN_PROBE_INPUT || kind == TRAIN_PROBE_FWD_WEIGHTS ||
              kind == TRAIN_PROBE_ACTIVATION || kind == TRAIN_PROBE_LOSS_GRAD;
    return fwd ? mb + stage - 1 : mb + 2 * M - 1 - stage;
}

static void compare(struct replay *r, const struct replay_record *rec, const int32_t *actual)
{
    struct replay_result *res = r->res;
    int stage = rec->layer >= 0 ? r->ly[rec->layer].stage : 1;
    for (int64_t i = 0; i < rec->count; i++) {
        res->compared++;
        if (rec->words[i] == actual[i])
            continue;
        if (res->mismatches++ == 0)
            res->first = (struct replay_mismatch){rec->kind, rec->layer, stage, rec->minibatch,
                                                  step_of(r, rec->kind, stage, rec->minibatch),
                                                  i, rec->words[i], actual[i]};
    }
}

/* ---- the layer operations ---- */

static const int32_t *layer_input(struct replay *r, int l, int64_t mb)
{
    return l == 0 ? r->x + mb * r->B * r->ly[0].in
                  : r->ly[l - 1].act + mb * r->B * r->ly[l - 1].out;
}

static int forward(struct replay *r, int l, int64_t mb, int32_t *y)
{
    struct rlayer *ly = &r->ly[l];
    const struct fixed_spec *q = r->s->q;
    int64_t *acc = malloc(sizeof *acc * (size_t)r->B * (size_t)ly->out);
    int32_t *one = malloc(sizeof *one * (size_t)r->B);
    int rc = acc && one ? 0 : -1;
    for (int b = 0; one && b < r->B; b++)   /* the bias beat: (1 << act.frac) * bias */
        one[b] = (int32_t)1 << q->act.frac;
    const int32_t *bias = r->s->net->layers[l].bias ? ly->w + ly->in * ly->out : NULL;
    if (!rc)
        rc = product(r, r->B, ly->out, ly->in, layer_input(r, l, mb), ly->in, ly->w, ly->out,
                     one, bias, acc);
    for (int64_t i = 0; !rc && i < (int64_t)r->B * ly->out; i++) {
        y[i] = narrow(r, acc[i], q->act.frac + q->weight.frac, q->act);
        if (r->s->net->layers[l].act == NET_ACT_RELU && y[i] < 0)
            y[i] = 0;
    }
    free(acc);
    free(one);
    return rc;
}

/* The words of version v of layer l's weights through the stash ring: column segments
 * of SRB_N rows, one a cycle, each answered SIM_SRB_LATENCY cycles later. */
static void stash_read(struct replay *r, int l, int64_t v, int32_t *wb)
{
    struct rlayer *ly = &r->ly[l];
    int sh = 32 - r->s->q->weight.bits;   /* the stored word, sign-extended */
    int nseg = (ly->in + SRB_N - 1) / SRB_N, n = ly->out * nseg;
    for (int i = 0; i < n + SIM_SRB_LATENCY; i++) {
        struct sim_srb_in in = {0};
        struct sim_srb_out out;
        in.rd_valid = i < n;
        in.rd_ver = (uint32_t)v;
        in.rd_q = in.rd_valid ? (uint32_t)(i / nseg) : 0;
        in.rd_p = in.rd_valid ? (uint32_t)(i % nseg * SRB_N) : 0;
        sim_srb_cycle(ly->stash, &in, &out);
        int at = i - SIM_SRB_LATENCY, o = at / nseg, p0 = at % nseg * SRB_N;
        if (at < 0 || !out.rd_valid[SRB_RING])
            continue;
        for (int lane = 0; lane < SRB_N && p0 + lane < ly->in; lane++) {
            int64_t k = (int64_t)(p0 + lane) * ly->out + o;
            wb[k] = out.rd_live[SRB_RING] ? ly->w[k]
                    : out.rd_miss[SRB_RING] ? 0
                    : (int32_t)(out.rd_data[SRB_RING][lane] << sh) >> sh;
        }
    }
}

static void backward_weights(struct replay *r, int l, int64_t mb, int32_t *wb)
{
    struct rlayer *ly = &r->ly[l];
    enum plan_policy pol = r->s->opts->policy;
    int64_t v = ly->tag[mb], gap = ly->live - v;
    const struct fixed_spec *q = r->s->q;
    if (gap == 0 || pol == PLAN_STALE || pol == PLAN_SEQUENTIAL) {
        memcpy(wb, ly->w, sizeof *wb * (size_t)ly->weights);
        return;
    }
    if (pol == PLAN_STASH) {
        stash_read(r, l, v, wb);
        return;
    }
    /* The block harness returns, in call t, what a word presented in call t - LATENCY
     * produced. Only the weights: the input gradient reads no bias. */
    int lat = SIM_EMA_UNIT_LATENCY;
    for (int i = 0; i < ly->weights + lat; i++) {
        struct sim_ema_unit_in in = {0};
        struct sim_ema_unit_out out;
        in.round_even = q->rounding == FIXED_NEAREST_EVEN;
        in.master_bits = q->master.bits, in.master_frac = q->master.frac;
        in.weight_bits = q->weight.bits, in.weight_frac = q->weight.frac;
        in.rb_valid = i < ly->weights;
        if (in.rb_valid)
            in.rb_master = ly->master[i], in.rb_m = ly->m[i], in.rb_gap = (uint32_t)gap;
        sim_ema_unit_cycle(r->ema, &in, &out);
        if (out.rb_valid && i - lat >= 0)
            wb[i - lat] = out.rb_w;
    }
}

static int gradient(struct replay *r, int l, int64_t mb, int32_t *g)
{
    struct rlayer *ly = &r->ly[l];
    const struct fixed_spec *q = r->s->q;
    const int32_t *x = layer_input(r, l, mb), *dy = ly->dy + mb * r->B * ly->out;
    int B = r->B, I = ly->in, O = ly->out;
    int64_t *acc = malloc(sizeof *acc * (size_t)(I + 1) * (size_t)(O > I ? O : I) * (size_t)B);
    int32_t *xt = malloc(sizeof *xt * (size_t)I * (size_t)B);
    int32_t *ones = calloc((size_t)B, sizeof *ones), *wt = malloc(sizeof *wt * (size_t)I * O);
    int rc = acc && xt && ones && wt ? 0 : -1;
    for (int b = 0; !rc && b < B; b++)
        for (int i = 0; i < I; i++)
            xt[(int64_t)i * B + b] = x[(int64_t)b * I + i];
    /* dW [I x O] = x^T dy: the outer products, summed over the batch */
    if (!rc)
        rc = product(r, I, O, B, xt, B, dy, O, NULL, NULL, acc);
    for (int64_t k = 0; !rc && k < (int64_t)I * O; k++)
        g[k] = narrow(r, acc[k], q->act.frac + q->err.frac, q->grad);
    /* db [O] = ones^T dy */
    for (int b = 0; b < B && ones; b++)
        ones[b] = 1;
    if (!rc && r->s->net->layers[l].bias) {
        rc = product(r, 1, O, B, ones, B, dy, O, NULL, NULL, acc);
        for (int o = 0; !rc && o < O; o++)
            g[(int64_t)I * O + o] = narrow(r, acc[o], q->err.frac, q->grad);
    }
    /* dx [B x I] = dy W_bwd^T, for the layer before */
    if (!rc && l > 0) {
        const int32_t *wb = ly->wbwd + mb * ly->weights;
        for (int i = 0; i < I; i++)
            for (int o = 0; o < O; o++)
                wt[(int64_t)o * I + i] = wb[(int64_t)i * O + o];
        rc = product(r, B, I, O, dy, O, wt, I, NULL, NULL, acc);
        for (int64_t k = 0; !rc && k < (int64_t)B * I; k++)
            ly->dx[mb * B * I + k] = narrow(r, acc[k], q->err.frac + q->weight.frac, q->err);
    }
    free(acc), free(xt), free(ones), free(wt);
    return rc;
}

static void update(struct replay *r, int l, int64_t mb, const int32_t *grad)
{
    struct rlayer *ly = &r->ly[l];
    const struct fixed_spec *q = r->s->q;
    const struct train_opts *o = r->s->opts;
    int ema = o->policy == PLAN_EMA && ly->d > 0;
    if (ly->stash)   /* the live weights (no biases) become a stored version, a row
                        segment a cycle in the ring's bank order */
        for (int i = 0; i < ly->in; i++)
            for (int q0 = 0; q0 < ly->out; q0 += SRB_N) {
                struct sim_srb_in in = {0};
                in.push_valid = 1, in.push_p = (uint32_t)i, in.push_q = (uint32_t)q0;
                in.push_n = (uint32_t)(ly->out - q0 < SRB_N ? ly->out - q0 : SRB_N);
                in.push_last = i == ly->in - 1 && q0 + SRB_N >= ly->out;
                for (int lane = 0; lane < (int)in.push_n; lane++)
                    in.push_data[(i + q0 + lane) % SRB_N] =
                        (uint32_t)ly->w[(int64_t)i * ly->out + q0 + lane] &
                        (uint32_t)((1ull << q->weight.bits) - 1);
                sim_srb_cycle(ly->stash, &in, NULL);
            }
    float beta = o->ema_beta_auto ? ema_beta_auto(ly->d) : (float)o->ema_beta;
    struct sim_sgd_update_in in = {0};
    in.lr = fixed_const(train_lr_at(o, mb) / o->batch, FIXED_LR_FRAC);
    in.wd = fixed_const(o->weight_decay, FIXED_LR_FRAC);
    in.mu = fixed_coef(o->momentum), in.beta = fixed_coef(beta);
    in.ema_en = ema, in.round_even = q->rounding == FIXED_NEAREST_EVEN;
    in.weight_bits = q->weight.bits, in.weight_frac = q->weight.frac;
    in.master_bits = q->master.bits, in.master_frac = q->master.frac;
    in.grad_bits = q->grad.bits, in.grad_frac = q->grad.frac;
    for (int i = 0, done = 0; done < ly->params && i < ly->params + 64; i++) {
        struct sim_sgd_update_out out;
        in.valid = i < ly->params;
        if (in.valid)
            in.grad = grad[i], in.vel = ly->vel[i], in.master = ly->master[i], in.m = ly->m[i];
        sim_sgd_update_cycle(r->sgd, &in, &out);
        if (out.valid) {
            ly->master[done] = out.master, ly->w[done] = out.w, ly->vel[done] = out.vel;
            if (ema)
                ly->m[done] = out.m;
            done++;
        }
    }
    ly->live++;
}

/* ---- setup ---- */

static int setup(struct replay *r, const struct replay_setup *s, struct diag *e)
{
    const struct net *n = s->net;
    int M = s->opts->policy == PLAN_SEQUENTIAL ? 1 : s->n_stages;
    r->L = n->n_layers, r->B = s->opts->batch;
    r->ly = calloc((size_t)r->L, sizeof *r->ly);
    r->mac = sim_mac_create(), r->narrow = sim_narrow_create();
    r->ema = sim_ema_unit_create(), r->sgd = sim_sgd_update_create();
    if (!r->ly || !r->mac || !r->narrow || !r->ema || !r->sgd)
        return lp_fail(e, -1, NULL, "out of memory for the replay");
    int64_t nmb = s->minibatches;
    r->x = calloc((size_t)(nmb * r->B * net_shape_elems(&n->input)), sizeof *r->x);
    r->loss = calloc((size_t)(nmb * r->B * net_shape_elems(&n->layers[r->L - 1].out_shape)),
                     sizeof *r->loss);
    if (!r->x || !r->loss)
        return lp_fail(e, -1, NULL, "out of memory for the replay");
    for (int l = 0; l < r->L; l++) {
        const struct net_layer *nl = &n->layers[l];
        struct rlayer *ly = &r->ly[l];
        if (nl->kind != NET_DENSE)
            return lp_fail(e, l, NULL, "layer %s: the replay runs dense layers only", nl->name);
        ly->in = (int)net_shape_elems(&nl->in_shape), ly->out = nl->out;
        ly->params = (int)nl->params, ly->weights = (int)nl->weights;
        ly->stage = M == 1 ? 1 : s->stage_of[l];
        ly->d = 2 * (M - ly->stage);
        size_t p = (size_t)ly->params, act = (size_t)(nmb * r->B * ly->out);
        ly->w = calloc(p, 4), ly->master = calloc(p, 4), ly->vel = calloc(p, 4);
        ly->m = calloc(p, 4), ly->tag = calloc((size_t)nmb, sizeof *ly->tag);
        ly->act = calloc(act, 4), ly->dy = calloc(act, 4);
        ly->dx = calloc((size_t)(nmb * r->B * ly->in), 4);
        ly->wbwd = calloc((size_t)nmb * (size_t)ly->weights + 1, 4);
        if (!ly->w || !ly->master || !ly->vel || !ly->m || !ly->tag || !ly->act || !ly->dy ||
            !ly->dx || !ly->wbwd)
            return lp_fail(e, -1, NULL, "out of memory for the replay");
        if (s->opts->policy == PLAN_STASH && ly->d > 0 && plan_propagates(s->net, l)) {
            static const int depths[] = SIM_SRB_DEPTHS;
            if (ly->d > depths[SRB_RING] || ly->in > SIM_SRB_P || ly->out > SIM_SRB_Q ||
                s->q->weight.bits > SIM_SRB_WIDTH)
                return lp_fail(e, l, NULL, "layer %s needs a stash of %d versions of %d x %d "
                               "words of %d bits; the RTL block holds %d of %d x %d of %d",
                               nl->name, ly->d, ly->in, ly->out, s->q->weight.bits,
                               depths[SRB_RING], SIM_SRB_P, SIM_SRB_Q, SIM_SRB_WIDTH);
            if (!(ly->stash = sim_srb_create()))
                return lp_fail(e, -1, NULL, "out of memory for the replay");
        }
    }
    return 0;
}

static void teardown(struct replay *r)
{
    sim_mac_destroy(r->mac);
    sim_narrow_destroy(r->narrow);
    sim_ema_unit_destroy(r->ema);
    sim_sgd_update_destroy(r->sgd);
    for (int l = 0; r->ly && l < r->L; l++) {
        struct rlayer *ly = &r->ly[l];
        free(ly->w), free(ly->master), free(ly->vel), free(ly->m), free(ly->tag);
        free(ly->act), free(ly->dy), free(ly->dx), free(ly->wbwd);
        sim_srb_destroy(ly->stash);
    }
    free(r->ly), free(r->x), free(r->loss);
}

/* ---- the record stream ---- */

static int step_record(struct replay *r, const struct replay_record *rec, struct diag *e)
{
    int l = rec->layer;
    int64_t mb = rec->minibatch;
    struct rlayer *ly = l >= 0 ? &r->ly[l] : NULL;
    size_t bytes = sizeof(int32_t) * (size_t)rec->count;
    int32_t *tmp = malloc(bytes ? bytes : 4);
    int rc = tmp ? 0 : lp_fail(e, -1, NULL, "out of memory for the replay");
    switch (rc ? TRAIN_N_PROBES : rec->kind) {
    case TRAIN_PROBE_INPUT:
        memcpy(r->x + mb * rec->count, rec->words, bytes);
        break;
    case TRAIN_PROBE_LOSS_GRAD:   /* the host's part: fed, not compared */
        memcpy(r->loss + mb * rec->count, rec->words, bytes);
        break;
    case TRAIN_PROBE_WEIGHTS:
    case TRAIN_PROBE_MASTER:
        if (mb < 0) {   /* the initial weights, loaded by the host */
            memcpy(rec->kind == TRAIN_PROBE_WEIGHTS ? ly->w : ly->master, rec->words, bytes);
            break;
        }
        compare(r, rec, rec->kind == TRAIN_PROBE_WEIGHTS ? ly->w : ly->master);
        break;
    case TRAIN_PROBE_FWD_WEIGHTS:
        ly->tag[mb] = ly->live;
        compare(r, rec, ly->w);
        break;
    case TRAIN_PROBE_ACTIVATION:
        rc = forward(r, l, mb, ly->act + mb * rec->count);
        compare(r, rec, ly->act + mb * rec->count);
        break;
    case TRAIN_PROBE_ERROR: {
        int32_t *dy = ly->dy + mb * rec->count;
        const int32_t *src = l == r->L - 1 ? r->loss + mb * rec->count
                                           : r->ly[l + 1].dx + mb * rec->count;
        const int32_t *y = ly->act + mb * rec->count;
        for (int64_t i = 0; i < rec->count; i++)
            dy[i] = r->s->net->layers[l].act == NET_ACT_RELU && y[i] <= 0 ? 0 : src[i];
        compare(r, rec, dy);
        break;
    }
    case TRAIN_PROBE_BWD_WEIGHTS:
        /* The weights only, and none for the first layer: its backward reads none. */
        if (l == 0 || rec->count != ly->weights) {
            rc = lp_fail(e, l, NULL, "a bwd_weights record of %lld words for layer %d",
                         (long long)rec->count, l);
            break;
        }
        backward_weights(r, l, mb, ly->wbwd + mb * ly->weights);
        compare(r, rec, ly->wbwd + mb * ly->weights);
        break;
    case TRAIN_PROBE_GRADIENT:
        rc = gradient(r, l, mb, tmp);
        compare(r, rec, tmp);
        if (!rc)
            update(r, l, mb, tmp);
        break;
    default:
        break;
    }
    free(tmp);
    if (rc && e && !e->msg[0])
        lp_fail(e, l, NULL, "the MAC array did not answer");
    return rc;
}

int replay_run(const struct replay_setup *s, const struct replay_record *recs, int64_t n,
               struct replay_result *res, struct diag *e)
{
    struct replay r = {.s = s, .res = res};
    memset(res, 0, sizeof *res);
    if (e)
        e->msg[0] = '\0';
    int rc = setup(&r, s, e);
    for (int64_t i = 0; !rc && i < n; i++) {
        const struct replay_record *rec = &recs[i];
        if (rec->minibatch >= s->minibatches || rec->layer >= r.L ||
            (rec->layer < 0 && rec->kind != TRAIN_PROBE_INPUT)) {
            rc = lp_fail(e, -1, NULL, "record %lld does not fit the set", (long long)i);
            break;
        }
        rc = step_record(&r, rec, e);
        res->records++;
    }
    teardown(&r);
    return rc;
}
