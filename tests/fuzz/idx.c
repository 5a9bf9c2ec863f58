/* idx.c - fuzz harness of the IDX reader (idx_load: an images file and a labels file,
 * gzip'd, sw/base/dataset_idx.h).
 * An input is a mode byte, then IMAGES FUZZ_SEP LABELS. Mode bit 0: the harness gzips
 * the images part (so the fuzzer works on IDX, not on deflate); else it is the file as
 * it is. Bit 1: the same for the labels.
 * Checks: a refusal carries a message and leaves nothing; an accepted pair has the
 * header's count and shape, labels 0..9 and pixels byte / 255. */
#include <zlib.h>

#include "../../sw/base/dataset_idx.h"

#include "fuzz.h"

static const char *put(const char *name, const uint8_t *p, size_t n, int gzip)
{
    if (!gzip)
        return fuzz_write(name, p, n);
    const char *path = fuzz_path(name);
    gzFile g = gzopen(path, "wb");
    FUZZ_CHECK(g);
    FUZZ_CHECK(n == 0 || gzwrite(g, p, (unsigned)n) == (int)n);
    FUZZ_CHECK(gzclose(g) == Z_OK);
    return path;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0];
    const uint8_t *img = data + 1, *lab;
    size_t nlab, nimg = fuzz_split(img, size - 1, &lab, &nlab);
    const char *ipath = put("images.gz", img, nimg, mode & 1);
    const char *lpath = put("labels.gz", lab ? lab : img, lab ? nlab : 0, mode & 2);
    struct dataset ds;
    struct diag d = {0};
    if (idx_load(ipath, lpath, &ds, &d)) {
        FUZZ_REFUSED(d);
        FUZZ_CHECK(!ds.x && !ds.y && ds.n == 0);
        return 0;
    }
    if (fuzz_inject())
        ds.y[0] = IDX_CLASSES;
    FUZZ_CHECK(ds.n >= 1 && ds.dim >= 1 && ds.classes == IDX_CLASSES && ds.x && ds.y);
    for (int i = 0; i < ds.n; i++)
        FUZZ_CHECK(ds.y[i] < IDX_CLASSES);
    size_t values = (size_t)ds.n * (size_t)ds.dim;
    if (mode & 1) {   /* the images part is the IDX file itself */
        FUZZ_CHECK(nimg == 16 + values);
        FUZZ_CHECK(be32(img + 4) == (uint32_t)ds.n);
        FUZZ_CHECK((size_t)be32(img + 8) * be32(img + 12) == (size_t)ds.dim);
        for (size_t i = 0; i < values; i++)
            FUZZ_CHECK(ds.x[i] == (float)img[16 + i] / 255.0f);
    } else
        for (size_t i = 0; i < values; i++)
            FUZZ_CHECK(ds.x[i] >= 0.0f && ds.x[i] <= 1.0f);
    if (mode & 2)
        FUZZ_CHECK(nlab == 8 + (size_t)ds.n && !memcmp(ds.y, lab + 8, (size_t)ds.n));
    data_free(&ds);
    return 0;
}
