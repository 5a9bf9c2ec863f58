/* blocks_mac_array.h - the C API of the Verilated rtl/mac_array.sv (sim/blocks_mac_array.cpp).
 *
 * The model is built with the module's default parameters: a 4 x 4 array of cells with
 * 32-bit signed operands, 64-bit accumulators, MulStages = 2 and 8-bit tags (the harness
 * checks them against the Verilated model at compile time). A model owns its
 * VerilatedContext; the C tests never see C++.
 *
 * Timing: every function below advances the clock by whole cycles. A beat presented in
 * cycle n (in_valid_i high) is taken at the rising edge that ends cycle n; the beat
 * marked last is reported SIM_MAC_LATENCY cycles later: out_valid_o is high in cycle
 * n + SIM_MAC_LATENCY, for that one cycle, with its tag and the finished sums.
 */
#ifndef LP_SIM_BLOCKS_MAC_ARRAY_H
#define LP_SIM_BLOCKS_MAC_ARRAY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_MAC_ROWS 4
#define SIM_MAC_COLS 4
#define SIM_MAC_TAG_BITS 8
#define SIM_MAC_LATENCY 3   /* MulStages + 1: the product registers, then the accumulator */
#define SIM_MAC_WAIT_LIMIT 64   /* sim_mac_tile gives up after this many cycles */

/* One cycle's inputs. The payload (clear, last, tag, a, b) is read only when valid. */
struct sim_mac_beat {
    int valid, clear, last;
    uint32_t tag;                  /* low SIM_MAC_TAG_BITS bits */
    int32_t a[SIM_MAC_ROWS];       /* a[r]: column k of the left operand */
    int32_t b[SIM_MAC_COLS];       /* b[c]: row k of the right operand */
};

/* The outputs as they are in the cycle after the edge. acc is meaningful with valid. */
struct sim_mac_out {
    int valid;
    uint32_t tag;
    int64_t acc[SIM_MAC_ROWS * SIM_MAC_COLS];   /* acc[r * SIM_MAC_COLS + c] */
    int64_t row[SIM_MAC_COLS];   /* row_o: row j of the tile j cycles after valid, until the
                                    next tile's valid */
};

/* What sim_mac_tile observed. */
struct sim_mac_tile_stats {
    uint32_t tag;      /* out_tag_o while out_valid_o was high */
    int64_t cycles;    /* clock cycles the call took: K + sum(gaps) + latency - 1; a next
                          tile may present its first beat in the cycle of out_valid_o */
    int64_t latency;   /* cycles from the last beat to out_valid_o (SIM_MAC_LATENCY) */
};

struct sim_mac;

/* A new model, reset. NULL when out of memory. */
struct sim_mac *sim_mac_create(void);
/* Closes the trace file if one is open. NULL is allowed. */
void sim_mac_destroy(struct sim_mac *s);
/* Write a VCD of every following cycle to path. Returns 0, or -1 when the harness was
 * built without tracing (verilator --trace and -DVM_TRACE=1), the file cannot be opened,
 * a trace is already open or path ends in .fst (VCD only: sim/harness.h). Tracing is
 * off unless this is called. */
int sim_mac_trace(struct sim_mac *s, const char *path);
/* Hold rst_ni low for one cycle (beats in flight are dropped), then release it. */
void sim_mac_reset(struct sim_mac *s);

/* Drive one cycle with *in and clock it; *out gets the outputs of the next cycle. */
void sim_mac_cycle(struct sim_mac *s, const struct sim_mac_beat *in, struct sim_mac_out *out);

/* Stream one tile sum sums[r][c] = sum over k < K of a[r][k] * b[k][c] through the array
 * and wait for it: a is SIM_MAC_ROWS x K, b is K x SIM_MAC_COLS, sums SIM_MAC_ROWS x
 * SIM_MAC_COLS, all row-major. Beat k is preceded by gaps[k] idle cycles (gaps may be
 * NULL); idle cycles drive in_valid_i low with a poisoned payload (clear and last high,
 * the operands inverted, the tag inverted), which the array must ignore. The first beat
 * has clear, the last has last and tag. Expects the array idle (no sum in flight).
 * Returns 0, or -1 when K < 1, when out_valid_o was high before the last beat had been
 * taken, or when it did not rise within SIM_MAC_WAIT_LIMIT cycles after the last beat
 * (then sums and *st are not meaningful). st may be NULL. */
int sim_mac_tile(struct sim_mac *s, const int32_t *a, const int32_t *b, int K, const int *gaps,
                 uint32_t tag, int64_t *sums, struct sim_mac_tile_stats *st);

#ifdef __cplusplus
}
#endif

#endif
