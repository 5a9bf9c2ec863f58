/* test_rtl_delay_line_bank.c - rtl/delay_line.sv at the depths of rtl/delay_line_bank.sv
 * (0, 1, 2, 3, 4, 5, 8, 17; pass-through, register, shift chains and RAM rings) against a
 * C reference queue, through sim/blocks_delay_line_bank.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../model/rng.h"
#include "../sim/blocks_delay_line_bank.h"

#define N SIM_DL_LINES
#define TAG_MASK ((1u << SIM_DL_TAG_BITS) - 1u)
#define HIST 32   /* > the deepest line */

#define SEED_RANDOM 8101u
#define SEED_SELF 8102u
#define CYCLES 200000
#define RESET_EVERY 4999   /* cycles between resets in the random test, about */
#define REPORTS 5          /* mismatches printed per test; the rest are counted */

static const int DEPTH[N] = SIM_DL_DEPTHS;
static int reports_left;   /* set by each test: how many more mismatches to print */

/* ---- the reference: the last HIST stepped entries, newest first ---- */

struct entry {
    int valid;
    uint32_t tag, data;
};

struct ref {
    struct entry hist[HIST];   /* hist[j]: the entry taken j + 1 steps ago */
    int extra[N];              /* added to line i's depth: only the self-test sets it */
};

static void ref_reset(struct ref *q)
{
    memset(q->hist, 0, sizeof q->hist);   /* valid low everywhere */
}

/* What line i shows in this cycle, with *in driven, before the edge. */
static struct entry ref_out(const struct ref *q, int i, const struct sim_dl_in *in)
{
    int d = DEPTH[i] + q->extra[i];
    if (d == 0)
        return (struct entry){in->valid != 0, in->tag & TAG_MASK, in->data};
    return q->hist[d - 1];
}

static void ref_edge(struct ref *q, const struct sim_dl_in *in)
{
    if (!in->step)
        return;
    memmove(q->hist + 1, q->hist, sizeof q->hist[0] * (HIST - 1));
    q->hist[0] = (struct entry){in->valid != 0, in->tag & TAG_MASK, in->data};
}

/* The number of lines whose outputs differ from the reference: valid always, tag and
 * data where valid is high (they carry no meaning under valid low). Prints the first
 * line that differs, while the test's report budget lasts. */
static int compare_out(const char *what, int64_t cycle, const struct sim_dl_out *got,
                       const struct entry *want)
{
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int differ = got->valid[i] != want[i].valid ||
                     (want[i].valid && (got->tag[i] != want[i].tag ||
                                        got->data[i] != want[i].data));
        if (differ && bad++ == 0 && reports_left-- > 0)
            print_error("%s, cycle %lld, line %d (depth %d): rtl valid %d tag 0x%02x data "
                        "0x%08x, reference valid %d tag 0x%02x data 0x%08x\n", what,
                        (long long)cycle, i, DEPTH[i], got->valid[i], got->tag[i],
                        got->data[i], want[i].valid, want[i].tag, want[i].data);
    }
    return bad;
}

/* One cycle on both; returns the number of lines that differ. */
static int step_both(const char *what, struct sim_dl *s, struct ref *q,
                     const struct sim_dl_in *in, int64_t cycle, int64_t *valid_seen)
{
    struct sim_dl_out out;
    struct entry want[N];
    for (int i = 0; i < N; i++)
        want[i] = ref_out(q, i, in);
    sim_dl_cycle(s, in, &out);
    ref_edge(q, in);
    for (int i = 0; valid_seen && i < N; i++)
        valid_seen[i] += want[i].valid;
    return compare_out(what, cycle, &out, want);
}

/* Reset on both, with *in driven during it (its step must be ignored). */
static int reset_both(struct sim_dl *s, struct ref *q, const struct sim_dl_in *in,
                      int64_t cycle)
{
    struct sim_dl_out out;
    struct entry want[N];
    ref_reset(q);
    for (int i = 0; i < N; i++)   /* asynchronous: valid_o is low at once, depth 0 aside */
        want[i] = DEPTH[i] == 0 ? ref_out(q, i, in) : (struct entry){0, 0, 0};
    sim_dl_reset(s, in, &out);
    return compare_out("during reset", cycle, &out, want);
}

static void random_in(struct rng *r, struct sim_dl_in *in, uint32_t p_step, uint32_t p_valid)
{
    in->step = rng_below(r, 16) < p_step;
    in->valid = rng_below(r, 16) < p_valid;
    in->tag = (uint32_t)rng_next(r) & TAG_MASK;
    in->data = (uint32_t)rng_next(r);
}

/* ---- tests ---- */

static void test_random_steps_match_reference_queues(void **state)
{
    struct sim_dl *s = *state;
    struct rng r;
    struct ref q;
    struct sim_dl_in in;
    int64_t bad = 0, steps = 0, resets = 0, valid_seen[N] = {0};
    uint32_t p_step = 16, p_valid = 16;
    reports_left = REPORTS;
    memset(&q, 0, sizeof q);
    rng_seed(&r, SEED_RANDOM);
    print_message("  seed %u, %d cycles\n", SEED_RANDOM, CYCLES);
    random_in(&r, &in, 0, 0);
    bad += reset_both(s, &q, &in, 0);
    for (int64_t c = 0; c < CYCLES; c++) {
        if (c % 500 == 0) {   /* a new phase: how often to step, how often valid */
            static const uint32_t P[] = {16, 16, 12, 8, 2, 15};
            p_step = P[rng_below(&r, 6)];
            p_valid = P[rng_below(&r, 6)];
        }
        random_in(&r, &in, p_step, p_valid);
        if (rng_below(&r, RESET_EVERY) == 0 || c == CYCLES / 2) {
            bad += reset_both(s, &q, &in, c);
            resets++;
            continue;
        }
        bad += step_both("random", s, &q, &in, c, valid_seen);
        steps += in.step;
    }
    print_message("  %lld steps, %lld resets (one in the middle); valid outputs checked per "
                  "line:", (long long)steps, (long long)resets);
    for (int i = 0; i < N; i++)
        print_message(" %d:%lld", DEPTH[i], (long long)valid_seen[i]);
    print_message("\n  %lld mismatching line-cycles\n", (long long)bad);
    assert_true(steps >= 10000);
    assert_true(resets >= 2);
    for (int i = 0; i < N; i++)
        assert_true(valid_seen[i] > 1000);
    assert_int_equal(bad, 0);
}

/* After reset every line with depth D shows valid_o low until D steps have been taken,
 * however many cycles pass without a step; then the first entry, in order. */
static void test_fill_after_reset(void **state)
{
    struct sim_dl *s = *state;
    struct sim_dl_out out;
    struct sim_dl_in in = {0, 1, 0, 0};
    sim_dl_reset(s, NULL, NULL);
    for (int k = 0; k < 20; k++) {   /* entry k has data 100 + k, tag k */
        for (int idle = 0; idle < 3; idle++) {   /* no step: nothing moves */
            in.step = 0;
            in.tag = 0xee;
            in.data = 0xdeadbeef;
            sim_dl_cycle(s, &in, &out);
            for (int i = 0; i < N; i++) {
                if (DEPTH[i] == 0)
                    continue;
                int want_valid = k >= DEPTH[i];
                assert_int_equal(out.valid[i], want_valid);
                if (want_valid) {
                    assert_int_equal(out.data[i], 100 + k - DEPTH[i]);
                    assert_int_equal(out.tag[i], (uint32_t)(k - DEPTH[i]));
                }
            }
        }
        in.step = 1;
        in.tag = (uint32_t)k;
        in.data = 100u + (uint32_t)k;
        sim_dl_cycle(s, &in, &out);
        assert_int_equal(out.valid[0], 1);   /* depth 0 passes the input through */
        assert_int_equal(out.data[0], 100 + k);
    }
}

/* The checker itself: a reference one step too deep for one line, or one output bit
 * altered, must be reported; tag and data under valid low are not compared. */
static void test_checker_catches_a_wrong_reference(void **state)
{
    struct sim_dl *s = *state;
    struct rng r;
    struct ref q;
    struct sim_dl_in in;
    struct sim_dl_out out;
    struct entry want[N];
    int64_t bad = 0;
    reports_left = REPORTS;
    memset(&q, 0, sizeof q);
    rng_seed(&r, SEED_SELF);
    print_message("  seed %u; wrong references, each of which the checker must report:\n",
                  SEED_SELF);
    random_in(&r, &in, 0, 0);
    assert_int_equal(reset_both(s, &q, &in, 0), 0);
    q.extra[6] = 1;   /* line 6 (depth 8) modelled as depth 9 */
    for (int c = 0; c < 200; c++) {
        random_in(&r, &in, 16, 16);
        bad += step_both("self-test, depth 9 for 8 (expected to differ)", s, &q, &in, c, NULL);
    }
    print_message("  a reference one step too deep: %lld mismatching cycles\n", (long long)bad);
    assert_true(bad >= 200 - 9);   /* every cycle once line 6 is full */
    q.extra[6] = 0;
    reports_left = REPORTS;

    /* one bit of one output off, against an otherwise exact reference */
    random_in(&r, &in, 16, 16);
    for (int i = 0; i < N; i++)
        want[i] = ref_out(&q, i, &in);
    sim_dl_cycle(s, &in, &out);
    ref_edge(&q, &in);
    assert_int_equal(compare_out("self-test (expected to match)", 0, &out, want), 0);
    assert_int_equal(want[3].valid, 1);   /* all lines full and valid after 200 steps */
    want[3].data ^= 1u;
    assert_int_equal(compare_out("self-test (expected to differ)", 0, &out, want), 1);
    want[3].data ^= 1u;
    want[7].valid = 0;
    assert_int_equal(compare_out("self-test (expected to differ)", 0, &out, want), 1);
    want[7].valid = 1;
    want[7].tag ^= 0x80u;
    assert_int_equal(compare_out("self-test (expected to differ)", 0, &out, want), 1);
    /* under valid low, tag and data carry no meaning */
    out.valid[2] = 0;
    want[2].valid = 0;
    want[2].data ^= 0xffu;
    want[7].tag ^= 0x80u;
    assert_int_equal(compare_out("self-test (expected to match)", 0, &out, want), 0);
}

static int setup(void **state)
{
    *state = sim_dl_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_dl_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_steps_match_reference_queues),
        cmocka_unit_test(test_fill_after_reset),
        cmocka_unit_test(test_checker_catches_a_wrong_reference),
    };
    return cmocka_run_group_tests_name("rtl delay_line_bank", tests, setup, teardown);
}
