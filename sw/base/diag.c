#include "diag.h"

#include <stdarg.h>

int diag_set(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    snprintf(d->file, sizeof d->file, "%s", file ? file : "");
    d->line = line;
    d->col = col;
    d->layer = -1;
    d->field = NULL;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return -1;
}

void diag_print(const struct diag *d, FILE *out)
{
    if (d->line > 0)
        fprintf(out, "%s:%d:%d: %s\n", d->file, d->line, d->col, d->msg);
    else
        fprintf(out, "%s: %s\n", d->file, d->msg);
}
