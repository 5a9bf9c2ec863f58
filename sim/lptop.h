/* lptop.h - the Verilated pipeline top (rtl/lp_top.sv) behind a C API.
 *
 * The top's structure (layer widths, stages, batch, MAC array, policy, sequential
 * mode) is fixed when Verilator builds it, so each configuration is its own build:
 * sim/lptop.mk makes a shared object that exports lptop_api(), and sim/cosim.c
 * loads it. Everything here is C so that the loader needs no C++.
 *
 * A step (lptop_api.step) is one pipeline step of the hardware: the host writes the
 * minibatch entering stage 1 (or none, while the pipeline drains), a row segment of
 * `cols` words a cycle, starts the step, receives the last layer's outputs as they are
 * computed, answers with the loss gradient (again a row segment a cycle) when the last
 * stage asks for it, and waits for the step to end. Values the datapath produces are
 * reported one by one through observe (docs/rtl.md, "Observation port"); leaving it
 * NULL runs the bare RTL.
 */
#ifndef LP_SIM_LPTOP_H
#define LP_SIM_LPTOP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LPTOP_ABI 2
#define LPTOP_MAX_LAYERS 64

struct lptop_geom {
    int n_layers, n_stages, batch, rows, cols, mul_stages, policy, sequential;
    int64_t in_words, out_words;       /* one minibatch's input, and its loss gradient */
    /* what the build's memories hold, in 32-bit words */
    int64_t act_words, stash_words, ema_words, fwd_reg_words, bwd_reg_words;
};

struct lptop_cfg {
    int round_even;
    int act_bits, act_frac, err_bits, err_frac, weight_bits, weight_frac;
    int master_bits, master_frac, grad_bits, grad_frac;
    uint64_t wd;                       /* 32 fraction bits */
    uint32_t mu;                       /* 16 fraction bits */
    uint32_t beta[LPTOP_MAX_LAYERS];   /* per layer, 16 fraction bits */
};

/* kind: enum train_probe's numbers (2 activation, 4 error, 5 backward weights,
 * 6 gradient, 7 weights, 8 master). */
struct lptop_obs {
    int layer, kind;
    int64_t minibatch, index;
    int32_t value;
};

struct lptop_host {
    /* The last stage waits: logits holds the step's outputs (out_words); fill loss. */
    void (*loss)(void *ctx, const int32_t *logits, int32_t *loss);
    /* Every observed value, in the cycle it is produced; NULL: observe nothing. */
    void (*observe)(void *ctx, const struct lptop_obs *o);
    void *ctx;
};

struct lptop_counts {
    uint64_t busy, stall, idle;        /* cycles in steps, since create */
};

struct lptop;

struct lptop_api {
    int abi;                           /* LPTOP_ABI */
    struct lptop *(*create)(void);     /* reset and ready; NULL when out of memory */
    void (*destroy)(struct lptop *t);
    /* Trace every following cycle to path (.vcd or .fst, as built). 0 or -1. */
    int (*trace_open)(struct lptop *t, const char *path);
    void (*geometry)(const struct lptop *t, struct lptop_geom *g);
    void (*configure)(struct lptop *t, const struct lptop_cfg *c);
    /* Layer l's initial weights and master weights, rows x out words each (row i, the
     * bias after the weights: the layout of model/layers.h); vel, m <- 0. */
    void (*load_weights)(struct lptop *t, int l, const int32_t *w, const int32_t *master,
                         int64_t rows, int64_t out);
    /* One step. in: in_words words entering as minibatch mb with learning rate lr
     * (per sample, 32 fraction bits), or NULL for none. Returns the step's cycles
     * (start to done, the host's writes of in and loss included), -1 when the step
     * did not end within max_cycles, -2 when the RTL flagged an error, -3 when one of its
     * assertions failed (Verilator prints which, on standard output). */
    int64_t (*step)(struct lptop *t, const int32_t *in, int64_t mb, uint64_t lr,
                    const struct lptop_host *h, int64_t max_cycles);
    void (*counters)(const struct lptop *t, int stage, struct lptop_counts *c);
    uint64_t (*cycles)(const struct lptop *t);   /* every cycle since create */
};

/* The one symbol a build exports. */
const struct lptop_api *lptop_api(void);

#ifdef __cplusplus
}
#endif

#endif
