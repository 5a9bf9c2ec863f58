/* sweep_point.c - one point of a sweep: its config, its figures, its result file. */
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../report/report.h"
#include "../run/train_run.h"
#include "sweep.h"

/* The columns, in the database's order; result files use the same names. */
enum {
    C_CONFIG_HASH, C_STAGES, C_PARAMS, C_MAC_UNITS, C_TOTAL_CYCLES, C_CYCLES_PER_STEP,
    C_SEQUENTIAL_TOTAL_CYCLES, C_SPEEDUP, C_WEIGHTS_WORDS, C_HISTORY_WORDS,
    C_ACTIVATION_WORDS, C_REGISTER_WORDS, C_MEMORY_BYTES, C_OFFCHIP_READ_BYTES,
    C_OFFCHIP_WRITE_BYTES, C_EPOCHS, C_TRAIN_LOSS, C_TRAIN_ACCURACY, C_TEST_LOSS,
    C_TEST_ACCURACY, C_SATURATIONS, C_AREA_UM2, C_LOGIC_AREA_UM2, C_SRAM_AREA_UM2,
    C_FMAX_MHZ, C_LATENCY_NS, C_CONFIG, C_N,
};

const struct sweep_column sweep_columns[] = {
    [C_CONFIG_HASH] = {"config_hash", SWEEP_COL_TEXT, 0, 0, "FNV-1a 64 of the effective config"},
    [C_STAGES] = {"stages", SWEEP_COL_INT, 0, 0, "pipeline stages M"},
    [C_PARAMS] = {"params", SWEEP_COL_INT, 0, 0, "weights and biases, words"},
    [C_MAC_UNITS] = {"mac_units", SWEEP_COL_INT, -1, 0, "multipliers: an R x C array per layer with weights"},
    [C_TOTAL_CYCLES] = {"total_cycles", SWEEP_COL_INT, -1, 0, "cycles of the run, fill and drain included"},
    [C_CYCLES_PER_STEP] = {"cycles_per_step", SWEEP_COL_INT, -1, 0,
     "cycles of a step with every stage busy (sequential: of one minibatch)"},
    [C_SEQUENTIAL_TOTAL_CYCLES] = {"sequential_total_cycles", SWEEP_COL_INT, 0, 0, "the same run, sequential, cycles"},
    [C_SPEEDUP] = {"speedup", SWEEP_COL_REAL, 1, 0, "sequential_total_cycles / total_cycles"},
    [C_WEIGHTS_WORDS] = {"weights_words", SWEEP_COL_INT, 0, 0, "weights, master weights and velocity, words"},
    [C_HISTORY_WORDS] = {"history_words", SWEEP_COL_INT, 0, 0, "stash ring or EMA buffer, words"},
    [C_ACTIVATION_WORDS] = {"activation_words", SWEEP_COL_INT, 0, 0, "activation delay lines, words"},
    [C_REGISTER_WORDS] = {"register_words", SWEEP_COL_INT, 0, 0, "inter-stage registers, words"},
    [C_MEMORY_BYTES] = {"memory_bytes", SWEEP_COL_INT, -1, 0, "the four above, 4 bytes a word"},
    [C_OFFCHIP_READ_BYTES] = {"offchip_read_bytes", SWEEP_COL_INT, 0, 0, "off-chip reads (systemc models), bytes"},
    [C_OFFCHIP_WRITE_BYTES] = {"offchip_write_bytes", SWEEP_COL_INT, 0, 0, "off-chip writes (systemc models), bytes"},
    [C_EPOCHS] = {"epochs", SWEEP_COL_INT, 0, SWEEP_TRAIN, "epochs trained"},
    [C_TRAIN_LOSS] = {"train_loss", SWEEP_COL_REAL, 0, SWEEP_TRAIN, "last epoch's mean training loss"},
    [C_TRAIN_ACCURACY] = {"train_accuracy", SWEEP_COL_REAL, 1, SWEEP_TRAIN, "last epoch's training accuracy, percent"},
    [C_TEST_LOSS] = {"test_loss", SWEEP_COL_REAL, 0, SWEEP_TRAIN, "test loss after the last epoch"},
    [C_TEST_ACCURACY] = {"test_accuracy", SWEEP_COL_REAL, 1, SWEEP_TRAIN, "test accuracy after the last epoch, percent"},
    [C_SATURATIONS] = {"saturations", SWEEP_COL_INT, 0, SWEEP_TRAIN, "fixed-point saturations in the last epoch"},
    [C_AREA_UM2] = {"area_um2", SWEEP_COL_REAL, -1, SWEEP_AREA, "logic and SRAM area, um^2 (OSU 0.18 um)"},
    [C_LOGIC_AREA_UM2] = {"logic_area_um2", SWEEP_COL_REAL, 0, SWEEP_AREA, "standard cells, um^2"},
    [C_SRAM_AREA_UM2] = {"sram_area_um2", SWEEP_COL_REAL, 0, SWEEP_AREA, "memories by the SRAM table, um^2"},
    [C_FMAX_MHZ] = {"fmax_mhz", SWEEP_COL_REAL, 1, SWEEP_AREA, "1 / the critical path (OpenSTA), MHz"},
    [C_LATENCY_NS] = {"latency_ns", SWEEP_COL_REAL, -1, SWEEP_AREA, "2M-1 steps of cycles_per_step at fmax, ns"},
    [C_CONFIG] = {"config", SWEEP_COL_TEXT, 0, 0, "the point's effective config, YAML"},
};
const int sweep_n_columns = C_N;

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
    /* Each column's value; the table gives its name, type and whether o has it. */
    struct { int64_t i; double r; const char *s; } v[C_N] = {{0}};
    char *config = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&config, &len);
    if (mem) {
        cfg_write(c, mem, 0);
        fclose(mem);
    }
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    v[C_CONFIG_HASH].s = hash;
    v[C_CONFIG].s = config ? config : "";
    v[C_STAGES].i = f->stages;
    v[C_PARAMS].i = f->params;
    v[C_MAC_UNITS].i = f->mac_units;
    v[C_TOTAL_CYCLES].i = f->total_cycles;
    v[C_CYCLES_PER_STEP].i = f->cycles_per_step;   /* -1: null */
    v[C_SEQUENTIAL_TOTAL_CYCLES].i = f->sequential_total_cycles;
    v[C_SPEEDUP].r = f->speedup;
    v[C_WEIGHTS_WORDS].i = f->weights_words;
    v[C_HISTORY_WORDS].i = f->history_words;
    v[C_ACTIVATION_WORDS].i = f->activation_words;
    v[C_REGISTER_WORDS].i = f->register_words;
    v[C_MEMORY_BYTES].i = f->memory_bytes;
    v[C_OFFCHIP_READ_BYTES].i = f->offchip_read_bytes;
    v[C_OFFCHIP_WRITE_BYTES].i = f->offchip_write_bytes;
    if (t) {
        v[C_EPOCHS].i = t->epochs;
        v[C_TRAIN_LOSS].r = t->train_loss;
        v[C_TRAIN_ACCURACY].r = t->train_accuracy;
        v[C_TEST_LOSS].r = t->test_loss;
        v[C_TEST_ACCURACY].r = t->test_accuracy;
        v[C_SATURATIONS].i = t->saturations;
    }
    if (a) {
        v[C_AREA_UM2].r = a->area_um2;
        v[C_LOGIC_AREA_UM2].r = a->logic_area_um2;
        v[C_SRAM_AREA_UM2].r = a->sram_area_um2;
        v[C_FMAX_MHZ].r = a->fmax_mhz;
        v[C_LATENCY_NS].r = a->latency_ns;
    }
    json_begin_object(&j, "outputs");
    for (int k = 0; k < C_N; k++) {
        const struct sweep_column *col = &sweep_columns[k];
        if ((col->needs & sweep_needs(o)) != col->needs)
            continue;
        if (col->type == SWEEP_COL_TEXT)
            json_str(&j, col->name, v[k].s);
        else if (col->type == SWEEP_COL_REAL)
            json_real(&j, col->name, v[k].r);
        else
            json_int_or_null(&j, col->name, v[k].i);
    }
    free(config);
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
