/* blocks_sgd_update.h - the C API of the Verilated rtl/sgd_update.sv
 * (sim/blocks_sgd_update.cpp).
 *
 * The model is clocked one cycle per call: sim_sgd_update_cycle drives the inputs,
 * returns the outputs as they stand in that cycle, then gives the clock its rising edge.
 * A parameter presented in call t comes back, with its valid, from call
 * t + SIM_SGD_UPDATE_LATENCY. A model owns its VerilatedContext. create returns NULL when
 * out of memory.
 */
#ifndef LP_SIM_BLOCKS_SGD_UPDATE_H
#define LP_SIM_BLOCKS_SGD_UPDATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_SGD_UPDATE_LATENCY 7   /* cycles */

/* One cycle's inputs: a parameter and everything its update needs (the RTL samples the
 * constants and formats with each word). */
struct sim_sgd_update_in {
    int valid;
    int32_t grad, vel, master, m;   /* m read when ema_en */
    uint64_t lr, wd;                /* unsigned, 32 fraction bits (lr per sample) */
    uint32_t mu, beta;              /* 0..65535, 16 fraction bits */
    int ema_en;
    int round_even;                 /* 1 nearest_even, 0 truncate */
    int weight_bits, weight_frac;   /* bits 2..32, 0 <= frac < bits */
    int master_bits, master_frac;   /* master_frac >= weight_frac */
    int grad_bits, grad_frac;
};

struct sim_sgd_update_out {
    int valid;
    int32_t master, w, vel, m;      /* m: 0 when the word's ema_en was 0 */
    int sat_cnt;                    /* saturations of the word, 0..5 */
};

struct sim_sgd_update;
struct sim_sgd_update *sim_sgd_update_create(void);
void sim_sgd_update_destroy(struct sim_sgd_update *s);
/* Write a VCD of every following cycle to path, closed by destroy. Returns 0, or -1 when
 * the file cannot be opened or a trace is already open (sim/harness.h has the rest). */
int sim_sgd_update_trace(struct sim_sgd_update *s, const char *path);
/* Hold rst_ni low for two cycles (inputs idle), then release it. */
void sim_sgd_update_reset(struct sim_sgd_update *s);
void sim_sgd_update_cycle(struct sim_sgd_update *s, const struct sim_sgd_update_in *in,
                          struct sim_sgd_update_out *out);

#ifdef __cplusplus
}
#endif

#endif
