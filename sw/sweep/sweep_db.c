#include "sweep_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/files.h"
#include "../base/outfile.h"

#define DB_FORMAT "layerpipe-sweep 1"

static const char FIX[] = "remove it (with its -wal and -shm files) to start the sweep "
                         "afresh, or give another --out";

/* The database is not one we can trust: say so and leave it as it is (no checkpoint on
 * close, which would write into it). Returns 2. */
static int damaged(struct sweep_db *db, struct diag *d, const char *why)
{
    if (db->db)
        sqlite3_db_config(db->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    db->damaged = 1;
    diag_set(d, db->path, 0, 0, "%s; %s", why, FIX);
    return db->fail = 2;
}

/* A failed SQLite call, as the user sees it: a file that cannot be written (a full disk,
 * a file-size limit) with the system's reason, or a damaged database, are status 2 (the
 * transaction is rolled back: the database stays as of its last commit); anything else
 * is 1. The status is kept in db->fail too, for callers that pass on -1. */
static int db_fail(struct sweep_db *db, struct diag *d, const char *what)
{
    int code = db->db ? sqlite3_errcode(db->db) : SQLITE_CANTOPEN;
    int e = db->db ? sqlite3_system_errno(db->db) : errno;
    const char *msg = db->db ? sqlite3_errmsg(db->db) : "cannot open";
    char why[600];
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
        snprintf(why, sizeof why, "is damaged or not a SQLite database (SQLite: %s)", msg);
        return damaged(db, d, why);
    }
    if (code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_CANTOPEN ||
        code == SQLITE_READONLY) {
        diag_set(d, db->path, 0, 0, "cannot write: %s (SQLite: %s, at %s)",
                 e ? strerror(e) : msg, msg, what);
        return db->fail = 2;
    }
    diag_set(d, db->path, 0, 0, "%s: %s", what, msg);
    return db->fail = 1;
}

static int exec(struct sweep_db *db, const char *sql, struct diag *d)
{
    return sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(db, d, sql);
}

int sweep_db_begin(struct sweep_db *db, struct diag *d)
{
    return exec(db, "BEGIN IMMEDIATE", d);
}

int sweep_db_commit(struct sweep_db *db, struct diag *d)
{
    return exec(db, "COMMIT", d);
}

static const char *sql_type(enum sweep_ctype t)
{
    return t == SWEEP_COL_INT ? "INTEGER" : t == SWEEP_COL_REAL ? "REAL" : "TEXT";
}

/* meta: one value by key, into buf ("" when absent). */
static int meta_get(struct sweep_db *db, const char *key, char *buf, size_t size, struct diag *d)
{
    sqlite3_stmt *st;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(db->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL))
        return db_fail(db, d, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, d, "reading meta");
}

/* Whether the table name (NULL: any table) is there. */
static int has_table(struct sweep_db *db, const char *name, int *yes, struct diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                           "AND (?1 IS NULL OR name = ?1)", -1, &st, NULL))
        return db_fail(db, d, "reading the schema");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(db, d, "reading the schema");
}

/* PRAGMA quick_check: the b-trees, pages and records are whole (not the indexes'
 * content, which integrity_check would also read). Returns 0, or 2 with d set. */
static int check(struct sweep_db *db, struct diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "PRAGMA quick_check(1)", -1, &st, NULL))
        return db_fail(db, d, "checking the database"), 2;
    int rc = sqlite3_step(st);
    char why[600] = "";
    if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok")) {
        snprintf(why, sizeof why, "is damaged (SQLite's quick_check: %s)",
                 (const char *)sqlite3_column_text(st, 0));
        for (char *c = why; (c = strchr(c, '\n'));)   /* one line */
            *c = ' ';
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_fail(db, d, "checking the database"), 2;
    return why[0] ? damaged(db, d, why) : 0;
}

static int connect(struct sweep_db *db, const char *dir, int create, struct diag *d)
{
    memset(db, 0, sizeof *db);
    snprintf(db->path, sizeof db->path, "%s/sweep.db", dir);
    struct stat st;
    char side[1200];
    db->existed = stat(db->path, &st) == 0 && st.st_size > 0;
    snprintf(side, sizeof side, "%s-wal", db->path);
    db->had_wal = stat(side, &st) == 0;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(db->path, &db->db, flags, NULL) != SQLITE_OK) {
        int rc = create ? db_fail(db, d, "cannot open the database")
                        : (diag_set(d, db->path, 0, 0, "no sweep database here (run "
                                    "`layerpipe sweep SWEEP.yaml --out %s` first)", dir), 2);
        sweep_db_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db->db, 10000);
    /* An existing database is checked before anything is written to it: a truncated or
     * damaged file, or another kind of file, is reported and left alone. */
    if (db->existed && check(db, d)) {
        sweep_db_close(db);
        return 2;
    }
    return 0;
}

/* Once the database is known to be a sweep's (or is new). WAL: a commit is atomic and a
 * reader never sees half of one; NORMAL syncs at checkpoints, which a killed process
 * cannot tear (only a power cut can lose the last commits, and even then the file stays
 * whole). */
static int wal(struct sweep_db *db, struct diag *d)
{
    int rc = exec(db, "PRAGMA journal_mode = WAL", d);
    return rc ? rc : exec(db, "PRAGMA synchronous = NORMAL", d);
}

/* The figures this database has columns for; prepare the statement that records one. */
static int prepare_update(struct sweep_db *db, struct diag *d)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    if (!f)
        return diag_set(d, db->path, 0, 0, "out of memory"), 1;
    fputs("UPDATE points SET status = ?1, error = ?2", f);
    db->n_out = 0;
    for (int i = 0; i < sweep_n_columns; i++)
        if ((sweep_columns[i].needs & db->needs) == sweep_columns[i].needs) {
            db->out[db->n_out++] = i;
            fprintf(f, ", %s = ?%d", sweep_columns[i].name, db->n_out + 2);
        }
    fprintf(f, " WHERE id = ?%d AND status = 'pending'", db->n_out + 3);
    fclose(f);
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &db->update, NULL);
    free(sql);
    return rc == SQLITE_OK ? 0 : db_fail(db, d, "preparing the update");
}

static int read_meta(struct sweep_db *db, struct diag *d)
{
    char fmt[64], n[32], train[8], area[8];
    if (meta_get(db, "format", fmt, sizeof fmt, d) || meta_get(db, "sweep_hash", db->hash,
                                                                sizeof db->hash, d) ||
        meta_get(db, "points", n, sizeof n, d) || meta_get(db, "train", train, sizeof train, d) ||
        meta_get(db, "area", area, sizeof area, d) ||
        meta_get(db, "model", db->model, sizeof db->model, d) ||
        meta_get(db, "sweep_file", db->sweep_file, sizeof db->sweep_file, d))
        return 1;
    if (strcmp(fmt, DB_FORMAT)) {
        char why[200];
        snprintf(why, sizeof why, "is not a layerpipe sweep database (format \"%.64s\", not "
                 "\"%s\")", fmt, DB_FORMAT);
        return damaged(db, d, why);
    }
    db->n_points = strtoll(n, NULL, 10);
    db->needs = (!strcmp(train, "yes") ? SWEEP_TRAIN : 0) | (!strcmp(area, "yes") ? SWEEP_AREA : 0);
    return prepare_update(db, d);
}

static int bind_value(sqlite3_stmt *st, int i, const struct sweep_value *v)
{
    if (v->type == SWEEP_INT)
        return sqlite3_bind_int64(st, i, v->i);
    if (v->type == SWEEP_REAL)
        return sqlite3_bind_double(st, i, v->r);
    return sqlite3_bind_text(st, i, v->text, -1, SQLITE_STATIC);
}

static int create(struct sweep_db *db, const struct sweep *s, const struct sweep_opts *o,
                  struct diag *d)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    if (!f)
        return diag_set(d, db->path, 0, 0, "out of memory"), 1;
    fputs("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
          "CREATE TABLE points (\n  id INTEGER PRIMARY KEY,\n"
          "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', "
          "'failed'))", f);
    for (int a = 0; a < s->n_axes; a++)
        fprintf(f, ",\n  \"%s\"", s->axes[a].path);   /* each value keeps its own type */
    fputs(",\n  error TEXT", f);
    for (int i = 0; i < sweep_n_columns; i++)
        if ((sweep_columns[i].needs & sweep_needs(o)) == sweep_columns[i].needs)
            fprintf(f, ",\n  %s %s", sweep_columns[i].name, sql_type(sweep_columns[i].type));
    fputs("\n);\nCREATE INDEX points_status ON points (status);\n", f);
    fclose(f);
    int rc = sweep_db_begin(db, d);
    if (!rc)
        rc = exec(db, sql, d);
    free(sql);
    sqlite3_stmt *st = NULL;
    char hash[20], n[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->hash);
    snprintf(n, sizeof n, "%lld", (long long)s->n_points);
    const char *meta[][2] = {{"format", DB_FORMAT}, {"sweep_hash", hash},
                             {"sweep_file", s->path}, {"base_config", s->base_path},
                             {"model", sim_model_name(o->model)}, {"train", o->train ? "yes" : "no"},
                             {"area", o->area ? "yes" : "no"},
                             {"points", n}};
    if (!rc && sqlite3_prepare_v2(db->db, "INSERT INTO meta VALUES (?, ?)", -1, &st, NULL))
        rc = db_fail(db, d, "creating meta");
    for (size_t i = 0; !rc && i < sizeof meta / sizeof *meta; i++) {
        sqlite3_bind_text(st, 1, meta[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, meta[i][1], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_reset(st))
            rc = db_fail(db, d, "writing meta");
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Every point, pending. */
    f = open_memstream(&sql, &len);
    if (!f)
        return diag_set(d, db->path, 0, 0, "out of memory"), 1;
    fputs("INSERT INTO points (id", f);
    for (int a = 0; a < s->n_axes; a++)
        fprintf(f, ", \"%s\"", s->axes[a].path);
    fputs(") VALUES (?", f);
    for (int a = 0; a < s->n_axes; a++)
        fputs(", ?", f);
    fputs(")", f);
    fclose(f);
    if (!rc && sqlite3_prepare_v2(db->db, sql, -1, &st, NULL))
        rc = db_fail(db, d, "creating points");
    free(sql);
    for (int64_t p = 0; !rc && p < s->n_points; p++) {
        sqlite3_bind_int64(st, 1, p);
        for (int a = 0; a < s->n_axes; a++)
            bind_value(st, a + 2, &s->axes[a].v[sweep_value_of(s, p, a)]);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_reset(st))
            rc = db_fail(db, d, "creating points");
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = sweep_db_commit(db, d);
    return rc;
}

int sweep_db_open(struct sweep_db *db, const char *dir, const struct sweep *s,
                  const struct sweep_opts *o, struct diag *d)
{
    int rc, yes;
    if (file_mkdir_p(dir, d))
        return 1;
    if ((rc = connect(db, dir, 1, d)))
        return rc;
    /* A database killed while it was being made has no tables: make it again. One with
     * tables but no meta is someone else's: leave it alone. */
    rc = has_table(db, "meta", &yes, d);
    if (!rc && !yes) {
        int any;
        rc = has_table(db, NULL, &any, d);
        if (!rc && !any)
            rc = create(db, s, o, d);
        else if (!rc)
            rc = damaged(db, d, "is a SQLite database, but not a layerpipe sweep's (no meta "
                         "table)");
    }
    if (!rc)
        rc = wal(db, d);
    if (!rc)
        rc = read_meta(db, d);
    char hash[20];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->hash);
    if (!rc && strcmp(hash, db->hash))
        rc = (diag_set(d, db->path, 0, 0, "was made from another sweep file (%s with its base "
                      "config, hash %s; this one, %s, hashes to %s); %s", db->sweep_file,
                      db->hash, s->path, hash, FIX), 2);
    else if (!rc && (strcmp(db->model, sim_model_name(o->model)) || db->needs != sweep_needs(o)))
        rc = (diag_set(d, db->path, 0, 0, "was made with --model %s%s%s; run it the same way "
                      "or give another --out", db->model,
                      db->needs & SWEEP_TRAIN ? " --train" : "",
                      db->needs & SWEEP_AREA ? " --area" : ""), 2);
    if (rc) {
        sweep_db_close(db);
        if (!db->existed) {   /* made here and not finished: no empty database stays */
            char side[1200];
            unlink(db->path);
            snprintf(side, sizeof side, "%s-wal", db->path);
            unlink(side);
            snprintf(side, sizeof side, "%s-shm", db->path);
            unlink(side);
            snprintf(side, sizeof side, "%s-journal", db->path);
            unlink(side);
        }
    }
    return rc;
}

int sweep_db_open_existing(struct sweep_db *db, const char *dir, struct diag *d)
{
    int rc, yes;
    if ((rc = connect(db, dir, 0, d)))
        return rc;
    rc = has_table(db, "meta", &yes, d);
    if (!rc && !yes)
        rc = damaged(db, d, "is a SQLite database, but not a layerpipe sweep's (no meta "
                     "table)");
    if (!rc)
        rc = read_meta(db, d);
    if (!rc)
        rc = wal(db, d);
    if (rc)
        sweep_db_close(db);
    return rc;
}

void sweep_db_close(struct sweep_db *db)
{
    sqlite3_finalize(db->update);
    sqlite3_close(db->db);
    db->update = NULL;
    db->db = NULL;
    /* A database found damaged, or one this process failed to write (a full disk, a
     * file-size limit), can be left with an empty -wal and -shm that this open made:
     * they hold nothing (no other process had the database open in WAL mode then). */
    char wal_path[1200], shm_path[1200];
    struct stat st;
    snprintf(wal_path, sizeof wal_path, "%s-wal", db->path);
    snprintf(shm_path, sizeof shm_path, "%s-shm", db->path);
    if ((db->damaged || db->fail) && !db->had_wal && stat(wal_path, &st) == 0 &&
        st.st_size == 0) {
        unlink(wal_path);
        unlink(shm_path);
    }
}

int sweep_db_pending(struct sweep_db *db, int64_t **ids, int64_t *n, struct diag *d)
{
    sqlite3_stmt *st;
    int64_t cap = 0;
    *ids = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db->db, "SELECT id FROM points WHERE status = 'pending' ORDER BY id",
                           -1, &st, NULL))
        return db_fail(db, d, "reading points");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            int64_t *nv = realloc(*ids, sizeof *nv * (size_t)cap);
            if (!nv)
                break;
            *ids = nv;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        return rc == SQLITE_ROW ? (diag_set(d, db->path, 0, 0, "out of memory"), 1)
                                : db_fail(db, d, "reading points");
    }
    return 0;
}

int sweep_db_counts(struct sweep_db *db, int64_t *ok, int64_t *failed, struct diag *d)
{
    sqlite3_stmt *st;
    *ok = *failed = 0;
    if (sqlite3_prepare_v2(db->db, "SELECT status, count(*) FROM points GROUP BY status", -1,
                           &st, NULL))
        return db_fail(db, d, "counting points");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (!strcmp(s, "ok"))
            *ok = sqlite3_column_int64(st, 1);
        else if (!strcmp(s, "failed"))
            *failed = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, d, "counting points");
}

int64_t sweep_db_retry_failed(struct sweep_db *db, struct diag *d)
{
    if (exec(db, "UPDATE points SET status = 'pending', error = NULL WHERE status = 'failed'",
             d))
        return -1;
    return sqlite3_changes(db->db);
}

/* ---- result files ---- */

static int bad(struct diag *d, const char *name, const struct ynode *n, const char *what)
{
    return diag_set(d, name, n ? n->line : 0, n ? n->col : 0, "%s", what), 2;
}

static int scalar(const struct ynode *n)
{
    return n && n->kind == YNODE_SCALAR;
}

static int is_null(const struct ynode *n)
{
    return n->plain && !strcmp(n->text, "null");
}

static int bind_output(sqlite3_stmt *st, int i, enum sweep_ctype t, const struct ynode *v)
{
    char *end;
    if (is_null(v))
        return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
    if (t == SWEEP_COL_TEXT)
        return v->plain || sqlite3_bind_text(st, i, v->text, -1, SQLITE_TRANSIENT) ? -1 : 0;
    errno = 0;
    if (t == SWEEP_COL_INT) {
        long long x = strtoll(v->text, &end, 10);
        return !v->plain || !v->text[0] || *end || errno || sqlite3_bind_int64(st, i, x) ? -1 : 0;
    }
    double x = strtod(v->text, &end);
    return !v->plain || !v->text[0] || *end || sqlite3_bind_double(st, i, x) ? -1 : 0;
}

static int store_doc(struct sweep_db *db, const struct ydoc *doc, int *failed, struct diag *d)
{
    const char *name = doc->path;
    const struct ynode *r = doc->root;
    if (!r || r->kind != YNODE_MAP)
        return bad(d, name, r, "not a sweep result (a JSON object)");
    const struct ynode *sw = ynode_get(r, "sweep"), *pt = ynode_get(r, "point"),
                       *status = ynode_get(r, "status"), *err = ynode_get(r, "error"),
                       *outs = ynode_get(r, "outputs"), *model = ynode_get(r, "model"),
                       *train = ynode_get(r, "train"), *area = ynode_get(r, "area");
    if (!scalar(sw) || !scalar(pt) || !scalar(status) || !scalar(err) || !scalar(model) ||
        !scalar(train) || !scalar(area))
        return bad(d, name, r, "a sweep result has sweep, point, model, train, area, status "
                   "and error");
    if (strcmp(sw->text, db->hash))
        return bad(d, name, sw, "a result of another sweep, not this database's");
    if (strcmp(model->text, db->model) ||
        strcmp(train->text, db->needs & SWEEP_TRAIN ? "true" : "false") ||
        strcmp(area->text, db->needs & SWEEP_AREA ? "true" : "false"))
        return bad(d, name, model, "a result of another model or training choice than this "
                   "database's");
    char *end;
    errno = 0;
    long long id = strtoll(pt->text, &end, 10);
    if (!pt->text[0] || *end || errno || id < 0 || id >= db->n_points)
        return bad(d, name, pt, "point: not a point of this sweep");
    *failed = !strcmp(status->text, "failed");
    if (!*failed && strcmp(status->text, "ok"))
        return bad(d, name, status, "status: ok or failed");
    if (*failed == is_null(err))
        return bad(d, name, err, *failed ? "a failed point needs its error"
                                         : "error: null for a point that is ok");
    if (!*failed && (!outs || outs->kind != YNODE_MAP))
        return bad(d, name, r, "outputs: the figures of a point that is ok");
    sqlite3_stmt *st = db->update;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, *failed ? "failed" : "ok", -1, SQLITE_STATIC);
    if (*failed)
        sqlite3_bind_text(st, 2, err->text, -1, SQLITE_TRANSIENT);
    for (int i = 0; outs && outs->kind == YNODE_MAP && i < outs->n; i++) {
        int k = -1;
        for (int j = 0; j < db->n_out && k < 0; j++)
            if (!strcmp(sweep_columns[db->out[j]].name, outs->keys[i]->text))
                k = j;
        if (k < 0)
            return bad(d, name, outs->keys[i], "not a figure of this sweep's database");
        if (!scalar(outs->items[i]) ||
            bind_output(st, k + 3, sweep_columns[db->out[k]].type, outs->items[i]))
            return bad(d, name, outs->items[i], "not a value of this column's type");
    }
    sqlite3_bind_int64(st, db->n_out + 3, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_fail(db, d, "recording a point"), -1;
    return sqlite3_changes(db->db) ? 0 : 1;
}

int sweep_db_store(struct sweep_db *db, const char *name, const char *text, size_t len,
                   int *failed, struct diag *d)
{
    struct ydoc doc;
    if (ydoc_load_buffer(&doc, name, text, len, d))
        return 2;
    int rc = store_doc(db, &doc, failed, d);
    ydoc_free(&doc);
    return rc;
}
