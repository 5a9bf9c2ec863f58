/* sweep_filter.c - a sweep's filters: a small expression language over its axes
 * (docs/sweeps.md, "The sweep file"). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

enum ex_kind { EX_NUM, EX_STR, EX_AXIS, EX_NEG, EX_NOT, EX_BIN };
enum ex_op { OP_OR, OP_AND, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL,
             OP_DIV, OP_MOD };
static const char *const op_text[] = {"or", "and", "==", "!=", "<", "<=", ">", ">=", "+",
                                      "-", "*", "/", "%"};

struct sweep_expr {
    enum ex_kind kind;
    enum ex_op op;
    double num;
    char *str;
    int axis;
    int line, col;                 /* in the sweep file */
    int height;                    /* operators on its deepest path (0: a leaf): recursion */
    struct sweep_expr *a, *b;
};

struct lexer {
    const struct sweep *s;
    const struct ynode *node;      /* the filter's scalar */
    const char *text, *p;
    struct diag *d;
    int depth;                     /* open parentheses and prefix operators: recursion */
};

static int lex_fail(struct lexer *x, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Columns inside a one-line filter; a quoted scalar starts one column later. */
static int lex_col(const struct lexer *x, const char *at)
{
    return x->node->col + (x->node->plain ? 0 : 1) + (int)(at - x->text);
}

static int lex_fail(struct lexer *x, const char *at, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_set(x->d, x->s->path, x->node->line, lex_col(x, at), "filter: %s", msg);
}

void sweep_filter_free(struct sweep_expr *e)
{
    if (!e)
        return;
    sweep_filter_free(e->a);
    sweep_filter_free(e->b);
    free(e->str);
    free(e);
}

static struct sweep_expr *expr_new(struct lexer *x, enum ex_kind k, const char *at)
{
    struct sweep_expr *e = calloc(1, sizeof *e);
    if (!e) {
        diag_set(x->d, x->s->path, 0, 0, "out of memory");
        return NULL;
    }
    e->kind = k;
    e->height = 0;
    e->line = x->node->line;
    e->col = lex_col(x, at);
    return e;
}

static void skip_space(struct lexer *x)
{
    while (isspace((unsigned char)*x->p))
        x->p++;
}

/* The keyword or operator kw at the cursor (a keyword must end there). */
static int accept(struct lexer *x, const char *kw)
{
    skip_space(x);
    size_t n = strlen(kw);
    if (strncmp(x->p, kw, n))
        return 0;
    if (isalpha((unsigned char)kw[0]) && (isalnum((unsigned char)x->p[n]) || x->p[n] == '_'))
        return 0;
    x->p += n;
    return 1;
}

static struct sweep_expr *parse_or(struct lexer *x);

/* One more level of recursion for a '(' or a prefix operator at at; refused past
 * SWEEP_FILTER_MAX_DEPTH, where it is. */
static int nest(struct lexer *x, const char *at)
{
    if (x->depth == SWEEP_FILTER_MAX_DEPTH)
        return lex_fail(x, at, "nested more than %d levels deep (parentheses, not, unary -)",
                        SWEEP_FILTER_MAX_DEPTH);
    x->depth++;
    return 0;
}

/* e's height from its operands'; eval and free recurse on it, so a chain such as
 * 1 + 1 + ... (which the parser reads in a loop) is bounded too. */
static int set_height(struct lexer *x, struct sweep_expr *e, const char *at)
{
    int ha = e->a ? e->a->height : 0, hb = e->b ? e->b->height : 0;
    e->height = 1 + (ha > hb ? ha : hb);
    if (e->height > SWEEP_FILTER_MAX_DEPTH)
        return lex_fail(x, at, "more than %d operators deep; split it into a list of filters",
                        SWEEP_FILTER_MAX_DEPTH);
    return 0;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static struct sweep_expr *parse_atom(struct lexer *x)
{
    skip_space(x);
    const char *at = x->p;
    struct sweep_expr *e;
    if (*at == '(') {
        if (nest(x, at))
            return NULL;
        x->p++;
        e = parse_or(x);
        x->depth--;
        if (!e)
            return NULL;
        if (!accept(x, ")")) {
            sweep_filter_free(e);
            lex_fail(x, x->p, "expected ')'");
            return NULL;
        }
        return e;
    }
    if (*at == '\'' || *at == '"') {
        const char *end = strchr(at + 1, *at);
        if (!end) {
            lex_fail(x, at, "text starting here has no closing %c", *at);
            return NULL;
        }
        if (!(e = expr_new(x, EX_STR, at)) || !(e->str = strndup(at + 1, (size_t)(end - at - 1)))) {
            sweep_filter_free(e);
            diag_set(x->d, x->s->path, 0, 0, "out of memory");
            return NULL;
        }
        x->p = end + 1;
        return e;
    }
    if (isdigit((unsigned char)*at) || (*at == '.' && isdigit((unsigned char)at[1]))) {
        char *end;
        errno = 0;
        double v = strtod(at, &end);
        if (errno || !isfinite(v) || is_name_char(*end)) {
            lex_fail(x, at, "not a number");
            return NULL;
        }
        if (!(e = expr_new(x, EX_NUM, at)))
            return NULL;
        e->num = v;
        x->p = end;
        return e;
    }
    if (isalpha((unsigned char)*at) || *at == '_') {
        const char *end = at;
        while (is_name_char(*end))
            end++;
        for (int a = 0; a < x->s->n_axes; a++) {
            const char *path = x->s->axes[a].path;
            if (strlen(path) == (size_t)(end - at) && !strncmp(path, at, (size_t)(end - at))) {
                if (!(e = expr_new(x, EX_AXIS, at)))
                    return NULL;
                e->axis = a;
                x->p = end;
                return e;
            }
        }
        lex_fail(x, at, "%.*s is not an axis of this sweep (quote text: '%.*s')",
                 (int)(end - at), at, (int)(end - at), at);
        return NULL;
    }
    lex_fail(x, at, *at ? "expected a number, 'text', an axis or '('" : "the filter ends early");
    return NULL;
}

/* A prefix operator (kind) and its operand, parsed by next at the given level. */
static struct sweep_expr *parse_prefix(struct lexer *x, enum ex_kind kind, const char *at,
                                       struct sweep_expr *(*next)(struct lexer *, int), int level)
{
    if (nest(x, at))
        return NULL;
    struct sweep_expr *e = expr_new(x, kind, at);
    if (e && (!(e->a = next(x, level)) || set_height(x, e, at))) {
        sweep_filter_free(e);
        e = NULL;
    }
    x->depth--;
    return e;
}

/* Operators from the loosest: or, and, not, comparisons (which do not chain), + -,
 * * / %, unary minus. Binary ones group left to right. */
static const struct { int n; enum ex_op ops[6]; } levels[] = {
    {1, {OP_OR}}, {1, {OP_AND}}, {0, {OP_OR}}, {6, {OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT}},
    {2, {OP_ADD, OP_SUB}}, {3, {OP_MUL, OP_DIV, OP_MOD}}};
#define N_LEVELS ((int)(sizeof levels / sizeof *levels))
#define LEVEL_NOT 2
#define LEVEL_CMP 3

static struct sweep_expr *parse_level(struct lexer *x, int level)
{
    skip_space(x);
    const char *at = x->p;
    if (level == N_LEVELS)
        return accept(x, "-") ? parse_prefix(x, EX_NEG, at, parse_level, level) : parse_atom(x);
    if (level == LEVEL_NOT)
        return accept(x, "not") ? parse_prefix(x, EX_NOT, at, parse_level, level)
                                : parse_level(x, level + 1);
    struct sweep_expr *left = parse_level(x, level + 1);
    while (left) {
        skip_space(x);
        const char *op_at = x->p;
        int found = -1;
        for (int i = 0; i < levels[level].n && found < 0; i++)
            if (accept(x, op_text[levels[level].ops[i]]))
                found = (int)levels[level].ops[i];
        if (found < 0)
            return left;
        struct sweep_expr *e = expr_new(x, EX_BIN, op_at);
        if (!e) {
            sweep_filter_free(left);
            return NULL;
        }
        e->op = (enum ex_op)found;
        e->a = left;
        if (!(e->b = parse_level(x, level + 1)) || set_height(x, e, op_at)) {
            sweep_filter_free(e);
            return NULL;
        }
        left = e;
        if (level == LEVEL_CMP)
            return left;
    }
    return NULL;
}

static struct sweep_expr *parse_or(struct lexer *x)
{
    return parse_level(x, 0);
}

struct val {
    int is_num;
    double num;
    const char *str;
};

static int eval_fail(const struct sweep *s, const struct sweep_expr *e, struct diag *d,
                     const char *what)
{
    return diag_set(d, s->path, e->line, e->col, "filter: %s", what);
}

static int eval(const struct sweep *s, const struct sweep_expr *e, int64_t combo, struct val *v,
                struct diag *d)
{
    struct val a, b;
    switch (e->kind) {
    case EX_NUM:
        *v = (struct val){1, e->num, NULL};
        return 0;
    case EX_STR:
        *v = (struct val){0, 0, e->str};
        return 0;
    case EX_AXIS: {
        const struct sweep_value *sv = &s->axes[e->axis].v[sweep_combo_value(s, combo, e->axis)];
        *v = sv->type == SWEEP_TEXT ? (struct val){0, 0, sv->text} : (struct val){1, sv->r, NULL};
        return 0;
    }
    case EX_NEG:
    case EX_NOT:
        if (eval(s, e->a, combo, &a, d))
            return -1;
        if (!a.is_num)
            return eval_fail(s, e, d, e->kind == EX_NEG ? "'-' of text" : "'not' of text");
        *v = (struct val){1, e->kind == EX_NEG ? -a.num : !a.num, NULL};
        return 0;
    case EX_BIN:
        break;
    }
    if (eval(s, e->a, combo, &a, d))
        return -1;
    if (e->op == OP_OR || e->op == OP_AND) {
        if (!a.is_num)
            return eval_fail(s, e, d, "'and'/'or' of text");
        if ((e->op == OP_OR) == (a.num != 0)) {   /* decided by the left side */
            *v = (struct val){1, a.num != 0, NULL};
            return 0;
        }
    }
    if (eval(s, e->b, combo, &b, d))
        return -1;
    if (a.is_num != b.is_num && (e->op == OP_EQ || e->op == OP_NE)) {
        *v = (struct val){1, e->op == OP_NE, NULL};   /* text is never a number */
        return 0;
    }
    if (a.is_num != b.is_num) {
        char msg[200];
        snprintf(msg, sizeof msg, "'%s' between %s and %s", op_text[e->op],
                 a.is_num ? "a number" : "text", b.is_num ? "a number" : "text");
        return eval_fail(s, e, d, msg);
    }
    if (!a.is_num && e->op >= OP_ADD)
        return eval_fail(s, e, d, "arithmetic on text");
    double x = a.num, y = b.num, r = 0;
    int cmp = a.is_num ? (x > y) - (x < y) : strcmp(a.str, b.str);
    switch (e->op) {
    case OP_OR:
    case OP_AND: r = b.is_num && b.num != 0; break;
    case OP_EQ: r = cmp == 0; break;
    case OP_NE: r = cmp != 0; break;
    case OP_LT: r = cmp < 0; break;
    case OP_LE: r = cmp <= 0; break;
    case OP_GT: r = cmp > 0; break;
    case OP_GE: r = cmp >= 0; break;
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV:
    case OP_MOD:
        if (y == 0)
            return eval_fail(s, e, d, "division by zero");
        r = e->op == OP_DIV ? x / y : fmod(x, y);
        break;
    }
    *v = (struct val){1, r, NULL};
    return 0;
}

struct sweep_expr *sweep_filter_parse(const struct sweep *s, const struct ynode *t, struct diag *d)
{
    struct lexer x = {s, t, t->text, t->text, d, 0};
    struct sweep_expr *e = parse_or(&x);
    if (!e)
        return NULL;
    skip_space(&x);
    if (*x.p) {
        lex_fail(&x, x.p, "unexpected \"%s\" after the expression", x.p);
        sweep_filter_free(e);
        return NULL;
    }
    return e;
}

int sweep_filter_keep(const struct sweep *s, const struct sweep_expr *e, int64_t combo,
                      struct diag *d)
{
    struct val v;
    if (eval(s, e, combo, &v, d))
        return -1;
    if (!v.is_num)
        return eval_fail(s, e, d, "the filter gives text, not true or false");
    return v.num != 0;
}
