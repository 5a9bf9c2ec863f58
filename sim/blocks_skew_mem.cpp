// The Verilated skew_mem behind the C API of blocks_skew_mem.h.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "Vskew_mem.h"
#include "blocks_skew_mem.h"
#include "harness.h"

// The data ports are N words of Width bits; the C API carries a word in 32 bits and the
// ports below are unpacked as 32-bit words of a VlWide.
static_assert(SIM_SKEW_WIDTH == 32, "a lane is one 32-bit word of the port");
template <class Port>
using PortType = std::remove_reference_t<Port>;
static_assert(std::is_same<PortType<decltype(std::declval<Vskew_mem &>().rd_data_o)>,
                           VlWide<SIM_SKEW_N>>::value, "rd_data_o is N words of 32 bits");
static_assert(std::is_same<PortType<decltype(std::declval<Vskew_mem &>().rd_bank_o)>,
                           VlWide<SIM_SKEW_N>>::value, "rd_bank_o is N words of 32 bits");
static_assert(std::is_same<PortType<decltype(std::declval<Vskew_mem &>().wr_data_i)>,
                           VlWide<SIM_SKEW_N>>::value, "wr_data_i is N words of 32 bits");
static_assert((SIM_SKEW_N & (SIM_SKEW_N - 1)) == 0, "N is a power of two");

struct sim_skew : Harness<Vskew_mem> {};

static void drive(Vskew_mem *top, const sim_skew_in *in)
{
    top->rd_valid_i = in->rd_valid ? 1 : 0;
    top->rd_col_i = in->rd_col ? 1 : 0;
    top->rd_slot_i = static_cast<uint8_t>(in->rd_slot);
    top->rd_p_i = in->rd_p;
    top->rd_q_i = in->rd_q;
    top->wr_valid_i = in->wr_valid ? 1 : 0;
    top->wr_bank_i = in->wr_bank ? 1 : 0;
    top->wr_slot_i = static_cast<uint8_t>(in->wr_slot);
    top->wr_p_i = in->wr_p;
    top->wr_q_i = in->wr_q;
    top->wr_n_i = in->wr_n;
    for (int l = 0; l < SIM_SKEW_N; l++)
        top->wr_data_i[l] = in->wr_data[l];
}

static void sample(const Vskew_mem *top, sim_skew_out *out)
{
    for (int l = 0; l < SIM_SKEW_N; l++) {
        out->rd_data[l] = top->rd_data_o[l];
        out->rd_bank[l] = top->rd_bank_o[l];
    }
}

HARNESS_CREATE_DESTROY(sim_skew, harness_no_reset<sim_skew>)
HARNESS_TRACE(sim_skew)

void sim_skew_geometry(const struct sim_skew *s, struct sim_skew_geom *g)
{
    (void)s;
    g->n = SIM_SKEW_N;
    g->p = SIM_SKEW_P;
    g->q = SIM_SKEW_Q;
    g->slots = SIM_SKEW_SLOTS;
    g->width = SIM_SKEW_WIDTH;
    g->skew = SIM_SKEW_SKEW;
}

// The low half of the cycle with the inputs applied (the outputs of this cycle), then the
// rising edge.
void sim_skew_cycle(struct sim_skew *s, const struct sim_skew_in *in, struct sim_skew_out *out)
{
    drive(s->top.get(), in);
    s->half(0);
    if (out)
        sample(s->top.get(), out);
    s->half(1);
}
