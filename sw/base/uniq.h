/* uniq.h - the first repeat in a list of strings, found by sorting: O(n log n), for the
 * "listed twice" errors of lists that come from input (a mapping's keys, a sweep axis'
 * values), where comparing every pair would let one file cost hours.
 */
#ifndef LP_UNIQ_H
#define LP_UNIQ_H

/* The smallest i whose text[i] equals an earlier text[j]; *first is the smallest such j
 * (where that text first appears). Returns i; -1 when all n differ; -2 when out of
 * memory. */
int uniq_first_repeat(const char *const *text, int n, int *first);

#endif
