#include "report_plan.h"

#include <string.h>

#include "../base/json.h"
#include "../base/table.h"

static const char *src_name(const struct net *n, int idx)
{
    return idx == NET_INPUT ? "input" : n->layers[idx].name;
}

/* Whether stage s's backward reads weights: some layer of it propagates an error. */
static int stage_reads_weights(const struct plan *p, int s)
{
    for (int l = 0; l < p->n_layers; l++)
        if (p->layers[l].stage == s && p->layers[l].propagates)
            return 1;
    return 0;
}

/* What the backward of slot s reads under pol, as "W^(v)" or "W^(v)+d*m". */
static const char *bwd_reads(char *buf, size_t size, enum plan_policy pol, int delay,
                             const struct plan_slot *s)
{
    if (pol == PLAN_STASH)
        snprintf(buf, size, "W^(%lld)", (long long)s->bwd_version);
    else if (pol == PLAN_EMA && delay > 0)
        snprintf(buf, size, "W^(%lld)+%d*m", (long long)s->live_version, delay);
    else
        snprintf(buf, size, "W^(%lld)", (long long)s->live_version);
    return buf;
}

/* Whether a layer keeps weight history when delayed: "yes"; "no (no dx)" when
 * its backward propagates no error, so reads no weights; "no (d = 0)" when it
 * reads the live ones; "-" without weights. */
static const char *history_note(const struct plan_layer *pl)
{
    if (pl->weights == 0)
        return "-";
    if (!pl->propagates)
        return "no (no dx)";
    return pl->delay > 0 ? "yes" : "no (d = 0)";
}

static int layers_table(FILE *out, const struct config *c, const struct plan *p)
{
    const struct net *n = &c->net;
    const struct plan_totals *t = &p->totals;
    struct table tb;
    int rc = 0;
    table_init(&tb, 11);
    rc |= table_row(&tb, "layer|type|stage|S|delay|params|stash_words|ema_words|act_words|"
                         "train_MACs/sample|history");
    for (int l = 0; l < n->n_layers; l++) {
        const struct plan_layer *pl = &p->layers[l];
        rc |= table_row(&tb, "%s|%s|%d|%d|%d|%lld|%lld|%lld|%lld|%lld|%s", n->layers[l].name,
                        net_kind_name(n->layers[l].kind), pl->stage, pl->S, pl->delay,
                        (long long)pl->params, (long long)pl->stash_words,
                        (long long)pl->ema_words, (long long)pl->act_words,
                        (long long)pl->train_macs, history_note(pl));
    }
    table_rule(&tb);
    int64_t macs = 0;
    for (int s = 0; s < p->n_stages; s++)
        macs += p->stage_macs[s];
    rc |= table_row(&tb, "total|||||%lld|%lld|%lld|%lld|%lld", (long long)t->params,
                    (long long)t->stash_words, (long long)t->ema_words, (long long)t->act_words,
                    (long long)macs);
    table_print(&tb, out);
    table_free(&tb);
    return rc;
}

/* Our history count against the paper's, and the layers that keep none. */
static void history_notes(FILE *out, const struct config *c, const struct plan *p)
{
    const struct plan_totals *t = &p->totals;
    char names[512] = "";
    int none = 0;
    for (int l = 0; l < p->n_layers; l++)
        if (p->layers[l].weights > 0 && !p->layers[l].propagates) {
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     none ? ", " : "", c->net.layers[l].name);
            none++;
        }
    fprintf(out, "history words: stash %lld (paper's count %lld), ema %lld (paper's count "
            "%lld)\n", (long long)t->stash_words, (long long)t->paper_stash_words,
            (long long)t->ema_words, (long long)t->paper_ema_words);
    fputs("  only the input gradient dx = dy W^T reads an old weight version: the history holds\n"
          "  weights (no biases) of the layers that propagate an error; the paper counts the\n"
          "  params of every delayed layer\n", out);
    if (none)
        fprintf(out, "  no history for %s: %s only the network input, so %s backward "
                "propagates no error\n", names, none > 1 ? "they read" : "it reads",
                none > 1 ? "their" : "its");
}

static int edges_table(FILE *out, const struct config *c, const struct plan *p)
{
    struct table tb;
    int rc = 0;
    table_init(&tb, 7);
    rc |= table_row(&tb, "from|to|fwd_delay|bwd_delay|elems/sample|fwd_reg_words|bwd_reg_words");
    for (int i = 0; i < p->n_edges; i++) {
        const struct plan_edge *e = &p->edges[i];
        rc |= table_row(&tb, "%s|%s|%d|%d|%lld|%lld|%lld", src_name(&c->net, e->from),
                        c->net.layers[e->to].name, e->forward_delay, e->backward_delay,
                        (long long)e->elems, (long long)e->forward_words,
                        (long long)e->backward_words);
    }
    table_rule(&tb);
    rc |= table_row(&tb, "total|||||%lld|%lld", (long long)p->totals.forward_reg_words,
                    (long long)p->totals.backward_reg_words);
    table_print(&tb, out);
    table_free(&tb);
    return rc;
}

static int stages_table(FILE *out, const struct config *c, const struct plan *p)
{
    struct table tb;
    int rc = 0;
    int64_t total = 0, worst = 0;
    for (int s = 0; s < p->n_stages; s++) {
        total += p->stage_macs[s];
        worst = p->stage_macs[s] > worst ? p->stage_macs[s] : worst;
    }
    table_init(&tb, 5);
    rc |= table_row(&tb, "stage|delay|layers|train_MACs/sample|share_%%");
    for (int s = 1; s <= p->n_stages; s++) {
        char names[512] = "";
        int first_l = -1, last_l = -1, count = 0;
        for (int l = 0; l < p->n_layers; l++)
            if (p->layers[l].stage == s) {
                first_l = first_l < 0 ? l : first_l;
                last_l = l;
                count++;
            }
        if (count <= 3) {
            for (int l = 0; l < p->n_layers; l++)
                if (p->layers[l].stage == s)
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                             names[0] ? " " : "", c->net.layers[l].name);
        } else {
            snprintf(names, sizeof names, "%s .. %s (%d layers)", c->net.layers[first_l].name,
                     c->net.layers[last_l].name, count);
        }
        rc |= table_row(&tb, "%d|%d|%s|%lld|%.1f", s, 2 * (p->n_stages - s), names,
                        (long long)p->stage_macs[s - 1],
                        total ? 100.0 * (double)p->stage_macs[s - 1] / (double)total : 0.0);
    }
    table_print(&tb, out);
    table_free(&tb);
    if (total > 0)
        fprintf(out, "slowest stage: %.1f%% of the work; ideal pipelined speedup over "
                "sequential: %.2fx of %d\n", 100.0 * (double)worst / (double)total,
                (double)total / (double)worst, p->n_stages);
    return rc;
}

static int schedule_table(FILE *out, const struct config *c, const struct plan *p, int64_t steps)
{
    enum plan_policy pol = c->pipeline.policy;
    struct table tb;
    int rc = 0, M = p->n_stages;
    int cols = M + 1 < TABLE_MAX_COLS ? M + 1 : TABLE_MAX_COLS;
    char line[1024], cell[128];
    fprintf(out, "\nschedule, policy %s, steps 0..%lld%s\n", plan_policy_name(pol),
            (long long)steps - 1, M + 1 > cols ? " (first stages only)" : "");
    fputs("  F n@v: forward of minibatch n, reading W^(v), the weights after v updates\n"
          "  B n@r: backward of minibatch n, reading r (stash: the version its forward read;\n"
          "         stale: the live weights; ema: the live W^(v) plus delay*m, rebuilding\n"
          "         the version its forward read; -: no weights, its layers propagate\n"
          "         no error)\n", out);
    table_init(&tb, cols);
    snprintf(line, sizeof line, "step");
    for (int s = 1; s < cols; s++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "|stage %d", s);
    rc |= table_row(&tb, "%s", line);
    for (int64_t t = 0; t < steps; t++) {
        snprintf(line, sizeof line, "%lld", (long long)t);
        for (int s = 1; s < cols; s++) {
            struct plan_slot sl;
            plan_slot(p, pol, s, t, &sl);
            char f[40] = "-", b[64] = "-";
            if (sl.fwd >= 0)
                snprintf(f, sizeof f, "F%lld@%lld", (long long)sl.fwd, (long long)sl.fwd_version);
            int d = 2 * (M - s);
            if (sl.bwd >= 0 && !stage_reads_weights(p, s))
                snprintf(b, sizeof b, "B%lld@-", (long long)sl.bwd);
            else if (sl.bwd >= 0 && pol == PLAN_EMA && d > 0)
                snprintf(b, sizeof b, "B%lld@%lld+%dm", (long long)sl.bwd,
                         (long long)sl.live_version, d);
            else if (sl.bwd >= 0)
                snprintf(b, sizeof b, "B%lld@%lld", (long long)sl.bwd,
                         (long long)(pol == PLAN_STASH ? sl.bwd_version : sl.live_version));
            snprintf(cell, sizeof cell, "%s %s", f, b);
            snprintf(line + strlen(line), sizeof line - strlen(line), "|%s", cell);
        }
        rc |= table_row(&tb, "%s", line);
    }
    table_print(&tb, out);
    table_free(&tb);
    return rc;
}

int report_plan_text(FILE *out, const struct config *c, const struct plan *p, int64_t steps)
{
    int rc = 0;
    fprintf(out, "plan of %s (%s, config hash %016llx)\n", c->name, c->path,
            (unsigned long long)c->hash);
    fprintf(out, "%d layers in %d stages, batch %d, policy %s; Delay(l) = 2*S(l) steps; "
            "words are tensor elements\n\n", p->n_layers, p->n_stages, p->batch,
            plan_policy_name(c->pipeline.policy));
    rc |= layers_table(out, c, p);
    history_notes(out, c, p);
    fputc('\n', out);
    rc |= stages_table(out, c, p);
    fputc('\n', out);
    rc |= edges_table(out, c, p);
    fputs("\nextra weight-history words by policy:", out);
    for (int pol = 0; pol < PLAN_N_POLICIES; pol++)
        fprintf(out, " %s %lld%s", plan_policy_name((enum plan_policy)pol),
                (long long)plan_history_words(p, (enum plan_policy)pol),
                pol == (int)c->pipeline.policy ? " (in use)" : "");
    fputc('\n', out);
    if (steps > 0)
        rc |= schedule_table(out, c, p, steps);
    return rc || ferror(out) ? -1 : 0;
}

static void json_schedule(struct json *j, const struct config *c, const struct plan *p,
                          int64_t steps)
{
    enum plan_policy pol = c->pipeline.policy;
    char rd[48];
    json_begin_array(j, "schedule");
    for (int64_t t = 0; t < steps; t++)
        for (int s = 1; s <= p->n_stages; s++) {
            struct plan_slot sl;
            plan_slot(p, pol, s, t, &sl);
            json_begin_object(j, NULL);
            json_int(j, "step", t);
            json_int(j, "stage", s);
            json_int_or_null(j, "forward", sl.fwd);
            json_int_or_null(j, "forward_version", sl.fwd_version);
            json_int_or_null(j, "backward", sl.bwd);
            json_int_or_null(j, "backward_version", sl.bwd_version);
            json_int_or_null(j, "live_version", sl.live_version);
            if (sl.bwd >= 0 && stage_reads_weights(p, s))
                json_str(j, "backward_reads", bwd_reads(rd, sizeof rd, pol, 2 * (p->n_stages - s), &sl));
            else
                json_null(j, "backward_reads");
            json_end_object(j);
        }
    json_end_array(j);
}

int report_plan_json(FILE *out, const struct config *c, const struct plan *p, int64_t steps)
{
    const struct net *n = &c->net;
    const struct plan_totals *t = &p->totals;
    struct json j;
    char hash[20];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    json_init(&j, out);
    json_begin_object(&j, NULL);
    json_str(&j, "name", c->name);
    json_str(&j, "config_hash", hash);
    json_int(&j, "stages", p->n_stages);
    json_int(&j, "batch", p->batch);
    json_str(&j, "policy", plan_policy_name(c->pipeline.policy));
    json_begin_array(&j, "layers");
    for (int l = 0; l < n->n_layers; l++) {
        const struct plan_layer *pl = &p->layers[l];
        json_begin_object(&j, NULL);
        json_str(&j, "name", n->layers[l].name);
        json_str(&j, "type", net_kind_name(n->layers[l].kind));
        json_int(&j, "stage", pl->stage);
        json_int(&j, "S", pl->S);
        json_int(&j, "delay", pl->delay);
        json_int(&j, "params", pl->params);
        json_int(&j, "stash_words", pl->stash_words);
        json_int(&j, "ema_words", pl->ema_words);
        json_int(&j, "weights", pl->weights);
        json_bool(&j, "propagates", pl->propagates);
        json_int(&j, "paper_stash_words", pl->paper_stash_words);
        json_int(&j, "paper_ema_words", pl->paper_ema_words);
        json_int(&j, "act_words", pl->act_words);
        json_int(&j, "train_macs", pl->train_macs);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_begin_array(&j, "edges");
    for (int i = 0; i < p->n_edges; i++) {
        const struct plan_edge *e = &p->edges[i];
        json_begin_object(&j, NULL);
        json_str(&j, "from", src_name(n, e->from));
        json_str(&j, "to", n->layers[e->to].name);
        json_int(&j, "forward_delay", e->forward_delay);
        json_int(&j, "backward_delay", e->backward_delay);
        json_int(&j, "elems", e->elems);
        json_int(&j, "forward_words", e->forward_words);
        json_int(&j, "backward_words", e->backward_words);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_begin_array(&j, "stage_train_macs");
    for (int s = 0; s < p->n_stages; s++)
        json_int(&j, NULL, p->stage_macs[s]);
    json_end_array(&j);
    json_begin_object(&j, "totals");
    json_int(&j, "params", t->params);
    json_int(&j, "stash_words", t->stash_words);
    json_int(&j, "ema_words", t->ema_words);
    json_int(&j, "act_words", t->act_words);
    json_int(&j, "forward_reg_words", t->forward_reg_words);
    json_int(&j, "backward_reg_words", t->backward_reg_words);
    json_int(&j, "paper_stash_words", t->paper_stash_words);
    json_int(&j, "paper_ema_words", t->paper_ema_words);
    json_end_object(&j);
    json_begin_object(&j, "history_words");
    for (int pol = 0; pol < PLAN_N_POLICIES; pol++)
        json_int(&j, plan_policy_name((enum plan_policy)pol),
                 plan_history_words(p, (enum plan_policy)pol));
    json_end_object(&j);
    json_begin_object(&j, "paper_history_words");
    for (int pol = 0; pol < PLAN_N_POLICIES; pol++)
        json_int(&j, plan_policy_name((enum plan_policy)pol),
                 plan_paper_history_words(p, (enum plan_policy)pol));
    json_end_object(&j);
    if (steps > 0)
        json_schedule(&j, c, p, steps);
    json_end_object(&j);
    return ferror(out) ? -1 : 0;
}
