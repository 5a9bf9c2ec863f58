/* synth.h - logic synthesis and static timing of the pipeline RTL (rtl/lp_top.sv) for
 * `layerpipe report` (docs/reports.md, "Area and timing").
 *
 * Yosys elaborates the top with the parameters verify would build it with, and each
 * module of the elaborated hierarchy is then synthesised on its own to the liberty
 * file's standard cells, its submodules left as black boxes: a module's mapped netlist
 * depends only on its own elaborated text, so it is cached under that text's hash and
 * a module shared by several policies or configs (the MAC array, the update unit) is
 * synthesised once. Memories stay memories (Yosys's $mem_v2): their size and width are
 * reported for an SRAM area table, and they are cut out of the timed netlist. OpenSTA
 * then times the whole mapped hierarchy. Every script run is kept beside its result.
 */
#ifndef LP_SYNTH_H
#define LP_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "diag.h"

/* Memories of at most this many bits become flops (and logic area); larger ones stay
 * memories for the SRAM table. */
#define SYN_FLOP_BITS 1024

struct syn_mem {
    char name[64];            /* the RTL's array, e.g. w_mem, gen_ema.m_mem, mem_q */
    int64_t width, size;      /* bits per word, words */
    int sram;                 /* kept as a memory (else flops, or optimised away) */
};

struct syn_module {
    char name[96];            /* in the netlists: base name, or base_<hash> when derived */
    char base[48];            /* the RTL module */
    double area;              /* um^2 of its own cells (submodules not included) */
    int64_t cells;            /* its own standard cells */
    int64_t count;            /* instances under the top */
    int64_t kind, reg_slots, slots;   /* skew_mem's parameters of these names, else -1 */
    int n_mems;
    struct syn_mem *mems;
    int n_kids;
    int *kid, *kid_n;         /* submodule index and how many of it */
    char dir[1024];           /* its cache directory (script, log, stat, netlist) */
};

struct syn_result {
    int n;
    struct syn_module *m;     /* m[0] is the top */
    int64_t cells;            /* standard cells in the whole hierarchy */
    double logic_area;        /* um^2, the whole hierarchy without the memories */
    double path_ns;           /* critical path (data arrival + setup) */
    char path_from[160], path_to[160];
    char elab_dir[1024];      /* the elaboration: its script and log */
    char sta_dir[1024];       /* the timing run */
};

struct syn_tools {
    const char *src;          /* the source tree (rtl/) */
    const char *cache;        /* where module results are kept */
    const char *liberty;      /* the standard cells */
    int jobs;                 /* Yosys runs at once */
    FILE *note;               /* progress, or NULL */
};

/* Where the OSU 0.18 um liberty is: $LAYERPIPE_LIBERTY, the Debian package's path, or
 * the copy scripts/deps.sh extracted under the source tree's build/tech. NULL if none
 * (or if $LAYERPIPE_LIBERTY names no file). */
const char *syn_liberty(const char *src);

/* Synthesise and time lp_top with the Verilator-style parameters in params ("-GName=value"
 * per line, cosim_top_params). Returns 0, or -1 with d set (a tool missing or failing:
 * the message names its log). */
int syn_run(const struct syn_tools *t, const char *params, struct syn_result *r,
            struct diag *d);
void syn_free(struct syn_result *r);

/* The first line of `tool args` output (a version string), or "unknown". */
void syn_tool_version(const char *cmd, char *out, size_t size);

#endif
