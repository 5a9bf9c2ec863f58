/* test_fixed.c - the bit-exact fixed-point arithmetic (model/fixed.h) against
 * docs/numerics.md, "Fixed point".
 *
 * Method: the scalar functions (shift, saturate, narrow, from_double) are
 * checked on hand-computed edge cases: exact halves of both signs, one past
 * each bound, NaN and infinities, with the saturation counter watched. Every
 * kernel is then compared bit for bit (memcmp) with a reference written here
 * from the spec in the plainest form: direct loops (no im2col, no transposes),
 * exact sums in __int128, then the documented narrowing, with a rounding
 * written as floor division and remainder (not as an arithmetic shift, so it
 * does not share the code under test). Inputs are random from fixed seeds,
 * over the whole range of their formats (outputs saturate) and over a shrunk
 * range (most do not), in both rounding modes and several format sets; the
 * saturation counts must be equal too. Each comparison test prints how many
 * words it checked, how many saturated and how many exact halves the
 * reference met, and asserts that both happened, so the edge cases are
 * exercised and not just possible.
 *
 * test_bit_exact_check_catches_one_flipped_bit flips one bit of a reference
 * and shows the comparison fails (the injected fault STYLE.md asks for).
 *
 * Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../model/fixed.h"
#include "../model/layers.h"
#include "../model/net.h"
#include "../model/rng.h"

#define SEED 20251127u

__extension__ typedef __int128 i128;

/* ---- the reference arithmetic ---- */

static int64_t ref_ties;   /* exact halves the reference rounded (coverage only) */

/* x / 2^s rounded with r (x * 2^-s exactly when s <= 0): floor by division and
 * remainder, then up by one when nearest_even says so. */
static i128 ref_shift(i128 x, int s, enum fixed_rounding r)
{
    if (s <= 0)
        return x * ((i128)1 << -s);
    i128 d = (i128)1 << s, q = x / d, rem = x % d;
    if (rem < 0) {
        q -= 1;
        rem += d;
    }
    if (2 * rem == d)
        ref_ties++;
    if (r == FIXED_NEAREST_EVEN && (2 * rem > d || (2 * rem == d && q % 2 != 0)))
        q += 1;
    return q;
}

static int64_t fmt_hi(struct fixed_fmt f)
{
    return ((int64_t)1 << (f.bits - 1)) - 1;
}

static int64_t fmt_lo(struct fixed_fmt f)
{
    return -((int64_t)1 << (f.bits - 1));
}

static int32_t ref_sat(i128 x, struct fixed_fmt f, int64_t *sat)
{
    if (x > fmt_hi(f)) {
        ++*sat;
        return (int32_t)fmt_hi(f);
    }
    if (x < fmt_lo(f)) {
        ++*sat;
        return (int32_t)fmt_lo(f);
    }
    return (int32_t)x;
}

static int32_t ref_narrow(i128 x, int frac_in, struct fixed_fmt f, enum fixed_rounding r,
                          int64_t *sat)
{
    return ref_sat(ref_shift(x, frac_in - f.frac, r), f, sat);
}

/* ---- helpers ---- */

static void *xalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

static int32_t *words(int64_t n)
{
    return xalloc(sizeof(int32_t) * (size_t)n);
}

/* A random word of f: uniform over the whole range when shrink is 0 (and then
 * one in 16 is exactly a bound), else over [-2^(bits-1-shrink), 2^(bits-1-shrink)). */
static int32_t rand_word(struct rng *r, struct fixed_fmt f, int shrink)
{
    int n = f.bits - shrink < 1 ? 1 : f.bits - shrink;
    if (shrink == 0) {
        uint64_t pick = rng_next(r);
        if ((pick & 15) == 0)
            return (int32_t)(pick & 16 ? fmt_hi(f) : fmt_lo(f));
    }
    return (int32_t)((int64_t)(rng_next(r) >> (64 - n)) - ((int64_t)1 << (n - 1)));
}

static void fill(int32_t *a, int64_t n, struct fixed_fmt f, int shrink, struct rng *r)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = rand_word(r, f, shrink);
}

/* The number of words that differ (0 when memcmp finds the same bits); prints
 * the first difference. */
static int64_t diff_words(const char *what, const int32_t *got, const int32_t *want, int64_t n)
{
    if (memcmp(got, want, sizeof *got * (size_t)n) == 0)
        return 0;
    int64_t count = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i]) {
            if (first < 0)
                first = i;
            count++;
        }
    print_message("  %s: %lld of %lld words differ; first [%lld]: got %d, reference %d\n", what,
                  (long long)count, (long long)n, (long long)first, got[first], want[first]);
    return count;
}

#define EXPECT_SAME(what, got, want, n) assert_int_equal(diff_words(what, got, want, n), 0)

/* Format sets. Default: docs/numerics.md's defaults. Small: narrow words, so
 * outputs saturate and halves are common; the gradient has more fraction bits
 * than act + err, so the weight and bias gradients narrow by a left shift.
 * Mid: every narrowing a right shift of 4..7 bits. */
static struct fixed_spec spec_default(enum fixed_rounding r)
{
    return (struct fixed_spec){{16, 10}, {16, 12}, {16, 14}, {32, 28}, {32, 20}, 48, r};
}

static struct fixed_spec spec_small(enum fixed_rounding r)
{
    return (struct fixed_spec){{8, 4}, {8, 5}, {6, 4}, {16, 12}, {12, 10}, 64, r};
}

static struct fixed_spec spec_mid(enum fixed_rounding r)
{
    return (struct fixed_spec){{12, 6}, {12, 8}, {10, 7}, {24, 16}, {16, 10}, 64, r};
}

typedef struct fixed_spec (*spec_fn)(enum fixed_rounding);
static const spec_fn SPECS[] = {spec_default, spec_small, spec_mid};
static const char *const SPEC_NAMES[] = {"default", "small", "mid"};
static const enum fixed_rounding MODES[] = {FIXED_NEAREST_EVEN, FIXED_TRUNCATE};

static const char *mode_name(enum fixed_rounding r)
{
    return r == FIXED_NEAREST_EVEN ? "nearest_even" : "truncate";
}

/* What a comparison test exercised. */
struct tally {
    int64_t words, sat, ties;
};

static void tally_report(const char *what, const struct tally *t)
{
    print_message("  %s: %lld words bit-identical, %lld saturations, %lld exact halves\n", what,
                  (long long)t->words, (long long)t->sat, (long long)t->ties);
    assert_true(t->sat > 0);            /* saturation was exercised ... */
    assert_true(t->sat < t->words / 2); /* ... but did not swamp the comparison */
    assert_true(t->ties > 0);           /* rounding halves were exercised */
}

static struct conv_geom geom(int C, int H, int W, int OC, int k, int stride, int pad)
{
    struct conv_geom g = {C, H, W, OC, (H + 2 * pad - k) / stride + 1,
                          (W + 2 * pad - k) / stride + 1, k, stride, pad};
    return g;
}

/* ---- fixed_shift ---- */

struct shift_case {
    int64_t x;
    int s;
    int64_t even, trunc;
};

static void test_shift_halves_and_floors(void **state)
{
    (void)state;
    const int64_t T61 = (int64_t)1 << 61, T60 = (int64_t)1 << 60;
    static const struct shift_case cases[] = {
        /* exact halves: ties to even; truncate is floor */
        {3, 1, 2, 1},       /* 1.5 */
        {5, 1, 2, 2},       /* 2.5 */
        {7, 1, 4, 3},       /* 3.5 */
        {1, 1, 0, 0},       /* 0.5 */
        {-1, 1, 0, -1},     /* -0.5 */
        {-3, 1, -2, -2},    /* -1.5 */
        {-5, 1, -2, -3},    /* -2.5 */
        {-7, 1, -4, -4},    /* -3.5 */
        {6, 2, 2, 1},       /* 1.5 */
        {10, 2, 2, 2},      /* 2.5 */
        {-10, 2, -2, -3},   /* -2.5 */
        {-6, 2, -2, -2},    /* -1.5 */
        /* not halves: to nearest; truncate is floor */
        {9, 2, 2, 2},       /* 2.25 */
        {11, 2, 3, 2},      /* 2.75 */
        {-9, 2, -2, -3},    /* -2.25 */
        {-11, 2, -3, -3},   /* -2.75 */
        {-1, 2, 0, -1},     /* -0.25 */
        {-3, 2, -1, -1},    /* -0.75 */
        {1000001, 10, 977, 976},   /* 976.563... */
        {-1000001, 10, -977, -977},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct shift_case *c = &cases[i];
        assert_int_equal(fixed_shift(c->x, c->s, FIXED_NEAREST_EVEN), c->even);
        assert_int_equal(fixed_shift(c->x, c->s, FIXED_TRUNCATE), c->trunc);
    }
    /* Large shifts (62): the remainder and the half need the full 64 bits. */
    const struct shift_case big[] = {
        {INT64_MAX, 62, 2, 1},           /* 1.99999... */
        {3 * T61, 62, 2, 1},             /* 1.5 */
        {T61, 62, 0, 0},                 /* 0.5 */
        {T61 + 1, 62, 1, 0},             /* just over 0.5 */
        {T61 - 1, 62, 0, 0},             /* just under 0.5 */
        {-T61, 62, 0, -1},               /* -0.5 */
        {-3 * T61, 62, -2, -2},          /* -1.5 */
        {-T61 - 1, 62, -1, -1},          /* just below -0.5 */
        {5 * T60, 62, 1, 1},             /* 1.25 */
        {INT64_MIN, 62, -2, -2},         /* exactly -2 */
        {INT64_MIN + 1, 62, -2, -2},     /* -1.99999... */
        {INT64_MAX, 1, (int64_t)1 << 62, ((int64_t)1 << 62) - 1},   /* 2^62 - 0.5: even */
        {INT64_MIN + 1, 1, -((int64_t)1 << 62), -((int64_t)1 << 62)},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        assert_int_equal(fixed_shift(big[i].x, big[i].s, FIXED_NEAREST_EVEN), big[i].even);
        assert_int_equal(fixed_shift(big[i].x, big[i].s, FIXED_TRUNCATE), big[i].trunc);
    }
}

static void test_shift_zero_and_left(void **state)
{
    (void)state;
    const int64_t xs[] = {0, 1, -1, 12345, -12345, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        for (int m = 0; m < 2; m++)
            assert_int_equal(fixed_shift(xs[i], 0, MODES[m]), xs[i]);
    for (int m = 0; m < 2; m++) {   /* s < 0: exact left shifts, whatever the mode */
        assert_int_equal(fixed_shift(3, -2, MODES[m]), 12);
        assert_int_equal(fixed_shift(-5, -3, MODES[m]), -40);
        assert_int_equal(fixed_shift(-1, -1, MODES[m]), -2);
        assert_int_equal(fixed_shift(1, -62, MODES[m]), (int64_t)1 << 62);
        assert_int_equal(fixed_shift(-2, -62, MODES[m]), INT64_MIN);
        assert_int_equal(fixed_shift((int64_t)INT32_MIN, -32, MODES[m]), INT64_MIN);
    }
}

/* Random x and s in 1..62 against the division-based reference. */
static void test_shift_random_against_reference(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, SEED + 1);
    print_message("  seed %u\n", SEED + 1);
    for (int i = 0; i < 20000; i++) {
        int s = 1 + (int)rng_below(&r, 62);
        int64_t x = (int64_t)rng_next(&r);
        if (i % 3 == 0)   /* small numbers too, and planted exact halves */
            x >>= rng_below(&r, 63);
        if (i % 5 == 0)   /* clear the low s bits, set bit s - 1 (unsigned: no UB) */
            x = (int64_t)(((uint64_t)x & ~((UINT64_C(1) << s) - 1)) | (UINT64_C(1) << (s - 1)));
        for (int m = 0; m < 2; m++) {
            int64_t want = (int64_t)ref_shift(x, s, MODES[m]);
            if (fixed_shift(x, s, MODES[m]) != want)
                fail_msg("fixed_shift(%lld, %d, %s) = %lld, reference %lld", (long long)x, s,
                         mode_name(MODES[m]), (long long)fixed_shift(x, s, MODES[m]),
                         (long long)want);
        }
    }
}

/* ---- fixed_sat ---- */

static void test_sat_bounds_of_every_width(void **state)
{
    (void)state;
    for (int bits = 2; bits <= 32; bits++) {
        struct fixed_fmt f = {bits, bits / 2};
        int64_t hi = ((int64_t)1 << (bits - 1)) - 1, lo = -hi - 1, sat = 0;
        assert_int_equal(fixed_sat(hi, f, &sat), hi);
        assert_int_equal(fixed_sat(lo, f, &sat), lo);
        assert_int_equal(fixed_sat(0, f, &sat), 0);
        assert_int_equal(fixed_sat(-1, f, &sat), -1);
        assert_int_equal(sat, 0);   /* in range: never counted */
        assert_int_equal(fixed_sat(hi + 1, f, &sat), hi);
        assert_int_equal(sat, 1);   /* one clamp, one count */
        assert_int_equal(fixed_sat(lo - 1, f, &sat), lo);
        assert_int_equal(sat, 2);
        assert_int_equal(fixed_sat(INT64_MAX, f, &sat), hi);
        assert_int_equal(fixed_sat(INT64_MIN, f, &sat), lo);
        assert_int_equal(sat, 4);
        assert_int_equal(fixed_sat(hi - 1, f, &sat), hi - 1);
        assert_int_equal(fixed_sat(lo + 1, f, &sat), lo + 1);
        assert_int_equal(sat, 4);
        /* No counter: the same values, nothing written. */
        assert_int_equal(fixed_sat(hi + 1, f, NULL), hi);
        assert_int_equal(fixed_sat(lo - 1, f, NULL), lo);
        assert_int_equal(fixed_sat(hi, f, NULL), hi);
    }
}

/* ---- fixed_narrow, fixed_from_double, fixed_to_double, fixed_const ---- */

static void test_narrow_halves_and_bounds(void **state)
{
    (void)state;
    const struct fixed_fmt q84 = {8, 4};   /* [-128, 127] / 16 */
    const enum fixed_rounding E = FIXED_NEAREST_EVEN, T = FIXED_TRUNCATE;
    int64_t sat = 0;
    /* from 6 fraction bits: a shift by 2, halves at the format's resolution */
    assert_int_equal(fixed_narrow(2, 6, q84, E, &sat), 0);      /* 0.5 */
    assert_int_equal(fixed_narrow(6, 6, q84, E, &sat), 2);      /* 1.5 */
    assert_int_equal(fixed_narrow(10, 6, q84, E, &sat), 2);     /* 2.5 */
    assert_int_equal(fixed_narrow(-6, 6, q84, E, &sat), -2);    /* -1.5 */
    assert_int_equal(fixed_narrow(-10, 6, q84, E, &sat), -2);   /* -2.5 */
    assert_int_equal(fixed_narrow(-2, 6, q84, E, &sat), 0);     /* -0.5 */
    assert_int_equal(fixed_narrow(6, 6, q84, T, &sat), 1);
    assert_int_equal(fixed_narrow(-6, 6, q84, T, &sat), -2);
    assert_int_equal(fixed_narrow(-2, 6, q84, T, &sat), -1);
    assert_int_equal(fixed_narrow(-1, 6, q84, T, &sat), -1);
    assert_int_equal(sat, 0);
    /* just inside and outside the top: 127.25, 127.5, 127.75, 128 */
    assert_int_equal(fixed_narrow(509, 6, q84, E, &sat), 127);
    assert_int_equal(sat, 0);
    assert_int_equal(fixed_narrow(510, 6, q84, E, &sat), 127);   /* rounds to 128, clamped */
    assert_int_equal(sat, 1);
    assert_int_equal(fixed_narrow(510, 6, q84, T, &sat), 127);   /* floor 127: no clamp */
    assert_int_equal(fixed_narrow(511, 6, q84, T, &sat), 127);
    assert_int_equal(sat, 1);
    assert_int_equal(fixed_narrow(512, 6, q84, T, &sat), 127);
    assert_int_equal(sat, 2);
    /* the bottom: -128, -128.25, -128.5, -128.75 */
    assert_int_equal(fixed_narrow(-512, 6, q84, E, &sat), -128);
    assert_int_equal(fixed_narrow(-513, 6, q84, E, &sat), -128);
    assert_int_equal(fixed_narrow(-514, 6, q84, E, &sat), -128);   /* -128.5: even */
    assert_int_equal(sat, 2);
    assert_int_equal(fixed_narrow(-515, 6, q84, E, &sat), -128);   /* -129: clamped */
    assert_int_equal(sat, 3);
    assert_int_equal(fixed_narrow(-513, 6, q84, T, &sat), -128);   /* floor -129: clamped */
    assert_int_equal(sat, 4);
    /* fewer fraction bits in than out: a left shift, then saturation */
    assert_int_equal(fixed_narrow(31, 2, q84, E, &sat), 124);
    assert_int_equal(fixed_narrow(-32, 2, q84, T, &sat), -128);
    assert_int_equal(sat, 4);
    assert_int_equal(fixed_narrow(32, 2, q84, E, &sat), 127);
    assert_int_equal(fixed_narrow(-33, 2, q84, T, &sat), -128);
    assert_int_equal(sat, 6);
    /* the same fraction: saturation only */
    assert_int_equal(fixed_narrow(127, 4, q84, E, &sat), 127);
    assert_int_equal(fixed_narrow(128, 4, q84, E, NULL), 127);
    assert_int_equal(sat, 6);
    /* 32-bit words from a 64-bit sum */
    const struct fixed_fmt q32 = {32, 20};
    assert_int_equal(fixed_narrow(((int64_t)INT32_MAX << 2) + 1, 22, q32, E, &sat), INT32_MAX);
    assert_int_equal(fixed_narrow(((int64_t)INT32_MAX << 2) + 2, 22, q32, E, &sat), INT32_MAX);
    assert_int_equal(sat, 7);
    assert_int_equal(fixed_narrow((int64_t)INT32_MIN * 4, 22, q32, T, &sat), INT32_MIN);
    assert_int_equal(fixed_narrow((int64_t)INT32_MIN * 4 - 1, 22, q32, T, &sat), INT32_MIN);
    assert_int_equal(sat, 8);
}

static void test_from_double_halves_nan_inf(void **state)
{
    (void)state;
    const struct fixed_fmt q84 = {8, 4};
    const enum fixed_rounding E = FIXED_NEAREST_EVEN, T = FIXED_TRUNCATE;
    int64_t sat = 0;
    assert_int_equal(fixed_from_double(1.5 / 16, q84, E, &sat), 2);
    assert_int_equal(fixed_from_double(2.5 / 16, q84, E, &sat), 2);
    assert_int_equal(fixed_from_double(3.5 / 16, q84, E, &sat), 4);
    assert_int_equal(fixed_from_double(-1.5 / 16, q84, E, &sat), -2);
    assert_int_equal(fixed_from_double(-2.5 / 16, q84, E, &sat), -2);
    assert_int_equal(fixed_from_double(0.5 / 16, q84, E, &sat), 0);
    assert_int_equal(fixed_from_double(2.5001 / 16, q84, E, &sat), 3);
    assert_int_equal(fixed_from_double(1.5 / 16, q84, T, &sat), 1);
    assert_int_equal(fixed_from_double(-1.5 / 16, q84, T, &sat), -2);
    assert_int_equal(fixed_from_double(-2.5 / 16, q84, T, &sat), -3);
    assert_int_equal(fixed_from_double(-1e-300, q84, T, &sat), -1);   /* floor of a tiny negative */
    assert_int_equal(fixed_from_double(-1e-300, q84, E, &sat), 0);
    assert_int_equal(fixed_from_double(0.75, q84, T, &sat), 12);      /* exact */
    assert_int_equal(sat, 0);
    /* the top: 127 (7.9375) in; 127.5 rounds out under nearest_even only */
    assert_int_equal(fixed_from_double(127.0 / 16, q84, E, &sat), 127);
    assert_int_equal(fixed_from_double(127.4 / 16, q84, E, &sat), 127);
    assert_int_equal(fixed_from_double(127.5 / 16, q84, T, &sat), 127);
    assert_int_equal(fixed_from_double(127.99 / 16, q84, T, &sat), 127);
    assert_int_equal(sat, 0);
    assert_int_equal(fixed_from_double(127.5 / 16, q84, E, &sat), 127);
    assert_int_equal(sat, 1);
    assert_int_equal(fixed_from_double(8.0, q84, T, &sat), 127);
    assert_int_equal(sat, 2);
    /* the bottom: -8 in; -128.5 is even -128 but floor -129 */
    assert_int_equal(fixed_from_double(-8.0, q84, E, &sat), -128);
    assert_int_equal(fixed_from_double(-8.0, q84, T, &sat), -128);
    assert_int_equal(fixed_from_double(-128.5 / 16, q84, E, &sat), -128);
    assert_int_equal(sat, 2);
    assert_int_equal(fixed_from_double(-128.5 / 16, q84, T, &sat), -128);
    assert_int_equal(sat, 3);
    assert_int_equal(fixed_from_double(-128.6 / 16, q84, E, &sat), -128);
    assert_int_equal(sat, 4);
    /* NaN and infinities saturate, counted once each, in both modes */
    for (int m = 0; m < 2; m++) {
        sat = 0;
        assert_int_equal(fixed_from_double(INFINITY, q84, MODES[m], &sat), 127);
        assert_int_equal(sat, 1);
        assert_int_equal(fixed_from_double(-INFINITY, q84, MODES[m], &sat), -128);
        assert_int_equal(sat, 2);
        assert_int_equal(fixed_from_double(DBL_MAX, q84, MODES[m], &sat), 127);
        assert_int_equal(fixed_from_double(-DBL_MAX, q84, MODES[m], &sat), -128);
        assert_int_equal(sat, 4);
        int32_t w = fixed_from_double(NAN, q84, MODES[m], &sat);
        assert_true(w == 127 || w == -128);
        assert_int_equal(sat, 5);
        w = fixed_from_double(NAN, q84, MODES[m], NULL);
        assert_true(w == 127 || w == -128);
    }
    /* 32-bit words: the bounds are not representable in float, but are in double */
    const struct fixed_fmt q320 = {32, 0}, q3231 = {32, 31};
    sat = 0;
    assert_int_equal(fixed_from_double(2147483646.5, q320, E, &sat), 2147483646);
    assert_int_equal(fixed_from_double(2147483647.0, q320, E, &sat), INT32_MAX);
    assert_int_equal(fixed_from_double(-2147483648.0, q320, T, &sat), INT32_MIN);
    assert_int_equal(fixed_from_double(-2147483648.5, q320, E, &sat), INT32_MIN);
    assert_int_equal(fixed_from_double(-1.0, q3231, T, &sat), INT32_MIN);
    assert_int_equal(sat, 0);
    assert_int_equal(fixed_from_double(2147483647.5, q320, E, &sat), INT32_MAX);
    assert_int_equal(fixed_from_double(1.0, q3231, E, &sat), INT32_MAX);
    assert_int_equal(fixed_from_double(-2147483648.5, q320, T, &sat), INT32_MIN);
    assert_int_equal(sat, 3);
}

static void test_to_double_and_const(void **state)
{
    (void)state;
    const struct fixed_fmt q84 = {8, 4}, q3228 = {32, 28};
    assert_true(fixed_to_double(-128, q84) == -8.0);
    assert_true(fixed_to_double(127, q84) == 7.9375);
    assert_true(fixed_to_double(INT32_MIN, q3228) == -8.0);
    assert_true(fixed_to_double(1, q3228) == ldexp(1.0, -28));
    for (int32_t w = -128; w <= 127; w++)   /* exact round trip */
        for (int m = 0; m < 2; m++)
            assert_int_equal(fixed_from_double(fixed_to_double(w, q84), q84, MODES[m], NULL), w);
    /* constants: nearest, ties to even */
    assert_int_equal(fixed_const(0.5, FIXED_LR_FRAC), (uint64_t)1 << 31);
    assert_int_equal(fixed_const(0.9, FIXED_COEF_FRAC), 58982u);   /* 58982.4 */
    assert_int_equal(fixed_const(2.5 / 65536, FIXED_COEF_FRAC), 2u);
    assert_int_equal(fixed_const(3.5 / 65536, FIXED_COEF_FRAC), 4u);
    assert_int_equal(fixed_const(0.0, FIXED_LR_FRAC), 0u);
    assert_int_equal(fixed_const(1.0, FIXED_LR_FRAC), (uint64_t)1 << 32);
}

/* ---- dense ---- */

static void ref_dense_forward(int32_t *y, const int32_t *x, const int32_t *W, const int32_t *b,
                              int B, int I, int O, const struct fixed_spec *q, int64_t *sat)
{
    for (int s = 0; s < B; s++)
        for (int o = 0; o < O; o++) {
            i128 acc = b ? (i128)b[o] * ((i128)1 << q->act.frac) : 0;
            for (int i = 0; i < I; i++)
                acc += (i128)x[s * I + i] * W[i * O + o];
            y[s * O + o] = ref_narrow(acc, q->act.frac + q->weight.frac, q->act, q->rounding, sat);
        }
}

static void ref_dense_backward(int32_t *dx, int32_t *dW, int32_t *db, const int32_t *dy,
                               const int32_t *x, const int32_t *W, int B, int I, int O,
                               const struct fixed_spec *q, int64_t *sat)
{
    enum fixed_rounding r = q->rounding;
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            i128 acc = 0;
            for (int s = 0; s < B; s++)
                acc += (i128)x[s * I + i] * dy[s * O + o];
            dW[i * O + o] = ref_narrow(acc, q->act.frac + q->err.frac, q->grad, r, sat);
        }
    if (db)
        for (int o = 0; o < O; o++) {
            i128 acc = 0;
            for (int s = 0; s < B; s++)
                acc += dy[s * O + o];
            db[o] = ref_narrow(acc, q->err.frac, q->grad, r, sat);
        }
    if (dx)
        for (int s = 0; s < B; s++)
            for (int i = 0; i < I; i++) {
                i128 acc = 0;
                for (int o = 0; o < O; o++)
                    acc += (i128)dy[s * O + o] * W[i * O + o];
                dx[s * I + i] = ref_narrow(acc, q->err.frac + q->weight.frac, q->err, r, sat);
            }
}

/* One dense layer, forward and backward, kernel against reference. */
static void check_dense(const struct fixed_spec *q, int B, int I, int O, int bias, int shrink,
                        uint64_t seed, struct tally *t)
{
    struct rng r;
    rng_seed(&r, seed);
    int32_t *x = words(B * I), *W = words(I * O), *b = words(O), *dy = words(B * O);
    int32_t *y = words(B * O), *y_ref = words(B * O), *dx = words(B * I), *dx_ref = words(B * I);
    int32_t *dW = words(I * O), *dW_ref = words(I * O), *db = words(O), *db_ref = words(O);
    fill(x, B * I, q->act, shrink, &r);
    fill(W, I * O, q->weight, shrink, &r);
    fill(b, O, q->weight, shrink, &r);
    fill(dy, B * O, q->err, shrink, &r);
    void *scratch = xalloc((size_t)fixed_dense_scratch(B, I, O));
    char what[96];
    int64_t ties0 = ref_ties;

    int64_t sat = 0, sat_ref = 0;
    fixed_dense_forward(y, x, W, bias ? b : NULL, B, I, O, q, scratch, &sat);
    ref_dense_forward(y_ref, x, W, bias ? b : NULL, B, I, O, q, &sat_ref);
    snprintf(what, sizeof what, "dense %dx%dx%d%s y", B, I, O, bias ? " bias" : "");
    EXPECT_SAME(what, y, y_ref, B * O);
    assert_int_equal(sat, sat_ref);
    t->words += B * O, t->sat += sat;

    sat = sat_ref = 0;
    fixed_dense_backward(dx, dW, db, dy, x, W, B, I, O, q, scratch, &sat);
    ref_dense_backward(dx_ref, dW_ref, db_ref, dy, x, W, B, I, O, q, &sat_ref);
    snprintf(what, sizeof what, "dense %dx%dx%d dx", B, I, O);
    EXPECT_SAME(what, dx, dx_ref, B * I);
    snprintf(what, sizeof what, "dense %dx%dx%d dW", B, I, O);
    EXPECT_SAME(what, dW, dW_ref, I * O);
    snprintf(what, sizeof what, "dense %dx%dx%d db", B, I, O);
    EXPECT_SAME(what, db, db_ref, O);
    assert_int_equal(sat, sat_ref);
    t->words += B * I + I * O + O, t->sat += sat;

    /* Without dx and db: the same dW, and only its saturations. */
    sat = sat_ref = 0;
    memset(dW, 0x5a, sizeof *dW * (size_t)(I * O));
    fixed_dense_backward(NULL, dW, NULL, dy, x, W, B, I, O, q, scratch, &sat);
    ref_dense_backward(NULL, dW_ref, NULL, dy, x, W, B, I, O, q, &sat_ref);
    EXPECT_SAME("dense dW alone", dW, dW_ref, I * O);
    assert_int_equal(sat, sat_ref);
    t->ties += ref_ties - ties0;

    free(scratch);
    free(x), free(W), free(b), free(dy), free(y), free(y_ref), free(dx), free(dx_ref);
    free(dW), free(dW_ref), free(db), free(db_ref);
}

static void test_dense_bit_exact(void **state)
{
    (void)state;
    static const int shapes[][3] = {{3, 7, 5}, {4, 16, 9}, {1, 1, 1}, {5, 33, 3}, {2, 3, 40}};
    struct tally t = {0, 0, 0};
    uint64_t seed = SEED + 100;
    print_message("  seeds %u..\n", SEED + 100);
    for (size_t sp = 0; sp < 3; sp++)
        for (int m = 0; m < 2; m++) {
            struct fixed_spec q = SPECS[sp](MODES[m]);
            for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
                for (int shrink = 0; shrink <= 3; shrink += 3)
                    check_dense(&q, shapes[k][0], shapes[k][1], shapes[k][2], (int)(k % 2 == 0),
                                shrink, seed++, &t);
        }
    tally_report("dense, 3 format sets x 2 modes", &t);
}

/* The outputs saturate where the sums leave the range: a forward whose every
 * product is the largest, and a batch of weight gradients that add up past it. */
static void test_dense_saturates_counted(void **state)
{
    (void)state;
    struct fixed_spec q = spec_small(FIXED_NEAREST_EVEN);
    enum { B = 2, I = 4, O = 3 };
    int32_t x[B * I], W[I * O], b[O], y[B * O], dy[B * O], dx[B * I], dW[I * O], db[O];
    for (int i = 0; i < B * I; i++)
        x[i] = i < I ? 127 : -128;   /* sample 0 at the top, sample 1 at the bottom */
    for (int i = 0; i < I * O; i++)
        W[i] = 31;   /* Q(6,4) top */
    for (int o = 0; o < O; o++)
        b[o] = o == 0 ? -32 : 0;
    void *scratch = xalloc((size_t)fixed_dense_scratch(B, I, O));
    int64_t sat = 0;
    fixed_dense_forward(y, x, W, b, B, I, O, &q, scratch, &sat);
    for (int o = 0; o < O; o++) {
        assert_int_equal(y[o], 127);
        assert_int_equal(y[O + o], -128);
    }
    assert_int_equal(sat, B * O);   /* each clamped output counted once */
    /* A sum that stays inside: 1 * 1 products, four of them, plus a bias of 0. */
    for (int i = 0; i < B * I; i++)
        x[i] = 16;   /* 1.0 in Q(8,4) */
    for (int i = 0; i < I * O; i++)
        W[i] = 16;   /* 1.0 in Q(6,4) */
    sat = 0;
    fixed_dense_forward(y, x, W, NULL, B, I, O, &q, scratch, &sat);
    for (int i = 0; i < B * O; i++)
        assert_int_equal(y[i], 64);   /* 4.0 */
    assert_int_equal(sat, 0);
    /* Backward: dy = 127/32 everywhere; dW = sum of 2 x*dy = 2 * 1 * 3.97 = 7.94 in
     * Q(12,10) (top 1.999) saturates; db = 7.94 too; dx = 3 * 3.97 * 1 = 11.9 > 3.97. */
    for (int i = 0; i < B * O; i++)
        dy[i] = 127;
    sat = 0;
    fixed_dense_backward(dx, dW, db, dy, x, W, B, I, O, &q, scratch, &sat);
    for (int i = 0; i < I * O; i++)
        assert_int_equal(dW[i], 2047);
    for (int o = 0; o < O; o++)
        assert_int_equal(db[o], 2047);
    for (int i = 0; i < B * I; i++)
        assert_int_equal(dx[i], 127);
    assert_int_equal(sat, I * O + O + B * I);
    free(scratch);
}

/* ---- conv ---- */

static int64_t xi(const struct conv_geom *g, int s, int c, int y, int x)
{
    return (((int64_t)s * g->C + c) * g->H + y) * g->W + x;
}

static int64_t yi(const struct conv_geom *g, int s, int c, int y, int x)
{
    return (((int64_t)s * g->OC + c) * g->OH + y) * g->OW + x;
}

static int64_t wi(const struct conv_geom *g, int oc, int c, int ky, int kx)
{
    return (((int64_t)oc * g->C + c) * g->k + ky) * g->k + kx;
}

static void ref_conv_forward(int32_t *y, const int32_t *x, const int32_t *W, const int32_t *b,
                             int B, const struct conv_geom *g, const struct fixed_spec *q,
                             int64_t *sat)
{
    for (int s = 0; s < B; s++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int oy = 0; oy < g->OH; oy++)
                for (int ox = 0; ox < g->OW; ox++) {
                    i128 acc = b ? (i128)b[oc] * ((i128)1 << q->act.frac) : 0;
                    for (int c = 0; c < g->C; c++)
                        for (int ky = 0; ky < g->k; ky++)
                            for (int kx = 0; kx < g->k; kx++) {
                                int iy = oy * g->stride - g->pad + ky;
                                int ix = ox * g->stride - g->pad + kx;
                                if (iy >= 0 && iy < g->H && ix >= 0 && ix < g->W)
                                    acc += (i128)x[xi(g, s, c, iy, ix)] * W[wi(g, oc, c, ky, kx)];
                            }
                    y[yi(g, s, oc, oy, ox)] = ref_narrow(acc, q->act.frac + q->weight.frac,
                                                         q->act, q->rounding, sat);
                }
}

static void ref_conv_backward(int32_t *dx, int32_t *dW, int32_t *db, const int32_t *dy,
                              const int32_t *x, const int32_t *W, int B,
                              const struct conv_geom *g, const struct fixed_spec *q, int64_t *sat)
{
    int64_t nw = (int64_t)g->OC * g->C * g->k * g->k, nx = (int64_t)B * g->C * g->H * g->W;
    i128 *aw = calloc((size_t)nw, sizeof *aw), *ab = calloc((size_t)g->OC, sizeof *ab);
    i128 *ax = calloc((size_t)nx, sizeof *ax);
    assert_non_null(aw);
    assert_non_null(ab);
    assert_non_null(ax);
    for (int s = 0; s < B; s++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int oy = 0; oy < g->OH; oy++)
                for (int ox = 0; ox < g->OW; ox++) {
                    i128 d = dy[yi(g, s, oc, oy, ox)];
                    ab[oc] += d;
                    for (int c = 0; c < g->C; c++)
                        for (int ky = 0; ky < g->k; ky++)
                            for (int kx = 0; kx < g->k; kx++) {
                                int iy = oy * g->stride - g->pad + ky;
                                int ix = ox * g->stride - g->pad + kx;
                                if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W)
                                    continue;
                                aw[wi(g, oc, c, ky, kx)] += d * x[xi(g, s, c, iy, ix)];
                                ax[xi(g, s, c, iy, ix)] += d * W[wi(g, oc, c, ky, kx)];
                            }
                }
    enum fixed_rounding r = q->rounding;
    for (int64_t i = 0; i < nw; i++)
        dW[i] = ref_narrow(aw[i], q->act.frac + q->err.frac, q->grad, r, sat);
    if (db)
        for (int oc = 0; oc < g->OC; oc++)
            db[oc] = ref_narrow(ab[oc], q->err.frac, q->grad, r, sat);
    if (dx)
        for (int64_t i = 0; i < nx; i++)
            dx[i] = ref_narrow(ax[i], q->err.frac + q->weight.frac, q->err, r, sat);
    free(aw), free(ab), free(ax);
}

static void check_conv(const struct fixed_spec *q, int B, const struct conv_geom *g, int bias,
                       int shrink, uint64_t seed, struct tally *t)
{
    struct rng r;
    rng_seed(&r, seed);
    int64_t nx = (int64_t)B * g->C * g->H * g->W, ny = (int64_t)B * g->OC * g->OH * g->OW;
    int64_t nw = (int64_t)g->OC * g->C * g->k * g->k;
    int32_t *x = words(nx), *W = words(nw), *b = words(g->OC), *dy = words(ny);
    int32_t *y = words(ny), *y_ref = words(ny), *dx = words(nx), *dx_ref = words(nx);
    int32_t *dW = words(nw), *dW_ref = words(nw), *db = words(g->OC), *db_ref = words(g->OC);
    fill(x, nx, q->act, shrink, &r);
    fill(W, nw, q->weight, shrink, &r);
    fill(b, g->OC, q->weight, shrink, &r);
    fill(dy, ny, q->err, shrink, &r);
    void *scratch = xalloc((size_t)fixed_conv_scratch(g));
    char tag[96], what[128];
    snprintf(tag, sizeof tag, "conv B%d %dx%dx%d->%d k%d s%d p%d %s", B, g->C, g->H, g->W, g->OC,
             g->k, g->stride, g->pad, mode_name(q->rounding));
    int64_t ties0 = ref_ties;

    int64_t sat = 0, sat_ref = 0;
    fixed_conv_forward(y, x, W, bias ? b : NULL, B, g, q, scratch, &sat);
    ref_conv_forward(y_ref, x, W, bias ? b : NULL, B, g, q, &sat_ref);
    snprintf(what, sizeof what, "%s y", tag);
    EXPECT_SAME(what, y, y_ref, ny);
    assert_int_equal(sat, sat_ref);
    t->words += ny, t->sat += sat;

    sat = sat_ref = 0;
    fixed_conv_backward(dx, dW, db, dy, x, W, B, g, q, scratch, &sat);
    ref_conv_backward(dx_ref, dW_ref, db_ref, dy, x, W, B, g, q, &sat_ref);
    snprintf(what, sizeof what, "%s dx", tag);
    EXPECT_SAME(what, dx, dx_ref, nx);
    snprintf(what, sizeof what, "%s dW", tag);
    EXPECT_SAME(what, dW, dW_ref, nw);
    snprintf(what, sizeof what, "%s db", tag);
    EXPECT_SAME(what, db, db_ref, g->OC);
    assert_int_equal(sat, sat_ref);
    t->words += nx + nw + g->OC, t->sat += sat;

    sat = sat_ref = 0;
    fixed_conv_backward(NULL, dW, NULL, dy, x, W, B, g, q, scratch, &sat);
    ref_conv_backward(NULL, dW_ref, NULL, dy, x, W, B, g, q, &sat_ref);
    snprintf(what, sizeof what, "%s dW alone", tag);
    EXPECT_SAME(what, dW, dW_ref, nw);
    assert_int_equal(sat, sat_ref);
    t->ties += ref_ties - ties0;

    free(scratch);
    free(x), free(W), free(b), free(dy), free(y), free(y_ref), free(dx), free(dx_ref);
    free(dW), free(dW_ref), free(db), free(db_ref);
}

static void test_conv_bit_exact(void **state)
{
    (void)state;
    const struct conv_geom gs[] = {
        geom(2, 5, 5, 3, 3, 1, 1),   /* k3 s1 p1: same size */
        geom(3, 6, 6, 2, 3, 2, 0),   /* k3 s2 p0 */
        geom(2, 7, 7, 4, 3, 2, 1),   /* k3 s2 p1 */
        geom(3, 4, 4, 2, 1, 1, 0),   /* k1 s1 p0: pointwise */
        geom(2, 5, 6, 3, 1, 2, 1),   /* k1 s2 p1: border outputs read only padding */
        geom(1, 4, 6, 2, 3, 1, 0),   /* H != W */
        geom(2, 6, 5, 2, 2, 2, 1),   /* even kernel, W != H */
    };
    struct tally t = {0, 0, 0};
    uint64_t seed = SEED + 200;
    print_message("  seeds %u..\n", SEED + 200);
    for (size_t sp = 0; sp < 3; sp++)
        for (int m = 0; m < 2; m++) {
            struct fixed_spec q = SPECS[sp](MODES[m]);
            for (size_t k = 0; k < sizeof gs / sizeof gs[0]; k++)
                for (int shrink = 0; shrink <= 3; shrink += 3)
                    check_conv(&q, 1 + (int)(k % 3), &gs[k], (int)(k % 2 == 0), shrink, seed++,
                               &t);
        }
    print_message("  (%zu geometries, format sets %s, %s, %s)\n", sizeof gs / sizeof gs[0],
                  SPEC_NAMES[0], SPEC_NAMES[1], SPEC_NAMES[2]);
    tally_report("conv, 3 format sets x 2 modes", &t);
}

/* ---- the checker itself ---- */

/* A one-bit change in the reference must fail the comparison (the injected
 * fault): flip the lowest bit of one word, then restore it. */
static void test_bit_exact_check_catches_one_flipped_bit(void **state)
{
    (void)state;
    struct fixed_spec q = spec_default(FIXED_NEAREST_EVEN);
    enum { B = 3, I = 20, O = 7 };
    struct rng r;
    rng_seed(&r, SEED + 3);
    int32_t x[B * I], W[I * O], b[O], y[B * O], y_ref[B * O];
    fill(x, B * I, q.act, 2, &r);
    fill(W, I * O, q.weight, 2, &r);
    fill(b, O, q.weight, 2, &r);
    void *scratch = xalloc((size_t)fixed_dense_scratch(B, I, O));
    int64_t sat = 0, sat_ref = 0;
    fixed_dense_forward(y, x, W, b, B, I, O, &q, scratch, &sat);
    ref_dense_forward(y_ref, x, W, b, B, I, O, &q, &sat_ref);
    assert_int_equal(diff_words("unchanged", y, y_ref, B * O), 0);
    int k = (int)rng_below(&r, B * O);
    print_message("  flipping bit 0 of reference y[%d] = %d (the mismatch below is expected)\n", k,
                  y_ref[k]);
    y_ref[k] ^= 1;
    assert_int_not_equal(memcmp(y, y_ref, sizeof y), 0);
    assert_int_equal(diff_words("one bit flipped", y, y_ref, B * O), 1);
    y_ref[k] ^= 1;
    assert_int_equal(memcmp(y, y_ref, sizeof y), 0);
    free(scratch);
}

/* ---- pools ---- */

static void ref_maxpool_forward(int32_t *y, int32_t *am, const int32_t *x, int B,
                                const struct conv_geom *g)
{
    for (int64_t p = 0; p < (int64_t)B * g->C; p++)
        for (int oy = 0; oy < g->OH; oy++)
            for (int ox = 0; ox < g->OW; ox++) {
                int best = -1;
                for (int ky = 0; ky < g->k; ky++)
                    for (int kx = 0; kx < g->k; kx++) {
                        int i = (oy * g->stride + ky) * g->W + ox * g->stride + kx;
                        if (best < 0 || x[p * g->H * g->W + i] > x[p * g->H * g->W + best])
                            best = i;
                    }
                int64_t o = (p * g->OH + oy) * g->OW + ox;
                y[o] = x[p * g->H * g->W + best];
                am[o] = best;
            }
}

/* Each output's dy added into its argmax in scan order, saturating at every add
 * (docs/numerics.md: "the backward adds into that input, saturating to error"). */
static void ref_maxpool_backward(int32_t *dx, const int32_t *dy, const int32_t *am, int B,
                                 const struct conv_geom *g, struct fixed_fmt err, int64_t *sat)
{
    int64_t plane = (int64_t)g->H * g->W, oplane = (int64_t)g->OH * g->OW;
    for (int64_t p = 0; p < (int64_t)B * g->C; p++)
        for (int64_t i = 0; i < plane; i++) {   /* the exact sum, saturated once */
            i128 sum = 0;
            for (int64_t o = 0; o < oplane; o++)
                if (am[p * oplane + o] == i)
                    sum += dy[p * oplane + o];
            dx[p * plane + i] = ref_sat(sum, err, sat);
        }
}

/* Scratch for the pool backwards: one int64 per input word of a plane. */
static int64_t pool_scratch[4096];

static void test_maxpool_first_maximum_on_ties(void **state)
{
    (void)state;
    struct conv_geom g = geom(1, 4, 4, 1, 2, 2, 0);
    const int32_t x[16] = {1,  3,  2, 2,
                           3,  0,  2, 1,
                           -5, -7, 9, 9,
                           -5, -6, 9, 9};
    int32_t y[4], am[4];
    fixed_maxpool_forward(y, am, x, 1, &g);
    assert_memory_equal(y, ((int32_t[]){3, 2, -5, 9}), sizeof y);
    assert_memory_equal(am, ((int32_t[]){1, 2, 8, 10}), sizeof am);
    /* Overlapping windows (k3 s1) on a plane of equal words: each window's
     * first element, its top-left. */
    struct conv_geom g3 = geom(1, 4, 5, 1, 3, 1, 0);
    int32_t flat[20], y3[6], am3[6];
    for (int i = 0; i < 20; i++)
        flat[i] = -7;
    fixed_maxpool_forward(y3, am3, flat, 1, &g3);
    assert_memory_equal(am3, ((int32_t[]){0, 1, 2, 5, 6, 7}), sizeof am3);
    for (int i = 0; i < 6; i++)
        assert_int_equal(y3[i], -7);
    /* The extremes of a 32-bit word. */
    const int32_t ext[4] = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN + 1};
    struct conv_geom g2 = geom(1, 2, 2, 1, 2, 2, 0);
    fixed_maxpool_forward(y, am, ext, 1, &g2);
    assert_int_equal(y[0], INT32_MIN + 1);
    assert_int_equal(am[0], 3);
}

/* Nine overlapping windows (k3 s1 over 5x5) all pick the centre: the backward
 * sums nine dy into one input exactly, then saturates once. */
static void test_maxpool_backward_overlap_saturates(void **state)
{
    (void)state;
    struct fixed_spec q = spec_small(FIXED_NEAREST_EVEN);   /* err Q(8,5): [-128, 127] */
    struct conv_geom g = geom(1, 5, 5, 1, 3, 1, 0);
    int32_t x[25], y[9], am[9], dy[9], dx[25], dx_ref[25];
    for (int i = 0; i < 25; i++)
        x[i] = i == 12 ? 50 : i - 30;
    fixed_maxpool_forward(y, am, x, 1, &g);
    for (int o = 0; o < 9; o++)
        assert_int_equal(am[o], 12);
    /* 9 x 100 = 900: clamped once to 127. */
    for (int o = 0; o < 9; o++)
        dy[o] = 100;
    int64_t sat = 0;
    fixed_maxpool_backward(dx, dy, am, 1, &g, &q, pool_scratch, &sat);
    for (int i = 0; i < 25; i++)
        assert_int_equal(dx[i], i == 12 ? 127 : 0);
    assert_int_equal(sat, 1);
    for (int o = 0; o < 9; o++)
        dy[o] = -100;
    sat = 0;
    fixed_maxpool_backward(dx, dy, am, 1, &g, &q, pool_scratch, &sat);
    assert_int_equal(dx[12], -128);
    assert_int_equal(sat, 1);
    /* Sums that stay inside are exact: 9 x 14 = 126. */
    for (int o = 0; o < 9; o++)
        dy[o] = 14;
    sat = 0;
    fixed_maxpool_backward(dx, dy, am, 1, &g, &q, pool_scratch, &sat);
    assert_int_equal(dx[12], 126);
    assert_int_equal(sat, 0);
    /* Mixed signs: the sum is exact before the one saturation, so the order of
     * the outputs does not matter: 100 + 100 - 100 = 100, nothing clamped. */
    const int32_t mixed[9] = {100, 100, -100, 0, 0, 0, 0, 0, 0};
    int64_t sat_ref = 0;
    sat = 0;
    fixed_maxpool_backward(dx, mixed, am, 1, &g, &q, pool_scratch, &sat);
    ref_maxpool_backward(dx_ref, mixed, am, 1, &g, q.err, &sat_ref);
    EXPECT_SAME("maxpool mixed", dx, dx_ref, 25);
    assert_int_equal(dx[12], 100);
    assert_int_equal(sat, 0);
    assert_int_equal(sat, sat_ref);
}

static void test_maxpool_random_against_reference(void **state)
{
    (void)state;
    const struct conv_geom gs[] = {geom(2, 6, 6, 2, 2, 2, 0), geom(3, 5, 5, 3, 3, 1, 0),
                                   geom(2, 7, 6, 2, 3, 2, 0), geom(1, 5, 7, 1, 2, 1, 0)};
    struct rng r;
    rng_seed(&r, SEED + 4);
    print_message("  seed %u\n", SEED + 4);
    int64_t total_sat = 0;
    for (size_t k = 0; k < sizeof gs / sizeof gs[0]; k++) {
        const struct conv_geom *g = &gs[k];
        struct fixed_spec q = spec_small(MODES[k % 2]);
        int B = 2;
        int64_t nx = (int64_t)B * g->C * g->H * g->W, ny = (int64_t)B * g->C * g->OH * g->OW;
        int32_t *x = words(nx), *y = words(ny), *y_ref = words(ny), *am = words(ny);
        int32_t *am_ref = words(ny), *dy = words(ny), *dx = words(nx), *dx_ref = words(nx);
        for (int64_t i = 0; i < nx; i++)   /* few distinct values: many ties */
            x[i] = (int32_t)rng_below(&r, 5) - 2;
        fill(dy, ny, q.err, 0, &r);
        fixed_maxpool_forward(y, am, x, B, g);
        ref_maxpool_forward(y_ref, am_ref, x, B, g);
        EXPECT_SAME("maxpool y", y, y_ref, ny);
        EXPECT_SAME("maxpool argmax", am, am_ref, ny);
        int64_t sat = 0, sat_ref = 0;
        fixed_maxpool_backward(dx, dy, am, B, g, &q, pool_scratch, &sat);
        ref_maxpool_backward(dx_ref, dy, am_ref, B, g, q.err, &sat_ref);
        EXPECT_SAME("maxpool dx", dx, dx_ref, nx);
        assert_int_equal(sat, sat_ref);
        total_sat += sat;
        free(x), free(y), free(y_ref), free(am), free(am_ref), free(dy), free(dx), free(dx_ref);
    }
    print_message("  %lld saturations in the overlapping backwards\n", (long long)total_sat);
    assert_true(total_sat > 0);
}

/* The rounding of an average: a floor division by k*k, then up by one when
 * nearest_even says so. */
static int32_t ref_avg(int64_t sum, int64_t area, enum fixed_rounding r)
{
    int64_t q = sum / area, rem = sum % area;
    if (rem < 0)
        q--, rem += area;
    if (r == FIXED_NEAREST_EVEN && (2 * rem > area || (2 * rem == area && q % 2 != 0)))
        q++;
    return (int32_t)q;
}

static void test_avgpool_rounding_hand_cases(void **state)
{
    (void)state;
    /* Two planes of 2x8, k2 s2: window sums 5, 6, -6, 10 and 14, -5, -10, 7. */
    struct conv_geom g = geom(2, 2, 8, 2, 2, 2, 0);
    const int32_t x[32] = {
        1, 1, 1, 2, -1, -2, 2, 3,   1, 2, 1, 2, -1, -2, 2, 3,
        3, 4, -1, -2, -2, -3, 1, 2, 3, 4, -1, -1, -2, -3, 2, 2,
    };
    int32_t y[8];
    struct fixed_spec qe = spec_default(FIXED_NEAREST_EVEN), qt = spec_default(FIXED_TRUNCATE);
    fixed_avgpool_forward(y, x, 1, &g, &qe);
    /* 1.25 -> 1, 1.5 -> 2, -1.5 -> -2, 2.5 -> 2; 3.5 -> 4, -1.25 -> -1, -2.5 -> -2, 1.75 -> 2 */
    assert_memory_equal(y, ((int32_t[]){1, 2, -2, 2, 4, -1, -2, 2}), sizeof y);
    fixed_avgpool_forward(y, x, 1, &g, &qt);   /* floor */
    assert_memory_equal(y, ((int32_t[]){1, 1, -2, 2, 3, -2, -3, 1}), sizeof y);
    /* k3: sums 13, -13, 14 over 9 */
    struct conv_geom g3 = geom(1, 3, 9, 1, 3, 3, 0);
    int32_t x3[27] = {0}, y3[3];
    x3[0] = 13, x3[3] = -13, x3[6] = 14;
    fixed_avgpool_forward(y3, x3, 1, &g3, &qe);
    assert_memory_equal(y3, ((int32_t[]){1, -1, 2}), sizeof y3);   /* 1.44, -1.44, 1.56 */
    fixed_avgpool_forward(y3, x3, 1, &g3, &qt);
    assert_memory_equal(y3, ((int32_t[]){1, -2, 1}), sizeof y3);
    /* Backward, k2 s2: each input gets round(dy / 4). */
    struct conv_geom gb = geom(1, 2, 8, 1, 2, 2, 0);
    const int32_t dy[4] = {5, 6, -6, 10};
    int32_t dx[16];
    fixed_avgpool_backward(dx, dy, 1, &gb, &qe, pool_scratch, NULL);
    const int32_t want_e[8] = {1, 1, 2, 2, -2, -2, 2, 2};
    assert_memory_equal(dx, want_e, sizeof want_e);
    assert_memory_equal(dx + 8, want_e, sizeof want_e);
    fixed_avgpool_backward(dx, dy, 1, &gb, &qt, pool_scratch, NULL);
    const int32_t want_t[8] = {1, 1, 1, 1, -2, -2, 2, 2};
    assert_memory_equal(dx, want_t, sizeof want_t);
    assert_memory_equal(dx + 8, want_t, sizeof want_t);
    const int32_t dyn[4] = {-5, -1, 7, -10};   /* -1.25, -0.25, 1.75, -2.5 */
    fixed_avgpool_backward(dx, dyn, 1, &gb, &qe, pool_scratch, NULL);
    assert_memory_equal(dx, ((int32_t[]){-1, -1, 0, 0, 2, 2, -2, -2}), 8 * sizeof(int32_t));
    fixed_avgpool_backward(dx, dyn, 1, &gb, &qt, pool_scratch, NULL);
    assert_memory_equal(dx, ((int32_t[]){-2, -2, -1, -1, 1, 1, -3, -3}), 8 * sizeof(int32_t));
}

static void test_avgpool_random_against_reference(void **state)
{
    (void)state;
    const struct conv_geom gs[] = {geom(2, 6, 6, 2, 2, 2, 0), geom(2, 5, 5, 2, 3, 1, 0),
                                   geom(1, 7, 6, 1, 3, 2, 0), geom(3, 4, 5, 3, 2, 1, 0)};
    struct rng r;
    rng_seed(&r, SEED + 5);
    print_message("  seed %u\n", SEED + 5);
    int64_t ties = 0;
    for (size_t k = 0; k < sizeof gs / sizeof gs[0]; k++)
        for (int m = 0; m < 2; m++) {
            const struct conv_geom *g = &gs[k];
            struct fixed_spec q = spec_default(MODES[m]);
            int B = 2;
            int64_t area = (int64_t)g->k * g->k;
            int64_t nx = (int64_t)B * g->C * g->H * g->W, ny = (int64_t)B * g->C * g->OH * g->OW;
            int32_t *x = words(nx), *y = words(ny), *y_ref = words(ny), *dy = words(ny);
            int32_t *dx = words(nx), *dx_ref = words(nx);
            for (int64_t i = 0; i < nx; i++)   /* small words: halves are frequent */
                x[i] = (int32_t)rng_below(&r, 9) - 4;
            x[0] = (int32_t)fmt_hi(q.act), x[1] = (int32_t)fmt_lo(q.act);
            fill(dy, ny, q.err, 3, &r);   /* shrunk: the shares cannot add past the range */
            for (int64_t i = 0; i < ny; i += 3)
                dy[i] = (int32_t)(rng_below(&r, 4 * (uint32_t)area) - 2 * area);
            fixed_avgpool_forward(y, x, B, g, &q);
            for (int64_t p = 0; p < (int64_t)B * g->C; p++)
                for (int oy = 0; oy < g->OH; oy++)
                    for (int ox = 0; ox < g->OW; ox++) {
                        int64_t sum = 0;
                        for (int ky = 0; ky < g->k; ky++)
                            for (int kx = 0; kx < g->k; kx++)
                                sum += x[(p * g->H + oy * g->stride + ky) * g->W +
                                         ox * g->stride + kx];
                        ties += 2 * (((sum % area) + area) % area) == area;
                        y_ref[(p * g->OH + oy) * g->OW + ox] = ref_avg(sum, area, q.rounding);
                    }
            EXPECT_SAME("avgpool y", y, y_ref, ny);
            fixed_avgpool_backward(dx, dy, B, g, &q, pool_scratch, NULL);
            memset(dx_ref, 0, sizeof *dx_ref * (size_t)nx);
            for (int64_t p = 0; p < (int64_t)B * g->C; p++)
                for (int oy = 0; oy < g->OH; oy++)
                    for (int ox = 0; ox < g->OW; ox++) {
                        int32_t share =
                            ref_avg(dy[(p * g->OH + oy) * g->OW + ox], area, q.rounding);
                        for (int ky = 0; ky < g->k; ky++)
                            for (int kx = 0; kx < g->k; kx++)
                                dx_ref[(p * g->H + oy * g->stride + ky) * g->W + ox * g->stride +
                                       kx] += share;
                    }
            int64_t clamps = 0;
            for (int64_t i = 0; i < nx; i++)   /* the exact sums, saturated once */
                dx_ref[i] = ref_sat(dx_ref[i], q.err, &clamps);
            EXPECT_SAME("avgpool dx", dx, dx_ref, nx);
            free(x), free(y), free(y_ref), free(dy), free(dx), free(dx_ref);
        }
    print_message("  %lld exact halves in the forwards\n", (long long)ties);
    assert_true(ties > 0);
}

/* Overlapping average-pool windows (k2 s1, which the config allows: pool
 * stride is settable) give an input several rounded shares. With dy at the
 * top of the error format each share rounds up (127/4 = 31.75 -> 32) and the
 * centre input of a 3x3 plane gets 4 * 32 = 128: one past Q(8, .)'s top. Every
 * word must lie in its format (docs/numerics.md, "Formats"; "nothing saturates
 * silently"), so dx must be clamped to 127 (and the clamp counted). */
static void test_avgpool_backward_overlap_stays_in_format(void **state)
{
    (void)state;
    struct fixed_spec q = spec_small(FIXED_NEAREST_EVEN);   /* err Q(8,5) */
    struct conv_geom g = geom(1, 3, 3, 1, 2, 1, 0);
    const int32_t dy[4] = {127, 127, 127, 127};
    int32_t dx[9];
    int64_t sat = 0;
    fixed_avgpool_backward(dx, dy, 1, &g, &q, pool_scratch, &sat);
    print_message("  dx centre = %d, format top %lld\n", dx[4], (long long)fmt_hi(q.err));
    assert_int_equal(dx[4], fmt_hi(q.err));
    assert_int_equal(sat, 1);
    for (int i = 0; i < 9; i++) {
        assert_true(dx[i] <= fmt_hi(q.err));
        assert_true(dx[i] >= fmt_lo(q.err));
    }
}

/* ---- add ---- */

static void test_add_exact_then_saturate(void **state)
{
    (void)state;
    const struct fixed_fmt f = {8, 4};
    struct {
        int n;
        int32_t in[4];
        int32_t want;
        int clamps;
    } cases[] = {
        {2, {100, 27}, 127, 0},        {2, {100, 28}, 127, 1},
        {2, {-100, -28}, -128, 0},     {2, {-100, -29}, -128, 1},
        {2, {127, -128}, -1, 0},       {3, {127, 127, -128}, 126, 0},   /* no early clamp */
        {3, {127, 127, -1}, 127, 1},   {3, {-128, -128, 127}, -128, 1},
        {4, {127, 127, 127, 127}, 127, 1}, {4, {-128, -128, -128, -128}, -128, 1},
        {4, {127, -128, 127, -128}, -2, 0}, {4, {-128, -128, 127, 127}, -2, 0},
        {4, {30, 30, 30, 37}, 127, 0},  {4, {30, 30, 30, 38}, 127, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int32_t a[4][1], y;
        const int32_t *in[4];
        for (int k = 0; k < cases[c].n; k++)
            a[k][0] = cases[c].in[k], in[k] = a[k];
        int64_t sat = 0;
        fixed_add(&y, in, cases[c].n, 1, f, &sat);
        assert_int_equal(y, cases[c].want);
        assert_int_equal(sat, cases[c].clamps);
    }
    /* 32-bit words, 4 inputs: the sum needs 34 bits. */
    const struct fixed_fmt f32 = {32, 10};
    int32_t a32[4] = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX}, y32;
    const int32_t *in32[4] = {&a32[0], &a32[1], &a32[2], &a32[3]};
    int64_t sat = 0;
    fixed_add(&y32, in32, 4, 1, f32, &sat);
    assert_int_equal(y32, INT32_MAX);
    assert_int_equal(sat, 1);
    for (int k = 0; k < 4; k++)
        a32[k] = INT32_MIN;
    fixed_add(&y32, in32, 4, 1, f32, &sat);
    assert_int_equal(y32, INT32_MIN);
    assert_int_equal(sat, 2);
    fixed_add(&y32, in32, 4, 1, f32, NULL);
    assert_int_equal(y32, INT32_MIN);
    /* Random vectors, 2..4 inputs, against the exact sum. */
    struct rng r;
    rng_seed(&r, SEED + 6);
    const struct fixed_fmt f16 = {16, 10};
    enum { N = 500 };
    int32_t *v[4], y[N], y_ref[N];
    for (int k = 0; k < 4; k++)
        v[k] = words(N), fill(v[k], N, f16, 0, &r);
    for (int n_in = 2; n_in <= 4; n_in++) {
        int64_t s1 = 0, s2 = 0;
        fixed_add(y, (const int32_t *const *)v, n_in, N, f16, &s1);
        for (int i = 0; i < N; i++) {
            i128 sum = 0;
            for (int k = 0; k < n_in; k++)
                sum += v[k][i];
            y_ref[i] = ref_sat(sum, f16, &s2);
        }
        EXPECT_SAME("add", y, y_ref, N);
        assert_int_equal(s1, s2);
        assert_true(s1 > 0 && s1 < N);
    }
    for (int k = 0; k < 4; k++)
        free(v[k]);
}

/* ---- loss ---- */

/* docs/numerics.md: p = softmax(z) in double from the dequantized logits,
 * delta = p - onehot (mse: z - onehot) rounded to err, not divided by B. */
static double ref_loss(int32_t *delta, const int32_t *z, const uint8_t *labels, int B,
                       int classes, int mse, const struct fixed_spec *q, int64_t *correct,
                       int64_t *sat)
{
    double loss = 0;
    for (int s = 0; s < B; s++) {
        const int32_t *zs = z + s * classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (zs[c] > zs[best])
                best = c;
        *correct += best == labels[s];
        double mx = ldexp(zs[best], -q->act.frac), sum = 0;
        for (int c = 0; c < classes; c++)
            sum += exp(ldexp(zs[c], -q->act.frac) - mx);
        for (int c = 0; c < classes; c++) {
            double zc = ldexp(zs[c], -q->act.frac), t = c == labels[s] ? 1.0 : 0.0;
            double d = mse ? zc - t : exp(zc - mx) / sum - t;
            delta[s * classes + c] = fixed_from_double(d, q->err, q->rounding, sat);
            if (mse)
                loss += 0.5 * (zc - t) * (zc - t);
        }
        if (!mse)
            loss += log(sum) - (ldexp(zs[labels[s]], -q->act.frac) - mx);
    }
    return loss;
}

static void test_loss_softmax_and_mse_against_double(void **state)
{
    (void)state;
    enum { B = 6, C = 10 };
    struct rng r;
    rng_seed(&r, SEED + 7);
    print_message("  seed %u\n", SEED + 7);
    int32_t z[B * C], d[B * C], d_ref[B * C];
    uint8_t labels[B];
    for (int m = 0; m < 2; m++)
        for (int mse = 0; mse < 2; mse++) {
            /* err Q(8,4) under mse: z - t leaves +-8 and halves of 1/16 are common */
            struct fixed_spec q = spec_default(MODES[m]);
            if (mse)
                q.err = (struct fixed_fmt){8, 4};
            for (int i = 0; i < B * C; i++)
                z[i] = rand_word(&r, q.act, mse ? 0 : 3);
            for (int s = 0; s < B; s++)
                labels[s] = (uint8_t)rng_below(&r, C);
            for (int c = 0; c < 2 * C; c++)   /* samples 0 and 1: small logits ... */
                z[c] = 100 * (c % C) - 500;
            /* sample 0: a tie for the maximum, the label on the second of the two */
            z[0 * C + 3] = z[0 * C + 7] = 20000;
            labels[0] = 7;
            /* sample 1: the label is the maximum */
            z[1 * C + 2] = 30000, labels[1] = 2;
            int64_t correct = 5, correct_ref = 5, sat = 0, sat_ref = 0;
            double loss = fixed_loss(d, z, labels, B, C, mse, &q, &correct, &sat);
            double loss_ref = ref_loss(d_ref, z, labels, B, C, mse, &q, &correct_ref, &sat_ref);
            EXPECT_SAME(mse ? "mse delta" : "softmax delta", d, d_ref, B * C);
            assert_int_equal(sat, sat_ref);
            assert_int_equal(correct, correct_ref);
            assert_true(correct >= 5 + 1 && correct <= 5 + B - 1);   /* sample 0 wrong, 1 right */
            assert_true(fabs(loss - loss_ref) <= 1e-12 * fmax(1.0, fabs(loss_ref)));
            if (mse)
                assert_true(sat > 0);   /* the logits reach past the error format */
        }
}

/* Two classes, equal logits: p = 0.5, so delta = -0.5 / +0.5 whatever the
 * batch: 2048 in Q(16,12), not 2048 / B. */
static void test_loss_not_divided_by_batch(void **state)
{
    (void)state;
    struct fixed_spec q = spec_default(FIXED_NEAREST_EVEN);
    int32_t z[8] = {0, 0, 0, 0, 0, 0, 0, 0}, d[8];
    const uint8_t labels[4] = {0, 1, 0, 1};
    for (int B = 1; B <= 4; B++) {
        int64_t correct = 0, sat = 0;
        double loss = fixed_loss(d, z, labels, B, 2, 0, &q, &correct, &sat);
        for (int s = 0; s < B; s++) {
            assert_int_equal(d[2 * s + labels[s]], -2048);
            assert_int_equal(d[2 * s + 1 - labels[s]], 2048);
        }
        assert_true(fabs(loss - B * log(2.0)) < 1e-12);
        assert_int_equal(correct, (B + 1) / 2);   /* ties pick class 0 */
        assert_int_equal(sat, 0);
    }
    /* A confident wrong answer: delta ~ -1 and +1 at full scale (4096). */
    int32_t zc[3] = {0, 20 << 10, 0}, dc[3];
    const uint8_t lc[1] = {0};
    int64_t correct = 0, sat = 0;
    fixed_loss(dc, zc, lc, 1, 3, 0, &q, &correct, &sat);
    assert_int_equal(dc[0], -4096);
    assert_int_equal(dc[1], 4096);
    assert_int_equal(dc[2], 0);
    assert_int_equal(correct, 0);
    /* mse: delta = z - t, same scale for any batch. */
    int32_t zm[4] = {768, 0, 0, 512}, dm[4];   /* 0.75, 0; 0, 0.5 in Q(16,10) */
    const uint8_t lm[2] = {0, 0};
    correct = 0;
    double loss = fixed_loss(dm, zm, lm, 2, 2, 1, &q, &correct, &sat);
    assert_memory_equal(dm, ((int32_t[]){-1024, 0, -4096, 2048}), sizeof dm);
    assert_true(fabs(loss - 0.5 * (0.0625 + 1.0 + 0.25)) < 1e-12);
    assert_int_equal(correct, 1);   /* sample 0 picks 0 (right); sample 1 picks 1 (wrong) */
}

/* ---- update, rebuild ---- */

/* docs/numerics.md, "Update", written out:
 *   g' = g + narrow(wd * master)                 from 32 + master.frac to grad.frac
 *   v  = sat_grad(narrow(mu * v, 16) + g')
 *   u  = sat_master(narrow(lr * v))              from 32 + grad.frac to master.frac
 *   master = sat_master(master - u)
 *   w  = narrow(master)                          to the weight format
 *   m  = sat_master(narrow(beta * m + (2^16 - beta) * u, 16)) */
static void ref_update(int32_t *master, int32_t *w, int32_t *vel, int32_t *m,
                       const int32_t *grad, int64_t n, uint64_t lr, uint64_t wd, uint32_t mu,
                       uint32_t beta, const struct fixed_spec *q, int64_t *sat)
{
    enum fixed_rounding r = q->rounding;
    for (int64_t i = 0; i < n; i++) {
        i128 g = (i128)grad[i] +
                 ref_shift((i128)wd * master[i], FIXED_LR_FRAC + q->master.frac - q->grad.frac, r);
        vel[i] = ref_sat(ref_shift((i128)mu * vel[i], FIXED_COEF_FRAC, r) + g, q->grad, sat);
        int32_t u = ref_sat(ref_shift((i128)lr * vel[i], FIXED_LR_FRAC + q->grad.frac -
                                                             q->master.frac, r),
                            q->master, sat);
        master[i] = ref_sat((i128)master[i] - u, q->master, sat);
        w[i] = ref_narrow(master[i], q->master.frac, q->weight, r, sat);
        if (m)
            m[i] = ref_sat(ref_shift((i128)beta * m[i] +
                                         (i128)(((int64_t)1 << FIXED_COEF_FRAC) - beta) * u,
                                     FIXED_COEF_FRAC, r),
                           q->master, sat);
    }
}

struct update_case {
    double lr, wd, mu, beta;   /* beta < 0: no ema buffer */
    int shrink;                /* of the random masters, gradients, velocities */
};

static void test_update_against_reference(void **state)
{
    (void)state;
    const struct update_case cases[] = {
        {0.01, 0, 0, -1, 4},         /* plain SGD: momentum 0, weight decay 0 */
        {0.05, 5e-4, 0.9, -1, 4},    /* momentum and weight decay */
        {0.05, 0, 0.9, 0.99, 4},     /* ema */
        {0.5, 0.01, 0.5, 0.5, 0},    /* full-range words: velocities, masters saturate */
        {3.0, 0.2, 0.99, 0.9, 0},
        {1.0 / 65536, 1e-6, 0.999, 0.999, 8},
    };
    enum { N = 3000 };
    struct rng r;
    rng_seed(&r, SEED + 8);
    print_message("  seed %u\n", SEED + 8);
    int32_t *master = words(N), *w = words(N), *vel = words(N), *m = words(N), *g = words(N);
    int32_t *master_ref = words(N), *w_ref = words(N), *vel_ref = words(N), *m_ref = words(N);
    struct tally t = {0, 0, 0};
    int64_t ties0 = ref_ties;
    for (size_t sp = 0; sp < 3; sp++)
        for (int mode = 0; mode < 2; mode++)
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                const struct update_case *k = &cases[c];
                struct fixed_spec q = SPECS[sp](MODES[mode]);
                fill(master, N, q.master, k->shrink, &r);
                fill(vel, N, q.grad, k->shrink, &r);
                fill(g, N, q.grad, k->shrink, &r);
                fill(m, N, q.master, k->shrink + 6, &r);
                memcpy(master_ref, master, sizeof(int32_t) * N);
                memcpy(vel_ref, vel, sizeof(int32_t) * N);
                memcpy(m_ref, m, sizeof(int32_t) * N);
                uint64_t lr = fixed_const(k->lr, FIXED_LR_FRAC);
                uint64_t wd = fixed_const(k->wd, FIXED_LR_FRAC);
                uint32_t mu = (uint32_t)fixed_const(k->mu, FIXED_COEF_FRAC);
                uint32_t beta = k->beta < 0 ? 0 : (uint32_t)fixed_const(k->beta, FIXED_COEF_FRAC);
                int ema = k->beta >= 0;
                for (int step = 0; step < 3; step++) {   /* state carries over */
                    int64_t sat = 0, sat_ref = 0;
                    fixed_update(master, w, vel, ema ? m : NULL, g, N, lr, wd, mu, beta, &q,
                                 &sat);
                    ref_update(master_ref, w_ref, vel_ref, ema ? m_ref : NULL, g, N, lr, wd, mu,
                               beta, &q, &sat_ref);
                    EXPECT_SAME("update master", master, master_ref, N);
                    EXPECT_SAME("update w", w, w_ref, N);
                    EXPECT_SAME("update v", vel, vel_ref, N);
                    if (ema)
                        EXPECT_SAME("update m", m, m_ref, N);
                    assert_int_equal(sat, sat_ref);
                    t.words += N * (3 + ema), t.sat += sat;
                }
            }
    t.ties = ref_ties - ties0;
    tally_report("update, 3 format sets x 2 modes x 6 settings, 3 steps", &t);
    free(master), free(w), free(vel), free(m), free(g);
    free(master_ref), free(w_ref), free(vel_ref), free(m_ref);
}

static void test_update_hand_cases(void **state)
{
    (void)state;
    /* default formats: grad Q(32,20), master Q(32,28), weight Q(16,14) */
    struct fixed_spec q = spec_default(FIXED_NEAREST_EVEN);
    uint64_t lr1 = (uint64_t)1 << 32;   /* lr per sample 1.0 */
    int32_t master[4] = {0, 1 << 28, INT32_MAX - 10, INT32_MIN + 5};
    int32_t vel[4] = {0, 0, 0, 0}, w[4], g[4] = {1, -(1 << 20), -1, 1};
    int64_t sat = 0;
    /* momentum 0, wd 0: v = g, u = g in master (<< 8), master -= u */
    fixed_update(master, w, vel, NULL, g, 4, lr1, 0, 0, 0, &q, &sat);
    assert_memory_equal(vel, g, sizeof g);
    assert_int_equal(master[0], -256);
    assert_int_equal(master[1], 2 << 28);   /* 1 - (-1) = 2.0 */
    assert_int_equal(master[2], INT32_MAX);   /* + 256: clamped */
    assert_int_equal(master[3], INT32_MIN);   /* - 256: clamped */
    assert_int_equal(w[0], 0);                /* -2^-20 in Q(16,14): rounds to 0 */
    assert_int_equal(w[1], 32767);            /* 2.0: clamped to 1.99994 */
    assert_int_equal(w[2], 32767);
    assert_int_equal(w[3], -32768);
    assert_int_equal(sat, 2 + 3);   /* two masters; weights 2.0, 7.99, -8.0 */
    /* momentum 0.5 on v = 3 (3 * 2^-20): mu*v = 1.5 -> 2 (even), + g 0 */
    int32_t v1[3] = {3, 5, -3}, ms[3] = {0, 0, 0}, w1[3], z3[3] = {0, 0, 0};
    sat = 0;
    fixed_update(ms, w1, v1, NULL, z3, 3, 0, 0, 1u << 15, 0, &q, &sat);
    assert_memory_equal(v1, ((int32_t[]){2, 2, -2}), sizeof v1);   /* 1.5, 2.5, -1.5 */
    struct fixed_spec qt = spec_default(FIXED_TRUNCATE);
    int32_t v2[3] = {3, 5, -3};
    fixed_update(ms, w1, v2, NULL, z3, 3, 0, 0, 1u << 15, 0, &qt, &sat);
    assert_memory_equal(v2, ((int32_t[]){1, 2, -2}), sizeof v2);
    /* weight decay 0.5 on master 1.0: g' = 0.5 in grad = 2^19; lr 0 leaves the master */
    int32_t mw[1] = {1 << 28}, vw[1] = {0}, gw[1] = {0}, ww[1];
    fixed_update(mw, ww, vw, NULL, gw, 1, 0, (uint64_t)1 << 31, 0, 0, &q, &sat);
    assert_int_equal(vw[0], 1 << 19);
    assert_int_equal(mw[0], 1 << 28);
    assert_int_equal(ww[0], 1 << 14);
    /* ema, beta 0.5: m = (m + u) / 2 with u = lr*v; lr 2^-8 per sample, v = 1.0
     * (2^20): u = 2^-8 = 2^20 in master; m from 1 -> (1 + 2^20) / 2 = 524288.5 -> even */
    int32_t me[2] = {1, 3}, mm[2] = {0, 0}, ve[2] = {1 << 20, 1 << 20}, ge[2] = {0, 0}, we[2];
    sat = 0;
    fixed_update(mm, we, ve, me, ge, 2, (uint64_t)1 << 24, 0, 1u << 16, 1u << 15, &q, &sat);
    assert_memory_equal(mm, ((int32_t[]){-(1 << 20), -(1 << 20)}), sizeof mm);
    assert_memory_equal(me, ((int32_t[]){524288, 524290}), sizeof me);   /* .5 -> even */
    assert_int_equal(sat, 0);
}

/* lr * v needs more than 64 bits: grad Q(32,24) and master Q(32,4) narrow the
 * product by 32 + 24 - 4 = 52. lr = 2^51 (lr per sample 2^19), v = +-(2^20 + 1)
 * and 2^20 + 3: products near 2^71, results 524288.5 (-> even 524288, floor
 * 524288), -524288.5 (-> -524288, floor -524289), 524289.5 (-> 524290). */
static void test_update_lr_product_needs_128_bits(void **state)
{
    (void)state;
    struct fixed_spec q = {{16, 10}, {16, 12}, {24, 2}, {32, 4}, {32, 24}, 48, FIXED_NEAREST_EVEN};
    const int32_t g[3] = {(1 << 20) + 1, -((1 << 20) + 1), (1 << 20) + 3};
    for (int m = 0; m < 2; m++) {
        q.rounding = MODES[m];
        int32_t master[3] = {0, 0, 0}, vel[3] = {0, 0, 0}, w[3], ema[3] = {0, 0, 0};
        int64_t sat = 0;
        fixed_update(master, w, vel, ema, g, 3, (uint64_t)1 << 51, 0, 0, 0, &q, &sat);
        if (MODES[m] == FIXED_NEAREST_EVEN) {
            assert_memory_equal(master, ((int32_t[]){-524288, 524288, -524290}), sizeof master);
            assert_memory_equal(w, ((int32_t[]){-131072, 131072, -131072}), sizeof w);
        } else {
            assert_memory_equal(master, ((int32_t[]){-524288, 524289, -524289}), sizeof master);
            /* floor of -524289 / 4 = -131072.25 */
            assert_memory_equal(w, ((int32_t[]){-131072, 131072, -131073}), sizeof w);
        }
        /* beta 0: m = u */
        for (int i = 0; i < 3; i++)
            assert_int_equal(ema[i], -master[i]);
        assert_int_equal(sat, 0);
    }
    /* A learning rate near 2^64 on the largest velocity: u far past the master
     * format (about 2^63 * 2^31 / 2^52), clamped and counted once, and the
     * master clamped once more. */
    q.rounding = FIXED_NEAREST_EVEN;
    int32_t master[2] = {0, 0}, vel[2] = {0, 0}, w[2];
    const int32_t gbig[2] = {INT32_MAX, INT32_MIN};
    int64_t sat = 0, sat_ref = 0;
    uint64_t lr = UINT64_MAX - 12345;
    fixed_update(master, w, vel, NULL, gbig, 2, lr, 0, 0, 0, &q, &sat);
    assert_int_equal(master[0], INT32_MIN + 1);   /* 0 - INT32_MAX */
    assert_int_equal(master[1], INT32_MAX);       /* 0 - INT32_MIN: clamped */
    int32_t mr[2] = {0, 0}, vr[2] = {0, 0}, wr[2];
    ref_update(mr, wr, vr, NULL, gbig, 2, lr, 0, 0, 0, &q, &sat_ref);
    assert_memory_equal(master, mr, sizeof mr);
    assert_memory_equal(w, wr, sizeof wr);
    assert_int_equal(sat, sat_ref);
    /* 2 u clamps, 1 master clamp, 2 weight clamps (Q(24,2) from +-2^27 in Q(32,4)) */
    assert_int_equal(sat, 5);
}

static void test_rebuild_gap_zero_and_saturating(void **state)
{
    (void)state;
    enum { N = 1000 };
    struct rng r;
    rng_seed(&r, SEED + 9);
    print_message("  seed %u\n", SEED + 9);
    int32_t *master = words(N), *m = words(N), *out = words(N), *ref = words(N);
    const int64_t gaps[] = {0, 1, 2, 6, 100, 1 << 20};
    int64_t total_sat = 0;
    for (size_t sp = 0; sp < 3; sp++)
        for (int mode = 0; mode < 2; mode++) {
            struct fixed_spec q = SPECS[sp](MODES[mode]);
            fill(master, N, q.master, 0, &r);
            fill(m, N, q.master, 8, &r);
            for (size_t k = 0; k < sizeof gaps / sizeof gaps[0]; k++) {
                int64_t sat = 0, sat_ref = 0;
                fixed_rebuild(out, master, m, gaps[k], N, &q, &sat);
                for (int i = 0; i < N; i++)
                    ref[i] = ref_narrow((i128)master[i] + (i128)gaps[k] * m[i], q.master.frac,
                                        q.weight, q.rounding, &sat_ref);
                EXPECT_SAME("rebuild", out, ref, N);
                assert_int_equal(sat, sat_ref);
                total_sat += sat;
                if (gaps[k] == 0) {   /* gap 0: the live weights, narrow(master) */
                    int64_t s0 = 0;
                    for (int i = 0; i < N; i++)
                        assert_int_equal(out[i], fixed_narrow(master[i], q.master.frac, q.weight,
                                                              q.rounding, &s0));
                    assert_int_equal(s0, sat);
                }
            }
        }
    free(master), free(m), free(out), free(ref);
    /* gap * m past the weight format: clamped and counted, both signs. Default
     * weight Q(16,14) top is 1.99994 = 2^30 - 2^14 in Q(32,28). */
    struct fixed_spec q = spec_default(FIXED_NEAREST_EVEN);
    const int32_t mst[4] = {0, 0, 1 << 28, -(1 << 28)};
    const int32_t mm[4] = {1 << 26, -(1 << 26), 1 << 20, -(1 << 20)};
    int32_t o[4];
    int64_t sat = 0;
    fixed_rebuild(o, mst, mm, 8, 4, &q, &sat);   /* 2.0, -2.0, 1.03, -1.03 */
    assert_int_equal(o[0], 32767);
    assert_int_equal(o[1], -32768);   /* -2.0 is the bottom: in range */
    assert_int_equal(o[2], (1 << 14) + 512);
    assert_int_equal(o[3], -(1 << 14) - 512);
    assert_int_equal(sat, 1);
    fixed_rebuild(o, mst, mm, 64, 4, &q, &sat);   /* 16.0, -16.0, 1.25, -1.25 */
    assert_int_equal(o[0], 32767);
    assert_int_equal(o[1], -32768);
    assert_int_equal(sat, 3);
    assert_true(total_sat > 0);
}

/* ---- fixed_check, fixed_acc_bits_needed ---- */

static void dense_layer(struct net_layer *ly, const char *name, int input, int out)
{
    snprintf(ly->name, NET_NAME_MAX, "%s", name);
    ly->kind = NET_DENSE;
    ly->n_inputs = 1;
    ly->inputs[0] = input;
    ly->out = out;
    ly->bias = 1;
}

static void net_one_dense(struct net *n, int I, int O)
{
    assert_int_equal(net_init(n, 1), 0);
    n->input.rank = 1;
    n->input.dim[0] = I;
    dense_layer(&n->layers[0], "fc1", NET_INPUT, O);
    assert_int_equal(net_infer(n, NULL), 0);
}

static struct fixed_spec spec_q16(int acc_bits)
{
    return (struct fixed_spec){{16, 10}, {16, 12}, {16, 14}, {32, 28}, {32, 20}, acc_bits,
                               FIXED_NEAREST_EVEN};
}

static void test_check_dense_784_needs_41_bits(void **state)
{
    (void)state;
    struct net n;
    struct diag e;
    net_one_dense(&n, 784, 256);
    struct fixed_spec q = spec_q16(41);
    /* 16 + 16 - 1 + ceil(log2(784 + 1)) = 41 */
    assert_int_equal(fixed_acc_bits_needed(&n, 0, &q, 32), 41);
    assert_int_equal(fixed_check(&n, &q, 32, &e), 0);
    q.acc_bits = 40;
    memset(&e, 0, sizeof e);
    assert_int_equal(fixed_check(&n, &q, 32, &e), -1);
    assert_int_equal(e.layer, 0);
    assert_non_null(e.field);
    assert_string_equal(e.field, "accumulator_bits");
    assert_non_null(strstr(e.msg, "fc1"));
    assert_non_null(strstr(e.msg, "41"));
    net_free(&n);
}

/* conv -> flatten -> dense: each layer's own need; the refusal names the
 * first layer that does not fit. */
static void test_check_names_the_layer(void **state)
{
    (void)state;
    struct net n;
    struct diag e;
    assert_int_equal(net_init(&n, 4), 0);
    n.input.rank = 3;
    n.input.dim[0] = 3, n.input.dim[1] = 14, n.input.dim[2] = 14;
    struct net_layer *ly = n.layers;
    snprintf(ly[0].name, NET_NAME_MAX, "conv1");
    ly[0].kind = NET_CONV, ly[0].n_inputs = 1, ly[0].inputs[0] = NET_INPUT;
    ly[0].out = 4, ly[0].kernel = 3, ly[0].stride = 1, ly[0].pad = 1, ly[0].bias = 1;
    snprintf(ly[1].name, NET_NAME_MAX, "pool");
    ly[1].kind = NET_MAXPOOL, ly[1].n_inputs = 1, ly[1].inputs[0] = 0;
    ly[1].kernel = 1, ly[1].stride = 1;
    snprintf(ly[2].name, NET_NAME_MAX, "flat");
    ly[2].kind = NET_FLATTEN, ly[2].n_inputs = 1, ly[2].inputs[0] = 1;
    dense_layer(&ly[3], "fc", 2, 10);
    assert_int_equal(net_infer(&n, NULL), 0);
    struct fixed_spec q = spec_q16(64);
    /* conv1: forward 31 + ceil(log2(27 + 1)) = 36; input gradient 31 + ceil(log2(36)) = 37;
     * weight gradient 31 + ceil(log2(B * 196)) = 31 + 10 = 41 for B = 3 (588). */
    assert_int_equal(fixed_acc_bits_needed(&n, 0, &q, 3), 41);
    assert_int_equal(fixed_acc_bits_needed(&n, 1, &q, 3), 0);   /* no products */
    assert_int_equal(fixed_acc_bits_needed(&n, 2, &q, 3), 0);
    /* fc: 784 inputs: 41; input gradient 31 + 4 = 35; weight gradient 31 + 2 = 33 */
    assert_int_equal(fixed_acc_bits_needed(&n, 3, &q, 3), 41);
    /* B = 1: conv1's weight gradient is 31 + 8 = 39; fc keeps 41. */
    assert_int_equal(fixed_acc_bits_needed(&n, 0, &q, 1), 39);
    q.acc_bits = 40;
    assert_int_equal(fixed_check(&n, &q, 1, &e), -1);
    assert_int_equal(e.layer, 3);
    assert_string_equal(e.field, "accumulator_bits");
    assert_non_null(strstr(e.msg, "fc"));
    /* B = 5 (980 products): conv1 needs 31 + 10 = 41 too and is refused first at 40 */
    assert_int_equal(fixed_check(&n, &q, 5, &e), -1);
    assert_int_equal(e.layer, 0);
    assert_non_null(strstr(e.msg, "conv1"));
    q.acc_bits = 41;
    assert_int_equal(fixed_check(&n, &q, 5, &e), 0);
    q.acc_bits = 65;   /* wider than the int64 sums */
    assert_int_equal(fixed_check(&n, &q, 5, &e), -1);
    assert_string_equal(e.field, "accumulator_bits");
    net_free(&n);
}

static void test_check_refuses_bad_formats(void **state)
{
    (void)state;
    struct net n;
    struct diag e;
    net_one_dense(&n, 8, 4);
    struct fixed_spec ok = spec_q16(48);
    assert_int_equal(fixed_check(&n, &ok, 4, &e), 0);
    const struct fixed_fmt bad[] = {{16, 16}, {16, 17}, {33, 10}, {40, 0}, {1, 0}, {16, -1}};
    for (int which = 0; which < 5; which++)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            struct fixed_spec q = ok;
            struct fixed_fmt *f[] = {&q.act, &q.err, &q.weight, &q.master, &q.grad};
            *f[which] = bad[k];
            memset(&e, 0, sizeof e);
            if (fixed_check(&n, &q, 4, &e) != -1)
                fail_msg("format %d Q(%d,%d) accepted", which, bad[k].bits, bad[k].frac);
            assert_non_null(e.field);
            assert_true(e.msg[0] != '\0');
        }
    /* the widest legal formats pass the format check */
    struct fixed_spec wide = ok;
    wide.master = (struct fixed_fmt){32, 31};
    wide.grad = (struct fixed_fmt){32, 0};
    assert_int_equal(fixed_check(&n, &wide, 4, &e), 0);
    wide.act = (struct fixed_fmt){2, 1};
    assert_int_equal(fixed_check(&n, &wide, 4, &e), 0);
    /* the master needs at least the weight's fraction bits */
    struct fixed_spec mf = ok;
    mf.master = (struct fixed_fmt){32, 13};
    assert_int_equal(fixed_check(&n, &mf, 4, &e), -1);
    net_free(&n);
}

/* The number of bits a signed word needs to hold v. */
static int signed_bits(i128 v)
{
    int b = 1;
    while (v > ((i128)1 << (b - 1)) - 1 || v < -((i128)1 << (b - 1)))
        b++;
    return b;
}

/* The accumulator must hold the largest exact sum (fixed.h; numerics.md: "The
 * accumulator never overflows"). A product of two most-negative words,
 * (-2^(a-1)) * (-2^(e-1)) = +2^(a+e-2), needs a + e bits, not a + e - 1: a
 * sum of K of them needs a + e - 1 + ceil(log2(K + 1)) bits, which is one more
 * than a + e - 1 + ceil(log2(K)) when K is a power of two. Dense 128 -> 256 with
 * 16-bit words: the input gradient sums 256 products dy * w; with dy = w =
 * -32768 throughout that is 256 * 2^30 = 2^38, which needs 40 bits. */
static void test_acc_bits_hold_most_negative_products(void **state)
{
    (void)state;
    struct net n;
    net_one_dense(&n, 128, 256);
    struct fixed_spec q = spec_q16(64);
    int B = 3;
    i128 fwd = (i128)128 * (-32768) * (-32768) + (i128)32767 * (1 << q.act.frac);
    i128 in_grad = (i128)256 * (-32768) * (-32768);
    i128 w_grad = (i128)B * (-32768) * (-32768);
    int need = signed_bits(fwd);
    need = signed_bits(in_grad) > need ? signed_bits(in_grad) : need;
    need = signed_bits(w_grad) > need ? signed_bits(w_grad) : need;
    int got = fixed_acc_bits_needed(&n, 0, &q, B);
    print_message("  largest exact sums need %d bits (forward %d, input gradient %d, weight "
                  "gradient %d); fixed_acc_bits_needed says %d\n", need, signed_bits(fwd),
                  signed_bits(in_grad), signed_bits(w_grad), got);
    net_free(&n);
    assert_true(got >= need);
}

/* ---- float against fixed ---- */

/* A small dense layer on quantized inputs: the fixed result, dequantized, is
 * within one step of the float kernel (the forward and the input gradient
 * round once; the weight gradient adds the float rounding of its B products). */
static void test_fixed_close_to_float(void **state)
{
    (void)state;
    enum { B = 4, I = 24, O = 10 };
    struct rng r;
    rng_seed(&r, SEED + 10);
    print_message("  seed %u\n", SEED + 10);
    for (int mode = 0; mode < 2; mode++) {
        struct fixed_spec q = spec_default(MODES[mode]);
        int32_t x[B * I], W[I * O], b[O], dy[B * O], y[B * O], dx[B * I], dW[I * O], db[O];
        float xf[B * I], Wf[I * O], bf[O], dyf[B * O], yf[B * O], dxf[B * I], dWf[I * O], dbf[O];
        for (int i = 0; i < B * I; i++)
            x[i] = fixed_from_double(rng_normal(&r), q.act, q.rounding, NULL);
        for (int i = 0; i < I * O; i++)
            W[i] = fixed_from_double(0.3 * rng_normal(&r), q.weight, q.rounding, NULL);
        for (int i = 0; i < O; i++)
            b[i] = fixed_from_double(0.3 * rng_normal(&r), q.weight, q.rounding, NULL);
        for (int i = 0; i < B * O; i++)
            dy[i] = fixed_from_double(0.5 * rng_normal(&r), q.err, q.rounding, NULL);
        for (int i = 0; i < B * I; i++)
            xf[i] = (float)fixed_to_double(x[i], q.act);
        for (int i = 0; i < I * O; i++)
            Wf[i] = (float)fixed_to_double(W[i], q.weight);
        for (int i = 0; i < O; i++)
            bf[i] = (float)fixed_to_double(b[i], q.weight);
        for (int i = 0; i < B * O; i++)
            dyf[i] = (float)fixed_to_double(dy[i], q.err);
        void *scratch = xalloc((size_t)fixed_dense_scratch(B, I, O));
        float *fscratch = xalloc(sizeof(float) * (size_t)dense_scratch(B, I, O));
        int64_t sat = 0;
        fixed_dense_forward(y, x, W, b, B, I, O, &q, scratch, &sat);
        fixed_dense_backward(dx, dW, db, dy, x, W, B, I, O, &q, scratch, &sat);
        assert_int_equal(sat, 0);
        dense_forward(yf, xf, Wf, bf, B, I, O);
        memset(dWf, 0, sizeof dWf), memset(dbf, 0, sizeof dbf);
        dense_backward(dxf, dWf, dbf, dyf, xf, Wf, B, I, O, fscratch);
        double wy = 0, wdx = 0, wdw = 0, wdb = 0;   /* worst |fixed - float| in steps */
        for (int i = 0; i < B * O; i++)
            wy = fmax(wy, fabs(fixed_to_double(y[i], q.act) - yf[i]) * ldexp(1, q.act.frac));
        for (int i = 0; i < B * I; i++)
            wdx = fmax(wdx, fabs(fixed_to_double(dx[i], q.err) - dxf[i]) * ldexp(1, q.err.frac));
        for (int i = 0; i < I * O; i++)
            wdw = fmax(wdw, fabs(fixed_to_double(dW[i], q.grad) - dWf[i]) * ldexp(1, q.grad.frac));
        for (int i = 0; i < O; i++)
            wdb = fmax(wdb, fabs(fixed_to_double(db[i], q.grad) - dbf[i]) * ldexp(1, q.grad.frac));
        print_message("  %s: worst |fixed - float| in steps of the format: y %.3f, dx %.3f, "
                      "dW %.3f, db %.3f\n", mode_name(q.rounding), wy, wdx, wdw, wdb);
        double one = mode ? 1.0 : 0.5;   /* floor: below 1 step; nearest: half a step */
        assert_true(wy <= one + 0.01);
        assert_true(wdx <= one + 0.01);
        assert_true(wdw <= 4.0);
        assert_true(wdb <= one + 0.01);
        free(scratch), free(fscratch);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shift_halves_and_floors),
        cmocka_unit_test(test_shift_zero_and_left),
        cmocka_unit_test(test_shift_random_against_reference),
        cmocka_unit_test(test_sat_bounds_of_every_width),
        cmocka_unit_test(test_narrow_halves_and_bounds),
        cmocka_unit_test(test_from_double_halves_nan_inf),
        cmocka_unit_test(test_to_double_and_const),
        cmocka_unit_test(test_dense_bit_exact),
        cmocka_unit_test(test_dense_saturates_counted),
        cmocka_unit_test(test_conv_bit_exact),
        cmocka_unit_test(test_bit_exact_check_catches_one_flipped_bit),
        cmocka_unit_test(test_maxpool_first_maximum_on_ties),
        cmocka_unit_test(test_maxpool_backward_overlap_saturates),
        cmocka_unit_test(test_maxpool_random_against_reference),
        cmocka_unit_test(test_avgpool_rounding_hand_cases),
        cmocka_unit_test(test_avgpool_random_against_reference),
        cmocka_unit_test(test_avgpool_backward_overlap_stays_in_format),
        cmocka_unit_test(test_add_exact_then_saturate),
        cmocka_unit_test(test_loss_softmax_and_mse_against_double),
        cmocka_unit_test(test_loss_not_divided_by_batch),
        cmocka_unit_test(test_update_against_reference),
        cmocka_unit_test(test_update_hand_cases),
        cmocka_unit_test(test_update_lr_product_needs_128_bits),
        cmocka_unit_test(test_rebuild_gap_zero_and_saturating),
        cmocka_unit_test(test_check_dense_784_needs_41_bits),
        cmocka_unit_test(test_check_names_the_layer),
        cmocka_unit_test(test_check_refuses_bad_formats),
        cmocka_unit_test(test_acc_bits_hold_most_negative_products),
        cmocka_unit_test(test_fixed_close_to_float),
    };
    return cmocka_run_group_tests_name("fixed", tests, NULL, NULL);
}
