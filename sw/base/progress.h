/* progress.h - a progress line on a terminal (stderr when it is one), redrawn in place,
 * and the monotonic clock that paces it.
 */
#ifndef LP_PROGRESS_H
#define LP_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* Seconds on the monotonic clock: for durations and rates, never for output that must
 * be the same from run to run. */
double progress_now(void);

/* Redraw the line on f: head, a bar of width cells filled done/total, then the rest
 * formatted (printf-style). */
void progress_draw(FILE *f, const char *head, int width, int64_t done, int64_t total,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Erase the line. */
void progress_clear(FILE *f);

#endif
