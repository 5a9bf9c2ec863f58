/* plot.h - plots through gnuplot, as files that appear whole or not at all. */
#ifndef LP_PLOT_H
#define LP_PLOT_H

#include "diag.h"

/* Write dir/name.gp (a comment naming who wrote it, head: the settings, then body: the
 * plot commands, once per terminal) and
 * run gnuplot on it in dir: the plot appears as dir/../name.png and dir/../name.svg,
 * renamed into place only when gnuplot finished both (it exits 0 after a failed write,
 * so the files are checked: a PNG's IEND chunk, an SVG's </svg>). body reads its data
 * relative to dir. Returns 0, or -1 with d set (gnuplot missing or failing, a plot it
 * could not finish: "cannot write: reason"); then no .tmp is left and the plots that
 * were there stay as they were. */
int plot_run(const char *dir, const char *name, const char *who, const char *head,
             const char *body, struct diag *d);

#endif
