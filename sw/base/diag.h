/* diag.h - a diagnostic with a file position, for bad input: model/err.h's record,
 * filled and printed by sw/.
 *
 * Loaders fill one struct diag and return -1; main() prints it as
 * "file:line:column: message" and exits with status 2. Lines and columns
 * count from 1; line 0 means the message has no position in the file.
 */
#ifndef LP_DIAG_H
#define LP_DIAG_H

#include <stdio.h>

#include "../../model/err.h"

/* Fill d and return -1. printf-style. */
int diag_set(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void diag_print(const struct diag *d, FILE *out);

#endif
