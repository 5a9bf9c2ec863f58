/* synth.h - logic synthesis and static timing of the pipeline RTL (rtl/lp_top.sv) for
 * `layerpipe report` (docs/reports.md, "Area and timing").
 *
 * Yosys elaborates the top with the parameters verify would build it with, and each
 * module of the elaborated hierarchy is then synthesised on its own to the liberty
 * file's standard cells, its submodules left as black boxes: a module's mapped netlist
 * depends only on its own elaborated text, so it is cached under that text's hash and
 * a module shared by several policies or configs (the MAC cells, the update unit) is
 * synthesised once. Nets with more loads than a buffer should drive get buffer trees
 * (synth_buffer.h). Memories larger than SYN_FLOP_BITS stay memories: each becomes an
 * instance of an SRAM macro, one cell type per shape, whose area the caller prices and
 * whose timing (access after the clock, setup before it) the caller gives in
 * syn_tools.sram, so paths into and out of a memory are timed like any other.
 * OpenSTA then times the whole mapped hierarchy, and finds the worst path to the
 * endpoints of every module. Every script run is kept beside its result.
 */
#ifndef LP_SYNTH_H
#define LP_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "../base/diag.h"

/* Memories of at most this many bits become flops (and logic area); larger ones stay
 * memories for the SRAM table. */
#define SYN_FLOP_BITS 1024

/* Nets keep at most this many loads: ABC buffers the nets of the logic it maps to it, and
 * synth_buffer.h the nets outside ABC's network. */
#define SYN_MAX_FANOUT 12

struct syn_mem {
    char name[64];            /* the RTL's array, e.g. gen_bank[0].mem */
    int64_t width, size;      /* bits per word, words */
    int sram;                 /* kept as a memory (else flops, or optimised away) */
    char macro[64];           /* the SRAM macro's cell type, e.g. lp_sram_2048x32_1r1w */
    int64_t abits;            /* its address bits */
};

/* The worst path to a set of endpoints. */
struct syn_path {
    double ns;                /* data arrival + setup (the clock period it needs); < 0: none */
    char from[256], to[256];  /* OpenSTA's start and end point */
};

/* Which endpoints of a module a syn_path covers. */
enum { SYN_LOGIC, SYN_SRAM };

struct syn_module {
    char name[96];            /* in the netlists: base name, or base_<hash> when derived */
    char base[48];            /* the RTL module */
    double area;              /* um^2 of its own cells, buffers included (submodules not) */
    int64_t cells;            /* its own standard cells */
    int64_t buffers;          /* of them, buffers the fanout pass added */
    int64_t count;            /* instances under the top */
    int64_t kind, reg_slots, slots;   /* skew_mem's parameters of these names, else -1 */
    int n_mems;
    struct syn_mem *mems;
    int n_kids;
    int *kid, *kid_n;         /* submodule index and how many of it */
    int n_inst;
    int *inst_kid;            /* each submodule instance: its module */
    char **inst_name;         /* and its instance name */
    /* The worst path ending at this module's own flops (SYN_LOGIC; for the top, its
     * output ports too) and at its SRAM macros' inputs (SYN_SRAM), over all of its
     * instances. */
    struct syn_path worst[2];
    char dir[1024];           /* its cache directory (script, log, stat, netlist) */
};

struct syn_result {
    int n;
    struct syn_module *m;     /* m[0] is the top */
    int64_t cells;            /* standard cells in the whole hierarchy */
    double logic_area;        /* um^2, the whole hierarchy without the memories */
    struct syn_path path;     /* the critical path of the whole design */
    char elab_dir[1024];      /* the elaboration: its script and log */
    char sta_dir[1024];       /* the timing run */
};

/* An SRAM macro's timing at the liberty's corner (docs/reports.md, "SRAM"). Every shape
 * gets the same figures: a registered read (the read data changes access_ns after the
 * rising edge of a read and holds otherwise), and a setup time on address, data and
 * enables. */
struct syn_sram_timing {
    double access_ns;         /* clock to read data */
    double setup_ns;          /* address, write data and enables before the clock */
    double min_period_ns;     /* the macro's own cycle limit */
    double transition_ns;     /* the read data's slew */
    double pin_cap_pf;        /* every input pin's capacitance */
    const char *source;       /* where the figures come from, for the liberty's comment */
};

struct syn_tools {
    const char *src;          /* the source tree (rtl/) */
    const char *cache;        /* where module results are kept */
    const char *liberty;      /* the standard cells */
    int jobs;                 /* Yosys and OpenSTA runs at once */
    FILE *note;               /* progress, or NULL */
    const struct syn_sram_timing *sram;
    /* Parameters that only label a module for the report (NULL-terminated, or NULL):
     * modules that differ in them alone are synthesised once, as one netlist. */
    const char *const *labels;
};

/* Where the OSU 0.18 um liberty is: $LAYERPIPE_LIBERTY, the Debian package's path, or
 * the copy scripts/deps.sh extracted under the source tree's build/tech. NULL if none
 * (or if $LAYERPIPE_LIBERTY names no file). */
const char *syn_liberty(const char *src);

/* Synthesise and time n designs: lp_top with the Verilator-style parameters params[i]
 * ("-GName=value" per line, cosim_top_params) into r[i]. The designs share one pool of
 * t->jobs runs (their common modules are synthesised once). Returns 0, or -1 with d set
 * (a tool missing or failing: the message names its log). Each r[i] is filled or
 * zeroed, and freed with syn_free either way. */
int syn_run_all(const struct syn_tools *t, int n, const char *const *params,
                struct syn_result *r, struct diag *d);
/* One design. */
int syn_run(const struct syn_tools *t, const char *params, struct syn_result *r,
            struct diag *d);
void syn_free(struct syn_result *r);

/* The first line of `tool args` output (a version string), or "unknown". */
void syn_tool_version(const char *cmd, char *out, size_t size);

#endif
