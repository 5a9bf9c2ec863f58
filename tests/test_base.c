/* test_base.c - the helpers of sw/base every room shares: the hash (hash.c), reading
 * whole files, locks and write-if-changed (files.c), CSV fields (csv.c), child
 * processes (proc.c) and the first repeat in a list (uniq.c). Files go to a directory made by mkdtemp under /tmp, removed at
 * the end.
 *
 * The exit status is the number of failed tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sw/base/csv.h"
#include "../sw/base/files.h"
#include "../sw/base/hash.h"
#include "../sw/base/proc.h"
#include "../sw/base/uniq.h"

static char tmp_dir[] = "/tmp/layerpipe-test_base.XXXXXX";

static const char *in_tmp(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", tmp_dir, name);
    assert_true(n > 0 && (size_t)n < size);
    return buf;
}

static void put(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* FNV-1a 64's published test vectors, and chaining equal to hashing the whole. */
static void test_hash_matches_fnv1a(void **state)
{
    (void)state;
    assert_true(hash_str(HASH_INIT, "") == 0xcbf29ce484222325ull);
    assert_true(hash_str(HASH_INIT, "a") == 0xaf63dc4c8601ec8cull);
    assert_true(hash_str(HASH_INIT, "foobar") == 0x85944171f73967e8ull);
    assert_true(hash_str(hash_str(HASH_INIT, "foo"), "bar") == hash_str(HASH_INIT, "foobar"));
    assert_true(hash_bytes(HASH_INIT, "a\0b", 3) != hash_str(HASH_INIT, "a"));
}

/* Whole files: exactly max bytes is read, max + 1 refused; NUL-terminated; a directory
 * and a missing file are errors naming the path. */
static void test_file_read_limits(void **state)
{
    (void)state;
    char path[512], *text;
    size_t len;
    struct diag d;
    in_tmp(path, sizeof path, "ten");
    put(path, "0123456789", 10);
    assert_int_equal(file_read(path, 10, &text, &len, &d), 0);
    assert_int_equal(len, 10);
    assert_string_equal(text, "0123456789");
    free(text);
    assert_int_equal(file_read(path, 9, &text, &len, &d), -1);
    assert_null(text);
    assert_string_equal(d.file, path);
    assert_non_null(strstr(d.msg, "larger than 9 bytes"));
    in_tmp(path, sizeof path, "empty");
    put(path, "", 0);
    assert_int_equal(file_read(path, 0, &text, &len, &d), 0);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(file_read(tmp_dir, 100, &text, &len, &d), -1);
    assert_non_null(strstr(d.msg, "is a directory"));
    in_tmp(path, sizeof path, "missing");
    assert_int_equal(file_read(path, 100, &text, &len, &d), -1);
    assert_non_null(strstr(d.msg, "cannot open"));
}

/* Every file_read limit (YAML's 16 MiB, vectors.bin's 1 GiB) is this check at a smaller
 * max, past the first 64 KiB buffer: a file of exactly max bytes is read, whole, and one
 * byte over it is refused - a regular file from its size, a pipe (no size to see) as the
 * bytes arrive. */
static void test_file_read_at_the_limit(void **state)
{
    (void)state;
    size_t n = 200000;
    char path[512], fifo[512], cmd[1100], *big = malloc(n), *text;
    size_t len;
    struct diag d;
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    put(in_tmp(path, sizeof path, "limit"), big, n);
    assert_int_equal(mkfifo(in_tmp(fifo, sizeof fifo, "limit.fifo"), 0600), 0);
    snprintf(cmd, sizeof cmd, "cat '%s' >'%s' 2>/dev/null &", path, fifo);
    for (int pipe = 0; pipe < 2; pipe++) {
        const char *from = pipe ? fifo : path;
        if (pipe)
            assert_int_equal(system(cmd), 0);
        assert_int_equal(file_read(from, n, &text, &len, &d), 0);
        assert_int_equal(len, n);
        assert_memory_equal(text, big, n);
        free(text);
        if (pipe)
            assert_int_equal(system(cmd), 0);
        assert_int_equal(file_read(from, n - 1, &text, &len, &d), -1);
        assert_null(text);
        assert_string_equal(d.file, from);
        assert_non_null(strstr(d.msg, pipe ? "larger than 199999 bytes"
                                            : "200000 bytes: larger than 199999 bytes"));
    }
    unlink(fifo);
    free(big);
}

/* A file larger than the first buffer grows it, byte for byte. */
static void test_file_read_grows(void **state)
{
    (void)state;
    size_t n = 200000;
    char path[512], *big = malloc(n), *text;
    size_t len;
    struct diag d;
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    put(in_tmp(path, sizeof path, "big"), big, n);
    assert_int_equal(file_read(path, FILE_NO_LIMIT, &text, &len, &d), 0);
    assert_int_equal(len, n);
    assert_memory_equal(text, big, n);
    assert_int_equal(text[n], '\0');
    free(text);
    free(big);
}

/* Unchanged content leaves the file alone (same inode: no rename happened). */
static void test_file_write_if_changed(void **state)
{
    (void)state;
    char path[512];
    struct stat a, b;
    struct diag d;
    in_tmp(path, sizeof path, "params.vc");
    assert_int_equal(file_write_if_changed(path, "-GRows=4\n", &d), 0);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(file_write_if_changed(path, "-GRows=4\n", &d), 0);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_ino == b.st_ino);
    assert_int_equal(file_write_if_changed(path, "-GRows=8\n", &d), 0);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_ino != b.st_ino);
    char *text;
    size_t len;
    assert_int_equal(file_read(path, 100, &text, &len, &d), 0);
    assert_string_equal(text, "-GRows=8\n");
    free(text);
}

/* A held lock makes a second try without waiting answer -2. */
static void test_file_lock_dir(void **state)
{
    (void)state;
    int a = file_lock_dir(tmp_dir, 0);
    assert_true(a >= 0);
    int b = file_lock_dir(tmp_dir, 0);   /* flock locks belong to open files: a second open */
    assert_int_equal(b, -2);
    file_unlock(a);
    b = file_lock_dir(tmp_dir, 0);
    assert_true(b >= 0);
    file_unlock(b);
}

/* CSV: fields with separators and quotes round-trip; empty fields are kept. */
static void test_csv_round_trip(void **state)
{
    (void)state;
    const char *in[] = {"plain", "", "a,b", "say \"hi\"", "", "end"};
    char *text = NULL, *field[8];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    for (int i = 0; i < 6; i++) {
        if (i)
            fputc(',', f);
        csv_field(f, in[i]);
    }
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "plain,,\"a,b\",\"say \"\"hi\"\"\",,end");
    assert_int_equal(csv_split(text, field, 8), 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(field[i], in[i]);
    free(text);
    char trailing[] = "a,", open_quote[] = "\"a,b", after[] = "\"a\"b,c", many[] = "1,2,3";
    assert_int_equal(csv_split(trailing, field, 8), 2);
    assert_string_equal(field[1], "");
    assert_int_equal(csv_split(open_quote, field, 8), -1);
    assert_int_equal(csv_split(after, field, 8), -1);
    assert_int_equal(csv_split(many, field, 2), -1);
}

/* Child processes: exit codes, a missing program (127), a log in the child's directory. */
static void test_proc_run(void **state)
{
    (void)state;
    char *ok[] = {"true", NULL}, *no[] = {"false", NULL}, *missing[] = {"no-such-tool-lp", NULL};
    char *sh[] = {"sh", "-c", "pwd; echo to-stderr >&2; exit 3", NULL};
    assert_int_equal(proc_run(NULL, ok, NULL), 0);
    assert_int_equal(proc_run(NULL, no, NULL), 1);
    assert_int_equal(proc_run(NULL, missing, NULL), 127);
    assert_int_equal(proc_run(tmp_dir, sh, "log.txt"), 3);
    char path[512], *text;
    size_t len;
    struct diag d;
    assert_int_equal(file_read(in_tmp(path, sizeof path, "log.txt"), 4096, &text, &len, &d), 0);
    assert_non_null(strstr(text, strrchr(tmp_dir, '/')));   /* pwd: in the directory */
    assert_non_null(strstr(text, "\nto-stderr\n"));
    free(text);
}

/* Bytes through a pipe, exactly; a closed writer ends the read with -1. */
static void test_proc_pipe(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const char msg[] = "twelve bytes";
    char got[sizeof msg];
    assert_int_equal(proc_write_all(fds[1], msg, sizeof msg), 0);
    close(fds[1]);
    assert_int_equal(proc_read_all(fds[0], got, sizeof got), 0);
    assert_memory_equal(got, msg, sizeof msg);
    assert_int_equal(proc_read_all(fds[0], got, 1), -1);
    close(fds[0]);
}

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(tmp_dir) ? 0 : -1;
}

/* The first repeat in list order (not in sorted order), named with its first
 * appearance; none in a list without one, or of fewer than two. */
static void test_uniq_first_repeat(void **state)
{
    (void)state;
    static const char *const list[] = {"z", "b", "a", "c", "a", "b", "z", "a"};
    int first = -1;
    assert_int_equal(uniq_first_repeat(list, 8, &first), 4);   /* "a" again, before "b" */
    assert_int_equal(first, 2);
    assert_int_equal(uniq_first_repeat(list + 1, 5, &first), 3);
    assert_int_equal(first, 1);
    assert_int_equal(uniq_first_repeat(list, 4, &first), -1);
    assert_int_equal(uniq_first_repeat(list, 1, &first), -1);
    assert_int_equal(uniq_first_repeat(list, 0, &first), -1);
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_matches_fnv1a),
        cmocka_unit_test(test_file_read_limits),
        cmocka_unit_test(test_file_read_at_the_limit),
        cmocka_unit_test(test_file_read_grows),
        cmocka_unit_test(test_file_write_if_changed),
        cmocka_unit_test(test_file_lock_dir),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_proc_run),
        cmocka_unit_test(test_proc_pipe),
        cmocka_unit_test(test_uniq_first_repeat),
    };
    return cmocka_run_group_tests_name("base", tests, group_setup, group_teardown);
}
