/* blocks_skew_mem.h - the C API of the Verilated rtl/skew_mem.sv (sim/blocks_skew_mem.cpp),
 * built at the module's default parameters: SIM_SKEW_SLOTS matrices of SIM_SKEW_P x
 * SIM_SKEW_Q words of SIM_SKEW_WIDTH bits in SIM_SKEW_N banks, skewed (element (p, q) of
 * slot s in bank (p + q) mod N at address s*P*QB + p*QB + (q >> log2 N), QB = ceil(Q/N)),
 * so that a row segment and a column segment of N words each take one cycle.
 *
 * The model is clocked one cycle per call: sim_skew_cycle drives the inputs, returns the
 * outputs as they stand in that cycle, then gives the clock its rising edge. A read
 * presented in call t is answered by call t + SIM_SKEW_LATENCY, and its words stay on the
 * outputs until the next read's words replace them. The RAM is not reset (skew_mem has no
 * reset): words never written read whatever Verilator initialised them to.
 *
 * The harness checks at compile time that the model's data ports are SIM_SKEW_N words of
 * SIM_SKEW_WIDTH bits; P, Q, Slots and Skew are not public in skew_mem.sv, so they are
 * taken on trust from its defaults (a mismatch shows as failures of tests/test_rtl_skew_mem).
 * A model owns its VerilatedContext; the C tests never see C++.
 */
#ifndef LP_SIM_BLOCKS_SKEW_MEM_H
#define LP_SIM_BLOCKS_SKEW_MEM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_SKEW_N 4        /* banks: words per access, a power of two */
#define SIM_SKEW_P 5        /* rows of a matrix */
#define SIM_SKEW_Q 7        /* columns (not a multiple of N: each row ends in padding) */
#define SIM_SKEW_SLOTS 1    /* matrices (the default: the weight memories rely on it) */
#define SIM_SKEW_WIDTH 32   /* bits per word */
#define SIM_SKEW_SKEW 1     /* 1: (p, q) in bank (p + q) mod N; 0: bank q mod N */
#define SIM_SKEW_LATENCY 2  /* cycles, read path: the SRAM and its output register */

struct sim_skew_geom {
    int n, p, q, slots, width, skew;
};

/* One cycle's inputs. Lane l of a row access at (p, q) is element (p, q + l), of a column
 * access (p + l, q); lane l sits in bank (base + l) mod N, base = (p + q) mod N. */
struct sim_skew_in {
    int rd_valid;
    int rd_col;                      /* 0: along row rd_p; 1: down column rd_q */
    int rd_slot;                     /* below SIM_SKEW_SLOTS */
    uint32_t rd_p, rd_q;
    int wr_valid;                    /* write lanes 0 .. wr_n - 1 along row wr_p */
    int wr_bank;                     /* 0: wr_data in lane order; 1: in bank order */
    int wr_slot;
    uint32_t wr_p, wr_q, wr_n;       /* the caller keeps wr_q + lane < Q */
    uint32_t wr_data[SIM_SKEW_N];
};

/* The outputs of one cycle: the words of the last read presented before this call. */
struct sim_skew_out {
    uint32_t rd_data[SIM_SKEW_N];    /* lane order */
    uint32_t rd_bank[SIM_SKEW_N];    /* bank order: the word of bank b at b */
};

struct sim_skew;

/* A new model, not yet clocked. NULL when out of memory. */
struct sim_skew *sim_skew_create(void);
/* Closes the trace file if one is open. NULL is allowed. */
void sim_skew_destroy(struct sim_skew *s);
/* Write a VCD of every following cycle to path, closed by destroy. Returns 0, or -1 when
 * the file cannot be opened or a trace is already open (sim/harness.h has the rest). */
int sim_skew_trace(struct sim_skew *s, const char *path);
void sim_skew_geometry(const struct sim_skew *s, struct sim_skew_geom *g);
/* Drive *in for one cycle: *out (may be NULL) gets the outputs of this cycle, then the
 * clock edge. */
void sim_skew_cycle(struct sim_skew *s, const struct sim_skew_in *in, struct sim_skew_out *out);

#ifdef __cplusplus
}
#endif

#endif
