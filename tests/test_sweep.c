/* test_sweep.c - sweep files (sw/sweep/sweep.c) and the sweep database (sw/sweep/sweep_db.c).
 *
 * Sweep files are written to a temporary directory with tests/configs/tiny-synth.yaml
 * as their base. Run from the repository root. The exit status is the number of
 * failed tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sw/sweep/sweep.h"
#include "../sw/sweep/sweep_db.h"

static char dir[PATH_MAX], base[PATH_MAX + 64];

/* Write a sweep file whose first line is base: tiny-synth, then body. */
static const char *sweep_file(const char *name, const char *body)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "base: %s\n%s", base, body);
    fclose(f);
    return path;
}

static void load_ok(struct sweep *s, const char *body)
{
    struct diag d;
    int rc = sweep_load(s, sweep_file("ok.yaml", body), &d);
    if (rc)
        diag_print(&d, stderr);
    assert_int_equal(rc, 0);
}

/* The error of a bad sweep: its line and column in the sweep file, and its text. */
static void load_bad(const char *body, int line, int col, const char *text)
{
    struct sweep s;
    struct diag d;
    const char *path = sweep_file("bad.yaml", body);
    assert_int_equal(sweep_load(&s, path, &d), -1);
    if (d.line != line || d.col != col || !strstr(d.msg, text))
        fprintf(stderr, "got %s:%d:%d: %s\n", d.file, d.line, d.col, d.msg);
    assert_string_equal(d.file, path);
    assert_int_equal(d.line, line);
    assert_int_equal(d.col, col);
    assert_non_null(strstr(d.msg, text));
}

static const char *text_of(const struct sweep *s, int64_t p, int a)
{
    return s->axes[a].v[sweep_value_of(s, p, a)].text;
}

static void test_ranges_keep_their_decimals(void **state)
{
    (void)state;
    struct sweep s;
    load_ok(&s, "axes:\n  pipeline.ema_beta: {from: 0.9, to: 0.95, step: 0.01}\n"
                "  hardware.mac_rows: {from: 4, to: 64, times: 2}\n");
    assert_int_equal(s.axes[0].n, 6);
    assert_string_equal(s.axes[0].v[3].text, "0.93");
    assert_int_equal(s.axes[0].v[3].type, SWEEP_REAL);
    assert_int_equal(s.axes[1].n, 5);
    assert_string_equal(s.axes[1].v[4].text, "64");
    assert_int_equal(s.axes[1].v[4].type, SWEEP_INT);
    assert_int_equal(s.n_points, 30);
    sweep_free(&s);
}

static void test_points_in_written_order_last_axis_fastest(void **state)
{
    (void)state;
    struct sweep s;
    load_ok(&s, "axes:\n  hardware.mac_rows: [1, 2]\n  pipeline.policy: [stale, stash, ema]\n");
    assert_int_equal(s.n_points, 6);
    assert_string_equal(text_of(&s, 1, 0), "1");
    assert_string_equal(text_of(&s, 1, 1), "stash");
    assert_string_equal(text_of(&s, 3, 0), "2");
    assert_string_equal(text_of(&s, 3, 1), "stale");
    sweep_free(&s);
}

static void test_filters_precedence_and_arithmetic(void **state)
{
    (void)state;
    struct sweep s;
    /* From the loosest: or, and, not, comparisons, + -, * / %. */
    load_ok(&s, "axes:\n  hardware.mac_rows: [1, 2, 3, 4]\n  pipeline.policy: [stash, ema]\n"
                "filters:\n  - not hardware.mac_rows == 1 and pipeline.policy == 'ema' or "
                "hardware.mac_rows * 2 + 1 == 3\n  - (hardware.mac_rows - 1) % 2 == 0\n");
    /* kept: rows 1 (both policies, by the 'or'), rows 3 with ema */
    assert_int_equal(s.n_points, 3);
    assert_string_equal(text_of(&s, 2, 0), "3");
    assert_string_equal(text_of(&s, 2, 1), "ema");
    sweep_free(&s);
}

static void test_values_land_in_the_config_missing_keys_added(void **state)
{
    (void)state;
    struct sweep s;
    struct config c;
    struct diag d;
    /* tiny-synth has no hardware section: the axis adds it. */
    load_ok(&s, "axes:\n  hardware.mac_rows: [3, 5]\n  network.layers.1.out: [20]\n");
    assert_int_equal(sweep_config(&s, 1, &c, &d), 0);
    assert_int_equal(c.hardware.mac_rows, 5);
    assert_int_equal(c.net.layers[1].out, 20);
    uint64_t h1 = c.hash;
    cfg_free(&c);
    assert_int_equal(sweep_config(&s, 0, &c, &d), 0);
    assert_int_equal(c.hardware.mac_rows, 3);
    assert_true(c.hash != h1);
    cfg_free(&c);
    sweep_free(&s);
}

static void test_nested_values_as_one_line_of_yaml(void **state)
{
    (void)state;
    struct sweep s;
    load_ok(&s, "axes:\n  pipeline.stages:\n    - per_layer\n    - [[fc1, fc2], [fc3]]\n"
                "  name: [\"12\", tiny]\n");
    assert_string_equal(s.axes[0].v[1].text, "[[fc1, fc2], [fc3]]");
    assert_int_equal(s.axes[0].v[1].type, SWEEP_TEXT);
    assert_string_equal(s.axes[1].v[0].text, "\"12\"");   /* quoted: text, not a number */
    assert_int_equal(s.axes[1].v[0].type, SWEEP_TEXT);
    struct config c;
    struct diag d;
    assert_int_equal(sweep_config(&s, 2, &c, &d), 0);
    assert_int_equal(c.pipeline.n_stages, 2);
    assert_string_equal(c.name, "12");
    cfg_free(&c);
    sweep_free(&s);
}

static void test_bad_sweeps_point_into_the_sweep_file(void **state)
{
    (void)state;
    load_bad("axes:\n  hardware.mac_rows: [1, 0]\n", 3, 26, "out of range");
    load_bad("axes:\n  hardware.mac_rowz: [1]\n", 3, 3, "unknown key \"mac_rowz\"");
    load_bad("axes:\n  network.layers.3.out: [1]\n", 3, 3, "index 3 is past its end");
    load_bad("axes:\n  network.layers.x.out: [1]\n", 3, 3, "\"x\" is not an index");
    load_bad("axes:\n  name.first: [1]\n", 3, 3, "a single value in the base config");
    load_bad("axes:\n  hardware.mac_rows: [1]\nfilters: hardware.mac_rows >\n", 4, 29,
             "the filter ends early");
    load_bad("axes:\n  hardware.mac_rows: [1]\nfilters: hardware.mac_rows + 'a' > 1\n", 4, 28,
             "'+' between a number and text");
    load_bad("axes:\n  hardware.mac_rows: [1]\nfilters: hardware.mac_rows / 0\n", 4, 28,
             "division by zero");
    load_bad("axes:\n  hardware.mac_rows: {from: 1, to: 4, step: 1, times: 2}\n", 3, 22,
             "either step or times");
    load_bad("axes:\n  hardware.mac_rows: {from: 8, to: 1, step: 1}\n", 3, 45, "goes up");
    load_bad("axes:\n  hardware.mac_rows: []\n", 3, 22, "a list of values or a range");
    load_bad("axes: {}\n", 2, 7, "expected a mapping");
    load_bad("minibatches: 0\naxes:\n  hardware.mac_rows: [1]\n", 2, 14, "minibatches");
}

/* A value that is fine alone but not with another axis's value: the point fails, with
 * the error where it is, and the sweep runs. */
static void test_a_bad_combination_fails_its_point_only(void **state)
{
    (void)state;
    struct sweep s;
    struct sweep_opts o = {SIM_ANALYTIC, 0, 0};
    char *text = NULL;
    size_t len = 0;
    load_ok(&s, "axes:\n  pipeline.stages: [per_layer, [[fc1], [fc2, fc3]]]\n"
                "  network.layers.2.name: [fc3, out]\n");
    assert_int_equal(s.n_points, 4);
    FILE *m = open_memstream(&text, &len);
    assert_int_equal(sweep_eval(&s, 3, &o, m), 0);
    fclose(m);
    assert_non_null(strstr(text, "\"status\": \"failed\""));
    assert_non_null(strstr(text, "ok.yaml:3:46: pipeline.stages[1]: unknown layer \\\"fc3\\\""));
    free(text);
    sweep_free(&s);
}

/* A database takes each point once; a result of another sweep is refused where its
 * hash is. */
static void test_database_records_a_point_once(void **state)
{
    (void)state;
    struct sweep s;
    struct sweep_db db;
    struct sweep_opts o = {SIM_ANALYTIC, 0, 0};
    struct diag d;
    char out[PATH_MAX + 8], *text = NULL;
    size_t len = 0;
    int failed;
    load_ok(&s, "axes:\n  hardware.mac_rows: [1, 2]\n");
    snprintf(out, sizeof out, "%s/db", dir);
    assert_int_equal(sweep_db_open(&db, out, &s, &o, &d), 0);
    FILE *m = open_memstream(&text, &len);
    assert_int_equal(sweep_eval(&s, 1, &o, m), 0);
    fclose(m);
    assert_int_equal(sweep_db_store(&db, "r.json", text, len, &failed, &d), 0);
    assert_int_equal(failed, 0);
    assert_int_equal(sweep_db_store(&db, "r.json", text, len, &failed, &d), 1);
    int64_t ok, bad, *ids, n;
    assert_int_equal(sweep_db_counts(&db, &ok, &bad, &d), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(sweep_db_pending(&db, &ids, &n, &d), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 0);
    free(ids);
    char *hash = strstr(text, "\"sweep\": \"") + 10;
    hash[0] = hash[0] == '0' ? '1' : '0';
    assert_int_equal(sweep_db_store(&db, "r.json", text, len, &failed, &d), 2);
    assert_int_equal(d.line, 2);
    assert_int_equal(d.col, 12);
    free(text);
    sweep_db_close(&db);
    /* The same directory with another sweep: refused. */
    struct sweep s2;
    load_ok(&s2, "axes:\n  hardware.mac_rows: [1, 3]\n");
    assert_int_equal(sweep_db_open(&db, out, &s2, &o, &d), 2);
    assert_non_null(strstr(d.msg, "another sweep"));
    sweep_free(&s2);
    sweep_free(&s);
}

int main(void)
{
    char tmpl[] = "/tmp/test_sweep.XXXXXX", cwd[PATH_MAX];
    if (!mkdtemp(tmpl) || !getcwd(cwd, sizeof cwd))
        return 1;
    snprintf(dir, sizeof dir, "%s", tmpl);
    snprintf(base, sizeof base, "%s/tests/configs/tiny-synth.yaml", cwd);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_keep_their_decimals),
        cmocka_unit_test(test_points_in_written_order_last_axis_fastest),
        cmocka_unit_test(test_filters_precedence_and_arithmetic),
        cmocka_unit_test(test_values_land_in_the_config_missing_keys_added),
        cmocka_unit_test(test_nested_values_as_one_line_of_yaml),
        cmocka_unit_test(test_bad_sweeps_point_into_the_sweep_file),
        cmocka_unit_test(test_a_bad_combination_fails_its_point_only),
        cmocka_unit_test(test_database_records_a_point_once),
    };
    int rc = cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd))
        rc += 0;   /* a temporary left behind is no failure */
    return rc;
}
