// The Verilated rtl/lp_stage_bank.sv (verilator --sc) behind scp_bank.h. Built once per
// configuration into a shared object (sim/lptop.mk, HARNESS=sc_bank); the port types
// Verilator chooses for the stage vectors depend on the stage count, so they are taken
// from the model's own declarations.
#include <memory>
#include <type_traits>
#include <vector>

#include "Vlp_stage_bank.h"
#include "Vlp_stage_bank_lp_stage_bank.h"   // the public parameters
#include "scp_bank.h"

namespace {

template <class Port>
using value_of = std::decay_t<decltype(std::declval<Port &>().read())>;

template <class T>
T with_bit(T v, int k, bool on)
{
    if constexpr (std::is_same<T, bool>::value)
        return on;
    else if constexpr (std::is_integral<T>::value)
        return on ? static_cast<T>(v | (T{1} << k)) : static_cast<T>(v & ~(T{1} << k));
    else {
        v[k] = on;
        return v;
    }
}

template <class T>
bool bit_of(const T &v, int k)
{
    if constexpr (std::is_same<T, bool>::value)
        return v;
    else if constexpr (std::is_integral<T>::value)
        return (v >> k) & 1;
    else
        return v[k].to_bool();
}

struct Bank : sc_module, scp_bank {
    using In = value_of<decltype(Vlp_stage_bank::run_i)>;
    using Out = value_of<decltype(Vlp_stage_bank::idle_o)>;
    Vlp_stage_bank top;
    sc_signal<bool> rst{"rst"}, step_sig{"step"};
    sc_signal<In> cmd[5];
    sc_signal<Out> idle{"idle"}, work{"work"}, wait_loss{"wait_loss"};
    std::vector<unsigned> want;
    sc_event update;
    static constexpr int kStages = static_cast<int>(Vlp_stage_bank_lp_stage_bank::NStages);

    SC_HAS_PROCESS(Bank);
    Bank(sc_module_name name, sc_clock *clk) : sc_module(name), top("rtl")
    {
        top.clk_i(*clk);
        top.rst_ni(rst);
        top.step_i(step_sig);
        top.run_i(cmd[0]), top.run_fwd_i(cmd[1]), top.run_bwd_i(cmd[2]);
        top.wait_loss_i(cmd[3]), top.loss_ready_i(cmd[4]);
        top.idle_o(idle), top.work_o(work), top.wait_loss_o(wait_loss);
        want.assign(kStages, 0);
        SC_METHOD(apply);
        sensitive << update;
        dont_initialize();
        SC_THREAD(release);
    }

    void release()
    {
        wait(sc_time(0.25, SC_NS));
        rst.write(true);
    }

    // Every stage's wanted bits into the vectors, once per delta.
    void apply()
    {
        for (int b = 0; b < 5; b++) {
            In v = cmd[b].read();
            for (int k = 0; k < kStages; k++)
                v = with_bit(v, k, (want[static_cast<size_t>(k)] >> b) & 1);
            cmd[b].write(v);
        }
    }

    int stages() const override { return kStages; }
    void drive(int k, unsigned bits) override
    {
        want[static_cast<size_t>(k)] = bits;
        update.notify(SC_ZERO_TIME);
    }
    void step(bool on) override { step_sig.write(on); }
    unsigned status(int k) const override
    {
        return (bit_of(idle.read(), k) ? SCP_IDLE : 0u) | (bit_of(work.read(), k) ? SCP_WORK : 0u) |
               (bit_of(wait_loss.read(), k) ? SCP_WAITING_LOSS : 0u);
    }
};

}  // namespace

extern "C" scp_bank *scp_bank_create(const char *name, sc_clock *clk)
{
    return new Bank(name, clk);
}
