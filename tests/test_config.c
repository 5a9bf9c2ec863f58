/* test_config.c - the strict config loader (sw/config/config.c, sw/config/ydoc.c).
 *
 * Group "bad_configs": one test per file in tests/bad/. Line 1 of each file is
 *     # expect: LINE:COL: SUBSTRING
 * and cfg_load must refuse the file with exactly that position, a message that
 * contains SUBSTRING, and the path as the diagnostic's file.
 *
 * Group "config": every shipped config loads and its effective config
 * round-trips; defaults; duplicate keys in nested mappings; `inputs: [input]`.
 *
 * Run from the repository root (paths are relative). The exit status is the
 * number of failed tests in both groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sw/base/hash.h"
#include "../sw/config/config.h"

#define BAD_DIR "tests/bad"
#define CONFIG_DIR "configs"
#define MIN_BAD_FILES 30

/* ---- helpers ---- */

struct name_list {
    char **names;
    size_t n;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* The entries of dir that do not start with '.' and end with suffix ("" for all),
 * sorted. Returns 0, or -1 when the directory cannot be read. */
static int list_dir(const char *dir, const char *suffix, struct name_list *out)
{
    size_t cap = 0;
    struct dirent *e;
    DIR *d = opendir(dir);
    out->names = NULL;
    out->n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, suffix))
            continue;
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(out->names, nc * sizeof *nn);
            if (!nn)
                break;
            out->names = nn;
            cap = nc;
        }
        char *s = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!s)
            break;
        sprintf(s, "%s/%s", dir, e->d_name);
        out->names[out->n++] = s;
    }
    closedir(d);
    if (out->n)
        qsort(out->names, out->n, sizeof *out->names, cmp_names);
    return 0;
}

static void free_names(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

/* The effective config as text (cfg_write without header); free() it. */
static char *effective(const struct config *c, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&text, &n);
    assert_non_null(mem);
    int rc = cfg_write(c, mem, 0);
    assert_int_equal(fclose(mem), 0);
    assert_non_null(text);
    if (rc) {
        free(text);
        fail_msg("cfg_write of %s failed", c->path);
    }
    if (len)
        *len = n;
    return text;
}

/* Load text that must be accepted; on refusal, fail with the diagnostic. */
static void load_ok(struct config *c, const char *name, const char *text)
{
    struct diag d;
    if (cfg_load_string(c, name, text, &d) != 0)
        fail_msg("%s refused: %s:%d:%d: %s", name, d.file, d.line, d.col, d.msg);
}

/* ---- group "bad_configs" ---- */

static size_t n_bad_files;

struct expect {
    int line, col;
    char text[512];
};

/* Parse "# expect: LINE:COL: SUBSTRING" from line 1 of path into e.
 * Returns NULL, or what is wrong with the line. */
static const char *read_expect(const char *path, struct expect *e)
{
    static const char prefix[] = "# expect: ";
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return "cannot open the file";
    char *got = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!got)
        return "the file has no line 1";
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strncmp(buf, prefix, sizeof prefix - 1) != 0)
        return "line 1 does not start with \"# expect: \"";
    char *p = buf + sizeof prefix - 1, *end;
    long line = strtol(p, &end, 10);
    if (end == p || *end != ':')
        return "no LINE in the expect line";
    p = end + 1;
    long col = strtol(p, &end, 10);
    if (end == p || end[0] != ':' || end[1] != ' ')
        return "no COL in the expect line";
    p = end + 2;
    if (!*p)
        return "no SUBSTRING in the expect line";
    if (line < 0 || col < 0 || line > 1000000 || col > 1000000)
        return "LINE or COL out of range";
    if (strlen(p) >= sizeof e->text)
        return "SUBSTRING too long";
    e->line = (int)line;
    e->col = (int)col;
    strcpy(e->text, p);
    return NULL;
}

static void test_bad_config_is_refused_at_its_position(void **state)
{
    const char *path = *state;
    struct expect e;
    struct config c;
    struct diag d;
    const char *why = read_expect(path, &e);
    if (why)
        fail_msg("%s: %s", path, why);
    memset(&d, 0, sizeof d);
    if (cfg_load(&c, path, &d) == 0) {
        cfg_free(&c);
        fail_msg("%s was accepted; expected %d:%d: ...%s...", path, e.line, e.col, e.text);
    }
    assert_string_equal(d.file, path);
    if (d.line != e.line || d.col != e.col)
        fail_msg("%s: reported at %d:%d (%s), expected %d:%d", path, d.line, d.col, d.msg,
                 e.line, e.col);
    if (!strstr(d.msg, e.text))
        fail_msg("%s: message \"%s\" does not contain \"%s\"", path, d.msg, e.text);
}

static void test_enough_bad_configs(void **state)
{
    (void)state;
    if (n_bad_files < MIN_BAD_FILES)
        fail_msg("%s has %zu files, expected at least %d", BAD_DIR, n_bad_files,
                 MIN_BAD_FILES);
}

/* One test per file of tests/bad (every file, so that a stray one is noticed),
 * after a test that there are enough of them. */
static int run_bad_configs(void)
{
    struct name_list files;
    if (list_dir(BAD_DIR, "", &files))
        fprintf(stderr, "cannot read %s\n", BAD_DIR);
    n_bad_files = files.n;
    struct CMUnitTest *tests = calloc(files.n + 1, sizeof *tests);
    if (!tests) {
        free_names(&files);
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    tests[0].name = "at least 30 files in " BAD_DIR;
    tests[0].test_func = test_enough_bad_configs;
    for (size_t i = 0; i < files.n; i++) {
        tests[i + 1].name = files.names[i] + sizeof BAD_DIR;  /* the file name */
        tests[i + 1].test_func = test_bad_config_is_refused_at_its_position;
        tests[i + 1].initial_state = files.names[i];           /* the path */
    }
    int failed = _cmocka_run_group_tests("bad_configs", tests, files.n + 1, NULL, NULL);
    free(tests);
    free_names(&files);
    return failed;
}

/* ---- group "config" ---- */

static void test_shipped_configs_round_trip(void **state)
{
    struct name_list files;
    (void)state;
    assert_int_equal(list_dir(CONFIG_DIR, ".yaml", &files), 0);
    if (files.n == 0)
        fail_msg("no %s/*.yaml", CONFIG_DIR);
    for (size_t i = 0; i < files.n; i++) {
        const char *path = files.names[i];
        struct config c, c2;
        struct diag d;
        size_t len, len2;
        if (cfg_load(&c, path, &d) != 0)
            fail_msg("%s refused: %s:%d:%d: %s", path, d.file, d.line, d.col, d.msg);
        assert_string_equal(c.path, path);
        char *text = effective(&c, &len);
        /* The hash is FNV-1a 64 of exactly that text. */
        assert_true(c.hash == hash_bytes(HASH_INIT, text, len));
        if (cfg_load_string(&c2, "effective", text, &d) != 0)
            fail_msg("the effective config of %s is refused: %d:%d: %s\n%s", path, d.line,
                     d.col, d.msg, text);
        char *text2 = effective(&c2, &len2);
        print_message("%s: hash %016llx, %zu bytes of effective config\n", path,
                      (unsigned long long)c.hash, len);
        assert_string_equal(text2, text);
        assert_true(c2.hash == c.hash);
        assert_int_equal(c2.net.n_layers, c.net.n_layers);
        assert_int_equal(c2.pipeline.n_stages, c.pipeline.n_stages);
        assert_memory_equal(c2.pipeline.stage_of, c.pipeline.stage_of,
                            sizeof *c.pipeline.stage_of * (size_t)c.net.n_layers);
        free(text);
        free(text2);
        cfg_free(&c);
        cfg_free(&c2);
    }
    free_names(&files);
}

static const char minimal[] =
    "schema_version: 1\n"
    "name: tiny\n"
    "network:\n"
    "  input: [784]\n"
    "  layers:\n"
    "    - {name: fc1, type: dense, out: 64, act: relu}\n"
    "    - {name: fc2, type: dense, out: 10}\n";

static void test_defaults_fill_absent_sections(void **state)
{
    struct config c;
    (void)state;
    load_ok(&c, "minimal", minimal);
    assert_string_equal(c.path, "minimal");
    assert_int_equal(c.schema_version, 1);
    assert_string_equal(c.name, "tiny");

    /* network */
    assert_int_equal(c.net.loss, NET_LOSS_SOFTMAX_CE);
    assert_int_equal(c.net.input.rank, 1);
    assert_int_equal(c.net.input.dim[0], 784);
    assert_int_equal(c.net.n_layers, 2);
    assert_int_equal(c.net.layers[0].n_inputs, 1);
    assert_int_equal(c.net.layers[0].inputs[0], NET_INPUT);
    assert_int_equal(c.net.layers[1].n_inputs, 1);
    assert_int_equal(c.net.layers[1].inputs[0], 0);
    assert_int_equal(c.net.layers[0].act, NET_ACT_RELU);
    assert_int_equal(c.net.layers[1].act, NET_ACT_NONE);
    assert_int_equal(c.net.layers[0].bias, 1);
    assert_int_equal(c.net.layers[1].bias, 1);

    /* pipeline: per_layer stages, ema with auto beta */
    assert_int_equal(c.pipeline.mode, CFG_STAGES_PER_LAYER);
    assert_int_equal(c.pipeline.n_stages, 2);
    assert_int_equal(c.pipeline.stage_of[0], 1);
    assert_int_equal(c.pipeline.stage_of[1], 2);
    assert_int_equal(c.pipeline.policy, PLAN_EMA);
    assert_int_equal(c.pipeline.ema_beta_auto, 1);

    /* numerics */
    assert_int_equal(c.numerics.format, CFG_FLOAT32);
    assert_int_equal(c.numerics.activation.bits, 16);
    assert_int_equal(c.numerics.activation.frac, 10);
    assert_int_equal(c.numerics.error.bits, 16);
    assert_int_equal(c.numerics.error.frac, 12);
    assert_int_equal(c.numerics.weight.bits, 16);
    assert_int_equal(c.numerics.weight.frac, 14);
    assert_int_equal(c.numerics.master_weight.bits, 32);
    assert_int_equal(c.numerics.master_weight.frac, 28);
    assert_int_equal(c.numerics.gradient.bits, 32);
    assert_int_equal(c.numerics.gradient.frac, 20);
    assert_int_equal(c.numerics.accumulator_bits, 48);
    assert_int_equal(c.numerics.rounding, CFG_ROUND_NEAREST_EVEN);

    /* training */
    assert_int_equal(c.training.dataset, CFG_DATA_FASHION_MNIST);
    assert_string_equal(c.training.data_dir, "/usr/share/datasets/fashion-mnist");
    assert_int_equal(c.training.batch, 32);
    assert_int_equal(c.training.epochs, 5);
    assert_true(c.training.lr == 0.05);
    assert_true(c.training.momentum == 0.9);
    assert_true(c.training.weight_decay == 0);
    assert_int_equal(c.training.lr_schedule, CFG_LR_STEP);
    assert_true(c.training.lr_decay == 0.6);
    assert_int_equal(c.training.seed, 1);
    assert_int_equal(c.training.normalize, 1);
    assert_int_equal(c.training.train_samples, 0);
    assert_int_equal(c.training.test_samples, 0);

    /* hardware */
    assert_int_equal(c.hardware.mac_rows, 16);
    assert_int_equal(c.hardware.mac_cols, 16);
    assert_int_equal(c.hardware.mac_pipeline, 3);
    assert_true(c.hardware.clock_mhz == 200);
    assert_int_equal(c.hardware.onchip_kib, 512);
    assert_true(c.hardware.offchip_bytes_per_cycle == 16);
    assert_int_equal(c.hardware.offchip_latency, 100);
    cfg_free(&c);
}

/* Writing every default out changes nothing: the same effective config and hash. */
static void test_defaults_equal_explicit_values(void **state)
{
    struct config c, c2;
    (void)state;
    load_ok(&c, "minimal", minimal);
    char *text = effective(&c, NULL);
    cfg_free(&c);
    static const char spelled_out[] =
        "schema_version: 1\n"
        "name: tiny\n"
        "network:\n"
        "  input: [784]\n"
        "  layers:\n"
        "    - {name: fc1, type: dense, inputs: [input], out: 64, act: relu, bias: true}\n"
        "    - {name: fc2, type: dense, inputs: [fc1], out: 10, act: none, bias: true}\n"
        "  loss: softmax_cross_entropy\n"
        "pipeline: {stages: [[fc1], [fc2]], policy: ema, ema_beta: auto}\n"
        "numerics: {format: float32, rounding: nearest_even}\n"
        "training: {dataset: fashion-mnist, batch: 32, epochs: 5, lr: 0.05, momentum: 0.9,\n"
        "           weight_decay: 0, lr_schedule: step, lr_decay: 0.6, seed: 1,\n"
        "           normalize: true, train_samples: 0, test_samples: 0}\n"
        "hardware: {mac_rows: 16, mac_cols: 16, mac_pipeline: 3, clock_mhz: 200,\n"
        "           onchip_kib: 512, offchip_bytes_per_cycle: 16, offchip_latency: 100}\n";
    load_ok(&c2, "spelled-out", spelled_out);
    char *text2 = effective(&c2, NULL);
    assert_string_equal(text2, text);
    free(text);
    free(text2);
    cfg_free(&c2);
}

static void test_layer_defaults_by_type(void **state)
{
    struct config c;
    (void)state;
    load_ok(&c, "cnn",
            "schema_version: 1\n"
            "name: cnn\n"
            "network:\n"
            "  input: [1, 28, 28]\n"
            "  layers:\n"
            "    - {name: c1, type: conv, out_channels: 4, kernel: 3}\n"
            "    - {name: p1, type: maxpool, kernel: 2}\n"
            "    - {name: p2, type: avgpool, kernel: 3, stride: 1}\n"
            "    - {name: flat, type: flatten}\n"
            "    - {name: fc, type: dense, out: 10, bias: false}\n"
            "pipeline:\n"
            "  stages: [[c1, p1], [p2, flat, fc]]\n");
    const struct net_layer *ly = c.net.layers;
    assert_int_equal(ly[0].stride, 1);
    assert_int_equal(ly[0].pad, 0);
    assert_int_equal(ly[0].bias, 1);
    assert_int_equal(ly[0].act, NET_ACT_NONE);
    assert_int_equal(ly[0].out_shape.dim[1], 26);
    assert_int_equal(ly[1].stride, 2);          /* a pool's stride is its kernel */
    assert_int_equal(ly[1].out_shape.dim[1], 13);
    assert_int_equal(ly[2].stride, 1);
    assert_int_equal(ly[2].out_shape.dim[1], 11);
    assert_int_equal(ly[3].out_shape.rank, 1);
    assert_int_equal(ly[3].out_shape.dim[0], 4 * 11 * 11);
    assert_int_equal(ly[4].bias, 0);
    assert_int_equal(ly[4].params, 4 * 11 * 11 * 10);
    assert_int_equal(c.pipeline.mode, CFG_STAGES_LIST);
    assert_int_equal(c.pipeline.n_stages, 2);
    static const int stage_of[] = {1, 1, 2, 2, 2};
    for (int l = 0; l < 5; l++)
        assert_int_equal(c.pipeline.stage_of[l], stage_of[l]);
    cfg_free(&c);
}

/* {balanced: M} resolves to M contiguous, non-empty stages. */
static void test_balanced_stages_resolve(void **state)
{
    struct config c;
    struct diag d;
    (void)state;
    if (cfg_load(&c, CONFIG_DIR "/resnet18.yaml", &d) != 0)
        fail_msg("%s:%d:%d: %s", d.file, d.line, d.col, d.msg);
    assert_int_equal(c.pipeline.mode, CFG_STAGES_BALANCED);
    assert_int_equal(c.pipeline.n_stages, 4);
    assert_int_equal(c.pipeline.stage_of[0], 1);
    assert_int_equal(c.pipeline.stage_of[c.net.n_layers - 1], 4);
    for (int l = 1; l < c.net.n_layers; l++) {
        int step = c.pipeline.stage_of[l] - c.pipeline.stage_of[l - 1];
        assert_in_range(step, 0, 1);
    }
    cfg_free(&c);
}

/* text repeats key in one mapping: it must be refused at the second key (line,
 * col), naming the line of the first. */
static void check_duplicate(const char *name, const char *text, const char *key, int line,
                            int col, int first_line)
{
    struct config c;
    struct diag d;
    char want[128];
    memset(&d, 0, sizeof d);
    if (cfg_load_string(&c, name, text, &d) == 0) {
        cfg_free(&c);
        fail_msg("%s: the duplicate key \"%s\" was accepted", name, key);
    }
    assert_string_equal(d.file, name);
    assert_int_equal(d.line, line);
    assert_int_equal(d.col, col);
    snprintf(want, sizeof want, "duplicate key \"%s\" (first at line %d,", key, first_line);
    if (!strstr(d.msg, want))
        fail_msg("%s: message \"%s\" does not contain \"%s\"", name, d.msg, want);
}

static void test_duplicate_nested_key_at_second_key(void **state)
{
    (void)state;
    /* in a block mapping one level down */
    check_duplicate("dup-training",
                    "schema_version: 1\n"
                    "name: tiny\n"
                    "network:\n"
                    "  input: [784]\n"
                    "  layers:\n"
                    "    - {name: fc1, type: dense, out: 10}\n"
                    "training:\n"
                    "  batch: 32\n"
                    "  epochs: 3\n"
                    "  batch: 64\n",
                    "batch", 10, 3, 8);
    /* in a flow mapping two levels down */
    check_duplicate("dup-fixed",
                    "schema_version: 1\n"
                    "name: tiny\n"
                    "network:\n"
                    "  input: [784]\n"
                    "  layers:\n"
                    "    - {name: fc1, type: dense, out: 10}\n"
                    "numerics:\n"
                    "  format: fixed\n"
                    "  weight: {bits: 16, frac: 12, bits: 8}\n",
                    "bits", 9, 32, 9);
    /* in a block mapping inside a list inside a mapping */
    check_duplicate("dup-layer",
                    "schema_version: 1\n"
                    "name: tiny\n"
                    "network:\n"
                    "  input: [784]\n"
                    "  layers:\n"
                    "    - name: fc1\n"
                    "      type: dense\n"
                    "      out: 10\n"
                    "      type: conv\n",
                    "type", 9, 7, 7);
}

static void test_inputs_input_is_the_network_input(void **state)
{
    struct config c, c2;
    (void)state;
    load_ok(&c, "skip",
            "schema_version: 1\n"
            "name: skip\n"
            "network:\n"
            "  input: [16]\n"
            "  layers:\n"
            "    - {name: fc1, type: dense, inputs: [input], out: 16, act: relu}\n"
            "    - {name: sum, type: add, inputs: [fc1, input]}\n"
            "    - {name: fc2, type: dense, out: 10}\n"
            "training:\n"
            "  dataset: synthetic\n");
    const struct net_layer *ly = c.net.layers;
    assert_int_equal(ly[0].n_inputs, 1);
    assert_int_equal(ly[0].inputs[0], NET_INPUT);
    assert_int_equal(ly[0].in_shape.dim[0], 16);
    assert_int_equal(ly[1].n_inputs, 2);
    assert_int_equal(ly[1].inputs[0], 0);
    assert_int_equal(ly[1].inputs[1], NET_INPUT);
    assert_int_equal(ly[1].out_shape.dim[0], 16);
    assert_int_equal(ly[2].inputs[0], 1);

    /* ... and is written back as "input" */
    char *text = effective(&c, NULL);
    assert_non_null(strstr(text, "{name: sum, type: add, inputs: [fc1, input]"));
    load_ok(&c2, "skip-effective", text);
    assert_int_equal(c2.net.layers[1].inputs[1], NET_INPUT);
    assert_true(c2.hash == c.hash);
    free(text);
    cfg_free(&c);
    cfg_free(&c2);
}

/* A path with a quote, a backslash and a newline is written escaped and reads back. */
static void test_effective_config_escapes_strings(void **state)
{
    struct config c, c2;
    (void)state;
    load_ok(&c, "escape",
            "schema_version: 1\n"
            "name: tiny\n"
            "network: {input: [784], layers: [{name: fc, type: dense, out: 10}]}\n"
            "training: {data_dir: \"/data/a\\nb \\\"q\\\" \\\\z\"}\n");
    assert_string_equal(c.training.data_dir, "/data/a\nb \"q\" \\z");
    char *text = effective(&c, NULL);
    load_ok(&c2, "escape-effective", text);
    assert_string_equal(c2.training.data_dir, c.training.data_dir);
    assert_true(c2.hash == c.hash);
    free(text);
    cfg_free(&c);
    cfg_free(&c2);
}

static void test_missing_file_has_no_position(void **state)
{
    struct config c;
    struct diag d;
    (void)state;
    assert_int_equal(cfg_load(&c, BAD_DIR "/no-such-file.yaml", &d), -1);
    assert_string_equal(d.file, BAD_DIR "/no-such-file.yaml");
    assert_int_equal(d.line, 0);
    assert_non_null(strstr(d.msg, "cannot open"));
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_shipped_configs_round_trip),
        cmocka_unit_test(test_defaults_fill_absent_sections),
        cmocka_unit_test(test_defaults_equal_explicit_values),
        cmocka_unit_test(test_layer_defaults_by_type),
        cmocka_unit_test(test_balanced_stages_resolve),
        cmocka_unit_test(test_duplicate_nested_key_at_second_key),
        cmocka_unit_test(test_inputs_input_is_the_network_input),
        cmocka_unit_test(test_effective_config_escapes_strings),
        cmocka_unit_test(test_missing_file_has_no_position),
    };
    int failed = run_bad_configs();
    failed += cmocka_run_group_tests_name("config", fixed, NULL, NULL);
    return failed;
}
