// The Verilated sgd_update behind the C API of blocks_sgd_update.h.
#include "Vsgd_update.h"
#include "blocks_sgd_update.h"
#include "harness.h"

struct sim_sgd_update : Harness<Vsgd_update> {};

static void drive(Vsgd_update *top, const sim_sgd_update_in *in)
{
    top->valid_i = in->valid ? 1 : 0;
    top->grad_i = static_cast<uint32_t>(in->grad);
    top->vel_i = static_cast<uint32_t>(in->vel);
    top->master_i = static_cast<uint32_t>(in->master);
    top->m_i = static_cast<uint32_t>(in->m);
    top->lr_i = in->lr;
    top->wd_i = in->wd;
    top->mu_i = static_cast<uint16_t>(in->mu);
    top->beta_i = static_cast<uint16_t>(in->beta);
    top->ema_en_i = in->ema_en ? 1 : 0;
    top->round_even_i = in->round_even ? 1 : 0;
    // Verilated models expect the unused top bits of an input to be 0.
    top->weight_bits_i = static_cast<uint8_t>(in->weight_bits & 0x3f);
    top->weight_frac_i = static_cast<uint8_t>(in->weight_frac & 0x1f);
    top->master_bits_i = static_cast<uint8_t>(in->master_bits & 0x3f);
    top->master_frac_i = static_cast<uint8_t>(in->master_frac & 0x1f);
    top->grad_bits_i = static_cast<uint8_t>(in->grad_bits & 0x3f);
    top->grad_frac_i = static_cast<uint8_t>(in->grad_frac & 0x1f);
}

static void sample(const Vsgd_update *top, sim_sgd_update_out *out)
{
    out->valid = top->valid_o;
    out->master = static_cast<int32_t>(top->master_o);
    out->w = static_cast<int32_t>(top->w_o);
    out->vel = static_cast<int32_t>(top->vel_o);
    out->m = static_cast<int32_t>(top->m_o);
    out->sat_cnt = top->sat_cnt_o;
}

HARNESS_CREATE_DESTROY(sim_sgd_update, sim_sgd_update_reset)
HARNESS_TRACE(sim_sgd_update)

void sim_sgd_update_reset(struct sim_sgd_update *s)
{
    sim_sgd_update_in idle = {};
    idle.weight_bits = 16, idle.weight_frac = 14;
    idle.master_bits = 32, idle.master_frac = 28;
    idle.grad_bits = 32, idle.grad_frac = 20;
    drive(s->top.get(), &idle);
    s->reset(2);
}

// The low half of the cycle with the inputs applied (the outputs of this cycle), then the
// rising edge.
void sim_sgd_update_cycle(struct sim_sgd_update *s, const struct sim_sgd_update_in *in,
                          struct sim_sgd_update_out *out)
{
    drive(s->top.get(), in);
    s->half(0);
    if (out)
        sample(s->top.get(), out);
    s->half(1);
}
