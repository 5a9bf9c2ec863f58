// The Verilated delay_line_bank behind the C API of blocks_delay_line_bank.h.
#include "Vdelay_line_bank.h"
#include "Vdelay_line_bank_delay_line_bank.h"   // the model's public parameters
#include "blocks_delay_line_bank.h"
#include "harness.h"

// The C API and the port packing below assume the parameters the model was built with.
using Params = Vdelay_line_bank_delay_line_bank;
static_assert(Params::Width == 32, "data_o is read as one 32-bit word per line");
static_assert(Params::TagW == SIM_DL_TAG_BITS, "tag_o is read as one byte per line");
static_assert(Params::RamMin == SIM_DL_RAM_MIN, "RamMin");

static constexpr uint32_t kTagMask = (1u << SIM_DL_TAG_BITS) - 1u;

struct sim_dl : Harness<Vdelay_line_bank> {};

static void drive(sim_dl *s, const sim_dl_in *in)
{
    s->top->step_i = in->step ? 1 : 0;
    s->top->valid_i = in->valid ? 1 : 0;
    s->top->tag_i = in->tag & kTagMask;
    s->top->data_i = in->data;
}

static void sample(const sim_dl *s, sim_dl_out *out)
{
    for (int i = 0; i < SIM_DL_LINES; i++) {
        out->valid[i] = (s->top->valid_o >> i) & 1u;
        out->tag[i] = static_cast<uint32_t>(s->top->tag_o >> (SIM_DL_TAG_BITS * i)) & kTagMask;
        out->data[i] = s->top->data_o[i];
    }
}

HARNESS_CREATE_DESTROY(sim_dl, harness_no_reset<sim_dl>)
HARNESS_TRACE(sim_dl)

void sim_dl_cycle(struct sim_dl *s, const struct sim_dl_in *in, struct sim_dl_out *out)
{
    drive(s, in);
    s->half(0);   // settle the inputs; the outputs of this cycle
    sample(s, out);
    s->half(1);
}

void sim_dl_reset(struct sim_dl *s, const struct sim_dl_in *in, struct sim_dl_out *out)
{
    const sim_dl_in idle{};
    drive(s, in ? in : &idle);
    s->top->rst_ni = 0;   // asynchronous: takes effect without an edge
    s->half(0);
    if (out)
        sample(s, out);
    s->half(1);
    s->top->rst_ni = 1;
    s->top->eval();
}
