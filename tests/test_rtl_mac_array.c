/* test_rtl_mac_array.c - rtl/mac_array.sv (through sim/blocks_mac_array.h) against exact
 * integer sums, and as the datapath of a dense layer's training products against
 * model/fixed.c: fixed_dense_forward and fixed_dense_backward, bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../model/fixed.h"
#include "../model/rng.h"
#include "../sim/blocks_mac_array.h"

__extension__ typedef __int128 i128;

#define R SIM_MAC_ROWS
#define C SIM_MAC_COLS
#define L SIM_MAC_LATENCY
#define KMAX 64
#define TAG_MASK ((1u << SIM_MAC_TAG_BITS) - 1u)

#define SEED_RANDOM 7101u
#define SEED_DENSE 7102u
#define SEED_STREAM 7103u
#define SEED_RESET 7104u
#define TILES 10000
#define STREAM_TILES 3000

#define REPORTS 5   /* mismatches printed per test; the rest are counted */

static int reports_left;   /* set by each test: how many more mismatches to print */

/* ---- helpers ---- */

/* The one allocation wrapper: cmocka's, so a leak fails the test. */
static void *xalloc(size_t bytes)
{
    void *p = test_calloc(1, bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

static int ceil_log2(int64_t n)
{
    int b = 0;
    while (((int64_t)1 << b) < n)
        b++;
    return b;
}

/* The number of sums that differ between the array's and the reference's; prints the
 * first difference with its place. This is the comparison every test uses. */
static int compare_sums(const char *what, int64_t step, const int64_t *got, const int64_t *want,
                        int n)
{
    int count = 0, first = -1;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            if (first < 0)
                first = i;
            count++;
        }
    if (count && reports_left-- > 0)
        print_error("%s, step %lld: %d of %d sums differ; first [%d][%d]: rtl %lld, "
                    "reference %lld\n", what, (long long)step, count, n, first / C, first % C,
                    (long long)got[first], (long long)want[first]);
    return count;
}

/* Bit-for-bit comparison of narrowed words (memcmp), printing the first difference. */
static int compare_words(const char *what, const int32_t *got, const int32_t *want, int64_t n)
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
    if (reports_left-- > 0)
        print_error("%s: %lld of %lld words differ; first [%lld]: rtl path %d, model %d\n", what,
                    (long long)count, (long long)n, (long long)first, got[first],
                    want[first]);
    return (int)count;
}

/* A random word of `bits` (2..32) bits: zeros, the extremes of the width and +-1 are
 * likely, the rest uniform over the width. */
static int32_t rand_op(struct rng *r, int bits)
{
    int64_t hi = ((int64_t)1 << (bits - 1)) - 1, lo = -hi - 1;
    switch (rng_below(r, 16)) {
    case 0:
    case 1:
        return 0;
    case 2:
        return (int32_t)lo;
    case 3:
        return (int32_t)hi;
    case 4:
        return rng_next(r) & 1 ? 1 : -1;
    default:
        return (int32_t)((int64_t)(rng_next(r) >> (64 - bits)) + lo);
    }
}

/* The exact tile sum in 128 bits, which must fit in int64 (the widths are chosen so). */
static void reference_tile(int64_t *want, const int32_t *a, const int32_t *b, int K)
{
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            i128 s = 0;
            for (int k = 0; k < K; k++)
                s += (i128)a[r * K + k] * b[k * C + c];
            assert_true(s >= INT64_MIN && s <= INT64_MAX);
            want[r * C + c] = (int64_t)s;
        }
}

/* ---- (a) random tile sums ---- */

static void test_random_tiles(void **state)
{
    struct sim_mac *s = *state;
    struct rng r;
    int32_t a[R * KMAX], b[KMAX * C];
    int gaps[KMAX];
    int64_t got[R * C], want[R * C];
    int64_t bad = 0, beats = 0, extremes = 0, gapped = 0;
    reports_left = REPORTS;
    rng_seed(&r, SEED_RANDOM);
    print_message("  seed %u, %d tiles, K 1..%d\n", SEED_RANDOM, TILES, KMAX);
    sim_mac_reset(s);
    for (int t = 0; t < TILES; t++) {
        int K = 1 + (int)rng_below(&r, KMAX);
        /* Operand widths such that every sum fits the 64-bit accumulator (the rule of
         * fixed_acc_bits_needed): wa + wb - 1 + ceil(log2(K + 1)) <= 64. Half the tiles
         * use the full 32 bits on one side, so INT32_MIN and INT32_MAX come in. */
        int wa = rng_next(&r) & 1 ? 32 : 2 + (int)rng_below(&r, 31);
        int wb_max = 65 - wa - ceil_log2(K + 1);
        wb_max = wb_max > 32 ? 32 : wb_max;
        int wb = rng_below(&r, 4) == 0 ? wb_max : 2 + (int)rng_below(&r, (uint32_t)wb_max - 1);
        if (rng_next(&r) & 1) {
            int w = wa;
            wa = wb;
            wb = w;
        }
        int zero_tile = rng_below(&r, 64) == 0;
        for (int i = 0; i < R * K; i++)
            a[i] = zero_tile ? 0 : rand_op(&r, wa);
        for (int i = 0; i < K * C; i++)
            b[i] = zero_tile ? 0 : rand_op(&r, wb);
        /* a few tiles of the extreme products only: INT32_MIN * INT32_MIN (K = 1) */
        if (rng_below(&r, 128) == 0) {
            K = 1;
            for (int i = 0; i < R; i++)
                a[i] = INT32_MIN;
            for (int i = 0; i < C; i++)
                b[i] = i & 1 ? INT32_MAX : INT32_MIN;
        }
        int gap_mode = (int)rng_below(&r, 3), G = 0;   /* none, sparse, dense */
        for (int k = 0; k < K; k++) {
            gaps[k] = gap_mode == 0 ? 0 : gap_mode == 1 ? (rng_below(&r, 8) == 0)
                                                        : (int)rng_below(&r, 4);
            G += gaps[k];
        }
        for (int i = 0; i < R * K; i++)
            extremes += a[i] == INT32_MIN || a[i] == INT32_MAX;
        for (int i = 0; i < K * C; i++)
            extremes += b[i] == INT32_MIN || b[i] == INT32_MAX;
        uint32_t tag = (uint32_t)t & TAG_MASK;
        struct sim_mac_tile_stats st;
        reference_tile(want, a, b, K);
        assert_int_equal(sim_mac_tile(s, a, b, K, gaps, tag, got, &st), 0);
        int n = compare_sums("random tile", t, got, want, R * C);
        if (st.tag != tag || st.latency != L || st.cycles != K + G + L - 1) {
            if (reports_left-- > 0)
                print_error("random tile %d: tag %u (want %u), latency %lld (want %d), "
                            "cycles %lld (want %d)\n", t, st.tag, tag, (long long)st.latency,
                            L, (long long)st.cycles, K + G + L - 1);
            n++;
        }
        bad += n > 0;
        beats += K;
        gapped += G;
    }
    print_message("  %lld beats, %lld idle cycles, %lld INT32_MIN/INT32_MAX operands; "
                  "%lld tiles differ\n", (long long)beats, (long long)gapped,
                  (long long)extremes, (long long)bad);
    assert_true(extremes > 0);
    assert_int_equal(bad, 0);
}

/* ---- (b) a dense layer's training products ---- */

/* C[M x N] = A[M x K] * B[K x N] on the array, tile by tile (R x C tiles of C, zero
 * padded at the edges), with random gaps. A(i, k) = A[i*a_si + k*a_sk] and
 * B(k, j) = B[k*b_sk + j*b_sj], so transposes are strides. */
static void mac_gemm(struct sim_mac *s, struct rng *r, int M, int N, int K, const int32_t *A,
                     int64_t a_si, int64_t a_sk, const int32_t *B, int64_t b_sk, int64_t b_sj,
                     int64_t *Cm)
{
    int32_t *ta = xalloc(sizeof *ta * (size_t)R * (size_t)K);
    int32_t *tb = xalloc(sizeof *tb * (size_t)K * C);
    int *gaps = xalloc(sizeof *gaps * (size_t)K);
    int64_t sums[R * C];
    uint32_t tag = 0;
    for (int i0 = 0; i0 < M; i0 += R)
        for (int j0 = 0; j0 < N; j0 += C) {
            for (int i = 0; i < R; i++)
                for (int k = 0; k < K; k++)
                    ta[i * K + k] = i0 + i < M ? A[(i0 + i) * a_si + k * a_sk] : 0;
            for (int k = 0; k < K; k++)
                for (int j = 0; j < C; j++)
                    tb[k * C + j] = j0 + j < N ? B[k * b_sk + (j0 + j) * b_sj] : 0;
            for (int k = 0; k < K; k++)
                gaps[k] = (int)rng_below(r, 3) == 0 ? (int)rng_below(r, 3) : 0;
            struct sim_mac_tile_stats st;
            tag = (tag + 1) & TAG_MASK;
            assert_int_equal(sim_mac_tile(s, ta, tb, K, gaps, tag, sums, &st), 0);
            assert_int_equal(st.tag, tag);
            for (int i = 0; i < R && i0 + i < M; i++)
                for (int j = 0; j < C && j0 + j < N; j++)
                    Cm[(int64_t)(i0 + i) * N + j0 + j] = sums[i * C + j];
        }
    test_free(gaps);
    test_free(tb);
    test_free(ta);
}

/* A random word of format f with `shrink` fewer significant bits and `tz` trailing zero
 * bits (so that exact halves come up in the narrowing); one in 16 is a bound. */
static int32_t rand_fmt(struct rng *r, struct fixed_fmt f, int shrink, int tz)
{
    int n = f.bits - shrink < 2 ? 2 : f.bits - shrink;
    uint64_t pick = rng_next(r);
    tz = tz > n - 2 ? n - 2 : tz;   /* clearing low bits keeps the word in the format */
    if (shrink == 0 && (pick & 15) == 0) {
        int64_t hi = ((int64_t)1 << (f.bits - 1)) - 1;
        return (int32_t)(pick & 16 ? hi : -hi - 1);
    }
    int64_t v = (int64_t)(rng_next(r) >> (64 - n)) - ((int64_t)1 << (n - 1));
    return (int32_t)(v & ~(((int64_t)1 << tz) - 1));
}

static void fill_fmt(int32_t *w, int64_t n, struct fixed_fmt f, struct rng *r)
{
    int shrink = (int)rng_below(r, 6), tz = (int)rng_below(r, 10);
    for (int64_t i = 0; i < n; i++)
        w[i] = rand_fmt(r, f, shrink, tz);
}

/* What the dense test exercised. */
struct tally {
    int64_t words, sat, ties;
};

/* Narrow n sums from frac_in to f as the model does; counts exact halves. */
static void narrow_sums(int32_t *out, const int64_t *acc, int64_t n, int frac_in,
                        struct fixed_fmt f, enum fixed_rounding mode, int64_t *sat,
                        struct tally *t)
{
    int sh = frac_in - f.frac;
    for (int64_t i = 0; i < n; i++) {
        out[i] = fixed_narrow(acc[i], frac_in, f, mode, sat);
        if (sh > 0 && (acc[i] & (((int64_t)1 << sh) - 1)) == (int64_t)1 << (sh - 1))
            t->ties++;
    }
    t->words += n;
}

/* One dense layer (B samples, I inputs, O outputs) under spec q: forward and backward
 * on the array, then narrowed; compared with fixed_dense_forward/backward. Returns the
 * number of differing words (saturation counts included). */
static int dense_case(struct sim_mac *s, struct rng *r, int B, int I, int O,
                      const struct fixed_spec *q, struct tally *t)
{
    int64_t nx = (int64_t)B * I, nw = (int64_t)I * O, ny = (int64_t)B * O;
    int32_t *x = xalloc(4 * (size_t)nx), *W = xalloc(4 * (size_t)nw), *b = xalloc(4 * (size_t)O);
    int32_t *dy = xalloc(4 * (size_t)ny);
    int32_t *y_m = xalloc(4 * (size_t)ny), *y_a = xalloc(4 * (size_t)ny);
    int32_t *dx_m = xalloc(4 * (size_t)nx), *dx_a = xalloc(4 * (size_t)nx);
    int32_t *dW_m = xalloc(4 * (size_t)nw), *dW_a = xalloc(4 * (size_t)nw);
    int32_t *db_m = xalloc(4 * (size_t)O), *db_a = xalloc(4 * (size_t)O);
    int32_t *xa = xalloc(4 * (size_t)(B * (I + 1))), *Wa = xalloc(4 * (size_t)((I + 1) * O));
    int32_t *xta = xalloc(4 * (size_t)((I + 1) * B));
    int64_t *acc = xalloc(8 * (size_t)((I + 1) * (O > B ? O : B) + nx));
    void *scratch = xalloc((size_t)fixed_dense_scratch(B, I, O));
    int64_t sat_m = 0, sat_a = 0;
    int bad = 0;

    fill_fmt(x, nx, q->act, r);
    fill_fmt(W, nw, q->weight, r);
    fill_fmt(b, O, q->weight, r);
    fill_fmt(dy, ny, q->err, r);

    /* the model */
    fixed_dense_forward(y_m, x, W, b, B, I, O, q, scratch, &sat_m);
    fixed_dense_backward(dx_m, dW_m, db_m, dy, x, W, B, I, O, q, scratch, &sat_m);

    /* forward: [x | 2^act.frac] * [W ; b], so the array adds the bias << act.frac as one
     * more beat; narrowed from act.frac + weight.frac to act */
    for (int i = 0; i < B; i++) {
        memcpy(xa + i * (I + 1), x + i * I, 4 * (size_t)I);
        xa[i * (I + 1) + I] = (int32_t)1 << q->act.frac;
    }
    memcpy(Wa, W, 4 * (size_t)nw);
    memcpy(Wa + nw, b, 4 * (size_t)O);
    mac_gemm(s, r, B, O, I + 1, xa, I + 1, 1, Wa, O, 1, acc);
    narrow_sums(y_a, acc, ny, q->act.frac + q->weight.frac, q->act, q->rounding, &sat_a, t);

    /* weight gradient: [x^T ; 1] * dy; rows < I are dW (act.frac + err.frac -> grad),
     * row I is the bias gradient, the batch sum of dy (err.frac -> grad) */
    for (int i = 0; i < I; i++)
        for (int k = 0; k < B; k++)
            xta[i * B + k] = x[k * I + i];
    for (int k = 0; k < B; k++)
        xta[I * B + k] = 1;
    mac_gemm(s, r, I + 1, O, B, xta, B, 1, dy, O, 1, acc);
    narrow_sums(dW_a, acc, nw, q->act.frac + q->err.frac, q->grad, q->rounding, &sat_a, t);
    narrow_sums(db_a, acc + nw, O, q->err.frac, q->grad, q->rounding, &sat_a, t);

    /* input gradient: dy * W^T (W^T read through strides); err.frac + weight.frac -> err */
    mac_gemm(s, r, B, I, O, dy, O, 1, W, 1, O, acc);
    narrow_sums(dx_a, acc, nx, q->err.frac + q->weight.frac, q->err, q->rounding, &sat_a, t);

    bad += compare_words("forward y", y_a, y_m, ny);
    bad += compare_words("weight gradient dW", dW_a, dW_m, nw);
    bad += compare_words("bias gradient db", db_a, db_m, O);
    bad += compare_words("input gradient dx", dx_a, dx_m, nx);
    if (sat_a != sat_m) {
        print_error("saturations: rtl path %lld, model %lld\n", (long long)sat_a,
                    (long long)sat_m);
        bad++;
    }
    t->sat += sat_a;

    test_free(scratch);
    test_free(acc);
    test_free(xta);
    test_free(Wa);
    test_free(xa);
    test_free(db_a);
    test_free(db_m);
    test_free(dW_a);
    test_free(dW_m);
    test_free(dx_a);
    test_free(dx_m);
    test_free(y_a);
    test_free(y_m);
    test_free(dy);
    test_free(b);
    test_free(W);
    test_free(x);
    return bad;
}

/* docs/numerics.md's default formats; and two narrower sets (as tests/test_fixed.c):
 * small words that saturate often, with a gradient format that narrows by a left shift. */
static struct fixed_spec spec_default(enum fixed_rounding mode)
{
    return (struct fixed_spec){{16, 10}, {16, 12}, {16, 14}, {32, 28}, {32, 20}, 48, mode};
}

static struct fixed_spec spec_small(enum fixed_rounding mode)
{
    return (struct fixed_spec){{8, 4}, {8, 5}, {6, 4}, {16, 12}, {12, 10}, 64, mode};
}

static void test_dense_layer_matches_fixed_model(void **state)
{
    struct sim_mac *s = *state;
    static const int shapes[][3] = {{5, 9, 7}, {1, 1, 1}, {4, 4, 4}, {3, 17, 2}, {8, 5, 13}};
    static const enum fixed_rounding modes[] = {FIXED_NEAREST_EVEN, FIXED_TRUNCATE};
    struct rng r;
    int bad = 0, cases = 0;
    reports_left = REPORTS;
    rng_seed(&r, SEED_DENSE);
    print_message("  seed %u\n", SEED_DENSE);
    sim_mac_reset(s);
    for (int sp = 0; sp < 2; sp++)
        for (int m = 0; m < 2; m++) {
            struct fixed_spec q = sp == 0 ? spec_default(modes[m]) : spec_small(modes[m]);
            struct tally t = {0, 0, 0};
            for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
                for (int rep = 0; rep < 8; rep++) {
                    bad += dense_case(s, &r, shapes[i][0], shapes[i][1], shapes[i][2], &q, &t);
                    cases++;
                }
            print_message("  %s formats, %s: %lld words bit-identical to the model, %lld "
                          "saturations, %lld exact halves\n", sp == 0 ? "default" : "small",
                          m == 0 ? "nearest_even" : "truncate", (long long)t.words,
                          (long long)t.sat, (long long)t.ties);
            assert_true(t.sat > 0 && t.sat < t.words / 2);   /* saturation exercised */
            assert_true(t.ties > 0);                         /* rounding halves exercised */
        }
    print_message("  %d layers (B, I, O from 1 to 17), %d words differ\n", cases, bad);
    assert_int_equal(bad, 0);
}

/* ---- (c) valid and tag travel with the data ---- */

/* One expected output of the stream. */
struct expect {
    int64_t last_cycle;   /* the cycle whose beat was marked last */
    uint32_t tag;
    int64_t sums[R * C];
};

/* The scoreboard: results expected, in order, and what has been seen. */
struct stream {
    struct sim_mac *s;
    struct expect *fifo;
    int head, tail, bad;
    int64_t cycle;   /* the cycle being driven */
    int drain;       /* the row of fifo[head - 1] that row_o shows this cycle (R: none) */
    int64_t rows;    /* drain rows compared */
};

/* One cycle of the stream: drive *bt, clock, and score what the array shows in the next
 * cycle: an out_valid_o must pop the oldest expected result, with its tag, its sums and
 * SIM_MAC_LATENCY cycles after its last beat. */
static void stream_cycle(struct stream *st, const struct sim_mac_beat *bt)
{
    struct sim_mac_out out;
    sim_mac_cycle(st->s, bt, &out);
    st->cycle++;
    if (out.valid)
        st->drain = 0;   /* a new tile replaces the rows of the one before */
    if (st->drain < R && st->head + out.valid > 0) {
        /* row j of the latest tile leaves j cycles after its out_valid_o */
        const struct expect *e = &st->fifo[st->head + out.valid - 1];
        st->bad += compare_sums("drain row", st->cycle, out.row, e->sums + st->drain * C, C) > 0;
        st->drain++;
        st->rows++;
    }
    if (!out.valid)
        return;
    if (st->head == st->tail) {
        if (reports_left-- > 0)
            print_error("cycle %lld: out_valid_o with no result expected\n",
                        (long long)st->cycle);
        st->bad++;
        return;
    }
    const struct expect *e = &st->fifo[st->head++];
    if (out.tag != e->tag || st->cycle - e->last_cycle != L) {
        if (reports_left-- > 0)
            print_error("cycle %lld: tag %u, %lld cycles after its last beat; want tag %u "
                        "after %d\n", (long long)st->cycle, out.tag,
                        (long long)(st->cycle - e->last_cycle), e->tag, L);
        st->bad++;
    }
    st->bad += compare_sums("stream", st->cycle, out.acc, e->sums, R * C) > 0;
}

/* Tiles back to back (the next tile's first beat may follow the last beat at once),
 * random gaps whose idle cycles carry random payloads (clear, last, tag, operands), and
 * sums that sometimes continue the previous one (no clear on the first beat). */
static void test_tags_and_valid_travel_with_data(void **state)
{
    struct rng r;
    struct stream st = {*state, NULL, 0, 0, 0, 0, R, 0};
    int64_t acc[R * C] = {0}, idle = 0;
    reports_left = REPORTS;
    st.fifo = xalloc(sizeof *st.fifo * STREAM_TILES);
    rng_seed(&r, SEED_STREAM);
    print_message("  seed %u, %d tiles streamed back to back\n", SEED_STREAM, STREAM_TILES);
    sim_mac_reset(st.s);
    for (int t = 0; t < STREAM_TILES; t++) {
        int K = 1 + (int)rng_below(&r, 8);
        int cont = t > 0 && rng_below(&r, 8) == 0;   /* continue the previous sum */
        uint32_t tag = (uint32_t)rng_next(&r) & TAG_MASK;
        if (!cont)
            memset(acc, 0, sizeof acc);
        for (int k = 0; k < K; k++) {
            int gap = rng_below(&r, 4) == 0 ? 1 + (int)rng_below(&r, 3) : 0;
            for (int g = 0; g < gap; g++) {
                struct sim_mac_beat junk;
                junk.valid = 0;
                junk.clear = (int)(rng_next(&r) & 1);
                junk.last = (int)(rng_next(&r) & 1);
                junk.tag = (uint32_t)rng_next(&r);
                for (int i = 0; i < R; i++)
                    junk.a[i] = (int32_t)rng_next(&r);
                for (int j = 0; j < C; j++)
                    junk.b[j] = (int32_t)rng_next(&r);
                stream_cycle(&st, &junk);
                idle++;
            }
            struct sim_mac_beat bt;
            bt.valid = 1;
            bt.clear = k == 0 && !cont;
            bt.last = k == K - 1;
            bt.tag = bt.last ? tag : (uint32_t)rng_next(&r);   /* only the last tag counts */
            for (int i = 0; i < R; i++)
                bt.a[i] = rand_op(&r, 16);
            for (int j = 0; j < C; j++)
                bt.b[j] = rand_op(&r, 16);
            for (int i = 0; i < R; i++)
                for (int j = 0; j < C; j++)
                    acc[i * C + j] += (int64_t)bt.a[i] * bt.b[j];
            if (bt.last) {
                struct expect *e = &st.fifo[st.tail++];
                e->last_cycle = st.cycle;
                e->tag = tag;
                memcpy(e->sums, acc, sizeof acc);
            }
            stream_cycle(&st, &bt);
        }
    }
    struct sim_mac_beat none;
    memset(&none, 0, sizeof none);
    for (int i = 0; i < 2 * L; i++)
        stream_cycle(&st, &none);
    print_message("  %lld cycles (%lld idle), %d results matched by tag and latency %d, "
                  "%lld drain rows\n", (long long)st.cycle, (long long)idle, st.head, L,
                  (long long)st.rows);
    assert_true(st.rows > STREAM_TILES);
    assert_int_equal(st.head, STREAM_TILES);
    assert_int_equal(st.tail, STREAM_TILES);
    assert_int_equal(st.bad, 0);
    test_free(st.fifo);
}

/* Reset drops every beat in flight: a last beat followed by reset before its result is
 * due gives no out_valid_o; reset zeroes the accumulators, so a sum started without
 * clear afterwards counts from 0. */
static void test_reset_drops_beats_in_flight(void **state)
{
    struct sim_mac *s = *state;
    struct rng r;
    struct sim_mac_out out;
    int64_t want[R * C];
    reports_left = REPORTS;
    rng_seed(&r, SEED_RESET);
    print_message("  seed %u\n", SEED_RESET);
    /* reset in each cycle from the one after the last beat to the one whose edge would
     * raise out_valid_o (wait = 0 .. L - 2 idle cycles between them) */
    for (int wait = 0; wait <= L - 2; wait++) {
        sim_mac_reset(s);
        struct sim_mac_beat bt;
        bt.valid = 1;
        bt.clear = 1;
        bt.last = 1;
        bt.tag = 0x5a;
        for (int i = 0; i < R; i++)
            bt.a[i] = rand_op(&r, 32);
        for (int j = 0; j < C; j++)
            bt.b[j] = rand_op(&r, 32);
        sim_mac_cycle(s, &bt, &out);
        assert_int_equal(out.valid, 0);
        struct sim_mac_beat none;
        memset(&none, 0, sizeof none);
        for (int i = 0; i < wait; i++) {
            sim_mac_cycle(s, &none, &out);
            assert_int_equal(out.valid, 0);
        }
        sim_mac_reset(s);
        for (int i = 0; i < 4 * L; i++) {
            sim_mac_cycle(s, &none, &out);
            assert_int_equal(out.valid, 0);
        }
        /* a sum without clear after reset: starts from the reset accumulators, 0 */
        bt.clear = 0;
        bt.tag = 0x33;
        sim_mac_cycle(s, &bt, &out);
        for (int i = 1; i < L; i++) {
            assert_int_equal(out.valid, 0);
            sim_mac_cycle(s, &none, &out);
        }
        assert_int_equal(out.valid, 1);
        assert_int_equal(out.tag, 0x33);
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++)
                want[i * C + j] = (int64_t)bt.a[i] * bt.b[j];
        assert_int_equal(compare_sums("after reset", wait, out.acc, want, R * C), 0);
        sim_mac_cycle(s, &none, &out);
        assert_int_equal(out.valid, 0);   /* one cycle only */
    }
}

/* ---- (d) the checker itself ---- */

/* A reference altered by one, in a sum or in a narrowed word, must be reported. */
static void test_checker_catches_a_difference(void **state)
{
    struct sim_mac *s = *state;
    int32_t a[R * 3], b[3 * C];
    int64_t got[R * C], want[R * C];
    int32_t wa[5] = {1, -2, 3, INT32_MIN, INT32_MAX}, wb[5];
    reports_left = REPORTS;
    for (int i = 0; i < R * 3; i++)
        a[i] = i * 1000003 - 7;
    for (int i = 0; i < 3 * C; i++)
        b[i] = -i * 99991 + 5;
    sim_mac_reset(s);
    assert_int_equal(sim_mac_tile(s, a, b, 3, NULL, 1, got, NULL), 0);
    reference_tile(want, a, b, 3);
    assert_int_equal(compare_sums("self-test (expected to match)", 0, got, want, R * C), 0);
    want[R * C - 1] += 1;
    print_message("  a reference altered by one; the checker must report it:\n");
    assert_int_equal(compare_sums("self-test (expected to differ)", 0, got, want, R * C), 1);
    memcpy(wb, wa, sizeof wa);
    assert_int_equal(compare_words("self-test words (expected to match)", wa, wb, 5), 0);
    wb[2] -= 1;
    assert_int_equal(compare_words("self-test words (expected to differ)", wa, wb, 5), 1);
    /* and a tile sum whose tag is asked for is reported with that tag */
    struct sim_mac_tile_stats st;
    assert_int_equal(sim_mac_tile(s, a, b, 3, NULL, 0xa5, got, &st), 0);
    assert_int_equal(st.tag, 0xa5);
    assert_int_not_equal(st.tag, 0xa4);
}

/* ---- (e) waveforms ---- */

/* A trace opened at run time on a model of its own, a tile run through it, the model
 * destroyed: the file is a VCD (header, the clock among the signals, value changes).
 * A path that cannot be opened and a second trace are refused, .fst too (VCD only).
 * The group's model, built before this one, outlives it: its teardown once read the
 * freed context of this one (see sim/harness.h). */
static void test_trace_writes_a_vcd(void **state)
{
    (void)state;
    const char *dir = getenv("TMPDIR");
    char path[512], head[4096];
    int32_t a[R * 2], b[2 * C];
    int64_t got[R * C];
    assert_true(snprintf(path, sizeof path, "%s/lp_mac_trace_XXXXXX",
                         dir && *dir ? dir : "/tmp") < (int)sizeof path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int i = 0; i < R * 2; i++)
        a[i] = i - 3;
    for (int i = 0; i < 2 * C; i++)
        b[i] = 5 - i;
    struct sim_mac *s = sim_mac_create();
    assert_non_null(s);
    assert_int_equal(sim_mac_trace(s, "/nonexistent-dir/lp.vcd"), -1);
    assert_int_equal(sim_mac_trace(s, "lp_mac_trace.fst"), -1);
    assert_int_equal(sim_mac_trace(s, path), 0);
    assert_int_equal(sim_mac_trace(s, path), -1);   /* one trace at a time */
    assert_int_equal(sim_mac_tile(s, a, b, 2, NULL, 0x11, got, NULL), 0);
    sim_mac_destroy(s);   /* closes the trace */

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(head, 1, sizeof head - 1, f);
    head[n] = '\0';
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    fclose(f);
    unlink(path);
    print_message("  %s: %ld bytes\n", path, size);
    assert_true(strncmp(head, "$date", 5) == 0 || strncmp(head, "$version", 8) == 0);
    assert_non_null(strstr(head, "$timescale"));
    assert_non_null(strstr(head, " clk_i "));
    assert_true(size > 2048);   /* the header, and value changes of a few cycles */
}

static int setup(void **state)
{
    *state = sim_mac_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_mac_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_tiles),
        cmocka_unit_test(test_dense_layer_matches_fixed_model),
        cmocka_unit_test(test_tags_and_valid_travel_with_data),
        cmocka_unit_test(test_reset_drops_beats_in_flight),
        cmocka_unit_test(test_checker_catches_a_difference),
        cmocka_unit_test(test_trace_writes_a_vcd),
    };
    return cmocka_run_group_tests_name("rtl mac_array", tests, setup, teardown);
}
