/* npy.c - fuzz harness of the .npy reader (npy_read_f32).
 * Checks: a refusal carries a message and leaves no data; an accepted file is exactly
 * its preamble, the header length at bytes 8-9 and the float32 values its shape counts,
 * the values are the file's bytes, and npy_write_f32 of them reads back the same. */
#include "../../sw/base/npy.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("in.npy", data, size);
    float *v = NULL, *w = NULL;
    int ndim = -1, ndim2 = -1;
    int64_t shape[NPY_MAX_DIMS], shape2[NPY_MAX_DIMS];
    struct diag d = {0};
    if (npy_read_f32(path, &v, &ndim, shape, &d)) {
        FUZZ_REFUSED(d);
        FUZZ_CHECK(!v);
        return 0;
    }
    if (fuzz_inject()) {
        if (ndim > 0)
            shape[0]++;
        else
            ndim = NPY_MAX_DIMS + 1;
    }
    FUZZ_CHECK(v && ndim >= 0 && ndim <= NPY_MAX_DIMS);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        FUZZ_CHECK(shape[i] >= 0);
        count *= (size_t)shape[i];
    }
    FUZZ_CHECK(size >= 10);
    size_t hend = 10 + (size_t)(data[8] | data[9] << 8);
    FUZZ_CHECK(hend <= size && (size - hend) / 4 == count && (size - hend) % 4 == 0);
    FUZZ_CHECK(!memcmp(v, data + hend, 4 * count));   /* little-endian host */
    const char *out = fuzz_path("out.npy");
    FUZZ_CHECK(npy_write_f32(out, v, ndim, shape, &d) == 0);
    FUZZ_CHECK(npy_read_f32(out, &w, &ndim2, shape2, &d) == 0);
    FUZZ_CHECK(ndim2 == ndim && !memcmp(shape2, shape, sizeof *shape * (size_t)ndim));
    FUZZ_CHECK(!memcmp(w, v, 4 * count));
    free(v);
    free(w);
    return 0;
}
