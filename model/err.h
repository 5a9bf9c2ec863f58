/* err.h - the one error record of the project: model/ and sim/ fill it instead of
 * printing, sw/ adds the file position and prints it (sw/base/diag.h).
 *
 * Library code never prints or exits. A function that can fail on bad input returns
 * -1 and fills a struct diag. model/ knows no files: lp_fail names the layer at fault
 * (or -1) and the config field at fault (a string literal, or NULL), and the caller
 * in sw/ turns them into a file, line and column. sw/ fills the position directly
 * (diag_set).
 */
#ifndef LP_ERR_H
#define LP_ERR_H

struct diag {
    char file[512];      /* the file at fault, or "" */
    int line, col;       /* from 1; line 0: no position in the file */
    int layer;           /* index into net.layers, or -1 */
    const char *field;   /* config field name ("out", "kernel", "stage"), or NULL */
    char msg[512];
};

/* Fill e (when non-NULL) with no file position, and return -1. printf-style. */
int lp_fail(struct diag *e, int layer, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
