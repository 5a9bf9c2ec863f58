/* report_plan.h - the planner's output: an aligned text report or JSON.
 *
 * Both show the same numbers (docs/planner.md describes every field). With
 * steps > 0 they add the schedule of the first `steps` pipeline steps.
 * They write to out and return 0, or -1 on a write error or out of memory.
 */
#ifndef LP_REPORT_PLAN_H
#define LP_REPORT_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "../../model/plan.h"
#include "../config/config.h"

int report_plan_text(FILE *out, const struct config *c, const struct plan *p, int64_t steps);
int report_plan_json(FILE *out, const struct config *c, const struct plan *p, int64_t steps);

#endif
