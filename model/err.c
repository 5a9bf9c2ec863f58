#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int lp_fail(struct diag *e, int layer, const char *field, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        e->file[0] = '\0';
        e->line = e->col = 0;
        e->layer = layer;
        e->field = field;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
