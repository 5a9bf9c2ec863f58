/* gemm.h - the matrix products of training, in float.
 *
 * Every C element is one sum in a fixed order: its starting value, then the
 * products for k = 0, 1, ..., K-1 added one at a time. So results do not depend
 * on the blocking, on vector width or on how a batch is split, and the same
 * binary gives the same bits everywhere (no FMA contraction: the build uses
 * ISO C mode, which turns it off, and never -ffast-math).
 *
 * Matrices are row-major with explicit row strides (lda, ldb, ldc >= columns).
 */
#ifndef LP_GEMM_H
#define LP_GEMM_H

/* Build a hot loop twice, for AVX2 and for baseline x86-64, picked at load time.
 * Only for loops whose clones give the same bits (no reassociation differs). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define LP_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define LP_MULTIVERSION
#endif

/* C[M x N] += A[M x K] * B[K x N]. */
void gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
             int ldc);

/* Dst[cols x rows] = transpose of Src[rows x cols] (strides: lds for Src, ldd for Dst). */
void gemm_transpose(int rows, int cols, const float *src, int lds, float *dst, int ldd);

#endif
