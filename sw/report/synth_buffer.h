/* synth_buffer.h - fanout buffering of a mapped netlist, for `layerpipe report`
 * (docs/reports.md, "Fanout").
 *
 * ABC buffers the nets of the logic it maps, but a net that no gate of ABC's network
 * drives or reads never reaches it: a flip-flop's output wired straight to the data,
 * reset or enable pins of other flip-flops, to the ports of submodules or of SRAM macros,
 * an input port doing the same. Yosys 0.23 has no pass for them, so this one does what a
 * physical flow's fanout repair would: every net with more than max_fanout loads (pins of
 * leaf cells and submodule instances, and output ports) gets a tree of buffer cells, at
 * most max_fanout loads per buffer, each level max_fanout times smaller than the one it
 * drives. Clock nets (a net feeding a clock pin, or the clock port) are left alone: the
 * timing run treats the clock as ideal.
 *
 * It reads one module as Yosys's write_verilog -noexpr writes it (after splitnets) and
 * writes it back with the trees added; nothing else changes.
 */
#ifndef LP_SYNTH_BUFFER_H
#define LP_SYNTH_BUFFER_H

#include <stdint.h>

#include "../base/diag.h"

/* A pin's direction, as nb_pin_dir reports it. */
enum nb_dir { NB_UNKNOWN = -1, NB_IN = 0, NB_OUT = 1, NB_CLOCK = 2 };

/* The cells of a liberty file: which pins are outputs, which are clocks. */
struct nb_lib;

/* Reads path's cells and pins. Returns 0, or -1 with d set. *out is freed by nb_lib_free. */
int nb_lib_load(const char *path, struct nb_lib **out, struct diag *d);
void nb_lib_free(struct nb_lib *l);
/* The direction of pin of cell type, or NB_UNKNOWN if the liberty has no such cell or pin. */
enum nb_dir nb_lib_dir(const struct nb_lib *l, const char *type, const char *pin);
/* The area of a cell type (um^2), or -1. */
double nb_lib_area(const struct nb_lib *l, const char *type);

struct nb_opts {
    int max_fanout;             /* loads a net may keep; more get a tree */
    const char *buf_cell;       /* e.g. BUFX4, with input buf_in and output buf_out */
    const char *buf_in, *buf_out;
    const char *clock_port;     /* the clock input (never buffered), e.g. clk_i */
    /* The direction of a pin of any cell type the netlist instantiates (leaf cells,
     * submodules, macros): NB_UNKNOWN makes nb_buffer fail. */
    enum nb_dir (*pin_dir)(void *ctx, const char *type, const char *pin);
    void *ctx;
};

/* Buffers in_path's module into out_path (written whole or not at all) and sets *n_buf to
 * the buffers added. Returns 0, or -1 with d set (unreadable or unexpected netlist). */
int nb_buffer(const char *in_path, const char *out_path, const struct nb_opts *o,
              int64_t *n_buf, struct diag *d);

#endif
