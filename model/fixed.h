/* fixed.h - bit-exact fixed-point arithmetic of the training datapath
 * (docs/numerics.md is the specification; the RTL implements the same).
 *
 * A format Q(bits, frac) is signed two's complement: a word w stands for
 * w / 2^frac and lies in [-2^(bits-1), 2^(bits-1) - 1]. Every value is held in
 * an int32_t (bits <= 32); sums and products are exact in int64_t (the
 * accumulator is checked to be wide enough, fixed_check). Narrowing shifts right
 * with the configured rounding, then saturates; every saturation is counted.
 *
 * Kernels mirror layers.h (same layouts and argument order); each takes the
 * spec and a counter for saturation events. Nothing here allocates except
 * where a scratch size is given.
 */
#ifndef LP_FIXED_H
#define LP_FIXED_H

#include <stdint.h>

#include "err.h"
#include "layers.h"
#include "net.h"

enum fixed_rounding { FIXED_NEAREST_EVEN, FIXED_TRUNCATE };

struct fixed_fmt {
    int bits, frac;
};

struct fixed_spec {
    struct fixed_fmt act;      /* inputs and activations */
    struct fixed_fmt err;      /* backward errors (dL/dz) */
    struct fixed_fmt weight;   /* the weights the datapath reads (and the stash holds) */
    struct fixed_fmt master;   /* the weights the update writes; the ema buffer m */
    struct fixed_fmt grad;     /* weight gradients and the momentum buffer */
    int acc_bits;              /* MAC accumulator width */
    enum fixed_rounding rounding;
};

/* Constants' formats: learning rate per sample (lr / batch) and weight decay
 * with FIXED_LR_FRAC fraction bits in a uint64; momentum and ema beta with
 * FIXED_COEF_FRAC fraction bits. */
#define FIXED_LR_FRAC 32
#define FIXED_COEF_FRAC 16

/* Shift x right by s (left when s < 0) with the rounding mode. Exact int64. */
int64_t fixed_shift(int64_t x, int s, enum fixed_rounding r);
/* Clamp x to f's range; counts a clamp in *sat (when sat is non-NULL). */
int32_t fixed_sat(int64_t x, struct fixed_fmt f, int64_t *sat);
/* Narrow x, which has frac_in fraction bits, to format f. */
int32_t fixed_narrow(int64_t x, int frac_in, struct fixed_fmt f, enum fixed_rounding r,
                     int64_t *sat);
/* Round the real v to format f (nearest-even or floor of v * 2^frac), saturating. */
int32_t fixed_from_double(double v, struct fixed_fmt f, enum fixed_rounding r, int64_t *sat);
double fixed_to_double(int32_t w, struct fixed_fmt f);
/* A constant in [0, 2^63 / 2^frac) as an unsigned word with frac fraction bits. */
uint64_t fixed_const(double v, int frac);
/* Momentum or ema beta as a 16-bit word (FIXED_COEF_FRAC), at most 65535. */
uint32_t fixed_coef(double v);

/* Accumulator bits needed by layer l of net under spec (largest exact sum of
 * its forward, input-gradient and weight-gradient products for batch B). */
int fixed_acc_bits_needed(const struct net *n, int l, const struct fixed_spec *q, int B);
/* Check formats and that the accumulator can hold every sum of every layer
 * without overflow. Returns 0, or -1 with e (field "accumulator_bits"). */
int fixed_check(const struct net *n, const struct fixed_spec *q, int B, struct diag *e);

/* ---- kernels (int32 words; scratch sizes in bytes) ---- */
int64_t fixed_dense_scratch(int B, int I, int O);
int64_t fixed_conv_scratch(const struct conv_geom *g);

void fixed_dense_forward(int32_t *y, const int32_t *x, const int32_t *W, const int32_t *b, int B,
                         int I, int O, const struct fixed_spec *q, void *scratch, int64_t *sat);
void fixed_dense_backward(int32_t *dx, int32_t *dW, int32_t *db, const int32_t *dy,
                          const int32_t *x, const int32_t *W, int B, int I, int O,
                          const struct fixed_spec *q, void *scratch, int64_t *sat);
void fixed_conv_forward(int32_t *y, const int32_t *x, const int32_t *W, const int32_t *b, int B,
                        const struct conv_geom *g, const struct fixed_spec *q, void *scratch,
                        int64_t *sat);
void fixed_conv_backward(int32_t *dx, int32_t *dW, int32_t *db, const int32_t *dy,
                         const int32_t *x, const int32_t *W, int B, const struct conv_geom *g,
                         const struct fixed_spec *q, void *scratch, int64_t *sat);
void fixed_maxpool_forward(int32_t *y, int32_t *argmax, const int32_t *x, int B,
                           const struct conv_geom *g);
/* Pool backwards sum every contribution to an input exactly (overlapping windows),
 * then saturate once to the error format; scratch: fixed_pool_scratch bytes. */
int64_t fixed_pool_scratch(const struct conv_geom *g);
void fixed_maxpool_backward(int32_t *dx, const int32_t *dy, const int32_t *argmax, int B,
                            const struct conv_geom *g, const struct fixed_spec *q,
                            void *scratch, int64_t *sat);
void fixed_avgpool_forward(int32_t *y, const int32_t *x, int B, const struct conv_geom *g,
                           const struct fixed_spec *q);
void fixed_avgpool_backward(int32_t *dx, const int32_t *dy, int B, const struct conv_geom *g,
                            const struct fixed_spec *q, void *scratch, int64_t *sat);
/* y = sat(sum of the n_in inputs), in the format f. */
void fixed_add(int32_t *y, const int32_t *const *in, int n_in, int64_t n, struct fixed_fmt f,
               int64_t *sat);

/* The loss gradient fed to the datapath: delta = p - onehot (softmax) or
 * z - onehot (mse), NOT divided by the batch (lr / batch does that), from the
 * dequantized logits, computed in double and rounded to q->err. Returns the
 * summed loss; adds correct predictions to *correct. */
double fixed_loss(int32_t *delta, const int32_t *z, const uint8_t *labels, int B, int classes,
                  int mse, const struct fixed_spec *q, int64_t *correct, int64_t *sat);

/* One SGD step on n parameters (docs/numerics.md, "Update"):
 *   g' = g + wd*master;  v = mu*v + g';  u = lr*v;  master -= u;  w = narrow(master);
 *   m = beta*m + (1 - beta)*u when m is non-NULL.
 * lr is per sample (lr / batch), wd and lr in FIXED_LR_FRAC, mu and beta in
 * FIXED_COEF_FRAC. grad holds g on entry. */
void fixed_update(int32_t *master, int32_t *w, int32_t *vel, int32_t *m, const int32_t *grad,
                  int64_t n, uint64_t lr, uint64_t wd, uint32_t mu, uint32_t beta,
                  const struct fixed_spec *q, int64_t *sat);
/* The ema buffer's step for one parameter:
 * m' = sat_master(narrow(beta*m + (2^16 - beta)*u, 16)). fixed_update uses it. */
int32_t fixed_ema_step(int32_t m, int32_t u, uint32_t beta, const struct fixed_spec *q,
                       int64_t *sat);
/* out = narrow(master + gap*m) to the weight format: the ema rebuild. */
void fixed_rebuild(int32_t *out, const int32_t *master, const int32_t *m, int64_t gap, int64_t n,
                   const struct fixed_spec *q, int64_t *sat);

#endif
