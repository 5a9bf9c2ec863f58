/* blocks_ema_unit.h - the C API of the Verilated rtl/ema_unit.sv (sim/blocks_ema_unit.cpp).
 *
 * The model is clocked one cycle per call: sim_ema_unit_cycle drives the inputs, returns
 * the outputs as they stand in that cycle, then gives the clock its rising edge. A word
 * presented in call t therefore comes back, with its valid, from call t + SIM_EMA_UNIT_LATENCY.
 * A model owns its VerilatedContext. create returns NULL when out of memory.
 */
#ifndef LP_SIM_BLOCKS_EMA_UNIT_H
#define LP_SIM_BLOCKS_EMA_UNIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_EMA_UNIT_LATENCY 2   /* cycles, both paths */

/* One cycle's inputs. The formats, the rounding mode and beta go with the words of
 * that cycle (the RTL samples them with each word). */
struct sim_ema_unit_in {
    int round_even;                 /* 1 nearest_even, 0 truncate */
    int master_bits, master_frac;   /* bits 2..32, 0 <= frac < bits */
    int weight_bits, weight_frac;   /* master_frac >= weight_frac */
    int rb_valid;                   /* rebuild: narrow(master + gap*m) to weight */
    int32_t rb_master, rb_m;
    uint32_t rb_gap;                /* 0..65535 */
    int st_valid;                   /* step: sat(narrow(beta*m + (2^16-beta)*u, 16)) */
    int32_t st_m, st_u;
    uint32_t st_beta;               /* 0..65535, 16 fraction bits */
};

/* One cycle's outputs. */
struct sim_ema_unit_out {
    int rb_valid;
    int32_t rb_w;
    int rb_sat;
    int st_valid;
    int32_t st_m;
    int st_sat;
};

struct sim_ema_unit;
struct sim_ema_unit *sim_ema_unit_create(void);
void sim_ema_unit_destroy(struct sim_ema_unit *s);
/* Write a VCD of every following cycle to path, closed by destroy. Returns 0, or -1 when
 * the file cannot be opened or a trace is already open (sim/harness.h has the rest). */
int sim_ema_unit_trace(struct sim_ema_unit *s, const char *path);
/* Hold rst_ni low for two cycles (inputs idle), then release it. */
void sim_ema_unit_reset(struct sim_ema_unit *s);
void sim_ema_unit_cycle(struct sim_ema_unit *s, const struct sim_ema_unit_in *in,
                        struct sim_ema_unit_out *out);

#ifdef __cplusplus
}
#endif

#endif
