/* sweep_pareto.c - the Pareto front of a sweep's database, as CSV and a plot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../base/csv.h"
#include "../base/files.h"
#include "../base/json.h"
#include "../base/outfile.h"
#include "../base/plot.h"
#include "../base/table.h"
#include "sweep_db.h"
#include "sweep_run.h"

#define MAX_OBJ 8

struct objective {
    int col;        /* in sweep_columns */
    int goal;       /* -1 minimise, +1 maximise */
};

struct row {
    int64_t id;
    double v[MAX_OBJ];   /* each objective, negated when maximised: smaller is better */
    int front;
};

static const struct { const char *alias, *col; } aliases[] = {
    {"area", "area_um2"}, {"cycles", "cycles_per_step"}, {"memory", "memory_bytes"},
    {"accuracy", "test_accuracy"}, {"latency", "latency_ns"}};

static int has(const struct sweep_db *db, int col)
{
    for (int i = 0; i < db->n_out; i++)
        if (db->out[i] == col)
            return 1;
    return 0;
}

/* "a,min:b,max:c" (aliases allowed), or the defaults when spec is NULL. */
static int parse_objectives(const struct sweep_db *db, const char *spec, struct objective *o,
                            int *n, struct diag *d)
{
    /* Without synthesis the multipliers stand in for the logic area. */
    static const char *const defaults[] = {"area_um2", "mac_units", "cycles_per_step",
                                           "memory_bytes", "test_accuracy"};
    char buf[512];
    *n = 0;
    if (!spec) {
        for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
            for (int c = 0; c < sweep_n_columns; c++)
                if (!strcmp(sweep_columns[c].name, defaults[i]) && has(db, c) &&
                    !(i == 1 && *n > 0))
                    o[(*n)++] = (struct objective){c, sweep_columns[c].goal};
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int goal = 0;
        if (!strncmp(t, "min:", 4) || !strncmp(t, "max:", 4))
            goal = t[1] == 'i' ? -1 : 1, t += 4;
        for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
            if (!strcmp(t, aliases[i].alias))
                t = (char *)aliases[i].col;
        int col = -1;
        for (int c = 0; c < sweep_n_columns && col < 0; c++)
            if (!strcmp(sweep_columns[c].name, t) && has(db, c))
                col = c;
        if (col < 0 || sweep_columns[col].type == SWEEP_COL_TEXT)
            return diag_set(d, "--objectives", 0, 0, "%s is not a figure of this sweep's "
                            "database%s", t, col < 0 && !strcmp(t, "area_um2")
                                ? " (it has no area: sweep with --area)"
                                : col < 0 && !strcmp(t, "test_accuracy")
                                    ? " (it did not train: sweep with --train)" : "");
        if (!goal && !(goal = sweep_columns[col].goal))
            return diag_set(d, "--objectives", 0, 0, "%s is no objective by itself: write "
                            "min:%s or max:%s", t, t, t);
        if (*n == MAX_OBJ)
            return diag_set(d, "--objectives", 0, 0, "at most %d objectives", MAX_OBJ);
        for (int i = 0; i < *n; i++)
            if (o[i].col == col)
                return diag_set(d, "--objectives", 0, 0, "%s is named twice", t);
        o[(*n)++] = (struct objective){col, goal};
    }
    if (*n < 2)
        return diag_set(d, "--objectives", 0, 0, "a Pareto front needs two objectives or more");
    return 0;
}

static int n_obj;

static int lexical(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    for (int k = 0; k < n_obj; k++)
        if (x->v[k] != y->v[k])
            return x->v[k] < y->v[k] ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int dominates(const struct row *a, const struct row *b, int n)
{
    int better = 0;
    for (int k = 0; k < n; k++) {
        if (a->v[k] > b->v[k])
            return 0;
        better |= a->v[k] < b->v[k];
    }
    return better;
}

/* Mark the rows no other row dominates. Sorted best-first in every objective's order, a
 * row's dominators all come before it, and it suffices to test it against the front so
 * far (dominance is transitive). Returns the front's size. */
static int64_t mark_front(struct row *r, int64_t n, int k, int64_t *front)
{
    int64_t m = 0;
    n_obj = k;
    qsort(r, (size_t)n, sizeof *r, lexical);
    for (int64_t i = 0; i < n; i++) {
        int dominated = 0;
        for (int64_t j = 0; j < m && !dominated; j++)
            dominated = dominates(&r[front[j]], &r[i], k);
        if (!dominated)
            r[i].front = 1, front[m++] = i;
    }
    return m;
}

static void csv_value(FILE *f, sqlite3_stmt *st, int i)
{
    char buf[32];
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        fputs(json_shortest(buf, sizeof buf, sqlite3_column_double(st, i)), f);
        break;
    case SQLITE_NULL:
        break;
    default: {
        csv_field(f, (const char *)sqlite3_column_text(st, i));
    }
    }
}

/* One point's row of the CSV: id, the axes, the objectives, config_hash. */
static char *select_sql(sqlite3 *db, const struct objective *o, int k, int *n_axes)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    sqlite3_stmt *st;
    if (!f)
        return NULL;
    fputs("SELECT id", f);
    *n_axes = 0;
    /* The axes are the columns between status and error. */
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('points') ORDER BY cid", -1,
                           &st, NULL) == SQLITE_OK) {
        int in = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(st, 0);
            if (!strcmp(c, "error"))
                break;
            if (in)
                fprintf(f, ", \"%s\"", c), ++*n_axes;
            in |= !strcmp(c, "status");
        }
        sqlite3_finalize(st);
    }
    for (int i = 0; i < k; i++)
        fprintf(f, ", %s", sweep_columns[o[i].col].name);
    fputs(", config_hash FROM points WHERE id = ?", f);
    fclose(f);
    return sql;
}

static int write_outputs(const char *dir, struct sweep_db *db, const struct objective *o, int k,
                         struct row *rows, int64_t n, int64_t m, FILE *out, struct diag *d)
{
    int n_axes;
    char *sql = select_sql(db->db, o, k, &n_axes), *csv = NULL, *dat = NULL;
    size_t csv_len = 0, dat_len = 0;
    sqlite3_stmt *st = NULL;
    if (!sql || sqlite3_prepare_v2(db->db, sql, -1, &st, NULL)) {
        free(sql);
        return diag_set(d, db->path, 0, 0, "reading points: %s", sqlite3_errmsg(db->db)), 1;
    }
    free(sql);
    /* rows are sorted best-first; the CSV lists the front in that order. */
    FILE *f = open_memstream(&csv, &csv_len), *g = open_memstream(&dat, &dat_len);
    int cols = sqlite3_column_count(st);
    for (int i = 0; f && i < cols; i++)
        fprintf(f, "%s%s", i ? "," : "", sqlite3_column_name(st, i));
    if (f)
        fputc('\n', f);
    int64_t *order = malloc(sizeof *order * (size_t)(m ? m : 1));
    for (int64_t i = 0, j = 0; order && i < n; i++)
        if (rows[i].front)
            order[j++] = rows[i].id;
    for (int64_t j = 0; f && order && j < m; j++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, order[j]);
        if (sqlite3_step(st) != SQLITE_ROW)
            continue;
        for (int i = 0; i < cols; i++) {
            if (i)
                fputc(',', f);
            csv_value(f, st, i);
        }
        fputc('\n', f);
    }
    sqlite3_finalize(st);
    /* The plot's data: the first two objectives of every point, front or not. */
    char buf[32];
    if (g)
        fprintf(g, "# %s %s front\n", sweep_columns[o[0].col].name, sweep_columns[o[1].col].name);
    for (int64_t i = 0; g && i < n; i++) {
        fprintf(g, "%s ", json_shortest(buf, sizeof buf, rows[i].v[0] * -o[0].goal));
        fprintf(g, "%s %d\n", json_shortest(buf, sizeof buf, rows[i].v[1] * -o[1].goal),
                rows[i].front);
    }
    int rc = !f || !g || !order || fclose(f) || fclose(g);
    f = g = NULL;
    free(order);
    char plots[1200];
    snprintf(plots, sizeof plots, "%s/plots", dir);
    if (rc)
        rc = (diag_set(d, dir, 0, 0, "out of memory"), 1);
    if (!rc && (file_mkdir_p(plots, d) || outfile_write(dir, "pareto.csv", csv, csv_len, d) ||
                outfile_write(plots, "pareto.dat", dat, dat_len, d)))
        rc = 2;   /* cannot be written: each file is whole or as it was */
    free(csv);
    free(dat);
    char body[2048];
    snprintf(body, sizeof body,
             "set title 'Pareto front: %lld of %lld points (over %d objective%s)'\n"
             "set xlabel '%s (%s)'\nset ylabel '%s (%s)'\nset key outside right top\n"
             "set grid\n"
             "plot 'pareto.dat' using ($3 == 0 ? $1 : 1/0):2 title 'dominated' pt 7 ps 0.5 "
             "lc rgb '#a6cee3', 'pareto.dat' using ($3 == 1 ? $1 : 1/0):2 title 'front' "
             "pt 7 ps 1 lc rgb '#e31a1c'\n",
             (long long)m, (long long)n, k, k == 1 ? "" : "s", sweep_columns[o[0].col].name,
             o[0].goal < 0 ? "smaller is better" : "larger is better",
             sweep_columns[o[1].col].name,
             o[1].goal < 0 ? "smaller is better" : "larger is better");
    if (!rc && plot_run(plots, "pareto", "layerpipe sweep --pareto", "", body, d))
        rc = 2;
    if (rc)
        return rc;
    fprintf(out, "pareto front of %s: %lld of %lld points over", dir, (long long)m,
            (long long)n);
    for (int i = 0; i < k; i++)
        fprintf(out, "%s %s (%s)", i ? "," : "", sweep_columns[o[i].col].name,
                o[i].goal < 0 ? "min" : "max");
    fprintf(out, "\nwrote %s/pareto.csv, %s/pareto.png, %s/pareto.svg\n", dir, dir, dir);
    return 0;
}

int sweep_pareto(const char *dir, const char *objectives, FILE *out, struct diag *d)
{
    struct sweep_db db;
    struct objective o[MAX_OBJ];
    int k, rc = sweep_db_open_existing(&db, dir, d);
    if (rc)
        return rc;
    if (parse_objectives(&db, objectives, o, &k, d)) {
        sweep_db_close(&db);
        return 2;
    }
    /* Every point that is ok, its objectives oriented so that smaller is better. */
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    if (f) {
        fputs("SELECT id", f);
        for (int i = 0; i < k; i++)
            fprintf(f, ", %s", sweep_columns[o[i].col].name);
        fputs(" FROM points WHERE status = 'ok'", f);
        for (int i = 0; i < k; i++)
            fprintf(f, " AND %s IS NOT NULL", sweep_columns[o[i].col].name);
        fclose(f);
    }
    sqlite3_stmt *st = NULL;
    struct row *rows = NULL;
    int64_t n = 0, cap = 0;
    rc = !f || sqlite3_prepare_v2(db.db, sql, -1, &st, NULL) ? 1 : 0;
    free(sql);
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            struct row *nr = realloc(rows, sizeof *nr * (size_t)cap);
            if (!nr) {
                rc = 1;
                break;
            }
            rows = nr;
        }
        rows[n].id = sqlite3_column_int64(st, 0);
        rows[n].front = 0;
        for (int i = 0; i < k; i++)
            rows[n].v[i] = -o[i].goal * sqlite3_column_double(st, i + 1);
        n++;
    }
    sqlite3_finalize(st);
    if (rc)
        diag_set(d, db.path, 0, 0, "reading points: %s", sqlite3_errmsg(db.db));
    else if (n == 0)
        rc = (diag_set(d, db.path, 0, 0, "no point is ok with every objective recorded: nothing to compare"), 2);
    int64_t *front = rc ? NULL : malloc(sizeof *front * (size_t)n);
    if (!rc && !front)
        rc = (diag_set(d, db.path, 0, 0, "out of memory"), 1);
    if (!rc)
        rc = write_outputs(dir, &db, o, k, rows, n, mark_front(rows, n, k, front), out, d);
    free(front);
    free(rows);
    sweep_db_close(&db);
    return rc;
}
