/* scp.h - the SystemC system model of the pipeline (sim/sc_pipeline.cpp) behind a C API.
 *
 * Each stage is an SC_MODULE that runs its layers with the analytic model's timing
 * (model/cycles.h); the registers between stages (in the RTL, the spare input slot and
 * error buffer the neighbour writes while it runs) are channels carrying the valid bit
 * and minibatch of what they hold (so fill and drain follow from them, as in the RTL);
 * a sequencer module runs the steps; one off-chip memory module, shared by every
 * stage, serves TLM-2.0 blocking transports with an annotated delay of its latency and
 * bandwidth, one transfer at a time. A stage keeps on chip, in this order, its layers'
 * weights (with master weights and velocity), activation delay lines and weight
 * history, up to its on-chip memory; what does not fit is off chip, and each command
 * moves its share of the words it touches (docs/cycle-model.md, "SystemC").
 *
 * The stages are behavioural, or the Verilated RTL stages (rtl/lp_stage_bank.sv,
 * verilator --sc) driven through the same commands and channels.
 *
 * SystemC elaborates once per process, so scp_run runs each simulation in a child
 * process and reads its results back through a pipe.
 */
#ifndef LP_SIM_SCP_H
#define LP_SIM_SCP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Words a layer command touches, per memory class. */
struct scp_access {
    int64_t weights_read, weights_written;
    int64_t act_read, act_written;
    int64_t hist_read, hist_written;
};

struct scp_layer {
    int stage;                       /* 1..M */
    int64_t fwd, bwd;                /* a forward and a backward command, cycles */
    struct scp_access fa, ba;        /* what each touches */
};

struct scp_stage {
    int first, count;                /* its layers */
    int64_t weight_words, act_words, hist_words;   /* what it keeps */
};

struct scp_params {
    int M, L, sequential;
    int64_t n;                       /* minibatches */
    int64_t in_rows, loss_rows;      /* the host's row writes of the input and the loss
                                        gradient per step */
    const struct scp_layer *layer;   /* L */
    const struct scp_stage *stage;   /* M */
    int64_t onchip_words;            /* per stage */
    double bytes_per_cycle;          /* off chip */
    int64_t latency;                 /* off chip, cycles */
    const char *rtl_lib;             /* NULL: behavioural stages; else the Verilated RTL
                                        stages of this build (sw/run/rtl_build.h, kind "bank"),
                                        which keep everything on chip */
    /* Optional, behavioural stages: the values, by the C model (trainer_step_input,
     * trainer_stage_forward, trainer_stage_backward). The sequencer takes the step's
     * input in; pipelined, each stage computes its own forward and backward as its run
     * starts (in zero time, ordered by delta cycles as the trainer orders them), and
     * sequentially the sequencer computes the whole step (the model's one stage).
     * finish(ctx, out) reports what was computed. Called in the simulation's process. */
    void (*step_input)(void *ctx, int64_t step);
    void (*stage_forward)(void *ctx, int stage, int64_t step);
    void (*stage_backward)(void *ctx, int stage, int64_t step);
    void (*finish)(void *ctx, double out[3]);
    void *ctx;
};

struct scp_stage_step {
    int64_t busy, stall_loss, stall_memory, idle;
    int64_t read_bytes, write_bytes;
};

struct scp_result {
    int64_t steps;
    int64_t *cycles;                 /* per step, as the host sees it */
    struct scp_stage_step *stage;    /* [step * M + stage - 1] */
    int64_t offchip_words[64][3];    /* per stage: weights, activations, history off chip */
    double computed[3];              /* what finish reported (loss sum, correct, samples) */
};

/* Run the model; fills r (free with scp_free). Returns 0, or -1 with err set. */
int scp_run(const struct scp_params *p, struct scp_result *r, char *err, size_t err_size);
void scp_free(struct scp_result *r);

#ifdef __cplusplus
}
#endif

#endif
