#include "npy.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"

/* The data are written as the bytes of the host's float: that is IEEE 754
 * binary32 here. Byte order is checked at run time (the check folds to a
 * constant) and converted when the host is big-endian. */
_Static_assert(sizeof(float) == 4 && FLT_RADIX == 2 && FLT_MANT_DIG == 24 &&
               FLT_MAX_EXP == 128, "float must be IEEE 754 binary32");

static const char MAGIC[6] = "\x93NUMPY";
#define NPY_PREAMBLE 10     /* magic, version major and minor, uint16 header length */
#define NPY_ALIGN 64
#define CHUNK 4096          /* values converted at a time on a big-endian host */

static int host_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Reverse the bytes of each of n 4-byte values in place. */
static void swap4(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += 4) {
        unsigned char t0 = b[0], t1 = b[1];
        b[0] = b[3], b[1] = b[2], b[2] = t1, b[3] = t0;
    }
}

/* The number of values in shape, or -1 if the bytes would not fit a size_t. */
static int count_values(int ndim, const int64_t *shape, size_t *count)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        if (shape[i] && n > SIZE_MAX / sizeof(float) / (uint64_t)shape[i])
            return -1;
        n *= (size_t)shape[i];
    }
    *count = n;
    return 0;
}

/* ---- writing ---- */

/* The header (from the magic to the '\n') into buf; returns its length, a
 * multiple of NPY_ALIGN. buf holds at least 512 bytes. */
static size_t build_header(char *buf, int ndim, const int64_t *shape)
{
    char dict[400];
    size_t n = (size_t)snprintf(dict, sizeof dict,
                                "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(dict + n, sizeof dict - n, "%s%lld", i ? ", " : "",
                              (long long)shape[i]);
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", ndim == 1 ? "," : "");
    size_t total = (NPY_PREAMBLE + n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - NPY_PREAMBLE;
    memcpy(buf, MAGIC, sizeof MAGIC);
    buf[6] = 1, buf[7] = 0;
    buf[8] = (char)(hlen & 0xff), buf[9] = (char)(hlen >> 8);
    memcpy(buf + NPY_PREAMBLE, dict, n);
    memset(buf + NPY_PREAMBLE + n, ' ', total - 1 - NPY_PREAMBLE - n);
    buf[total - 1] = '\n';
    return total;
}

static int write_values(FILE *f, const float *data, size_t count)
{
    if (host_little_endian())
        return fwrite(data, sizeof *data, count, f) == count ? 0 : -1;
    float tmp[CHUNK];
    for (size_t i = 0; i < count; i += CHUNK) {
        size_t k = count - i < CHUNK ? count - i : CHUNK;
        memcpy(tmp, data + i, k * sizeof *tmp);
        swap4(tmp, k);
        if (fwrite(tmp, sizeof *tmp, k, f) != k)
            return -1;
    }
    return 0;
}

int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape,
                  struct diag *d)
{
    char header[512];
    size_t count;
    struct outfile o;
    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return diag_set(d, path, 0, 0, "%d dimensions: a .npy here has 0..%d", ndim,
                        NPY_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return diag_set(d, path, 0, 0, "dimension %d has negative size %lld", i,
                            (long long)shape[i]);
    if (count_values(ndim, shape, &count))
        return diag_set(d, path, 0, 0, "too many values for memory");
    size_t hlen = build_header(header, ndim, shape);
    if (outfile_open(&o, path, d))
        return -1;
    if (fwrite(header, 1, hlen, o.f) != hlen || write_values(o.f, data, count)) {
        int e = errno;
        outfile_abort(&o);
        return diag_set(d, path, 0, 0, "cannot write: %s", strerror(e));
    }
    return outfile_commit(&o, d);
}

/* ---- reading ---- */

struct hparse {
    const char *s;      /* the header dict, NUL-terminated */
    size_t i;           /* position in s */
    const char *path;
    struct diag *d;
};

static void skip_space(struct hparse *h)
{
    while (h->s[h->i] == ' ')
        h->i++;
}

static int expect_char(struct hparse *h, char c)
{
    skip_space(h);
    if (h->s[h->i] != c)
        return diag_set(h->d, h->path, 0, 0, "header byte %zu: expected '%c', found '%.10s'",
                        NPY_PREAMBLE + h->i, c, h->s + h->i);
    h->i++;
    return 0;
}

/* A single-quoted string (no escapes) into out. */
static int parse_string(struct hparse *h, char *out, size_t size)
{
    if (expect_char(h, '\''))
        return -1;
    const char *end = strchr(h->s + h->i, '\'');
    size_t n = end ? (size_t)(end - (h->s + h->i)) : 0;
    if (!end || n >= size)
        return diag_set(h->d, h->path, 0, 0, "header byte %zu: a string that does not end",
                        NPY_PREAMBLE + h->i);
    memcpy(out, h->s + h->i, n);
    out[n] = '\0';
    h->i += n + 1;
    return 0;
}

/* "(2, 3)", "(10,)" or "()". */
static int parse_shape(struct hparse *h, int *ndim, int64_t *shape)
{
    *ndim = 0;
    if (expect_char(h, '('))
        return -1;
    for (;;) {
        skip_space(h);
        if (h->s[h->i] == ')') {
            h->i++;
            return 0;
        }
        if (h->s[h->i] < '0' || h->s[h->i] > '9')
            return diag_set(h->d, h->path, 0, 0,
                            "header byte %zu: a shape holds non-negative integers",
                            NPY_PREAMBLE + h->i);
        if (*ndim == NPY_MAX_DIMS)
            return diag_set(h->d, h->path, 0, 0, "more than %d dimensions", NPY_MAX_DIMS);
        int64_t v = 0;
        for (; h->s[h->i] >= '0' && h->s[h->i] <= '9'; h->i++) {
            if (v > (INT64_MAX - 9) / 10)
                return diag_set(h->d, h->path, 0, 0, "header byte %zu: dimension too large",
                                NPY_PREAMBLE + h->i);
            v = v * 10 + (h->s[h->i] - '0');
        }
        shape[(*ndim)++] = v;
        skip_space(h);
        if (h->s[h->i] == ',')
            h->i++;
        else if (h->s[h->i] != ')')
            return expect_char(h, ')');
    }
}

/* The header dict: exactly the keys descr '<f4', fortran_order False and shape. */
static int parse_header(struct hparse *h, int *ndim, int64_t *shape)
{
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    char key[32], val[32];
    if (expect_char(h, '{'))
        return -1;
    for (;;) {
        skip_space(h);
        if (h->s[h->i] == '}') {
            h->i++;
            break;
        }
        if (parse_string(h, key, sizeof key) || expect_char(h, ':'))
            return -1;
        skip_space(h);
        if (strcmp(key, "descr") == 0 && !seen_descr++) {
            if (parse_string(h, val, sizeof val))
                return -1;
            if (strcmp(val, "<f4") != 0)
                return diag_set(h->d, h->path, 0, 0,
                                "dtype '%s' is not supported: only '<f4' (little-endian "
                                "float32)", val);
        } else if (strcmp(key, "fortran_order") == 0 && !seen_order++) {
            if (strncmp(h->s + h->i, "False", 5) == 0)
                h->i += 5;
            else if (strncmp(h->s + h->i, "True", 4) == 0)
                return diag_set(h->d, h->path, 0, 0,
                                "fortran_order True is not supported: only C order");
            else
                return diag_set(h->d, h->path, 0, 0,
                                "header byte %zu: fortran_order is not False or True",
                                NPY_PREAMBLE + h->i);
        } else if (strcmp(key, "shape") == 0 && !seen_shape++) {
            if (parse_shape(h, ndim, shape))
                return -1;
        } else {
            int known = !strcmp(key, "descr") || !strcmp(key, "fortran_order") ||
                        !strcmp(key, "shape");
            return diag_set(h->d, h->path, 0, 0, "header: %s key '%s'",
                            known ? "duplicate" : "unknown", key);
        }
        skip_space(h);
        if (h->s[h->i] == ',')
            h->i++;
        else if (h->s[h->i] != '}')
            return expect_char(h, '}');
    }
    skip_space(h);
    if (h->s[h->i] != '\0')
        return diag_set(h->d, h->path, 0, 0, "header byte %zu: text after the dict",
                        NPY_PREAMBLE + h->i);
    if (!seen_descr || !seen_order || !seen_shape)
        return diag_set(h->d, h->path, 0, 0, "header has no '%s'",
                        !seen_descr ? "descr" : !seen_order ? "fortran_order" : "shape");
    return 0;
}

/* Read and check the preamble and header; leaves f at the data. */
static int read_header(FILE *f, const char *path, int *ndim, int64_t *shape, size_t *hend,
                       struct diag *d)
{
    unsigned char pre[NPY_PREAMBLE];
    size_t got = fread(pre, 1, sizeof pre, f);
    if (got < sizeof pre && ferror(f))
        return diag_set(d, path, 0, 0, "read error: %s", strerror(errno));
    if (got < sizeof pre || memcmp(pre, MAGIC, sizeof MAGIC) != 0)
        return diag_set(d, path, 0, 0, "not a .npy file: no \\x93NUMPY magic at byte 0");
    if (pre[6] != 1 || pre[7] != 0)
        return diag_set(d, path, 0, 0, "format version %u.%u is not supported: only 1.0",
                        pre[6], pre[7]);
    size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    char *h = malloc(hlen + 1);
    if (!h)
        return diag_set(d, path, 0, 0, "out of memory");
    got = fread(h, 1, hlen, f);
    int rc = 0;
    if (got < hlen)
        rc = diag_set(d, path, 0, 0, "truncated: expected %zu header bytes, got %zu", hlen,
                      got);
    else if (hlen == 0 || h[hlen - 1] != '\n')
        rc = diag_set(d, path, 0, 0, "the header (bytes %d..%zu) does not end with '\\n'",
                      NPY_PREAMBLE, NPY_PREAMBLE + hlen - 1);
    else if (memchr(h, '\0', hlen))
        rc = diag_set(d, path, 0, 0, "a NUL byte in the header");
    if (!rc) {
        h[hlen - 1] = '\0';
        struct hparse p = {.s = h, .path = path, .d = d};
        rc = parse_header(&p, ndim, shape);
    }
    free(h);
    *hend = NPY_PREAMBLE + hlen;
    return rc;
}

/* The n data bytes at f into a new buffer (*out; the caller frees it): allocated whole
 * when the file's size has been checked against n, else grown as the data arrives (a
 * pipe's header may claim anything). Returns 0, or -1 with d set. */
static int read_data(FILE *f, const char *path, size_t n, int checked, void **out,
                     struct diag *d)
{
    size_t cap = 0, got = 0, k = 1;
    char *buf = NULL;
    while (got < n && k > 0) {
        if (got == cap) {
            size_t nc = checked ? n : cap ? 2 * cap : (size_t)1 << 16;
            char *nb = realloc(buf, nc < n ? nc : n);
            if (!nb) {
                free(buf);
                return diag_set(d, path, 0, 0, "out of memory after %zu data bytes", got);
            }
            buf = nb, cap = nc < n ? nc : n;
        }
        k = fread(buf + got, 1, cap - got, f);
        got += k;
    }
    int rc = 0;
    if (got < n)
        rc = ferror(f) ? diag_set(d, path, 0, 0, "read error: %s", strerror(errno))
                       : diag_set(d, path, 0, 0, "truncated: expected %zu data bytes, got %zu",
                                  n, got);
    else if (fgetc(f) != EOF)
        rc = diag_set(d, path, 0, 0, "bytes after the data");
    if (!rc && !buf && !(buf = malloc(1)))
        rc = diag_set(d, path, 0, 0, "out of memory");
    if (rc)
        free(buf), buf = NULL;
    *out = buf;
    return rc;
}

int npy_read_f32(const char *path, float **data, int *ndim, int64_t shape[NPY_MAX_DIMS],
                 struct diag *d)
{
    struct stat st;
    size_t count = 0, hend = 0;
    *data = NULL;
    *ndim = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return diag_set(d, path, 0, 0, "cannot open: %s", strerror(errno));
    int rc = read_header(f, path, ndim, shape, &hend, d);
    if (!rc && count_values(*ndim, shape, &count))
        rc = diag_set(d, path, 0, 0, "the shape has too many values for memory");
    size_t bytes = rc ? 0 : count * sizeof(float);
    /* A regular file's size is known: refuse a wrong one before allocating. */
    int sized = !rc && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (sized) {
        size_t have = st.st_size > (off_t)hend ? (size_t)(st.st_size - (off_t)hend) : 0;
        if (have < bytes)
            rc = diag_set(d, path, 0, 0, "truncated: expected %zu data bytes, got %zu", bytes,
                          have);
        else if (have > bytes)
            rc = diag_set(d, path, 0, 0, "%zu bytes after the data", have - bytes);
    }
    void *raw = NULL;
    if (!rc)
        rc = read_data(f, path, bytes, sized, &raw, d);
    float *v = raw;
    fclose(f);
    if (rc) {
        free(v);
        *ndim = 0;
        return -1;
    }
    if (!host_little_endian())
        swap4(v, count);
    *data = v;
    return 0;
}
