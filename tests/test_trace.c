/* test_trace.c - golden vector sets (sw/run/trace.c): a set written by
 * trace_generate loads back, and every kind of damage is refused with its
 * byte offset. Damaged copies get a fresh CRC where the check under test is
 * not the CRC itself, so each check is reached. Runs from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../sw/run/trace.h"

#define SET "traces/m4-ema"

static char tmpdir[64];

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *b, size_t len)
{
    put32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
}

/* Copy the committed set into tmpdir, apply damage to vectors.bin, and check
 * that trace_load refuses it with a message containing want. */
static void refused(const char *name, void (*damage)(uint8_t *b, size_t *len), int recrc,
                    const char *want)
{
    char dir[128], path[160];
    size_t len;
    uint8_t *b = slurp(SET "/vectors.bin", &len);
    uint8_t *cfg;
    size_t clen;
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    snprintf(path, sizeof path, "mkdir -p %s", dir);
    assert_int_equal(system(path), 0);
    cfg = slurp(SET "/config.yaml", &clen);
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    spit(path, cfg, clen);
    free(cfg);
    damage(b, &len);
    if (recrc)
        fix_crc(b, len);
    snprintf(path, sizeof path, "%s/vectors.bin", dir);
    spit(path, b, len);
    free(b);

    struct trace tr;
    struct diag d;
    memset(&d, 0, sizeof d);
    if (trace_load(&tr, dir, &d) == 0) {
        trace_free(&tr);
        fail_msg("%s: the damaged set was accepted", name);
    }
    print_message("  %s: %s: %s\n", name, d.file, d.msg);
    if (!strstr(d.msg, want))
        fail_msg("%s: \"%s\" does not contain \"%s\"", name, d.msg, want);
}

static void first_record_kind(uint8_t *b, size_t *len) { (void)len; b[32] = 99; }
static void first_record_layer(uint8_t *b, size_t *len) { (void)len; put32(b + 36, 7); }
static void first_record_count(uint8_t *b, size_t *len) { (void)len; put32(b + 48, 3); }
static void first_record_minibatch(uint8_t *b, size_t *len)
{
    (void)len;
    put32(b + 40, 500);
    put32(b + 44, 0);
}
static void version(uint8_t *b, size_t *len) { (void)len; put32(b + 8, 2); }
static void hash(uint8_t *b, size_t *len) { (void)len; b[16] ^= 1; }
static void magic(uint8_t *b, size_t *len) { (void)len; b[0] = 'X'; }
static void flip_payload(uint8_t *b, size_t *len) { b[*len / 2] ^= 0x10; }
static void truncate_half(uint8_t *b, size_t *len) { (void)b; *len /= 2; }
static void more_records(uint8_t *b, size_t *len)
{
    (void)len;
    put32(b + 28, (uint32_t)(b[28] | b[29] << 8 | b[30] << 16 | (uint32_t)b[31] << 24) + 1);
}
static void records_past_the_file(uint8_t *b, size_t *len) { (void)len; put32(b + 28, 100000); }
static void fewer_records(uint8_t *b, size_t *len) { (void)len; put32(b + 28, 10); }

static void test_committed_set_loads(void **state)
{
    struct trace tr;
    struct diag d;
    (void)state;
    if (trace_load(&tr, SET, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(tr.minibatches, 8);
    assert_true(tr.n_records > 0);
    /* The first record is the initial weights of fc1; every record fits the config. */
    assert_int_equal(tr.records[0].kind, TRAIN_PROBE_WEIGHTS);
    assert_int_equal(tr.records[0].minibatch, -1);
    assert_int_equal(tr.records[0].count, tr.config.net.layers[0].params);
    trace_free(&tr);
}

static void test_damage_is_refused(void **state)
{
    (void)state;
    refused("kind", first_record_kind, 1, "unknown kind 99");
    refused("layer", first_record_layer, 1, "layer 7 does not fit");
    refused("count", first_record_count, 1, "3 words where the config gives");
    refused("minibatch", first_record_minibatch, 1, "minibatch 500 outside");
    refused("version", version, 1, "version 2");
    refused("hash", hash, 1, "config.yaml hashes to");
    refused("magic", magic, 1, "not a layerpipe vector set");
    refused("crc", flip_payload, 0, "CRC-32 mismatch");
    refused("truncated", truncate_half, 0, "CRC-32 mismatch");
    refused("more-records", more_records, 1, "the file ends inside");
    refused("records-past-the-file", records_past_the_file, 1,
            "byte 28: record count 100000, but the file's 35580 bytes hold at most 1777 records");
    refused("fewer-records", fewer_records, 1, "bytes after the last of 10 records");
}

static void test_generate_then_load(void **state)
{
    struct config c;
    struct diag d;
    struct trace tr;
    char dir[128];
    (void)state;
    snprintf(dir, sizeof dir, "%s/gen", tmpdir);
    if (cfg_load(&c, "tests/configs/trace-m2-stash.yaml", &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(trace_generate(&c, 3, dir, &d), 0);
    if (trace_load(&tr, dir, &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(tr.minibatches, 3);
    assert_true(tr.config.hash == c.hash);
    trace_free(&tr);
    /* A float config cannot be traced. */
    cfg_free(&c);
    if (cfg_load(&c, "tests/configs/tiny-synth.yaml", &d))
        fail_msg("%s: %s", d.file, d.msg);
    assert_int_equal(trace_generate(&c, 3, dir, &d), 2);
    assert_non_null(strstr(d.msg, "numerics.format: fixed"));
    cfg_free(&c);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lp-trace-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[96];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed_set_loads),
        cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_generate_then_load),
    };
    return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
