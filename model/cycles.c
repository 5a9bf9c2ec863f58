#include "cycles.h"

#include <stdlib.h>
#include <string.h>

/* Latencies of the RTL blocks (rtl/README.md). */
#define FETCH_LATENCY 2        /* a beat's operands: the SRAM, then its output register */
#define EMA_LANE_LATENCY 3     /* the rebuild lanes: an operand register, then ema_unit */
#define UPDATE_LATENCY 8       /* the gradient row's wait for its words, then sgd_update */
#define ENGINE_TAIL 3          /* capture, the drain register, the layer seeing it idle */
#define COMMAND_CYCLES 2       /* a stage's command cycle and the cycle it sees it done */

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

int64_t cyc_beats(const struct cyc_hw *hw, const struct cyc_product *p)
{
    return ceil_div(p->md, hw->rows) * ceil_div(p->nd, hw->cols) * p->k;
}

/* The rows of a product's last tile. */
static int64_t last_rows(const struct cyc_hw *hw, const struct cyc_product *p)
{
    int64_t rr = p->md % hw->rows;
    return rr ? rr : hw->rows;
}

int64_t cyc_products(const struct cyc_hw *hw, int fetch, const struct cyc_product *p, int n)
{
    /* Tiles go rows outer: a product has ncol tiles in each row block, nfull blocks of
     * Rows rows and one of rr rows when Rows does not divide md. A tile's last beat is
     * max(K, rows of the tile before) after the last beat before it (the hold registers
     * drain a row a cycle), the first at K - 1. */
    int64_t last = -1, prev_rows = 0;
    for (int i = 0; i < n; i++) {
        const struct cyc_product *q = &p[i];
        if (q->md <= 0 || q->nd <= 0 || q->k <= 0)
            continue;
        int64_t R = hw->rows, ncol = ceil_div(q->nd, hw->cols), nfull = q->md / R,
                rr = q->md % R;
        /* the first tile of this product follows the last one before, if any */
        last += last < 0 ? q->k : max64(q->k, prev_rows);
        /* then every tile after the first, each paying for the rows of the one before */
        int64_t steps = ncol * nfull * max64(q->k, R) + ncol * (rr > 0) * max64(q->k, rr);
        last += steps - max64(q->k, last_rows(hw, q));
        prev_rows = last_rows(hw, q);
    }
    if (last < 0)
        return 0;
    /* the last beat reaches the array after fetch cycles, leaves it after its latency,
     * drains prev_rows rows, and the layer sees itself idle */
    return last + fetch + hw->mac_latency + prev_rows + ENGINE_TAIL;
}

static void product(struct cyc_product *p, int64_t md, int64_t nd, int64_t k)
{
    p->md = md, p->nd = nd, p->k = k;
}

static void layer_costs(struct cyc_model *m, int l)
{
    const struct net_layer *nl = &m->net->layers[l];
    struct cyc_layer *c = &m->layer[l];
    const struct cyc_hw *hw = &m->hw;
    int64_t B = m->batch, in = net_shape_elems(&nl->in_shape), out = net_shape_elems(&nl->out_shape);
    int d = m->sequential ? 0 : 2 * (m->M - m->stage_of[l]);
    int propagates = plan_propagates(m->net, l);
    int ema = d > 0 && propagates && m->policy == PLAN_EMA;
    int64_t Md, Nd, K, kb = nl->bias != 0;
    memset(c, 0, sizeof *c);
    switch (nl->kind) {
    case NET_DENSE:
    case NET_CONV: {
        if (nl->kind == NET_DENSE)
            Md = B, Nd = nl->out, K = in;
        else   /* im2col: one row per output position, one beat per kernel tap */
            Md = B * nl->out_shape.dim[1] * nl->out_shape.dim[2], Nd = nl->out,
            K = (int64_t)nl->in_shape.dim[0] * nl->kernel * nl->kernel;
        int fetch = FETCH_LATENCY + (ema ? EMA_LANE_LATENCY : 0);
        c->n_fwd = 1;
        product(&c->fp[0], Md, Nd, K + kb);
        if (propagates)
            product(&c->bp[c->n_bwd++], Md, K, Nd);
        product(&c->bp[c->n_bwd++], K + kb, Nd, Md);   /* the bias gradient is row K */
        c->fwd = cyc_products(hw, fetch, c->fp, c->n_fwd);
        c->update = UPDATE_LATENCY;
        c->bwd = cyc_products(hw, fetch, c->bp, c->n_bwd) + c->update;
        c->fwd_beats = cyc_beats(hw, &c->fp[0]);
        c->dx_beats = propagates ? cyc_beats(hw, &c->bp[0]) : 0;
        c->dw_beats = cyc_beats(hw, &c->bp[c->n_bwd - 1]);
        c->lane_latency = ema ? EMA_LANE_LATENCY : 0;
        break;
    }
    default:   /* no MACs: a row of Cols words a cycle each way */
        c->fwd = ceil_div(B * out, hw->cols);
        c->bwd = propagates ? ceil_div(B * in * nl->n_inputs, hw->cols) : 0;
        break;
    }
}

int cyc_build(struct cyc_model *m, const struct net *net, const int *stage_of, int M, int batch,
              enum plan_policy policy, const struct cyc_hw *hw, struct diag *e)
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
    int64_t in = net_shape_elems(&net->input);
    int64_t classes = net_shape_elems(&net->layers[m->L - 1].out_shape);
    m->in_words = (int64_t)batch * in;
    m->out_words = (int64_t)batch * classes;
    /* the host writes a row segment of Cols words a cycle */
    m->in_rows = (int64_t)batch * ceil_div(in, hw->cols);
    m->loss_rows = (int64_t)batch * ceil_div(classes, hw->cols);
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

int64_t cyc_host_cycles(const struct cyc_model *m)
{
    return m->in_rows + 1 + m->loss_rows + 2;
}

/* A stage's run: forward its layers, the loss (last stage), backward them; each command
 * also costs the cycle that issues it and the one that sees it done. */
static void stage_run(const struct cyc_model *m, int k, int fwd, int bwd,
                      struct cyc_stage_step *x)
{
    x->run = x->loss_wait = x->mac_bound = 0;
    for (int j = 0; j < m->count[k]; j++) {
        const struct cyc_layer *c = &m->layer[m->first[k] + j];
        x->run += (fwd ? c->fwd + COMMAND_CYCLES : 0) + (bwd ? c->bwd + COMMAND_CYCLES : 0);
        x->mac_bound += (fwd ? c->fwd_beats : 0) + (bwd ? c->dx_beats + c->dw_beats : 0);
    }
    if (k == m->M && fwd) {
        /* the host sees the wait, writes the gradient a row a cycle, then says ready */
        x->loss_wait = m->loss_rows + 2;
        x->run += x->loss_wait;
    }
}

int64_t cyc_step(const struct cyc_model *m, int64_t n, int64_t s, struct cyc_stage_step *st)
{
    int M = m->M;
    struct cyc_stage_step buf[64], *o = st;
    if (!o && M <= 64)
        o = buf;
    if (!o)
        return -1;
    int64_t host = 1 + (s < n ? m->in_rows : 0);   /* the start cycle, the input rows */
    int64_t counted;
    if (m->sequential) {
        /* one minibatch, stage by stage: forward 1..M, the loss and the backward at M,
         * backward M-1..1; a phase is its run cycle, its run and the cycle seeing it end */
        counted = 1;   /* the end of the step */
        for (int k = 1; k <= M; k++) {
            struct cyc_stage_step *x = &o[k - 1], back;
            memset(x, 0, sizeof *x);
            x->fwd = 1, x->bwd = 1;
            stage_run(m, k, 1, k == M, x);
            counted += x->run + 2;
            if (k < M) {
                stage_run(m, k, 0, 1, &back);
                counted += back.run + 2;
                x->run += back.run, x->mac_bound += back.mac_bound;
            }
            x->busy = x->run - x->loss_wait;
            x->stall = x->loss_wait;
        }
    } else {
        int64_t maxrun = 0;
        for (int k = 1; k <= M; k++) {
            struct cyc_stage_step *x = &o[k - 1];
            int64_t jf = s - (k - 1), jb = s - (2 * M - 1 - k);
            memset(x, 0, sizeof *x);
            x->fwd = jf >= 0 && jf < n;
            x->bwd = k == M ? x->fwd : jb >= 0 && jb < n;
            stage_run(m, k, x->fwd, x->bwd, x);
            x->busy = x->run - x->loss_wait;
            x->stall = x->loss_wait;
            maxrun = max64(maxrun, x->run);
        }
        /* the run issued (1), every stage done (maxrun + 1), the end of the step (1) */
        counted = maxrun + 3;
    }
    for (int k = 0; k < M; k++)
        o[k].idle = counted - o[k].busy - o[k].stall;
    return counted + host;
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
