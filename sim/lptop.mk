# sim/lptop.mk - one configuration of rtl/lp_top.sv, Verilated and compiled into a
# shared object that exports lptop_api() (sim/lptop.h). layerpipe verify writes the
# top's parameters to DIR/params.vc (Verilator options, one per line), then runs
#   make -s -f SRC/sim/lptop.mk OUT=DIR TRACE=none|vcd|fst
# and loads DIR/liblptop.so. A build is redone when the parameters, the RTL or the
# harness change; each trace format is its own directory (sim/cosim.c names them).
# Verilator's make compiles the model, its runtime and the harness with -fPIC.
SRC := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
OUT ?= $(error OUT=DIR is required)
TRACE ?= none
JOBS ?= 2

TRACE_none :=
TRACE_vcd := --trace -CFLAGS -DVM_TRACE=1
TRACE_fst := --trace-fst -CFLAGS -DVM_TRACE=1 -CFLAGS -DVM_TRACE_FST=1 -LDFLAGS -lz

$(OUT)/liblptop.so: $(wildcard $(SRC)/rtl/*.sv) $(SRC)/sim/lp_top.cpp $(SRC)/sim/lptop.h \
                    $(SRC)/sim/harness.h $(SRC)/sim/lptop.mk $(OUT)/params.vc
	rm -rf $(OUT)/obj
	verilator --cc --exe --build -j $(JOBS) -O3 -Wno-fatal -I$(SRC)/rtl --top-module lp_top \
	    -f $(OUT)/params.vc $(TRACE_$(TRACE)) -Mdir $(OUT)/obj -o liblptop.so \
	    -CFLAGS -fPIC -CFLAGS -I$(SRC)/sim -LDFLAGS -shared -LDFLAGS -Wl,-Bsymbolic \
	    -MAKEFLAGS OPT_FAST=-O2 \
	    $(SRC)/rtl/lp_top.sv $(SRC)/sim/lp_top.cpp >$(OUT)/build.log 2>&1 || \
	    { cat $(OUT)/build.log >&2; exit 1; }
	cp $(OUT)/obj/liblptop.so $@.tmp && mv $@.tmp $@
