/* cycles.h - the analytic cycle model of the pipeline RTL (rtl/lp_top.sv): cycles per
 * step for each stage, fill and drain, the steady state and the sequential baseline
 * on the same hardware, exact to the RTL (docs/cycle-model.md gives every formula;
 * tests check it against the Verilated RTL step by step).
 *
 * Dense layers are the RTL's; conv layers are costed as the same engine would run them
 * through an im2col address generator (docs/cycle-model.md, "Conv"), pools and adds as
 * a row of Cols words per cycle. Nothing here allocates except cyc_build.
 */
#ifndef LP_CYCLES_H
#define LP_CYCLES_H

#include <stdint.h>

#include "err.h"
#include "net.h"
#include "plan.h"

struct cyc_hw {
    int rows, cols;            /* the MAC array */
    int mac_latency;           /* mac_array's: MulStages + 1, >= 2 */
};

/* One product on the array: C[md x nd] summed over k beats. */
struct cyc_product {
    int64_t md, nd, k;
};

/* One layer's work, in cycles of its engine. */
struct cyc_layer {
    int64_t fwd;               /* a forward command: first beat to the layer idle again */
    int64_t bwd;               /* a backward command: dx and dw back to back, the update */
    int64_t fwd_beats, dx_beats, dw_beats;   /* the MAC-bound: tiles x beats per product */
    int64_t lane_latency;      /* what the EMA rebuild lanes add to each command (0: none) */
    int64_t update;            /* the update's tail after the last gradient row */
    int n_fwd, n_bwd;          /* its products */
    struct cyc_product fp[1], bp[2];
};

struct cyc_stage_step {
    int fwd, bwd;              /* what the stage does in the step */
    int64_t busy, stall, idle; /* counted cycles, as the RTL's counters */
    int64_t run, loss_wait;
    int64_t mac_bound;         /* tiles x beats of the products it runs */
};

struct cyc_model {
    int L, M, batch, policy, sequential;
    struct cyc_hw hw;
    const struct net *net;
    int *stage_of;             /* L */
    int *first, *count;        /* per stage: its first layer and layer count */
    struct cyc_layer *layer;   /* L */
    int64_t in_words, out_words;   /* one minibatch's input and loss gradient */
    int64_t in_rows, loss_rows;    /* the host's row writes of each */
};

/* Build the model of net on partition stage_of (M stages) under a policy.
 * Sequential runs the same M-stage hardware unpipelined. Returns 0, or -1 with e. */
int cyc_build(struct cyc_model *m, const struct net *net, const int *stage_of, int M,
              int batch, enum plan_policy policy, const struct cyc_hw *hw, struct diag *e);
void cyc_free(struct cyc_model *m);

/* Steps a run of n minibatches takes: n + 2(M-1) pipelined, n sequential. */
int64_t cyc_steps(const struct cyc_model *m, int64_t n);

/* Step s of a run of n minibatches: the cycles the host sees (its input writes and the
 * start cycle included), and per stage (st[M], may be NULL) the counters. */
int64_t cyc_step(const struct cyc_model *m, int64_t n, int64_t s, struct cyc_stage_step *st);

/* Every step of a run of n minibatches, fill and drain included. */
int64_t cyc_total(const struct cyc_model *m, int64_t n);

/* The host's cycles in a step that takes a minibatch in: its input rows, the start
 * cycle, the last stage's wait for the loss gradient. */
int64_t cyc_host_cycles(const struct cyc_model *m);

/* Products run back to back on one layer's engine whose operands reach the array fetch
 * cycles after their beat: the cycles from the first beat to the layer idle again, the
 * update's tail not included (docs/cycle-model.md, "Products"). */
int64_t cyc_products(const struct cyc_hw *hw, int fetch, const struct cyc_product *p, int n);

/* Tiles x beats of a product: the cycles the array needs for it, its MAC-bound. */
int64_t cyc_beats(const struct cyc_hw *hw, const struct cyc_product *p);

#endif
