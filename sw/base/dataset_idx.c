#include "dataset_idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZ_BUFFER (1u << 17)    /* zlib's input buffer: large, so few read() calls */
#define GZ_CHUNK (1u << 30)     /* gzread takes at most INT_MAX bytes a call */
#define IMAGES_HEADER 16
#define LABELS_HEADER 8

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* zlib's message for g's error, without the "path: " it puts in front. */
static const char *gz_message(gzFile g, const char *path, int *errnum)
{
    const char *msg = gzerror(g, errnum);
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    return msg;
}

/* Fill d from g's error state, if it has one. Returns -1 if it did, else 0. */
static int gz_failed(gzFile g, const char *path, struct diag *d)
{
    int errnum;
    const char *msg = gz_message(g, path, &errnum);
    if (errnum == Z_OK)
        return 0;
    if (errnum == Z_ERRNO)
        return diag_set(d, path, 0, 0, "read error: %s", msg);
    return diag_set(d, path, 0, 0, "corrupt gzip stream: %s", msg);
}

/* Open path for reading and refuse anything that is not gzip (zlib would
 * pass it through unchanged). */
static int gz_open_checked(gzFile *g, const char *path, struct diag *d)
{
    errno = 0;
    *g = gzopen(path, "rb");
    if (!*g)
        return diag_set(d, path, 0, 0, "cannot open: %s",
                        errno ? strerror(errno) : "out of memory");
    if (gzbuffer(*g, GZ_BUFFER) != 0)
        return diag_set(d, path, 0, 0, "cannot set zlib's buffer size");
    int direct = gzdirect(*g);  /* looks at the first bytes */
    if (gz_failed(*g, path, d))
        return -1;
    if (direct)
        return diag_set(d, path, 0, 0, "not a gzip file");
    return 0;
}

/* Read exactly n bytes of the section called what ("image", "label",
 * "header") into buf. */
static int gz_read_exact(gzFile g, const char *path, void *buf, size_t n, const char *what,
                         struct diag *d)
{
    size_t got = 0;
    while (got < n) {
        unsigned want = n - got < GZ_CHUNK ? (unsigned)(n - got) : GZ_CHUNK;
        int k = gzread(g, (unsigned char *)buf + got, want);
        if (k > 0)
            got += (size_t)k;
        if (k < 0 || (unsigned)k < want)
            break;
    }
    if (got == n)
        return 0;
    if (gz_failed(g, path, d))
        return -1;
    return diag_set(d, path, 0, 0, "truncated: expected %zu %s bytes, got %zu", n, what, got);
}

/* Read up to n bytes of g's data into a new buffer (*out, the caller frees it) that grows
 * as the data arrives: n comes from a header, which may claim far more than the stream
 * holds, so it bounds the buffer but never sizes it. *got < n: the stream ended early. */
static int gz_read_grow(gzFile g, const char *path, size_t n, unsigned char **out, size_t *got,
                        struct diag *d)
{
    unsigned char *buf = NULL;
    size_t cap = 0, have = 0;
    while (have < n) {
        if (have == cap) {
            size_t nc = cap ? 2 * cap : GZ_BUFFER;
            unsigned char *nb = realloc(buf, nc < n ? nc : n);
            if (!nb) {
                free(buf);
                return diag_set(d, path, 0, 0, "out of memory after %zu bytes", have);
            }
            buf = nb, cap = nc < n ? nc : n;
        }
        size_t want = cap - have < GZ_CHUNK ? cap - have : GZ_CHUNK;
        int k = gzread(g, buf + have, (unsigned)want);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    if (gz_failed(g, path, d)) {
        free(buf);
        return -1;
    }
    *out = buf, *got = have;
    return 0;
}

/* Refuse anything after the last item (what: "image" or "label"). Reading to
 * the end also checks the gzip trailer (CRC and length). */
static int gz_expect_end(gzFile g, const char *path, const char *what, struct diag *d)
{
    unsigned char buf[1 << 14];
    unsigned long long extra = 0;
    int k;
    while ((k = gzread(g, buf, sizeof buf)) > 0)
        extra += (unsigned)k;
    if (gz_failed(g, path, d))
        return -1;
    if (extra)
        return diag_set(d, path, 0, 0, "%llu bytes after the last %s", extra, what);
    return 0;
}

/* A header field must be in lo..hi. */
static int check_field(const char *path, const char *field, int byte, uint32_t v, uint32_t lo,
                       uint32_t hi, struct diag *d)
{
    if (v >= lo && v <= hi)
        return 0;
    return diag_set(d, path, 0, 0, "header field '%s' (byte %d) is %lu, not in %lu..%lu",
                    field, byte, (unsigned long)v, (unsigned long)lo, (unsigned long)hi);
}

static int check_magic(const char *path, uint32_t v, uint32_t want, const char *kind,
                       struct diag *d)
{
    if (v == want)
        return 0;
    return diag_set(d, path, 0, 0,
                    "header field 'magic' (byte 0) is 0x%08lx, expected 0x%08lx (IDX %s)",
                    (unsigned long)v, (unsigned long)want, kind);
}

struct idx_shape {
    uint32_t n, rows, cols;
};

static int images_header(gzFile g, const char *path, int side, struct idx_shape *s,
                         struct diag *d)
{
    unsigned char h[IMAGES_HEADER];
    if (gz_read_exact(g, path, h, sizeof h, "header", d) ||
        check_magic(path, be32(h), IDX_MAGIC_IMAGES, "images: unsigned bytes, 3 dimensions",
                    d) ||
        check_field(path, "count", 4, s->n = be32(h + 4), 1, IDX_MAX_COUNT, d) ||
        check_field(path, "rows", 8, s->rows = be32(h + 8), 1, IDX_MAX_SIDE, d) ||
        check_field(path, "cols", 12, s->cols = be32(h + 12), 1, IDX_MAX_SIDE, d))
        return -1;
    if (side && (s->rows != (uint32_t)side || s->cols != (uint32_t)side))
        return diag_set(d, path, 0, 0,
                        "header fields 'rows' (byte 8) and 'cols' (byte 12) are %lu x %lu; "
                        "Fashion-MNIST images are %d x %d",
                        (unsigned long)s->rows, (unsigned long)s->cols, side, side);
    return 0;
}

static int labels_header(gzFile g, const char *path, uint32_t *n, struct diag *d)
{
    unsigned char h[LABELS_HEADER];
    if (gz_read_exact(g, path, h, sizeof h, "header", d) ||
        check_magic(path, be32(h), IDX_MAGIC_LABELS, "labels: unsigned bytes, 1 dimension",
                    d) ||
        check_field(path, "count", 4, *n = be32(h + 4), 1, IDX_MAX_COUNT, d))
        return -1;
    return 0;
}

/* The data after a header: the count at byte 4 claims n items (what: "image", of
 * item_bytes each, described by each; or "label"); read it into *out and check that the
 * stream holds exactly that. */
static int read_items(gzFile g, const char *path, uint32_t n, size_t item_bytes,
                      const char *what, const char *each, unsigned char **out, struct diag *d)
{
    size_t want = (size_t)n * item_bytes, got = 0;
    if (gz_read_grow(g, path, want, out, &got, d))
        return -1;
    if (got < want)
        return diag_set(d, path, 0, 0, "truncated: header field 'count' (byte 4) claims %lu "
                        "%ss%s = %zu bytes; the file holds %zu", (unsigned long)n, what, each,
                        want, got);
    return gz_expect_end(g, path, what, d);
}

/* Both headers, then the pixels and the labels; the dataset is allocated only once the
 * files are seen to hold what their headers claim. side: 0 for any size, else the
 * required rows and cols. */
static int load_pair(const char *images_gz, const char *labels_gz, int side,
                     struct dataset *out, struct diag *d)
{
    gzFile gi = NULL, gl = NULL;
    unsigned char *raw = NULL, *labels = NULL;
    struct idx_shape s = {0};
    uint32_t n_labels = 0;
    char each[64];
    memset(out, 0, sizeof *out);
    int rc = gz_open_checked(&gi, images_gz, d) ||
             images_header(gi, images_gz, side, &s, d) ||
             gz_open_checked(&gl, labels_gz, d) ||
             labels_header(gl, labels_gz, &n_labels, d);
    if (!rc && n_labels != s.n)
        rc = diag_set(d, labels_gz, 0, 0,
                      "header field 'count' (byte 4) is %lu labels, but %s has %lu images",
                      (unsigned long)n_labels, images_gz, (unsigned long)s.n);
    size_t dim = (size_t)s.rows * s.cols, bytes = (size_t)s.n * dim;
    snprintf(each, sizeof each, " of %lu x %lu", (unsigned long)s.rows, (unsigned long)s.cols);
    if (!rc)
        rc = read_items(gi, images_gz, s.n, dim, "image", each, &raw, d) ||
             read_items(gl, labels_gz, s.n, 1, "label", "", &labels, d);
    for (uint32_t i = 0; !rc && i < s.n; i++)
        if (labels[i] >= IDX_CLASSES)
            rc = diag_set(d, labels_gz, 0, 0, "label %u at index %lu is not a class 0..%d",
                          (unsigned)labels[i], (unsigned long)i, IDX_CLASSES - 1);
    if (!rc && data_init(out, (int)s.n, (int)dim, IDX_CLASSES))
        rc = diag_set(d, images_gz, 0, 0, "out of memory for %lu images of %lu x %lu",
                      (unsigned long)s.n, (unsigned long)s.rows, (unsigned long)s.cols);
    if (!rc) {
        for (size_t i = 0; i < bytes; i++)
            out->x[i] = (float)raw[i] / 255.0f;
        memcpy(out->y, labels, s.n);
    }
    free(raw);
    free(labels);
    if (gi)
        gzclose(gi);
    if (gl)
        gzclose(gl);
    if (rc) {
        data_free(out);
        return -1;
    }
    return 0;
}

int idx_load(const char *images_gz, const char *labels_gz, struct dataset *out,
             struct diag *d)
{
    return load_pair(images_gz, labels_gz, 0, out, d);
}

int idx_load_fashion_mnist(const char *dir, struct dataset *train, struct dataset *test,
                           struct diag *d)
{
    static const char *const files[4] = {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    };
    char path[4][4096];
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    for (int i = 0; i < 4; i++)
        if ((size_t)snprintf(path[i], sizeof path[i], "%s/%s", dir, files[i]) >=
            sizeof path[i])
            return diag_set(d, dir, 0, 0, "directory path too long");
    if (load_pair(path[0], path[1], 28, train, d))
        return -1;
    if (load_pair(path[2], path[3], 28, test, d)) {
        data_free(train);
        return -1;
    }
    return 0;
}
