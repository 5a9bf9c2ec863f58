/* table.h - an aligned text table: add rows of cells, then print.
 *
 * The first row is the header. Cells that look like numbers are right-aligned,
 * others left-aligned; columns are separated by two spaces.
 * Ownership: struct table owns its cells (table_init / table_free).
 */
#ifndef LP_TABLE_H
#define LP_TABLE_H

#include <stdio.h>

#define TABLE_MAX_COLS 16

struct table {
    int n_cols, n_rows, cap;
    char **cells;     /* n_rows * n_cols, row-major */
    int rule_before;  /* a rule before this row (0: none); set for a totals row */
};

void table_init(struct table *t, int n_cols);
void table_free(struct table *t);
/* Append a row: fmt is formatted whole, then split at '|' into cells, e.g.
 * "%s|%d|%lld" (cell text must not hold '|'). Missing cells are empty.
 * Returns 0, or -1 when out of memory. */
int table_row(struct table *t, const char *fmt, ...);
/* Put a rule before the next row added. */
void table_rule(struct table *t);
void table_print(const struct table *t, FILE *out);

#endif
