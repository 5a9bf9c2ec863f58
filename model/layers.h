/* layers.h - forward and backward kernels of each layer type, in float.
 *
 * Argument order: outputs, saved-for-backward, inputs, weights, sizes,
 * scratch. Each backward sits next to its forward. Gradients with respect to
 * weights are *accumulated* (+=): zeroing them is the caller's explicit step.
 * Dense and conv accept a NULL input gradient when no one needs it (the network
 * input); the other backwards always write theirs.
 *
 * Layouts, per sample, row-major:
 *   dense: x [I], W [I x O] (row i: the weights from input i), b [O], y [O]
 *   conv:  x [C x H x W], W [OC x C x k x k], b [OC], y [OC x OH x OW]
 *   pools: x [C x H x W], y [C x OH x OW]; maxpool saves the argmax of each
 *          output (its index in the input plane, as a float) for the backward.
 * Batches are B samples one after another.
 */
#ifndef LP_LAYERS_H
#define LP_LAYERS_H

#include <stdint.h>

struct conv_geom {
    int C, H, W;        /* input */
    int OC, OH, OW;     /* output */
    int k, stride, pad;
};

/* Floats of scratch each backward needs. */
int64_t dense_scratch(int B, int I, int O);
int64_t conv_scratch(const struct conv_geom *g);

void dense_forward(float *y, const float *x, const float *W, const float *b, int B, int I, int O);
void dense_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                    const float *W, int B, int I, int O, float *scratch);

void conv_forward(float *y, const float *x, const float *W, const float *b, int B,
                  const struct conv_geom *g, float *scratch);
void conv_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                   const float *W, int B, const struct conv_geom *g, float *scratch);

void maxpool_forward(float *y, float *argmax, const float *x, int B, const struct conv_geom *g);
void maxpool_backward(float *dx, const float *dy, const float *argmax, int B,
                      const struct conv_geom *g);
void avgpool_forward(float *y, const float *x, int B, const struct conv_geom *g);
void avgpool_backward(float *dx, const float *dy, int B, const struct conv_geom *g);

/* y = max(x, 0) in place is allowed (y == x). */
void relu_forward(float *y, const float *x, int64_t n);
/* dx = dy where y > 0, else 0 (in place allowed: dx == dy). */
void relu_backward(float *dx, const float *dy, const float *y, int64_t n);

/* Softmax cross-entropy, mean over the batch: dz = (softmax(z) - onehot) / B.
 * Returns the summed loss (not divided by B) and adds correct predictions
 * (argmax, first on ties) to *correct. Computed in double, dz rounded to float. */
double softmax_ce(float *dz, const float *z, const uint8_t *labels, int B, int classes,
                  int64_t *correct);
/* Mean squared error against one-hot targets: L = sum (z - t)^2 / (2B),
 * dz = (z - t) / B. Returns the summed loss (sum (z - t)^2 / 2). */
double mse_onehot(float *dz, const float *z, const uint8_t *labels, int B, int classes,
                  int64_t *correct);

#endif
