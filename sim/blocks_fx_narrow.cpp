// The Verilated fx_narrow behind the C API of blocks.h. Combinational: no clock, each
// call drives the inputs and evaluates.
#include "Vfx_narrow.h"
#include "blocks.h"
#include "harness.h"

struct sim_narrow : Harness<Vfx_narrow> {};

HARNESS_CREATE_DESTROY(sim_narrow, harness_no_reset<sim_narrow>)

int32_t sim_narrow_eval(struct sim_narrow *s, int64_t x, int shift, int bits, int round_even,
                        int *sat)
{
    s->top->x_i = static_cast<uint64_t>(x);
    s->top->shift_i = static_cast<uint8_t>(shift);
    s->top->bits_i = static_cast<uint8_t>(bits);
    s->top->round_even_i = round_even ? 1 : 0;
    s->top->eval();
    *sat = s->top->sat_o;
    return static_cast<int32_t>(s->top->y_o);
}
