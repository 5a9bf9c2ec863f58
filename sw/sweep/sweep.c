#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../base/files.h"
#include "../base/hash.h"
#include "../base/uniq.h"

/* ---- the sweep file ---- */

static int node_fail(const struct sweep *s, const struct ynode *n, struct diag *d,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int node_fail(const struct sweep *s, const struct ynode *n, struct diag *d,
                     const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_set(d, n && n->file ? n->file : s->path, n ? n->line : 0, n ? n->col : 0, "%s",
                    msg);
}

/* Read path and parse it into doc, adding its bytes to s->hash. */
static int load_doc(struct sweep *s, struct ydoc *doc, const char *path, struct diag *d)
{
    char *text;
    size_t len;
    if (file_read(path, YDOC_MAX_BYTES, &text, &len, d))
        return -1;
    s->hash = hash_bytes(s->hash, text, len);
    int rc = ydoc_load_buffer(doc, path, text, len, d);
    free(text);
    return rc;
}

/* A value's type and its one-line text. */
static int value_init(struct sweep_value *v, struct ynode *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    ynode_write_flow(n, f);
    if (fclose(f))
        return -1;
    v->node = n;
    v->text = buf;
    v->type = SWEEP_TEXT;
    if (n->kind != YNODE_SCALAR || !n->plain || !n->text[0])
        return 0;
    char *end;
    errno = 0;
    long long i = strtoll(n->text, &end, 10);
    if (!*end && !errno) {
        v->type = SWEEP_INT, v->i = i, v->r = (double)i;
        return 0;
    }
    double r = strtod(n->text, &end);
    if (!*end && isfinite(r) && (isdigit((unsigned char)n->text[0]) || strchr("+-.", n->text[0])))
        v->type = SWEEP_REAL, v->r = r;
    return 0;
}

/* The digits after the point in a plain number ("0.05": 2), or -1 with an exponent. */
static int decimals(const char *t)
{
    const char *dot = strchr(t, '.');
    if (strpbrk(t, "eE"))
        return -1;
    return dot ? (int)strlen(dot + 1) : 0;
}

static int get_number(const struct sweep *s, const struct ynode *n, const char *what,
                      double *out, struct diag *d)
{
    char *end;
    if (n->kind != YNODE_SCALAR || !n->plain)
        return node_fail(s, n, d, "%s: expected a number", what);
    errno = 0;
    *out = strtod(n->text, &end);
    if (!n->text[0] || *end || errno || !isfinite(*out))
        return node_fail(s, n, d, "%s: expected a number, got \"%s\"", what, n->text);
    return 0;
}

/* A range {from, to, step} (arithmetic) or {from, to, times} (geometric), both ends
 * included, as scalar nodes placed at the range. */
static int range_values(struct sweep *s, struct sweep_axis *ax, const struct ynode *m,
                        struct diag *d)
{
    const struct ynode *from = NULL, *to = NULL, *step = NULL, *times = NULL;
    for (int i = 0; i < m->n; i++) {
        const char *k = m->keys[i]->text;
        const struct ynode **slot = !strcmp(k, "from") ? &from : !strcmp(k, "to") ? &to
                                    : !strcmp(k, "step") ? &step : !strcmp(k, "times") ? &times
                                    : NULL;
        if (!slot)
            return node_fail(s, m->keys[i], d, "%s: unknown key \"%s\" in a range (from, to, "
                             "and step or times)", ax->path, k);
        *slot = m->items[i];
    }
    if (!from || !to || !step == !times)
        return node_fail(s, m, d, "%s: a range needs from, to, and either step or times",
                         ax->path);
    double a, b, by;
    if (get_number(s, from, "from", &a, d) || get_number(s, to, "to", &b, d) ||
        get_number(s, step ? step : times, step ? "step" : "times", &by, d))
        return -1;
    if (step && (by <= 0 || b < a))
        return node_fail(s, step, d, "%s: a range goes up from 'from' to 'to' by a step > 0",
                         ax->path);
    if (times && (by <= 1 || a <= 0 || b < a))
        return node_fail(s, times, d, "%s: a geometric range needs 0 < from <= to and times > 1",
                         ax->path);
    /* As many decimals as from and step have, so 0.9 + 3 x 0.01 reads 0.93. */
    int dec = decimals(from->text), ds = step ? decimals(step->text) : 0;
    dec = dec < 0 || ds < 0 ? -1 : dec > ds ? dec : ds;
    double count = step ? floor((b - a) / by + 1e-9) + 1 : floor(log(b / a) / log(by) + 1e-9) + 1;
    if (count > SWEEP_MAX_VALUES)
        return node_fail(s, m, d, "%s: the range has %.0f values; at most %d", ax->path, count,
                         SWEEP_MAX_VALUES);
    ax->n = (int)count;
    ax->v = calloc((size_t)ax->n, sizeof *ax->v);
    struct ynode **made = realloc(s->made, sizeof *made * (size_t)(s->n_made + ax->n));
    if (!ax->v || !made)
        return node_fail(s, NULL, d, "out of memory");
    s->made = made;
    for (int i = 0; i < ax->n; i++) {
        double v = step ? a + by * i : a * pow(by, i);
        char text[64];
        if (dec >= 0)
            snprintf(text, sizeof text, "%.*f", dec, v);
        else
            snprintf(text, sizeof text, "%.17g", v);
        struct ynode *n = ynode_new(YNODE_SCALAR, text, m);
        if (!n || (s->made[s->n_made++] = n, value_init(&ax->v[i], n)))
            return node_fail(s, NULL, d, "out of memory");
    }
    return 0;
}

static int axis_values(struct sweep *s, struct sweep_axis *ax, struct ynode *n, struct diag *d)
{
    if (n->kind == YNODE_MAP)
        return range_values(s, ax, n, d);
    if (n->kind != YNODE_SEQ || n->n == 0)
        return node_fail(s, n, d, "%s: expected a list of values or a range {from, to, step}",
                         ax->path);
    if (n->n > SWEEP_MAX_VALUES)
        return node_fail(s, n, d, "%s: %d values; at most %d", ax->path, n->n, SWEEP_MAX_VALUES);
    ax->n = n->n;
    if (!(ax->v = calloc((size_t)ax->n, sizeof *ax->v)))
        return node_fail(s, NULL, d, "out of memory");
    const char **text = malloc(sizeof *text * (size_t)ax->n);
    for (int i = 0; text && i < ax->n; i++) {
        if (value_init(&ax->v[i], n->items[i]))
            break;
        text[i] = ax->v[i].text;
    }
    int j = 0, i = text && ax->v[ax->n - 1].text ? uniq_first_repeat(text, ax->n, &j) : -2;
    free(text);
    if (i == -2)
        return node_fail(s, NULL, d, "out of memory");
    if (i >= 0)
        return node_fail(s, n->items[i], d, "%s: the value %s is listed twice (first at line "
                         "%d, column %d)", ax->path, ax->v[i].text, ax->v[j].node->line,
                         ax->v[j].node->col);
    return 0;
}

/* Find, or add, the place in the base document that axis ax sets. */
static int axis_slot(struct sweep *s, struct sweep_axis *ax, struct diag *d)
{
    const char *p = ax->path;
    struct ynode *cur = s->base.root;
    char seg[128], done[512] = "";
    if (!cur || cur->kind != YNODE_MAP)
        return node_fail(s, ax->key, d, "%s: the base config is not a mapping", ax->path);
    for (;;) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof seg)
            return node_fail(s, ax->key, d, "%s: not a config path (keys and list indices "
                             "joined by '.': network.layers.0.out)", ax->path);
        memcpy(seg, p, n);
        seg[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)seg[i]) && seg[i] != '_')
                return node_fail(s, ax->key, d, "%s: \"%s\" is not a config key or list index",
                                 ax->path, seg);
        int last = p[n] == '\0', idx = -1;
        if (cur->kind == YNODE_SEQ) {
            char *end;
            long v = strtol(seg, &end, 10);
            if (*end || !isdigit((unsigned char)seg[0]))
                return node_fail(s, ax->key, d, "%s: %s is a list in the base config; \"%s\" "
                                 "is not an index", ax->path, done, seg);
            if (v >= cur->n)
                return node_fail(s, ax->key, d, "%s: %s has %d item%s in the base config; "
                                 "index %ld is past its end", ax->path, done, cur->n,
                                 cur->n == 1 ? "" : "s", v);
            idx = (int)v;
        } else if (cur->kind == YNODE_MAP) {
            for (int i = 0; i < cur->n && idx < 0; i++)
                if (!strcmp(cur->keys[i]->text, seg))
                    idx = i;
            if (idx < 0) {   /* a key the base leaves to its default */
                struct ynode *k = ynode_new(YNODE_SCALAR, seg, ax->key);
                struct ynode *v = last ? NULL : ynode_new(YNODE_MAP, NULL, ax->key);
                if (!k || (!last && !v) || ynode_map_add(cur, k, v)) {
                    ynode_free(k);
                    ynode_free(v);
                    return node_fail(s, NULL, d, "out of memory");
                }
                idx = cur->n - 1;
            }
        } else {
            return node_fail(s, ax->key, d, "%s: %s is a single value in the base config, "
                             "with no \"%s\" inside", ax->path, done, seg);
        }
        snprintf(done + strlen(done), sizeof done - strlen(done), "%s%s", done[0] ? "." : "",
                 seg);
        if (last) {
            ax->parent = cur;
            ax->slot = idx;
            ax->orig = cur->items[idx];
            return 0;
        }
        cur = cur->items[idx];
        p += n + 1;
    }
}

static int load_axes(struct sweep *s, struct ynode *axes, struct diag *d)
{
    if (axes->kind != YNODE_MAP || axes->n == 0)
        return node_fail(s, axes, d, "axes: expected a mapping from config paths to values");
    if (axes->n > SWEEP_MAX_AXES)
        return node_fail(s, axes, d, "axes: %d axes; at most %d", axes->n, SWEEP_MAX_AXES);
    if (!(s->axes = calloc((size_t)axes->n, sizeof *s->axes)))
        return node_fail(s, NULL, d, "out of memory");
    double product = 1;
    for (int a = 0; a < axes->n; a++) {
        struct sweep_axis *ax = &s->axes[a];
        s->n_axes = a + 1;
        ax->key = axes->keys[a];
        if (!(ax->path = strdup(ax->key->text)))
            return node_fail(s, NULL, d, "out of memory");
        for (int b = 0; b < a; b++) {
            const char *p = s->axes[b].path, *q = ax->path;
            size_t n = strlen(p), m = strlen(q);
            if ((n < m && !strncmp(p, q, n) && q[n] == '.') ||
                (m < n && !strncmp(p, q, m) && p[m] == '.'))
                return node_fail(s, ax->key, d, "%s and %s, another axis, set the same place",
                                 q, p);
        }
        if (axis_values(s, ax, axes->items[a], d) || axis_slot(s, ax, d))
            return -1;
        product *= ax->n;
    }
    if (product > SWEEP_MAX_PRODUCT)
        return node_fail(s, axes, d, "axes: %.0f combinations; at most %d before filters",
                         product, SWEEP_MAX_PRODUCT);
    return 0;
}

static int load_filters(struct sweep *s, const struct ynode *f, struct diag *d)
{
    const struct ynode *const *items = &f;
    int n = 1;
    if (f->kind == YNODE_SEQ)
        items = (const struct ynode *const *)f->items, n = f->n;
    if (!(s->filters = calloc((size_t)n + 1, sizeof *s->filters)))
        return node_fail(s, NULL, d, "out of memory");
    for (int i = 0; i < n; i++) {
        const struct ynode *t = items[i];
        if (t->kind != YNODE_SCALAR)
            return node_fail(s, t, d, "filters: expected an expression such as "
                             "\"hardware.mac_rows <= hardware.mac_cols\"");
        if (!(s->filters[s->n_filters] = sweep_filter_parse(s, t, d)))
            return -1;
        s->n_filters++;
    }
    return 0;
}

/* The points: every combination the filters keep. */
static int enumerate(struct sweep *s, const struct ynode *where, struct diag *d)
{
    int64_t total = 1, cap = 0;
    for (int a = 0; a < s->n_axes; a++)
        total *= s->axes[a].n;
    for (int64_t k = 0; k < total; k++) {
        int keep = 1;
        for (int i = 0; i < s->n_filters && keep > 0; i++)
            keep = sweep_filter_keep(s, s->filters[i], k, d);
        if (keep < 0)
            return -1;
        if (!keep)
            continue;
        if (s->n_points == cap) {
            cap = cap ? 2 * cap : 1024;
            int64_t *nc = realloc(s->combo, sizeof *nc * (size_t)cap);
            if (!nc)
                return node_fail(s, NULL, d, "out of memory");
            s->combo = nc;
        }
        s->combo[s->n_points++] = k;
    }
    if (s->n_points == 0)
        return node_fail(s, where, d, "the filters leave no point of the %lld combinations",
                         (long long)total);
    return 0;
}

int sweep_combo_value(const struct sweep *s, int64_t k, int a)
{
    for (int i = s->n_axes - 1; i > a; i--)
        k /= s->axes[i].n;
    return (int)(k % s->axes[a].n);
}

int sweep_value_of(const struct sweep *s, int64_t p, int a)
{
    return sweep_combo_value(s, s->combo[p], a);
}

void sweep_apply(struct sweep *s, int64_t p)
{
    for (int a = 0; a < s->n_axes; a++) {
        struct sweep_axis *ax = &s->axes[a];
        ax->parent->items[ax->slot] = ax->v[sweep_value_of(s, p, a)].node;
    }
}

int sweep_config(struct sweep *s, int64_t p, struct config *c, struct diag *d)
{
    sweep_apply(s, p);
    return cfg_load_doc(c, &s->base, d);
}

static int inside(const struct ynode *n, const struct diag *d)
{
    if (n->file && !strcmp(n->file, d->file) && n->line == d->line && n->col == d->col)
        return 1;
    for (int i = 0; i < n->n; i++)
        if (inside(n->items[i], d) || (n->keys && inside(n->keys[i], d)))
            return 1;
    return 0;
}

/* Decode every value once, in the first point that has it: an error at the value (or
 * at its axis' path) is the sweep file's; others depend on the combination and are
 * that point's failure. */
static int check_values(struct sweep *s, struct diag *d)
{
    /* first[off[a] + j]: the first point with axis a's value j (-1: none), found in one
     * pass over the points rather than one per value. */
    int64_t *off = calloc((size_t)s->n_axes + 1, sizeof *off), *first = NULL;
    for (int a = 0; off && a < s->n_axes; a++)
        off[a + 1] = off[a] + s->axes[a].n;
    if (!off || !(first = malloc(sizeof *first * (size_t)off[s->n_axes]))) {
        free(off);
        return node_fail(s, NULL, d, "out of memory");
    }
    for (int64_t i = 0; i < off[s->n_axes]; i++)
        first[i] = -1;
    for (int64_t p = s->n_points - 1; p >= 0; p--)
        for (int a = 0; a < s->n_axes; a++)
            first[off[a] + sweep_value_of(s, p, a)] = p;
    int rc = 0;
    for (int a = 0; a < s->n_axes && !rc; a++) {
        struct sweep_axis *ax = &s->axes[a];
        for (int j = 0; j < ax->n && !rc; j++) {
            int64_t p = first[off[a] + j];
            if (p < 0)
                continue;   /* filtered out everywhere */
            struct config c;
            struct diag e;
            if (sweep_config(s, p, &c, &e) == 0) {
                cfg_free(&c);
                continue;
            }
            int ours = (ax->key->line == e.line && ax->key->col == e.col &&
                        !strcmp(s->path, e.file)) || inside(ax->v[j].node, &e);
            if (ours) {
                *d = e;
                rc = -1;
            }
        }
    }
    free(first);
    free(off);
    return rc;
}

int sweep_load(struct sweep *s, const char *path, struct diag *d)
{
    static const char *const keys[] = {"base", "axes", "filters", "minibatches", NULL};
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->hash = 0xcbf29ce484222325ull;
    if (load_doc(s, &s->doc, path, d))
        return -1;
    const struct ynode *root = s->doc.root;
    static const struct ynode start = {.line = 1, .col = 1};
    int rc = -1;
    if (!root || root->kind != YNODE_MAP) {
        node_fail(s, root ? root : &start, d, "a sweep file is a mapping with base: CONFIG "
                  "and axes:");
        goto out;
    }
    for (int i = 0; i < root->n; i++) {
        int ok = 0;
        for (int k = 0; keys[k]; k++)
            ok |= !strcmp(root->keys[i]->text, keys[k]);
        if (!ok) {
            node_fail(s, root->keys[i], d, "unknown key \"%s\" (a sweep file has base, axes, "
                      "filters and minibatches)", root->keys[i]->text);
            goto out;
        }
    }
    const struct ynode *base = ynode_get(root, "base"), *axes = ynode_get(root, "axes");
    const struct ynode *filters = ynode_get(root, "filters"), *mb = ynode_get(root, "minibatches");
    if (!base || !axes) {
        node_fail(s, root, d, "a sweep file needs base: (a config file) and axes:");
        goto out;
    }
    if (base->kind != YNODE_SCALAR || !base->text[0]) {
        node_fail(s, base, d, "base: expected the path of a config file");
        goto out;
    }
    /* Relative to the sweep file, as an include would be. */
    const char *slash = strrchr(path, '/');
    if (base->text[0] == '/' || !slash)
        snprintf(s->base_path, sizeof s->base_path, "%s", base->text);
    else
        snprintf(s->base_path, sizeof s->base_path, "%.*s/%s", (int)(slash - path), path,
                 base->text);
    if (mb) {
        char *end;
        errno = 0;
        long long v = mb->kind == YNODE_SCALAR ? strtoll(mb->text, &end, 10) : 0;
        if (mb->kind != YNODE_SCALAR || !mb->plain || *end || errno || v < 1 || v > 1000000) {
            node_fail(s, mb, d, "minibatches: expected a count from 1 to 1000000");
            goto out;
        }
        s->minibatches = v;
    }
    if (load_doc(s, &s->base, s->base_path, d)) {
        if (d->line == 0)   /* no position in the base: the fault is the path */
            node_fail(s, base, d, "base: %s: %s", s->base_path, d->msg);
        goto out;
    }
    struct config c;
    if (cfg_load_doc(&c, &s->base, d))
        goto out;
    cfg_free(&c);
    rc = load_axes(s, (struct ynode *)axes, d) ||
         (filters && load_filters(s, filters, d)) || enumerate(s, filters ? filters : axes, d) ||
         check_values(s, d);
out:
    if (rc)
        sweep_free(s);
    return rc ? -1 : 0;
}

void sweep_free(struct sweep *s)
{
    for (int a = 0; a < s->n_axes; a++) {
        struct sweep_axis *ax = &s->axes[a];
        if (ax->parent)   /* give the base document its own node back */
            ax->parent->items[ax->slot] = ax->orig;
        for (int j = 0; ax->v && j < ax->n; j++)
            free(ax->v[j].text);
        free(ax->v);
        free(ax->path);
    }
    free(s->axes);
    for (int i = 0; i < s->n_filters; i++)
        sweep_filter_free(s->filters[i]);
    free(s->filters);
    for (int i = 0; i < s->n_made; i++)
        ynode_free(s->made[i]);
    free(s->made);
    free(s->combo);
    ydoc_free(&s->base);
    ydoc_free(&s->doc);
    memset(s, 0, sizeof *s);
}
