#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "../../model/plan.h"
#include "../../sim/cosim.h"
#include "../base/table.h"
#include "rtl_build.h"
#include "trace.h"
#include "train_run.h"

struct mem_row {
    const char *name;
    int64_t rtl, plan;
};

static void print_report(FILE *out, const struct config *c, enum plan_policy pol,
                         const struct cosim_result *r, const struct mem_row *mem, int n_mem,
                         int64_t nmb)
{
    const struct lptop_geom *g = &r->geom;
    int M = g->n_stages;
    fprintf(out, "verify %s: policy %s%s, %d stage%s, %d layers, batch %d, %dx%d MAC arrays "
            "(latency %d)\n", c->name, plan_policy_name(pol),
            g->sequential ? " (unpipelined, one minibatch at a time)" : "", M, M == 1 ? "" : "s",
            g->n_layers,
            g->batch, g->rows, g->cols, g->mul_stages + 1);
    fprintf(out, "%lld minibatches in %lld steps, %llu cycles: %lld values compared, "
            "%lld mismatches\n", (long long)nmb, (long long)r->steps_done,
            (unsigned long long)r->cycles, (long long)r->compared, (long long)r->mismatches);

    fprintf(out, "\ncycles per step per stage, busy/stalled/idle (a step's cycles include "
            "the host's writes)\n");
    struct table t;
    char row[1024];
    int cols = M + 2 < TABLE_MAX_COLS ? M + 2 : TABLE_MAX_COLS;
    table_init(&t, cols);
    int k = snprintf(row, sizeof row, "step|cycles");
    for (int j = 1; j + 2 <= cols; j++)
        k += snprintf(row + k, sizeof row - (size_t)k, "|stage_%d", j);
    table_row(&t, "%s", row);
    for (int64_t s = 0; s < r->steps_done; s++) {
        k = snprintf(row, sizeof row, "%lld|%lld", (long long)s, (long long)r->step_cycles[s]);
        for (int j = 0; j + 2 < cols && (size_t)k < sizeof row; j++) {
            const struct cosim_counts *n = &r->stage[s * M + j];
            k += snprintf(row + k, sizeof row - (size_t)k, "|%llu/%llu/%llu",
                          (unsigned long long)n->busy, (unsigned long long)n->stall,
                          (unsigned long long)n->idle);
        }
        table_row(&t, "%s", row);
    }
    table_print(&t, out);
    table_free(&t);

    fprintf(out, "\nwhat the RTL's memories hold, in 32-bit words\n");
    table_init(&t, 4);
    table_row(&t, "memory|RTL|planner|");
    for (int i = 0; i < n_mem; i++)
        table_row(&t, "%s|%lld|%lld|%s", mem[i].name, (long long)mem[i].rtl,
                  (long long)mem[i].plan, mem[i].rtl == mem[i].plan ? "equal" : "DIFFERENT");
    table_print(&t, out);
    table_free(&t);
}

/* The report of a finished run: cycles, the memories against the planner's (p, and p1
 * of one stage for sequential), the first mismatch, pass or FAIL. Returns 0 on a pass,
 * 1 on a mismatch or a memory that differs. */
static int print_verdict(FILE *out, const struct config *c, enum plan_policy pol,
                         const struct cosim *cs, const struct plan *p, const struct plan *p1,
                         int64_t nmb)
{
    struct cosim_result res;
    cosim_result(cs, &res);
    const struct lptop_geom *g = &res.geom;
    /* The planner's figures for what this run instantiates: sequential keeps one
     * slot per layer (the plan of one stage), the pipeline 2S+1; the registers
     * between the hardware's stages exist in both. */
    const struct plan *pa = pol == PLAN_SEQUENTIAL ? p1 : p;
    struct mem_row mem[] = {
        {"activation delay lines", g->act_words, pa->totals.act_words},
        {"stash ring", g->stash_words, pol == PLAN_STASH ? p->totals.stash_words : 0},
        {"ema buffer", g->ema_words, pol == PLAN_EMA ? p->totals.ema_words : 0},
        {"forward registers", g->fwd_reg_words, p->totals.forward_reg_words},
        {"backward registers", g->bwd_reg_words, p->totals.backward_reg_words},
    };
    int n_mem = (int)(sizeof mem / sizeof *mem), mem_bad = 0;
    for (int i = 0; i < n_mem; i++)
        mem_bad |= mem[i].rtl != mem[i].plan;
    print_report(out, c, pol, &res, mem, n_mem, nmb);
    if (res.mismatches) {
        static const char *const what[] = {"", " (not produced by the RTL)",
                                           " (not expected from the RTL)"};
        const struct cosim_mismatch *m = &res.first;
        fprintf(out, "\nfirst mismatch: step %lld, stage %d, layer %s, %s of minibatch "
                "%lld, index %lld: expected %d, RTL %d%s\n%lld mismatches in total\n",
                (long long)m->step, m->stage, c->net.layers[m->layer].name,
                trace_kind_name(m->kind), (long long)m->minibatch, (long long)m->index,
                m->expected, m->actual, what[m->what], (long long)res.mismatches);
    }
    if (mem_bad)
        fprintf(out, "\nthe RTL's memories differ from the planner's\n");
    fprintf(out, "\nverify: %s\n", res.mismatches || mem_bad ? "FAIL" : "pass");
    return res.mismatches || mem_bad;
}

int verify_run(const struct config *c, const struct verify_request *rq, FILE *out,
               struct diag *d)
{
    enum plan_policy pol = rq->policy >= 0 ? (enum plan_policy)rq->policy : c->pipeline.policy;
    int64_t nmb = rq->minibatches;
    if (cfg_check_rtl(c, d))
        return 2;
    struct dataset train;
    int32_t *order;
    int rc = train_minibatches(c, nmb, &train, &order, d);
    if (rc)
        return rc;
    struct fixed_spec q;
    struct train_opts o;
    struct diag e = {0};
    struct plan p = {0}, p1 = {0};
    int *one = calloc((size_t)c->net.n_layers, sizeof *one);
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, pol, nmb, 1, &q, &o);
    struct cosim_setup s = {&c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, &q,
                            c->hardware.mac_rows, c->hardware.mac_cols,
                            c->hardware.mac_pipeline, &train, order, nmb, rq->trace, NULL,
                            0, rq->inject_fault};
    char lib[1100];
    struct cosim *cs = NULL;
    rc = one ? 0 : lp_fail(&e, -1, NULL, "out of memory");
    for (int l = 0; one && l < c->net.n_layers; l++)
        one[l] = 1;
    if (!rc) {
        rc = plan_build(&p, &c->net, c->pipeline.stage_of, c->pipeline.n_stages,
                        c->training.batch, &e) ||
             plan_build(&p1, &c->net, one, 1, c->training.batch, &e);
    }
    if (!rc)
        rc = rtl_build(&s, "top", lib, sizeof lib, stderr, &e);
    s.lib = lib;
    if (!rc)
        rc = cosim_open(&cs, &s, &e);
    while (!rc && (rc = cosim_step(cs, &e)) == 0)
        ;
    if (rc == 1)
        rc = 0;
    if (!rc) {
        rc = print_verdict(out, c, pol, cs, &p, &p1, nmb);
    } else {
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        rc = 1;
    }
    cosim_close(cs);
    plan_free(&p);
    plan_free(&p1);
    free(order);
    free(one);
    data_free(&train);
    return rc;
}
