#include "plan.h"

#include <stdlib.h>
#include <string.h>

const char *plan_policy_name(enum plan_policy pol)
{
    static const char *const names[] = {"sequential", "stale", "stash", "ema"};
    return names[pol];
}

int plan_check(const struct net *n, const int *stage_of, int n_stages, struct diag *e)
{
    if (n_stages < 1 || n_stages > n->n_layers)
        return lp_fail(e, -1, "stages", "%d stages for %d layers: need 1 to %d", n_stages,
                       n->n_layers, n->n_layers);
    for (int l = 0; l < n->n_layers; l++)
        if (stage_of[l] < 1 || stage_of[l] > n_stages)
            return lp_fail(e, l, "stage", "layer %s has stage %d, outside 1..%d",
                           n->layers[l].name, stage_of[l], n_stages);
    for (int s = 1; s <= n_stages; s++) {
        int used = 0;
        for (int l = 0; l < n->n_layers && !used; l++)
            used = stage_of[l] == s;
        if (!used)
            return lp_fail(e, -1, "stages", "stage %d holds no layer", s);
    }
    for (int l = 0; l < n->n_layers; l++) {
        const struct net_layer *ly = &n->layers[l];
        for (int i = 0; i < ly->n_inputs; i++) {
            int src = ly->inputs[i];
            if (src != NET_INPUT && stage_of[src] > stage_of[l])
                return lp_fail(e, l, "stage",
                               "layer %s (stage %d) reads %s from the later stage %d: data "
                               "would flow from a later stage back to an earlier one",
                               ly->name, stage_of[l], n->layers[src].name, stage_of[src]);
        }
    }
    return 0;
}

void plan_free(struct plan *p)
{
    free(p->layers);
    free(p->edges);
    free(p->stage_macs);
    memset(p, 0, sizeof *p);
}

int plan_propagates(const struct net *n, int l)
{
    const struct net_layer *ly = &n->layers[l];
    for (int i = 0; i < ly->n_inputs; i++)
        if (ly->inputs[i] != NET_INPUT)
            return 1;
    return 0;
}

static void fill_layers(struct plan *p, const struct net *n, const int *stage_of)
{
    for (int l = 0; l < n->n_layers; l++) {
        const struct net_layer *ly = &n->layers[l];
        struct plan_layer *pl = &p->layers[l];
        pl->stage = stage_of[l];
        pl->S = p->n_stages - pl->stage;
        pl->delay = 2 * pl->S;
        pl->propagates = plan_propagates(n, l);
        pl->params = ly->params;
        pl->weights = ly->weights;
        pl->stash_words = pl->propagates ? (int64_t)pl->delay * ly->weights : 0;
        pl->ema_words = pl->propagates && pl->delay > 0 ? ly->weights : 0;
        pl->paper_stash_words = (int64_t)pl->delay * ly->params;
        pl->paper_ema_words = pl->delay > 0 ? ly->params : 0;
        pl->act_words = (int64_t)(2 * pl->S + 1) * p->batch * ly->saved;
        pl->train_macs = net_train_macs(n, l);
        p->stage_macs[pl->stage - 1] += pl->train_macs;
        p->totals.params += pl->params;
        p->totals.stash_words += pl->stash_words;
        p->totals.ema_words += pl->ema_words;
        p->totals.paper_stash_words += pl->paper_stash_words;
        p->totals.paper_ema_words += pl->paper_ema_words;
        p->totals.act_words += pl->act_words;
    }
}

static void fill_edges(struct plan *p, const struct net *n, const int *stage_of)
{
    int k = 0;
    for (int l = 0; l < n->n_layers; l++) {
        const struct net_layer *ly = &n->layers[l];
        for (int i = 0; i < ly->n_inputs; i++) {
            struct plan_edge *ed = &p->edges[k++];
            int src = ly->inputs[i];
            const struct net_shape *shape = src == NET_INPUT ? &n->input
                                                             : &n->layers[src].out_shape;
            ed->from = src;
            ed->to = l;
            /* The network input enters at stage 1 and needs no gradient. */
            ed->forward_delay = stage_of[l] - (src == NET_INPUT ? 1 : stage_of[src]);
            ed->backward_delay = src == NET_INPUT ? 0 : ed->forward_delay;
            ed->elems = net_shape_elems(shape);
            ed->forward_words = (int64_t)ed->forward_delay * p->batch * ed->elems;
            ed->backward_words = (int64_t)ed->backward_delay * p->batch * ed->elems;
            p->totals.forward_reg_words += ed->forward_words;
            p->totals.backward_reg_words += ed->backward_words;
        }
    }
}

int plan_build(struct plan *p, const struct net *n, const int *stage_of, int n_stages,
               int batch, struct diag *e)
{
    memset(p, 0, sizeof *p);
    if (plan_check(n, stage_of, n_stages, e))
        return -1;
    if (batch < 1)
        return lp_fail(e, -1, "batch", "batch must be at least 1");
    if (n->n_layers < 1)
        return lp_fail(e, -1, "layers", "the network has no layers");
    int n_edges = 0;
    for (int l = 0; l < n->n_layers; l++)
        n_edges += n->layers[l].n_inputs;
    p->n_stages = n_stages;
    p->batch = batch;
    p->n_layers = n->n_layers;
    p->n_edges = n_edges;
    p->layers = calloc((size_t)n->n_layers, sizeof *p->layers);
    p->edges = calloc((size_t)n_edges, sizeof *p->edges);
    p->stage_macs = calloc((size_t)n_stages, sizeof *p->stage_macs);
    if (!p->layers || !p->edges || !p->stage_macs) {
        plan_free(p);
        return lp_fail(e, -1, NULL, "out of memory");
    }
    fill_layers(p, n, stage_of);
    fill_edges(p, n, stage_of);
    return 0;
}

int64_t plan_history_words(const struct plan *p, enum plan_policy pol)
{
    switch (pol) {
    case PLAN_STASH: return p->totals.stash_words;
    case PLAN_EMA: return p->totals.ema_words;
    default: return 0;
    }
}

int64_t plan_paper_history_words(const struct plan *p, enum plan_policy pol)
{
    switch (pol) {
    case PLAN_STASH: return p->totals.paper_stash_words;
    case PLAN_EMA: return p->totals.paper_ema_words;
    default: return 0;
    }
}

/* Minimise the largest stage over contiguous splits: best[j][i] is the least
 * possible maximum when the first i layers form j stages. Ties go to the
 * latest split, so zero-MAC layers (pools, adds) stay with the layer before. */
int plan_balance(const struct net *n, int n_stages, int *stage_of, struct diag *e)
{
    int L = n->n_layers, M = n_stages;
    if (M < 1 || M > L)
        return lp_fail(e, -1, "balanced", "cannot balance %d layers into %d stages: need 1 to %d",
                       L, M, L);
    int64_t *pre = calloc((size_t)L + 1, sizeof *pre);
    int64_t *best = malloc(sizeof *best * (size_t)(M + 1) * (size_t)(L + 1));
    int *cut = malloc(sizeof *cut * (size_t)(M + 1) * (size_t)(L + 1));
    if (!pre || !best || !cut) {
        free(pre), free(best), free(cut);
        return lp_fail(e, -1, NULL, "out of memory");
    }
#define AT(a, j, i) a[(size_t)(j) * (size_t)(L + 1) + (size_t)(i)]
    for (int l = 0; l < L; l++)
        pre[l + 1] = pre[l] + net_train_macs(n, l);
    for (int i = 1; i <= L; i++)
        AT(best, 1, i) = pre[i], AT(cut, 1, i) = 0;
    for (int j = 2; j <= M; j++)
        for (int i = j; i <= L; i++) {
            AT(best, j, i) = INT64_MAX;
            for (int c = j - 1; c < i; c++) {   /* stage j holds layers c..i-1 */
                int64_t last = pre[i] - pre[c];
                int64_t worst = AT(best, j - 1, c) > last ? AT(best, j - 1, c) : last;
                if (worst <= AT(best, j, i))
                    AT(best, j, i) = worst, AT(cut, j, i) = c;
            }
        }
    for (int j = M, i = L; j >= 1; j--) {
        int c = AT(cut, j, i);
        for (int l = c; l < i; l++)
            stage_of[l] = j;
        i = c;
    }
#undef AT
    free(pre), free(best), free(cut);
    return 0;
}

void plan_slot(const struct plan *p, enum plan_policy pol, int stage, int64_t step,
               struct plan_slot *s)
{
    int M = p->n_stages;
    s->fwd = s->bwd = -1;
    s->fwd_version = s->bwd_version = s->live_version = -1;
    if (pol == PLAN_SEQUENTIAL) {
        /* Forward through stages 1..M, backward M..1; the last stage does its
         * forward and backward in one step, as in the pipeline. */
        int64_t period = 2 * M - 1, mb = step / period, phase = step % period;
        if (phase == stage - 1)
            s->fwd = mb, s->fwd_version = mb;
        if (phase == 2 * M - 1 - stage)
            s->bwd = mb, s->bwd_version = s->live_version = mb;
        return;
    }
    int64_t d = 2 * (M - stage);
    int64_t f = step - (stage - 1), b = step - (2 * M - 1 - stage);
    if (f >= 0)
        s->fwd = f, s->fwd_version = f - d > 0 ? f - d : 0;
    if (b >= 0) {
        s->bwd = b;
        s->bwd_version = b - d > 0 ? b - d : 0;
        s->live_version = b;
    }
}
