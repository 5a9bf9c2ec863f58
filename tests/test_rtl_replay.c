/* test_rtl_replay.c - the committed golden vector sets replayed through the RTL
 * blocks (sim/replay.c), without the C model: every activation, error, weight
 * read by a backward, gradient and updated weight must match, word for word.
 * Runs from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../sim/replay.h"
#include "../sw/run/trace.h"
#include "../sw/run/train_run.h"

/* Replay a loaded set; fault >= 0 corrupts that record's first word first. */
static void replay_set(const struct trace *tr, int64_t fault, struct replay_result *res)
{
    const struct config *c = &tr->config;
    struct replay_record *recs = calloc((size_t)tr->n_records, sizeof *recs);
    int32_t *bad = NULL;
    struct fixed_spec q;
    struct train_opts o;
    struct diag e;
    assert_non_null(recs);
    for (int64_t i = 0; i < tr->n_records; i++) {
        const struct trace_record *t = &tr->records[i];
        recs[i] = (struct replay_record){t->kind, t->layer, t->minibatch, t->count, t->words};
    }
    if (fault >= 0) {   /* a copy of the record, one word off */
        bad = malloc(sizeof *bad * (size_t)recs[fault].count);
        assert_non_null(bad);
        memcpy(bad, recs[fault].words, sizeof *bad * (size_t)recs[fault].count);
        bad[0] ^= 1;
        recs[fault].words = bad;
    }
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, c->pipeline.policy, tr->minibatches, 1, &q, &o);
    struct replay_setup s = {&c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, &q,
                             tr->minibatches};
    if (replay_run(&s, recs, tr->n_records, res, &e))
        fail_msg("replay refused: %s", e.msg);
    free(recs);
    free(bad);
}

static void check_set(const char *dir)
{
    struct trace tr;
    struct diag d;
    struct replay_result res;
    if (trace_load(&tr, dir, &d))
        fail_msg("%s: %s", d.file, d.msg);
    replay_set(&tr, -1, &res);
    print_message("  %s: %lld records, %lld words compared, %lld mismatches, %lld MAC tiles "
                  "(%lld cycles)\n", dir, (long long)res.records, (long long)res.compared,
                  (long long)res.mismatches, (long long)res.mac_tiles,
                  (long long)res.mac_cycles);
    if (res.mismatches)
        print_error("  first: %s layer %d stage %d minibatch %lld step %lld index %lld: "
                    "expected %d, RTL %d\n", trace_kind_name(res.first.kind), res.first.layer,
                    res.first.stage, (long long)res.first.minibatch, (long long)res.first.step,
                    (long long)res.first.index, res.first.expected, res.first.actual);
    assert_int_equal(res.records, tr.n_records);
    assert_true(res.compared > 0);
    assert_int_equal(res.mismatches, 0);
    trace_free(&tr);
}

static void test_m4_ema(void **state) { (void)state; check_set("traces/m4-ema"); }
static void test_m2_stash(void **state) { (void)state; check_set("traces/m2-stash"); }
static void test_m1_sequential(void **state) { (void)state; check_set("traces/m1-sequential"); }

/* One expected word off by one is one mismatch, reported where it is. */
static void test_injected_fault_is_reported(void **state)
{
    struct trace tr;
    struct diag d;
    struct replay_result res;
    (void)state;
    if (trace_load(&tr, "traces/m4-ema", &d))
        fail_msg("%s: %s", d.file, d.msg);
    int64_t at = -1;
    for (int64_t i = 0; i < tr.n_records && at < 0; i++)
        if (tr.records[i].kind == TRAIN_PROBE_ACTIVATION && tr.records[i].minibatch == 3)
            at = i;
    assert_true(at >= 0);
    replay_set(&tr, at, &res);
    assert_int_equal(res.mismatches, 1);
    assert_int_equal(res.first.kind, TRAIN_PROBE_ACTIVATION);
    assert_int_equal(res.first.minibatch, 3);
    assert_int_equal(res.first.index, 0);
    assert_int_equal(res.first.expected ^ 1, res.first.actual);
    print_message("  injected: %s layer %d stage %d minibatch %lld step %lld index %lld: "
                  "expected %d, RTL %d\n", trace_kind_name(res.first.kind), res.first.layer,
                  res.first.stage, (long long)res.first.minibatch, (long long)res.first.step,
                  (long long)res.first.index, res.first.expected, res.first.actual);
    trace_free(&tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m4_ema),
        cmocka_unit_test(test_m2_stash),
        cmocka_unit_test(test_m1_sequential),
        cmocka_unit_test(test_injected_fault_is_reported),
    };
    return cmocka_run_group_tests_name("rtl replay", tests, NULL, NULL);
}
