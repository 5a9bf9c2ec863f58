/* verify.h - `layerpipe verify`: train a fixed-point dense network on the Verilated
 * pipeline RTL and on the golden model in lockstep, compare every value bit for bit,
 * and report the RTL's cycles per step per stage and the memories it instantiated
 * against the planner's (docs/rtl.md). */
#ifndef LP_VERIFY_H
#define LP_VERIFY_H

#include <stdio.h>

#include "../base/diag.h"
#include "../config/config.h"

struct verify_request {
    int64_t minibatches;       /* trained through the pipeline (fill and drain added) */
    int policy;                /* enum plan_policy, or -1 for the config's */
    const char *trace;         /* a .vcd or .fst to write, or NULL */
    int inject_fault;          /* corrupt one expected value: the run must fail */
};

/* Returns 0 when every value matched and every memory equals the planner's; 1 on a
 * mismatch or another failure (d set for the latter); 2 with d set on bad input
 * (a config the RTL cannot run, a dataset too small). */
int verify_run(const struct config *c, const struct verify_request *rq, FILE *out,
               struct diag *d);

#endif
