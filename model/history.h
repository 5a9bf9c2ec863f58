/* history.h - the arithmetic of the weight-history policies (LAYERPIPE.md s. 4).
 *
 * ema (the project's form): after every update step u (the amount subtracted
 * from the weights),   m <- beta*m + (1 - beta)*u,   and a backward whose forward
 * read the weights `gap` updates ago reads   W + gap*m   (gap = the layer's delay
 * in steady state). The equivalent form keeps an average of the weights,
 * Wbar <- beta*Wbar + (1 - beta)*W; with beta = d/(d+1) and Wbar starting at W,
 * Wbar = W + d*m exactly in exact arithmetic. All float, elementwise, in index order.
 */
#ifndef LP_HISTORY_H
#define LP_HISTORY_H

#include <stdint.h>

/* m <- beta*m + (1 - beta)*u */
void ema_update(float *m, const float *u, float beta, int64_t n);
/* out <- w + gap*m */
void ema_rebuild(float *out, const float *w, const float *m, int64_t gap, int64_t n);
/* wbar <- beta*wbar + (1 - beta)*w */
void ema_average_weights(float *wbar, const float *w, float beta, int64_t n);
/* beta = d/(d+1), the pipeline-aware choice: the average lags by d updates. */
float ema_beta_auto(int d);

#endif
