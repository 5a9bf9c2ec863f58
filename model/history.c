#include "history.h"

void ema_update(float *m, const float *u, float beta, int64_t n)
{
    float keep = 1.0f - beta;
    for (int64_t i = 0; i < n; i++)
        m[i] = beta * m[i] + keep * u[i];
}

void ema_rebuild(float *out, const float *w, const float *m, int64_t gap, int64_t n)
{
    float g = (float)gap;
    for (int64_t i = 0; i < n; i++)
        out[i] = w[i] + g * m[i];
}

void ema_average_weights(float *wbar, const float *w, float beta, int64_t n)
{
    float keep = 1.0f - beta;
    for (int64_t i = 0; i < n; i++)
        wbar[i] = beta * wbar[i] + keep * w[i];
}

float ema_beta_auto(int d)
{
    return (float)((double)d / (d + 1));
}
