/* blocks.h - the C API of the Verilated RTL blocks (sim/blocks_*.cpp).
 *
 * Each block model is created, driven and destroyed through these functions, so
 * the C tests and tools never see C++. A model owns its VerilatedContext.
 * Functions return 0, or -1 when out of memory.
 */
#ifndef LP_SIM_BLOCKS_H
#define LP_SIM_BLOCKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* fx_narrow (combinational): the narrowing of model/fixed.c: fixed_narrow. */
struct sim_narrow;
struct sim_narrow *sim_narrow_create(void);
void sim_narrow_destroy(struct sim_narrow *s);
int32_t sim_narrow_eval(struct sim_narrow *s, int64_t x, int shift, int bits, int round_even,
                        int *sat);

#ifdef __cplusplus
}
#endif

#endif
