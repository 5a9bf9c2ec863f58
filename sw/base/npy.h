/* npy.h - float32 arrays as NumPy .npy files (format version 1.0).
 *
 * The file is the magic "\x93NUMPY", version 1.0, a little-endian uint16
 * header length, and a header dict such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (256, 784), }
 * padded with spaces and ended by '\n' so that the data starts at a multiple
 * of 64 bytes; then the values, little-endian float32, C order (last index
 * fastest). numpy.load reads it; numpy.save writes the same bytes for a
 * C-ordered float32 array.
 *
 * npy_write_f32 goes through outfile: a reader never sees a half-written file
 * and an existing file is replaced only by a complete one.
 *
 * npy_read_f32 reads what npy_write_f32 writes: version 1.0, '<f4', C order,
 * at most NPY_MAX_DIMS dimensions, exactly as many data bytes as the shape
 * says. Anything else is refused with a message saying what was found.
 * Ownership: on success *data is malloc'd (never NULL, even for zero
 * elements) and the caller frees it with free(); on failure *data is NULL.
 */
#ifndef LP_NPY_H
#define LP_NPY_H

#include <stdint.h>

#include "diag.h"

#define NPY_MAX_DIMS 8

/* Write data (the product of shape[0..ndim-1] values; ndim 0 is a scalar,
 * one value) to path. ndim 0..NPY_MAX_DIMS, every shape[i] >= 0.
 * Returns 0, or -1 with d set (naming path). */
int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape,
                  struct diag *d);

/* Read path into *data, *ndim and shape[0..*ndim-1].
 * Returns 0, or -1 with d set (naming path). */
int npy_read_f32(const char *path, float **data, int *ndim, int64_t shape[NPY_MAX_DIMS],
                 struct diag *d);

#endif
