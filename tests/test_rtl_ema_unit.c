/* test_rtl_ema_unit.c - rtl/ema_unit.sv against model/fixed.c: fixed_rebuild (the read
 * path) and fixed_ema_step (the write path).
 *
 * Method: a scoreboard streams words into both paths at once, one per cycle with random
 * bubbles, each word with its own random formats (and, in one test, its own rounding
 * mode), and matches every output valid with the oldest word in flight: the value and
 * the saturation flag must equal the model's, and the word must come out exactly
 * SIM_EMA_UNIT_LATENCY cycles after it went in. A word that does not come out in time
 * is a mismatch too. Values are drawn in classes: realistic (in-format words, small
 * gaps), full-range gaps, sums forced onto an exact rounding half, sums forced next to
 * the output format's bounds, gap 0, beta at its corners, and words outside their
 * format (the only way the step can saturate: m' lies between m and u). Every random
 * test counts the halves and saturations it met and asserts both happened.
 *
 * test_scoreboard_catches_a_difference corrupts one expected value of a short stream
 * and asserts exactly that word is reported (STYLE.md's injected fault).
 *
 * Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../model/fixed.h"
#include "../model/rng.h"
#include "../sim/blocks_ema_unit.h"

#define SEED 20260127u
#define VECTORS 12000   /* per path and per stream */
#define QCAP 16         /* words in flight per path: more than the latency */

enum path { REBUILD, STEP };
static const char *const path_name[] = {"rebuild", "step"};

/* One word in flight: its inputs (for the report), what the model says, when it went in. */
struct word {
    int64_t cycle, index;
    struct fixed_spec q;
    int32_t a, b;        /* rebuild: master, m; step: m, u */
    uint32_t c;          /* rebuild: gap; step: beta */
    int32_t want;
    int want_sat;
    int expect_bad;      /* the self-test's corrupted word */
};

struct board {
    struct word q[QCAP];
    int head, n;
    int64_t cycle;
    int bad;             /* mismatches reported */
    int bad_expected;    /* of them, on words marked expect_bad */
    int64_t words, halves, sats;
};

static void board_push(struct board *b, const struct word *w)
{
    assert_true(b->n < QCAP);
    b->q[(b->head + b->n) % QCAP] = *w;
    b->n++;
}

static void report(enum path p, const struct word *w, const char *why, int32_t got, int got_sat)
{
    print_error("%s word %lld (cycle %lld): %s; inputs %d %d %u, master Q(%d,%d) weight "
                "Q(%d,%d) %s: rtl %d (sat %d), model %d (sat %d)\n",
                path_name[p], (long long)w->index, (long long)w->cycle, why, w->a, w->b, w->c,
                w->q.master.bits, w->q.master.frac, w->q.weight.bits, w->q.weight.frac,
                w->q.rounding == FIXED_NEAREST_EVEN ? "nearest_even" : "truncate", got, got_sat,
                w->want, w->want_sat);
}

/* One path's outputs of the current cycle against the oldest word in flight. */
static void board_check(struct board *b, enum path p, int valid, int32_t got, int got_sat)
{
    if (valid) {
        if (b->n == 0) {
            struct word none = {.cycle = b->cycle, .index = -1};
            report(p, &none, "a valid with no word in flight", got, got_sat);
            b->bad++;
            return;
        }
        struct word *w = &b->q[b->head];
        const char *why = NULL;
        if (b->cycle - w->cycle != SIM_EMA_UNIT_LATENCY)
            why = "wrong latency";
        else if (got != w->want || got_sat != w->want_sat)
            why = "value differs";
        if (why) {
            report(p, w, why, got, got_sat);
            b->bad++;
            b->bad_expected += w->expect_bad;
        }
        b->head = (b->head + 1) % QCAP;
        b->n--;
    } else if (b->n > 0 && b->cycle - b->q[b->head].cycle >= SIM_EMA_UNIT_LATENCY) {
        report(p, &b->q[b->head], "no valid when due", 0, 0);
        b->bad++;
        b->head = (b->head + 1) % QCAP;
        b->n--;
    }
}

/* ---- random inputs ---- */

static int32_t fmt_hi(struct fixed_fmt f)
{
    return (int32_t)(((int64_t)1 << (f.bits - 1)) - 1);
}

/* A random word of format f (uniform over its range). */
static int32_t in_format(struct rng *r, struct fixed_fmt f)
{
    int64_t span = (int64_t)1 << f.bits;
    return (int32_t)((int64_t)(rng_next(r) % (uint64_t)span) - span / 2);
}

/* A random word of format f shifted right by 0..max_shift-1 bits (smaller magnitudes).
 * Every draw is its own statement: the order of the calls, and so the vectors a seed
 * gives, must not depend on the compiler. */
static int32_t shrunk(struct rng *r, struct fixed_fmt f, uint32_t max_shift)
{
    int32_t x = in_format(r, f);
    return x >> rng_below(r, max_shift);
}

/* A random int32 with a random magnitude (any format). */
static int32_t any_word(struct rng *r)
{
    int mag = 1 + (int)rng_below(r, 32);
    return (int32_t)((int64_t)(rng_next(r) >> (64 - mag)) - ((int64_t)1 << (mag - 1)));
}

/* Master and weight formats as model/fixed.c: fixed_check allows them; the defaults
 * (Q(32,28), Q(16,14)) one time in four. */
static void random_spec(struct rng *r, struct fixed_spec *q, enum fixed_rounding mode)
{
    memset(q, 0, sizeof *q);
    q->rounding = mode;
    if (rng_below(r, 4) == 0) {
        q->master = (struct fixed_fmt){32, 28};
        q->weight = (struct fixed_fmt){16, 14};
        return;
    }
    q->master.bits = 2 + (int)rng_below(r, 31);
    q->master.frac = (int)rng_below(r, (uint32_t)q->master.bits);
    q->weight.bits = 2 + (int)rng_below(r, 31);
    int top = q->master.frac < q->weight.bits - 1 ? q->master.frac : q->weight.bits - 1;
    q->weight.frac = (int)rng_below(r, (uint32_t)top + 1);
}

/* master + gap*m lands on the exact sum t (when master fits an int32). */
static int aim(int32_t *master, int64_t t, uint32_t gap, int32_t m)
{
    int64_t x = t - (int64_t)gap * m;
    if (x < INT32_MIN || x > INT32_MAX)
        return 0;
    *master = (int32_t)x;
    return 1;
}

static void random_rebuild(struct rng *r, struct word *w)
{
    struct fixed_fmt mf = w->q.master, wf = w->q.weight;
    int s = mf.frac - wf.frac;
    int32_t master = in_format(r, mf), m = shrunk(r, mf, 16);
    uint32_t gap = rng_below(r, 17);
    switch (rng_below(r, 6)) {
    case 0:   /* realistic: in-format words, gap up to 16 */
        break;
    case 1:   /* any gap: the sum often saturates the weight format */
        gap = rng_below(r, 65536);
        m = in_format(r, mf);
        break;
    case 2:   /* the sum on an exact half (+-) of the weight's step */
        if (s > 0) {
            int64_t t = (int64_t)in_format(r, mf);
            t = (t & ~(((int64_t)1 << s) - 1)) | ((int64_t)1 << (s - 1));
            if (!aim(&master, t, gap, m))
                gap = 0, master = (int32_t)t;
        }
        break;
    case 3: { /* the sum next to a bound of the weight format, any low bits */
        int64_t hi = fmt_hi(wf), edge = rng_below(r, 2) ? hi : -hi - 1;
        int64_t t = (edge + (int64_t)rng_below(r, 3) - 1) * ((int64_t)1 << s);
        if (s > 0)
            t += (int64_t)(rng_next(r) & (((uint64_t)1 << s) - 1));
        if (!aim(&master, t, gap, m)) {
            gap = 0;
            if (!aim(&master, t, gap, m))
                master = in_format(r, mf);
        }
        break;
    }
    case 4:   /* gap 0: narrow(master) */
        gap = 0;
        break;
    default:  /* words outside their format */
        master = any_word(r);
        m = any_word(r);
        gap = rng_below(r, 65536);
        gap >>= rng_below(r, 17);
        break;
    }
    w->a = master;
    w->b = m;
    w->c = gap;
    int64_t sat = 0;
    fixed_rebuild(&w->want, &master, &m, gap, 1, &w->q, &sat);
    w->want_sat = sat > 0;
}

static int rebuild_is_half(const struct word *w)
{
    int s = w->q.master.frac - w->q.weight.frac;
    int64_t x = (int64_t)w->a + (int64_t)w->c * w->b;
    return s > 0 && (x & (((int64_t)1 << s) - 1)) == (int64_t)1 << (s - 1);
}

static void random_step(struct rng *r, struct word *w)
{
    static const uint32_t corner[] = {0, 1, 2, 16384, 32767, 32768, 32769, 49152, 65534, 65535};
    struct fixed_fmt mf = w->q.master;
    int32_t m = in_format(r, mf), u = shrunk(r, mf, 20);
    uint32_t beta = rng_below(r, 65536);
    switch (rng_below(r, 4)) {
    case 0:   /* realistic */
        break;
    case 1:   /* beta at its corners (and the multiples of 2^14 that make halves) */
        beta = corner[rng_below(r, sizeof corner / sizeof corner[0])];
        break;
    case 2: { /* an exact half: beta odd and m - u = 2^15 (mod 2^16) */
        beta |= 1;
        int64_t mm = (int64_t)u + 32768 + 65536 * ((int64_t)rng_below(r, 9) - 4);
        if (mm >= INT32_MIN && mm <= INT32_MAX)
            m = (int32_t)mm;
        break;
    }
    default:  /* words outside the master format: m' saturates */
        m = any_word(r);
        u = any_word(r);
        break;
    }
    w->a = m;
    w->b = u;
    w->c = beta;
    int64_t sat = 0;
    w->want = fixed_ema_step(m, u, beta, &w->q, &sat);
    w->want_sat = sat > 0;
}

static int step_is_half(const struct word *w)
{
    int64_t x = (int64_t)w->c * w->a + (65536 - (int64_t)w->c) * w->b;
    return (x & 0xffff) == 0x8000;
}

/* ---- streams ---- */

/* Run n words per path through the RTL (mode: a rounding mode, or -1 for a random one
 * per word), with about one bubble in eight on each path; corrupt, if corrupt >= 0,
 * the expected value of that rebuild word. Returns the mismatches. */
static int stream(struct sim_ema_unit *s, uint64_t seed, int n, int mode, int corrupt,
                  struct board *b)
{
    struct rng r;
    struct board *rb = &b[REBUILD], *st = &b[STEP];
    int64_t sent[2] = {0, 0};
    rng_seed(&r, seed);
    memset(b, 0, 2 * sizeof *b);
    sim_ema_unit_reset(s);
    for (int64_t cycle = 0; rb->n || st->n || sent[0] < n || sent[1] < n; cycle++) {
        struct sim_ema_unit_in in;
        struct sim_ema_unit_out out;
        struct word w[2];
        memset(&in, 0, sizeof in);
        memset(w, 0, sizeof w);
        /* One format per cycle, shared by the paths (as the ports are). */
        enum fixed_rounding md = mode >= 0 ? (enum fixed_rounding)mode
                                           : (enum fixed_rounding)rng_below(&r, 2);
        random_spec(&r, &w[0].q, md);
        w[1].q = w[0].q;
        in.round_even = md == FIXED_NEAREST_EVEN;
        in.master_bits = w[0].q.master.bits;
        in.master_frac = w[0].q.master.frac;
        in.weight_bits = w[0].q.weight.bits;
        in.weight_frac = w[0].q.weight.frac;
        for (int p = REBUILD; p <= STEP; p++) {
            if (sent[p] >= n || rng_below(&r, 8) == 0)
                continue;
            w[p].cycle = cycle;
            w[p].index = sent[p]++;
            if (p == REBUILD) {
                random_rebuild(&r, &w[p]);
                rb->halves += rebuild_is_half(&w[p]);
                if (w[p].index == corrupt) {
                    w[p].want ^= 1;
                    w[p].expect_bad = 1;
                }
                in.rb_valid = 1, in.rb_master = w[p].a, in.rb_m = w[p].b, in.rb_gap = w[p].c;
            } else {
                random_step(&r, &w[p]);
                st->halves += step_is_half(&w[p]);
                in.st_valid = 1, in.st_m = w[p].a, in.st_u = w[p].b, in.st_beta = w[p].c;
            }
            b[p].words++;
            b[p].sats += w[p].want_sat;
            board_push(&b[p], &w[p]);
        }
        sim_ema_unit_cycle(s, &in, &out);
        rb->cycle = st->cycle = cycle;
        board_check(rb, REBUILD, out.rb_valid, out.rb_w, out.rb_sat);
        board_check(st, STEP, out.st_valid, out.st_m, out.st_sat);
    }
    return rb->bad + st->bad;
}

static void run_random(void **state, uint64_t seed, int mode, const char *what)
{
    struct board b[2];
    int bad = stream(*state, seed, VECTORS, mode, -1, b);
    for (int p = REBUILD; p <= STEP; p++)
        print_message("  %s, seed %llu, %s: %lld words, %lld halves, %lld saturated, %d "
                      "mismatches\n", what, (unsigned long long)seed, path_name[p],
                      (long long)b[p].words, (long long)b[p].halves, (long long)b[p].sats,
                      b[p].bad);
    assert_int_equal(bad, 0);
    for (int p = REBUILD; p <= STEP; p++) {
        assert_true(b[p].words >= VECTORS);
        assert_true(b[p].halves > 0);
        assert_true(b[p].sats > 0);
    }
}

static void test_random_nearest_even(void **state)
{
    run_random(state, SEED, FIXED_NEAREST_EVEN, "nearest_even");
}

static void test_random_truncate(void **state)
{
    run_random(state, SEED + 1, FIXED_TRUNCATE, "truncate");
}

/* The rounding mode too changes from word to word. */
static void test_random_mixed_modes(void **state)
{
    run_random(state, SEED + 2, -1, "mixed modes");
}

/* Hand-picked words, one at a time, in both modes: 2.5 and -2.5 steps, gap 0 and 65535,
 * beta 0 and 65535, the bounds. */
static void test_corners(void **state)
{
    struct sim_ema_unit *s = *state;
    struct { int32_t master, m; uint32_t gap; } rbv[] = {
        {5 << 13, 0, 0}, {-(5 << 13), 0, 0}, {7 << 13, 0, 0}, {-(7 << 13), 0, 0},
        {0, 1 << 13, 5}, {0, -(1 << 13), 5}, {INT32_MAX, INT32_MAX, 65535},
        {INT32_MIN, INT32_MIN, 65535}, {INT32_MIN, INT32_MAX, 65535}, {1, -1, 1},
        {(1 << 29), 0, 0}, {(1 << 29) - (1 << 13), 0, 0}, {-(1 << 29) - 1, 0, 0}};
    struct { int32_t m, u; uint32_t beta; } stv[] = {
        {3, 0, 32768}, {5, 0, 32768}, {-3, 0, 32768}, {INT32_MAX, INT32_MIN, 65535},
        {INT32_MIN, INT32_MAX, 0}, {INT32_MIN, INT32_MAX, 65535}, {1 << 27, -(1 << 27), 1},
        {INT32_MAX, INT32_MAX, 12345}, {-1, 1, 32768}};
    int bad = 0, n = 0;
    for (int even = 0; even <= 1; even++) {
        struct fixed_spec q = {.master = {32, 28}, .weight = {16, 14},
                               .rounding = even ? FIXED_NEAREST_EVEN : FIXED_TRUNCATE};
        struct board b[2];
        for (size_t i = 0; i < sizeof rbv / sizeof rbv[0] + sizeof stv / sizeof stv[0]; i++) {
            struct sim_ema_unit_in in = {even, 32, 28, 16, 14, 0, 0, 0, 0, 0, 0, 0, 0};
            struct sim_ema_unit_out out;
            struct word w = {.q = q, .index = (int64_t)i};
            int64_t sat = 0;
            enum path p = i < sizeof rbv / sizeof rbv[0] ? REBUILD : STEP;
            memset(b, 0, sizeof b);
            sim_ema_unit_reset(s);
            if (p == REBUILD) {
                w.a = rbv[i].master, w.b = rbv[i].m, w.c = rbv[i].gap;
                fixed_rebuild(&w.want, &w.a, &w.b, w.c, 1, &q, &sat);
                in.rb_valid = 1, in.rb_master = w.a, in.rb_m = w.b, in.rb_gap = w.c;
            } else {
                size_t k = i - sizeof rbv / sizeof rbv[0];
                w.a = stv[k].m, w.b = stv[k].u, w.c = stv[k].beta;
                w.want = fixed_ema_step(w.a, w.b, w.c, &q, &sat);
                in.st_valid = 1, in.st_m = w.a, in.st_u = w.b, in.st_beta = w.c;
            }
            w.want_sat = sat > 0;
            board_push(&b[p], &w);
            for (int64_t c = 0; c <= SIM_EMA_UNIT_LATENCY + 1; c++) {
                sim_ema_unit_cycle(s, &in, &out);
                in.rb_valid = in.st_valid = 0;
                b[0].cycle = b[1].cycle = c;
                board_check(&b[REBUILD], REBUILD, out.rb_valid, out.rb_w, out.rb_sat);
                board_check(&b[STEP], STEP, out.st_valid, out.st_m, out.st_sat);
            }
            bad += b[0].bad + b[1].bad + b[0].n + b[1].n;
            n++;
        }
    }
    print_message("  %d corner words, %d mismatches\n", n, bad);
    assert_int_equal(bad, 0);
}

/* After reset nothing comes out, whatever the data inputs hold. */
static void test_reset_clears_valid(void **state)
{
    struct sim_ema_unit *s = *state;
    struct sim_ema_unit_in in = {1, 32, 28, 16, 14, 1, 123, 456, 7, 1, 1, 2, 3};
    struct sim_ema_unit_out out;
    sim_ema_unit_cycle(s, &in, &out);   /* a word on each path... */
    sim_ema_unit_reset(s);              /* ...dropped by the reset */
    in.rb_valid = in.st_valid = 0;
    for (int c = 0; c < 2 * SIM_EMA_UNIT_LATENCY; c++) {
        sim_ema_unit_cycle(s, &in, &out);
        assert_int_equal(out.rb_valid, 0);
        assert_int_equal(out.st_valid, 0);
    }
}

/* The checker itself: one rebuild word's expected value off by one bit must be
 * reported, and only that one. */
static void test_scoreboard_catches_a_difference(void **state)
{
    struct board b[2];
    print_message("  one mismatch injected on purpose; it must be reported below:\n");
    int bad = stream(*state, SEED + 3, 200, FIXED_NEAREST_EVEN, 77, b);
    assert_int_equal(bad, 1);
    assert_int_equal(b[REBUILD].bad_expected, 1);
}

static int setup(void **state)
{
    *state = sim_ema_unit_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_ema_unit_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corners),
        cmocka_unit_test(test_random_nearest_even),
        cmocka_unit_test(test_random_truncate),
        cmocka_unit_test(test_random_mixed_modes),
        cmocka_unit_test(test_reset_clears_valid),
        cmocka_unit_test(test_scoreboard_catches_a_difference),
    };
    return cmocka_run_group_tests_name("rtl ema_unit", tests, setup, teardown);
}
