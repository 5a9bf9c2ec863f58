// The Verilated stash_ring_bank behind the C API of blocks_stash_ring_bank.h.
#include <cstddef>
#include <cstdint>

#include "Vstash_ring_bank.h"
#include "Vstash_ring_bank_stash_ring_bank.h"   // the model's public parameters
#include "blocks_stash_ring_bank.h"
#include "harness.h"

// The C API and the port packing below assume the parameters the model was built with.
using Params = Vstash_ring_bank_stash_ring_bank;

// SIM_SRB_DEPTHS packed as the RTL's Depths: ring i at bits [i*8 +: 8].
static constexpr uint64_t packed_depths()
{
    constexpr int d[] = SIM_SRB_DEPTHS;
    static_assert(sizeof d / sizeof d[0] == SIM_SRB_RINGS, "one depth per ring");
    uint64_t p = 0;
    for (int i = SIM_SRB_RINGS - 1; i >= 0; i--)
        p = p << 8 | static_cast<uint64_t>(d[i]);
    return p;
}

static_assert(Params::NumRings == SIM_SRB_RINGS, "NumRings");
static_assert(Params::Depths == packed_depths(), "Depths");
static_assert(Params::P == SIM_SRB_P && Params::Q == SIM_SRB_Q, "P, Q");
static_assert(Params::N == SIM_SRB_N, "N");
static_assert(Params::Width == SIM_SRB_WIDTH && SIM_SRB_WIDTH <= 32, "Width");
static_assert(Params::VersionWidth == SIM_SRB_VERSION_WIDTH && SIM_SRB_VERSION_WIDTH <= 32,
              "VersionWidth");

struct sim_srb : Harness<Vstash_ring_bank> {};

static constexpr uint32_t low_mask(unsigned bits)
{
    return bits >= 32 ? 0xffffffffu : (1u << bits) - 1u;
}

// Bits [lo +: bits] (bits <= 32) of a port Verilator holds in one integer...
template <typename T>
static uint32_t field(const T &v, unsigned lo, unsigned bits)
{
    return static_cast<uint32_t>(static_cast<uint64_t>(v) >> lo) & low_mask(bits);
}

// ... or in a VlWide of 32-bit words.
template <std::size_t W>
static uint32_t field(const VlWide<W> &v, unsigned lo, unsigned bits)
{
    uint64_t x = v[lo / 32];
    if (lo / 32 + 1 < W)
        x |= static_cast<uint64_t>(v[lo / 32 + 1]) << 32;
    return static_cast<uint32_t>(x >> (lo % 32)) & low_mask(bits);
}

// Set bits [lo +: bits] (bits <= 32) of an input port held in one integer...
template <typename T>
static void set_field(T &v, unsigned lo, unsigned bits, uint32_t x)
{
    const uint64_t m = static_cast<uint64_t>(low_mask(bits)) << lo;
    v = static_cast<T>((static_cast<uint64_t>(v) & ~m) | (static_cast<uint64_t>(x) << lo & m));
}

// ... or in a VlWide of 32-bit words.
template <std::size_t W>
static void set_field(VlWide<W> &v, unsigned lo, unsigned bits, uint32_t x)
{
    for (unsigned b = 0; b < bits; b++) {
        const unsigned at = lo + b;
        const uint32_t bit = 1u << (at % 32);
        v[at / 32] = ((x >> b) & 1u) ? (v[at / 32] | bit) : (v[at / 32] & ~bit);
    }
}

// Verilated models expect the unused top bits of an input to be 0.
static void drive(Vstash_ring_bank *top, const sim_srb_in *in)
{
    top->push_valid_i = in->push_valid ? 1 : 0;
    top->push_p_i = in->push_p;
    top->push_q_i = in->push_q;
    top->push_n_i = in->push_n;
    for (unsigned b = 0; b < SIM_SRB_N; b++)
        set_field(top->push_data_i, b * SIM_SRB_WIDTH, SIM_SRB_WIDTH,
                  in->push_data[b] & low_mask(SIM_SRB_WIDTH));
    top->push_last_i = in->push_last ? 1 : 0;
    top->rd_valid_i = in->rd_valid ? 1 : 0;
    top->rd_ver_i = in->rd_ver & low_mask(SIM_SRB_VERSION_WIDTH);
    top->rd_p_i = in->rd_p;
    top->rd_q_i = in->rd_q;
}

static void sample(const Vstash_ring_bank *top, sim_srb_out *out)
{
    for (unsigned i = 0; i < SIM_SRB_RINGS; i++) {
        out->rd_valid[i] = static_cast<int>(field(top->rd_valid_o, i, 1));
        for (unsigned l = 0; l < SIM_SRB_N; l++)
            out->rd_data[i][l] = field(top->rd_data_o, (i * SIM_SRB_N + l) * SIM_SRB_WIDTH,
                                       SIM_SRB_WIDTH);
        out->rd_live[i] = static_cast<int>(field(top->rd_live_o, i, 1));
        out->rd_miss[i] = static_cast<int>(field(top->rd_miss_o, i, 1));
        out->live[i] = field(top->live_o, i * SIM_SRB_VERSION_WIDTH, SIM_SRB_VERSION_WIDTH);
    }
}

HARNESS_CREATE_DESTROY(sim_srb, sim_srb_reset)
HARNESS_TRACE(sim_srb)

void sim_srb_reset(struct sim_srb *s)
{
    const sim_srb_in idle{};
    drive(s->top.get(), &idle);
    s->reset(2);
}

// The low half of the cycle with the inputs applied (the outputs of this cycle), then the
// rising edge.
void sim_srb_cycle(struct sim_srb *s, const struct sim_srb_in *in, struct sim_srb_out *out)
{
    drive(s->top.get(), in);
    s->half(0);
    if (out)
        sample(s->top.get(), out);
    s->half(1);
}
