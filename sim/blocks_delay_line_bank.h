/* blocks_delay_line_bank.h - the C API of the Verilated rtl/delay_line_bank.sv
 * (sim/blocks_delay_line_bank.cpp): rtl/delay_line.sv at the depths SIM_DL_DEPTHS side
 * by side on the same inputs, 32-bit data and 8-bit tags, RamMin 4 (so depth 0 is a
 * pass-through, 1 a register, 2 and 3 shift chains, 4 and more rings).
 *
 * A model owns its VerilatedContext; the C tests never see C++.
 */
#ifndef LP_SIM_BLOCKS_DELAY_LINE_BANK_H
#define LP_SIM_BLOCKS_DELAY_LINE_BANK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_DL_LINES 8
#define SIM_DL_DEPTHS {0, 1, 2, 3, 4, 5, 8, 17}   /* line i's Depth, as in the RTL */
#define SIM_DL_TAG_BITS 8
#define SIM_DL_RAM_MIN 4

/* One cycle's inputs, shared by every line. */
struct sim_dl_in {
    int step, valid;
    uint32_t tag;    /* low SIM_DL_TAG_BITS bits */
    uint32_t data;
};

/* Every line's outputs in one cycle; tag and data are meaningful where valid. */
struct sim_dl_out {
    int valid[SIM_DL_LINES];
    uint32_t tag[SIM_DL_LINES];
    uint32_t data[SIM_DL_LINES];
};

struct sim_dl;

/* A new model, reset. NULL when out of memory. */
struct sim_dl *sim_dl_create(void);
/* Closes the trace file if one is open. NULL is allowed. */
void sim_dl_destroy(struct sim_dl *s);
/* Write a VCD of every following cycle to path. Returns 0, or -1 when the harness was
 * built without tracing (verilator --trace and -DVM_TRACE=1), the file cannot be opened,
 * a trace is already open or path ends in .fst (VCD only: sim/harness.h). Tracing is
 * off unless this is called. */
int sim_dl_trace(struct sim_dl *s, const char *path);

/* Drive *in for one cycle: *out gets the outputs of this cycle (after the inputs have
 * settled, before the clock edge: depth 0 shows *in itself), then the clock edge. */
void sim_dl_cycle(struct sim_dl *s, const struct sim_dl_in *in, struct sim_dl_out *out);

/* One cycle with rst_ni low and *in driven (NULL: idle inputs): *out (may be NULL) gets
 * the outputs once rst_ni has fallen, before the edge (reset is asynchronous); then the
 * edge, and rst_ni is released. */
void sim_dl_reset(struct sim_dl *s, const struct sim_dl_in *in, struct sim_dl_out *out);

#ifdef __cplusplus
}
#endif

#endif
