/* metrics.c - a training directory's metrics.csv read back (metrics.h). */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "../base/csv.h"

int metrics_read(struct metrics *m, FILE *f, const char *path, struct diag *d)
{
    char *line = NULL, **field = NULL;
    size_t cap = 0;
    int col_pol = -1, col_ep = -1, col_acc = -1, ln = 0, rc = 0;
    for (ssize_t len; !rc && (len = getline(&line, &cap, f)) >= 0;) {
        ln++;
        line[strcspn(line, "\r\n")] = '\0';
        char **nf = realloc(field, sizeof *field * ((size_t)len + 1));   /* fields <= chars + 1 */
        int n_fields = nf ? csv_split(line, field = nf, (int)len + 1) : -1, pol = -1, ep = 0;
        double acc = -1;
        if (n_fields < 0) {
            rc = diag_set(d, path, ln, 1, nf ? "not a CSV line: a quoted field is not closed"
                                             : "out of memory");
            break;
        }
        for (int i = 0; i < n_fields; i++) {
            const char *tok = field[i];
            if (ln == 1) {
                if (!strcmp(tok, "policy"))
                    col_pol = i;
                else if (!strcmp(tok, "epoch"))
                    col_ep = i;
                else if (!strcmp(tok, "test_accuracy_pct"))
                    col_acc = i;
            } else if (i == col_pol) {
                for (int k = 0; k < PLAN_N_POLICIES; k++)
                    if (!strcmp(tok, plan_policy_name((enum plan_policy)k)))
                        pol = k;
            } else if (i == col_ep)
                ep = atoi(tok);
            else if (i == col_acc)
                acc = atof(tok);
        }
        if (ln == 1 && (col_pol < 0 || col_ep < 0 || col_acc < 0))
            rc = diag_set(d, path, 1, 1, "no policy, epoch or test_accuracy_pct column");
        if (ln > 1 && pol >= 0 && ep >= 1 && ep <= METRICS_MAX_EPOCHS && acc >= 0) {
            m->pct[pol][ep - 1] = acc;
            if (ep > m->n[pol])
                m->n[pol] = ep;
        }
    }
    fclose(f);
    free(line);
    free(field);
    return rc;
}
