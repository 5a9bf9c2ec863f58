/* blocks_stash_ring_bank.h - the C API of the Verilated rtl/stash_ring_bank.sv
 * (sim/blocks_stash_ring_bank.cpp): rtl/stash_ring.sv at the depths SIM_SRB_DEPTHS side by
 * side on the same push and read inputs, each a ring of versions of a SIM_SRB_P x SIM_SRB_Q
 * weight matrix of SIM_SRB_WIDTH-bit words in SIM_SRB_N skewed banks (rtl/skew_mem.sv:
 * element (p, q) in bank (p + q) mod N), with SIM_SRB_VERSION_WIDTH-bit version counters
 * (narrow, so that they wrap).
 *
 * The model is clocked one cycle per call: sim_srb_cycle drives the inputs, returns every
 * ring's outputs as they stand in that cycle, then gives the clock its rising edge. A read
 * presented in call t is answered, with rd_valid, by call t + SIM_SRB_LATENCY. The harness
 * checks at compile time that the model was built with these parameters. A model owns its
 * VerilatedContext; the C tests never see C++.
 */
#ifndef LP_SIM_BLOCKS_STASH_RING_BANK_H
#define LP_SIM_BLOCKS_STASH_RING_BANK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_SRB_RINGS 4
#define SIM_SRB_DEPTHS {1, 2, 3, 6}      /* ring i's Depth, as in the RTL */
#define SIM_SRB_P 7                      /* rows of the weight matrix */
#define SIM_SRB_Q 6                      /* columns (not a multiple of N) */
#define SIM_SRB_N 4                      /* banks: words per push or read */
#define SIM_SRB_WIDTH 16                 /* bits per word */
#define SIM_SRB_VERSION_WIDTH 8          /* bits of the version numbers */
#define SIM_SRB_LATENCY 2                /* cycles, read path: the SRAM and its output register */

/* One cycle's inputs, shared by every ring. */
struct sim_srb_in {
    int push_valid;       /* push a row segment of the live version: */
    uint32_t push_p;      /*   row push_p (below P), */
    uint32_t push_q;      /*   columns push_q .. push_q + push_n - 1 (below Q), */
    uint32_t push_n;      /*   1 .. N words, */
    uint32_t push_data[SIM_SRB_N];   /* in bank order: the word of (p, q) at (p + q) mod N;
                                        the other banks' words are ignored */
    int push_last;        /* with the version's last segment: live + 1 */
    int rd_valid;         /* read the column segment of version rd_ver: */
    uint32_t rd_ver;      /*   taken modulo 2^SIM_SRB_VERSION_WIDTH, */
    uint32_t rd_p;        /*   rows rd_p .. rd_p + N - 1 (those past P read anything), */
    uint32_t rd_q;        /*   column rd_q */
};

/* Every ring's outputs in one cycle. rd_data is meaningful where rd_valid is set and
 * neither rd_live nor rd_miss is. */
struct sim_srb_out {
    int rd_valid[SIM_SRB_RINGS];
    uint32_t rd_data[SIM_SRB_RINGS][SIM_SRB_N];   /* lane order: lane l is row rd_p + l */
    int rd_live[SIM_SRB_RINGS];     /* the version is the live one: read the weight memory */
    int rd_miss[SIM_SRB_RINGS];     /* the version is not held by that ring */
    uint32_t live[SIM_SRB_RINGS];   /* versions pushed since reset, modulo 2^version width */
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
