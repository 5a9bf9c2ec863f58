/* report.h - `layerpipe report`: area, timing, latency, memory and accuracy of the
 * pipeline hardware under every weight-history policy, as files (docs/reports.md).
 *
 * Memory comes from the planner, area from Yosys on the RTL mapped to the OSU 0.18 um
 * cells plus an SRAM table for the memories, timing from OpenSTA on the mapped netlist,
 * cycles from the analytic cycle model (equal to the RTL's), accuracy from a
 * `layerpipe train --policy all --out DIR` of the same config when there is one.
 */
#ifndef LP_REPORT_H
#define LP_REPORT_H

#include <stdio.h>

#include "../base/diag.h"
#include "../config/config.h"

struct report_request {
    const char *out_dir;       /* report.md, layers.csv, summary.json, plots */
    const char *runs;          /* a `train --policy all --out` directory, or NULL: the
                                  default build/runs/<config's file name> if it exists */
    int policy;                /* enum plan_policy, or -1 for all four */
};

/* Returns 0; 2 with d set on bad input (a network the RTL cannot build, a training
 * directory of another config) or a file under out_dir that cannot be written (gnuplot's
 * included); 1 with d set otherwise (a tool missing or failing). */
int report_run(const struct config *c, const struct report_request *rq, FILE *out,
               struct diag *d);

/* Area and timing of c's RTL under c's own policy, as report_run finds them: what a
 * sweep records with --area. */
struct report_area {
    double area_um2, logic_area_um2, sram_area_um2;
    double fmax_mhz, latency_ns;
};

/* Returns 0; 2 with d set on a config the RTL cannot build; 1 with d set otherwise. */
int report_area(const struct config *c, struct report_area *a, struct diag *d);

#endif
