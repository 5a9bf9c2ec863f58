#include "train_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../model/rng.h"
#include "../../model/train.h"
#include "../base/csv.h"
#include "../base/dataset_idx.h"
#include "../base/files.h"
#include "../base/json.h"
#include "../base/npy.h"
#include "../base/outfile.h"
#include "../base/progress.h"
#include "../base/table.h"

#define SYNTH_TRAIN 8192
#define SYNTH_TEST 2048

/* One epoch's figures. recon holds L means then L maxima; NAN for a layer whose
 * backward read no weights (it propagates no error, or has none). */
struct epoch_row {
    double lr, train_loss, train_acc, test_loss, test_acc;
    double *recon;
    int64_t *sat;   /* L saturation counts (fixed point) */
};

struct policy_run {
    enum plan_policy policy;
    int epochs;
    struct epoch_row *rows;
    double *recon_mem;
    int64_t *sat_mem;
    struct trainer *t;
    double seconds;
};

struct progress {
    const char *policy;
    int epoch, epochs;
    double start;
    int64_t samples_before;
};

static void draw_progress(void *ctx, int64_t step, int64_t steps, double loss_sum,
                          int64_t samples)
{
    const struct progress *p = ctx;
    double dt = progress_now() - p->start;
    char head[64];
    snprintf(head, sizeof head, "%-10s epoch %d/%d ", p->policy, p->epoch, p->epochs);
    progress_draw(stderr, head, 24, step, steps, "step %lld/%lld  loss %.4f  %.0f samples/s",
                  (long long)step, (long long)steps, samples ? loss_sum / (double)samples : 0.0,
                  dt > 0 ? (double)(p->samples_before + samples) / dt : 0.0);
}

/* ---- data ---- */

int train_data_load(const struct config *c, struct dataset *train, struct dataset *test,
                    struct diag *d)
{
    if (c->training.dataset == CFG_DATA_FASHION_MNIST) {
        if (idx_load_fashion_mnist(c->training.data_dir, train, test, d))
            return 2;
    } else {
        int dim = (int)net_shape_elems(&c->net.input);
        int classes = c->net.layers[c->net.n_layers - 1].out_shape.dim[0];
        if (c->net.layers[c->net.n_layers - 1].out_shape.rank != 1 || classes > 256) {
            diag_set(d, c->path, 0, 0, "the synthetic dataset needs a flat output of at most "
                     "256 classes");
            return 2;
        }
        if (data_synthetic(train, SYNTH_TRAIN, dim, classes, c->training.seed, 1, 1.0f) ||
            data_synthetic(test, SYNTH_TEST, dim, classes, c->training.seed, 2, 1.0f)) {
            data_free(train);
            diag_set(d, c->path, 0, 0, "out of memory for the synthetic dataset");
            return 1;
        }
    }
    if (c->training.train_samples > 0)
        data_truncate(train, (int)c->training.train_samples);
    if (c->training.test_samples > 0)
        data_truncate(test, (int)c->training.test_samples);
    if (train->n < c->training.batch) {
        diag_set(d, c->path, 0, 0, "%d training samples cannot fill one minibatch of %d",
                 train->n, c->training.batch);
        return 2;
    }
    if (c->training.normalize) {
        double mean, std;
        data_stats(train, &mean, &std);
        data_normalize(train, mean, std);
        data_normalize(test, mean, std);
    }
    return 0;
}

/* ---- training ---- */

void train_order_init(const struct config *c, struct rng *r, int32_t *order, int n)
{
    rng_seed(r, c->training.seed ^ 0xda7a0bdeull);
    for (int i = 0; i < n; i++)
        order[i] = i;
}

int train_minibatches(const struct config *c, int64_t n, struct dataset *train, int32_t **order,
                      struct diag *d)
{
    struct dataset test;
    struct rng r;
    *order = NULL;
    int rc = train_data_load(c, train, &test, d);
    if (rc)
        return rc;
    data_free(&test);
    if (n * c->training.batch > train->n) {
        diag_set(d, c->path, 0, 0, "%lld minibatches of %d need more than the %d samples",
                 (long long)n, c->training.batch, train->n);
        data_free(train);
        return 2;
    }
    if (!(*order = malloc(sizeof **order * (size_t)train->n))) {
        diag_set(d, c->path, 0, 0, "out of memory");
        data_free(train);
        return 1;
    }
    train_order_init(c, &r, *order, train->n);
    rng_shuffle(&r, *order, train->n);
    return 0;
}

void train_fill_opts(const struct config *c, enum plan_policy pol, int64_t mb_per_epoch,
                     int epochs, const struct fixed_spec *q, struct train_opts *o)
{
    static const enum train_lr sched[] = {TRAIN_LR_CONSTANT, TRAIN_LR_STEP, TRAIN_LR_COSINE};
    memset(o, 0, sizeof *o);
    o->policy = pol;
    o->ema_beta_auto = c->pipeline.ema_beta_auto;
    o->ema_beta = c->pipeline.ema_beta;
    o->batch = c->training.batch;
    o->lr = c->training.lr;
    o->momentum = c->training.momentum;
    o->weight_decay = c->training.weight_decay;
    o->lr_schedule = sched[c->training.lr_schedule];
    o->lr_decay = c->training.lr_decay;
    o->minibatches_per_epoch = mb_per_epoch;
    o->total_minibatches = mb_per_epoch * epochs;
    o->seed = c->training.seed;
    o->diagnostics = 1;
    o->fixed = c->numerics.format == CFG_FIXED ? q : NULL;
}

static void print_epoch(FILE *out, const struct config *c, const struct policy_run *r, int ep)
{
    const struct epoch_row *row = &r->rows[ep];
    int L = c->net.n_layers;
    fprintf(out, "%-10s epoch %d/%d  lr %.4g  train loss %.4f acc %.2f%%  test loss %.4f acc "
            "%.2f%%", plan_policy_name(r->policy), ep + 1, r->epochs, row->lr, row->train_loss,
            row->train_acc, row->test_loss, row->test_acc);
    if (r->policy == PLAN_STALE || r->policy == PLAN_EMA) {
        fputs("  recon", out);
        for (int l = 0; l < L; l++)
            if (!isnan(row->recon[l]) && row->recon[l] > 0)
                fprintf(out, " %s %.2e", c->net.layers[l].name, row->recon[l]);
    }
    if (c->numerics.format == CFG_FIXED) {
        int64_t total = 0;
        for (int l = 0; l < L; l++)
            total += row->sat[l];
        fprintf(out, "  saturations %lld", (long long)total);
        for (int l = 0; l < L && total > 0; l++)
            if (row->sat[l])
                fprintf(out, " %s %lld", c->net.layers[l].name, (long long)row->sat[l]);
    }
    fputc('\n', out);
    fflush(out);
}

static int run_policy(const struct config *c, enum plan_policy pol, int epochs,
                      const struct dataset *train, const struct dataset *test, int progress,
                      FILE *out, struct policy_run *r, struct diag *d)
{
    int L = c->net.n_layers, B = c->training.batch;
    int64_t mb_per_epoch = train->n / B;
    struct train_opts o;
    struct diag e;
    struct progress pg = {.policy = plan_policy_name(pol), .epochs = epochs};
    memset(r, 0, sizeof *r);
    r->policy = pol;
    r->epochs = epochs;
    struct fixed_spec q;
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, pol, mb_per_epoch, epochs, &q, &o);
    if (progress) {
        o.progress = draw_progress;
        o.progress_ctx = &pg;
    }
    int32_t *order = malloc(sizeof *order * (size_t)train->n);
    r->rows = calloc((size_t)epochs, sizeof *r->rows);
    r->recon_mem = calloc((size_t)epochs * 2 * (size_t)L, sizeof *r->recon_mem);
    r->sat_mem = calloc((size_t)epochs * (size_t)L, sizeof *r->sat_mem);
    if (!order || !r->rows || !r->recon_mem || !r->sat_mem) {
        free(order);
        diag_set(d, c->path, 0, 0, "out of memory");
        return 1;
    }
    if (trainer_create(&r->t, &c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, &e)) {
        free(order);
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        return 1;
    }
    /* The same data order for every policy: the shuffle depends on the seed only. */
    struct rng shuffle;
    train_order_init(c, &shuffle, order, train->n);
    double t0 = progress_now();
    for (int ep = 0; ep < epochs; ep++) {
        struct train_stats st;
        struct epoch_row *row = &r->rows[ep];
        int64_t correct;
        rng_shuffle(&shuffle, order, train->n);
        pg.epoch = ep + 1;
        pg.start = progress_now();
        trainer_epoch(r->t, train, order, mb_per_epoch, ep * mb_per_epoch, &st);
        if (progress)
            progress_clear(stderr);
        row->lr = trainer_lr(r->t, ep * mb_per_epoch);
        row->train_loss = st.loss_sum / (double)st.samples;
        row->train_acc = 100.0 * (double)st.correct / (double)st.samples;
        trainer_evaluate(r->t, test, test->n, &row->test_loss, &correct);
        row->test_loss /= test->n;
        row->test_acc = 100.0 * (double)correct / test->n;
        row->recon = r->recon_mem + (size_t)ep * 2 * (size_t)L;
        row->sat = r->sat_mem + (size_t)ep * (size_t)L;
        for (int l = 0; l < L; l++) {
            const struct train_layer_stats *ls = &st.layer[l];
            row->sat[l] = ls->saturations;
            row->recon[l] = ls->recon_count ? ls->recon_sum / (double)ls->recon_count : NAN;
            row->recon[L + l] = ls->recon_count ? ls->recon_max : NAN;
        }
        print_epoch(out, c, r, ep);
    }
    r->seconds = progress_now() - t0;
    free(order);
    return 0;
}

static void free_run(struct policy_run *r)
{
    trainer_destroy(r->t);
    free(r->rows);
    free(r->recon_mem);
    free(r->sat_mem);
    memset(r, 0, sizeof *r);
}

/* ---- files ---- */

static int path_join(char *buf, size_t size, const char *a, const char *b, struct diag *d)
{
    if ((size_t)snprintf(buf, size, "%s/%s", a, b) >= size)
        return diag_set(d, a, 0, 0, "path too long");
    return 0;
}

static void csv_header(FILE *f, const struct config *c)
{
    fputs("policy,epoch,lr,train_loss,train_accuracy_pct,test_loss,test_accuracy_pct", f);
    char col[96];
    for (int l = 0; l < c->net.n_layers; l++)
        for (int k = 0; k < 2 && c->net.layers[l].params > 0; k++) {
            snprintf(col, sizeof col, "recon_%s_%s", k ? "max" : "mean", c->net.layers[l].name);
            fputc(',', f);
            csv_field(f, col);
        }
    for (int l = 0; l < c->net.n_layers; l++) {
        snprintf(col, sizeof col, "saturations_%s", c->net.layers[l].name);
        fputc(',', f);
        csv_field(f, col);
    }
    fputc('\n', f);
}

static void csv_rows(FILE *f, const struct config *c, const struct policy_run *r)
{
    char b[32];
    int L = c->net.n_layers;
    for (int ep = 0; ep < r->epochs; ep++) {
        const struct epoch_row *row = &r->rows[ep];
        csv_field(f, plan_policy_name(r->policy));
        fprintf(f, ",%d,%s", ep + 1, json_shortest(b, sizeof b, row->lr));
        fprintf(f, ",%.6f,%.4f,%.6f,%.4f", row->train_loss, row->train_acc, row->test_loss,
                row->test_acc);
        for (int l = 0; l < L; l++)   /* empty: the backward read no weights */
            if (c->net.layers[l].params > 0 && isnan(row->recon[l]))
                fputs(",,", f);
            else if (c->net.layers[l].params > 0)
                fprintf(f, ",%.6e,%.6e", row->recon[l], row->recon[L + l]);
        for (int l = 0; l < L; l++)
            fprintf(f, ",%lld", (long long)row->sat[l]);
        fputc('\n', f);
    }
}

static int write_csv(const char *path, const struct config *c, const struct policy_run *runs,
                     int n, struct diag *d)
{
    struct outfile o;
    if (outfile_open(&o, path, d))
        return -1;
    csv_header(o.f, c);
    for (int i = 0; i < n; i++)
        csv_rows(o.f, c, &runs[i]);
    return outfile_commit(&o, d);
}

static void json_policy(struct json *j, const struct config *c, const struct plan *p,
                        const struct policy_run *r)
{
    const struct epoch_row *last = &r->rows[r->epochs - 1];
    struct train_alloc a;
    trainer_alloc(r->t, &a);
    json_begin_object(j, plan_policy_name(r->policy));
    json_real(j, "test_accuracy", round(last->test_acc * 100) / 100);
    json_real(j, "test_loss", round(last->test_loss * 1e6) / 1e6);
    json_real(j, "train_accuracy", round(last->train_acc * 100) / 100);
    json_real(j, "train_loss", round(last->train_loss * 1e6) / 1e6);
    json_int(j, "epochs", r->epochs);
    json_int(j, "stages", trainer_stages(r->t));
    json_int(j, "history_words", a.stash_words + a.ema_words);
    json_int(j, "act_words", a.act_words);
    json_begin_object(j, "history_words_per_layer");
    for (int l = 0; l < c->net.n_layers; l++) {
        int64_t w = r->policy == PLAN_STASH ? p->layers[l].stash_words
                  : r->policy == PLAN_EMA   ? p->layers[l].ema_words : 0;
        json_int(j, c->net.layers[l].name, w);
    }
    json_end_object(j);
    json_end_object(j);
}

static int write_summary(const char *path, const struct config *c, const struct plan *p,
                         const struct policy_run *runs, int n, struct diag *d)
{
    struct outfile o;
    struct json j;
    char hash[20];
    if (outfile_open(&o, path, d))
        return -1;
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    json_init(&j, o.f);
    json_begin_object(&j, NULL);
    json_str(&j, "name", c->name);
    json_str(&j, "config_hash", hash);
    json_int(&j, "seed", c->training.seed);
    json_str(&j, "dataset", cfg_dataset_name(c->training.dataset));
    json_str(&j, "numerics", c->numerics.format == CFG_FIXED ? "fixed" : "float32");
    json_str(&j, "ema_form", "W + gap*m, m <- beta*m + (1-beta)*u (project definition)");
    json_begin_object(&j, "policies");
    for (int i = 0; i < n; i++)
        json_policy(&j, c, p, &runs[i]);
    json_end_object(&j);
    json_end_object(&j);
    return outfile_commit(&o, d);
}

/* Weights in the usual layouts: dense [out, in], conv [oc, c, k, k], bias [out]. */
static int write_weights(const char *dir, const struct config *c, const struct trainer *t,
                         struct diag *d)
{
    char wdir[1024], path[1200];
    if (path_join(wdir, sizeof wdir, dir, "weights", d) || file_mkdir_p(wdir, d))
        return -1;
    for (int l = 0; l < c->net.n_layers; l++) {
        const struct net_layer *nl = &c->net.layers[l];
        int64_t count = trainer_params(t, l, NULL), shape[4];
        if (count == 0)
            continue;
        float *w = malloc(sizeof *w * (size_t)count);
        if (!w)
            return diag_set(d, dir, 0, 0, "out of memory");
        trainer_params(t, l, w);
        int ndim;
        float *tmp = NULL;
        if (nl->kind == NET_DENSE) {
            int64_t in = nl->weights / nl->out;
            tmp = malloc(sizeof *tmp * (size_t)nl->weights);
            if (!tmp) {
                free(w);
                return diag_set(d, dir, 0, 0, "out of memory");
            }
            for (int64_t i = 0; i < in; i++)
                for (int64_t o = 0; o < nl->out; o++)
                    tmp[o * in + i] = w[i * nl->out + o];
            ndim = 2, shape[0] = nl->out, shape[1] = in;
        } else {
            ndim = 4, shape[0] = nl->out, shape[1] = nl->in_shape.dim[0];
            shape[2] = shape[3] = nl->kernel;
        }
        snprintf(path, sizeof path, "%s/%s.W.npy", wdir, nl->name);
        int rc = npy_write_f32(path, tmp ? tmp : w, ndim, shape, d);
        free(tmp);
        if (!rc && nl->bias) {
            int64_t bshape[1] = {nl->out};
            snprintf(path, sizeof path, "%s/%s.b.npy", wdir, nl->name);
            rc = npy_write_f32(path, w + nl->weights, 1, bshape, d);
        }
        free(w);
        if (rc)
            return -1;
    }
    return 0;
}

static int write_run(const char *dir, const struct config *c, const struct plan *p,
                     const struct policy_run *r, struct diag *d)
{
    char path[1200];
    return file_mkdir_p(dir, d) || path_join(path, sizeof path, dir, "metrics.csv", d) ||
                   write_csv(path, c, r, 1, d) ||
                   path_join(path, sizeof path, dir, "summary.json", d) ||
                   write_summary(path, c, p, r, 1, d) || write_weights(dir, c, r->t, d)
               ? -1
               : 0;
}

static int write_files(const struct train_request *rq, const struct config *c,
                       const struct plan *p, const struct policy_run *runs, int n,
                       struct diag *d)
{
    char path[1200];
    if (n == 1 && !rq->all_policies)
        return write_run(rq->out_dir, c, p, &runs[0], d);
    for (int i = 0; i < n; i++) {
        if (path_join(path, sizeof path, rq->out_dir, plan_policy_name(runs[i].policy), d) ||
            write_run(path, c, p, &runs[i], d))
            return -1;
    }
    return path_join(path, sizeof path, rq->out_dir, "metrics.csv", d) ||
                   write_csv(path, c, runs, n, d) ||
                   path_join(path, sizeof path, rq->out_dir, "summary.json", d) ||
                   write_summary(path, c, p, runs, n, d)
               ? -1
               : 0;
}

static void print_comparison(FILE *out, const struct config *c, const struct policy_run *runs,
                             int n)
{
    struct table tb;
    double seq = -1;
    for (int i = 0; i < n; i++)
        if (runs[i].policy == PLAN_SEQUENTIAL)
            seq = runs[i].rows[runs[i].epochs - 1].test_acc;
    /* The reconstruction of the first layer that reads old weights (the one with
     * the largest delay): the first layer of a chain propagates no error. */
    int first = -1;
    for (int l = 0; l < c->net.n_layers && first < 0; l++)
        if (c->net.layers[l].params > 0 && plan_propagates(&c->net, l))
            first = l;
    table_init(&tb, 6);
    table_row(&tb, "policy|test_acc_%%|vs_sequential_pts|train_loss|history_words|"
                   "recon_mean%s%s", first < 0 ? "" : "_",
              first < 0 ? "" : c->net.layers[first].name);
    for (int i = 0; i < n; i++) {
        const struct epoch_row *last = &runs[i].rows[runs[i].epochs - 1];
        struct train_alloc a;
        char vs[32] = "", rec[32] = "-";
        trainer_alloc(runs[i].t, &a);
        if (seq >= 0)
            snprintf(vs, sizeof vs, "%+.2f", last->test_acc - seq);
        if (first >= 0 && !isnan(last->recon[first]))
            snprintf(rec, sizeof rec, "%.2e", last->recon[first]);
        table_row(&tb, "%s|%.2f|%s|%.4f|%lld|%s", plan_policy_name(runs[i].policy),
                  last->test_acc, vs, last->train_loss,
                  (long long)(a.stash_words + a.ema_words), rec);
    }
    fputc('\n', out);
    table_print(&tb, out);
    table_free(&tb);
}

int train_run(const struct config *c, const struct train_request *rq, FILE *out,
              struct diag *d)
{
    static const enum plan_policy all[] = {PLAN_SEQUENTIAL, PLAN_STALE, PLAN_STASH, PLAN_EMA};
    struct dataset train, test;
    struct policy_run runs[4];
    struct plan p;
    struct diag e;
    int n = rq->all_policies ? 4 : 1, rc, done = 0;
    int epochs = rq->epochs > 0 ? rq->epochs : c->training.epochs;

    if (plan_build(&p, &c->net, c->pipeline.stage_of, c->pipeline.n_stages, c->training.batch,
                   &e)) {
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        return 1;
    }
    if ((rc = train_data_load(c, &train, &test, d))) {
        plan_free(&p);
        return rc;
    }
    fprintf(out, "train %s (config hash %016llx): %d train / %d test samples, batch %d, "
            "%d epochs, %d stages\n", c->name, (unsigned long long)c->hash, train.n, test.n,
            c->training.batch, epochs, c->pipeline.n_stages);
    for (; done < n && rc == 0; done++)
        rc = run_policy(c, rq->all_policies ? all[done] : rq->policy, epochs, &train, &test,
                        rq->progress, out, &runs[done], d);
    if (rc == 0) {
        for (int i = 0; i < n; i++)
            fprintf(stderr, "%s: %.1f s, %.0f samples/s\n", plan_policy_name(runs[i].policy),
                    runs[i].seconds,
                    (double)(train.n / c->training.batch) * c->training.batch * epochs /
                        runs[i].seconds);
        if (n > 1)
            print_comparison(out, c, runs, n);
        if (rq->out_dir && write_files(rq, c, &p, runs, n, d))
            rc = 2;   /* an output that cannot be written: d names it */
        else if (rq->out_dir)
            fprintf(out, "wrote %s/\n", rq->out_dir);
    }
    for (int i = 0; i < done; i++)
        free_run(&runs[i]);
    data_free(&train);
    data_free(&test);
    plan_free(&p);
    return rc;
}

int train_measure(const struct config *c, struct train_outcome *r, struct diag *d)
{
    struct dataset train, test;
    struct policy_run run;
    int rc = train_data_load(c, &train, &test, d);
    if (rc)
        return rc;
    /* The per-epoch lines go nowhere: the caller keeps the last epoch's figures. */
    char *buf = NULL;
    size_t len = 0;
    FILE *sink = open_memstream(&buf, &len);
    rc = !sink ? diag_set(d, c->path, 0, 0, "out of memory"), 1
               : run_policy(c, c->pipeline.policy, c->training.epochs, &train, &test, 0, sink,
                            &run, d);
    if (sink)
        fclose(sink);
    free(buf);
    if (!rc) {
        const struct epoch_row *last = &run.rows[run.epochs - 1];
        int64_t sat = 0;
        for (int l = 0; l < c->net.n_layers; l++)
            sat += last->sat[l];
        *r = (struct train_outcome){run.epochs, last->train_loss, last->train_acc,
                                    last->test_loss, last->test_acc, sat};
    }
    if (sink)
        free_run(&run);   /* run_policy leaves it freeable, even when it fails */
    data_free(&train);
    data_free(&test);
    return rc;
}
