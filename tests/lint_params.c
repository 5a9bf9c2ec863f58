/* lint_params.c - the parameters the tool builds rtl/lp_top.sv with for a config and a
 * policy, one Verilator option per line (sim/cosim.c cosim_top_params), for
 * tests/lint_test.sh to lint the RTL at exactly those.
 *
 * usage: lint_params CONFIG POLICY
 * Exit status: 0 with the options on stdout; 3 when the RTL cannot be built for the
 * config (not a chain of dense layers: nothing to lint); 2 on bad input. */
#include <stdio.h>
#include <string.h>

#include "../model/plan.h"
#include "../sim/cosim.h"
#include "../sw/config/config.h"
#include "../sw/run/train_run.h"

int main(int argc, char **argv)
{
    struct config c;
    struct diag d;
    if (argc != 3) {
        fputs("usage: lint_params CONFIG POLICY\n", stderr);
        return 2;
    }
    int pol = -1;
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (!strcmp(argv[2], plan_policy_name((enum plan_policy)k)))
            pol = k;
    if (pol < 0 || cfg_load(&c, argv[1], &d)) {
        if (pol >= 0)
            diag_print(&d, stderr);
        return 2;
    }
    int rc;
    {   /* as verify and report build it (report: a float config's numerics formats too) */
        struct fixed_spec q;
        struct train_opts o;
        char params[4096];
        cfg_fixed_spec(&c, &q);
        train_fill_opts(&c, (enum plan_policy)pol, 1, 1, &q, &o);
        struct cosim_setup s = {&c.net, c.pipeline.stage_of, c.pipeline.n_stages, &o, &q,
                                c.hardware.mac_rows, c.hardware.mac_cols,
                                c.hardware.mac_pipeline, NULL, NULL, 0, NULL, NULL, 0, 0};
        rc = cosim_top_params(&s, params, sizeof params, &d) ? 3 : 0;
        if (!rc)
            fputs(params, stdout);
    }
    cfg_free(&c);
    return rc;
}
