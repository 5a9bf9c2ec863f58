// harness.h - what every sim/blocks_X.cpp shares: one Verilated model on its own
// VerilatedContext, a clock driven in half periods, and waveform tracing switched on at
// run time. Header-only; C++17.
//
// A block's C handle derives from it (struct sim_mac : Harness<Vmac_array> {}) and is
// made by harness_create<sim_mac>(), which returns nullptr when out of memory; the C
// destroy function is a plain delete. The Harness owns, and frees in this order, the
// trace file (wave, while one is open), the model (top) and the context (ctx) the model
// was built on; before that its destructor calls top->final() and closes the trace.
// Nothing here exits: failures are returned.
//
// One trace format per build: a Verilator 5.006 model is built for one (--trace and
// --trace-fst override each other, and the generated trace() takes a VerilatedVcdC* or
// a VerilatedFstC*, not both); its manual: "supporting FST and VCD in a single simulation
// is impossible". A model built with --trace-fst (and compiled with -DVM_TRACE_FST=1)
// writes FST, any other VCD; trace_open refuses a path whose suffix names the other
// format rather than write the wrong one there. The block harnesses are VCD builds;
// layerpipe verify builds the format its --trace path asks for.
#ifndef LP_SIM_HARNESS_H
#define LP_SIM_HARNESS_H

#include <cstring>
#include <memory>
#include <new>

#include "verilated.h"
#if VM_TRACE && VM_TRACE_FST
#include "verilated_fst_c.h"
using TraceFile = VerilatedFstC;
#define LP_TRACE_OTHER ".vcd"
#elif VM_TRACE
#include "verilated_vcd_c.h"
using TraceFile = VerilatedVcdC;
#define LP_TRACE_OTHER ".fst"
#endif

template <class Top>
struct Harness {
    using Model = Top;
    VerilatedContext ctx;       // first member, so destroyed after the model built on it
    std::unique_ptr<Top> top;   // the model; its ports are driven directly
#if VM_TRACE
    std::unique_ptr<TraceFile> wave;   // the open trace, or null
#endif

    // Verilator 5.006 reaches a model's context through the thread's current one (the
    // context built last) in places: ~VerilatedScope erases the model's scopes from it,
    // a use after free when that context has gone. So it is ctx while the model goes,
    // and not ctx after, as ctx goes too.
    ~Harness()
    {
        VerilatedContext *const prev = Verilated::threadContextp();
        Verilated::threadContextp(&ctx);
        if (top)
            top->final();
#if VM_TRACE
        if (wave)
            wave->close();
        wave.reset();
#endif
        top.reset();
        Verilated::threadContextp(prev == &ctx ? nullptr : prev);
    }

    // Models with clk_i: set the clock, evaluate, dump the trace (when open) at the
    // current time, then advance time by one unit, half a cycle.
    void half(int clk)
    {
        top->clk_i = clk;
        top->eval();
#if VM_TRACE
        if (wave)
            wave->dump(ctx.time());
#endif
        ctx.timeInc(1);
    }

    // A whole cycle: the low half with the inputs as driven, then the rising edge.
    void cycle()
    {
        half(0);
        half(1);
    }

    // Models with clk_i and an asynchronous rst_ni: hold rst_ni low for `cycles` whole
    // cycles with the inputs as the caller drove them, then release it and evaluate.
    void reset(int cycles)
    {
        top->rst_ni = 0;   // takes effect at the first eval, without an edge
        for (int i = 0; i < cycles; i++)
            cycle();
        top->rst_ni = 1;
        top->eval();
    }

    // Write a trace of every following half period to path, closed by the destructor.
    // Returns 0, or -1 when a trace is already open, the path is empty, starts with '|'
    // (a pipe, which Verilator asserts on) or ends in the other format's suffix (see
    // above), the file cannot be opened, or tracing was compiled out (no verilator
    // --trace and -DVM_TRACE=1).
    int trace_open(const char *path)
    {
#if VM_TRACE
        const size_t n = path ? std::strlen(path) : 0;
        if (wave || n == 0 || path[0] == '|' || (n >= 4 && !std::strcmp(path + n - 4, LP_TRACE_OTHER)))
            return -1;
        std::unique_ptr<TraceFile> t{new (std::nothrow) TraceFile};
        if (!t)
            return -1;
        top->trace(t.get(), 99);   // every level of the hierarchy
        t->open(path);
        if (!t->isOpen())
            return -1;
        wave = std::move(t);
        return 0;
#else
        (void)path;
        return -1;
#endif
    }
};

// A new H (a struct derived from Harness<H::Model>) with its model built on its own
// context and not yet evaluated, or nullptr when out of memory.
template <class H>
H *harness_create()
{
    std::unique_ptr<H> h{new (std::nothrow) H};
    if (!h)
        return nullptr;
#if VM_TRACE
    h->ctx.traceEverOn(true);   // before the model is built; dumping starts in trace_open
#endif
    h->top.reset(new (std::nothrow) typename H::Model{&h->ctx});
    return h->top ? h.release() : nullptr;
}

// The C lifecycle of a block's handle X (declared in its blocks_*.h): X_create builds it
// with harness_create and puts it in reset with RESET(s) (harness_no_reset<X> for a
// block without a reset), X_destroy deletes it; X_trace opens a waveform (trace_open).
template <class H>
void harness_no_reset(H *)
{
}

#define HARNESS_CREATE_DESTROY(X, RESET)  \
    struct X *X##_create(void)            \
    {                                     \
        X *s = harness_create<X>();       \
        if (s)                            \
            RESET(s);                     \
        return s;                         \
    }                                     \
    void X##_destroy(struct X *s)         \
    {                                     \
        delete s;                         \
    }

#define HARNESS_TRACE(X)                             \
    int X##_trace(struct X *s, const char *path)     \
    {                                                \
        return s->trace_open(path);                  \
    }

#endif
