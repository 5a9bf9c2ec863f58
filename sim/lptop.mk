# sim/lptop.mk - one configuration of the pipeline RTL, Verilated and compiled into a
# shared object. layerpipe writes the parameters to DIR/params.vc (Verilator options,
# one per line), then runs
#   make -s -f SRC/sim/lptop.mk OUT=DIR TRACE=none|vcd|fst [KIND=top|bank]
# and loads DIR/liblptop.so:
#   KIND=top   rtl/lp_top.sv (verilator --cc) with sim/lp_top.cpp: lptop_api() of
#              sim/lptop.h, for layerpipe verify and the rtl cycle model
#   KIND=bank  rtl/lp_stage_bank.sv (verilator --sc) with sim/sc_bank.cpp:
#              scp_bank_create() of sim/scp_bank.h, the RTL stages of the SystemC model
# A build is redone when the parameters, the RTL or the harness change; each kind and
# trace format is its own directory (sw/run/rtl_build.c names them). Verilator's make compiles
# the model, its runtime and the harness with -fPIC, the RTL's assertions on (--assert). -Wno-fatal: a user's config builds
# even where the RTL's lint would warn; tests/lint_test.sh holds the RTL to -Wall at the
# parameters of every shipped and test config, warnings fatal.
SRC := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
OUT ?= $(error OUT=DIR is required)
TRACE ?= none
KIND ?= top
JOBS ?= 2

TOP_top := lp_top
TOP_bank := lp_stage_bank
LANG_top := --cc
LANG_bank := --sc -LDFLAGS -lsystemc
HARNESS_top := lp_top.cpp
HARNESS_bank := sc_bank.cpp

TRACE_none :=
TRACE_vcd := --trace -CFLAGS -DVM_TRACE=1
TRACE_fst := --trace-fst -CFLAGS -DVM_TRACE=1 -CFLAGS -DVM_TRACE_FST=1 -LDFLAGS -lz

$(OUT)/liblptop.so: $(wildcard $(SRC)/rtl/*.sv $(SRC)/rtl/*.svh) $(SRC)/sim/$(HARNESS_$(KIND)) $(SRC)/sim/lptop.h \
                    $(SRC)/sim/scp_bank.h $(SRC)/sim/harness.h $(SRC)/sim/lptop.mk $(OUT)/params.vc
	rm -rf $(OUT)/obj
	verilator $(LANG_$(KIND)) --exe --build -j $(JOBS) -O3 --assert -Wno-fatal -I$(SRC)/rtl \
	    --top-module $(TOP_$(KIND)) \
	    -f $(OUT)/params.vc $(TRACE_$(TRACE)) -Mdir $(OUT)/obj -o liblptop.so \
	    -CFLAGS -fPIC -CFLAGS -I$(SRC)/sim -CFLAGS -std=c++17 -LDFLAGS -shared \
	    -LDFLAGS -Wl,-Bsymbolic \
	    -MAKEFLAGS OPT_FAST=-O2 \
	    $(wildcard $(SRC)/rtl/*_pkg.sv) $(SRC)/rtl/$(TOP_$(KIND)).sv $(SRC)/sim/$(HARNESS_$(KIND)) >$(OUT)/build.log 2>&1 || \
	    { cat $(OUT)/build.log >&2; exit 1; }
	cp $(OUT)/obj/liblptop.so $@.tmp && mv $@.tmp $@
