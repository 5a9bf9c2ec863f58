/* cycles.h - the analytic cycle model of the pipeline RTL (rtl/lp_top.sv): cycles per
 * step for each stage, fill and drain, the steady state and the sequential baseline
 * on the same hardware, exact to the RTL (docs/cycle-model.md gives every formula;
 * tests check it against the Verilated RTL step by step).
 *
 * Dense layers are the RTL's; conv layers are costed as the same engine would run
 * them through an im2col address generator (docs/cycle-model.md, "Conv"), pools and
 * adds as one output word per cycle. Nothing here allocates except cyc_build.
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

/* One layer's work, in cycles of its engine. */
struct cyc_layer {
    int64_t fwd;               /* a forward command: the forward product */
    int64_t hist;              /* backward: the history read (stash / ema, d > 0) */
    int64_t dx, dw, db;        /* backward: the three products (0 when absent) */
    int64_t update;            /* backward: the update's tail after the last gradient */
    int64_t bwd;               /* a backward command: hist + dx + dw + db + update */
};

struct cyc_stage_step {
    int fwd, bwd;              /* what the stage does in the step */
    int64_t busy, stall, idle; /* counted cycles, as the RTL's counters */
    int64_t load, run, loss_wait;
};

struct cyc_model {
    int L, M, batch, policy, sequential;
    struct cyc_hw hw;
    const struct net *net;
    int *stage_of;             /* L */
    int *first, *count;        /* per stage: its first layer and layer count */
    struct cyc_layer *layer;   /* L */
    int64_t in_words, out_words;   /* one minibatch's input and loss gradient */
};

/* Build the model of net on partition stage_of (M stages) under a policy.
 * Sequential runs the same M-stage hardware unpipelined. Returns 0, or -1 with e. */
int cyc_build(struct cyc_model *m, const struct net *net, const int *stage_of, int M,
              int batch, enum plan_policy policy, const struct cyc_hw *hw, struct lp_err *e);
void cyc_free(struct cyc_model *m);

/* Steps a run of n minibatches takes: n + 2(M-1) pipelined, n sequential. */
int64_t cyc_steps(const struct cyc_model *m, int64_t n);

/* Step s of a run of n minibatches: the cycles the host sees (its input writes and the
 * start cycle included), and per stage (st[M], may be NULL) the counters. */
int64_t cyc_step(const struct cyc_model *m, int64_t n, int64_t s, struct cyc_stage_step *st);

/* Every step of a run of n minibatches, fill and drain included. */
int64_t cyc_total(const struct cyc_model *m, int64_t n);

/* Words stage k (1..M) copies in at a load: forward (the tensors crossing into it)
 * and backward (the errors of the tensors it sends to later stages). */
void cyc_stage_io(const struct cyc_model *m, int k, int64_t *fwd_in, int64_t *bwd_in);

/* Cycles of one product C[Md x Nd] over K beats on the array, from the first beat to
 * the cycle its last result has left (docs/cycle-model.md, "A product"). */
int64_t cyc_product(const struct cyc_hw *hw, int64_t Md, int64_t Nd, int64_t K);

#endif
