// The Verilated rtl/lp_top.sv behind the C API of lptop.h. Built once per configuration
// by sim/lptop.mk into a shared object; see lptop.h for the protocol of a step.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "Vlp_top.h"
#include "Vlp_top_lp_top.h"   // the public parameters
#include "harness.h"
#include "lptop.h"

using Params = Vlp_top_lp_top;
static_assert(Params::NLayers >= 1 && Params::NLayers <= LPTOP_MAX_LAYERS, "layer count");

struct lptop : Harness<Vlp_top> {
    uint64_t ncycles = 0;
};

// ---- ports of any width: Verilator gives up to 64 bits as an integer, more as VlWide

template <class T>
static uint64_t get_bits(const T &v, int lo, int n)
{
    const uint64_t x = static_cast<uint64_t>(v) >> lo;
    return n >= 64 ? x : x & ((uint64_t{1} << n) - 1);
}

template <std::size_t N>
static uint64_t get_bits(const VlWide<N> &v, int lo, int n)
{
    uint64_t r = 0;
    for (int b = 0; b < n;) {
        const int w = (lo + b) / 32, off = (lo + b) % 32, take = std::min(32 - off, n - b);
        const uint64_t part = (static_cast<uint64_t>(v[w]) >> off) & ((uint64_t{1} << take) - 1);
        r |= part << b;
        b += take;
    }
    return r;
}

template <class T>
static void set_bits(T &v, int lo, int n, uint64_t x)
{
    const uint64_t mask = ((uint64_t{1} << n) - 1) << lo;
    v = static_cast<T>((static_cast<uint64_t>(v) & ~mask) | ((x << lo) & mask));
}

template <std::size_t N>
static void set_bits(VlWide<N> &v, int lo, int n, uint64_t x)
{
    for (int b = 0; b < n; b++) {
        const int w = (lo + b) / 32, off = (lo + b) % 32;
        v[w] = (v[w] & ~(1u << off)) | (static_cast<uint32_t>((x >> b) & 1) << off);
    }
}

// Word i (32 bits) of a row port, any width.
template <class T>
static uint32_t word(const T &v, int i)
{
    return static_cast<uint32_t>(static_cast<uint64_t>(v) >> (32 * i));
}

template <std::size_t N>
static uint32_t word(const VlWide<N> &v, int i)
{
    return v[static_cast<std::size_t>(i)];
}

template <class T>
static void set_word(T &v, int i, uint32_t x)
{
    set_bits(v, 32 * i, 32, x);
}

template <std::size_t N>
static void set_word(VlWide<N> &v, int i, uint32_t x)
{
    v[static_cast<std::size_t>(i)] = x;
}

static const int kCols = static_cast<int>(Params::Cols);

// Row segment (row, col) of a rows x width matrix m into the lanes of a row port.
template <class T>
static void put_row(T &port, const int32_t *m, int64_t width, int64_t row, int64_t col)
{
    for (int c = 0; c < kCols; c++)
        set_word(port, c, col + c < width ? static_cast<uint32_t>(m[row * width + col + c]) : 0u);
}

static void tick(lptop *t)
{
    t->cycle();
    t->ncycles++;
}

static lptop *create(void)
{
    lptop *t = harness_create<lptop>();
    if (!t)
        return nullptr;
    // A failed assertion stops the step (gotError) instead of aborting the process.
    t->ctx.fatalOnError(false);
    Vlp_top *top = t->top.get();
    top->start_i = 0;
    top->in_valid_i = 0;
    top->loss_valid_i = 0;
    top->loss_ready_i = 0;
    top->init_valid_i = 0;
    t->reset(2);
    return t;
}

static void destroy(lptop *t)
{
    delete t;
}

static int trace_open(lptop *t, const char *path)
{
    return t->trace_open(path);
}

static void geometry(const lptop *t, lptop_geom *g)
{
    const Vlp_top *top = t->top.get();
    g->n_layers = static_cast<int>(Params::NLayers);
    g->n_stages = static_cast<int>(Params::NStages);
    g->batch = static_cast<int>(Params::Batch);
    g->rows = static_cast<int>(Params::Rows);
    g->cols = static_cast<int>(Params::Cols);
    g->mul_stages = static_cast<int>(Params::MulStages);
    g->policy = static_cast<int>(Params::Policy);
    g->sequential = static_cast<int>(Params::Sequential);
    g->in_words = top->in_words_o;
    g->out_words = top->out_words_o;
    g->act_words = top->act_words_o;
    g->stash_words = top->stash_words_o;
    g->ema_words = top->ema_words_o;
    g->fwd_reg_words = top->fwd_reg_words_o;
    g->bwd_reg_words = top->bwd_reg_words_o;
}

static void configure(lptop *t, const lptop_cfg *c)
{
    Vlp_top *top = t->top.get();
    // lp_pkg::numerics_t, packed: its last field in the lowest bits, a format's bits above
    // its frac.
    static_assert(sizeof top->num_i == 5 * sizeof(uint32_t), "numerics_t is 136 bits");
    int lo = 0;
    auto put = [&](uint64_t x, int n) {
        set_bits(top->num_i, lo, n, x);
        lo += n;
    };
    put(c->mu, 16);
    put(c->wd, 64);
    const int fmt[5][2] = {{c->grad_bits, c->grad_frac}, {c->master_bits, c->master_frac},
                           {c->weight_bits, c->weight_frac}, {c->err_bits, c->err_frac},
                           {c->act_bits, c->act_frac}};
    for (const auto &f : fmt) {
        put(static_cast<uint64_t>(f[1]), 5);
        put(static_cast<uint64_t>(f[0]), 6);
    }
    put(c->round_even ? 1 : 0, 1);
    for (int l = 0; l < static_cast<int>(Params::NLayers); l++)
        set_bits(top->beta_i, 16 * l, 16, c->beta[l] & 0xffff);
    top->eval();
}

static void load_weights(lptop *t, int l, const int32_t *w, const int32_t *master, int64_t rows,
                         int64_t out)
{
    Vlp_top *top = t->top.get();
    top->init_valid_i = 1;
    top->init_layer_i = static_cast<uint32_t>(l);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t o = 0; o < out; o += kCols) {
            top->init_row_i = static_cast<uint32_t>(i);
            top->init_col_i = static_cast<uint32_t>(o);
            put_row(top->init_w_i, w, out, i, o);
            put_row(top->init_master_i, master, out, i, o);
            tick(t);
        }
    top->init_valid_i = 0;
}

// One observed row segment: n lanes, lane c at index idx + c*stride.
template <class T>
static void report(const lptop_host *h, lptop_obs &o, const T &data, int l, int64_t idx,
                   int64_t stride, int64_t n)
{
    for (int64_t c = 0; c < n && c < kCols; c++) {
        o.index = idx + c * stride;
        o.value = static_cast<int32_t>(word(data, l * kCols + static_cast<int>(c)));
        h->observe(h->ctx, &o);
    }
}

// Layer l's observation header (lp_pkg::obs_t, 133 bits, at bit l*133 of a port): field
// f of it, packed with its last field lowest.
enum ObsField { kObsN = 0, kObsStride = 32, kObsIdx = 64, kObsMb = 96, kObsKind = 128,
                kObsValid = 132, kObsW = 133 };

template <class T>
static int64_t obs_field(const T &port, int l, ObsField f)
{
    const int width = f == kObsValid ? 1 : f == kObsKind ? 4 : 32;
    return static_cast<int64_t>(get_bits(port, l * kObsW + f, width));
}

static void observe(const Vlp_top *top, const lptop_host *h)
{
    static_assert(sizeof top->obs_o == (Params::NLayers * kObsW + 31) / 32 * sizeof(uint32_t),
                  "obs_t is 133 bits");
    for (int l = 0; l < static_cast<int>(Params::NLayers); l++) {
        lptop_obs o;
        o.layer = l;
        if (obs_field(top->obs_o, l, kObsValid)) {
            o.kind = static_cast<int>(obs_field(top->obs_o, l, kObsKind));
            o.minibatch = obs_field(top->obs_o, l, kObsMb);
            report(h, o, top->obs_data_o, l, obs_field(top->obs_o, l, kObsIdx),
                   obs_field(top->obs_o, l, kObsStride), obs_field(top->obs_o, l, kObsN));
        }
        if (obs_field(top->obse_o, l, kObsValid)) {
            o.kind = static_cast<int>(obs_field(top->obse_o, l, kObsKind));
            o.minibatch = obs_field(top->obse_o, l, kObsMb);
            report(h, o, top->obse_data_o, l, obs_field(top->obse_o, l, kObsIdx),
                   obs_field(top->obse_o, l, kObsStride), obs_field(top->obse_o, l, kObsN));
        }
        if (obs_field(top->obsw_o, l, kObsValid)) {
            const int64_t idx = obs_field(top->obsw_o, l, kObsIdx),
                          n = obs_field(top->obsw_o, l, kObsN);
            o.minibatch = obs_field(top->obsw_o, l, kObsMb);
            o.kind = static_cast<int>(obs_field(top->obsw_o, l, kObsKind));
            report(h, o, top->obsw_w_o, l, idx, 1, n);
            o.kind++;   // the master weights beside them
            report(h, o, top->obsw_master_o, l, idx, 1, n);
        }
    }
}

static int64_t step(lptop *t, const int32_t *in, int64_t mb, uint64_t lr, const lptop_host *h,
                    int64_t max_cycles)
{
    Vlp_top *top = t->top.get();
    const uint64_t c0 = t->ncycles;
    const int64_t B = Params::Batch, nin = top->in_words_o, nout = top->out_words_o;
    const int64_t width = nin / B, classes = nout / B;
    for (int64_t b = 0; in && b < B; b++)
        for (int64_t i = 0; i < width; i += kCols) {
            top->in_valid_i = 1;
            top->in_row_i = static_cast<uint32_t>(b);
            top->in_col_i = static_cast<uint32_t>(i);
            put_row(top->in_data_i, in, width, b, i);
            tick(t);
        }
    top->in_valid_i = 0;
    top->start_i = 1;
    top->start_fwd_i = in ? 1 : 0;
    top->start_mb_i = static_cast<uint32_t>(mb);
    top->start_lr_i = lr;
    tick(t);
    top->start_i = 0;

    std::vector<int32_t> logits(static_cast<size_t>(nout)), loss(static_cast<size_t>(nout));
    // The loss row segment to write next (li over B x ceil(classes / cols)); the count:
    // raise loss_ready; -1: none yet.
    const int64_t segs = (classes + kCols - 1) / kCols, nseg = B * segs;
    int64_t li = -1;
    for (;;) {
        if (static_cast<int64_t>(t->ncycles - c0) > max_cycles)
            return -1;
        top->loss_valid_i = li >= 0 && li < nseg;
        top->loss_ready_i = li == nseg;
        if (top->loss_valid_i) {
            const int64_t b = li / segs, c = li % segs * kCols;
            top->loss_row_i = static_cast<uint32_t>(b);
            top->loss_col_i = static_cast<uint32_t>(c);
            put_row(top->loss_data_i, loss.data(), classes, b, c);
        }
        if (li >= 0 && li <= nseg)
            li++;
        t->half(0);   // the inputs as driven, evaluated: what the rising edge will take
        if (top->out_valid_o && top->out_row_o < B)
            for (int64_t c = 0; c < kCols && top->out_col_o + c < classes; c++)
                logits[static_cast<size_t>(top->out_row_o * classes + top->out_col_o + c)] =
                    static_cast<int32_t>(word(top->out_data_o, static_cast<int>(c)));
        if (h && h->observe)
            observe(top, h);
        const bool done = top->done_o;
        if (top->loss_wait_o && li < 0) {
            if (h && h->loss)
                h->loss(h->ctx, logits.data(), loss.data());
            li = 0;
        }
        t->half(1);
        t->ncycles++;
        if (t->ctx.gotError())   // an assertion failed: Verilator has said which
            return -3;
        if (done)
            break;
    }
    top->loss_valid_i = 0;
    top->loss_ready_i = 0;
    return top->error_o ? -2 : static_cast<int64_t>(t->ncycles - c0);
}

static void counters(const lptop *t, int k, lptop_counts *c)
{
    const Vlp_top *top = t->top.get();
    c->busy = get_bits(top->cnt_busy_o, 64 * k, 64);
    c->stall = get_bits(top->cnt_stall_o, 64 * k, 64);
    c->idle = get_bits(top->cnt_idle_o, 64 * k, 64);
}

static uint64_t cycles(const lptop *t)
{
    return t->ncycles;
}

extern "C" const struct lptop_api *lptop_api(void)
{
    static const struct lptop_api api = {LPTOP_ABI, create,   destroy,  trace_open, geometry,
                                  configure, load_weights, step, counters,   cycles};
    return &api;
}
