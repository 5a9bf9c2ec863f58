/* csv.h - CSV fields as RFC 4180 writes them: a field holding a comma, a double quote,
 * CR or LF is quoted, with its quotes doubled; every other field is written as is.
 * Empty fields are fields (a,,b is three).
 */
#ifndef LP_CSV_H
#define LP_CSV_H

#include <stdio.h>

/* Write s as one field (no separator). */
void csv_field(FILE *f, const char *s);

/* Split one line (no line end; modified in place) into at most max fields, unquoting
 * them; fields[i] points into line. Returns the number of fields, or -1 when a quoted
 * field is not closed, text follows a closing quote, or the line has more than max
 * (a line of n characters has at most n + 1 fields). */
int csv_split(char *line, char **fields, int max);

#endif
