/* cosim.h - the pipeline RTL (rtl/lp_top.sv, Verilated) trained in lockstep with the
 * golden model, compared bit for bit (layerpipe verify; docs/rtl.md).
 *
 * Each step runs the model's step first (its probe hook records every value it
 * produces), then the RTL's step, whose observation port reports every value as it is
 * produced; each is compared with the model's value of the same kind, layer, minibatch
 * and index. After the step, every value the model produced must have been observed.
 * The host's part of a step is done here: the minibatch entering stage 1 (the model's
 * quantised input), and the loss gradient, computed by fixed_loss from the logits the
 * RTL sent and checked against the model's.
 *
 * The RTL's structure is fixed at build time: the host (sw/run/rtl_build.h) Verilates
 * the top with cosim_top_params into a shared object, cosim_open loads it. Nothing here
 * prints.
 */
#ifndef LP_SIM_COSIM_H
#define LP_SIM_COSIM_H

#include <stdint.h>
#include <stdio.h>

#include "../model/data.h"
#include "../model/err.h"
#include "../model/fixed.h"
#include "../model/net.h"
#include "../model/train.h"
#include "lptop.h"

struct cosim_setup {
    const struct net *net;           /* dense layers only */
    const int *stage_of;             /* the hardware's partition (sequential runs it too) */
    int n_stages;
    const struct train_opts *opts;   /* fixed point; policy, batch, optimizer */
    const struct fixed_spec *q;
    int rows, cols, mac_latency;     /* the MAC array; latency >= 2 */
    const struct dataset *data;      /* minibatch j: samples order[j*batch ...] */
    const int32_t *order;
    int64_t minibatches;
    const char *trace;               /* a .vcd or .fst to write, or NULL */
    const char *lib;                 /* the build (sw/run/rtl_build.h) */
    int bare;                        /* run the RTL alone: no model, no comparison */
    int inject_fault;                /* corrupt one expected value */
};

struct cosim_mismatch {
    enum train_probe kind;
    int layer, stage;
    int64_t step, minibatch, index;
    int32_t expected, actual;
    int what;                        /* 0 value differs; 1 not produced; 2 unexpected */
};

struct cosim_counts {
    uint64_t busy, stall, idle;
};

struct cosim_result {
    struct lptop_geom geom;          /* what the RTL instantiated */
    int64_t steps, steps_done;
    int64_t compared, mismatches;
    struct cosim_mismatch first;     /* when mismatches > 0 */
    uint64_t cycles;                 /* in the steps, the host's writes included */
    const int64_t *step_cycles;      /* per step done */
    const struct cosim_counts *stage;   /* [step * n_stages + stage - 1], per step */
};

/* lp_top's parameters for s (net, stage_of, n_stages, opts, q, rows, cols, mac_latency),
 * one Verilator option per line ("-GName=value"). Returns 0, or -1 with e set (a network
 * or MAC array the RTL cannot build). */
int cosim_top_params(const struct cosim_setup *s, char *out, size_t size, struct diag *e);

struct cosim;

/* Load s->lib, create the RTL (and, unless bare, the model), load the initial
 * weights. Returns 0, or -1 with e set (the build does not match s, memory, ...). */
int cosim_open(struct cosim **c, const struct cosim_setup *s, struct diag *e);
/* The next step. Returns 0, 1 after the last step, or -1 with e set (the RTL hung
 * or flagged an error). Mismatches are not errors: see cosim_result. */
int cosim_step(struct cosim *c, struct diag *e);
void cosim_result(const struct cosim *c, struct cosim_result *r);
void cosim_close(struct cosim *c);

#endif
