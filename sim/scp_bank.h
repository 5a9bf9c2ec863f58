// scp_bank.h - the Verilated RTL stages of one configuration (rtl/lp_stage_bank.sv,
// built with verilator --sc into a shared object by sim/lptop.mk) as the SystemC system
// model drives them (sim/sc_pipeline.cpp). C++17, SystemC.
#ifndef LP_SIM_SCP_BANK_H
#define LP_SIM_SCP_BANK_H

#include <systemc.h>

// Command bits of a stage (the lp_stage inputs of the same names).
constexpr unsigned SCP_RUN = 1, SCP_RUN_FWD = 2, SCP_RUN_BWD = 4, SCP_WAIT_LOSS = 8,
                   SCP_LOSS_READY = 16;
// Status bits (the lp_stage outputs).
constexpr unsigned SCP_IDLE = 1, SCP_WORK = 2, SCP_WAITING_LOSS = 4;

struct scp_bank {
    virtual ~scp_bank() = default;
    virtual int stages() const = 0;
    // Drive stage k's (0-based) command inputs from the next rising edge on.
    virtual void drive(int k, unsigned bits) = 0;
    virtual void step(bool on) = 0;
    virtual unsigned status(int k) const = 0;
};

// The one symbol a bank build exports: the stages on clock clk, held in reset until
// a quarter cycle has passed.
extern "C" scp_bank *scp_bank_create(const char *name, sc_clock *clk);

#endif
