/* test_rtl_sgd_update.c - rtl/sgd_update.sv against model/fixed.c: fixed_update called on
 * one-element arrays.
 *
 * Method: a scoreboard streams parameters into the RTL, one per cycle with random bubbles,
 * each with its own random formats (legal as fixed_check has them: bits 2..32,
 * frac < bits, master.frac >= weight.frac), its own constants and ema on or off, and
 * matches every output valid with the oldest word in flight: master, w, vel, m (when ema
 * is on; 0 when off) and the word's saturation count must equal what fixed_update wrote
 * and added to its counter, exactly SIM_SGD_UPDATE_LATENCY cycles after the word went in.
 * Constants are drawn in classes: lr as the trainer makes it (lr / batch), up to the
 * config's largest (100), any 64-bit value (lr*v then needs up to 96 bits), and with few
 * significant bits (so u's rounding meets exact halves); weight decay 0 or up to 2^32
 * (weight_decay < 1); momentum 0, 0.9 or any. Words are mostly in their formats, some
 * outside (the model does not check them, the RTL must agree anyway). The random tests
 * count what they met (saturating words, exact halves of u, lr*v beyond 64 bits, each
 * constant's zero and non-zero cases) and assert each happened.
 *
 * One corner is not handed to the model as is: with weight decay on, master.frac 31 and
 * grad.frac 0 under nearest_even, fixed_update's wd*master narrowing is fixed_shift(x, 63),
 * whose (int64_t)1 << 63 is undefined behaviour (UBSan stops the sanitizer build there).
 * There the shifted term is -1, 0 or 1; the test computes it in __int128 and asks
 * fixed_update for the same word with weight decay 0 and the term added to g, which is
 * the same arithmetic. The count of such words is printed.
 *
 * test_scoreboard_catches_a_difference corrupts one expected weight and asserts exactly
 * that word is reported (STYLE.md's injected fault). Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "../model/fixed.h"
#include "../model/rng.h"
#include "../sim/blocks_sgd_update.h"

__extension__ typedef __int128 i128;

#define SEED 20260327u
#define VECTORS 12000   /* per stream */
#define QCAP 16         /* words in flight: more than the latency */

/* One parameter in flight: its inputs and what fixed_update made of them. */
struct word {
    int64_t cycle, index;
    struct sim_sgd_update_in in;
    struct fixed_spec q;
    int32_t master, w, vel, m;
    int sat;
    int expect_bad;
};

struct board {
    struct word q[QCAP];
    int head, n;
    int64_t cycle;
    int bad, bad_expected;
    int64_t words, sat_words, moved, halves, wide_products, via_wd0;
    int64_t mu0, mu1, wd0, wd1, ema0, ema1, even0, even1;
};

static void report(const struct word *w, const char *why, const struct sim_sgd_update_out *o)
{
    const struct sim_sgd_update_in *in = &w->in;
    print_error("word %lld (cycle %lld): %s\n"
                "  in: grad %d vel %d master %d m %d lr %llu wd %llu mu %u beta %u ema %d %s "
                "weight Q(%d,%d) master Q(%d,%d) grad Q(%d,%d)\n"
                "  rtl:   master %d w %d vel %d m %d sat %d\n"
                "  model: master %d w %d vel %d m %d sat %d\n",
                (long long)w->index, (long long)w->cycle, why, in->grad, in->vel, in->master,
                in->m, (unsigned long long)in->lr, (unsigned long long)in->wd, in->mu, in->beta,
                in->ema_en, in->round_even ? "nearest_even" : "truncate", in->weight_bits,
                in->weight_frac, in->master_bits, in->master_frac, in->grad_bits,
                in->grad_frac, o->master, o->w, o->vel, o->m, o->sat_cnt, w->master, w->w,
                w->vel, w->m, w->sat);
}

static void board_push(struct board *b, const struct word *w)
{
    assert_true(b->n < QCAP);
    b->q[(b->head + b->n) % QCAP] = *w;
    b->n++;
}

static void board_check(struct board *b, const struct sim_sgd_update_out *o)
{
    if (o->valid) {
        if (b->n == 0) {
            struct word none = {.cycle = b->cycle, .index = -1};
            report(&none, "a valid with no word in flight", o);
            b->bad++;
            return;
        }
        struct word *w = &b->q[b->head];
        const char *why = NULL;
        if (b->cycle - w->cycle != SIM_SGD_UPDATE_LATENCY)
            why = "wrong latency";
        else if (o->master != w->master || o->w != w->w || o->vel != w->vel ||
                 o->m != w->m || o->sat_cnt != w->sat)
            why = "result differs";
        if (why) {
            report(w, why, o);
            b->bad++;
            b->bad_expected += w->expect_bad;
        }
        b->head = (b->head + 1) % QCAP;
        b->n--;
    } else if (b->n > 0 && b->cycle - b->q[b->head].cycle >= SIM_SGD_UPDATE_LATENCY) {
        report(&b->q[b->head], "no valid when due", o);
        b->bad++;
        b->head = (b->head + 1) % QCAP;
        b->n--;
    }
}

/* ---- the model ---- */

/* x / 2^s with the rounding mode, exact (floor division and remainder). */
static i128 shift128(i128 x, int s, enum fixed_rounding r)
{
    i128 d = (i128)1 << s, q = x / d, rem = x % d;
    if (rem < 0)
        q--, rem += d;
    if (r == FIXED_NEAREST_EVEN && (2 * rem > d || (2 * rem == d && (q & 1))))
        q++;
    return q;
}

/* What fixed_update makes of w->in; 1 when the word went through the weight-decay
 * corner of the file comment (0 when it could not: g + term is not an int32). */
static int model(struct word *w)
{
    struct sim_sgd_update_in *in = &w->in;
    struct fixed_spec *q = &w->q;
    memset(q, 0, sizeof *q);
    q->weight = (struct fixed_fmt){in->weight_bits, in->weight_frac};
    q->master = (struct fixed_fmt){in->master_bits, in->master_frac};
    q->grad = (struct fixed_fmt){in->grad_bits, in->grad_frac};
    q->rounding = in->round_even ? FIXED_NEAREST_EVEN : FIXED_TRUNCATE;
    int32_t grad = in->grad;
    uint64_t wd = in->wd;
    int via_wd0 = 0;
    int s = FIXED_LR_FRAC + q->master.frac - q->grad.frac;
    if (wd && s == 63 && q->rounding == FIXED_NEAREST_EVEN) {
        i128 g = (i128)grad + shift128((i128)wd * in->master, s, q->rounding);
        if (g < INT32_MIN || g > INT32_MAX)
            return -1;
        grad = (int32_t)g;
        wd = 0;
        via_wd0 = 1;
    }
    int64_t sat = 0;
    w->master = in->master;
    w->vel = in->vel;
    w->m = in->m;
    w->w = 0;
    fixed_update(&w->master, &w->w, &w->vel, in->ema_en ? &w->m : NULL, &grad, 1, in->lr, wd,
                 in->mu, in->beta, q, &sat);
    if (!in->ema_en)
        w->m = 0;   /* the RTL's m_o without an ema buffer */
    w->sat = (int)sat;
    return via_wd0;
}

/* ---- random parameters ---- */

static int32_t in_format(struct rng *r, struct fixed_fmt f)
{
    int64_t span = (int64_t)1 << f.bits;
    return (int32_t)((int64_t)(rng_next(r) % (uint64_t)span) - span / 2);
}

/* A random word of format f shifted right by 0..f.bits-1 bits (smaller magnitudes).
 * Every draw is its own statement: the order of the calls, and so the vectors a seed
 * gives, must not depend on the compiler. */
static int32_t shrunk(struct rng *r, struct fixed_fmt f)
{
    int32_t x = in_format(r, f);
    return x >> rng_below(r, (uint32_t)f.bits);
}

static int32_t any_word(struct rng *r)
{
    int mag = 1 + (int)rng_below(r, 32);
    return (int32_t)((int64_t)(rng_next(r) >> (64 - mag)) - ((int64_t)1 << (mag - 1)));
}

/* Formats as fixed_check allows them; the defaults one time in four. */
static void random_formats(struct rng *r, struct sim_sgd_update_in *in)
{
    if (rng_below(r, 4) == 0) {
        in->weight_bits = 16, in->weight_frac = 14;
        in->master_bits = 32, in->master_frac = 28;
        in->grad_bits = 32, in->grad_frac = 20;
        return;
    }
    in->master_bits = 2 + (int)rng_below(r, 31);
    in->master_frac = (int)rng_below(r, (uint32_t)in->master_bits);
    in->weight_bits = 2 + (int)rng_below(r, 31);
    int top = in->master_frac < in->weight_bits - 1 ? in->master_frac : in->weight_bits - 1;
    in->weight_frac = (int)rng_below(r, (uint32_t)top + 1);
    in->grad_bits = 2 + (int)rng_below(r, 31);
    in->grad_frac = (int)rng_below(r, (uint32_t)in->grad_bits);
}

static uint64_t random_lr(struct rng *r)
{
    uint32_t kind = rng_below(r, 4);
    uint64_t x;
    switch (kind) {
    case 0: {   /* as the trainer makes it: lr in [1e-4, 1], divided by a batch of 1..256 */
        double lr = pow(10.0, -4.0 + 4.0 * rng_uniform(r));
        return fixed_const(lr / (1 + rng_below(r, 256)), FIXED_LR_FRAC);
    }
    case 1:     /* up to the config's largest, 100 */
        return rng_next(r) % ((uint64_t)100 << FIXED_LR_FRAC);
    case 2:     /* any 64-bit value, of any magnitude */
        x = rng_next(r);
        return x >> rng_below(r, 64);
    default:    /* few significant bits: u's rounding meets exact halves */
        x = 1 + rng_below(r, 7);
        return x << rng_below(r, 40);
    }
}

static void random_word(struct rng *r, struct sim_sgd_update_in *in, int mode)
{
    memset(in, 0, sizeof *in);
    in->valid = 1;
    random_formats(r, in);
    in->round_even = mode >= 0 ? mode == FIXED_NEAREST_EVEN : (int)rng_below(r, 2);
    in->lr = random_lr(r);
    switch (rng_below(r, 4)) {
    case 0:
    case 1:
        in->wd = 0;
        break;
    case 2:     /* as a config's weight_decay in [1e-5, 1e-1] */
        in->wd = fixed_const(pow(10.0, -5.0 + 4.0 * rng_uniform(r)), FIXED_LR_FRAC);
        break;
    default:    /* anything fixed_const(weight_decay < 1) can give, 2^32 included */
        in->wd = rng_below(r, 8) == 0 ? (uint64_t)1 << 32
                                      : rng_next(r) % (((uint64_t)1 << 32) + 1);
        break;
    }
    uint32_t c = rng_below(r, 3);
    in->mu = c == 0 ? 0 : c == 1 ? (uint32_t)fixed_const(0.9, FIXED_COEF_FRAC)
                                 : rng_below(r, 65536);
    if (rng_below(r, 2)) {
        in->beta = rng_below(r, 65536);
    } else {   /* the pipeline-aware d / (d + 1) */
        double d = 1 + rng_below(r, 16);
        in->beta = (uint32_t)fixed_const(d / (d + 1), FIXED_COEF_FRAC);
    }
    in->ema_en = (int)rng_below(r, 2);
    struct fixed_fmt mf = {in->master_bits, in->master_frac}, gf = {in->grad_bits, in->grad_frac};
    in->master = in_format(r, mf);
    in->m = shrunk(r, mf);
    in->grad = shrunk(r, gf);
    in->vel = shrunk(r, gf);
    if (rng_below(r, 10) == 0) {   /* words outside their formats */
        in->master = any_word(r);
        in->m = any_word(r);
        in->grad = any_word(r);
        in->vel = any_word(r);
    }
}

/* ---- streams ---- */

static void tally(struct board *b, const struct word *w)
{
    const struct sim_sgd_update_in *in = &w->in;
    int sh = FIXED_LR_FRAC + in->grad_frac - in->master_frac;
    i128 step = (i128)in->lr * w->vel, one = (i128)1 << sh;
    i128 rem = step % one;
    if (rem < 0)
        rem += one;
    b->words++;
    b->sat_words += w->sat > 0;
    b->moved += w->sat == 0 && w->master != in->master;   /* updated, nothing clamped */
    b->halves += rem == one / 2;
    b->wide_products += step >= ((i128)1 << 63) || step < -((i128)1 << 63);
    b->mu0 += in->mu == 0, b->mu1 += in->mu != 0;
    b->wd0 += in->wd == 0, b->wd1 += in->wd != 0;
    b->ema0 += !in->ema_en, b->ema1 += in->ema_en;
    b->even0 += !in->round_even, b->even1 += in->round_even;
}

/* Run n random parameters (mode: a rounding mode, or -1 for a random one per word), about
 * one bubble in eight; corrupt >= 0: that word's expected w is flipped. Returns the
 * mismatches. */
static int stream(struct sim_sgd_update *s, uint64_t seed, int n, int mode, int64_t corrupt,
                  struct board *b)
{
    struct rng r;
    int64_t sent = 0;
    rng_seed(&r, seed);
    memset(b, 0, sizeof *b);
    sim_sgd_update_reset(s);
    for (int64_t cycle = 0; b->n > 0 || sent < n; cycle++) {
        struct sim_sgd_update_in in;
        struct sim_sgd_update_out out;
        memset(&in, 0, sizeof in);
        if (sent < n && rng_below(&r, 8) != 0) {
            struct word w = {.cycle = cycle, .index = sent};
            int via;
            do {
                random_word(&r, &w.in, mode);
                via = model(&w);
            } while (via < 0);
            b->via_wd0 += via;
            tally(b, &w);
            if (w.index == corrupt) {
                w.w ^= 1;
                w.expect_bad = 1;
            }
            board_push(b, &w);
            in = w.in;
            sent++;
        }
        sim_sgd_update_cycle(s, &in, &out);
        b->cycle = cycle;
        board_check(b, &out);
    }
    return b->bad;
}

static void run_random(void **state, uint64_t seed, int mode, const char *what)
{
    struct board b;
    int bad = stream(*state, seed, VECTORS, mode, -1, &b);
    print_message("  %s, seed %llu: %lld words, %d mismatches; %lld saturated, %lld moved "
                  "without saturating, %lld exact halves in u, %lld lr*v beyond 64 bits; mu "
                  "0/other %lld/%lld, wd 0/other %lld/%lld, ema off/on %lld/%lld, "
                  "truncate/nearest_even %lld/%lld; %lld through the wd shift-63 corner\n",
                  what, (unsigned long long)seed, (long long)b.words, bad,
                  (long long)b.sat_words, (long long)b.moved, (long long)b.halves,
                  (long long)b.wide_products, (long long)b.mu0, (long long)b.mu1,
                  (long long)b.wd0, (long long)b.wd1, (long long)b.ema0, (long long)b.ema1,
                  (long long)b.even0, (long long)b.even1, (long long)b.via_wd0);
    assert_int_equal(bad, 0);
    assert_true(b.words >= VECTORS);
    assert_true(b.sat_words > 0);
    assert_true(b.moved > 0);
    assert_true(b.halves > 0);
    assert_true(b.wide_products > 0);
    assert_true(b.mu0 > 0 && b.mu1 > 0 && b.wd0 > 0 && b.wd1 > 0 && b.ema0 > 0 && b.ema1 > 0);
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

/* Hand-picked parameters, back to back: the largest products, every saturation of a word
 * at once, weight decay 2^32 on the most negative master, the wd shift-63 corner. */
static void test_corners(void **state)
{
    struct sim_sgd_update_in base = {
        .valid = 1, .grad = 12345, .vel = -6789, .master = 1 << 26, .m = -(1 << 20),
        .lr = fixed_const(0.05 / 32, FIXED_LR_FRAC), .wd = 0, .mu = 58982, .beta = 58254,
        .ema_en = 1, .round_even = 1, .weight_bits = 16, .weight_frac = 14,
        .master_bits = 32, .master_frac = 28, .grad_bits = 32, .grad_frac = 20};
    struct sim_sgd_update_in v[12];
    for (int i = 0; i < 12; i++)
        v[i] = base;
    v[1].lr = UINT64_MAX, v[1].vel = INT32_MIN, v[1].mu = 0, v[1].grad = INT32_MIN;
    v[2].lr = UINT64_MAX, v[2].grad = INT32_MAX, v[2].vel = INT32_MAX, v[2].mu = 65535;
    /* everything saturates: v, u, master', w, and m' (m outside the master format) */
    v[3].master_bits = 12, v[3].master_frac = 8, v[3].weight_bits = 4, v[3].weight_frac = 2;
    v[3].grad_bits = 8, v[3].grad_frac = 0, v[3].grad = 1000, v[3].master = 2000;
    v[3].m = INT32_MAX, v[3].lr = (uint64_t)1 << 40;
    v[4].wd = (uint64_t)1 << 32, v[4].master = INT32_MIN, v[4].grad_frac = 0, v[4].grad_bits = 32;
    v[5].round_even = 0, v[5].lr = 0, v[5].mu = 65535;   /* u = 0 */
    v[6].master_frac = 31, v[6].weight_frac = 15, v[6].grad_frac = 0, v[6].wd = (uint64_t)1 << 32;
    v[6].master = INT32_MIN;   /* wd*master = -2^63, shifted by 63: -1 */
    v[7] = v[6], v[7].master = (int32_t)(((int64_t)1 << 30) + 1), v[7].wd = ((uint64_t)1 << 32) - 1;
    v[8] = v[6], v[8].round_even = 0;   /* truncate: no corner, the model takes it as is */
    v[9].ema_en = 0, v[9].m = 777;
    v[10].grad_frac = 31, v[10].master_frac = 0, v[10].weight_frac = 0, v[10].lr = 3;
    v[10].vel = 1 << 30;   /* lr*v shifted by 63 */
    v[11].beta = 0, v[11].mu = 1;
    struct board b;
    struct word w[12];
    memset(&b, 0, sizeof b);
    sim_sgd_update_reset(*state);
    int max_sat = 0, via = 0;
    for (int64_t cycle = 0; cycle < 12 + SIM_SGD_UPDATE_LATENCY + 1; cycle++) {
        struct sim_sgd_update_in in;
        struct sim_sgd_update_out out;
        memset(&in, 0, sizeof in);
        if (cycle < 12) {
            memset(&w[cycle], 0, sizeof w[cycle]);
            w[cycle].cycle = w[cycle].index = cycle;
            w[cycle].in = v[cycle];
            int r = model(&w[cycle]);
            assert_true(r >= 0);
            via += r;
            max_sat = w[cycle].sat > max_sat ? w[cycle].sat : max_sat;
            board_push(&b, &w[cycle]);
            in = v[cycle];
        }
        sim_sgd_update_cycle(*state, &in, &out);
        b.cycle = cycle;
        board_check(&b, &out);
    }
    print_message("  12 corner words, %d mismatches, most saturations in a word %d, %d through "
                  "the wd shift-63 corner\n", b.bad + b.n, max_sat, via);
    assert_int_equal(b.bad + b.n, 0);
    assert_int_equal(max_sat, 5);
    assert_int_equal(via, 2);
}

/* After reset nothing comes out. */
static void test_reset_clears_valid(void **state)
{
    struct sim_sgd_update_in in = {.valid = 1, .grad = 1, .lr = 1, .weight_bits = 16,
                                   .weight_frac = 14, .master_bits = 32, .master_frac = 28,
                                   .grad_bits = 32, .grad_frac = 20};
    struct sim_sgd_update_out out;
    for (int c = 0; c < 3; c++)
        sim_sgd_update_cycle(*state, &in, &out);
    sim_sgd_update_reset(*state);
    in.valid = 0;
    for (int c = 0; c < 2 * SIM_SGD_UPDATE_LATENCY; c++) {
        sim_sgd_update_cycle(*state, &in, &out);
        assert_int_equal(out.valid, 0);
    }
}

/* The checker itself: one word's expected weight off by one bit must be reported, and
 * only that one. */
static void test_scoreboard_catches_a_difference(void **state)
{
    struct board b;
    print_message("  one mismatch injected on purpose; it must be reported below:\n");
    int bad = stream(*state, SEED + 3, 300, -1, 123, &b);
    assert_int_equal(bad, 1);
    assert_int_equal(b.bad_expected, 1);
}

static int setup(void **state)
{
    *state = sim_sgd_update_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_sgd_update_destroy(*state);
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
    return cmocka_run_group_tests_name("rtl sgd_update", tests, setup, teardown);
}
