#include "progress.h"

#include <stdarg.h>
#include <time.h>

double progress_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void progress_draw(FILE *f, const char *head, int width, int64_t done, int64_t total,
                   const char *fmt, ...)
{
    int fill = total > 0 ? (int)(width * (done < total ? done : total) / total) : width;
    fprintf(f, "\r\033[K%s[", head);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : ' ', f);
    fputs("] ", f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

void progress_clear(FILE *f)
{
    fputs("\r\033[K", f);
    fflush(f);
}
