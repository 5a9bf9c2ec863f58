/* blocks_stash_ring_bank.h - the C API of the Verilated rtl/stash_ring_bank.sv
 * (sim/blocks_stash_ring_bank.cpp): rtl/stash_ring.sv at the depths SIM_SRB_DEPTHS side by
 * side on the same push and read inputs, SIM_SRB_WORDS words of SIM_SRB_WIDTH bits per
 * version, SIM_SRB_VERSION_WIDTH-bit version counters (narrow, so that they wrap).
 *
 * The model is clocked one cycle per call, as sim/blocks_stash_ring.h: sim_srb_cycle
 * drives the inputs, returns every ring's outputs as they stand in that cycle, then gives
 * the clock its rising edge. A read presented in call t is answered, with rd_valid, by call
 * t + SIM_SRB_LATENCY. The harness checks at compile time that the model was built with
 * these parameters. A model owns its VerilatedContext; the C tests never see C++.
 */
#ifndef LP_SIM_BLOCKS_STASH_RING_BANK_H
#define LP_SIM_BLOCKS_STASH_RING_BANK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_SRB_RINGS 5
#define SIM_SRB_DEPTHS {0, 1, 2, 3, 6}   /* ring i's Depth, as in the RTL */
#define SIM_SRB_WORDS 8                  /* words per version */
#define SIM_SRB_WIDTH 16                 /* bits per word */
#define SIM_SRB_VERSION_WIDTH 8          /* bits of the version numbers */
#define SIM_SRB_LATENCY 1                /* cycles, read path */

/* One cycle's inputs, shared by every ring. */
struct sim_srb_in {
    int push_valid;      /* push word push_idx of the live version */
    int push_idx;        /* below SIM_SRB_WORDS */
    uint32_t push_data;  /* low SIM_SRB_WIDTH bits */
    int push_last;       /* with the version's last word: live + 1 */
    int rd_valid;        /* read word rd_idx of version rd_ver */
    uint32_t rd_ver;     /* taken modulo 2^SIM_SRB_VERSION_WIDTH */
    int rd_idx;          /* below SIM_SRB_WORDS */
    uint32_t rd_live;    /* the live word rd_idx, low SIM_SRB_WIDTH bits */
};

/* Every ring's outputs in one cycle. */
struct sim_srb_out {
    int rd_valid[SIM_SRB_RINGS];
    uint32_t rd_data[SIM_SRB_RINGS];
    int rd_miss[SIM_SRB_RINGS];      /* the version was not held by that ring */
    uint32_t live[SIM_SRB_RINGS];    /* versions pushed since reset, modulo 2^version width */
};

struct sim_srb;

/* A new model, reset. NULL when out of memory. */
struct sim_srb *sim_srb_create(void);
/* Closes the trace file if one is open. NULL is allowed. */
void sim_srb_destroy(struct sim_srb *s);
/* Write a VCD of every following cycle to path, closed by destroy. Returns 0, or -1 when
 * the file cannot be opened or a trace is already open (sim/harness.h has the rest). */
int sim_srb_trace(struct sim_srb *s, const char *path);
/* Hold rst_ni low for two cycles (inputs idle), then release it. The RAMs keep their
 * contents; the live and held counters and head slots return to 0 (no version from before
 * the reset is held: reading one is a miss), no read is in flight. */
void sim_srb_reset(struct sim_srb *s);
/* Drive *in for one cycle: *out (may be NULL) gets the outputs of this cycle, then the
 * clock edge. */
void sim_srb_cycle(struct sim_srb *s, const struct sim_srb_in *in, struct sim_srb_out *out);

#ifdef __cplusplus
}
#endif

#endif
