/* rtl_build.h - the pipeline RTL Verilated and compiled for one configuration, into a
 * shared object that sim/cosim.c (kind "top") or the SystemC model (kind "bank") loads.
 *
 * The build runs sim/lptop.mk in a directory of the RTL cache named by the hash of the
 * top's parameters (cosim_top_params) and the waveform format, so each configuration is
 * built once and a rebuild happens only when the RTL or the harness changes.
 */
#ifndef LP_RTL_BUILD_H
#define LP_RTL_BUILD_H

#include <stddef.h>
#include <stdio.h>

#include "../../model/err.h"
#include "../../sim/cosim.h"

/* The source tree (rtl/, sim/) and where RTL builds are cached: $LAYERPIPE_SRC and
 * $LAYERPIPE_RTL_CACHE when set, else the tree this binary was built from and its
 * build/rtl. */
const char *rtl_src_dir(void);
const char *rtl_cache_dir(void);

/* Build the RTL for s (rows, cols, latency, network, partition, policy; tracing as
 * s->trace asks) unless its directory holds an up-to-date build. kind "top":
 * rtl/lp_top.sv behind sim/lptop.h; "bank": rtl/lp_stage_bank.sv for SystemC
 * (sim/scp.h). Writes the shared object's path to lib; says on note (when not NULL)
 * that it builds. One process builds a directory at a time. Returns 0, or -1 with e
 * set. */
int rtl_build(const struct cosim_setup *s, const char *kind, char *lib, size_t lib_size,
              FILE *note, struct diag *e);

#endif
