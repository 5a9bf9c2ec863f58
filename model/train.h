/* train.h - the golden training model: a network trained under a pipeline
 * schedule with one of the weight-history policies (LAYERPIPE.md sections 1-4).
 *
 * The trainer runs the clocked schedule of docs/planner.md: in every step each
 * stage forwards one minibatch and backwards an older one, data crossing a stage
 * boundary waits in inter-stage registers, each layer keeps its activation
 * delay line of 2S+1 minibatches, and the backward reads the weights its policy
 * provides (stale: live; stash: the stored version; ema: live + gap*m). Only
 * the input gradient dx = dy W^T reads those weights, so the history covers the
 * weights (no biases) of the layers that propagate an error (plan_propagates);
 * the others, the first layer of a chain, keep none under any policy. An
 * epoch fills the pipeline, streams, and drains, so that at its end every
 * layer has applied every update. With the sequential policy the whole network
 * is one stage: plain SGD.
 *
 * Ownership: trainer_create allocates everything (one allocation per family:
 * parameters, gradients, optimizer state, history, activations, registers,
 * scratch); trainer_destroy frees it. Nothing here prints.
 */
#ifndef LP_TRAIN_H
#define LP_TRAIN_H

#include <stdint.h>

#include "data.h"
#include "err.h"
#include "fixed.h"
#include "net.h"
#include "plan.h"

enum train_lr { TRAIN_LR_CONSTANT, TRAIN_LR_STEP, TRAIN_LR_COSINE };

/* What a probe sees, in the order the trainer produces it for one minibatch. */
enum train_probe {
    TRAIN_PROBE_INPUT,        /* layer -1: the minibatch entering stage 1 (batch x input) */
    TRAIN_PROBE_FWD_WEIGHTS,  /* the weights a layer's forward reads (params) */
    TRAIN_PROBE_ACTIVATION,   /* its output, after its relu (batch x out) */
    TRAIN_PROBE_LOSS_GRAD,    /* last layer: the loss gradient the host feeds (batch x classes) */
    TRAIN_PROBE_ERROR,        /* its output gradient, after the relu mask (batch x out) */
    TRAIN_PROBE_BWD_WEIGHTS,  /* the weights its input gradient reads (weights, no biases);
                                 only for a layer that propagates an error: none for
                                 one whose inputs are all the network input */
    TRAIN_PROBE_GRADIENT,     /* its weight and bias gradient (params) */
    TRAIN_PROBE_WEIGHTS,      /* its weights after the update (params; datapath words);
                                 minibatch -1: the initial weights, from trainer_create */
    TRAIN_PROBE_MASTER,       /* fixed point only: its master weights after the update */
    TRAIN_N_PROBES
};

struct train_opts {
    enum plan_policy policy;
    int ema_beta_auto;           /* 1: beta = d/(d+1) per layer */
    double ema_beta;             /* otherwise */
    int batch;
    double lr, momentum, weight_decay;
    enum train_lr lr_schedule;
    double lr_decay;             /* step: factor per epoch */
    int64_t minibatches_per_epoch;
    int64_t total_minibatches;   /* cosine: the whole run */
    uint64_t seed;               /* weight initialisation */
    int diagnostics;             /* track how far the backward's weights are from exact */
    const struct fixed_spec *fixed;   /* NULL: float32; else the bit-exact fixed point */
    /* Optional: called with every value the datapath produces or reads (see
     * enum train_probe): count words of 4 bytes, float or, under fixed point,
     * int32 in the value's format. The co-simulation compares the RTL with these. */
    void (*probe)(void *ctx, enum train_probe kind, int layer, int64_t minibatch,
                  const void *words, int64_t count);
    void *probe_ctx;
    /* Optional: called every 64 steps of an epoch and after its last step. */
    void (*progress)(void *ctx, int64_t step, int64_t steps, double loss_sum,
                     int64_t samples);
    void *progress_ctx;
};

/* What the trainer allocated for the pipeline, in words (equal to the plan's:
 * stash_words, ema_words are the weight history, ours, not the paper's count). */
struct train_alloc {
    int64_t stash_words, ema_words, act_words, forward_reg_words, backward_reg_words;
};

struct train_layer_stats {
    double recon_sum, recon_max;  /* relative L2 of backward weights vs exact (weights,
                                     no biases) */
    int64_t recon_count;          /* backwards measured; 0 for a layer that propagates
                                     no error (its backward reads no weights) */
    int64_t saturations;          /* fixed point: values clamped to their format */
};

struct train_stats {
    double loss_sum;              /* summed over samples */
    int64_t correct, samples;
    int64_t steps;                /* pipeline steps, fill and drain included */
    struct train_layer_stats *layer;   /* n_layers entries, owned by the trainer */
};

struct trainer;

/* Build a trainer for net (after net_infer) with the given partition. The
 * sequential policy ignores the partition (one stage). Weights are initialised
 * from opts->seed: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
 * Returns 0, or -1 with e set (bad options, out of memory). */
int trainer_create(struct trainer **t, const struct net *net, const int *stage_of, int n_stages,
                   const struct train_opts *opts, struct diag *e);
void trainer_destroy(struct trainer *t);

/* Train one epoch: n_mb minibatches; minibatch j holds samples
 * order[j*batch .. j*batch+batch-1] of d. first_mb is the global index of the
 * first one (it sets the learning rate schedule). stats are reset, then filled. */
void trainer_epoch(struct trainer *t, const struct dataset *d, const int32_t *order,
                   int64_t n_mb, int64_t first_mb, struct train_stats *stats);

/* The same epoch one pipeline step at a time (the co-simulation runs the model in
 * lockstep with the RTL): begin returns the step count (fill and drain included;
 * 0 when n_mb <= 0), then step s = 0 .. steps-1 in order, then end. d, order and
 * stats must live until end. */
int64_t trainer_epoch_begin(struct trainer *t, const struct dataset *d, const int32_t *order,
                            int64_t n_mb, int64_t first_mb, struct train_stats *stats);
void trainer_epoch_step(struct trainer *t, int64_t s);
void trainer_epoch_end(struct trainer *t);
/* Step s by its parts, for a caller that runs the stages itself (the SystemC model):
 * the input, then every stage's forward (k = M first: a stage reads its register
 * before the stage before it writes it), then every stage's backward (k = 1 first).
 * trainer_epoch_step is exactly these in that order. */
void trainer_step_input(struct trainer *t, int64_t s);
void trainer_stage_forward(struct trainer *t, int k, int64_t s);
void trainer_stage_backward(struct trainer *t, int k, int64_t s);

/* Forward only, over the first n samples of d, with the live weights. */
void trainer_evaluate(struct trainer *t, const struct dataset *d, int64_t n, double *loss_sum,
                      int64_t *correct);

/* Layer l's live parameters as floats (fixed point: the datapath weights,
 * dequantized): weights (layout of layers.h) then biases, into out (when
 * non-NULL). Returns their count. */
int64_t trainer_params(const struct trainer *t, int l, float *out);
void trainer_alloc(const struct trainer *t, struct train_alloc *a);
/* The learning rate the schedule gives the update of a (global) minibatch. */
double trainer_lr(const struct trainer *t, int64_t minibatch);
double train_lr_at(const struct train_opts *o, int64_t minibatch);
/* The stage count the trainer runs (1 for sequential). */
int trainer_stages(const struct trainer *t);

#endif
