#include "gemm.h"

/* The micro-kernel keeps a 4 x 16 block of C in registers across the whole K
 * loop; GCC vectorises the c-loop. Built twice (AVX2 and baseline x86-64) and
 * picked at load time: both add in the same order, so both give the same bits. */
#define MR 4
#define NR 16


LP_MULTIVERSION
static void block_4x16(int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc)
{
    float acc[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++)
            acc[r][c] = C[r * ldc + c];
    for (int k = 0; k < K; k++) {
        const float *b = B + (long)k * ldb;
        for (int r = 0; r < MR; r++) {
            float a = A[r * lda + k];
            for (int c = 0; c < NR; c++)
                acc[r][c] += a * b[c];
        }
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++)
            C[r * ldc + c] = acc[r][c];
}

/* Any block up to MR x NR, one row of C at a time. */
LP_MULTIVERSION
static void block_edge(int rows, int cols, int K, const float *A, int lda, const float *B,
                       int ldb, float *C, int ldc)
{
    for (int r = 0; r < rows; r++) {
        float acc[NR];
        for (int c = 0; c < cols; c++)
            acc[c] = C[r * ldc + c];
        for (int k = 0; k < K; k++) {
            float a = A[r * lda + k];
            const float *b = B + (long)k * ldb;
            for (int c = 0; c < cols; c++)
                acc[c] += a * b[c];
        }
        for (int c = 0; c < cols; c++)
            C[r * ldc + c] = acc[c];
    }
}

void gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
             int ldc)
{
    for (int i = 0; i < M; i += MR) {
        int rows = M - i < MR ? M - i : MR;
        for (int j = 0; j < N; j += NR) {
            int cols = N - j < NR ? N - j : NR;
            const float *a = A + (long)i * lda;
            float *c = C + (long)i * ldc + j;
            if (rows == MR && cols == NR)
                block_4x16(K, a, lda, B + j, ldb, c, ldc);
            else
                block_edge(rows, cols, K, a, lda, B + j, ldb, c, ldc);
        }
    }
}

void gemm_transpose(int rows, int cols, const float *src, int lds, float *dst, int ldd)
{
    enum { T = 32 };
    for (int i0 = 0; i0 < rows; i0 += T)
        for (int j0 = 0; j0 < cols; j0 += T)
            for (int i = i0; i < rows && i < i0 + T; i++)
                for (int j = j0; j < cols && j < j0 + T; j++)
                    dst[(long)j * ldd + i] = src[(long)i * lds + j];
}
