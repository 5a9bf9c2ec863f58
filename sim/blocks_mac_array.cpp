// The Verilated mac_array behind the C API of blocks_mac_array.h.
#include <cstring>

#include "Vmac_array.h"
#include "Vmac_array_mac_array.h"   // the model's public parameters
#include "blocks_mac_array.h"
#include "harness.h"

// The C API and the port packing below assume the parameters the model was built with.
using Params = Vmac_array_mac_array;
static_assert(Params::Rows == SIM_MAC_ROWS && Params::Cols == SIM_MAC_COLS, "array shape");
static_assert(Params::OpW == 32, "a_i and b_i are packed as one 32-bit word per operand");
static_assert(Params::AccW == 64, "acc_o is read as two 32-bit words per accumulator");
static_assert(Params::MulStages + 1 == SIM_MAC_LATENCY, "latency is MulStages + 1");
static_assert(Params::TagW == SIM_MAC_TAG_BITS, "tag width");

static constexpr uint32_t kTagMask = (1u << SIM_MAC_TAG_BITS) - 1u;

struct sim_mac : Harness<Vmac_array> {};

static void drive(sim_mac *s, const sim_mac_beat *in)
{
    s->top->in_valid_i = in->valid ? 1 : 0;
    s->top->clear_i = in->clear ? 1 : 0;
    s->top->last_i = in->last ? 1 : 0;
    s->top->tag_i = in->tag & kTagMask;
    for (int r = 0; r < SIM_MAC_ROWS; r++)
        s->top->a_i[r] = static_cast<uint32_t>(in->a[r]);
    for (int c = 0; c < SIM_MAC_COLS; c++)
        s->top->b_i[c] = static_cast<uint32_t>(in->b[c]);
}

static void sample(const sim_mac *s, sim_mac_out *out)
{
    out->valid = s->top->out_valid_o;
    out->tag = s->top->out_tag_o;
    for (int i = 0; i < SIM_MAC_ROWS * SIM_MAC_COLS; i++) {
        uint64_t lo = s->top->acc_o[2 * i], hi = s->top->acc_o[2 * i + 1];
        out->acc[i] = static_cast<int64_t>(hi << 32 | lo);
    }
    for (int c = 0; c < SIM_MAC_COLS; c++) {
        uint64_t lo = s->top->row_o[2 * c], hi = s->top->row_o[2 * c + 1];
        out->row[c] = static_cast<int64_t>(hi << 32 | lo);
    }
}

HARNESS_CREATE_DESTROY(sim_mac, sim_mac_reset)
HARNESS_TRACE(sim_mac)

void sim_mac_reset(struct sim_mac *s)
{
    const sim_mac_beat idle{};
    drive(s, &idle);
    s->reset(1);
}

void sim_mac_cycle(struct sim_mac *s, const struct sim_mac_beat *in, struct sim_mac_out *out)
{
    drive(s, in);
    s->cycle();
    sample(s, out);
}

// The beat k of a tile: column k of a, row k of b.
static void tile_beat(sim_mac_beat *bt, const int32_t *a, const int32_t *b, int K, int k)
{
    for (int r = 0; r < SIM_MAC_ROWS; r++)
        bt->a[r] = a[static_cast<int64_t>(r) * K + k];
    for (int c = 0; c < SIM_MAC_COLS; c++)
        bt->b[c] = b[static_cast<int64_t>(k) * SIM_MAC_COLS + c];
}

int sim_mac_tile(struct sim_mac *s, const int32_t *a, const int32_t *b, int K, const int *gaps,
                 uint32_t tag, int64_t *sums, struct sim_mac_tile_stats *st)
{
    if (K < 1)
        return -1;
    sim_mac_out out;
    int64_t cycles = 0;
    for (int k = 0; k < K; k++) {
        sim_mac_beat bt{};
        tile_beat(&bt, a, b, K, k);
        // Idle cycles carry a poisoned payload under in_valid_i low.
        sim_mac_beat poison = bt;
        poison.valid = 0;
        poison.clear = 1;
        poison.last = 1;
        poison.tag = ~tag & kTagMask;
        for (int r = 0; r < SIM_MAC_ROWS; r++)
            poison.a[r] = ~bt.a[r];
        for (int c = 0; c < SIM_MAC_COLS; c++)
            poison.b[c] = ~bt.b[c];
        for (int g = 0; gaps && g < gaps[k]; g++) {
            sim_mac_cycle(s, &poison, &out);
            cycles++;
            if (out.valid)
                return -1;
        }
        bt.valid = 1;
        bt.clear = k == 0;
        bt.last = k == K - 1;
        bt.tag = k == K - 1 ? tag & kTagMask : ~tag & kTagMask;
        sim_mac_cycle(s, &bt, &out);
        cycles++;
        if (out.valid && k < K - 1)
            return -1;
    }
    // out now shows the cycle after the last beat; wait for out_valid_o.
    sim_mac_beat idle{};
    int64_t latency = 1;
    while (!out.valid) {
        if (latency >= SIM_MAC_WAIT_LIMIT)
            return -1;
        sim_mac_cycle(s, &idle, &out);
        cycles++;
        latency++;
    }
    std::memcpy(sums, out.acc, sizeof out.acc);
    if (st) {
        st->tag = out.tag;
        st->cycles = cycles;
        st->latency = latency;
    }
    return 0;
}
