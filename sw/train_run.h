/* train_run.h - `layerpipe train`: load the data a config names, train under
 * one policy or all of them, print per-epoch lines, and write the run's files.
 *
 * Files (docs/reports.md): DIR/metrics.csv, DIR/summary.json and
 * DIR/weights/<layer>.W.npy, <layer>.b.npy; with all policies, one such set per
 * policy under DIR/<policy>/ plus DIR/summary.json and DIR/metrics.csv for all.
 * Every file is written whole or not at all (outfile). Wall-clock figures go
 * to the terminal only, so the files are the same for the same config.
 */
#ifndef LP_TRAIN_RUN_H
#define LP_TRAIN_RUN_H

#include <stdio.h>

#include "config.h"
#include "diag.h"

struct train_request {
    int all_policies;         /* train every policy from the same start */
    enum plan_policy policy;  /* otherwise this one */
    int epochs;               /* > 0: instead of training.epochs */
    const char *out_dir;      /* NULL: write no files */
    int progress;             /* redraw a progress line on stderr */
};

/* Returns 0; 2 with d set on bad input (dataset missing or malformed, a config
 * this command cannot run); 1 with d set on other failures (memory, writing). */
int train_run(const struct config *c, const struct train_request *rq, FILE *out,
              struct diag *d);

#endif
