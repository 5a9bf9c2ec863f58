/* sim_run.h - `layerpipe sim`: cycle counts of the pipeline from one of the cycle
 * models (analytic; systemc with behavioural stages; systemc-rtl, the same system
 * with the Verilated RTL stages; rtl, the whole Verilated top), one report and one JSON schema for all three
 * (docs/cycle-model.md). */
#ifndef LP_SIM_RUN_H
#define LP_SIM_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "../base/diag.h"
#include "../config/config.h"

enum sim_model { SIM_ANALYTIC, SIM_SYSTEMC, SIM_SYSTEMC_RTL, SIM_RTL, SIM_N_MODELS };

struct sim_request {
    enum sim_model model;
    int64_t minibatches;   /* through the pipeline; fill and drain are added */
    int policy;            /* enum plan_policy, or -1 for the config's */
    int json;
};

const char *sim_model_name(enum sim_model m);

/* Returns 0; 2 with d set on bad input (a config the model cannot run); 1 with d set
 * on other failures. Output goes to out only when complete. */
int sim_run(const struct config *c, const struct sim_request *rq, FILE *out, struct diag *d);

/* The run's headline figures, for a sweep's database (docs/sweeps.md). */
struct sim_figures {
    int stages;
    int64_t params;
    int64_t mac_units;               /* an R x C array per layer with weights */
    int64_t total_cycles;            /* fill and drain included */
    int64_t cycles_per_step;         /* a step with every stage busy (step 2M-2; -1 when the
                                        run is shorter); sequential: one minibatch */
    int64_t sequential_total_cycles;
    double speedup;                  /* sequential_total_cycles / total_cycles */
    int64_t weights_words, history_words, activation_words, register_words; /* the policy's */
    int64_t memory_bytes;            /* all four, 4 bytes a word */
    int64_t offchip_read_bytes, offchip_write_bytes;   /* systemc models; 0 otherwise */
};

/* The same run as sim_run, its figures in f instead of a report. Same return values. */
int sim_measure(const struct config *c, const struct sim_request *rq, struct sim_figures *f,
                struct diag *d);

#endif
