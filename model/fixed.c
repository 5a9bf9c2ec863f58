#include "fixed.h"
#include "gemm.h"

#include <math.h>
#include <string.h>

__extension__ typedef __int128 i128;

/* ---- scalar arithmetic ---- */

int64_t fixed_shift(int64_t x, int s, enum fixed_rounding r)
{
    if (s <= 0)
        return x * ((int64_t)1 << -s);   /* exact: callers keep it in range */
    int64_t q = x >> s;                  /* floor (arithmetic shift), s <= 63 */
    if (r == FIXED_NEAREST_EVEN) {
        /* The dropped bits, unsigned: no shift reaches the sign bit. */
        uint64_t rem = (uint64_t)x & ((UINT64_C(1) << s) - 1), half = UINT64_C(1) << (s - 1);
        if (rem > half || (rem == half && (q & 1)))
            q++;
    }
    return q;
}

int32_t fixed_sat(int64_t x, struct fixed_fmt f, int64_t *sat)
{
    int64_t hi = ((int64_t)1 << (f.bits - 1)) - 1, lo = -hi - 1;
    if (x > hi || x < lo) {
        if (sat)
            ++*sat;
        return (int32_t)(x > hi ? hi : lo);
    }
    return (int32_t)x;
}

int32_t fixed_narrow(int64_t x, int frac_in, struct fixed_fmt f, enum fixed_rounding r,
                     int64_t *sat)
{
    return fixed_sat(fixed_shift(x, frac_in - f.frac, r), f, sat);
}

int32_t fixed_from_double(double v, struct fixed_fmt f, enum fixed_rounding r, int64_t *sat)
{
    double s = ldexp(v, f.frac);
    double q = r == FIXED_NEAREST_EVEN ? nearbyint(s) : floor(s);   /* default mode: even */
    double lim = ldexp(1.0, f.bits - 1);
    if (!(q < lim) || !(q >= -lim)) {   /* also catches NaN */
        if (sat)
            ++*sat;
        return q < 0 ? (int32_t)-lim : (int32_t)(lim - 1);
    }
    return (int32_t)q;
}

double fixed_to_double(int32_t w, struct fixed_fmt f)
{
    return ldexp((double)w, -f.frac);
}

uint64_t fixed_const(double v, int frac)
{
    return (uint64_t)nearbyint(ldexp(v, frac));
}

uint32_t fixed_coef(double v)
{
    uint64_t q = fixed_const(v, FIXED_COEF_FRAC);
    return q > 65535 ? 65535 : (uint32_t)q;
}

/* Division by n with the rounding mode (n > 0). */
static int64_t div_round(int64_t x, int64_t n, enum fixed_rounding r)
{
    int64_t q = x / n, rem = x % n;
    if (rem < 0)
        q--, rem += n;   /* floor */
    if (r == FIXED_NEAREST_EVEN && (2 * rem > n || (2 * rem == n && (q & 1))))
        q++;
    return q;
}

/* ---- checks ---- */

static int ceil_log2(int64_t n)
{
    int b = 0;
    while (((int64_t)1 << b) < n)
        b++;
    return b;
}

int fixed_acc_bits_needed(const struct net *n, int l, const struct fixed_spec *q, int B)
{
    const struct net_layer *ly = &n->layers[l];
    int a = q->act.bits, w = q->weight.bits, e = q->err.bits;
    if (ly->kind != NET_DENSE && ly->kind != NET_CONV)
        return 0;
    int64_t k_fwd = ly->kind == NET_DENSE ? ly->in_shape.dim[0]
                                          : (int64_t)ly->in_shape.dim[0] * ly->kernel * ly->kernel;
    int64_t k_in = ly->kind == NET_DENSE ? ly->out : (int64_t)ly->out * ly->kernel * ly->kernel;
    int64_t k_w = ly->kind == NET_DENSE ? B
                                        : (int64_t)B * ly->out_shape.dim[1] * ly->out_shape.dim[2];
    int need = a + w - 1 + ceil_log2(k_fwd + 1);   /* + 1: the bias term */
    /* K products of two most negative words sum to K * 2^(x+y-2): K + 1 below. */
    int in = e + w - 1 + ceil_log2(k_in + 1);
    int wg = a + e - 1 + ceil_log2(k_w + 1);
    need = in > need ? in : need;
    return wg > need ? wg : need;
}

int fixed_check(const struct net *n, const struct fixed_spec *q, int B, struct diag *e)
{
    const struct fixed_fmt *f[] = {&q->act, &q->err, &q->weight, &q->master, &q->grad};
    for (int i = 0; i < 5; i++)
        if (f[i]->bits < 2 || f[i]->bits > 32 || f[i]->frac < 0 || f[i]->frac >= f[i]->bits)
            return lp_fail(e, -1, "numerics", "fixed-point formats need 2..32 bits and "
                           "0 <= frac < bits");
    if (q->master.frac < q->weight.frac)
        return lp_fail(e, -1, "numerics", "master_weight needs at least the weight's fraction "
                       "bits (%d < %d)", q->master.frac, q->weight.frac);
    for (int l = 0; l < n->n_layers; l++) {
        int need = fixed_acc_bits_needed(n, l, q, B);
        if (need > q->acc_bits)
            return lp_fail(e, l, "accumulator_bits",
                           "layer %s needs a %d-bit accumulator for exact sums; "
                           "numerics.accumulator_bits is %d", n->layers[l].name, need,
                           q->acc_bits);
    }
    if (q->acc_bits > 64)
        return lp_fail(e, -1, "accumulator_bits", "accumulator_bits is at most 64");
    return 0;
}

/* ---- products ---- */


/* C[M x N] += A[M x K] * B[K x N] in int64, exact; zero entries of A are skipped.
 * Integer sums are exact, so the AVX2 and baseline clones agree bit for bit. */
LP_MULTIVERSION
static void qgemm(int M, int N, int K, const int32_t *A, int lda, const int32_t *B, int ldb,
                  int64_t *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        int64_t *c = C + (int64_t)i * ldc;
        for (int k = 0; k < K; k++) {
            int32_t a = A[(int64_t)i * lda + k];
            if (a == 0)
                continue;
            const int32_t *b = B + (int64_t)k * ldb;
            for (int j = 0; j < N; j++)   /* 32 x 32 -> 64-bit products */
                c[j] += (int64_t)a * b[j];
        }
    }
}

static void qtranspose(int rows, int cols, const int32_t *src, int32_t *dst)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            dst[(int64_t)j * rows + i] = src[(int64_t)i * cols + j];
}

static void narrow_all(int32_t *out, const int64_t *acc, int64_t n, int frac_in,
                       struct fixed_fmt f, enum fixed_rounding r, int64_t *sat)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = fixed_narrow(acc[i], frac_in, f, r, sat);
}

int64_t fixed_dense_scratch(int B, int I, int O)
{
    int64_t fwd = 8 * (int64_t)B * O;
    int64_t bwd = 4 * (int64_t)I * B + 8 * (int64_t)I * O + 4 * (int64_t)O * I +
                  8 * (int64_t)B * I;
    return (fwd > bwd ? fwd : bwd) + 16;   /* + alignment padding */
}

void fixed_dense_forward(int32_t *y, const int32_t *x, const int32_t *W, const int32_t *b, int B,
                         int I, int O, const struct fixed_spec *q, void *scratch, int64_t *sat)
{
    int64_t *acc = scratch;
    for (int s = 0; s < B; s++)
        for (int o = 0; o < O; o++)   /* the bias, aligned to the products' fraction */
            acc[(int64_t)s * O + o] = b ? (int64_t)b[o] * ((int64_t)1 << q->act.frac) : 0;
    qgemm(B, O, I, x, I, W, O, acc, O);
    narrow_all(y, acc, (int64_t)B * O, q->act.frac + q->weight.frac, q->act, q->rounding, sat);
}

void fixed_dense_backward(int32_t *dx, int32_t *dW, int32_t *db, const int32_t *dy,
                          const int32_t *x, const int32_t *W, int B, int I, int O,
                          const struct fixed_spec *q, void *scratch, int64_t *sat)
{
    int32_t *xt = scratch;
    int64_t *accw = (int64_t *)(xt + (int64_t)I * B + ((int64_t)I * B & 1));
    int32_t *wt = (int32_t *)(accw + (int64_t)I * O);
    int64_t *accx = (int64_t *)(wt + (int64_t)O * I + ((int64_t)O * I & 1));
    qtranspose(B, I, x, xt);
    memset(accw, 0, sizeof *accw * (size_t)I * (size_t)O);
    qgemm(I, O, B, xt, B, dy, O, accw, O);
    narrow_all(dW, accw, (int64_t)I * O, q->act.frac + q->err.frac, q->grad, q->rounding, sat);
    if (db)
        for (int o = 0; o < O; o++) {
            int64_t s = 0;
            for (int k = 0; k < B; k++)
                s += dy[(int64_t)k * O + o];
            db[o] = fixed_narrow(s, q->err.frac, q->grad, q->rounding, sat);
        }
    if (dx) {
        qtranspose(I, O, W, wt);
        memset(accx, 0, sizeof *accx * (size_t)B * (size_t)I);
        qgemm(B, I, O, dy, O, wt, I, accx, I);
        narrow_all(dx, accx, (int64_t)B * I, q->err.frac + q->weight.frac, q->err, q->rounding,
                   sat);
    }
}

/* ---- conv ---- */

static void qim2col(int32_t *cols, const int32_t *x, const struct conv_geom *g)
{
    int P = g->OH * g->OW;
    for (int c = 0; c < g->C; c++)
        for (int ky = 0; ky < g->k; ky++)
            for (int kx = 0; kx < g->k; kx++) {
                int32_t *row = cols + ((int64_t)(c * g->k + ky) * g->k + kx) * P;
                for (int oy = 0; oy < g->OH; oy++)
                    for (int ox = 0; ox < g->OW; ox++) {
                        int iy = oy * g->stride - g->pad + ky, ix = ox * g->stride - g->pad + kx;
                        row[oy * g->OW + ox] = iy >= 0 && iy < g->H && ix >= 0 && ix < g->W
                                                   ? x[((int64_t)c * g->H + iy) * g->W + ix]
                                                   : 0;
                    }
            }
}

static void qcol2im(int64_t *dx, const int64_t *cols, const struct conv_geom *g)
{
    int P = g->OH * g->OW;
    for (int c = 0; c < g->C; c++)
        for (int ky = 0; ky < g->k; ky++)
            for (int kx = 0; kx < g->k; kx++) {
                const int64_t *row = cols + ((int64_t)(c * g->k + ky) * g->k + kx) * P;
                for (int oy = 0; oy < g->OH; oy++)
                    for (int ox = 0; ox < g->OW; ox++) {
                        int iy = oy * g->stride - g->pad + ky, ix = ox * g->stride - g->pad + kx;
                        if (iy >= 0 && iy < g->H && ix >= 0 && ix < g->W)
                            dx[((int64_t)c * g->H + iy) * g->W + ix] += row[oy * g->OW + ox];
                    }
            }
}

int64_t fixed_conv_scratch(const struct conv_geom *g)
{
    int64_t P = (int64_t)g->OH * g->OW, Q = (int64_t)g->C * g->k * g->k;
    int64_t in = (int64_t)g->C * g->H * g->W;
    /* cols, cols^T, W^T (int32, each padded to 8 bytes); accW, dcols or acc, dx (int64) */
    return 4 * (2 * Q * P + Q * g->OC + 3) +
           8 * (g->OC * Q + (Q > g->OC ? Q : g->OC) * P + in + g->OC);
}

void fixed_conv_forward(int32_t *y, const int32_t *x, const int32_t *W, const int32_t *b, int B,
                        const struct conv_geom *g, const struct fixed_spec *q, void *scratch,
                        int64_t *sat)
{
    int P = g->OH * g->OW, Q = g->C * g->k * g->k;
    int64_t in = (int64_t)g->C * g->H * g->W, out = (int64_t)g->OC * P;
    int32_t *cols = scratch;
    int64_t *acc = (int64_t *)(cols + (int64_t)Q * P + ((int64_t)Q * P & 1));
    for (int s = 0; s < B; s++) {
        qim2col(cols, x + s * in, g);
        for (int oc = 0; oc < g->OC; oc++)
            for (int p = 0; p < P; p++)
                acc[(int64_t)oc * P + p] = b ? (int64_t)b[oc] * ((int64_t)1 << q->act.frac) : 0;
        qgemm(g->OC, P, Q, W, Q, cols, P, acc, P);
        narrow_all(y + s * out, acc, out, q->act.frac + q->weight.frac, q->act, q->rounding,
                   sat);
    }
}

void fixed_conv_backward(int32_t *dx, int32_t *dW, int32_t *db, const int32_t *dy,
                         const int32_t *x, const int32_t *W, int B, const struct conv_geom *g,
                         const struct fixed_spec *q, void *scratch, int64_t *sat)
{
    int P = g->OH * g->OW, Q = g->C * g->k * g->k;
    int64_t in = (int64_t)g->C * g->H * g->W, out = (int64_t)g->OC * P;
    int32_t *cols = scratch, *colst = cols + (int64_t)Q * P, *wt = colst + (int64_t)Q * P;
    int64_t *accw = (int64_t *)(wt + (int64_t)Q * g->OC + (((int64_t)Q * g->OC) & 1));
    int64_t *dcols = accw + (int64_t)g->OC * Q, *dxacc = dcols + (int64_t)Q * P;
    int64_t *dbacc = dxacc + in;
    memset(accw, 0, sizeof *accw * (size_t)g->OC * (size_t)Q);
    memset(dbacc, 0, sizeof *dbacc * (size_t)g->OC);
    if (dx)
        qtranspose(g->OC, Q, W, wt);
    for (int s = 0; s < B; s++) {
        const int32_t *dys = dy + s * out;
        qim2col(cols, x + s * in, g);
        qtranspose(Q, P, cols, colst);
        qgemm(g->OC, Q, P, dys, P, colst, Q, accw, Q);
        for (int oc = 0; oc < g->OC; oc++)
            for (int p = 0; p < P; p++)
                dbacc[oc] += dys[(int64_t)oc * P + p];
        if (dx) {
            memset(dcols, 0, sizeof *dcols * (size_t)Q * (size_t)P);
            qgemm(Q, P, g->OC, wt, g->OC, dys, P, dcols, P);
            memset(dxacc, 0, sizeof *dxacc * (size_t)in);
            qcol2im(dxacc, dcols, g);
            narrow_all(dx + s * in, dxacc, in, q->err.frac + q->weight.frac, q->err, q->rounding,
                       sat);
        }
    }
    narrow_all(dW, accw, (int64_t)g->OC * Q, q->act.frac + q->err.frac, q->grad, q->rounding,
               sat);
    if (db)
        narrow_all(db, dbacc, g->OC, q->err.frac, q->grad, q->rounding, sat);
}

/* ---- pools, add ---- */

void fixed_maxpool_forward(int32_t *y, int32_t *argmax, const int32_t *x, int B,
                           const struct conv_geom *g)
{
    for (int64_t p = 0; p < (int64_t)B * g->C; p++) {
        const int32_t *xp = x + p * g->H * g->W;
        for (int oy = 0; oy < g->OH; oy++)
            for (int ox = 0; ox < g->OW; ox++) {
                int best = oy * g->stride * g->W + ox * g->stride;
                for (int ky = 0; ky < g->k; ky++)
                    for (int kx = 0; kx < g->k; kx++) {
                        int i = (oy * g->stride + ky) * g->W + ox * g->stride + kx;
                        if (xp[i] > xp[best])
                            best = i;
                    }
                int64_t o = (p * g->OH + oy) * g->OW + ox;
                y[o] = xp[best];
                argmax[o] = best;
            }
    }
}

/* Exact sums per input in acc (plane words of int64), then one saturation each. */
static void flush_plane(int32_t *dx, const int64_t *acc, int64_t plane, struct fixed_fmt f,
                        int64_t *sat)
{
    for (int64_t i = 0; i < plane; i++)
        dx[i] = fixed_sat(acc[i], f, sat);
}

int64_t fixed_pool_scratch(const struct conv_geom *g)
{
    return 8 * (int64_t)g->H * g->W;
}

void fixed_maxpool_backward(int32_t *dx, const int32_t *dy, const int32_t *argmax, int B,
                            const struct conv_geom *g, const struct fixed_spec *q,
                            void *scratch, int64_t *sat)
{
    int64_t plane = (int64_t)g->H * g->W, oplane = (int64_t)g->OH * g->OW;
    int64_t *acc = scratch;
    for (int64_t p = 0; p < (int64_t)B * g->C; p++) {
        memset(acc, 0, sizeof *acc * (size_t)plane);
        for (int64_t o = 0; o < oplane; o++)   /* overlapping windows add exactly */
            acc[argmax[p * oplane + o]] += dy[p * oplane + o];
        flush_plane(dx + p * plane, acc, plane, q->err, sat);
    }
}

void fixed_avgpool_forward(int32_t *y, const int32_t *x, int B, const struct conv_geom *g,
                           const struct fixed_spec *q)
{
    int64_t area = (int64_t)g->k * g->k;
    for (int64_t p = 0; p < (int64_t)B * g->C; p++) {
        const int32_t *xp = x + p * g->H * g->W;
        for (int oy = 0; oy < g->OH; oy++)
            for (int ox = 0; ox < g->OW; ox++) {
                int64_t sum = 0;
                for (int ky = 0; ky < g->k; ky++)
                    for (int kx = 0; kx < g->k; kx++)
                        sum += xp[(oy * g->stride + ky) * g->W + ox * g->stride + kx];
                y[(p * g->OH + oy) * g->OW + ox] = (int32_t)div_round(sum, area, q->rounding);
            }
    }
}

void fixed_avgpool_backward(int32_t *dx, const int32_t *dy, int B, const struct conv_geom *g,
                            const struct fixed_spec *q, void *scratch, int64_t *sat)
{
    int64_t area = (int64_t)g->k * g->k, plane = (int64_t)g->H * g->W;
    int64_t *acc = scratch;
    for (int64_t p = 0; p < (int64_t)B * g->C; p++) {
        memset(acc, 0, sizeof *acc * (size_t)plane);
        for (int oy = 0; oy < g->OH; oy++)
            for (int ox = 0; ox < g->OW; ox++) {
                int64_t share = div_round(dy[(p * g->OH + oy) * g->OW + ox], area, q->rounding);
                for (int ky = 0; ky < g->k; ky++)
                    for (int kx = 0; kx < g->k; kx++)
                        acc[(oy * g->stride + ky) * g->W + ox * g->stride + kx] += share;
            }
        flush_plane(dx + p * plane, acc, plane, q->err, sat);
    }
}

void fixed_add(int32_t *y, const int32_t *const *in, int n_in, int64_t n, struct fixed_fmt f,
               int64_t *sat)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t s = 0;
        for (int k = 0; k < n_in; k++)
            s += in[k][i];
        y[i] = fixed_sat(s, f, sat);
    }
}

/* ---- loss, update ---- */

double fixed_loss(int32_t *delta, const int32_t *z, const uint8_t *labels, int B, int classes,
                  int mse, const struct fixed_spec *q, int64_t *correct, int64_t *sat)
{
    double loss = 0;
    for (int s = 0; s < B; s++) {
        const int32_t *zs = z + (int64_t)s * classes;
        int32_t *ds = delta + (int64_t)s * classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (zs[c] > zs[best])
                best = c;
        *correct += best == labels[s];
        double max = fixed_to_double(zs[best], q->act), sum = 0;
        for (int c = 0; c < classes; c++)
            sum += mse ? 0 : exp(fixed_to_double(zs[c], q->act) - max);
        for (int c = 0; c < classes; c++) {
            double zc = fixed_to_double(zs[c], q->act), t = c == labels[s];
            double d = mse ? zc - t : exp(zc - max) / sum - t;
            ds[c] = fixed_from_double(d, q->err, q->rounding, sat);
            loss += mse ? 0.5 * (zc - t) * (zc - t) : 0;
        }
        if (!mse)
            loss += log(sum) - (fixed_to_double(zs[labels[s]], q->act) - max);
    }
    return loss;
}

void fixed_update(int32_t *master, int32_t *w, int32_t *vel, int32_t *m, const int32_t *grad,
                  int64_t n, uint64_t lr, uint64_t wd, uint32_t mu, uint32_t beta,
                  const struct fixed_spec *q, int64_t *sat)
{
    enum fixed_rounding r = q->rounding;
    int sh = FIXED_LR_FRAC + q->grad.frac - q->master.frac;   /* >= 1: fracs are <= 31 */
    for (int64_t i = 0; i < n; i++) {
        int64_t g = grad[i];
        if (wd)
            g += fixed_shift((int64_t)wd * master[i], FIXED_LR_FRAC + q->master.frac - q->grad.frac,
                             r);
        int64_t v = fixed_shift((int64_t)mu * vel[i], FIXED_COEF_FRAC, r) + g;
        vel[i] = fixed_sat(v, q->grad, sat);
        /* u = lr * v, narrowed in 128 bits with the same rounding as fixed_shift */
        i128 step = (i128)lr * vel[i], uq = step >> sh;
        if (r == FIXED_NEAREST_EVEN) {
            i128 rem = step - uq * ((i128)1 << sh), half = (i128)1 << (sh - 1);
            if (rem > half || (rem == half && (uq & 1)))
                uq++;
        }
        int64_t lim = (int64_t)1 << 62;   /* far outside any format: fixed_sat counts it */
        int32_t u32 = fixed_sat(uq > lim ? lim : uq < -lim ? -lim : (int64_t)uq, q->master, sat);
        master[i] = fixed_sat((int64_t)master[i] - u32, q->master, sat);
        w[i] = fixed_narrow(master[i], q->master.frac, q->weight, r, sat);
        if (m)
            m[i] = fixed_ema_step(m[i], u32, beta, q, sat);
    }
}

int32_t fixed_ema_step(int32_t m, int32_t u, uint32_t beta, const struct fixed_spec *q,
                       int64_t *sat)
{
    int64_t one = (int64_t)1 << FIXED_COEF_FRAC;
    return fixed_sat(fixed_shift((int64_t)beta * m + (one - beta) * u, FIXED_COEF_FRAC,
                                 q->rounding),
                     q->master, sat);
}

void fixed_rebuild(int32_t *out, const int32_t *master, const int32_t *m, int64_t gap, int64_t n,
                   const struct fixed_spec *q, int64_t *sat)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = fixed_narrow((int64_t)master[i] + gap * m[i], q->master.frac, q->weight,
                              q->rounding, sat);
}
