/* test_data.c - data files in and out: the gzip'd IDX reader
 * (sw/base/dataset_idx.c), .npy files (sw/base/npy.c) and atomic output files
 * (sw/base/outfile.c).
 *
 * Bad IDX files are written at run time, with zlib, into a directory made by
 * mkdtemp under /tmp and removed at the end; one test per defect, each
 * checking the status, the file named and a distinctive part of the message.
 * The real Fashion-MNIST (Debian package dataset-fashion-mnist) must be
 * installed: its absence fails the test rather than skipping it.
 *
 * The exit status is the number of failed tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../sw/base/dataset_idx.h"
#include "../sw/base/files.h"
#include "../sw/base/hash.h"
#include "../sw/base/npy.h"
#include "../sw/base/outfile.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"
/* FNV-1a 64 of the first training image's 784 pixel bytes, computed once
 * (and checked against Python's gzip module) to pin the data. */
#define FMNIST_FIRST_IMAGE_FNV 0x01fdf72590541338ull

static char tmp_dir[] = "/tmp/layerpipe-test_data.XXXXXX";

/* ---- helpers ---- */

/* tmp_dir/name into buf (PATH_LEN bytes). */
#define PATH_LEN 4096
static const char *in_tmp(char *buf, const char *name)
{
    int n = snprintf(buf, PATH_LEN, "%s/%s", tmp_dir, name);
    assert_true(n > 0 && n < PATH_LEN);
    return buf;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *e;
        char child[PATH_LEN];
        while (dir && (e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (dir)
            closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    remove_tree(tmp_dir);
    return 0;
}

static void write_gz(const char *path, const void *bytes, size_t n)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, bytes, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
}

static void write_raw(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The whole file into a malloc'd buffer. */
static unsigned char *read_raw(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void put_be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8), b[3] = (unsigned char)v;
}

static unsigned char pixel(size_t i)
{
    return (unsigned char)(i * 7 % 256);
}

/* An images file with the given header and count*rows*cols + delta pixel
 * bytes (delta < 0: truncated; > 0: trailing bytes). */
static void make_images(const char *path, uint32_t magic, uint32_t count, uint32_t rows,
                        uint32_t cols, long delta)
{
    size_t n = (size_t)((long)((size_t)count * rows * cols) + delta);
    unsigned char *b = malloc(16 + n);
    assert_non_null(b);
    put_be32(b, magic), put_be32(b + 4, count), put_be32(b + 8, rows), put_be32(b + 12, cols);
    for (size_t i = 0; i < n; i++)
        b[16 + i] = pixel(i);
    write_gz(path, b, 16 + n);
    free(b);
}

/* A labels file: labels i % 10, count + delta of them. */
static void make_labels(const char *path, uint32_t magic, uint32_t count, long delta)
{
    size_t n = (size_t)((long)count + delta);
    unsigned char *b = malloc(8 + n);
    assert_non_null(b);
    put_be32(b, magic), put_be32(b + 4, count);
    for (size_t i = 0; i < n; i++)
        b[8 + i] = (unsigned char)(i % 10);
    write_gz(path, b, 8 + n);
    free(b);
}

/* A good pair of 20 images of 5 x 4 in tmp_dir/NAME-images.gz and -labels.gz. */
#define SMALL_N 20
#define SMALL_ROWS 5
#define SMALL_COLS 4
static void make_pair(char *img, char *lab, const char *name)
{
    char file[256];
    snprintf(file, sizeof file, "%s-images.gz", name);
    in_tmp(img, file);
    snprintf(file, sizeof file, "%s-labels.gz", name);
    in_tmp(lab, file);
    make_images(img, IDX_MAGIC_IMAGES, SMALL_N, SMALL_ROWS, SMALL_COLS, 0);
    make_labels(lab, IDX_MAGIC_LABELS, SMALL_N, 0);
}

/* idx_load must refuse, naming file, with a message containing text. */
static void expect_refused(const char *img, const char *lab, const char *file,
                           const char *text)
{
    struct dataset ds;
    struct diag d;
    memset(&d, 0, sizeof d);
    int rc = idx_load(img, lab, &ds, &d);
    if (rc != -1)
        fail_msg("accepted %s (expected \"%s\")", file, text);
    if (strcmp(d.file, file) != 0 || d.line != 0 || !strstr(d.msg, text))
        fail_msg("got \"%s:%d: %s\", expected \"%s: ...%s...\"", d.file, d.line, d.msg, file,
                 text);
    assert_null(ds.x);
    assert_null(ds.y);
    assert_int_equal(ds.n, 0);
}

/* The entries of dir whose name contains ".tmp." (outfile temporaries). */
static int count_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static char *file_text(const char *path)
{
    size_t n;
    unsigned char *b = read_raw(path, &n);
    b[n] = '\0';
    return (char *)b;
}

/* ---- IDX: good input ---- */

static void test_idx_small_pair_loads(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    struct dataset ds;
    struct diag d;
    (void)state;
    make_pair(img, lab, "good");
    if (idx_load(img, lab, &ds, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(ds.n, SMALL_N);
    assert_int_equal(ds.dim, SMALL_ROWS * SMALL_COLS);
    assert_int_equal(ds.classes, 10);
    for (size_t i = 0; i < (size_t)SMALL_N * SMALL_ROWS * SMALL_COLS; i++)
        assert_true(ds.x[i] == (float)pixel(i) / 255.0f);
    for (int i = 0; i < SMALL_N; i++)
        assert_int_equal(ds.y[i], i % 10);
    data_free(&ds);
}

/* ---- IDX: one test per defect ---- */

static void test_idx_images_wrong_magic(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "magic-img");
    make_images(img, IDX_MAGIC_LABELS, SMALL_N, SMALL_ROWS, SMALL_COLS, 0);
    expect_refused(img, lab, img,
                   "header field 'magic' (byte 0) is 0x00000801, expected 0x00000803");
}

static void test_idx_labels_wrong_magic(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "magic-lab");
    make_labels(lab, 0x00000802u, SMALL_N, 0);
    expect_refused(img, lab, lab,
                   "header field 'magic' (byte 0) is 0x00000802, expected 0x00000801");
}

static void test_idx_count_zero(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "count-zero");
    make_images(img, IDX_MAGIC_IMAGES, 0, SMALL_ROWS, SMALL_COLS, 0);
    expect_refused(img, lab, img, "header field 'count' (byte 4) is 0, not in 1..10000000");
}

static void test_idx_count_too_large(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "count-large");
    make_labels(lab, IDX_MAGIC_LABELS, 10000001, -10000001);   /* the header only */
    expect_refused(img, lab, lab, "header field 'count' (byte 4) is 10000001");
}

static void test_idx_rows_and_cols_out_of_range(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "rows");
    make_images(img, IDX_MAGIC_IMAGES, SMALL_N, 0, SMALL_COLS, 0);
    expect_refused(img, lab, img, "header field 'rows' (byte 8) is 0, not in 1..4096");
    make_images(img, IDX_MAGIC_IMAGES, SMALL_N, SMALL_ROWS, 4097, -(long)SMALL_N * 5 * 4097);
    expect_refused(img, lab, img, "header field 'cols' (byte 12) is 4097, not in 1..4096");
}

/* IDX_MAX_SIDE itself: one image of 4096 x 1, and one of 1 x 4096, load. */
static void test_idx_rows_and_cols_at_the_limit(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    struct dataset ds;
    struct diag d;
    (void)state;
    make_pair(img, lab, "side");
    make_labels(lab, IDX_MAGIC_LABELS, 1, 0);
    for (int tall = 0; tall < 2; tall++) {
        make_images(img, IDX_MAGIC_IMAGES, 1, tall ? IDX_MAX_SIDE : 1, tall ? 1 : IDX_MAX_SIDE,
                    0);
        if (idx_load(img, lab, &ds, &d))
            fail_msg("%s: %s", d.file, d.msg);
        assert_int_equal(ds.n, 1);
        assert_int_equal(ds.dim, 4096);
        assert_true(ds.x[4095] == (float)pixel(4095) / 255.0f);
        data_free(&ds);
    }
}

/* IDX_MAX_COUNT itself passes the headers' checks: headers alone claiming 10000000 images
 * of 1 x 1 and as many labels are refused only as truncated. */
static void test_idx_count_at_the_limit(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "count-limit");
    make_images(img, IDX_MAGIC_IMAGES, IDX_MAX_COUNT, 1, 1, -IDX_MAX_COUNT);   /* headers only */
    make_labels(lab, IDX_MAGIC_LABELS, IDX_MAX_COUNT, -IDX_MAX_COUNT);
    expect_refused(img, lab, img, "truncated: header field 'count' (byte 4) claims 10000000 "
                   "images of 1 x 1 = 10000000 bytes; the file holds 0");
}

static void test_idx_count_mismatch(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "mismatch");
    make_labels(lab, IDX_MAGIC_LABELS, SMALL_N - 1, 0);
    expect_refused(img, lab, lab, "is 19 labels, but");
}

static void test_idx_truncated_header(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    static const unsigned char part[10] = {0, 0, 8, 3, 0, 0, 0, 20, 0, 0};
    (void)state;
    make_pair(img, lab, "short-header");
    write_gz(img, part, sizeof part);
    expect_refused(img, lab, img, "truncated: expected 16 header bytes, got 10");
}

static void test_idx_truncated_images(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "short-img");
    make_images(img, IDX_MAGIC_IMAGES, SMALL_N, SMALL_ROWS, SMALL_COLS, -1);
    expect_refused(img, lab, img, "truncated: header field 'count' (byte 4) claims 20 images "
                   "of 5 x 4 = 400 bytes; the file holds 399");
}

static void test_idx_truncated_labels(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "short-lab");
    make_labels(lab, IDX_MAGIC_LABELS, SMALL_N, -3);
    expect_refused(img, lab, lab, "truncated: header field 'count' (byte 4) claims 20 labels "
                   "= 20 bytes; the file holds 17");
}

static void test_idx_bytes_after_last_image(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "long-img");
    make_images(img, IDX_MAGIC_IMAGES, SMALL_N, SMALL_ROWS, SMALL_COLS, 2);
    expect_refused(img, lab, img, "2 bytes after the last image");
}

static void test_idx_bytes_after_last_label(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    (void)state;
    make_pair(img, lab, "long-lab");
    make_labels(lab, IDX_MAGIC_LABELS, SMALL_N, 5);
    expect_refused(img, lab, lab, "5 bytes after the last label");
}

static void test_idx_label_out_of_range(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    unsigned char b[8 + 400];
    (void)state;
    make_pair(img, lab, "label-range");
    make_images(img, IDX_MAGIC_IMAGES, 400, 2, 2, 0);
    put_be32(b, IDX_MAGIC_LABELS), put_be32(b + 4, 400);
    for (int i = 0; i < 400; i++)
        b[8 + i] = (unsigned char)(i % 10);
    b[8 + 345] = 12;
    write_gz(lab, b, sizeof b);
    expect_refused(img, lab, lab, "label 12 at index 345 is not a class 0..9");
}

static void test_idx_not_gzip(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    unsigned char b[16 + 4];
    (void)state;
    make_pair(img, lab, "plain");
    put_be32(b, IDX_MAGIC_IMAGES), put_be32(b + 4, 1), put_be32(b + 8, 2), put_be32(b + 12, 2);
    memset(b + 16, 0, 4);
    write_raw(img, b, sizeof b);   /* a valid IDX file, but not compressed */
    expect_refused(img, lab, img, "not a gzip file");
    write_raw(lab, "", 0);         /* empty */
    make_images(img, IDX_MAGIC_IMAGES, SMALL_N, SMALL_ROWS, SMALL_COLS, 0);
    expect_refused(img, lab, lab, "not a gzip file");
}

static void test_idx_corrupt_gzip_after_valid_header(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    unsigned char b[10 + 64];
    static const unsigned char gz_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    (void)state;
    make_pair(img, lab, "garbage");
    memcpy(b, gz_header, sizeof gz_header);
    memset(b + 10, 0xff, 64);   /* deflate block type 3: invalid */
    write_raw(img, b, sizeof b);
    expect_refused(img, lab, img, "corrupt gzip stream: invalid block type");
}

static void test_idx_corrupt_gzip_flipped_byte(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN];
    size_t n;
    (void)state;
    make_pair(img, lab, "flipped");
    make_images(img, IDX_MAGIC_IMAGES, 100, 28, 28, 0);
    make_labels(lab, IDX_MAGIC_LABELS, 100, 0);
    unsigned char *b = read_raw(img, &n);
    assert_true(n > 40);
    b[10 + (n - 18) / 2] ^= 0x10;   /* the middle of the deflate data */
    write_raw(img, b, n);
    free(b);
    expect_refused(img, lab, img, "corrupt gzip stream: ");
}

static void test_idx_missing_file(void **state)
{
    char img[PATH_LEN], lab[PATH_LEN], missing[PATH_LEN];
    (void)state;
    make_pair(img, lab, "present");
    in_tmp(missing, "no-such-file.gz");
    expect_refused(missing, lab, missing, "cannot open: No such file or directory");
    expect_refused(img, missing, missing, "cannot open: No such file or directory");
}

/* ---- the Fashion-MNIST loader ---- */

static void fashion_dir(const char *name, uint32_t rows, uint32_t cols, int with_test_labels)
{
    char dir[PATH_LEN], p[PATH_LEN + 64];
    assert_int_equal(mkdir(in_tmp(dir, name), 0777), 0);
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    make_images(p, IDX_MAGIC_IMAGES, 3, rows, cols, 0);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    make_labels(p, IDX_MAGIC_LABELS, 3, 0);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", dir);
    make_images(p, IDX_MAGIC_IMAGES, 2, rows, cols, 0);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
    if (with_test_labels)
        make_labels(p, IDX_MAGIC_LABELS, 2, 0);
}

static void test_fashion_loader_frees_everything_on_failure(void **state)
{
    char dir[PATH_LEN];
    struct dataset train, test;
    struct diag d;
    (void)state;
    fashion_dir("fmnist-no-test-labels", 28, 28, 0);
    assert_int_equal(idx_load_fashion_mnist(in_tmp(dir, "fmnist-no-test-labels"), &train,
                                            &test, &d), -1);
    assert_non_null(strstr(d.file, "t10k-labels-idx1-ubyte.gz"));
    assert_non_null(strstr(d.msg, "cannot open: No such file or directory"));
    assert_null(train.x);   /* the training set, loaded first, was freed */
    assert_null(test.x);
    assert_int_equal(train.n, 0);
}

static void test_fashion_loader_requires_28_by_28(void **state)
{
    char dir[PATH_LEN], img[PATH_LEN + 64], lab[PATH_LEN + 64];
    struct dataset train, test, any;
    struct diag d;
    (void)state;
    fashion_dir("fmnist-30x28", 30, 28, 1);
    in_tmp(dir, "fmnist-30x28");
    assert_int_equal(idx_load_fashion_mnist(dir, &train, &test, &d), -1);
    assert_non_null(strstr(d.msg, "are 30 x 28; Fashion-MNIST images are 28 x 28"));
    /* idx_load itself takes any size */
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
    if (idx_load(img, lab, &any, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(any.dim, 30 * 28);
    data_free(&any);
    fashion_dir("fmnist-ok", 28, 28, 1);
    if (idx_load_fashion_mnist(in_tmp(dir, "fmnist-ok"), &train, &test, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(train.n, 3);
    assert_int_equal(test.n, 2);
    data_free(&train);
    data_free(&test);
}

static void check_fmnist_set(const struct dataset *ds, int n)
{
    int hist[10] = {0};
    assert_int_equal(ds->n, n);
    assert_int_equal(ds->dim, 784);
    assert_int_equal(ds->classes, 10);
    for (int i = 0; i < n; i++) {
        assert_true(ds->y[i] < 10);
        hist[ds->y[i]]++;
    }
    for (int c = 0; c < 10; c++)
        assert_int_equal(hist[c], n / 10);
    for (size_t i = 0; i < (size_t)n * 784; i++)
        if (!(ds->x[i] >= 0.0f && ds->x[i] <= 1.0f))
            fail_msg("x[%zu] = %g is outside [0, 1]", i, (double)ds->x[i]);
}

static void test_fashion_mnist_real_data(void **state)
{
    struct dataset train, test;
    struct diag d;
    struct timespec t0, t1;
    unsigned char first[784];
    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (idx_load_fashion_mnist(FMNIST_DIR, &train, &test, &d))
        fail_msg("%s: %s (install the Debian package dataset-fashion-mnist)", d.file, d.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("loaded 70000 images in %.3f s\n",
                  (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    check_fmnist_set(&train, 60000);   /* 6000 per class */
    check_fmnist_set(&test, 10000);
    assert_int_equal(train.y[0], 9);   /* ankle boot */
    for (int i = 0; i < 784; i++) {
        long v = lrintf(train.x[i] * 255.0f);
        assert_true(train.x[i] == (float)v / 255.0f);
        first[i] = (unsigned char)v;
    }
    assert_true(hash_bytes(HASH_INIT, first, sizeof first) == FMNIST_FIRST_IMAGE_FNV);
    data_free(&train);
    data_free(&test);
}

/* ---- .npy ---- */

static void npy_round_trip(const char *name, int ndim, const int64_t *shape)
{
    char path[PATH_LEN];
    struct diag d;
    size_t count = 1, n;
    for (int i = 0; i < ndim; i++)
        count *= (size_t)shape[i];
    float *v = malloc((count ? count : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < count; i++)
        v[i] = (float)i * 0.25f - 3.0f;
    if (npy_write_f32(in_tmp(path, name), v, ndim, shape, &d))
        fail_msg("%s: %s", d.file, d.msg);
    /* the data start at a multiple of 64, after a header ending in '\n' */
    unsigned char *raw = read_raw(path, &n);
    size_t hend = 10 + (size_t)(raw[8] | raw[9] << 8);
    assert_int_equal(hend % 64, 0);
    assert_int_equal(raw[hend - 1], '\n');
    assert_int_equal(n, hend + count * 4);
    free(raw);
    float *back;
    int bdim;
    int64_t bshape[NPY_MAX_DIMS];
    if (npy_read_f32(path, &back, &bdim, bshape, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(bdim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(bshape[i], shape[i]);
    assert_memory_equal(back, v, count * sizeof *v);
    free(back);
    free(v);
}

static void test_npy_round_trip_shapes(void **state)
{
    static const int64_t s1[] = {10}, s2[] = {7, 3}, s4[] = {2, 3, 4, 5}, s0[] = {0};
    static const int64_t s8[NPY_MAX_DIMS] = {2, 1, 3, 1, 2, 1, 2, 1};
    static const int64_t empty[] = {3, 0};
    (void)state;
    npy_round_trip("a1.npy", 1, s1);
    npy_round_trip("a2.npy", 2, s2);
    npy_round_trip("a4.npy", 4, s4);
    npy_round_trip("a8.npy", NPY_MAX_DIMS, s8);   /* the most dimensions read */
    npy_round_trip("a0.npy", 0, s0);
    npy_round_trip("empty.npy", 2, empty);
}

/* numpy.save(np.zeros((256, 784), np.float32)) begins with these 128 bytes. */
static void test_npy_header_matches_numpy(void **state)
{
    static const char want[] =
        "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, "
        "'shape': (256, 784), }                                                      \n";
    static const int64_t shape[] = {256, 784};
    char path[PATH_LEN];
    struct diag d;
    size_t n;
    (void)state;
    float *v = calloc(256 * 784, sizeof *v);
    assert_non_null(v);
    if (npy_write_f32(in_tmp(path, "numpy.npy"), v, 2, shape, &d))
        fail_msg("%s: %s", d.file, d.msg);
    free(v);
    unsigned char *raw = read_raw(path, &n);
    assert_int_equal(sizeof want - 1, 128);
    assert_int_equal(n, 128 + 256 * 784 * 4);
    assert_memory_equal(raw, want, 128);
    free(raw);
    /* a 1-D shape has a trailing comma */
    static const int64_t s1[] = {10};
    float ten[10] = {0};
    if (npy_write_f32(path, ten, 1, s1, &d))
        fail_msg("%s: %s", d.file, d.msg);
    char *text = file_text(path);
    assert_non_null(strstr(text + 10, "'shape': (10,), }"));
    free(text);
}

/* Write tmp_dir/raw.npy: the 8-byte preamble (magic and version), the header
 * length, dict padded to a multiple of 64 with '\n', then nbytes zero bytes. */
static const char *write_npy_raw(char *path, const char *preamble, const char *dict,
                                 size_t nbytes)
{
    char buf[512];
    size_t dlen = strlen(dict), hlen = (10 + dlen + 1 + 63) / 64 * 64 - 10;
    assert_true(10 + hlen <= sizeof buf);
    memcpy(buf, preamble, 8);
    buf[8] = (char)hlen, buf[9] = 0;
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, dict, dlen);
    buf[10 + hlen - 1] = '\n';
    FILE *f = fopen(in_tmp(path, "raw.npy"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, 10 + hlen, f), 10 + hlen);
    for (size_t i = 0; i < nbytes; i++)
        fputc(0, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* npy_read_f32 must refuse the file with a message containing msg. */
static void expect_npy_refused(const char *preamble, const char *dict, size_t nbytes,
                               const char *msg)
{
    char path[PATH_LEN];
    struct diag d;
    float *v;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    write_npy_raw(path, preamble, dict, nbytes);
    if (npy_read_f32(path, &v, &ndim, shape, &d) != -1)
        fail_msg("accepted %s (expected \"%s\")", dict, msg);
    assert_null(v);
    if (!strstr(d.msg, msg))
        fail_msg("got \"%s\", expected \"...%s...\"", d.msg, msg);
    assert_string_equal(d.file, path);
    assert_int_equal(d.line, 0);
}

static const char V1[] = "\x93NUMPY\x01\x00";
static const char OK_DICT[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

static void test_npy_read_refuses_other_files(void **state)
{
    (void)state;
    expect_npy_refused("\x93NUMPZ\x01\x00", OK_DICT, 24, "not a .npy file");
    expect_npy_refused("\x93NUMPY\x02\x00", OK_DICT, 24,
                       "format version 2.0 is not supported: only 1.0");
    expect_npy_refused(V1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48,
                       "dtype '<f8' is not supported");
    expect_npy_refused(V1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24,
                       "fortran_order True is not supported");
    expect_npy_refused(V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",
                       24, "unknown key 'x'");
    expect_npy_refused(V1, "{'descr': '<f4', 'fortran_order': False, 'descr': '<f4'}", 4,
                       "duplicate key 'descr'");
    expect_npy_refused(V1, "{'descr': '<f4', 'fortran_order': False}", 4,
                       "header has no 'shape'");
    expect_npy_refused(V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", 24,
                       "a shape holds non-negative integers");
    expect_npy_refused(V1, "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", 4,
                       "more than 8 dimensions");
    expect_npy_refused(V1, OK_DICT, 23, "truncated: expected 24 data bytes, got 23");
    expect_npy_refused(V1, OK_DICT, 25, "1 bytes after the data");
}

/* Read path through a FIFO (no size to check against): as a file reads, and a header
 * claiming 4 GB of data over 8 bytes is truncated, not a 4 GB allocation (ASan would
 * refuse one). */
static void test_npy_read_from_a_pipe(void **state)
{
    char path[PATH_LEN], fifo[PATH_LEN], cmd[3 * PATH_LEN];
    struct diag d;
    float *v;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    (void)state;
    in_tmp(fifo, "npy.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    for (int big = 0; big < 2; big++) {
        write_npy_raw(path, V1, big ? "{'descr': '<f4', 'fortran_order': False, "
                                      "'shape': (1000000000,), }" : OK_DICT, big ? 8 : 24);
        snprintf(cmd, sizeof cmd, "cat '%s' >'%s' &", path, fifo);
        assert_int_equal(system(cmd), 0);
        int rc = npy_read_f32(fifo, &v, &ndim, shape, &d);
        if (big) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(d.msg, "truncated: expected 4000000000 data bytes, got 8"));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(shape[0] * shape[1], 6);
            free(v);
        }
    }
    unlink(fifo);
}

static void test_npy_read_accepts_other_key_order(void **state)
{
    char path[PATH_LEN];
    struct diag d;
    float *v;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    (void)state;
    write_npy_raw(path, V1, "{'shape':(2,3),'fortran_order':False,'descr':'<f4'}", 24);
    if (npy_read_f32(path, &v, &ndim, shape, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[0], 2);
    assert_int_equal(shape[1], 3);
    assert_true(v[5] == 0.0f);
    free(v);
}

/* ---- outfile ---- */

static void test_outfile_commit_replaces_atomically(void **state)
{
    char dir[PATH_LEN], path[PATH_LEN];
    struct outfile o;
    struct diag d;
    (void)state;
    assert_int_equal(mkdir(in_tmp(dir, "commit"), 0777), 0);
    in_tmp(path, "commit/out.txt");
    write_raw(path, "old\n", 4);
    if (outfile_open(&o, path, &d))
        fail_msg("%s: %s", d.file, d.msg);
    fputs("new, longer contents\n", o.f);
    fflush(o.f);
    char *text = file_text(path);   /* a reader still sees the old file */
    assert_string_equal(text, "old\n");
    free(text);
    assert_int_equal(count_temporaries(dir), 1);
    if (outfile_commit(&o, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_null(o.f);
    text = file_text(path);
    assert_string_equal(text, "new, longer contents\n");
    free(text);
    assert_int_equal(count_temporaries(dir), 0);
    struct stat st;   /* mode as fopen would give, not mkstemp's 0600 */
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask);
    outfile_abort(&o);   /* harmless after commit */
}

static void test_outfile_abort_leaves_file_untouched(void **state)
{
    char dir[PATH_LEN], path[PATH_LEN];
    struct outfile o;
    struct diag d;
    (void)state;
    assert_int_equal(mkdir(in_tmp(dir, "abort"), 0777), 0);
    in_tmp(path, "abort/out.txt");
    write_raw(path, "keep\n", 5);
    if (outfile_open(&o, path, &d))
        fail_msg("%s: %s", d.file, d.msg);
    fputs("half-writ", o.f);
    outfile_abort(&o);
    outfile_abort(&o);   /* twice is harmless */
    char *text = file_text(path);
    assert_string_equal(text, "keep\n");
    free(text);
    assert_int_equal(count_temporaries(dir), 0);
    /* a new file that is aborted never appears */
    in_tmp(path, "abort/never.txt");
    assert_int_equal(outfile_open(&o, path, &d), 0);
    outfile_abort(&o);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_outfile_failed_commit_leaves_no_temporary(void **state)
{
    char dir[PATH_LEN], path[PATH_LEN];
    struct outfile o;
    struct diag d;
    (void)state;
    assert_int_equal(mkdir(in_tmp(dir, "commit-fail"), 0777), 0);
    assert_int_equal(mkdir(in_tmp(path, "commit-fail/a-directory"), 0777), 0);
    assert_int_equal(outfile_open(&o, path, &d), 0);
    fputs("x", o.f);
    assert_int_equal(outfile_commit(&o, &d), -1);   /* rename onto a directory */
    assert_string_equal(d.file, path);
    assert_non_null(strstr(d.msg, "cannot rename"));
    assert_int_equal(count_temporaries(dir), 0);
    /* no directory to put the temporary in */
    in_tmp(path, "commit-fail/no-dir/out.txt");
    assert_int_equal(outfile_open(&o, path, &d), -1);
    assert_null(o.f);
    assert_non_null(strstr(d.msg, "cannot create a temporary file"));
}

static void test_file_mkdir_p(void **state)
{
    char path[PATH_LEN];
    struct diag d;
    struct stat st;
    (void)state;
    if (file_mkdir_p(in_tmp(path, "mk/a/b//c/"), &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(stat(in_tmp(path, "mk/a/b/c"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(file_mkdir_p(path, &d), 0);   /* existing is fine */
    write_raw(in_tmp(path, "mk/a/file"), "x", 1);
    assert_int_equal(file_mkdir_p(in_tmp(path, "mk/a/file/sub"), &d), -1);
    assert_non_null(strstr(d.file, "mk/a/file"));
    assert_null(strstr(d.file, "sub"));
    assert_non_null(strstr(d.msg, "exists and is not a directory"));
    assert_int_equal(file_mkdir_p(in_tmp(path, "mk/a/file"), &d), -1);
    assert_int_equal(file_mkdir_p("", &d), -1);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_small_pair_loads),
        cmocka_unit_test(test_idx_images_wrong_magic),
        cmocka_unit_test(test_idx_labels_wrong_magic),
        cmocka_unit_test(test_idx_count_zero),
        cmocka_unit_test(test_idx_count_too_large),
        cmocka_unit_test(test_idx_rows_and_cols_out_of_range),
        cmocka_unit_test(test_idx_rows_and_cols_at_the_limit),
        cmocka_unit_test(test_idx_count_at_the_limit),
        cmocka_unit_test(test_idx_count_mismatch),
        cmocka_unit_test(test_idx_truncated_header),
        cmocka_unit_test(test_idx_truncated_images),
        cmocka_unit_test(test_idx_truncated_labels),
        cmocka_unit_test(test_idx_bytes_after_last_image),
        cmocka_unit_test(test_idx_bytes_after_last_label),
        cmocka_unit_test(test_idx_label_out_of_range),
        cmocka_unit_test(test_idx_not_gzip),
        cmocka_unit_test(test_idx_corrupt_gzip_after_valid_header),
        cmocka_unit_test(test_idx_corrupt_gzip_flipped_byte),
        cmocka_unit_test(test_idx_missing_file),
        cmocka_unit_test(test_fashion_loader_frees_everything_on_failure),
        cmocka_unit_test(test_fashion_loader_requires_28_by_28),
        cmocka_unit_test(test_fashion_mnist_real_data),
        cmocka_unit_test(test_npy_round_trip_shapes),
        cmocka_unit_test(test_npy_header_matches_numpy),
        cmocka_unit_test(test_npy_read_refuses_other_files),
        cmocka_unit_test(test_npy_read_from_a_pipe),
        cmocka_unit_test(test_npy_read_accepts_other_key_order),
        cmocka_unit_test(test_outfile_commit_replaces_atomically),
        cmocka_unit_test(test_outfile_abort_leaves_file_untouched),
        cmocka_unit_test(test_outfile_failed_commit_leaves_no_temporary),
        cmocka_unit_test(test_file_mkdir_p),
    };
    return cmocka_run_group_tests_name("data", tests, group_setup, group_teardown);
}
