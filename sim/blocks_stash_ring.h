/* blocks_stash_ring.h - the C API of the Verilated rtl/stash_ring.sv
 * (sim/blocks_stash_ring.cpp).
 *
 * The model is clocked one cycle per call: sim_stash_ring_cycle drives the inputs, returns
 * the outputs as they stand in that cycle, then gives the clock its rising edge. A read
 * presented in call t is answered, with rd_valid, by call t + SIM_STASH_RING_LATENCY.
 * The geometry is the one the model was built with (Verilator -G overrides included).
 * A model owns its VerilatedContext. create returns NULL when out of memory.
 */
#ifndef LP_SIM_BLOCKS_STASH_RING_H
#define LP_SIM_BLOCKS_STASH_RING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_STASH_RING_LATENCY 1   /* cycles, read path */

struct sim_stash_ring_geom {
    int depth;           /* versions held (0: none, reads return the live word) */
    int words;           /* words per version */
    int width;           /* bits per word, <= 32 */
    int version_width;   /* bits of the version numbers, <= 32 */
};

struct sim_stash_ring_in {
    int push_valid;      /* push word push_idx of the live version */
    int push_idx;
    uint32_t push_data;
    int push_last;       /* with the version's last word: live + 1 */
    int rd_valid;        /* read word rd_idx of version rd_ver */
    uint32_t rd_ver;     /* taken modulo 2^version_width */
    int rd_idx;
    uint32_t rd_live;    /* the live word rd_idx */
};

struct sim_stash_ring_out {
    int rd_valid;
    uint32_t rd_data;
    int rd_miss;         /* the version was not held */
    uint32_t live;       /* versions pushed since reset, modulo 2^version_width */
};

struct sim_stash_ring;
struct sim_stash_ring *sim_stash_ring_create(void);
void sim_stash_ring_destroy(struct sim_stash_ring *s);
/* Write a VCD of every following cycle to path, closed by destroy. Returns 0, or -1 when
 * the file cannot be opened or a trace is already open (sim/harness.h has the rest). */
int sim_stash_ring_trace(struct sim_stash_ring *s, const char *path);
void sim_stash_ring_geometry(const struct sim_stash_ring *s, struct sim_stash_ring_geom *g);
/* Hold rst_ni low for two cycles (inputs idle), then release it. The RAM keeps its
 * contents; the live and held counters and the head slot return to 0, so no version
 * from before the reset is held: reading one is a miss. */
void sim_stash_ring_reset(struct sim_stash_ring *s);
void sim_stash_ring_cycle(struct sim_stash_ring *s, const struct sim_stash_ring_in *in,
                          struct sim_stash_ring_out *out);

#ifdef __cplusplus
}
#endif

#endif
