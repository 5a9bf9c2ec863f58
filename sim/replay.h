/* replay.h - run a golden vector set through the RTL blocks, without the C model.
 *
 * The host's part is sequenced here in C, in the order of the set's records:
 * it feeds the inputs, the loss gradients and the initial weights; everything
 * else is computed by the Verilated RTL (mac_array for the three products of a
 * dense layer, fx_narrow for every narrowing, the stash_ring or the ema_unit for
 * the weights a backward reads, sgd_update for every parameter's update) and
 * compared word for word with the record. Only ReLU (a sign test) is done here.
 * This is block-level replay; the pipeline top will replace the sequencing.
 *
 * The records are those of sw/run/trace.h (kinds of enum train_probe), handed in as
 * plain arrays so that sim/ does not depend on sw/.
 */
#ifndef LP_SIM_REPLAY_H
#define LP_SIM_REPLAY_H

#include <stdint.h>

#include "../model/err.h"
#include "../model/fixed.h"
#include "../model/net.h"
#include "../model/train.h"

struct replay_record {
    enum train_probe kind;
    int layer;
    int64_t minibatch;
    int64_t count;
    const int32_t *words;
};

struct replay_setup {
    const struct net *net;            /* dense layers only */
    const int *stage_of;
    int n_stages;
    const struct train_opts *opts;    /* policy, batch, lr schedule, momentum, decay, beta */
    const struct fixed_spec *q;
    int64_t minibatches;
};

struct replay_mismatch {
    enum train_probe kind;
    int layer, stage;
    int64_t minibatch, step, index;
    int32_t expected, actual;
};

struct replay_result {
    int64_t records, compared, mismatches;
    struct replay_mismatch first;     /* valid when mismatches > 0 */
    int64_t mac_tiles, mac_cycles;    /* tiles streamed through the MAC array */
};

/* Replay n records. Returns 0 (res filled; mismatches may be > 0), or -1 with e
 * set when the records cannot be replayed (out of order, unsupported, memory). */
int replay_run(const struct replay_setup *s, const struct replay_record *recs, int64_t n,
               struct replay_result *res, struct diag *e);

#endif
