// The Verilated fx_narrow behind the C API of blocks.h.
#include <new>

#include "Vfx_narrow.h"
#include "blocks.h"
#include "verilated.h"

struct sim_narrow {
    VerilatedContext ctx;
    Vfx_narrow *top;
};

struct sim_narrow *sim_narrow_create(void)
{
    sim_narrow *s = new (std::nothrow) sim_narrow;
    if (!s)
        return nullptr;
    s->top = new (std::nothrow) Vfx_narrow{&s->ctx};
    if (!s->top) {
        delete s;
        return nullptr;
    }
    return s;
}

void sim_narrow_destroy(struct sim_narrow *s)
{
    if (!s)
        return;
    s->top->final();
    delete s->top;
    delete s;
}

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
