#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "outfile.h"
#include "proc.h"

/* Whether gnuplot finished the file: a PNG ends with its IEND chunk, an SVG with
 * </svg>. */
static int complete(const char *path, int svg)
{
    static const char iend[] = "IEND\xae\x42\x60\x82";
    struct diag unused;
    char *text;
    size_t n;
    if (file_read(path, FILE_NO_LIMIT, &text, &n, &unused))
        return 0;
    while (svg && n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    int ok = svg ? n >= 6 && !memcmp(text + n - 6, "</svg>", 6)
                 : n >= 8 && !memcmp(text + n - 8, iend, 8);
    free(text);
    return ok;
}

/* Why gnuplot could not finish path (it does not say): one more byte at its end, which
 * is removed anyway, fails the same way (a file-size limit, a full disk). */
static int append_errno(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND), e = EIO;
    if (fd >= 0 && write(fd, "", 1) < 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    return e;
}

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
    char tmp[2][1300], to[2][1300];
    const char *slash = strrchr(dir, '/');   /* to: dir/.. spelt out, for messages */
    int up = slash ? (int)(slash - dir) : 1;
    for (int i = 0; i < 2; i++) {
        const char *ext = i ? "svg" : "png";
        snprintf(tmp[i], sizeof tmp[i], "%s/../%s.%s.tmp", dir, name, ext);
        snprintf(to[i], sizeof to[i], "%.*s/%s.%s", up, slash ? dir : ".", name, ext);
    }
    if (proc_run(dir, argv, NULL) != 0)
        rc = diag_set(d, who, 0, 0, "gnuplot failed on %s/%s", dir, gp);
    /* gnuplot exits 0 when a write fails (a full disk, a file-size limit): both plots
     * must be complete before either replaces what was there. */
    for (int i = 0; i < 2 && !rc; i++)
        if (!complete(tmp[i], i))
            rc = diag_set(d, to[i], 0, 0, "cannot write: %s (gnuplot left it incomplete)",
                          strerror(append_errno(tmp[i])));
    for (int i = 0; i < 2; i++)
        if (rc || (rc = outfile_place(tmp[i], to[i], d)))
            unlink(tmp[i]);
    return rc;
}
