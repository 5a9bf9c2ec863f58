/* trace.c - fuzz harness of the golden vector set reader (trace_load on a directory of
 * config.yaml and vectors.bin, traces/README.md).
 * An input is vectors.bin with the config of traces/m1-sequential, or CONFIG FUZZ_SEP
 * VECTORS. Each input is read twice: as it is, and with its CRC-32 trailer made right,
 * so that the fuzzer reaches the records behind the checksum.
 * Checks: a refusal carries a message; an accepted set has the header's minibatch and
 * record counts, and its records, each with the words the config gives, tile the file
 * exactly from byte 32 to the trailer. */
#include <zlib.h>

#include "../../sw/run/trace.h"

#include "fuzz.h"

static const char m1_config[] = FUZZ_M1_CONFIG;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void load(const uint8_t *v, size_t n)
{
    fuzz_write("vectors.bin", v, n);
    struct trace tr;
    struct diag d = {0};
    if (trace_load(&tr, fuzz_dir_, &d)) {
        FUZZ_REFUSED(d);
        FUZZ_CHECK(!tr.records && !tr.data);
        return;
    }
    if (fuzz_inject() && tr.n_records > 0)
        tr.records[0].count++;
    FUZZ_CHECK(n >= 36);
    FUZZ_CHECK(tr.minibatches == le32(v + 24) && tr.n_records == le32(v + 28));
    size_t at = 32;
    for (int64_t i = 0; i < tr.n_records; i++) {
        const struct trace_record *r = &tr.records[i];
        FUZZ_CHECK(r->count >= 0 && at + 20 <= n - 4);
        at += 20;
        FUZZ_CHECK((const uint8_t *)r->words == tr.data + at);
        FUZZ_CHECK((size_t)r->count <= (n - 4 - at) / 4);
        at += 4 * (size_t)r->count;
    }
    FUZZ_CHECK(at == n - 4);
    trace_free(&tr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *vec;
    size_t n, clen = fuzz_split(data, size, &vec, &n);
    if (vec)
        fuzz_write("config.yaml", data, clen);
    else {
        fuzz_write("config.yaml", m1_config, sizeof m1_config - 1);
        vec = data, n = size;
    }
    load(vec, n);
    if (n < 4)
        return 0;
    uint8_t *fixed = malloc(n);
    FUZZ_CHECK(fixed);
    memcpy(fixed, vec, n);
    uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(n - 4));
    if (crc != le32(fixed + n - 4)) {
        for (int i = 0; i < 4; i++)
            fixed[n - 4 + i] = (uint8_t)(crc >> 8 * i);
        load(fixed, n);
    }
    free(fixed);
    return 0;
}
