#include "trace.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../base/files.h"
#include "../base/outfile.h"
#include "train_run.h"

#define HEADER_BYTES 32
#define RECORD_BYTES 20
static const char magic[8] = "LPTRACE";   /* 7 letters and a NUL */

static const char *const kind_names[] = {"input", "fwd_weights", "activation", "loss_grad",
                                         "error", "bwd_weights", "gradient", "weights",
                                         "master"};

const char *trace_kind_name(enum train_probe kind)
{
    return kind < TRAIN_N_PROBES ? kind_names[kind] : "unknown";
}

/* ---- little-endian bytes ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- writing ---- */

struct writer {
    uint8_t *buf;
    size_t len, cap;
    int64_t records;
    int failed;
};

static void emit(struct writer *w, const void *bytes, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 1 << 16;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->buf = b, w->cap = cap;
    }
    memcpy(w->buf + w->len, bytes, n);
    w->len += n;
}

static void on_probe(void *ctx, enum train_probe kind, int layer, int64_t mb, const void *words,
                     int64_t count)
{
    struct writer *w = ctx;
    uint8_t head[RECORD_BYTES] = {0}, word[4];
    head[0] = (uint8_t)kind;
    put32(head + 4, (uint32_t)layer);
    put64(head + 8, (uint64_t)mb);
    put32(head + 16, (uint32_t)count);
    emit(w, head, sizeof head);
    for (int64_t i = 0; i < count; i++) {
        put32(word, (uint32_t)((const int32_t *)words)[i]);
        emit(w, word, 4);
    }
    w->records++;
}

static int write_file(const char *dir, const char *name, const void *bytes, size_t n,
                      const struct config *c, struct diag *d)
{
    char path[1024];
    struct outfile o;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (outfile_open(&o, path, d))
        return -1;
    if (c)
        cfg_write(c, o.f, 0);   /* no header: the set does not depend on where c came from */
    else
        fwrite(bytes, 1, n, o.f);
    return outfile_commit(&o, d);
}

int trace_generate(const struct config *c, int64_t n, const char *dir, struct diag *d)
{
    struct dataset train;
    struct fixed_spec q;
    struct train_opts o;
    struct trainer *t;
    struct train_stats st;
    struct diag e;
    struct writer w = {0};
    int rc;
    if (cfg_check_rtl(c, d))
        return 2;
    int32_t *order;
    if ((rc = train_minibatches(c, n, &train, &order, d)))
        return rc;
    uint8_t header[HEADER_BYTES] = {0};
    emit(&w, header, sizeof header);   /* filled in at the end */
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, c->pipeline.policy, n, 1, &q, &o);
    o.diagnostics = 0;
    o.probe = on_probe;
    o.probe_ctx = &w;
    if (trainer_create(&t, &c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, &e)) {
        free(order);
        free(w.buf);
        data_free(&train);
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        return 1;
    }
    trainer_epoch(t, &train, order, n, 0, &st);
    trainer_destroy(t);
    free(order);
    data_free(&train);

    memcpy(w.buf, magic, sizeof magic);
    put32(w.buf + 8, TRACE_VERSION);
    put64(w.buf + 16, c->hash);
    put32(w.buf + 24, (uint32_t)n);
    put32(w.buf + 28, (uint32_t)w.records);
    uint8_t crc[4];
    put32(crc, (uint32_t)crc32(0L, w.buf, (uInt)w.len));
    emit(&w, crc, 4);
    /* vectors.bin first: it is the large one, so a full disk or a file-size limit stops
     * the set before the small file is written (the CLI puts back what a failed set
     * replaced: outfile.h, stages). */
    if (w.failed)
        rc = (diag_set(d, dir, 0, 0, "out of memory for the trace"), 1);
    else if (file_mkdir_p(dir, d) || write_file(dir, "vectors.bin", w.buf, w.len, NULL, d) ||
             write_file(dir, "config.yaml", NULL, 0, c, d))
        rc = 2;
    free(w.buf);
    return rc;
}

/* ---- reading ---- */

/* Words a record of this kind must hold for layer l (-1: not a valid pair). A
 * backward reports the weights (no biases) its input gradient read, and only a
 * layer that propagates an error has one. */
static int64_t expected_count(const struct config *c, enum train_probe kind, int l)
{
    const struct net *n = &c->net;
    int B = c->training.batch;
    if (kind == TRAIN_PROBE_INPUT)
        return l == -1 ? (int64_t)B * net_shape_elems(&n->input) : -1;
    if (l < 0 || l >= n->n_layers)
        return -1;
    const struct net_layer *ly = &n->layers[l];
    switch (kind) {
    case TRAIN_PROBE_ACTIVATION:
    case TRAIN_PROBE_ERROR:
        return B * net_shape_elems(&ly->out_shape);
    case TRAIN_PROBE_LOSS_GRAD:
        return l == n->n_layers - 1 ? B * net_shape_elems(&ly->out_shape) : -1;
    case TRAIN_PROBE_BWD_WEIGHTS:
        return plan_propagates(n, l) ? ly->weights : -1;
    default:
        return ly->params;
    }
}

static int bad(struct diag *d, const char *file, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A diag "byte N: ..." for the file (binary files have no lines). */
static int bad(struct diag *d, const char *file, size_t at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_set(d, file, 0, 0, "byte %zu: %s", at, msg);
}

static int parse_records(struct trace *tr, const char *path, size_t len, struct diag *d)
{
    const struct config *c = &tr->config;
    const uint8_t *p = tr->data;
    size_t at = HEADER_BYTES, end = len - 4;
    for (int64_t i = 0; i < tr->n_records; i++) {
        struct trace_record *rec = &tr->records[i];
        if (end - at < RECORD_BYTES)
            return bad(d, path, at, "record %lld of %lld: the file ends inside it",
                       (long long)i, (long long)tr->n_records);
        rec->kind = (enum train_probe)p[at];
        rec->layer = (int)(int32_t)get32(p + at + 4);
        rec->minibatch = (int64_t)get64(p + at + 8);
        rec->count = get32(p + at + 16);
        if (p[at] >= TRAIN_N_PROBES)
            return bad(d, path, at, "record %lld: unknown kind %d", (long long)i, p[at]);
        int64_t want = expected_count(c, rec->kind, rec->layer);
        if (want < 0 && rec->kind == TRAIN_PROBE_BWD_WEIGHTS && rec->layer >= 0 &&
            rec->layer < c->net.n_layers)
            return bad(d, path, at, "bwd_weights record for layer %d, whose backward "
                       "propagates no error (it reads no weights)", rec->layer);
        if (want < 0)
            return bad(d, path, at, "%s record: layer %d does not fit (%d layers)",
                       trace_kind_name(rec->kind), rec->layer, c->net.n_layers);
        if (rec->count != want)
            return bad(d, path, at, "%s record: %lld words where the config gives %lld",
                       trace_kind_name(rec->kind), (long long)rec->count, (long long)want);
        int initial = rec->minibatch == -1 &&
                      (rec->kind == TRAIN_PROBE_WEIGHTS || rec->kind == TRAIN_PROBE_MASTER);
        if (!initial && (rec->minibatch < 0 || rec->minibatch >= tr->minibatches))
            return bad(d, path, at, "%s record: minibatch %lld outside 0..%lld",
                       trace_kind_name(rec->kind), (long long)rec->minibatch,
                       (long long)tr->minibatches - 1);
        at += RECORD_BYTES;
        if ((size_t)(end - at) / 4 < (size_t)rec->count)
            return bad(d, path, at, "%s record: the file ends inside its %lld words",
                       trace_kind_name(rec->kind), (long long)rec->count);
        rec->words = (const int32_t *)(p + at);   /* little-endian host: checked at load */
        at += 4 * (size_t)rec->count;
    }
    if (at != end)
        return bad(d, path, at, "%lld bytes after the last of %lld records",
                   (long long)(end - at), (long long)tr->n_records);
    return 0;
}

int trace_load(struct trace *tr, const char *dir, struct diag *d)
{
    char cpath[1024], vpath[1024];
    size_t len = 0;
    memset(tr, 0, sizeof *tr);
    snprintf(cpath, sizeof cpath, "%s/config.yaml", dir);
    snprintf(vpath, sizeof vpath, "%s/vectors.bin", dir);
    if (cfg_load(&tr->config, cpath, d))
        return -1;
    const uint16_t one = 1;
    if (*(const uint8_t *)&one != 1) {   /* records point into the file's bytes */
        trace_free(tr);
        return diag_set(d, vpath, 0, 0, "traces are read on little-endian hosts only");
    }
    char *text;
    if (file_read(vpath, TRACE_MAX_BYTES, &text, &len, d)) {
        trace_free(tr);
        return -1;
    }
    tr->data = (uint8_t *)text;
    const uint8_t *p = tr->data;
    int rc = 0;
    if (len < HEADER_BYTES + 4 || memcmp(p, magic, sizeof magic))
        rc = diag_set(d, vpath, 0, 0, "not a layerpipe vector set (no LPTRACE header)");
    else if (get32(p + 8) != TRACE_VERSION)
        rc = diag_set(d, vpath, 0, 0, "byte 8: version %u; this layerpipe reads %d",
                      get32(p + 8), TRACE_VERSION);
    else if ((uint32_t)crc32(0L, p, (uInt)(len - 4)) != get32(p + len - 4))
        rc = diag_set(d, vpath, 0, 0, "byte %zu: CRC-32 mismatch: the file is corrupt or "
                      "truncated", len - 4);
    else if (get64(p + 16) != tr->config.hash)
        rc = diag_set(d, vpath, 0, 0, "byte 16: config hash %016llx, but config.yaml hashes "
                      "to %016llx: the two files are not one set",
                      (unsigned long long)get64(p + 16), (unsigned long long)tr->config.hash);
    else if (cfg_check_rtl(&tr->config, d))
        rc = -1;
    if (rc) {
        trace_free(tr);
        return -1;
    }
    tr->minibatches = get32(p + 24);
    tr->n_records = get32(p + 28);
    /* Every record takes at least its head: refuse a count the file cannot hold before
     * allocating for it. */
    size_t room = (len - HEADER_BYTES - 4) / RECORD_BYTES;
    if ((uint64_t)tr->n_records > room) {
        diag_set(d, vpath, 0, 0, "byte 28: record count %lld, but the file's %zu bytes hold "
                 "at most %zu records of %d bytes or more", (long long)tr->n_records, len,
                 room, RECORD_BYTES);
        trace_free(tr);
        return -1;
    }
    tr->records = calloc((size_t)tr->n_records + 1, sizeof *tr->records);
    if (!tr->records) {
        trace_free(tr);
        return diag_set(d, vpath, 0, 0, "out of memory");
    }
    if (parse_records(tr, vpath, len, d)) {
        trace_free(tr);
        return -1;
    }
    return 0;
}

void trace_free(struct trace *tr)
{
    cfg_free(&tr->config);
    free(tr->records);
    free(tr->data);
    memset(tr, 0, sizeof *tr);
}
