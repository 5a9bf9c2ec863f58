#include "cycles.h"

#include <stdlib.h>
#include <string.h>

/* Latencies of the RTL blocks a layer's backward waits for (rtl/README.md). */
#define STASH_READ_LATENCY 1   /* stash_ring */
#define EMA_READ_LATENCY 2     /* ema_unit's rebuild path */
#define UPDATE_LATENCY 6       /* sgd_update */

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t cyc_product(const struct cyc_hw *hw, int64_t Md, int64_t Nd, int64_t K)
{
    if (Md <= 0 || Nd <= 0 || K <= 0)
        return 0;
    int64_t R = hw->rows, C = hw->cols, m = hw->mac_latency - 1;
    /* Tiles, rows outer: nrf row blocks of R rows (+1 of rr), ncf column blocks of C
     * (+1 of cr). A tile of D = rows x cols sums drains one sum a cycle; the next
     * tile's last beat waits for that drain: the step between two last beats is
     * max(K, m + 2 + D) of the earlier tile. */
    int64_t nrf = Md / R, rr = Md % R, ncf = Nd / C, cr = Nd % C;
    struct {
        int64_t n, d;
    } kind[4] = {{nrf * ncf, R * C}, {nrf * (cr > 0), R * cr}, {(rr > 0) * ncf, rr * C},
                 {(rr > 0) * (cr > 0), rr * cr}};
    int64_t d_last = (rr > 0 ? rr : R) * (cr > 0 ? cr : C), sum = 0;
    for (int i = 0; i < 4; i++)
        sum += kind[i].n * max64(K, m + 2 + kind[i].d);
    sum -= max64(K, m + 2 + d_last);   /* the last tile has no successor */
    /* first last beat at K-1; the last sum leaves m + 1 + D + 1 cycles after the last
     * beat, and the engine sees itself done one cycle later */
    return (K - 1) + sum + m + d_last + 4;
}

static void layer_costs(struct cyc_model *m, int l)
{
    const struct net_layer *nl = &m->net->layers[l];
    struct cyc_layer *c = &m->layer[l];
    const struct cyc_hw *hw = &m->hw;
    int64_t B = m->batch, in = net_shape_elems(&nl->in_shape), out = net_shape_elems(&nl->out_shape);
    int d = m->sequential ? 0 : 2 * (m->M - m->stage_of[l]);
    int hist = d > 0 && (m->policy == PLAN_STASH || m->policy == PLAN_EMA);
    int64_t Md, Nd, K;   /* the forward product: Md x Nd over K beats */
    memset(c, 0, sizeof *c);
    switch (nl->kind) {
    case NET_DENSE:
    case NET_CONV:
        if (nl->kind == NET_DENSE)
            Md = B, Nd = nl->out, K = in;
        else   /* im2col: one row per output position, one beat per kernel tap */
            Md = B * nl->out_shape.dim[1] * nl->out_shape.dim[2], Nd = nl->out,
            K = (int64_t)nl->in_shape.dim[0] * nl->kernel * nl->kernel;
        c->fwd = cyc_product(hw, Md, Nd, K + (nl->bias != 0));
        c->hist = hist ? nl->params + (m->policy == PLAN_STASH ? STASH_READ_LATENCY
                                                                : EMA_READ_LATENCY) + 1
                       : 0;
        c->dx = l == 0 ? 0 : cyc_product(hw, Md, K, Nd);
        c->dw = cyc_product(hw, K, Nd, Md);
        c->db = nl->bias ? cyc_product(hw, 1, Nd, Md) : 0;
        c->update = UPDATE_LATENCY;
        break;
    default:   /* no MACs: one output word per cycle each way */
        c->fwd = B * out;
        c->dx = l == 0 ? 0 : B * in * nl->n_inputs;
        break;
    }
    c->bwd = c->hist + c->dx + c->dw + c->db + c->update;
}

int cyc_build(struct cyc_model *m, const struct net *net, const int *stage_of, int M, int batch,
              enum plan_policy policy, const struct cyc_hw *hw, struct lp_err *e)
{
    memset(m, 0, sizeof *m);
    if (hw->rows < 1 || hw->cols < 1 || hw->mac_latency < 2)
        return lp_fail(e, -1, NULL, "the cycle model needs a MAC array of at least 1x1 with "
                       "a latency of at least 2");
    m->L = net->n_layers, m->M = M, m->batch = batch, m->policy = policy;
    m->sequential = policy == PLAN_SEQUENTIAL;
    m->hw = *hw, m->net = net;
    m->stage_of = malloc(sizeof *m->stage_of * (size_t)m->L);
    m->first = calloc((size_t)M + 1, sizeof *m->first);
    m->count = calloc((size_t)M + 1, sizeof *m->count);
    m->layer = calloc((size_t)m->L, sizeof *m->layer);
    if (!m->stage_of || !m->first || !m->count || !m->layer) {
        cyc_free(m);
        return lp_fail(e, -1, NULL, "out of memory");
    }
    for (int l = m->L - 1; l >= 0; l--) {
        m->stage_of[l] = stage_of[l];
        m->first[stage_of[l]] = l;
        m->count[stage_of[l]]++;
    }
    for (int l = 0; l < m->L; l++)
        layer_costs(m, l);
    m->in_words = (int64_t)batch * net_shape_elems(&net->input);
    m->out_words = (int64_t)batch * net_shape_elems(&net->layers[m->L - 1].out_shape);
    return 0;
}

void cyc_free(struct cyc_model *m)
{
    free(m->stage_of), free(m->first), free(m->count), free(m->layer);
    memset(m, 0, sizeof *m);
}

int64_t cyc_steps(const struct cyc_model *m, int64_t n)
{
    return n <= 0 ? 0 : m->sequential ? n : n + 2 * (m->M - 1);
}

/* Words a stage copies in at a load: the tensors that cross into it forward (from
 * earlier stages or the network input) and backward (errors of its outputs that later
 * stages read). For a chain: its first layer's input and its last layer's output. */
void cyc_stage_io(const struct cyc_model *m, int k, int64_t *fwd_in, int64_t *bwd_in)
{
    *fwd_in = *bwd_in = 0;
    for (int l = 0; l < m->L; l++) {
        const struct net_layer *nl = &m->net->layers[l];
        for (int i = 0; i < nl->n_inputs; i++) {
            int from = nl->inputs[i], fs = from == NET_INPUT ? 0 : m->stage_of[from];
            int64_t words = (int64_t)m->batch *
                            (from == NET_INPUT ? net_shape_elems(&m->net->input)
                                               : net_shape_elems(&m->net->layers[from].out_shape));
            if (m->stage_of[l] == k && fs < k)
                *fwd_in += words;
            if (fs == k && m->stage_of[l] > k)
                *bwd_in += words;
        }
    }
}

/* A stage's run: forward its layers, the loss (last stage), backward them. */
static int64_t stage_run(const struct cyc_model *m, int k, int fwd, int bwd, int64_t *loss_wait)
{
    int64_t run = 0;
    *loss_wait = 0;
    for (int j = 0; j < m->count[k]; j++) {
        const struct cyc_layer *c = &m->layer[m->first[k] + j];
        run += (fwd ? c->fwd + 2 : 0) + (bwd ? c->bwd + 2 : 0);   /* + command, done */
    }
    if (k == m->M && fwd) {
        /* the host sees the wait, writes the gradient one word a cycle, then says
         * ready; the stage copies it in */
        *loss_wait = m->out_words + 2;
        run += *loss_wait + m->out_words + 1;
    }
    return run;
}

static int64_t load_cycles(int64_t fwd_words, int64_t bwd_words)
{
    int64_t w = max64(fwd_words, bwd_words);
    return fwd_words || bwd_words ? w + 1 : 0;
}

int64_t cyc_step(const struct cyc_model *m, int64_t n, int64_t s, struct cyc_stage_step *st)
{
    int M = m->M;
    struct cyc_stage_step buf[64], *o = st;
    if (!o && M <= 64)
        o = buf;
    if (!o)
        return -1;
    int64_t host = 1;   /* the start cycle */
    if (m->sequential) {
        /* one minibatch, stage by stage: forward 1..M, the loss at M, backward M-1..1 */
        int64_t counted = 1;   /* the end of the step */
        for (int k = 1; k <= M; k++) {
            int64_t fi, bi, lw, none;
            cyc_stage_io(m, k, &fi, &bi);
            struct cyc_stage_step *x = &o[k - 1];
            memset(x, 0, sizeof *x);
            x->fwd = 1, x->bwd = 1;
            int64_t lf = load_cycles(fi, 0), rf = stage_run(m, k, 1, k == M, &lw);
            int64_t lb = k < M ? load_cycles(0, bi) : 0, rb = k < M ? stage_run(m, k, 0, 1, &none) : 0;
            x->load = lf + lb, x->run = rf + rb, x->loss_wait = lw;
            counted += (1 + lf + 1 + 1 + rf + 1) + (k < M ? 1 + lb + 1 + 1 + rb + 1 : 0);
            x->busy = x->load + x->run - lw;
            x->stall = lw;
        }
        for (int k = 0; k < M; k++)
            o[k].idle = counted - o[k].busy - o[k].stall;
        return counted + host + (s < n ? m->in_words : 0);
    }
    int64_t maxload = 0, maxrun = 0;
    for (int k = 1; k <= M; k++) {
        struct cyc_stage_step *x = &o[k - 1];
        int64_t fi, bi, jf = s - (k - 1), jb = s - (2 * M - 1 - k);
        memset(x, 0, sizeof *x);
        x->fwd = jf >= 0 && jf < n;
        x->bwd = k == M ? x->fwd : jb >= 0 && jb < n;
        cyc_stage_io(m, k, &fi, &bi);
        x->load = load_cycles(x->fwd ? fi : 0, k < M && x->bwd ? bi : 0);
        x->run = stage_run(m, k, x->fwd, x->bwd, &x->loss_wait);
        maxload = max64(maxload, x->load);
        maxrun = max64(maxrun, x->run);
    }
    /* load issued (1), every stage loaded (maxload + 1), run issued (1), every stage
     * done (maxrun + 1), the end of the step (1) */
    int64_t counted = maxload + maxrun + 5;
    for (int k = 0; k < M; k++) {
        struct cyc_stage_step *x = &o[k];
        x->busy = x->load + x->run - x->loss_wait;
        x->stall = (maxload + 1 - x->load) + 1 + x->loss_wait;
        x->idle = counted - x->busy - x->stall;
    }
    return counted + host + (s < n ? m->in_words : 0);
}

int64_t cyc_total(const struct cyc_model *m, int64_t n)
{
    int64_t steps = cyc_steps(m, n), total = 0;
    if (m->M > 64 || steps <= 0)
        return steps <= 0 ? 0 : -1;
    /* Pipelined steps 2M-2 .. n-1 are all the same (every stage forwards and
     * backwards): count one of them that many times. */
    int64_t lo = m->sequential ? 0 : 2 * (int64_t)m->M - 2, hi = n - 1;
    for (int64_t s = 0; s < steps; s++) {
        if (s > lo && s <= hi && !m->sequential) {
            total += (hi - s + 1) * cyc_step(m, n, lo, NULL);
            s = hi;
            continue;
        }
        if (m->sequential && s > 0) {   /* every sequential step is the same */
            total += (steps - 1) * cyc_step(m, n, 0, NULL);
            break;
        }
        total += cyc_step(m, n, s, NULL);
    }
    return total;
}
