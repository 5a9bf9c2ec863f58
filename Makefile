# layerpipe - top-level build. Everything generated goes to $(BUILD).
#
#   make run    install missing packages, build, plan the default config
#   make test   install missing packages, build, run every test (also under ASan/UBSan)
#   make help   every target
#
# One-way dependencies: model/ <- sim/ <- sw/; inside sw/, base <- config <- run <- report <-
# sweep <- cli (sw/README.md; tests/layout_test.sh checks it). tests/ use anything.

BUILD   ?= build
CONFIG  ?= configs/fmnist-mlp4.yaml
CC      ?= cc
SAN     ?=

PKGS    := yaml-0.1 sqlite3
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := $(if $(SAN),-O1 -g $(SANFLAGS),-O2 -g)
CFLAGS  += $(CSTD) $(WARN) $(OPT) -MMD -MP
LDFLAGS += $(if $(SAN),$(SANFLAGS))

# pkg-config is read when make starts; `make run` and `make test` install the
# packages first and then build in a fresh make, so the flags are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyaml -lsqlite3)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
SYSTEMC_LIBS = $(shell pkg-config --libs systemc 2>/dev/null || echo -lsystemc)

MODEL_SRC := $(wildcard model/*.c)
SW_SRC    := $(filter-out sw/cli/main.c,$(wildcard sw/*/*.c))
RTL_TEST_SRC := $(wildcard tests/test_rtl_*.c)
# Tests of what reaches the simulators (a sweep runs the cycle models): linked like the CLI.
FULL_TEST_SRC := tests/test_sweep.c
TEST_SRC  := $(filter-out $(RTL_TEST_SRC) $(FULL_TEST_SRC),$(wildcard tests/test_*.c))
BENCH_SRC := tests/bench.c

# RTL: every rtl/X.sv is one module X, but the packages (rtl/*_pkg.sv), which every tool
# reads first; sim/blocks_X.cpp puts its Verilated model behind the C API of sim/blocks.h.
RTL_PKG   := $(wildcard rtl/*_pkg.sv)
RTL_SRC   := $(RTL_PKG) $(filter-out $(RTL_PKG),$(wildcard rtl/*.sv))
RTL_MODS  := $(basename $(notdir $(filter-out $(RTL_PKG),$(RTL_SRC))))
SIM_SRC   := $(wildcard sim/blocks_*.cpp)
SIM_MODS  := $(patsubst sim/blocks_%.cpp,%,$(SIM_SRC))
SIM_C_SRC := $(wildcard sim/*.c)
VLT_INC   := /usr/share/verilator/include
VLT_DONE  := $(SIM_MODS:%=$(BUILD)/vobj/%.done)
VLT_ARCH  := $(foreach m,$(SIM_MODS),$(BUILD)/vobj/$(m)/V$(m)__ALL.a)
CXXFLAGS  += -std=c++17 -O2 -g -Wall -MMD -MP -DVM_TRACE=1 -I$(VLT_INC) -I$(VLT_INC)/vltstd -Isim \
             $(if $(SAN),$(SANFLAGS))

MODEL_OBJ := $(MODEL_SRC:%.c=$(BUILD)/obj/%.o)
SW_OBJ    := $(SW_SRC:%.c=$(BUILD)/obj/%.o)
C_TESTS   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
RTL_TESTS := $(RTL_TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FULL_TESTS := $(FULL_TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TESTS     := $(C_TESTS) $(RTL_TESTS) $(FULL_TESTS)
LP        := $(BUILD)/layerpipe
# GTKWave's FST reader, as Verilator ships it: the tests open verify's FST files with it.
# One libFuzzer harness per reader of untrusted input (tests/fuzz/README.md): replayed over
# its corpus and past findings by the tests (with the normal compiler and replay.c), fuzzed
# by `make fuzz` (clang, libFuzzer, ASan, UBSan; its own objects in $(FUZZ_BUILD)).
FUZZ_TARGETS := $(basename $(notdir $(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c))))
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/%)
FSTINFO   := $(BUILD)/tests/fstinfo
# The parameters the tool builds the pipeline RTL with, for tests/lint_test.sh.
LINT_PARAMS := $(BUILD)/tests/lint_params
FST_LIB   := $(addprefix $(VLT_INC)/gtkwave/,fstapi.c lz4.c fastlz.c)

.PHONY: all build run report test check check-san deps lint bench fuzz clean help
# Keep intermediate objects: no "rm ..." after the tests' closing line.
.SECONDARY:
all: build

help:
	@echo "make run     install missing packages, build, plan $(CONFIG) and train it under"
	@echo "             every policy (files in $(RUN_DIR)/)"
	@echo "make report  install missing packages, build, and write the area, timing, memory and"
	@echo "             accuracy report of $(CONFIG) under every policy to $(REPORT_DIR)/"
	@echo "make test    install missing packages, build, run every test, then again under"
	@echo "             AddressSanitizer and UBSan"
	@echo "make build   build $(LP) (no install step)"
	@echo "make check   run the tests on what is built (no install step)"
	@echo "make lint    compile every C file with -Werror; Verilator lint of rtl/ at every config's"
	@echo "             parameters (also part of make test); Yosys synthesis of each module"
	@echo "make bench   measure the planner, training, RTL and sweep speed (PyTorch training"
	@echo "             too when python3-torch is installed); printed and written to $(BUILD)/bench.txt"
	@echo "make fuzz    build the fuzz harnesses with clang and libFuzzer (ASan, UBSan) and run"
	@echo "             each for FUZZ_SECONDS=$(FUZZ_SECONDS); findings in $(FUZZ_BUILD)/findings/"
	@echo "make deps    install missing Debian packages (apt-get, as root or through sudo)"
	@echo "make clean   remove $(BUILD)/ but the cell library (build/tech)"
	@echo "variables: CONFIG=$(CONFIG) BUILD=$(BUILD)"

deps:
	@sh scripts/deps.sh

build: $(LP)

RUN_DIR = $(BUILD)/runs/$(basename $(notdir $(CONFIG)))

run: deps
	@$(MAKE) --no-print-directory build
	$(LP) plan $(CONFIG)
	$(LP) train $(CONFIG) --policy all --out $(RUN_DIR)

REPORT_DIR = $(BUILD)/reports/$(basename $(notdir $(CONFIG)))

# Yosys and OpenSTA on the config's RTL; training results from `make run` add accuracy.
report: deps
	@$(MAKE) --no-print-directory build
	$(LP) report $(CONFIG) --out $(REPORT_DIR)

test: deps
	@$(MAKE) --no-print-directory check

check: $(LP) $(TESTS) $(FSTINFO) $(LINT_PARAMS) $(FUZZ_REPLAY)
	@sh tests/run.sh $(BUILD)
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN=1 check-san

# The same tests once more, built with the sanitizers.
check-san: $(LP) $(TESTS) $(FSTINFO) $(LINT_PARAMS) $(FUZZ_REPLAY)
	@echo "== again under AddressSanitizer and UBSan"
	@sh tests/run.sh $(BUILD)

$(BUILD)/obj/model/%.o: model/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/sw/%.o: sw/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# rtl_build finds rtl/ and sim/ in the tree it was built from (or $$LAYERPIPE_SRC).
$(BUILD)/obj/sw/run/rtl_build.o: CFLAGS += -DLP_SRCDIR='"$(CURDIR)"'

$(BUILD)/libmodel.a: $(MODEL_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libsw.a: $(SW_OBJ)
	$(AR) rcs $@ $^

# The CLI links the Verilated RTL blocks too (layerpipe replay).
$(LP): $(BUILD)/obj/sw/cli/main.o $(BUILD)/libsw.a $(BUILD)/libsim.a $(VLT_DONE) $(BUILD)/libmodel.a
	$(CXX) $(LDFLAGS) -o $@ $< $(BUILD)/libsw.a $(BUILD)/libsim.a $(VLT_ARCH) $(BUILD)/libmodel.a \
	    $(PKG_LIBS) $(SYSTEMC_LIBS) -lz -pthread -ldl -lm

$(C_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libsw.a $(BUILD)/libmodel.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lz -lm

# A harness and the replay driver, without libFuzzer: what the tests run.
$(FUZZ_REPLAY): $(BUILD)/tests/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o \
		$(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/libsw.a $(BUILD)/libmodel.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lz -lm

# Verilator builds each block's model (an archive and its header) in its own
# directory, without sanitizers; the .done file stands for both. Verilator writes the
# C++ and this make compiles it (inside the jobserver: `+`). A block is rebuilt when one
# of its own sources changes: the files Verilator read for it (VX__ver.d) become the
# .done file's prerequisites in $(BUILD)/vobj/X.dep (until it exists: all of rtl/).
.SECONDEXPANSION:
$(BUILD)/vobj/%.done: rtl/%.sv $$(if $$(wildcard $(BUILD)/vobj/$$*.dep),,$(RTL_SRC) $(wildcard rtl/*.svh))
	@mkdir -p $(BUILD)/vobj/$*
	verilator --cc --trace --assert -Wall -Irtl --top-module $* -Mdir $(BUILD)/vobj/$* -O2 $(RTL_PKG) $< \
	    >$(BUILD)/vobj/$*/build.log
	+$(MAKE) -s -C $(BUILD)/vobj/$* -f V$*.mk >>$(BUILD)/vobj/$*/build.log
	@echo "$@: $$(sed -n 's|.* : ||p' $(BUILD)/vobj/$*/V$*__ver.d | tr ' ' '\n' | \
	    grep -v verilator_bin | tr '\n' ' ')" >$(BUILD)/vobj/$*.dep
	@touch $@

-include $(wildcard $(BUILD)/vobj/*.dep)

# Verilator 5.006's trace writer stores 64-bit values at 4-byte alignment (verilator#4201,
# fixed in 5.012), so UBSan's alignment check is off for Verilator's own runtime.
$(BUILD)/obj/vlt/%.o: $(VLT_INC)/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(if $(SAN),-fno-sanitize=alignment) -c $< -o $@

$(BUILD)/obj/sim/%.o: sim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The SystemC system model (C++17, against libsystemc-dev). Not sanitized: SystemC switches
# stacks between its threads, which AddressSanitizer cannot follow.
$(BUILD)/obj/sim/sc_pipeline.o: sim/sc_pipeline.cpp sim/scp.h
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -MMD -MP -c $< -o $@

$(BUILD)/libsim.a: $(SIM_MODS:%=$(BUILD)/obj/sim/blocks_%.o) $(SIM_C_SRC:%.c=$(BUILD)/obj/%.o) \
		$(BUILD)/obj/sim/sc_pipeline.o \
		$(BUILD)/obj/vlt/verilated.o $(BUILD)/obj/vlt/verilated_threads.o \
		$(BUILD)/obj/vlt/verilated_vcd_c.o
	$(AR) rcs $@ $^

$(RTL_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libsim.a $(VLT_DONE) \
		$(BUILD)/libsw.a $(BUILD)/libmodel.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $< $(BUILD)/libsim.a $(VLT_ARCH) $(BUILD)/libsw.a \
	    $(BUILD)/libmodel.a $(CMOCKA_LIBS) $(PKG_LIBS) -lz -pthread -ldl -lm

$(FULL_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libsw.a $(BUILD)/libsim.a \
		$(VLT_DONE) $(BUILD)/libmodel.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $< $(BUILD)/libsw.a $(BUILD)/libsim.a $(VLT_ARCH) $(BUILD)/libmodel.a \
	    $(CMOCKA_LIBS) $(PKG_LIBS) $(SYSTEMC_LIBS) -lz -pthread -ldl -lm

$(BUILD)/bench: $(BUILD)/obj/tests/bench.o $(BUILD)/libsw.a $(BUILD)/libsim.a $(VLT_DONE) \
		$(BUILD)/libmodel.a
	$(CXX) $(LDFLAGS) -o $@ $< $(BUILD)/libsw.a $(BUILD)/libsim.a $(VLT_ARCH) $(BUILD)/libmodel.a \
	    $(PKG_LIBS) $(SYSTEMC_LIBS) -lz -pthread -ldl -lm

$(LINT_PARAMS): $(BUILD)/obj/tests/lint_params.o $(BUILD)/libsw.a $(BUILD)/libsim.a \
		$(BUILD)/libmodel.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lz -ldl -lm

$(FSTINFO): tests/fstinfo.c $(FST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(VLT_INC)/gtkwave -c tests/fstinfo.c -o $@.o
	$(CC) -O1 -w -DFST_CONFIG_INCLUDE='"fst_config.h"' -I$(VLT_INC)/gtkwave $(LDFLAGS) -o $@ \
	    $@.o $(FST_LIB) -lz -pthread

lint: $(LINT_PARAMS)
	@echo "== C: every file with -Werror"
	@for f in $(MODEL_SRC) $(SW_SRC) sw/cli/main.c $(SIM_C_SRC) $(TEST_SRC) $(RTL_TEST_SRC) \
	    $(FULL_TEST_SRC) $(BENCH_SRC) \
	    tests/fstinfo.c tests/lint_params.c $(wildcard tests/fuzz/*.c); do \
	    $(CC) $(CSTD) $(WARN) -Werror -O2 -fsyntax-only $(PKG_CFLAGS) -I$(VLT_INC)/gtkwave $$f || exit 1; done
	@echo "== RTL: verilator --lint-only -Wall at every configuration's parameters (tests/lint_test.sh),"
	@echo "   then Yosys synthesis of each module"
	@sh tests/lint_test.sh $(BUILD)
	@# The pipeline modules (lp_*) with a 2x2 MAC array, to keep this to minutes (Yosys
	@# 0.23 fails an internal assertion on a 1x1 mac_array):
	@# mac_array is synthesised on its own at its default 4x4.
	@set -e; for m in $(RTL_MODS); do \
	    case $$m in lp_engine|lp_layer|lp_stage|lp_stage_bank|lp_top) small="chparam -set Rows 2 -set Cols 2 $$m;" ;; \
	        *) small= ;; esac; \
	    cells=$$(yosys -p "read_verilog -sv $(RTL_SRC); $$small synth -top $$m; stat" 2>&1 | \
	             sed -n 's/^ *Number of cells: *//p' | tail -n 1); \
	    if [ -z "$$cells" ] || [ "$$cells" -eq 0 ]; then echo "yosys: $$m: empty netlist"; exit 1; fi; \
	    echo "$$m: lint clean, $$cells cells after yosys synth"; done
	@echo "lint: clean"

bench: $(BUILD)/bench
	@$(BUILD)/bench $(BUILD)/bench.txt
	@sh tests/bench_torch.sh $(BUILD)/bench.txt

# ---- fuzzing: clang 14 and its libFuzzer (clang, libclang-rt-14-dev) ----
# The harnesses' readers and what they call, instrumented for coverage and built with
# the sanitizers, in an archive of their own: a harness links only what it reaches.
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(CSTD) $(WARN) -O1 -g -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LIB_SRC := $(MODEL_SRC) $(wildcard sw/base/*.c sw/config/*.c) sw/run/trace.c \
                sw/run/train_run.c sw/report/metrics.c sw/sweep/sweep.c sw/sweep/sweep_filter.c
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/%)

fuzz: $(FUZZ_BINS)
	@sh tests/fuzz/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/liblp.a: $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
	$(AR) rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/bin/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_BUILD)/liblp.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lz -lm

# Keeps the cell library scripts/deps.sh extracted (build/tech): it is an install, not
# a build product.
clean:
	@if [ -d $(BUILD) ]; then find $(BUILD) -mindepth 1 -maxdepth 1 ! -name tech -exec rm -rf {} +; fi

# The harness of block X includes X's Verilator-generated header.
$(BUILD)/obj/sim/blocks_%.o: sim/blocks_%.cpp sim/blocks.h $(BUILD)/vobj/%.done
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -I$(BUILD)/vobj/$* -c $< -o $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
