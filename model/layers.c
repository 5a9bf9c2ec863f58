#include "layers.h"

#include <math.h>
#include <string.h>

#include "gemm.h"

int64_t dense_scratch(int B, int I, int O)
{
    int64_t w = (int64_t)I * O, x = (int64_t)B * I;
    return w > x ? w : x;
}

void dense_forward(float *y, const float *x, const float *W, const float *b, int B, int I, int O)
{
    for (int s = 0; s < B; s++)
        for (int o = 0; o < O; o++)
            y[(int64_t)s * O + o] = b ? b[o] : 0.0f;
    gemm_nn(B, O, I, x, I, W, O, y, O);
}

void dense_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                    const float *W, int B, int I, int O, float *scratch)
{
    /* dW [I x O] += x^T [I x B] * dy [B x O] */
    gemm_transpose(B, I, x, I, scratch, B);
    gemm_nn(I, O, B, scratch, B, dy, O, dW, O);
    if (db)
        for (int s = 0; s < B; s++)
            for (int o = 0; o < O; o++)
                db[o] += dy[(int64_t)s * O + o];
    if (dx) {
        /* dx [B x I] = dy [B x O] * W^T [O x I] */
        gemm_transpose(I, O, W, O, scratch, I);
        memset(dx, 0, sizeof *dx * (size_t)B * (size_t)I);
        gemm_nn(B, I, O, dy, O, scratch, I, dx, I);
    }
}

/* ---- conv ---- */

static int64_t ckk(const struct conv_geom *g)
{
    return (int64_t)g->C * g->k * g->k;
}

int64_t conv_scratch(const struct conv_geom *g)
{
    int64_t P = (int64_t)g->OH * g->OW, Q = ckk(g);
    return 2 * Q * P + Q * g->OC;   /* cols; cols^T or dcols; W^T */
}

/* cols [C*k*k x OH*OW]: row (c, ky, kx), column (oy, ox); zero where padded. */
static void im2col(float *cols, const float *x, const struct conv_geom *g)
{
    int P = g->OH * g->OW;
    for (int c = 0; c < g->C; c++)
        for (int ky = 0; ky < g->k; ky++)
            for (int kx = 0; kx < g->k; kx++) {
                float *row = cols + ((int64_t)(c * g->k + ky) * g->k + kx) * P;
                for (int oy = 0; oy < g->OH; oy++) {
                    int iy = oy * g->stride - g->pad + ky;
                    for (int ox = 0; ox < g->OW; ox++) {
                        int ix = ox * g->stride - g->pad + kx;
                        int in = iy >= 0 && iy < g->H && ix >= 0 && ix < g->W;
                        row[oy * g->OW + ox] =
                            in ? x[((int64_t)c * g->H + iy) * g->W + ix] : 0.0f;
                    }
                }
            }
}

/* dx += the columns folded back onto the input (adds in (c, ky, kx, oy, ox) order). */
static void col2im(float *dx, const float *cols, const struct conv_geom *g)
{
    int P = g->OH * g->OW;
    for (int c = 0; c < g->C; c++)
        for (int ky = 0; ky < g->k; ky++)
            for (int kx = 0; kx < g->k; kx++) {
                const float *row = cols + ((int64_t)(c * g->k + ky) * g->k + kx) * P;
                for (int oy = 0; oy < g->OH; oy++) {
                    int iy = oy * g->stride - g->pad + ky;
                    if (iy < 0 || iy >= g->H)
                        continue;
                    for (int ox = 0; ox < g->OW; ox++) {
                        int ix = ox * g->stride - g->pad + kx;
                        if (ix >= 0 && ix < g->W)
                            dx[((int64_t)c * g->H + iy) * g->W + ix] += row[oy * g->OW + ox];
                    }
                }
            }
}

void conv_forward(float *y, const float *x, const float *W, const float *b, int B,
                  const struct conv_geom *g, float *scratch)
{
    int P = g->OH * g->OW, Q = (int)ckk(g);
    int64_t in = (int64_t)g->C * g->H * g->W, out = (int64_t)g->OC * P;
    for (int s = 0; s < B; s++) {
        float *ys = y + s * out;
        im2col(scratch, x + s * in, g);
        for (int oc = 0; oc < g->OC; oc++)
            for (int p = 0; p < P; p++)
                ys[(int64_t)oc * P + p] = b ? b[oc] : 0.0f;
        gemm_nn(g->OC, P, Q, W, Q, scratch, P, ys, P);
    }
}

void conv_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                   const float *W, int B, const struct conv_geom *g, float *scratch)
{
    int P = g->OH * g->OW, Q = (int)ckk(g);
    int64_t in = (int64_t)g->C * g->H * g->W, out = (int64_t)g->OC * P;
    float *cols = scratch, *tmp = cols + (int64_t)Q * P, *wt = tmp + (int64_t)Q * P;
    if (dx)
        gemm_transpose(g->OC, Q, W, Q, wt, g->OC);   /* W^T [Q x OC] */
    for (int s = 0; s < B; s++) {
        const float *dys = dy + s * out;
        /* dW [OC x Q] += dy [OC x P] * cols^T [P x Q] */
        im2col(cols, x + s * in, g);
        gemm_transpose(Q, P, cols, P, tmp, Q);
        gemm_nn(g->OC, Q, P, dys, P, tmp, Q, dW, Q);
        if (db)
            for (int oc = 0; oc < g->OC; oc++)
                for (int p = 0; p < P; p++)
                    db[oc] += dys[(int64_t)oc * P + p];
        if (dx) {
            /* dcols [Q x P] = W^T [Q x OC] * dy [OC x P], folded onto dx */
            memset(tmp, 0, sizeof *tmp * (size_t)Q * (size_t)P);
            gemm_nn(Q, P, g->OC, wt, g->OC, dys, P, tmp, P);
            memset(dx + s * in, 0, sizeof *dx * (size_t)in);
            col2im(dx + s * in, tmp, g);
        }
    }
}

/* ---- pools (no padding) ---- */

void maxpool_forward(float *y, float *argmax, const float *x, int B, const struct conv_geom *g)
{
    for (int s = 0; s < B; s++)
        for (int c = 0; c < g->C; c++) {
            const float *xp = x + ((int64_t)s * g->C + c) * g->H * g->W;
            int64_t o = ((int64_t)s * g->C + c) * g->OH * g->OW;
            for (int oy = 0; oy < g->OH; oy++)
                for (int ox = 0; ox < g->OW; ox++, o++) {
                    int best = (oy * g->stride) * g->W + ox * g->stride;
                    for (int ky = 0; ky < g->k; ky++)
                        for (int kx = 0; kx < g->k; kx++) {
                            int i = (oy * g->stride + ky) * g->W + ox * g->stride + kx;
                            if (xp[i] > xp[best])   /* first maximum in scan order */
                                best = i;
                        }
                    y[o] = xp[best];
                    argmax[o] = (float)best;
                }
        }
}

void maxpool_backward(float *dx, const float *dy, const float *argmax, int B,
                      const struct conv_geom *g)
{
    int64_t plane = (int64_t)g->H * g->W, oplane = (int64_t)g->OH * g->OW;
    memset(dx, 0, sizeof *dx * (size_t)B * (size_t)g->C * (size_t)plane);
    for (int64_t p = 0; p < (int64_t)B * g->C; p++)
        for (int64_t o = 0; o < oplane; o++)
            dx[p * plane + (int64_t)argmax[p * oplane + o]] += dy[p * oplane + o];
}

void avgpool_forward(float *y, const float *x, int B, const struct conv_geom *g)
{
    float area = (float)(g->k * g->k);
    for (int64_t p = 0; p < (int64_t)B * g->C; p++) {
        const float *xp = x + p * g->H * g->W;
        for (int oy = 0; oy < g->OH; oy++)
            for (int ox = 0; ox < g->OW; ox++) {
                float sum = 0;
                for (int ky = 0; ky < g->k; ky++)
                    for (int kx = 0; kx < g->k; kx++)
                        sum += xp[(oy * g->stride + ky) * g->W + ox * g->stride + kx];
                y[(p * g->OH + oy) * g->OW + ox] = sum / area;
            }
    }
}

void avgpool_backward(float *dx, const float *dy, int B, const struct conv_geom *g)
{
    float area = (float)(g->k * g->k);
    memset(dx, 0, sizeof *dx * (size_t)B * (size_t)g->C * (size_t)g->H * (size_t)g->W);
    for (int64_t p = 0; p < (int64_t)B * g->C; p++) {
        float *dxp = dx + p * g->H * g->W;
        for (int oy = 0; oy < g->OH; oy++)
            for (int ox = 0; ox < g->OW; ox++) {
                float share = dy[(p * g->OH + oy) * g->OW + ox] / area;
                for (int ky = 0; ky < g->k; ky++)
                    for (int kx = 0; kx < g->k; kx++)
                        dxp[(oy * g->stride + ky) * g->W + ox * g->stride + kx] += share;
            }
    }
}

/* ---- elementwise ---- */

void relu_forward(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward(float *dx, const float *dy, const float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* ---- losses ---- */

static int argmax_row(const float *z, int classes)
{
    int best = 0;
    for (int c = 1; c < classes; c++)
        if (z[c] > z[best])
            best = c;
    return best;
}

double softmax_ce(float *dz, const float *z, const uint8_t *labels, int B, int classes,
                  int64_t *correct)
{
    double loss = 0;
    for (int s = 0; s < B; s++) {
        const float *zs = z + (int64_t)s * classes;
        float *ds = dz + (int64_t)s * classes;
        double max = zs[argmax_row(zs, classes)], sum = 0;
        *correct += argmax_row(zs, classes) == labels[s];
        for (int c = 0; c < classes; c++)
            sum += exp((double)zs[c] - max);
        for (int c = 0; c < classes; c++) {
            double p = exp((double)zs[c] - max) / sum;
            ds[c] = (float)((p - (c == labels[s])) / B);
        }
        loss += log(sum) - ((double)zs[labels[s]] - max);
    }
    return loss;
}

double mse_onehot(float *dz, const float *z, const uint8_t *labels, int B, int classes,
                  int64_t *correct)
{
    double loss = 0;
    for (int s = 0; s < B; s++) {
        const float *zs = z + (int64_t)s * classes;
        *correct += argmax_row(zs, classes) == labels[s];
        for (int c = 0; c < classes; c++) {
            double e = (double)zs[c] - (c == labels[s]);
            dz[(int64_t)s * classes + c] = (float)(e / B);
            loss += 0.5 * e * e;
        }
    }
    return loss;
}
