// The Verilated ema_unit behind the C API of blocks_ema_unit.h.
#include "Vema_unit.h"
#include "blocks_ema_unit.h"
#include "harness.h"

struct sim_ema_unit : Harness<Vema_unit> {};

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

static void sample(const Vema_unit *top, sim_ema_unit_out *out)
{
    out->rb_valid = top->rb_valid_o;
    out->rb_w = static_cast<int32_t>(top->rb_w_o);
    out->rb_sat = top->rb_sat_o;
    out->st_valid = top->st_valid_o;
    out->st_m = static_cast<int32_t>(top->st_m_o);
    out->st_sat = top->st_sat_o;
}

HARNESS_CREATE_DESTROY(sim_ema_unit, sim_ema_unit_reset)
HARNESS_TRACE(sim_ema_unit)

void sim_ema_unit_reset(struct sim_ema_unit *s)
{
    const sim_ema_unit_in idle = {1, 32, 28, 16, 14, 0, 0, 0, 0, 0, 0, 0, 0};
    drive(s->top.get(), &idle);
    s->reset(2);
}

// The low half of the cycle with the inputs applied (the outputs of this cycle), then the
// rising edge.
void sim_ema_unit_cycle(struct sim_ema_unit *s, const struct sim_ema_unit_in *in,
                        struct sim_ema_unit_out *out)
{
    drive(s->top.get(), in);
    s->half(0);
    if (out)
        sample(s->top.get(), out);
    s->half(1);
}
