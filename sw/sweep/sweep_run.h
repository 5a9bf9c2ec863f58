/* sweep_run.h - `layerpipe sweep`: run a sweep's points in worker processes into its
 * database, resumably; emit them as cluster jobs instead; record one point (a job);
 * merge job results; write the Pareto front (docs/sweeps.md). */
#ifndef LP_SWEEP_RUN_H
#define LP_SWEEP_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "../base/diag.h"
#include "sweep.h"

enum sweep_mode {
    SWEEP_RUN,            /* run every pending point here */
    SWEEP_EMIT_SLURM,     /* DIR/sweep.sbatch: a Slurm job array of the pending points */
    SWEEP_EMIT_PARALLEL,  /* DIR/jobs.txt: one command per pending point, for GNU parallel */
    SWEEP_POINT,          /* one point into DIR/results/N.json (what a job runs) */
    SWEEP_MERGE,          /* DIR/results/ into DIR/sweep.db */
    SWEEP_PARETO          /* DIR/pareto.csv and the plot */
};

struct sweep_request {
    enum sweep_mode mode;
    const char *sweep;        /* the sweep file (run, emit, point) */
    const char *dir;          /* --out DIR, or the DIR of --merge / --pareto */
    int jobs;                 /* worker processes */
    struct sweep_opts o;
    int64_t point;            /* SWEEP_POINT */
    int retry_failed;         /* run the failed points again */
    int progress;             /* a progress bar on stderr */
    const char *objectives;   /* pareto: comma-separated, NULL for the defaults */
};

/* Returns 0; 2 with d set on bad input (sweep file, result file, objectives, a database
 * of another sweep, damaged or not a sweep's) or an output that cannot be written (the
 * database, a result file, a job list, the Pareto files); 1 with d set on other
 * failures; 130 when interrupted (what was done is in the database). A summary goes to
 * out. */
int sweep_main(const struct sweep_request *rq, FILE *out, struct diag *d);

/* The Pareto front of DIR's database (sweep_pareto.c). */
int sweep_pareto(const char *dir, const char *objectives, FILE *out, struct diag *d);

#endif
