/* test_rtl_fx_narrow.c - rtl/fx_narrow.sv against model/fixed.c: fixed_narrow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../model/fixed.h"
#include "../model/rng.h"
#include "../sim/blocks.h"

#define SEED 4242u
#define VECTORS 20000

/* The RTL against an expected answer; returns 1 on a mismatch (and prints it). */
static int check(struct sim_narrow *s, int64_t x, int shift, int bits, int even, int32_t want,
                 int64_t sat)
{
    int rtl_sat;
    int32_t got = sim_narrow_eval(s, x, shift, bits, even, &rtl_sat);
    if (got != want || rtl_sat != (sat > 0)) {
        print_error("x %lld shift %d bits %d %s: rtl %d (sat %d), model %d (sat %d)\n",
                    (long long)x, shift, bits, even ? "nearest_even" : "truncate", got, rtl_sat,
                    want, (int)(sat > 0));
        return 1;
    }
    return 0;
}

/* The RTL against the model's fixed_narrow (shift = frac_in - frac_out, frac_out 0). */
static int compare(struct sim_narrow *s, int64_t x, int shift, int bits, int even)
{
    struct fixed_fmt f = {bits, 0};
    int64_t sat = 0;
    int32_t want = fixed_narrow(x, shift, f, even ? FIXED_NEAREST_EVEN : FIXED_TRUNCATE, &sat);
    return check(s, x, shift, bits, even, want, sat);
}

/* Values around the rounding and saturation corners of one (shift, bits). */
static int corners(struct sim_narrow *s, int shift, int bits, int even)
{
    int bad = 0;
    int64_t unit = shift > 0 ? (int64_t)1 << shift : 1;
    int64_t top = ((int64_t)1 << (bits - 1)) * unit;
    const int64_t base[] = {0, unit / 2, -unit / 2, unit + unit / 2, -unit - unit / 2,
                            3 * unit / 2 + 1, top, top - 1, top - unit / 2, -top,
                            -top - 1, -top - unit / 2 - 1};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        for (int64_t dx = -1; dx <= 1; dx++)
            bad += compare(s, base[i] + dx, shift, bits, even);
    return bad;
}

static void test_corners(void **state)
{
    struct sim_narrow *s = *state;
    int bad = 0, n = 0;
    for (int shift = -8; shift <= 40; shift++)
        for (int bits = 2; bits <= 32; bits++)
            for (int even = 0; even <= 1; even++) {
                if (bits + (shift < 0 ? -shift : shift) > 60)   /* corners fit in int64 */
                    continue;
                bad += corners(s, shift, bits, even);
                n += 36;
            }
    print_message("  %d corner vectors, %d mismatches\n", n, bad);
    assert_int_equal(bad, 0);
}

static void test_random(void **state)
{
    struct sim_narrow *s = *state;
    struct rng r;
    int bad = 0;
    rng_seed(&r, SEED);
    print_message("  seed %u, %d vectors\n", SEED, VECTORS);
    for (int i = 0; i < VECTORS; i++) {
        int shift = (int)rng_below(&r, 63) - 8;   /* -8..54 */
        int bits = 2 + (int)rng_below(&r, 31);
        int mag = 1 + (int)rng_below(&r, shift < 0 ? 40 : 62);
        int64_t x = (int64_t)(rng_next(&r) >> (64 - mag));
        if (rng_next(&r) & 1)
            x = -x;
        bad += compare(s, x, shift, bits, (int)(rng_next(&r) & 1));
    }
    assert_int_equal(bad, 0);
}

/* The checker itself: an expected value off by one, or a wrong saturation flag,
 * must be reported as a mismatch. */
static void test_checker_catches_a_difference(void **state)
{
    struct sim_narrow *s = *state;
    assert_int_equal(check(s, 5, 1, 16, 1, 2, 0), 0);   /* 2.5 -> 2 */
    assert_int_equal(check(s, 5, 1, 16, 1, 3, 0), 1);
    assert_int_equal(check(s, 5, 1, 16, 1, 2, 1), 1);
}

static int setup(void **state)
{
    *state = sim_narrow_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_narrow_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corners),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_checker_catches_a_difference),
    };
    return cmocka_run_group_tests_name("rtl fx_narrow", tests, setup, teardown);
}
