#include "uniq.h"

#include <stdlib.h>
#include <string.h>

struct item {
    const char *text;
    int at;
};

static int by_text_then_place(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

int uniq_first_repeat(const char *const *text, int n, int *first)
{
    if (n < 2)
        return -1;
    struct item *s = malloc(sizeof *s * (size_t)n);
    if (!s)
        return -2;
    for (int i = 0; i < n; i++)
        s[i] = (struct item){text[i], i};
    qsort(s, (size_t)n, sizeof *s, by_text_then_place);
    /* In each run of equal texts the first is where the text first appears and the
     * second its first repeat; the answer is the earliest of those repeats. */
    int found = -1;
    for (int k = 1; k < n; k++) {
        int second = !strcmp(s[k].text, s[k - 1].text) &&
                     (k == 1 || strcmp(s[k - 1].text, s[k - 2].text));
        if (second && (found < 0 || s[k].at < found))
            found = s[k].at, *first = s[k - 1].at;
    }
    free(s);
    return found;
}
