/* metrics.h - a training directory's metrics.csv as the report reads it back: each
 * policy's test accuracy per epoch (`layerpipe train --policy all --out DIR` writes it).
 *
 * The columns policy, epoch and test_accuracy_pct are found by name in the first line;
 * other columns, and lines of an unknown policy, an epoch outside 1..METRICS_MAX_EPOCHS
 * or a negative accuracy, are skipped.
 */
#ifndef LP_METRICS_H
#define LP_METRICS_H

#include <stdio.h>

#include "../../model/plan.h"
#include "../base/diag.h"

#define METRICS_MAX_EPOCHS 1000

/* Test accuracy, percent: pct[k][e - 1] after epoch e of policy k, for e <= n[k]
 * (an epoch the file skips keeps what pct held). */
struct metrics {
    int n[PLAN_N_POLICIES];
    double pct[PLAN_N_POLICIES][METRICS_MAX_EPOCHS];
};

/* Read f (path names it in messages) into m, which the caller zeroes first; f is closed
 * here. Returns 0, or -1 with d set (path and line): no policy, epoch or
 * test_accuracy_pct column, or a quoted field not closed. */
int metrics_read(struct metrics *m, FILE *f, const char *path, struct diag *d);

#endif
