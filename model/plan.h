/* plan.h - the delay planner (LAYERPIPE.md sections 1-4).
 *
 * Given a network and a partition of its layers into M pipeline stages, the
 * planner derives each layer's S(l) = M - stage(l) and Delay(l) = 2*S(l), the
 * forward and backward delays on every edge that crosses stage boundaries, the
 * weight-history words each policy needs, the activation delay-line words, and
 * the step-by-step schedule.
 *
 * History only where it is read (LAYERPIPE.md s. 4): a backward reads an old
 * weight version only to propagate the error to its input (dx = dy W^T), and
 * that product never reads a bias. So a layer whose inputs are all the network
 * input keeps no history, and the others keep their weights only. The paper's
 * counts (every layer, |W_l| = params) are kept beside ours as paper_*.
 *
 * Stages are numbered 1..M. stage_of[l] is the stage of layer l.
 * Ownership: struct plan owns its arrays (plan_build / plan_free).
 */
#ifndef LP_PLAN_H
#define LP_PLAN_H

#include <stdint.h>

#include "err.h"
#include "net.h"

enum plan_policy { PLAN_SEQUENTIAL, PLAN_STALE, PLAN_STASH, PLAN_EMA, PLAN_N_POLICIES };

struct plan_layer {
    int stage;            /* 1..M */
    int S;                /* stages strictly after this one */
    int delay;            /* 2*S steps */
    int propagates;       /* 1: the backward sends an error to an input, reading the
                             weights (some input is a layer, not the network input) */
    int64_t params;       /* weights + biases */
    int64_t weights;      /* weights only: what the input gradient reads */
    int64_t stash_words;  /* propagates ? delay * weights : 0 */
    int64_t ema_words;    /* weights when propagates and delay > 0, else 0 */
    int64_t paper_stash_words;   /* the paper's count: delay * params */
    int64_t paper_ema_words;     /* the paper's count: params when delay > 0 */
    int64_t act_words;    /* (2S+1) * batch * saved words per sample */
    int64_t train_macs;   /* per sample: forward + both backward products */
};

/* One producer -> consumer edge. from is a layer index or NET_INPUT. */
struct plan_edge {
    int from, to;
    int forward_delay;        /* stage boundaries crossed, in steps */
    int backward_delay;       /* same on the way back; 0 from the network input */
    int64_t elems;            /* tensor words per sample */
    int64_t forward_words;    /* forward_delay * batch * elems (inter-stage registers) */
    int64_t backward_words;   /* backward_delay * batch * elems */
};

struct plan_totals {
    int64_t params, stash_words, ema_words, act_words;
    int64_t paper_stash_words, paper_ema_words;
    int64_t forward_reg_words, backward_reg_words;
};

struct plan {
    int n_stages;              /* M */
    int batch;
    int n_layers;
    struct plan_layer *layers; /* n_layers */
    int n_edges;
    struct plan_edge *edges;   /* in consumer order, then input order */
    int64_t *stage_macs;       /* n_stages: training MACs per sample of each stage */
    struct plan_totals totals;
};

/* Check a partition: every stage_of[l] in 1..n_stages, every stage used, and
 * no layer reading a layer of a later stage. Returns 0 or -1 (e names the layer,
 * field "stage"). */
int plan_check(const struct net *n, const int *stage_of, int n_stages, struct diag *e);

/* Build the plan. n must have been through net_infer. Returns 0, or -1 with e
 * filled (bad partition, or out of memory). On failure p holds nothing. */
int plan_build(struct plan *p, const struct net *n, const int *stage_of, int n_stages,
               int batch, struct diag *e);
void plan_free(struct plan *p);

/* Split the layers, in list order, into n_stages contiguous non-empty stages
 * that minimise the largest stage's training MACs. Fills stage_of[n_layers].
 * Returns 0, or -1 when n_stages is not in 1..n_layers. */
int plan_balance(const struct net *n, int n_stages, int *stage_of, struct diag *e);

/* Whether layer l's backward propagates an error, i.e. reads weights: some input
 * is a layer, not the network input (the first layer of a chain does not). */
int plan_propagates(const struct net *n, int l);

/* Extra weight-history words of a policy over the whole network (ours: only
 * layers that propagate an error, weights only). */
int64_t plan_history_words(const struct plan *p, enum plan_policy pol);
/* The same by the paper's count (every layer, weights and biases). */
int64_t plan_paper_history_words(const struct plan *p, enum plan_policy pol);
const char *plan_policy_name(enum plan_policy pol);

/* What one stage does in one step. Minibatches and weight versions count
 * from 0; W^(v) is a layer's weights after v updates. -1 means idle. */
struct plan_slot {
    int64_t fwd;           /* minibatch forwarded */
    int64_t fwd_version;   /* weights the forward reads: W^(fwd_version) */
    int64_t bwd;           /* minibatch backwarded */
    int64_t bwd_version;   /* weights its forward read: what the backward should use */
    int64_t live_version;  /* the live weights at backward time */
};

/* The slot of `stage` (1..M) at `step` (from 0) under a policy. Sequential runs
 * one minibatch at a time: 2M-1 steps each. Pipelined policies start a new
 * minibatch every step; the weights a policy's backward reads are:
 * stale W^(live_version), stash W^(bwd_version), ema W^(live_version) + delay*m. */
void plan_slot(const struct plan *p, enum plan_policy pol, int stage, int64_t step,
               struct plan_slot *s);

#endif
