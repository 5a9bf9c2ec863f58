/* test_layers.c - every layer kernel of model/layers.h against central finite
 * differences, and gemm_nn against a naive product.
 *
 * Method (the same for every kernel): draw a fixed random projection r of the
 * layer's output and let f = sum(r * y), summed in double from the float
 * outputs. The backward with dy = r gives the analytic gradient of f; the
 * numeric one is (f(p + h) - f(p - h)) / ((p + h) - (p - h)), with the two
 * perturbed values taken as the floats actually stored (so the step carries no
 * representation error). Every weight, bias and input element is checked (the
 * layers are small enough).
 *
 * Tolerance: |a - n| <= RTOL * max(1, |a|, |n|), RTOL = 1e-3, H = 1e-2.
 * Inputs, weights and r are O(1) (U(-1, 1)), so gradients are O(1). For the
 * layers that are linear in the perturbed value (dense, conv, pools, relu away
 * from 0, maxpool away from ties) the central difference has no truncation
 * error; its only error is the float rounding of the outputs that change,
 * about 2^-24 * |y| * sqrt(#changed) / (2H) ~ 1e-5 here, 100x under RTOL.
 * For the losses (smooth, third derivative O(1)) the truncation error is
 * H^2/6 ~ 2e-5. Each check prints its worst |a - n| / tolerance, and
 * test_checker_detects_one_percent shows that a 1% error in one analytic
 * gradient is caught (a built-in injected fault, as STYLE.md asks).
 *
 * The residual add and flatten have no kernel in layers.h: the trainer does
 * them (model/train.c). They are checked through the trainer: the gradient
 * that reaches the first layer through both inputs of an add and a flatten,
 * against finite differences of trainer_evaluate's loss in the input (see
 * test_add_and_flatten_through_trainer).
 *
 * Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "../model/data.h"
#include "../model/gemm.h"
#include "../model/layers.h"
#include "../model/net.h"
#include "../model/rng.h"
#include "../model/train.h"

#define H_STEP 1e-2
#define RTOL 1e-3
#define SEED 20250601u

/* ---- the checker ---- */

struct gcheck {
    const char *what;
    int64_t checked, failed;
    double worst;   /* largest |a - n| / tolerance seen */
};

static void gcheck_begin(struct gcheck *c, const char *what)
{
    memset(c, 0, sizeof *c);
    c->what = what;
}

static void gcheck_one(struct gcheck *c, int64_t index, double a, double n)
{
    double scale = fmax(1.0, fmax(fabs(a), fabs(n)));
    double ratio = fabs(a - n) / (RTOL * scale);
    c->checked++;
    if (ratio > c->worst)
        c->worst = ratio;
    if (ratio > 1.0) {
        if (c->failed < 5)
            print_message("  %s[%lld]: analytic %.8g, numeric %.8g\n", c->what,
                          (long long)index, a, n);
        c->failed++;
    }
}

/* f recomputed from the current buffers. */
typedef double (*objective_fn)(void *ctx);

/* Compare analytic[0..n-1] with central differences of f in p[0..n-1]. */
static void fd_check(struct gcheck *c, objective_fn f, void *ctx, float *p,
                     const float *analytic, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float keep = p[i];
        float up = (float)(keep + H_STEP), down = (float)(keep - H_STEP);
        p[i] = up;
        double fp = f(ctx);
        p[i] = down;
        double fm = f(ctx);
        p[i] = keep;
        gcheck_one(c, i, analytic[i], (fp - fm) / ((double)up - (double)down));
    }
    f(ctx);   /* leave the outputs as the unperturbed values give them */
}

/* Print the summary and return the number of mismatches. */
static int64_t gcheck_end(const struct gcheck *c)
{
    print_message("  %-34s %5lld values, worst |a-n|/tol %.3f%s\n", c->what,
                  (long long)c->checked, c->worst, c->failed ? "  MISMATCH" : "");
    return c->failed;
}

static void fill_uniform(struct rng *r, float *x, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * rng_uniform(r);
}

static double project(const float *r, const float *y, int64_t n)
{
    double f = 0;
    for (int64_t i = 0; i < n; i++)
        f += (double)r[i] * y[i];
    return f;
}

static float *alloc_floats(int64_t n)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    assert_non_null(p);
    return p;
}

/* ---- dense ---- */

struct dense_case {
    int B, I, O, bias;
    float *x, *W, *b, *y, *r;
    float *dx, *dW, *db, *scratch;
};

static double dense_f(void *ctx)
{
    struct dense_case *k = ctx;
    dense_forward(k->y, k->x, k->W, k->bias ? k->b : NULL, k->B, k->I, k->O);
    return project(k->r, k->y, (int64_t)k->B * k->O);
}

static void dense_setup(struct dense_case *k, int B, int I, int O, int bias, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    memset(k, 0, sizeof *k);
    k->B = B, k->I = I, k->O = O, k->bias = bias;
    k->x = alloc_floats((int64_t)B * I);
    k->W = alloc_floats((int64_t)I * O);
    k->b = alloc_floats(O);
    k->y = alloc_floats((int64_t)B * O);
    k->r = alloc_floats((int64_t)B * O);
    k->dx = alloc_floats((int64_t)B * I);
    k->dW = alloc_floats((int64_t)I * O);
    k->db = alloc_floats(O);
    k->scratch = alloc_floats(dense_scratch(B, I, O));
    fill_uniform(&r, k->x, (int64_t)B * I, -1, 1);
    fill_uniform(&r, k->W, (int64_t)I * O, -1, 1);
    fill_uniform(&r, k->b, O, -1, 1);
    fill_uniform(&r, k->r, (int64_t)B * O, -1, 1);
}

static void dense_backward_case(struct dense_case *k, float *dx)
{
    dense_backward(dx, k->dW, k->bias ? k->db : NULL, k->r, k->x, k->W, k->B, k->I, k->O,
                   k->scratch);
}

static void dense_teardown(struct dense_case *k)
{
    free(k->x), free(k->W), free(k->b), free(k->y), free(k->r);
    free(k->dx), free(k->dW), free(k->db), free(k->scratch);
}

static int64_t dense_check(int B, int I, int O, int bias)
{
    struct dense_case k;
    struct gcheck c;
    char name[64];
    int64_t bad = 0;
    dense_setup(&k, B, I, O, bias, SEED + (uint64_t)(B * 1000 + I * 10 + O));
    dense_backward_case(&k, k.dx);
    snprintf(name, sizeof name, "dense B%d %dx%d%s dW", B, I, O, bias ? " bias" : "");
    gcheck_begin(&c, name);
    fd_check(&c, dense_f, &k, k.W, k.dW, (int64_t)I * O);
    bad += gcheck_end(&c);
    if (bias) {
        snprintf(name, sizeof name, "dense B%d %dx%d bias db", B, I, O);
        gcheck_begin(&c, name);
        fd_check(&c, dense_f, &k, k.b, k.db, O);
        bad += gcheck_end(&c);
    }
    snprintf(name, sizeof name, "dense B%d %dx%d%s dx", B, I, O, bias ? " bias" : "");
    gcheck_begin(&c, name);
    fd_check(&c, dense_f, &k, k.x, k.dx, (int64_t)B * I);
    bad += gcheck_end(&c);
    dense_teardown(&k);
    return bad;
}

static void test_dense_gradients(void **state)
{
    (void)state;
    print_message("seed %u, h %g, rtol %g\n", SEED, H_STEP, RTOL);
    assert_int_equal(dense_check(1, 1, 1, 1), 0);
    assert_int_equal(dense_check(3, 7, 5, 1), 0);
    assert_int_equal(dense_check(3, 7, 5, 0), 0);
    assert_int_equal(dense_check(6, 20, 18, 1), 0);   /* a full 4 x 16 gemm block and edges */
    assert_int_equal(dense_check(5, 9, 33, 0), 0);
}

/* Weight gradients accumulate; dx is overwritten (not accumulated); a NULL dx
 * leaves the weight gradients unchanged. */
static void test_dense_accumulates_and_null_dx(void **state)
{
    (void)state;
    struct dense_case k;
    struct rng r;
    const int B = 3, I = 7, O = 5;
    dense_setup(&k, B, I, O, 1, SEED + 1);
    dense_backward_case(&k, k.dx);
    float *g = alloc_floats(I * O), *gb = alloc_floats(O), *gx = alloc_floats(B * I);
    float *pre = alloc_floats(I * O), *preb = alloc_floats(O);
    memcpy(g, k.dW, sizeof(float) * I * O);
    memcpy(gb, k.db, sizeof(float) * O);
    memcpy(gx, k.dx, sizeof(float) * B * I);

    rng_seed(&r, SEED + 2);
    fill_uniform(&r, pre, I * O, -1, 1);
    fill_uniform(&r, preb, O, -1, 1);
    memcpy(k.dW, pre, sizeof(float) * I * O);
    memcpy(k.db, preb, sizeof(float) * O);
    for (int i = 0; i < B * I; i++)
        k.dx[i] = 1e30f;   /* garbage that must not survive */
    dense_backward_case(&k, k.dx);
    for (int i = 0; i < I * O; i++)
        assert_float_equal(k.dW[i], pre[i] + g[i], 1e-5 * (1 + fabs(pre[i]) + fabs(g[i])));
    for (int o = 0; o < O; o++)
        assert_float_equal(k.db[o], preb[o] + gb[o], 1e-5 * (1 + fabs(preb[o]) + fabs(gb[o])));
    assert_memory_equal(k.dx, gx, sizeof(float) * B * I);

    /* NULL dx: the same weight gradients, bit for bit. */
    memset(k.dW, 0, sizeof(float) * I * O);
    memset(k.db, 0, sizeof(float) * O);
    dense_backward_case(&k, NULL);
    assert_memory_equal(k.dW, g, sizeof(float) * I * O);
    assert_memory_equal(k.db, gb, sizeof(float) * O);
    free(g), free(gb), free(gx), free(pre), free(preb);
    dense_teardown(&k);
}

/* ---- conv ---- */

struct conv_case {
    struct conv_geom g;
    int B, bias;
    int64_t nx, nw, ny;
    float *x, *W, *b, *y, *r;
    float *dx, *dW, *db, *scratch;
};

static double conv_f(void *ctx)
{
    struct conv_case *k = ctx;
    conv_forward(k->y, k->x, k->W, k->bias ? k->b : NULL, k->B, &k->g, k->scratch);
    return project(k->r, k->y, k->ny);
}

static int window(int x, int kernel, int stride, int pad)
{
    return (x + 2 * pad - kernel) / stride + 1;
}

static void conv_setup(struct conv_case *k, int B, int C, int H, int W, int OC, int kernel,
                       int stride, int pad, int bias, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    memset(k, 0, sizeof *k);
    k->B = B, k->bias = bias;
    k->g = (struct conv_geom){.C = C, .H = H, .W = W, .OC = OC,
                              .OH = window(H, kernel, stride, pad),
                              .OW = window(W, kernel, stride, pad),
                              .k = kernel, .stride = stride, .pad = pad};
    k->nx = (int64_t)B * C * H * W;
    k->nw = (int64_t)OC * C * kernel * kernel;
    k->ny = (int64_t)B * OC * k->g.OH * k->g.OW;
    k->x = alloc_floats(k->nx);
    k->W = alloc_floats(k->nw);
    k->b = alloc_floats(OC);
    k->y = alloc_floats(k->ny);
    k->r = alloc_floats(k->ny);
    k->dx = alloc_floats(k->nx);
    k->dW = alloc_floats(k->nw);
    k->db = alloc_floats(OC);
    k->scratch = alloc_floats(conv_scratch(&k->g));
    fill_uniform(&r, k->x, k->nx, -1, 1);
    fill_uniform(&r, k->W, k->nw, -1, 1);
    fill_uniform(&r, k->b, OC, -1, 1);
    fill_uniform(&r, k->r, k->ny, -1, 1);
}

static void conv_backward_case(struct conv_case *k, float *dx)
{
    conv_backward(dx, k->dW, k->bias ? k->db : NULL, k->r, k->x, k->W, k->B, &k->g,
                  k->scratch);
}

static void conv_teardown(struct conv_case *k)
{
    free(k->x), free(k->W), free(k->b), free(k->y), free(k->r);
    free(k->dx), free(k->dW), free(k->db), free(k->scratch);
}

static int64_t conv_check(int B, int C, int H, int W, int OC, int kernel, int stride, int pad,
                          int bias)
{
    struct conv_case k;
    struct gcheck c;
    char name[80], tag[64];
    int64_t bad = 0;
    conv_setup(&k, B, C, H, W, OC, kernel, stride, pad, bias,
               SEED + (uint64_t)(C * 100000 + H * 10000 + W * 1000 + OC * 100 + kernel * 10 +
                                 stride + pad * 7));
    conv_backward_case(&k, k.dx);
    snprintf(tag, sizeof tag, "conv %dx%dx%d->%d k%d s%d p%d%s", C, H, W, OC, kernel, stride, pad,
             bias ? " b" : "");
    snprintf(name, sizeof name, "%s dW", tag);
    gcheck_begin(&c, name);
    fd_check(&c, conv_f, &k, k.W, k.dW, k.nw);
    bad += gcheck_end(&c);
    if (bias) {
        snprintf(name, sizeof name, "%s db", tag);
        gcheck_begin(&c, name);
        fd_check(&c, conv_f, &k, k.b, k.db, OC);
        bad += gcheck_end(&c);
    }
    snprintf(name, sizeof name, "%s dx", tag);
    gcheck_begin(&c, name);
    fd_check(&c, conv_f, &k, k.x, k.dx, k.nx);
    bad += gcheck_end(&c);
    conv_teardown(&k);
    return bad;
}

static void test_conv_gradients(void **state)
{
    (void)state;
    /*                      B  C  H  W OC  k  s  p bias */
    assert_int_equal(conv_check(2, 2, 5, 5, 3, 3, 1, 0, 1), 0);
    assert_int_equal(conv_check(2, 2, 5, 5, 3, 3, 1, 1, 0), 0);
    assert_int_equal(conv_check(2, 3, 7, 7, 2, 3, 2, 1, 1), 0);
    assert_int_equal(conv_check(2, 3, 7, 7, 4, 3, 2, 0, 1), 0);
    assert_int_equal(conv_check(2, 2, 5, 5, 4, 1, 1, 0, 1), 0);
    assert_int_equal(conv_check(2, 3, 5, 5, 2, 1, 2, 1, 1), 0);   /* k1 with pad: bias-only border */
    assert_int_equal(conv_check(1, 1, 7, 7, 3, 3, 1, 1, 1), 0);
    assert_int_equal(conv_check(2, 2, 5, 7, 3, 3, 2, 0, 1), 0);   /* not square */
    assert_int_equal(conv_check(1, 5, 6, 6, 17, 3, 1, 1, 0), 0);  /* OC = 17: gemm edges */
}

static void test_conv_accumulates_and_null_dx(void **state)
{
    (void)state;
    struct conv_case k;
    struct rng r;
    conv_setup(&k, 2, 3, 7, 7, 2, 3, 2, 1, 1, SEED + 3);
    conv_backward_case(&k, k.dx);
    float *g = alloc_floats(k.nw), *gb = alloc_floats(k.g.OC), *gx = alloc_floats(k.nx);
    float *pre = alloc_floats(k.nw), *preb = alloc_floats(k.g.OC);
    memcpy(g, k.dW, sizeof(float) * (size_t)k.nw);
    memcpy(gb, k.db, sizeof(float) * (size_t)k.g.OC);
    memcpy(gx, k.dx, sizeof(float) * (size_t)k.nx);

    rng_seed(&r, SEED + 4);
    fill_uniform(&r, pre, k.nw, -1, 1);
    fill_uniform(&r, preb, k.g.OC, -1, 1);
    memcpy(k.dW, pre, sizeof(float) * (size_t)k.nw);
    memcpy(k.db, preb, sizeof(float) * (size_t)k.g.OC);
    for (int64_t i = 0; i < k.nx; i++)
        k.dx[i] = 1e30f;
    conv_backward_case(&k, k.dx);
    for (int64_t i = 0; i < k.nw; i++)
        assert_float_equal(k.dW[i], pre[i] + g[i], 1e-5 * (1 + fabs(pre[i]) + fabs(g[i])));
    for (int o = 0; o < k.g.OC; o++)
        assert_float_equal(k.db[o], preb[o] + gb[o], 1e-5 * (1 + fabs(preb[o]) + fabs(gb[o])));
    assert_memory_equal(k.dx, gx, sizeof(float) * (size_t)k.nx);

    memset(k.dW, 0, sizeof(float) * (size_t)k.nw);
    memset(k.db, 0, sizeof(float) * (size_t)k.g.OC);
    conv_backward_case(&k, NULL);
    assert_memory_equal(k.dW, g, sizeof(float) * (size_t)k.nw);
    assert_memory_equal(k.db, gb, sizeof(float) * (size_t)k.g.OC);
    free(g), free(gb), free(gx), free(pre), free(preb);
    conv_teardown(&k);
}

/* ---- pools ---- */

struct pool_case {
    struct conv_geom g;
    int B, max;
    int64_t nx, ny;
    float *x, *y, *argmax, *r, *dx;
};

static double pool_f(void *ctx)
{
    struct pool_case *k = ctx;
    if (k->max)
        maxpool_forward(k->y, k->argmax, k->x, k->B, &k->g);
    else
        avgpool_forward(k->y, k->x, k->B, &k->g);
    return project(k->r, k->y, k->ny);
}

static int64_t pool_check(int max, int B, int C, int H, int W, int kernel, int stride)
{
    struct pool_case k;
    struct gcheck c;
    struct rng r;
    char name[64];
    memset(&k, 0, sizeof k);
    k.B = B, k.max = max;
    k.g = (struct conv_geom){.C = C, .H = H, .W = W, .OC = C,
                             .OH = window(H, kernel, stride, 0),
                             .OW = window(W, kernel, stride, 0), .k = kernel, .stride = stride};
    k.nx = (int64_t)B * C * H * W;
    k.ny = (int64_t)B * C * k.g.OH * k.g.OW;
    k.x = alloc_floats(k.nx), k.dx = alloc_floats(k.nx);
    k.y = alloc_floats(k.ny), k.argmax = alloc_floats(k.ny), k.r = alloc_floats(k.ny);
    rng_seed(&r, SEED + (uint64_t)(max * 1000 + H * 100 + W * 10 + kernel + stride));
    /* Distinct inputs 0.05 apart (a shuffled ramp): +-h never changes an argmax. */
    int32_t *perm = malloc(sizeof *perm * (size_t)k.nx);
    assert_non_null(perm);
    for (int64_t i = 0; i < k.nx; i++)
        perm[i] = (int32_t)i;
    rng_shuffle(&r, perm, (int)k.nx);
    for (int64_t i = 0; i < k.nx; i++)
        k.x[i] = 0.05f * (float)(perm[i] - k.nx / 2);
    free(perm);
    fill_uniform(&r, k.r, k.ny, -1, 1);

    pool_f(&k);
    for (int64_t i = 0; i < k.nx; i++)
        k.dx[i] = 1e30f;   /* overwritten, not accumulated */
    if (max)
        maxpool_backward(k.dx, k.r, k.argmax, B, &k.g);
    else
        avgpool_backward(k.dx, k.r, B, &k.g);
    snprintf(name, sizeof name, "%s %dx%dx%d k%d s%d dx", max ? "maxpool" : "avgpool", C, H, W,
             kernel, stride);
    gcheck_begin(&c, name);
    fd_check(&c, pool_f, &k, k.x, k.dx, k.nx);
    int64_t bad = gcheck_end(&c);
    free(k.x), free(k.dx), free(k.y), free(k.argmax), free(k.r);
    return bad;
}

static void test_maxpool_gradients(void **state)
{
    (void)state;
    assert_int_equal(pool_check(1, 2, 3, 6, 6, 2, 2), 0);
    assert_int_equal(pool_check(1, 2, 2, 5, 5, 2, 2), 0);   /* last row and column unread */
    assert_int_equal(pool_check(1, 2, 3, 5, 5, 3, 1), 0);   /* overlapping windows */
    assert_int_equal(pool_check(1, 1, 2, 5, 7, 3, 1), 0);
    assert_int_equal(pool_check(1, 2, 2, 7, 7, 3, 2), 0);
}

/* Ties go to the first maximum in scan order (layers.h). */
static void test_maxpool_ties_first(void **state)
{
    (void)state;
    struct conv_geom g = {.C = 1, .H = 2, .W = 4, .OC = 1, .OH = 1, .OW = 2, .k = 2, .stride = 2};
    float x[8] = {1, 3, 0, 0, 3, 2, 0, 0}, y[2], am[2], dy[2] = {1, 1}, dx[8];
    maxpool_forward(y, am, x, 1, &g);
    assert_true(y[0] == 3.0f && y[1] == 0.0f);
    assert_true(am[0] == 1.0f && am[1] == 2.0f);
    maxpool_backward(dx, dy, am, 1, &g);
    const float want[8] = {0, 1, 1, 0, 0, 0, 0, 0};
    assert_memory_equal(dx, want, sizeof want);
}

static void test_avgpool_gradients(void **state)
{
    (void)state;
    assert_int_equal(pool_check(0, 2, 3, 6, 6, 2, 2), 0);
    assert_int_equal(pool_check(0, 2, 2, 5, 5, 2, 2), 0);
    assert_int_equal(pool_check(0, 2, 3, 5, 5, 3, 1), 0);
    assert_int_equal(pool_check(0, 1, 2, 7, 5, 3, 2), 0);
}

/* ---- relu ---- */

struct relu_case {
    int64_t n;
    float *x, *y, *r;
};

static double relu_f(void *ctx)
{
    struct relu_case *k = ctx;
    relu_forward(k->y, k->x, k->n);
    return project(k->r, k->y, k->n);
}

static void test_relu_gradients(void **state)
{
    (void)state;
    struct relu_case k = {.n = 97};
    struct gcheck c;
    struct rng r;
    rng_seed(&r, SEED + 5);
    k.x = alloc_floats(k.n), k.y = alloc_floats(k.n), k.r = alloc_floats(k.n);
    float *dx = alloc_floats(k.n), *inplace = alloc_floats(k.n);
    /* |x| in [0.05, 1]: never within h of the kink. */
    for (int64_t i = 0; i < k.n; i++) {
        float v = 0.05f + 0.95f * rng_uniform(&r);
        k.x[i] = rng_uniform(&r) < 0.5f ? -v : v;
    }
    fill_uniform(&r, k.r, k.n, -1, 1);
    relu_f(&k);
    relu_backward(dx, k.r, k.y, k.n);
    gcheck_begin(&c, "relu dx");
    fd_check(&c, relu_f, &k, k.x, dx, k.n);
    assert_int_equal(gcheck_end(&c), 0);

    /* In place, both ways: the same bits. */
    memcpy(inplace, k.x, sizeof(float) * (size_t)k.n);
    relu_forward(inplace, inplace, k.n);
    assert_memory_equal(inplace, k.y, sizeof(float) * (size_t)k.n);
    memcpy(inplace, k.r, sizeof(float) * (size_t)k.n);
    relu_backward(inplace, inplace, k.y, k.n);
    assert_memory_equal(inplace, dx, sizeof(float) * (size_t)k.n);
    free(k.x), free(k.y), free(k.r), free(dx), free(inplace);
}

/* ---- losses ---- */

struct loss_case {
    int B, classes, mse;
    float *z, *dz_scratch;
    uint8_t *labels;
};

/* The loss each function returns, divided by B: the quantity dz is the gradient of. */
static double loss_f(void *ctx)
{
    struct loss_case *k = ctx;
    int64_t correct = 0;
    double L = k->mse ? mse_onehot(k->dz_scratch, k->z, k->labels, k->B, k->classes, &correct)
                      : softmax_ce(k->dz_scratch, k->z, k->labels, k->B, k->classes, &correct);
    return L / k->B;
}

static void loss_check(int mse, int B, int classes)
{
    struct loss_case k = {.B = B, .classes = classes, .mse = mse};
    struct gcheck c;
    struct rng r;
    int64_t n = (int64_t)B * classes, correct = 0, want_correct = 0;
    rng_seed(&r, SEED + 6 + (uint64_t)mse);
    k.z = alloc_floats(n), k.dz_scratch = alloc_floats(n);
    float *dz = alloc_floats(n);
    k.labels = malloc((size_t)B);
    assert_non_null(k.labels);
    for (int64_t i = 0; i < n; i++)
        k.z[i] = 2.0f * rng_normal(&r);
    for (int s = 0; s < B; s++)
        k.labels[s] = (uint8_t)rng_below(&r, (uint32_t)classes);
    k.labels[0] = 0, k.z[0] = 9.0f;   /* sample 0 predicted right */

    double L = mse ? mse_onehot(dz, k.z, k.labels, B, classes, &correct)
                   : softmax_ce(dz, k.z, k.labels, B, classes, &correct);
    /* The returned loss and the correct count from first principles. */
    double want = 0;
    for (int s = 0; s < B; s++) {
        const float *zs = k.z + (int64_t)s * classes;
        int best = 0;
        double sum = 0;
        for (int j = 1; j < classes; j++)
            best = zs[j] > zs[best] ? j : best;
        want_correct += best == k.labels[s];
        for (int j = 0; j < classes; j++) {
            double t = j == k.labels[s];
            sum += mse ? 0.5 * (zs[j] - t) * (zs[j] - t) : exp((double)zs[j]);
        }
        want += mse ? sum : log(sum) - zs[k.labels[s]];
    }
    assert_float_equal(L, want, 1e-9 * fmax(1, fabs(want)));
    assert_int_equal(correct, want_correct);
    assert_true(correct >= 1);

    gcheck_begin(&c, mse ? "mse_onehot dz" : "softmax_ce dz");
    fd_check(&c, loss_f, &k, k.z, dz, n);
    assert_int_equal(gcheck_end(&c), 0);
    free(k.z), free(k.dz_scratch), free(dz), free(k.labels);
}

static void test_softmax_ce_gradient(void **state)
{
    (void)state;
    loss_check(0, 2, 7);
    loss_check(0, 1, 3);
}

static void test_mse_onehot_gradient(void **state)
{
    (void)state;
    loss_check(1, 2, 7);
    loss_check(1, 3, 4);
}

/* ---- the checker itself ---- */

/* A 1% error in one analytic weight gradient must be reported, and only there. */
static void test_checker_detects_one_percent(void **state)
{
    (void)state;
    struct dense_case k;
    struct gcheck c;
    const int B = 3, I = 7, O = 5;
    dense_setup(&k, B, I, O, 1, SEED + 7);
    dense_backward_case(&k, k.dx);
    int big = 0;
    for (int i = 1; i < I * O; i++)
        big = fabsf(k.dW[i]) > fabsf(k.dW[big]) ? i : big;
    print_message("  injecting a 1%% error into dW[%d] = %.6g\n", big, k.dW[big]);
    k.dW[big] *= 1.01f;
    gcheck_begin(&c, "dense dW, 1% fault (must mismatch)");
    fd_check(&c, dense_f, &k, k.W, k.dW, (int64_t)I * O);
    assert_int_equal(gcheck_end(&c), 1);
    dense_teardown(&k);
}

/* ---- gemm ---- */

/* C[M x N] += A[M x K] B[K x N] with padded strides, against the naive double
 * product (error bound gamma_{K+1} * sum |terms|) and against the naive float
 * loop in the documented order (start value, then k = 0..K-1): bit-identical. */
static void gemm_case(int M, int N, int K, struct rng *r)
{
    int lda = K + 3, ldb = N + 2, ldc = N + 5;
    float *A = alloc_floats((int64_t)M * lda), *B = alloc_floats((int64_t)K * ldb);
    float *C = alloc_floats((int64_t)M * ldc), *C0 = alloc_floats((int64_t)M * ldc);
    float *R = alloc_floats((int64_t)M * ldc);
    fill_uniform(r, A, (int64_t)M * lda, -1, 1);
    fill_uniform(r, B, (int64_t)K * ldb, -1, 1);
    fill_uniform(r, C0, (int64_t)M * ldc, -1, 1);
    memcpy(C, C0, sizeof(float) * (size_t)M * (size_t)ldc);
    gemm_nn(M, N, K, A, lda, B, ldb, C, ldc);
    const double u = ldexp(1.0, -24);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double exact = C0[i * ldc + j], mag = fabs(exact);
            float naive = C0[i * ldc + j];
            for (int k = 0; k < K; k++) {
                double p = (double)A[i * lda + k] * B[k * ldb + j];
                exact += p, mag += fabs(p);
                naive += A[i * lda + k] * B[k * ldb + j];
            }
            double got = C[i * ldc + j];
            if (fabs(got - exact) > 1.01 * (K + 1) * u * mag)
                fail_msg("gemm %dx%dx%d C[%d][%d] = %.9g, exact %.9g", M, N, K, i, j, got, exact);
            if (memcmp(&C[i * ldc + j], &naive, sizeof naive))
                fail_msg("gemm %dx%dx%d C[%d][%d] = %.9g, in-order float sum %.9g", M, N, K, i,
                         j, got, (double)naive);
        }
    /* Padding between rows is never written. */
    for (int i = 0; i < M; i++)
        for (int j = N; j < ldc; j++)
            assert_memory_equal(&C[i * ldc + j], &C0[i * ldc + j], sizeof(float));

    /* Any blocking gives the same bits: one row at a time, one column at a
     * time, and K split in two (C carries the running sum). */
    memcpy(R, C0, sizeof(float) * (size_t)M * (size_t)ldc);
    for (int i = 0; i < M; i++)
        gemm_nn(1, N, K, A + i * lda, lda, B, ldb, R + i * ldc, ldc);
    assert_memory_equal(R, C, sizeof(float) * (size_t)M * (size_t)ldc);
    memcpy(R, C0, sizeof(float) * (size_t)M * (size_t)ldc);
    for (int j = 0; j < N; j++)
        gemm_nn(M, 1, K, A, lda, B + j, ldb, R + j, ldc);
    assert_memory_equal(R, C, sizeof(float) * (size_t)M * (size_t)ldc);
    memcpy(R, C0, sizeof(float) * (size_t)M * (size_t)ldc);
    int k1 = K / 2;
    gemm_nn(M, N, k1, A, lda, B, ldb, R, ldc);
    gemm_nn(M, N, K - k1, A + k1, lda, B + (int64_t)k1 * ldb, ldb, R, ldc);
    assert_memory_equal(R, C, sizeof(float) * (size_t)M * (size_t)ldc);
    free(A), free(B), free(C), free(C0), free(R);
}

static void test_gemm_odd_sizes(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 3, 5, 7, 13, 17, 33};
    struct rng r;
    rng_seed(&r, SEED + 8);
    int n = (int)(sizeof sizes / sizeof sizes[0]), cases = 0;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
            for (int c = 0; c < n; c++) {
                gemm_case(sizes[a], sizes[b], sizes[c], &r);
                cases++;
            }
    gemm_case(37, 70, 129, &r);   /* several full 4 x 16 blocks */
    print_message("  %d gemm shapes: within gamma_(K+1) of exact, bit-identical to the in-order "
                  "float sum and across row, column and K splits\n", cases + 1);
}

/* K = 0 leaves C alone. */
static void test_gemm_empty_k(void **state)
{
    (void)state;
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[6] = {1, 2, 3, 4, 5, 6};
    const float want[6] = {1, 2, 3, 4, 5, 6};
    gemm_nn(2, 3, 0, A, 2, B, 3, C, 3);
    assert_memory_equal(C, want, sizeof want);
}

/* ---- add and flatten, through the trainer ---- */

/* fc0: dense 12 -> 10; fc1: dense 10 -> 10; add(fc1, fc0); flat: flatten
 * (identity on a flat input); fc2: dense 10 -> 4; softmax loss. All with bias,
 * no activation. The gradient reaching fc0's output is dy0 = W1 dy + dy (dy the
 * add's output gradient): the first term through the add's input 0 and fc1,
 * the second through its input 1, the skip. */
static void residual_net(struct net *n)
{
    static const char *names[] = {"fc0", "fc1", "add", "flat", "fc2"};
    assert_int_equal(net_init(n, 5), 0);
    n->input.rank = 1, n->input.dim[0] = 12;
    n->loss = NET_LOSS_SOFTMAX_CE;
    struct net_layer *ly = n->layers;
    for (int l = 0; l < 5; l++) {
        snprintf(ly[l].name, NET_NAME_MAX, "%s", names[l]);
        ly[l].n_inputs = 1, ly[l].inputs[0] = l ? l - 1 : NET_INPUT;
        ly[l].kind = NET_DENSE, ly[l].bias = 1, ly[l].out = 10;
    }
    ly[2].kind = NET_ADD, ly[2].n_inputs = 2, ly[2].inputs[1] = 0;
    ly[3].kind = NET_FLATTEN;
    ly[4].out = 4;
    assert_int_equal(net_infer(n, NULL), 0);
}

struct net_case {
    struct trainer *t;
    struct dataset *d;
};

static double net_loss_f(void *ctx)
{
    struct net_case *k = ctx;
    double loss;
    int64_t correct;
    trainer_evaluate(k->t, k->d, 1, &loss, &correct);
    return loss;
}

/* The trainer exposes no gradient and no way to set weights, so: one sample
 * (B = 1), one plain SGD step with lr 1 gives fc0's weight gradient
 * G0 = x^T dy0 (W0 - W1, one rounding), hence dy0 = G0[i,:] / x_i, and the
 * loss gradient with respect to the input is W0 dy0 (fc0's dx, which the
 * trainer never computes). That is compared, element by element, with central
 * differences of trainer_evaluate's loss in the input. Dropping either of
 * the add's input gradients is then shown to fail the same check. */
static void test_add_and_flatten_through_trainer(void **state)
{
    (void)state;
    enum { I = 12, H = 10 };
    struct net n;
    struct dataset d;
    struct trainer *step, *probe;
    struct diag e;
    struct rng r;
    int stage_of[5] = {1, 1, 1, 1, 1};
    int32_t order[1] = {0};
    struct train_opts o = {.policy = PLAN_SEQUENTIAL, .ema_beta_auto = 1, .batch = 1, .lr = 1.0,
                           .seed = SEED + 9};
    struct train_stats st;
    residual_net(&n);
    assert_int_equal(data_init(&d, 1, I, 4), 0);
    rng_seed(&r, SEED + 10);
    fill_uniform(&r, d.x, I, -1, 1);
    d.x[0] = 1.0f;
    d.y[0] = 2;
    assert_int_equal(trainer_create(&step, &n, stage_of, 1, &o, &e), 0);
    assert_int_equal(trainer_create(&probe, &n, stage_of, 1, &o, &e), 0);

    float W0[(I + 1) * H], W0b[(I + 1) * H], W1[(H + 1) * H], W1b[(H + 1) * H];
    assert_int_equal(trainer_params(step, 0, W0), (I + 1) * H);
    assert_int_equal(trainer_params(step, 1, W1), (H + 1) * H);
    trainer_epoch(step, &d, order, 1, 0, &st);
    assert_int_equal(trainer_params(step, 0, W0b), (I + 1) * H);
    assert_int_equal(trainer_params(step, 1, W1b), (H + 1) * H);

    /* dy0 from fc0 (input x, x_0 = 1); dy (the add's output gradient) from fc1,
     * whose input is h0 = x W0 + b0. */
    double dy0[H], dy[H], h0[H];
    int i1 = 0;
    for (int k = 0; k < H; k++) {
        dy0[k] = (double)W0[k] - W0b[k];   /* row 0, x_0 = 1 */
        h0[k] = W0[I * H + k];
        for (int i = 0; i < I; i++)
            h0[k] += (double)d.x[i] * W0[i * H + k];
    }
    for (int k = 1; k < H; k++)
        i1 = fabs(h0[k]) > fabs(h0[i1]) ? k : i1;
    for (int k = 0; k < H; k++)
        dy[k] = ((double)W1[i1 * H + k] - W1b[i1 * H + k]) / h0[i1];

    /* Analytic dL/dx = W0 dy0, and the same with one add input's gradient lost. */
    float grad[I], lost_main[I], lost_skip[I];
    for (int i = 0; i < I; i++) {
        double g = 0, main_only = 0, skip_only = 0;
        for (int k = 0; k < H; k++) {
            double w1dy = 0;
            for (int o2 = 0; o2 < H; o2++)
                w1dy += (double)W1[k * H + o2] * dy[o2];
            g += (double)W0[i * H + k] * dy0[k];
            main_only += (double)W0[i * H + k] * w1dy;
            skip_only += (double)W0[i * H + k] * dy[k];
        }
        grad[i] = (float)g, lost_skip[i] = (float)main_only, lost_main[i] = (float)skip_only;
    }
    struct net_case k = {probe, &d};
    struct gcheck c;
    gcheck_begin(&c, "trainer dL/dx via fc0 (add, flatten)");
    fd_check(&c, net_loss_f, &k, d.x, grad, I);
    assert_int_equal(gcheck_end(&c), 0);
    /* The check tells the add's two input gradients apart. */
    gcheck_begin(&c, "  skip grad dropped (must mismatch)");
    fd_check(&c, net_loss_f, &k, d.x, lost_skip, I);
    assert_true(gcheck_end(&c) > 0);
    gcheck_begin(&c, "  main grad dropped (must mismatch)");
    fd_check(&c, net_loss_f, &k, d.x, lost_main, I);
    assert_true(gcheck_end(&c) > 0);
    trainer_destroy(step);
    trainer_destroy(probe);
    data_free(&d);
    net_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_gradients),
        cmocka_unit_test(test_dense_accumulates_and_null_dx),
        cmocka_unit_test(test_conv_gradients),
        cmocka_unit_test(test_conv_accumulates_and_null_dx),
        cmocka_unit_test(test_maxpool_gradients),
        cmocka_unit_test(test_maxpool_ties_first),
        cmocka_unit_test(test_avgpool_gradients),
        cmocka_unit_test(test_relu_gradients),
        cmocka_unit_test(test_softmax_ce_gradient),
        cmocka_unit_test(test_mse_onehot_gradient),
        cmocka_unit_test(test_checker_detects_one_percent),
        cmocka_unit_test(test_gemm_odd_sizes),
        cmocka_unit_test(test_gemm_empty_k),
        cmocka_unit_test(test_add_and_flatten_through_trainer),
    };
    return cmocka_run_group_tests_name("layers", tests, NULL, NULL);
}
