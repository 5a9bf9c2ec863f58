#include "table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, int n_cols)
{
    memset(t, 0, sizeof *t);
    t->n_cols = n_cols < TABLE_MAX_COLS ? n_cols : TABLE_MAX_COLS;
}

void table_free(struct table *t)
{
    for (int i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

int table_row(struct table *t, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t->n_rows == t->cap) {
        int nc = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cells, sizeof *c * (size_t)nc * (size_t)t->n_cols);
        if (!c)
            return -1;
        t->cells = c;
        t->cap = nc;
    }
    char **row = t->cells + (size_t)t->n_rows * (size_t)t->n_cols;
    char *p = line;
    int ok = 1;
    for (int i = 0; i < t->n_cols; i++) {
        char *bar = p ? strchr(p, '|') : NULL;
        if (bar)
            *bar = '\0';
        row[i] = strdup(p ? p : "");
        ok &= row[i] != NULL;
        p = bar ? bar + 1 : NULL;
    }
    t->n_rows++;
    return ok ? 0 : -1;
}

void table_rule(struct table *t)
{
    t->rule_before = t->n_rows;
}

static int numeric(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789.,%x", *s))
            return 0;
    return 1;
}

void table_print(const struct table *t, FILE *out)
{
    int w[TABLE_MAX_COLS] = {0}, right[TABLE_MAX_COLS], total = 0;
    for (int c = 0; c < t->n_cols; c++) {
        int nums = 0, others = 0;
        for (int r = 1; r < t->n_rows; r++) {
            const char *s = t->cells[r * t->n_cols + c];
            nums += numeric(s);
            others += *s && !numeric(s);
        }
        right[c] = nums > 0 && others == 0;   /* a column of numbers, header too */
    }
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < t->n_cols; c++) {
            int len = (int)strlen(t->cells[r * t->n_cols + c]);
            w[c] = len > w[c] ? len : w[c];
        }
    for (int c = 0; c < t->n_cols; c++)
        total += w[c] + (c ? 2 : 0);
    for (int r = 0; r < t->n_rows; r++) {
        if (r == 1 || (t->rule_before > 1 && r == t->rule_before)) {
            for (int i = 0; i < total; i++)
                fputc('-', out);
            fputc('\n', out);
        }
        for (int c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[r * t->n_cols + c];
            if (right[c])
                fprintf(out, "%s%*s", c ? "  " : "", w[c], s);
            else if (c == t->n_cols - 1)   /* no trailing blanks */
                fprintf(out, "%s%s", c && *s ? "  " : "", s);
            else
                fprintf(out, "%s%-*s", c ? "  " : "", w[c], s);
        }
        fputc('\n', out);
    }
}
