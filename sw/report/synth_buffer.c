#include "synth_buffer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/files.h"
#include "../base/outfile.h"

/* ---- a string -> int map (open addressing, keys owned by the caller's text) ---- */

struct smap {
    const char **key;
    size_t *klen;
    int *val;
    size_t cap, n;
};

static uint64_t shash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static void smap_free(struct smap *m)
{
    free(m->key);
    free(m->klen);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static int smap_grow(struct smap *m)
{
    struct smap g = {0};
    g.cap = m->cap ? m->cap * 2 : 1024;
    g.key = calloc(g.cap, sizeof *g.key);
    g.klen = calloc(g.cap, sizeof *g.klen);
    g.val = calloc(g.cap, sizeof *g.val);
    if (!g.key || !g.klen || !g.val) {
        smap_free(&g);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->key[i]) {
            size_t j = shash(m->key[i], m->klen[i]) & (g.cap - 1);
            while (g.key[j])
                j = (j + 1) & (g.cap - 1);
            g.key[j] = m->key[i];
            g.klen[j] = m->klen[i];
            g.val[j] = m->val[i];
        }
    g.n = m->n;
    smap_free(m);
    *m = g;
    return 0;
}

/* The value of key, or -1. */
static int smap_get(const struct smap *m, const char *k, size_t n)
{
    if (!m->cap)
        return -1;
    for (size_t j = shash(k, n) & (m->cap - 1); m->key[j]; j = (j + 1) & (m->cap - 1))
        if (m->klen[j] == n && !memcmp(m->key[j], k, n))
            return m->val[j];
    return -1;
}

/* Sets key (kept by pointer) to v unless present. Returns 0, or -1 out of memory. */
static int smap_put(struct smap *m, const char *k, size_t n, int v)
{
    if ((m->n + 1) * 2 > m->cap && smap_grow(m))
        return -1;
    size_t j = shash(k, n) & (m->cap - 1);
    while (m->key[j]) {
        if (m->klen[j] == n && !memcmp(m->key[j], k, n))
            return 0;
        j = (j + 1) & (m->cap - 1);
    }
    m->key[j] = k;
    m->klen[j] = n;
    m->val[j] = v;
    m->n++;
    return 0;
}

/* ---- the liberty's pins ---- */

struct nb_pin {
    char cell[64], pin[64];
    enum nb_dir dir;
};

struct nb_lib {
    struct nb_pin *pin;
    int n_pin;
    struct { char name[64]; double area; } *cell;
    int n_cell;
};

/* The next liberty token at *p: a word, a quoted string or one punctuation character.
 * Skips comments and line continuations. Returns its length (0 at the end). */
static size_t lib_token(const char **p, const char **start)
{
    const char *s = *p;
    for (;;) {
        while (*s && (isspace((unsigned char)*s) || *s == '\\'))
            s++;
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            s = e ? e + 2 : s + strlen(s);
            continue;
        }
        break;
    }
    *start = s;
    if (!*s)
        return *p = s, 0;
    if (*s == '"') {
        const char *e = strchr(s + 1, '"');
        s = e ? e + 1 : s + strlen(s);
    } else if (strchr("(){}:;,", *s))
        s++;
    else
        while (*s && !isspace((unsigned char)*s) && !strchr("(){}:;,\"", *s))
            s++;
    *p = s;
    return (size_t)(s - *start);
}

/* The liberty reader's state. Groups are `word ( name ) {`; attributes `word : value ;`.
 * depth 1 is the library, 2 a cell, 3 a pin (or a bus, whose pins are at 4). */
struct lib_parse {
    struct nb_lib *l;
    const char *p;                   /* the next token */
    char cell[64], pin[64], prev[64], arg[64];
    int depth, in_pin, pin_depth, bad;
};

/* After "(": the argument of a group or complex attribute, up to ")". */
static void lib_argument(struct lib_parse *x)
{
    const char *q = x->p, *u;
    size_t m = lib_token(&q, &u);
    x->arg[0] = '\0';
    if (m && *u != ')')
        snprintf(x->arg, sizeof x->arg, "%.*s", (int)(m < 63 ? m : 63), *u == '"' ? u + 1 : u);
    if (x->arg[0] && x->arg[strlen(x->arg) - 1] == '"')
        x->arg[strlen(x->arg) - 1] = '\0';
    while ((m = lib_token(&x->p, &u)) > 0 && *u != ')')
        ;
}

/* After "{": a cell or a pin opens. */
static void lib_group(struct lib_parse *x)
{
    struct nb_lib *l = x->l;
    x->depth++;
    if (x->depth == 2 && !strcmp(x->prev, "cell")) {
        snprintf(x->cell, sizeof x->cell, "%s", x->arg);
        void *nc = realloc(l->cell, (size_t)(l->n_cell + 1) * sizeof *l->cell);
        x->bad = !nc;
        if (nc) {
            l->cell = nc;
            snprintf(l->cell[l->n_cell].name, sizeof l->cell->name, "%s", x->cell);
            l->cell[l->n_cell++].area = -1;
        }
    } else if (x->depth >= 3 && x->cell[0] && !strcmp(x->prev, "pin") && !x->in_pin) {
        snprintf(x->pin, sizeof x->pin, "%s", x->arg);
        x->in_pin = 1;
        x->pin_depth = x->depth;
        struct nb_pin *np = realloc(l->pin, (size_t)(l->n_pin + 1) * sizeof *np);
        x->bad = !np;
        if (np) {
            l->pin = np;
            np = &l->pin[l->n_pin++];
            snprintf(np->cell, sizeof np->cell, "%s", x->cell);
            snprintf(np->pin, sizeof np->pin, "%s", x->pin);
            np->dir = NB_UNKNOWN;
        }
    }
}

/* After ":": an attribute's value; a pin's direction or clock, a cell's area. */
static void lib_attribute(struct lib_parse *x)
{
    struct nb_lib *l = x->l;
    const char *u;
    size_t m = lib_token(&x->p, &u);
    char v[64];
    snprintf(v, sizeof v, "%.*s", (int)(m < 63 ? m : 63), u);
    if (x->in_pin && !strcmp(x->prev, "direction")) {
        enum nb_dir *dp = &l->pin[l->n_pin - 1].dir;
        if (!strcmp(v, "output"))
            *dp = NB_OUT;
        else if (*dp == NB_UNKNOWN)
            *dp = NB_IN;
    } else if (x->in_pin && !strcmp(x->prev, "clock") && !strcmp(v, "true"))
        l->pin[l->n_pin - 1].dir = NB_CLOCK;
    else if (x->depth == 2 && x->cell[0] && !strcmp(x->prev, "area"))
        l->cell[l->n_cell - 1].area = atof(v);
}

int nb_lib_load(const char *path, struct nb_lib **out, struct diag *d)
{
    size_t len;
    char *text;
    if (file_read(path, FILE_NO_LIMIT, &text, &len, d))
        return -1;
    struct lib_parse x = {.l = calloc(1, sizeof *x.l), .p = text};
    if (!x.l) {
        free(text);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    const char *t;
    size_t n;
    while (!x.bad && (n = lib_token(&x.p, &t)) > 0) {
        char w[64];
        snprintf(w, sizeof w, "%.*s", (int)(n < 63 ? n : 63), t);
        if (!strcmp(w, "("))
            lib_argument(&x);
        else if (!strcmp(w, "{"))
            lib_group(&x);
        else if (!strcmp(w, "}")) {
            if (x.in_pin && x.depth == x.pin_depth)
                x.in_pin = 0;
            if (x.depth == 2)
                x.cell[0] = '\0';
            x.depth--;
        } else if (!strcmp(w, ":"))
            lib_attribute(&x);
        else
            snprintf(x.prev, sizeof x.prev, "%s", w);
    }
    free(text);
    if (x.bad) {
        nb_lib_free(x.l);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    *out = x.l;
    return 0;
}

void nb_lib_free(struct nb_lib *l)
{
    if (!l)
        return;
    free(l->pin);
    free(l->cell);
    free(l);
}

enum nb_dir nb_lib_dir(const struct nb_lib *l, const char *type, const char *pin)
{
    for (int i = 0; i < l->n_pin; i++)
        if (!strcmp(l->pin[i].cell, type) && !strcmp(l->pin[i].pin, pin))
            return l->pin[i].dir;
    return NB_UNKNOWN;
}

double nb_lib_area(const struct nb_lib *l, const char *type)
{
    for (int i = 0; i < l->n_cell; i++)
        if (!strcmp(l->cell[i].name, type))
            return l->cell[i].area;
    return -1;
}

/* ---- the netlist ---- */

/* Constant bits are negative: */
enum { BIT_0 = -2, BIT_1 = -3, BIT_X = -4, BIT_Z = -5 };

struct wire {
    const char *name;          /* as written, escaped names with their backslash */
    size_t len;
    int msb, lsb, ranged;      /* [msb:lsb], or one bit when not ranged */
    int first;                 /* its lsb's bit number */
    int port;                  /* 1 an output port, 2 an input (or inout) port, else 0 */
};

struct conn {
    const char *pin;           /* the pin name */
    size_t pin_len;
    size_t e0, e1;             /* the expression's span in the text */
    int first, n;              /* its bits, MSB first, in bits[] */
    int dir;                   /* enum nb_dir; assign's right side: NB_IN, fixed */
    int fixed;                 /* loads that stay (assign) */
    int changed;
};

struct net {
    const char *text;
    size_t len;
    struct wire *w;
    int n_w, cap_w, n_bits;
    int *bit_wire;             /* bit -> its wire */
    int cap_bw;
    struct smap wmap;
    struct conn *c;
    int n_c, cap_c;
    int *bits;                 /* expression bits, concatenated */
    int n_b, cap_b;
    size_t end_at;             /* offset of `endmodule` */
};

struct lex {
    const char *s, *end;
    int line;
};

/* One token: its start and length, 0 at the end. Escaped names run to white space. */
static size_t lex_next(struct lex *x, const char **t)
{
    const char *s = x->s;
    for (;;) {
        while (s < x->end && isspace((unsigned char)*s)) {
            if (*s == '\n')
                x->line++;
            s++;
        }
        if (s + 1 < x->end && s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            for (const char *q = s; q < (e ? e : x->end); q++)
                x->line += *q == '\n';
            s = e ? e + 2 : x->end;
            continue;
        }
        if (s + 1 < x->end && s[0] == '/' && s[1] == '/') {
            while (s < x->end && *s != '\n')
                s++;
            continue;
        }
        break;
    }
    *t = s;
    if (s >= x->end)
        return x->s = s, 0;
    if (*s == '\\')
        while (s < x->end && !isspace((unsigned char)*s))
            s++;
    else if (isalnum((unsigned char)*s) || *s == '_' || *s == '$' || *s == '\'')
        while (s < x->end && (isalnum((unsigned char)*s) || *s == '_' || *s == '$' ||
                              *s == '\''))
            s++;
    else
        s++;
    x->s = s;
    return (size_t)(s - *t);
}

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, (size_t)nc * size);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static int push_bit(struct net *nt, int b)
{
    if (grow((void **)&nt->bits, &nt->cap_b, nt->n_b + 1, sizeof *nt->bits))
        return -1;
    nt->bits[nt->n_b++] = b;
    return 0;
}

/* A declaration `input|output|inout|wire [a:b] name ;` after its keyword. */
static int parse_decl(struct net *nt, struct lex *x, int port, struct diag *d, const char *path)
{
    const char *t;
    size_t n = lex_next(x, &t);
    int msb = 0, lsb = 0, ranged = 0;
    if (n == 1 && *t == '[') {
        const char *a;
        size_t m = lex_next(x, &a);
        msb = atoi(a);
        m = lex_next(x, &a);   /* : */
        m = lex_next(x, &a);
        lsb = atoi(a);
        m = lex_next(x, &a);   /* ] */
        (void)m;
        ranged = 1;
        n = lex_next(x, &t);
    }
    if (!n)
        return diag_set(d, path, x->line, 0, "a declaration without a name");
    int w = smap_get(&nt->wmap, t, n);
    if (w < 0) {
        int width = (msb > lsb ? msb - lsb : lsb - msb) + 1;
        if (grow((void **)&nt->w, &nt->cap_w, nt->n_w + 1, sizeof *nt->w) ||
            grow((void **)&nt->bit_wire, &nt->cap_bw, nt->n_bits + width, sizeof(int)) ||
            smap_put(&nt->wmap, t, n, nt->n_w))
            return diag_set(d, path, 0, 0, "out of memory");
        nt->w[nt->n_w] = (struct wire){t, n, msb, lsb, ranged, nt->n_bits, 0};
        for (int i = 0; i < width; i++)
            nt->bit_wire[nt->n_bits + i] = nt->n_w;
        nt->n_bits += width;
        w = nt->n_w++;
    }
    if (port)
        nt->w[w].port = port;
    while ((n = lex_next(x, &t)) > 0 && !(n == 1 && *t == ';'))
        ;
    return 0;
}

/* Bit k of wire w (k in its declared index space). */
static int wire_bit(const struct wire *w, int k)
{
    if (!w->ranged)
        return w->first;
    int lo = w->msb < w->lsb ? w->msb : w->lsb, hi = w->msb < w->lsb ? w->lsb : w->msb;
    if (k < lo || k > hi)
        return -1;
    return w->first + (w->msb >= w->lsb ? k - w->lsb : w->lsb - k);
}

/* A sized constant like 32'h0000001f or 1'bx into bits, MSB first. */
static int const_bits(struct net *nt, const char *t, size_t n)
{
    const char *q = memchr(t, '\'', n);
    int width = atoi(t);
    if (!q || width < 1 || (size_t)(q - t) + 2 > n)
        return -1;
    char base = (char)tolower((unsigned char)q[1]);
    const char *v = q + 2, *ve = t + n;
    int *tmp = malloc((size_t)width * sizeof *tmp);   /* LSB first */
    if (!tmp)
        return -1;
    for (int i = 0; i < width; i++)
        tmp[i] = BIT_0;
    int bitsper = base == 'h' ? 4 : base == 'o' ? 3 : base == 'b' ? 1 : 0;
    if (bitsper) {
        int pos = 0;
        for (const char *c = ve - 1; c >= v && pos < width; c--) {
            if (*c == '_')
                continue;
            int ch = tolower((unsigned char)*c), val = 0, special = 0;
            if (ch == 'x')
                special = BIT_X;
            else if (ch == 'z' || ch == '?')
                special = BIT_Z;
            else
                val = isdigit(ch) ? ch - '0' : ch - 'a' + 10;
            for (int b = 0; b < bitsper && pos < width; b++, pos++)
                tmp[pos] = special ? special : ((val >> b) & 1) ? BIT_1 : BIT_0;
        }
    } else if (base == 'd') {
        unsigned long long val = strtoull(v, NULL, 10);
        for (int pos = 0; pos < width && pos < 64; pos++)
            tmp[pos] = ((val >> pos) & 1) ? BIT_1 : BIT_0;
    } else {
        free(tmp);
        return -1;
    }
    int rc = 0;
    for (int i = width - 1; i >= 0 && !rc; i--)
        rc = push_bit(nt, tmp[i]);
    free(tmp);
    return rc;
}

/* An expression (name, name[k], name[a:b], constant, or a concatenation of them) into
 * bits. Returns 0 or -1; *tk and *tn are the first token after it. */
static int parse_expr(struct net *nt, struct lex *x, const char **tk, size_t *tn)
{
    const char *t = *tk;
    size_t n = *tn;
    if (n == 1 && *t == '{') {
        n = lex_next(x, &t);
        while (n && !(n == 1 && *t == '}')) {
            if (parse_expr(nt, x, &t, &n))
                return -1;
            if (n == 1 && *t == ',')
                n = lex_next(x, &t);
        }
        *tn = lex_next(x, tk);
        return 0;
    }
    if (isdigit((unsigned char)*t)) {
        if (const_bits(nt, t, n))
            return -1;
        *tn = lex_next(x, tk);
        return 0;
    }
    int w = smap_get(&nt->wmap, t, n);
    if (w < 0)
        return -1;
    const struct wire *wp = &nt->w[w];
    n = lex_next(x, &t);
    if (n == 1 && *t == '[') {
        const char *a;
        lex_next(x, &a);
        int hi = atoi(a), lo = hi;
        size_t m = lex_next(x, &a);
        if (m == 1 && *a == ':') {
            lex_next(x, &a);
            lo = atoi(a);
            lex_next(x, &a);   /* ] */
        }
        int step = hi >= lo ? -1 : 1;
        for (int k = hi;; k += step) {
            int b = wire_bit(wp, k);
            if (b < 0 || push_bit(nt, b))
                return -1;
            if (k == lo)
                break;
        }
        n = lex_next(x, &t);
    } else {
        int step = wp->msb >= wp->lsb ? -1 : 1;
        for (int k = wp->msb;; k += step) {
            if (push_bit(nt, wire_bit(wp, k)))
                return -1;
            if (k == wp->lsb || !wp->ranged)
                break;
        }
    }
    *tk = t;
    *tn = n;
    return 0;
}

static int add_conn(struct net *nt, struct conn c)
{
    if (grow((void **)&nt->c, &nt->cap_c, nt->n_c + 1, sizeof *nt->c))
        return -1;
    nt->c[nt->n_c++] = c;
    return 0;
}

/* A cell instance after its type: [#(...)] name ( .pin(expr), ... ) ; */
static int parse_cell(struct net *nt, struct lex *x, const char *type, size_t type_len,
                      const struct nb_opts *o, struct diag *d, const char *path)
{
    const char *t;
    size_t n = lex_next(x, &t);
    if (n == 1 && *t == '#') {   /* parameters: skip the parenthesised list */
        int depth = 0;
        while ((n = lex_next(x, &t)) > 0) {
            depth += *t == '(' && n == 1;
            depth -= *t == ')' && n == 1;
            if (!depth)
                break;
        }
        n = lex_next(x, &t);
    }
    n = lex_next(x, &t);   /* ( after the instance name */
    if (!(n == 1 && *t == '('))
        return diag_set(d, path, x->line, 0, "a cell instance without connections");
    char tname[128];
    snprintf(tname, sizeof tname, "%.*s", (int)(type_len < 127 ? type_len : 127),
             type[0] == '\\' ? type + 1 : type);
    n = lex_next(x, &t);
    while (n && !(n == 1 && *t == ')')) {
        if (!(n == 1 && *t == '.'))
            return diag_set(d, path, x->line, 0, "a connection that is not by name");
        const char *pin;
        size_t pn = lex_next(x, &pin);
        n = lex_next(x, &t);   /* ( */
        struct conn c = {pin, pn, 0, 0, nt->n_b, 0, 0, 0, 0};
        n = lex_next(x, &t);
        c.e0 = (size_t)(t - nt->text);
        if (!(n == 1 && *t == ')') && parse_expr(nt, x, &t, &n))
            return diag_set(d, path, x->line, 0, "a connection this pass cannot read");
        c.e1 = (size_t)(t - nt->text);
        c.n = nt->n_b - c.first;
        char pname[128];
        snprintf(pname, sizeof pname, "%.*s", (int)(pn < 127 ? pn : 127), pin);
        c.dir = o->pin_dir(o->ctx, tname, pname);
        if (c.dir == NB_UNKNOWN)
            return diag_set(d, path, x->line, 0, "pin %s of %s: no direction known", pname,
                            tname);
        if (add_conn(nt, c))
            return diag_set(d, path, 0, 0, "out of memory");
        n = lex_next(x, &t);   /* , or ) */
        if (n == 1 && *t == ',')
            n = lex_next(x, &t);
    }
    while ((n = lex_next(x, &t)) > 0 && !(n == 1 && *t == ';'))
        ;
    return 0;
}

static int parse_module(struct net *nt, const struct nb_opts *o, struct diag *d,
                        const char *path)
{
    struct lex x = {nt->text, nt->text + nt->len, 1};
    const char *t;
    size_t n;
    int in_module = 0;
    while ((n = lex_next(&x, &t)) > 0) {
#define IS(w) (n == sizeof(w) - 1 && !memcmp(t, w, n))
        if (IS("module")) {
            if (in_module)
                return diag_set(d, path, x.line, 0, "more than one module");
            in_module = 1;
            while ((n = lex_next(&x, &t)) > 0 && !(n == 1 && *t == ';'))
                ;
        } else if (IS("input") || IS("output") || IS("inout")) {
            if (parse_decl(nt, &x, IS("output") ? 1 : 2, d, path))
                return -1;
        } else if (IS("wire")) {
            if (parse_decl(nt, &x, 0, d, path))
                return -1;
        } else if (IS("assign")) {
            struct conn c = {"", 0, 0, 0, nt->n_b, 0, NB_OUT, 0, 0};
            n = lex_next(&x, &t);
            if (parse_expr(nt, &x, &t, &n))
                return diag_set(d, path, x.line, 0, "an assign this pass cannot read");
            c.n = nt->n_b - c.first;
            struct conn r = {"", 0, 0, 0, nt->n_b, 0, NB_IN, 1, 0};
            n = lex_next(&x, &t);   /* after = */
            if (parse_expr(nt, &x, &t, &n))
                return diag_set(d, path, x.line, 0, "an assign this pass cannot read");
            r.n = nt->n_b - r.first;
            if (add_conn(nt, c) || add_conn(nt, r))
                return diag_set(d, path, 0, 0, "out of memory");
        } else if (IS("endmodule")) {
            nt->end_at = (size_t)(t - nt->text);
            return 0;
        } else if (IS("reg") || IS("always") || IS("initial")) {
            return diag_set(d, path, x.line, 0, "not a mapped netlist (%.*s)", (int)n, t);
        } else if (in_module && n && (isalpha((unsigned char)*t) || *t == '\\' || *t == '_' ||
                                      *t == '$')) {
            if (parse_cell(nt, &x, t, n, o, d, path))
                return -1;
        } else
            return diag_set(d, path, x.line, 0, "unexpected `%.*s`", (int)(n < 40 ? n : 40), t);
#undef IS
    }
    return diag_set(d, path, x.line, 0, "no endmodule");
}

/* New nets are numbered from NEW_NET down: bit NEW_NET - k is lp_fanout_<k>_. */
enum { NEW_NET = -1000 };

/* A bit as Verilog. */
static void print_bit(FILE *f, const struct net *nt, int b)
{
    if (b <= NEW_NET) {
        fprintf(f, "lp_fanout_%d_", NEW_NET - b);
        return;
    }
    if (b < 0) {
        fputs(b == BIT_1 ? "1'b1" : b == BIT_X ? "1'bx" : b == BIT_Z ? "1'bz" : "1'b0", f);
        return;
    }
    const struct wire *w = &nt->w[nt->bit_wire[b]];
    int k = b - w->first;
    int idx = w->msb >= w->lsb ? w->lsb + k : w->lsb - k;
    fprintf(f, "%.*s%s", (int)w->len, w->name, w->name[0] == '\\' ? " " : "");
    if (w->ranged)
        fprintf(f, "[%d]", idx);
}

static void print_expr(FILE *f, const struct net *nt, const struct conn *c)
{
    if (c->n != 1)
        fputs("{ ", f);
    for (int k = 0; k < c->n; k++) {
        if (k)
            fputs(" , ", f);
        print_bit(f, nt, nt->bits[c->first + k]);
    }
    if (c->n != 1)
        fputs(" }", f);
}

struct edit {
    size_t e0, e1;
    int c;
};

static int cmp_edit(const void *a, const void *b)
{
    const struct edit *x = a, *y = b;
    return x->e0 < y->e0 ? -1 : x->e0 > y->e0;
}

struct tree {
    int *item, cap_item;       /* this level: loads (lref index) or buffers */
    int *buf_in, cap_buf;      /* per buffer: the bit or new net that drives it */
    int n_buf;
};

/* Builds the tree of bit b, whose movable loads are lref[start..start+n) and which keeps
 * `fixed` loads of its own. Returns 0 or -1 (out of memory). */
static int build_tree(struct net *nt, struct tree *tr, const int *lref, int start, int n,
                      int fixed, int max_fanout, int b)
{
    if (grow((void **)&tr->item, &tr->cap_item, n, sizeof(int)))
        return -1;
    int n_items = 0;
    for (int j = start; j < start + n; j++)
        if (lref[2 * j] >= 0)
            tr->item[n_items++] = j;
    fixed += n - n_items;
    int level = 0;
    while (n_items + fixed > max_fanout && n_items > 1) {
        int groups = 0;
        for (int g = 0; g < n_items; g += max_fanout) {
            int id = tr->n_buf++;
            if (grow((void **)&tr->buf_in, &tr->cap_buf, tr->n_buf, sizeof(int)))
                return -1;
            tr->buf_in[id] = b;   /* until a level above takes it */
            for (int j = g; j < n_items && j < g + max_fanout; j++) {
                int it = tr->item[j];
                if (level == 0) {   /* a pin of the netlist: rewire that bit */
                    struct conn *c = &nt->c[lref[2 * it]];
                    nt->bits[c->first + lref[2 * it + 1]] = NEW_NET - id;
                    c->changed = 1;
                } else   /* a buffer of the level below */
                    tr->buf_in[it] = NEW_NET - id;
            }
            tr->item[groups++] = id;
        }
        n_items = groups;
        level++;
    }
    return 0;
}

/* out_path: the module of nt again, with its changed connections rewritten and the
 * buffer trees of tr before endmodule (or unchanged when tr has none). Returns 0, or -1
 * with d set. */
static int write_buffered(const struct net *nt, const struct tree *tr, const struct nb_opts *o,
                          const char *out_path, struct diag *d)
{
    /* The module again: changed connections rewritten, the trees before endmodule. */
    struct edit *ed = NULL;
    int n_ed = 0, rc = 0;
    for (int i = 0; !rc && i < nt->n_c; i++)
        if (nt->c[i].changed) {
            struct edit *ne = realloc(ed, (size_t)(n_ed + 1) * sizeof *ed);
            if (!ne) {
                rc = diag_set(d, out_path, 0, 0, "out of memory");
                break;
            }
            ed = ne;
            ed[n_ed++] = (struct edit){nt->c[i].e0, nt->c[i].e1, i};
        }
    if (!rc && tr->n_buf) {
        qsort(ed, (size_t)n_ed, sizeof *ed, cmp_edit);
        struct outfile of;
        rc = outfile_open(&of, out_path, d);
        size_t at = 0;
        for (int i = 0; !rc && i < n_ed; i++) {
            fwrite(nt->text + at, 1, ed[i].e0 - at, of.f);
            print_expr(of.f, nt, &nt->c[ed[i].c]);
            at = ed[i].e1;
        }
        if (!rc) {
            fwrite(nt->text + at, 1, nt->end_at - at, of.f);
            fprintf(of.f, "  // fanout trees (layerpipe report): at most %d loads a net\n",
                    o->max_fanout);
            for (int k = 0; k < tr->n_buf; k++)
                fprintf(of.f, "  wire lp_fanout_%d_;\n", k);
            for (int k = 0; k < tr->n_buf; k++) {
                fprintf(of.f, "  %s lp_fanout_buf_%d_ (.%s(", o->buf_cell, k, o->buf_in);
                print_bit(of.f, nt, tr->buf_in[k]);
                fprintf(of.f, "), .%s(lp_fanout_%d_));\n", o->buf_out, k);
            }
            fwrite(nt->text + nt->end_at, 1, nt->len - nt->end_at, of.f);
            rc = outfile_commit(&of, d);
        }
        
    } else if (!rc) {   /* nothing to buffer: the same text */
        struct outfile of;
        rc = outfile_open(&of, out_path, d);
        if (!rc) {
            fwrite(nt->text, 1, nt->len, of.f);
            rc = outfile_commit(&of, d);
        }
    }
    free(ed);
    return rc;
}

int nb_buffer(const char *in_path, const char *out_path, const struct nb_opts *o,
              int64_t *n_buf, struct diag *d)
{
    struct net nt = {0};
    struct tree tr = {0};
    int *n_load = NULL, *start = NULL, *lref = NULL, *is_clock = NULL;
    int total = 0;
    *n_buf = 0;
    char *text;
    if (file_read(in_path, FILE_NO_LIMIT, &text, &nt.len, d))
        return -1;
    nt.text = text;
    int rc = parse_module(&nt, o, d, in_path);
    for (int i = 0; !rc && i < nt.n_w; i++)
        if (nt.w[i].len > 10 && !memcmp(nt.w[i].name, "lp_fanout_", 10))
            rc = diag_set(d, in_path, 0, 0, "already buffered (a wire named %.*s)",
                          (int)nt.w[i].len, nt.w[i].name);
    if (!rc) {
        n_load = calloc((size_t)nt.n_bits + 1, sizeof *n_load);
        start = calloc((size_t)nt.n_bits + 2, sizeof *start);
        is_clock = calloc((size_t)nt.n_bits + 1, sizeof *is_clock);
        if (!n_load || !start || !is_clock)
            rc = diag_set(d, in_path, 0, 0, "out of memory");
    }
    /* Loads per bit: pins that read it; an assign's right side is a load that stays. */
    for (int i = 0; !rc && i < nt.n_c; i++) {
        const struct conn *c = &nt.c[i];
        for (int k = 0; c->dir != NB_OUT && k < c->n; k++) {
            int b = nt.bits[c->first + k];
            if (b < 0)
                continue;
            n_load[b]++;
            total++;
            is_clock[b] |= c->dir == NB_CLOCK;
        }
    }
    if (!rc && !(lref = malloc(((size_t)total + 1) * 2 * sizeof *lref)))
        rc = diag_set(d, in_path, 0, 0, "out of memory");
    if (!rc) {   /* each bit's loads as (connection or -1 if fixed, position) pairs */
        for (int b = 0; b < nt.n_bits; b++)
            start[b + 1] = start[b] + n_load[b];
        memset(n_load, 0, (size_t)nt.n_bits * sizeof *n_load);
        for (int i = 0; i < nt.n_c; i++) {
            const struct conn *c = &nt.c[i];
            for (int k = 0; c->dir != NB_OUT && k < c->n; k++) {
                int b = nt.bits[c->first + k];
                if (b < 0)
                    continue;
                int at = start[b] + n_load[b]++;
                lref[2 * at] = c->fixed ? -1 : i;
                lref[2 * at + 1] = k;
            }
        }
    }
    int clk = !rc && o->clock_port ? smap_get(&nt.wmap, o->clock_port, strlen(o->clock_port))
                                   : -1;
    for (int b = 0; !rc && b < nt.n_bits; b++) {
        int port = nt.w[nt.bit_wire[b]].port == 1;
        if (n_load[b] + port <= o->max_fanout || is_clock[b] || nt.bit_wire[b] == clk)
            continue;
        if (build_tree(&nt, &tr, lref, start[b], n_load[b], port, o->max_fanout, b))
            rc = diag_set(d, in_path, 0, 0, "out of memory");
    }
    if (!rc && write_buffered(&nt, &tr, o, out_path, d))
        rc = -1;
    if (!rc)
        *n_buf = tr.n_buf;
    free(tr.item);
    free(tr.buf_in);
    free(lref);
    free(n_load);
    free(start);
    free(is_clock);
    smap_free(&nt.wmap);
    free(nt.w);
    free(nt.bit_wire);
    free(nt.c);
    free(nt.bits);
    free((void *)nt.text);
    return rc ? -1 : 0;
}
