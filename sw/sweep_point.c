/* sweep_point.c - one point of a sweep: its config, its figures, its result file. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"
#include "sweep.h"
#include "train_run.h"

const struct sweep_column sweep_columns[] = {
    {"config_hash", SWEEP_COL_TEXT, 0, 0, "FNV-1a 64 of the effective config"},
    {"stages", SWEEP_COL_INT, 0, 0, "pipeline stages M"},
    {"params", SWEEP_COL_INT, 0, 0, "weights and biases, words"},
    {"mac_units", SWEEP_COL_INT, -1, 0, "multipliers: an R x C array per layer with weights"},
    {"total_cycles", SWEEP_COL_INT, -1, 0, "cycles of the run, fill and drain included"},
    {"cycles_per_step", SWEEP_COL_INT, -1, 0,
     "cycles of a step with every stage busy (sequential: of one minibatch)"},
    {"sequential_total_cycles", SWEEP_COL_INT, 0, 0, "the same run, sequential, cycles"},
    {"speedup", SWEEP_COL_REAL, 1, 0, "sequential_total_cycles / total_cycles"},
    {"weights_words", SWEEP_COL_INT, 0, 0, "weights, master weights and velocity, words"},
    {"history_words", SWEEP_COL_INT, 0, 0, "stash ring or EMA buffer, words"},
    {"activation_words", SWEEP_COL_INT, 0, 0, "activation delay lines, words"},
    {"register_words", SWEEP_COL_INT, 0, 0, "inter-stage registers, words"},
    {"memory_bytes", SWEEP_COL_INT, -1, 0, "the four above, 4 bytes a word"},
    {"offchip_read_bytes", SWEEP_COL_INT, 0, 0, "off-chip reads (systemc models), bytes"},
    {"offchip_write_bytes", SWEEP_COL_INT, 0, 0, "off-chip writes (systemc models), bytes"},
    {"epochs", SWEEP_COL_INT, 0, SWEEP_TRAIN, "epochs trained"},
    {"train_loss", SWEEP_COL_REAL, 0, SWEEP_TRAIN, "last epoch's mean training loss"},
    {"train_accuracy", SWEEP_COL_REAL, 1, SWEEP_TRAIN, "last epoch's training accuracy, percent"},
    {"test_loss", SWEEP_COL_REAL, 0, SWEEP_TRAIN, "test loss after the last epoch"},
    {"test_accuracy", SWEEP_COL_REAL, 1, SWEEP_TRAIN, "test accuracy after the last epoch, percent"},
    {"saturations", SWEEP_COL_INT, 0, SWEEP_TRAIN, "fixed-point saturations in the last epoch"},
    {"area_um2", SWEEP_COL_REAL, -1, SWEEP_AREA, "logic and SRAM area, um^2 (OSU 0.18 um)"},
    {"logic_area_um2", SWEEP_COL_REAL, 0, SWEEP_AREA, "standard cells, um^2"},
    {"sram_area_um2", SWEEP_COL_REAL, 0, SWEEP_AREA, "memories by the SRAM table, um^2"},
    {"fmax_mhz", SWEEP_COL_REAL, 1, SWEEP_AREA, "1 / the critical path (OpenSTA), MHz"},
    {"latency_ns", SWEEP_COL_REAL, -1, SWEEP_AREA, "2M-1 steps of cycles_per_step at fmax, ns"},
    {"config", SWEEP_COL_TEXT, 0, 0, "the point's effective config, YAML"},
};
const int sweep_n_columns = (int)(sizeof sweep_columns / sizeof *sweep_columns);

/* The head of a result: which sweep, point, model; its status. */
static void result_head(struct json *j, FILE *out, const struct sweep *s, int64_t p,
                        const struct sweep_opts *o, const char *error)
{
    char hash[20];
    json_init(j, out);
    json_begin_object(j, NULL);
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->hash);
    json_str(j, "sweep", hash);
    json_int(j, "point", p);
    json_str(j, "model", sim_model_name(o->model));
    json_bool(j, "train", o->train);
    json_bool(j, "area", o->area);
    json_str(j, "status", error ? "failed" : "ok");
    if (error)
        json_str(j, "error", error);
    else
        json_null(j, "error");
}

void sweep_write_failure(FILE *out, const struct sweep *s, int64_t p, const struct sweep_opts *o,
                         const char *error)
{
    struct json j;
    result_head(&j, out, s, p, o, error);
    json_end_object(&j);
    fputc('\n', out);
}

int sweep_needs(const struct sweep_opts *o)
{
    return (o->train ? SWEEP_TRAIN : 0) | (o->area ? SWEEP_AREA : 0);
}

static void write_result(FILE *out, const struct sweep *s, int64_t p, const struct sweep_opts *o,
                         const struct diag *err, const struct config *c,
                         const struct sim_figures *f, const struct train_outcome *t,
                         const struct report_area *a)
{
    struct json j;
    char hash[20];
    if (err) {
        char msg[1100];
        FILE *m = fmemopen(msg, sizeof msg, "w");
        if (m) {
            diag_print(err, m);
            fclose(m);
        }
        msg[m ? strcspn(msg, "\n") : 0] = '\0';
        sweep_write_failure(out, s, p, o, m ? msg : "out of memory");
        return;
    }
    result_head(&j, out, s, p, o, NULL);
    json_begin_object(&j, "outputs");
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    json_str(&j, "config_hash", hash);
    json_int(&j, "stages", f->stages);
    json_int(&j, "params", f->params);
    json_int(&j, "mac_units", f->mac_units);
    json_int(&j, "total_cycles", f->total_cycles);
    json_int_or_null(&j, "cycles_per_step", f->cycles_per_step);
    json_int(&j, "sequential_total_cycles", f->sequential_total_cycles);
    json_real(&j, "speedup", f->speedup);
    json_int(&j, "weights_words", f->weights_words);
    json_int(&j, "history_words", f->history_words);
    json_int(&j, "activation_words", f->activation_words);
    json_int(&j, "register_words", f->register_words);
    json_int(&j, "memory_bytes", f->memory_bytes);
    json_int(&j, "offchip_read_bytes", f->offchip_read_bytes);
    json_int(&j, "offchip_write_bytes", f->offchip_write_bytes);
    if (t) {
        json_int(&j, "epochs", t->epochs);
        json_real(&j, "train_loss", t->train_loss);
        json_real(&j, "train_accuracy", t->train_accuracy);
        json_real(&j, "test_loss", t->test_loss);
        json_real(&j, "test_accuracy", t->test_accuracy);
        json_int(&j, "saturations", t->saturations);
    }
    if (a) {
        json_real(&j, "area_um2", a->area_um2);
        json_real(&j, "logic_area_um2", a->logic_area_um2);
        json_real(&j, "sram_area_um2", a->sram_area_um2);
        json_real(&j, "fmax_mhz", a->fmax_mhz);
        json_real(&j, "latency_ns", a->latency_ns);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        cfg_write(c, mem, 0);
        fclose(mem);
    }
    json_str(&j, "config", text ? text : "");
    free(text);
    json_end_object(&j);
    json_end_object(&j);
    fputc('\n', out);
}

int sweep_eval(struct sweep *s, int64_t p, const struct sweep_opts *o, FILE *out)
{
    struct config c;
    struct diag d;
    struct sim_figures f;
    struct train_outcome t;
    struct report_area a;
    int loaded = sweep_config(s, p, &c, &d) == 0, failed = !loaded;
    if (loaded) {
        int64_t n = s->minibatches ? s->minibatches : 2 * (int64_t)c.pipeline.n_stages - 1;
        struct sim_request rq = {o->model, n, -1, 0};
        failed = sim_measure(&c, &rq, &f, &d) || (o->train && train_measure(&c, &t, &d)) ||
                 (o->area && report_area(&c, &a, &d));
    }
    write_result(out, s, p, o, failed ? &d : NULL, &c, &f, o->train ? &t : NULL,
                 o->area ? &a : NULL);
    if (loaded)
        cfg_free(&c);
    return ferror(out) ? -1 : 0;
}
