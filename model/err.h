/* err.h - the error record that model/ fills instead of printing.
 *
 * Library code never prints or exits. A function that can fail on bad input
 * returns -1 and fills a struct lp_err: the index of the layer at fault (or -1),
 * the name of the config field at fault (a string literal, or NULL), and a
 * message. The caller (sw/) turns layer and field into a file position.
 */
#ifndef LP_ERR_H
#define LP_ERR_H

struct lp_err {
    int layer;           /* index into net.layers, or -1 */
    const char *field;   /* config field name ("out", "kernel", "stage"), or NULL */
    char msg[256];
};

/* Fill e (when non-NULL) and return -1. printf-style. */
int lp_fail(struct lp_err *e, int layer, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
