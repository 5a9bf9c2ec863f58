/* sweep.h - a design-space sweep: a base config, axes and filters (docs/sweeps.md).
 *
 * A sweep file names a base config and axes: each axis is a dotted config path
 * (network.layers.0.out) with a list or a range of values. The points are the
 * product of the axes in the order written (the last axis varies fastest), less those
 * a filter rejects, numbered from 0. sweep_load checks the file as strictly as a
 * config: every error is file:line:column, and every axis value is decoded once in
 * the base config so that a value the config cannot take (a typo in a path, a value
 * out of range) is a bad sweep file rather than a thousand failed points.
 *
 * A point is evaluated by putting its values into the base document (sweep_apply)
 * and decoding that (cfg_load_doc): errors in a value point into the sweep file.
 *
 * Ownership: struct sweep owns both documents, the values and the points
 * (sweep_load / sweep_free). On failure sweep_load frees everything.
 */
#ifndef LP_SWEEP_H
#define LP_SWEEP_H

#include <stdint.h>

#include "../base/diag.h"
#include "../config/config.h"
#include "../config/ydoc.h"
#include "../run/sim_run.h"

#define SWEEP_MAX_AXES 32
#define SWEEP_MAX_VALUES 100000        /* per axis */
#define SWEEP_MAX_PRODUCT 10000000     /* points before the filters */
#define SWEEP_FILTER_MAX_DEPTH 64      /* a filter's nesting and operators, as YAML's depth */

enum sweep_type { SWEEP_INT, SWEEP_REAL, SWEEP_TEXT };

struct sweep_value {
    struct ynode *node;     /* in the sweep file, or made from a range */
    enum sweep_type type;   /* how the database stores it */
    int64_t i;              /* SWEEP_INT */
    double r;               /* SWEEP_INT and SWEEP_REAL: the number filters compare */
    char *text;             /* every type: the value as one line of YAML */
};

struct sweep_axis {
    char *path;                 /* as written: hardware.mac_rows */
    const struct ynode *key;    /* its key in the sweep file */
    int n;
    struct sweep_value *v;
    struct ynode *parent;       /* the base document's mapping or list that takes it */
    int slot;                   /* its index there */
    struct ynode *orig;         /* what the base had there (NULL: the key was added) */
};

struct sweep_expr;

struct sweep {
    char path[512];             /* the sweep file */
    char base_path[1024];       /* the base config, as resolved */
    struct ydoc doc, base;
    int n_axes;
    struct sweep_axis *axes;
    int n_filters;
    struct sweep_expr **filters;
    int64_t minibatches;        /* per point; 0: 2M-1, the shortest run with a steady step */
    int64_t n_points;
    int64_t *combo;             /* each point's index in the whole product */
    uint64_t hash;              /* FNV-1a of the sweep file and the base config, bytes */
    struct ynode **made;        /* range values */
    int n_made;
};

/* Returns 0, or -1 with d set (file:line:column where the fault is). */
int sweep_load(struct sweep *s, const char *path, struct diag *d);
void sweep_free(struct sweep *s);

/* The index of axis a's value in combination k of the whole product (before filters). */
int sweep_combo_value(const struct sweep *s, int64_t k, int a);
/* The index of axis a's value in point p. */
int sweep_value_of(const struct sweep *s, int64_t p, int a);
/* Put point p's values into s->base (then cfg_load_doc(c, &s->base, d)). */
void sweep_apply(struct sweep *s, int64_t p);
/* Decode point p's config. Returns 0, or -1 with d set. */
int sweep_config(struct sweep *s, int64_t p, struct config *c, struct diag *d);

/* ---- filters (sweep_filter.c) ---- */

/* Parse the filter in scalar t. Returns it, or NULL with d set (file:line:column); a
 * filter nested (parentheses, not, unary -) or built of operators more than
 * SWEEP_FILTER_MAX_DEPTH deep is refused where it passes the limit. */
struct sweep_expr *sweep_filter_parse(const struct sweep *s, const struct ynode *t,
                                      struct diag *d);
/* Whether combination k passes e: 1 or 0; -1 with d set on a type error. */
int sweep_filter_keep(const struct sweep *s, const struct sweep_expr *e, int64_t k,
                      struct diag *d);
void sweep_filter_free(struct sweep_expr *e);

/* ---- a point's result (sweep_point.c) ---- */

enum sweep_ctype { SWEEP_COL_INT, SWEEP_COL_REAL, SWEEP_COL_TEXT };
enum { SWEEP_TRAIN = 1, SWEEP_AREA = 2 };

/* A figure a point gives: a column of the database and a key of its result file. */
struct sweep_column {
    const char *name;
    enum sweep_ctype type;
    int goal;           /* as a Pareto objective: -1 smaller is better, +1 larger, 0 not one */
    int needs;          /* 0, or only in sweeps with: SWEEP_TRAIN, SWEEP_AREA */
    const char *what;   /* with its unit */
};
extern const struct sweep_column sweep_columns[];
extern const int sweep_n_columns;

struct sweep_opts {
    enum sim_model model;   /* the cycle model */
    int train;              /* also train each point and record its accuracy */
    int area;               /* also synthesise each point's RTL: area and timing */
};

/* The SWEEP_TRAIN / SWEEP_AREA figures o adds. */
int sweep_needs(const struct sweep_opts *o);

/* Evaluate point p and write its result file (docs/sweeps.md) to out: status ok with
 * every figure, or failed with the error. Returns 0, or -1 when out is not writable. */
int sweep_eval(struct sweep *s, int64_t p, const struct sweep_opts *o, FILE *out);
/* A failed point's result file, with the error error. */
void sweep_write_failure(FILE *out, const struct sweep *s, int64_t p, const struct sweep_opts *o,
                         const char *error);

#endif
