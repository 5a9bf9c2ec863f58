#include "plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "proc.h"

int plot_run(const char *dir, const char *name, const char *who, const char *head,
             const char *body, struct diag *d)
{
    char gp[1200];
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return diag_set(d, who, 0, 0, "out of memory");
    fprintf(f, "# %s.gp: written by %s; `gnuplot %s.gp` in this directory\n%s"
            "set terminal pngcairo size 960,540 noenhanced font 'sans,10'\n"
            "set output '../%s.png.tmp'\n%s"
            "set terminal svg size 960,540 noenhanced font 'sans,10'\n"
            "set output '../%s.svg.tmp'\nreplot\nunset output\n",
            name, who, name, head, name, body, name);
    int rc = fclose(f) ? diag_set(d, who, 0, 0, "out of memory") : 0;
    snprintf(gp, sizeof gp, "%s.gp", name);
    if (!rc)
        rc = outfile_write(dir, gp, text, len, d);
    free(text);
    if (rc)
        return -1;
    char *argv[] = {"gnuplot", gp, NULL};
    if (proc_run(dir, argv, NULL) != 0)
        return diag_set(d, who, 0, 0, "gnuplot failed on %s/%s", dir, gp);
    for (int i = 0; i < 2; i++) {
        char from[1300], to[1300];
        const char *ext = i ? "svg" : "png";
        snprintf(from, sizeof from, "%s/../%s.%s.tmp", dir, name, ext);
        snprintf(to, sizeof to, "%s/../%s.%s", dir, name, ext);
        if (rename(from, to))
            return diag_set(d, to, 0, 0, "cannot write the plot");
    }
    return 0;
}
