// The Verilated ema_unit behind the C API of blocks_ema_unit.h.
#include <new>

#include "Vema_unit.h"
#include "blocks_ema_unit.h"
#include "verilated.h"

struct sim_ema_unit {
    VerilatedContext ctx;
    Vema_unit *top;
};

static void drive(Vema_unit *top, const sim_ema_unit_in *in)
{
    top->round_even_i = in->round_even ? 1 : 0;
    // Verilated models expect the unused top bits of an input to be 0.
    top->master_bits_i = static_cast<uint8_t>(in->master_bits & 0x3f);
    top->master_frac_i = static_cast<uint8_t>(in->master_frac & 0x1f);
    top->weight_bits_i = static_cast<uint8_t>(in->weight_bits & 0x3f);
    top->weight_frac_i = static_cast<uint8_t>(in->weight_frac & 0x1f);
    top->rb_valid_i = in->rb_valid ? 1 : 0;
    top->rb_master_i = static_cast<uint32_t>(in->rb_master);
    top->rb_m_i = static_cast<uint32_t>(in->rb_m);
    top->rb_gap_i = static_cast<uint16_t>(in->rb_gap);
    top->st_valid_i = in->st_valid ? 1 : 0;
    top->st_m_i = static_cast<uint32_t>(in->st_m);
    top->st_u_i = static_cast<uint32_t>(in->st_u);
    top->st_beta_i = static_cast<uint16_t>(in->st_beta);
}

// The low half of the cycle with the inputs applied, then the rising edge.
static void tick(Vema_unit *top, sim_ema_unit_out *out)
{
    top->clk_i = 0;
    top->eval();
    if (out) {
        out->rb_valid = top->rb_valid_o;
        out->rb_w = static_cast<int32_t>(top->rb_w_o);
        out->rb_sat = top->rb_sat_o;
        out->st_valid = top->st_valid_o;
        out->st_m = static_cast<int32_t>(top->st_m_o);
        out->st_sat = top->st_sat_o;
    }
    top->clk_i = 1;
    top->eval();
}

struct sim_ema_unit *sim_ema_unit_create(void)
{
    sim_ema_unit *s = new (std::nothrow) sim_ema_unit;
    if (!s)
        return nullptr;
    s->top = new (std::nothrow) Vema_unit{&s->ctx};
    if (!s->top) {
        delete s;
        return nullptr;
    }
    sim_ema_unit_reset(s);
    return s;
}

void sim_ema_unit_destroy(struct sim_ema_unit *s)
{
    if (!s)
        return;
    s->top->final();
    delete s->top;
    delete s;
}

void sim_ema_unit_reset(struct sim_ema_unit *s)
{
    const sim_ema_unit_in idle = {1, 32, 28, 16, 14, 0, 0, 0, 0, 0, 0, 0, 0};
    drive(s->top, &idle);
    s->top->rst_ni = 0;
    tick(s->top, nullptr);
    tick(s->top, nullptr);
    s->top->rst_ni = 1;
}

void sim_ema_unit_cycle(struct sim_ema_unit *s, const struct sim_ema_unit_in *in,
                        struct sim_ema_unit_out *out)
{
    drive(s->top, in);
    tick(s->top, out);
}
