// The Verilated stash_ring behind the C API of blocks_stash_ring.h.
#include "Vstash_ring.h"
#include "Vstash_ring_stash_ring.h"   // the public parameters
#include "blocks_stash_ring.h"
#include "harness.h"

using Params = Vstash_ring_stash_ring;
static_assert(Params::Width <= 32 && Params::VersionWidth <= 32,
              "the C API carries words and versions in 32 bits");

struct sim_stash_ring : Harness<Vstash_ring> {};

// Verilated models expect the unused top bits of an input to be 0.
static uint32_t low_bits(uint32_t x, unsigned bits)
{
    return bits >= 32 ? x : x & ((1u << bits) - 1u);
}

static unsigned idx_bits(void)
{
    unsigned b = 0;
    while ((1u << b) < Params::Words)
        b++;
    return b > 0 ? b : 1;
}

static void drive(Vstash_ring *top, const sim_stash_ring_in *in)
{
    top->push_valid_i = in->push_valid ? 1 : 0;
    top->push_idx_i = low_bits(static_cast<uint32_t>(in->push_idx), idx_bits());
    top->push_data_i = low_bits(in->push_data, Params::Width);
    top->push_last_i = in->push_last ? 1 : 0;
    top->rd_valid_i = in->rd_valid ? 1 : 0;
    top->rd_ver_i = low_bits(in->rd_ver, Params::VersionWidth);
    top->rd_idx_i = low_bits(static_cast<uint32_t>(in->rd_idx), idx_bits());
    top->rd_live_i = low_bits(in->rd_live, Params::Width);
}

static void sample(const Vstash_ring *top, sim_stash_ring_out *out)
{
    out->rd_valid = top->rd_valid_o;
    out->rd_data = top->rd_data_o;
    out->rd_miss = top->rd_miss_o;
    out->live = top->live_o;
}

struct sim_stash_ring *sim_stash_ring_create(void)
{
    sim_stash_ring *s = harness_create<sim_stash_ring>();
    if (s)
        sim_stash_ring_reset(s);
    return s;
}

void sim_stash_ring_destroy(struct sim_stash_ring *s)
{
    delete s;
}

int sim_stash_ring_trace(struct sim_stash_ring *s, const char *path)
{
    return s->trace_open(path);
}

void sim_stash_ring_geometry(const struct sim_stash_ring *, struct sim_stash_ring_geom *g)
{
    g->depth = static_cast<int>(Params::Depth);
    g->words = static_cast<int>(Params::Words);
    g->width = static_cast<int>(Params::Width);
    g->version_width = static_cast<int>(Params::VersionWidth);
}

void sim_stash_ring_reset(struct sim_stash_ring *s)
{
    const sim_stash_ring_in idle = {0, 0, 0, 0, 0, 0, 0, 0};
    drive(s->top.get(), &idle);
    s->reset(2);
}

// The low half of the cycle with the inputs applied (the outputs of this cycle), then the
// rising edge.
void sim_stash_ring_cycle(struct sim_stash_ring *s, const struct sim_stash_ring_in *in,
                          struct sim_stash_ring_out *out)
{
    drive(s->top.get(), in);
    s->half(0);
    if (out)
        sample(s->top.get(), out);
    s->half(1);
}
