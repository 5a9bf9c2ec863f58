// The Verilated delay_line_bank behind the C API of blocks_delay_line_bank.h.
#include <new>

#include "Vdelay_line_bank.h"
#include "Vdelay_line_bank_delay_line_bank.h"   // the model's public parameters
#include "blocks_delay_line_bank.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

// The C API and the port packing below assume the parameters the model was built with.
using Params = Vdelay_line_bank_delay_line_bank;
static_assert(Params::Width == 32, "data_o is read as one 32-bit word per line");
static_assert(Params::TagW == SIM_DL_TAG_BITS, "tag_o is read as one byte per line");
static_assert(Params::RamMin == SIM_DL_RAM_MIN, "RamMin");

static constexpr uint32_t kTagMask = (1u << SIM_DL_TAG_BITS) - 1u;

struct sim_dl {
    VerilatedContext ctx;
    Vdelay_line_bank *top = nullptr;
#if VM_TRACE
    VerilatedVcdC *vcd = nullptr;
#endif
};

// One half period: set the clock, evaluate, advance time (and dump when tracing).
static void half(sim_dl *s, int clk)
{
    s->top->clk_i = clk;
    s->top->eval();
#if VM_TRACE
    if (s->vcd)
        s->vcd->dump(s->ctx.time());
#endif
    s->ctx.timeInc(1);
}

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

struct sim_dl *sim_dl_create(void)
{
    sim_dl *s = new (std::nothrow) sim_dl;
    if (!s)
        return nullptr;
#if VM_TRACE
    s->ctx.traceEverOn(true);   // before the model is built; dumping starts in sim_dl_trace
#endif
    s->top = new (std::nothrow) Vdelay_line_bank{&s->ctx};
    if (!s->top) {
        delete s;
        return nullptr;
    }
    s->top->rst_ni = 1;
    s->top->clk_i = 0;
    s->top->eval();
    sim_dl_reset(s, nullptr, nullptr);
    return s;
}

void sim_dl_destroy(struct sim_dl *s)
{
    if (!s)
        return;
    s->top->final();
#if VM_TRACE
    if (s->vcd) {
        s->vcd->close();
        delete s->vcd;
    }
#endif
    delete s->top;
    delete s;
}

int sim_dl_trace(struct sim_dl *s, const char *path)
{
#if VM_TRACE
    if (s->vcd)
        return -1;
    s->vcd = new (std::nothrow) VerilatedVcdC;
    if (!s->vcd)
        return -1;
    s->top->trace(s->vcd, 99);
    s->vcd->open(path);
    if (!s->vcd->isOpen()) {
        delete s->vcd;
        s->vcd = nullptr;
        return -1;
    }
    return 0;
#else
    (void)s;
    (void)path;
    return -1;
#endif
}

void sim_dl_cycle(struct sim_dl *s, const struct sim_dl_in *in, struct sim_dl_out *out)
{
    drive(s, in);
    half(s, 0);   // settle the inputs; the outputs of this cycle
    sample(s, out);
    half(s, 1);
}

void sim_dl_reset(struct sim_dl *s, const struct sim_dl_in *in, struct sim_dl_out *out)
{
    const sim_dl_in idle{};
    drive(s, in ? in : &idle);
    s->top->rst_ni = 0;   // asynchronous: takes effect without an edge
    half(s, 0);
    if (out)
        sample(s, out);
    half(s, 1);
    s->top->rst_ni = 1;
    s->top->eval();
}
