/* dataset_idx.h - gzip'd IDX files, the format of MNIST and Fashion-MNIST.
 *
 * An images file is the big-endian uint32 fields magic 0x00000803 (unsigned
 * bytes, 3 dimensions), count, rows, cols (bytes 0, 4, 8, 12), then
 * count * rows * cols pixel bytes, one image after another, row by row. A
 * labels file is magic 0x00000801 and count (bytes 0, 4), then count label
 * bytes. Both are gzip'd; they are read with zlib.
 *
 * idx_load refuses, with a message that names the file and (for a header
 * field) the field and its byte offset: a missing or unreadable file, a file
 * that is not gzip, a corrupt gzip stream, a wrong magic, a count outside
 * 1..IDX_MAX_COUNT, rows or cols outside 1..IDX_MAX_SIDE, image and label
 * counts that differ, fewer or more bytes than the header promises, and a
 * label that is not a class 0..IDX_CLASSES-1. Diagnostics have line 0. A
 * header's count never sizes an allocation by itself: the data is read into a
 * buffer that grows as it arrives, and the dataset is allocated once both files
 * are seen to hold what their headers claim.
 *
 * Pixels become value / 255.0f (so x is in [0, 1]); dim = rows * cols;
 * classes = IDX_CLASSES. No normalisation is applied (see data_normalize).
 *
 * Ownership: on success the caller owns the dataset(s) and frees each with
 * data_free. On failure nothing stays allocated: every dataset argument is
 * zeroed (data_free on it is harmless) and d is set.
 */
#ifndef LP_DATASET_IDX_H
#define LP_DATASET_IDX_H

#include "../../model/data.h"
#include "diag.h"

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_CLASSES 10
#define IDX_MAX_COUNT 10000000
#define IDX_MAX_SIDE 4096

/* Load an images file and its labels file (any rows x cols).
 * Returns 0, or -1 with d set. */
int idx_load(const char *images_gz, const char *labels_gz, struct dataset *out,
             struct diag *d);

/* Load Fashion-MNIST from dir: train-images-idx3-ubyte.gz and
 * train-labels-idx1-ubyte.gz into train, t10k-images-idx3-ubyte.gz and
 * t10k-labels-idx1-ubyte.gz into test. The images must be 28 x 28.
 * Returns 0, or -1 with d set and both datasets zeroed. */
int idx_load_fashion_mnist(const char *dir, struct dataset *train, struct dataset *test,
                           struct diag *d);

#endif
