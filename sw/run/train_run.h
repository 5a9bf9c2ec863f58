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

#include "../../model/data.h"
#include "../../model/rng.h"
#include "../../model/train.h"
#include "../base/diag.h"
#include "../config/config.h"

struct train_request {
    int all_policies;         /* train every policy from the same start */
    enum plan_policy policy;  /* otherwise this one */
    int epochs;               /* > 0: instead of training.epochs */
    const char *out_dir;      /* NULL: write no files */
    int progress;             /* redraw a progress line on stderr */
};

/* The datasets the config names (normalised when it says so). Returns 0; 2 with d
 * set when the data are missing or malformed; 1 on other failures. */
int train_data_load(const struct config *c, struct dataset *train, struct dataset *test,
                    struct diag *d);
/* The trainer options the config gives a policy (q: the config's fixed spec). */
void train_fill_opts(const struct config *c, enum plan_policy pol, int64_t mb_per_epoch,
                     int epochs, const struct fixed_spec *q, struct train_opts *o);
/* The data order: identity, then the shuffle stream every epoch draws from
 * (rng_shuffle once per epoch). The same for every policy. */
void train_order_init(const struct config *c, struct rng *r, int32_t *order, int n);

/* The training set and the order of its samples that the first n minibatches take:
 * the config's data, shuffled once, as in the first epoch of train_run (vector sets,
 * verify and sim take these). Returns 0 (free train and *order); 2 with d set when the
 * data are missing or malformed or hold fewer than n minibatches; 1 on other failures. */
int train_minibatches(const struct config *c, int64_t n, struct dataset *train, int32_t **order,
                      struct diag *d);

/* Returns 0; 2 with d set on bad input (dataset missing or malformed, a config
 * this command cannot run) or a file under out_dir that cannot be written (each file
 * appears whole or keeps what it held); 1 with d set on other failures (memory). */
int train_run(const struct config *c, const struct train_request *rq, FILE *out,
              struct diag *d);

/* The last epoch of a training run under the config's policy, for a sweep's database. */
struct train_outcome {
    int epochs;
    double train_loss, train_accuracy;   /* accuracies in percent */
    double test_loss, test_accuracy;
    int64_t saturations;                 /* fixed point, the last epoch, all layers */
};

/* Train c under its own policy for training.epochs, printing nothing. Returns 0; 2 with
 * d set when the data are missing or malformed; 1 with d set on other failures. */
int train_measure(const struct config *c, struct train_outcome *r, struct diag *d);

#endif
