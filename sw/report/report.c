#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../model/cycles.h"
#include "../../model/plan.h"
#include "../../sim/cosim.h"
#include "../base/csv.h"
#include "../base/files.h"
#include "../base/json.h"
#include "../base/outfile.h"
#include "../base/plot.h"
#include "../base/table.h"
#include "../run/rtl_build.h"
#include "../run/train_run.h"
#include "../run/verify.h"
#include "metrics.h"
#include "synth.h"

/* ---- what the area is made of ---- */

enum block {
    B_MAC, B_ENGINE, B_DELAY, B_EMA, B_STASH, B_UPDATE, B_NARROW, B_BANKING, B_REGS, B_WEIGHTS,
    B_OPT, B_BUFS, B_CONTROL, B_N
};
static const char *const block_name[B_N] = {
    "mac_array", "engine", "delay_lines", "ema_unit", "stash_ring", "update", "narrowing",
    "banking", "stage_registers", "weights", "optimizer_state", "layer_buffers", "control"};

/* The block of a module's own logic. */
static int logic_block(const char *base)
{
    static const struct { const char *m; int b; } map[] = {
        {"mac_array", B_MAC},      {"mac_cell", B_MAC},      {"lp_engine", B_ENGINE},
        {"delay_line", B_DELAY},
        {"ema_unit", B_EMA},       {"stash_ring", B_STASH},  {"sgd_update", B_UPDATE},
        {"fx_narrow", B_NARROW},   {"fx_narrow_reg", B_NARROW}, {"skew_mem", B_BANKING},
        {"lp_layer", B_CONTROL},   {"lp_stage", B_CONTROL},  {"lp_top", B_CONTROL}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(map[i].m, base))
            return map[i].b;
    return -1;
}

/* The block of a module's memories: a skew_mem says what it holds (its Kind, and how
 * many of its slots are registers between stages, which go to B_REGS); the tag delay
 * lines are the delay lines'. */
static int mem_block(const struct syn_module *m)
{
    static const int kind_block[] = {B_DELAY, B_DELAY, B_BUFS, B_WEIGHTS, B_OPT, B_OPT, B_EMA,
                                     B_STASH};
    if (!strcmp(m->base, "delay_line"))
        return B_DELAY;
    if (!strcmp(m->base, "skew_mem") && m->kind >= 0 && m->kind < 8 && m->slots > 0)
        return kind_block[m->kind];
    return -1;
}

/* The SRAM area table (docs/reports.md, "SRAM area"): um^2 per bit, periphery included,
 * by capacity. Memories of up to SYN_FLOP_BITS bits are flops, synthesised. */
static const char sram_source[] =
    "OpenRAM's SCMOS 0.5 um SRAM density, 0.0050 Mbit/mm^2 (VLSIDA/OpenRAM, "
    "docs/source/results.md), scaled to 0.18 um by (0.18/0.5)^2: 25.92 um^2 per bit, "
    "periphery included; ports and banking not modelled";
static const struct { int64_t min_bits, max_bits; double um2_per_bit; } sram_table[] = {
    {SYN_FLOP_BITS + 1, (int64_t)1 << 30, 1e6 / 0.0050e6 * (0.18 / 0.5) * (0.18 / 0.5)},
};

/* The SRAM macros' timing (docs/reports.md, "SRAM"), from the same source: OpenRAM's
 * SPICE-characterised SCMOS 0.5 um macro (VLSIDA/OpenRAM, lib/scn3me_subm/lib/
 * sram_1rw_32b_2048w_1bank_scn3me_subm_TT_5p0V_25C.lib: 12,696,470.64 um^2 for 65,536
 * bits, 194 um^2 a bit against the table's 200), its delays scaled to 0.18 um by
 * 0.18/0.5 as the table scales its area by the square. It latches the address on the
 * rising edge and reads while the clock is low: data out at most 9.2 ns after the
 * falling edge (the slowest input slew and load of its table), and the falling edge
 * comes half its minimum period (16.875 ns) after the rising one, so the read data of a
 * rising edge is valid 8.4375 + 9.2 ns later; setup at most 0.149 ns. */
#define SRAM_SCALE (0.18 / 0.5)
static const struct syn_sram_timing sram_timing = {
    (16.875 / 2 + 9.2) * SRAM_SCALE,   /* clock to read data: 6.3495 ns */
    0.149 * SRAM_SCALE,                 /* setup: 0.0536 ns */
    16.875 * SRAM_SCALE,                /* minimum period: 6.075 ns */
    1.153 * SRAM_SCALE,                 /* the read data's slew, of the same arc: 0.415 ns */
    9.8242e-3 * SRAM_SCALE,             /* an input pin's capacitance: 3.54 fF */
    "OpenRAM's sram_1rw_32b_2048w_1bank_scn3me_subm (SCMOS 0.5 um, TT 5 V 25 C, "
    "VLSIDA/OpenRAM lib/scn3me_subm/lib), delays scaled to 0.18 um by 0.18/0.5"};

static int sram_area(int64_t bits, double *um2)
{
    for (size_t i = 0; i < sizeof sram_table / sizeof *sram_table; i++)
        if (bits >= sram_table[i].min_bits && bits <= sram_table[i].max_bits) {
            *um2 = (double)bits * sram_table[i].um2_per_bit;
            return 0;
        }
    return -1;
}

/* ---- one policy ---- */

/* Block b's slack with the clock at P's fmax (its period the design's worst path), to
 * the picosecond OpenSTA reports. */
#define SLACK_NS(P, b) (round(((P)->syn.path.ns - (P)->blk[b].ns) * 1000.0) / 1000.0)

#define MAX_EPOCHS METRICS_MAX_EPOCHS

/* One layer's weight history in the hardware, um^2: the SRAM of its EMA buffer or stash
 * ring, the logic of the units that serve it (the EMA's rebuild lanes and its step of m in
 * the update lanes; the stash ring's push and read path; the history memory's own banking
 * logic), and all of the layer's logic (for the difference to stale). */
struct lay {
    double hist_sram, hist_logic, logic;
};

struct pol {
    int on;
    struct syn_result syn;
    double logic[B_N], sram[B_N], area, logic_area, sram_area;
    int64_t sram_bits[B_N];
    double fmax_mhz, latency_ns, samples_per_s;
    double step_latency_us;               /* a step at fmax */
    struct syn_path blk[B_N];             /* each block's worst path (ns < 0: none) */
    int64_t buffers;                      /* fanout buffers in the whole design */
    int64_t step_cycles, stage_busy[64], lane_cycles, latency_steps;
    int64_t stage_bound[64], mac_bound;   /* tiles x beats: per stage, the step's bound */
    int slowest;                          /* the busiest stage, 1-based */
    /* words, the planner's */
    int64_t w_weights, w_opt, w_hist, w_act, w_regs;
    /* words, the RTL's memories as Yosys read them */
    int64_t r_weights, r_hist, r_act, r_regs;
    int n_acc;
    double acc[MAX_EPOCHS];
    struct lay *lay;                      /* per network layer */
};

struct rep {
    const struct config *c;
    struct plan p, p1;
    struct pol pol[PLAN_N_POLICIES];
    int M, L;
    int opw, accw;           /* the MAC array's operand and accumulator bits */
    char runs[1100];
    int have_runs;
    char v_yosys[160], v_sta[160], v_gnuplot[160];
    const char *liberty;
};

static const char *pname(int p)
{
    return plan_policy_name((enum plan_policy)p);
}

/* The planner's words for layer l under policy k: weights, optimizer state, history,
 * activation delay line, inter-stage registers the layer sends into. */
static void layer_words(const struct rep *r, int k, int l, int64_t w[5])
{
    const struct plan *pa = k == PLAN_SEQUENTIAL ? &r->p1 : &r->p;
    const struct plan_layer *pl = &r->p.layers[l];
    w[0] = pl->params;
    w[1] = 2 * pl->params;
    w[2] = k == PLAN_STASH ? pl->stash_words : k == PLAN_EMA ? pl->ema_words : 0;
    w[3] = pa->layers[l].act_words;
    w[4] = 0;
    for (int i = 0; i < r->p.n_edges; i++)
        if (r->p.edges[i].from == l)
            w[4] += r->p.edges[i].forward_words + r->p.edges[i].backward_words;
}

/* The RTL's parameters under policy k, as verify builds it ("-GName=value" lines). Returns
 * 0, or 2 with d set (a network the RTL cannot build). */
static int policy_params(struct rep *r, int k, char *params, size_t size, struct diag *d)
{
    const struct config *c = r->c;
    struct fixed_spec q;
    struct train_opts o;
    struct diag e = {0};
    cfg_fixed_spec(c, &q);
    train_fill_opts(c, (enum plan_policy)k, 1, 1, &q, &o);
    struct cosim_setup s = {&c->net, c->pipeline.stage_of, c->pipeline.n_stages, &o, &q,
                            c->hardware.mac_rows, c->hardware.mac_cols,
                            c->hardware.mac_pipeline, NULL, NULL, 0, NULL, NULL, 0, 0};
    if (cosim_top_params(&s, params, size, &e)) {
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        return 2;
    }
    const char *ow = strstr(params, "-GOpW="), *aw = strstr(params, "-GAccW=");
    r->opw = ow ? atoi(ow + 6) : 0;
    r->accw = aw ? atoi(aw + 7) : 0;
    return 0;
}

/* The SRAM area of module m's memories kept as macros, one instance. */
static double module_sram(const struct syn_module *m)
{
    double sum = 0, a;
    for (int j = 0; j < m->n_mems; j++)
        if (m->mems[j].sram && !sram_area(m->mems[j].width * m->mems[j].size, &a))
            sum += a;
    return sum;
}

/* Module i's subtree into *y: all of its logic, and what serves the weight history (the
 * subtrees of ema_unit and stash_ring, a skew_mem holding an EMA buffer or a stash ring). */
static void layer_subtree(const struct syn_result *s, int i, int hist, struct lay *y)
{
    const struct syn_module *m = &s->m[i];
    hist = hist || !strcmp(m->base, "ema_unit") || !strcmp(m->base, "stash_ring") ||
           (!strcmp(m->base, "skew_mem") && (m->kind == 6 || m->kind == 7));
    y->logic += m->area;
    if (hist) {
        y->hist_logic += m->area;
        y->hist_sram += module_sram(m);
    }
    for (int j = 0; j < m->n_inst; j++)
        layer_subtree(s, m->inst_kid[j], hist, y);
}

/* Each network layer's history and logic (P->lay), from the instances gen_stage[s].u_stage
 * of the top and gen_layer[j].u_layer of a stage: the j-th layer of stage s. */
static void layer_areas(const struct rep *r, struct pol *P)
{
    const struct syn_module *top = &P->syn.m[0];
    for (int a = 0; a < top->n_inst; a++) {
        int st, j, n = -1;
        if (sscanf(top->inst_name[a], "gen_stage[%d].u_stage%n", &st, &n) != 1 ||
            top->inst_name[a][n])
            continue;
        const struct syn_module *sm = &P->syn.m[top->inst_kid[a]];
        for (int b = 0; b < sm->n_inst; b++) {
            n = -1;
            if (sscanf(sm->inst_name[b], "gen_layer[%d].u_layer%n", &j, &n) != 1 ||
                sm->inst_name[b][n])
                continue;
            for (int l = 0, seen = 0; l < r->L; l++)
                if (r->c->pipeline.stage_of[l] == st && seen++ == j)
                    layer_subtree(&P->syn, sm->inst_kid[b], 0, &P->lay[l]);
        }
    }
}

/* The worst path of each block: to its modules' flops, and to the inputs of the SRAM
 * macros of the memories it holds. */
static void block_paths(struct pol *P)
{
    for (int b = 0; b < B_N; b++)
        P->blk[b].ns = -1;
    for (int i = 0; i < P->syn.n; i++) {
        const struct syn_module *m = &P->syn.m[i];
        int b = logic_block(m->base), mb = mem_block(m);
        if (b >= 0 && m->worst[SYN_LOGIC].ns > P->blk[b].ns)
            P->blk[b] = m->worst[SYN_LOGIC];
        if (mb >= 0 && m->worst[SYN_SRAM].ns > P->blk[mb].ns)
            P->blk[mb] = m->worst[SYN_SRAM];
    }
}

/* Policy P's area by block: each module's own logic, each memory kept as SRAM, and the
 * memories' words as the RTL holds them. Returns 0; 1 or 2 with d set. */
static int pol_areas(const struct config *c, struct pol *P, struct diag *d)
{
    for (int i = 0; i < P->syn.n; i++) {
        const struct syn_module *m = &P->syn.m[i];
        int b = logic_block(m->base);
        if (b < 0)
            return diag_set(d, "layerpipe report", 0, 0, "no area block for the RTL module %s", m->base), 1;
        P->logic[b] += m->area * (double)m->count;
        for (int j = 0; j < m->n_mems; j++) {
            const struct syn_mem *mm = &m->mems[j];
            int mb = mem_block(m);
            if (mb < 0)
                return diag_set(d, "layerpipe report", 0, 0, "no area block for memory %s of %s", mm->name,
                                m->base), 1;
            /* a skew_mem's banks are its slots side by side: RegSlots of them registers */
            int64_t words = mm->size * m->count, bits = mm->width * mm->size;
            int64_t regs = m->reg_slots > 0 ? words * m->reg_slots / m->slots : 0;
            if (m->kind == 3)
                P->r_weights += words;
            else if (m->kind == 0 || m->kind == 1)
                P->r_act += words - regs;
            else if (m->kind == 6 || m->kind == 7)
                P->r_hist += words;
            P->r_regs += regs;
            if (!mm->sram)
                continue;
            double a;
            if (sram_area(bits, &a))
                return diag_set(d, c->path, 0, 0, "no SRAM table entry for a %lld-bit memory "
                                "(%s of %s): the table covers %lld to %lld bits",
                                (long long)bits, mm->name, m->base,
                                (long long)sram_table[0].min_bits,
                                (long long)sram_table[0].max_bits), 2;
            double reg_share = (double)regs / (double)words;
            P->sram[mb] += a * (double)m->count * (1 - reg_share);
            P->sram[B_REGS] += a * (double)m->count * reg_share;
            P->sram_bits[mb] += bits * m->count - bits * m->count * regs / words;
            P->sram_bits[B_REGS] += bits * m->count * regs / words;
        }
    }
    return 0;
}

/* Policy k's cycles: a step with every stage busy (sequential: one minibatch's step),
 * per stage and against the MAC-bound. Returns 0, or 2 with d set. */
static int pol_cycles(struct rep *r, int k, struct diag *d)
{
    const struct config *c = r->c;
    struct pol *P = &r->pol[k];
    struct diag e = {0};
    struct cyc_model cm;
    struct cyc_hw hw = {c->hardware.mac_rows, c->hardware.mac_cols, c->hardware.mac_pipeline};
    if (cyc_build(&cm, &c->net, c->pipeline.stage_of, r->M, c->training.batch,
                  (enum plan_policy)k, &hw, &e)) {
        diag_set(d, c->path, 0, 0, "%s", e.msg);
        return 2;
    }
    struct cyc_stage_step st[64];
    int seq = k == PLAN_SEQUENTIAL;
    int64_t n = seq ? 1 : 2 * (int64_t)r->M - 1;
    P->step_cycles = cyc_step(&cm, n, seq ? 0 : n - 1, st);
    int64_t all = 0;
    for (int j = 0; j < r->M && j < 64; j++) {
        P->stage_busy[j] = st[j].busy;
        P->stage_bound[j] = st[j].mac_bound;
        all += st[j].mac_bound;
        if (!P->slowest || st[j].busy > P->stage_busy[P->slowest - 1])
            P->slowest = j + 1;
    }
    /* sequential runs the stages one after the other: its bound is all of their work */
    P->mac_bound = seq ? all : P->stage_bound[P->slowest - 1];
    for (int l = 0; l < r->L; l++)   /* the EMA lanes lengthen a forward and a backward */
        P->lane_cycles += 2 * cm.layer[l].lane_latency;
    cyc_free(&cm);
    return 0;
}

/* Policy k's figures from its synthesis and timing (P->syn), the cycle model and the
 * planner. Returns 0; 2 with d set on bad input; 1 with d set otherwise. */
static int policy_figures(struct rep *r, int k, struct diag *d)
{
    const struct config *c = r->c;
    struct pol *P = &r->pol[k];
    int rc = pol_areas(c, P, d);
    if (rc)
        return rc;
    for (int b = 0; b < B_N; b++) {
        P->logic_area += P->logic[b];
        P->sram_area += P->sram[b];
    }
    P->area = P->logic_area + P->sram_area;
    P->fmax_mhz = 1000.0 / P->syn.path.ns;
    block_paths(P);
    layer_areas(r, P);
    for (int i = 0; i < P->syn.n; i++)
        P->buffers += P->syn.m[i].buffers * P->syn.m[i].count;
    if ((rc = pol_cycles(r, k, d)))
        return rc;
    int seq = k == PLAN_SEQUENTIAL;
    P->latency_steps = seq ? 1 : 2 * (int64_t)r->M - 1;
    P->latency_ns = (double)(P->latency_steps * P->step_cycles) * P->syn.path.ns;
    P->step_latency_us = (double)P->step_cycles / P->fmax_mhz;
    P->samples_per_s = (double)c->training.batch * P->fmax_mhz * 1e6 / (double)P->step_cycles;
    for (int l = 0; l < r->L; l++) {
        int64_t w[5];
        layer_words(r, k, l, w);
        P->w_weights += w[0];
        P->w_opt += w[1];
        P->w_hist += w[2];
        P->w_act += w[3];
        P->w_regs += w[4];
    }
    return 0;
}

/* ---- training results ---- */

static int read_runs(struct rep *r, const struct report_request *rq, struct diag *d)
{
    const struct config *c = r->c;
    if (rq->runs)
        snprintf(r->runs, sizeof r->runs, "%s", rq->runs);
    else {
        const char *base = strrchr(c->path, '/');
        base = base ? base + 1 : c->path;
        int n = (int)strcspn(base, ".");
        snprintf(r->runs, sizeof r->runs, "build/runs/%.*s", n, base);
    }
    char path[1200], want[32];
    snprintf(path, sizeof path, "%s/summary.json", r->runs);
    if (access(path, F_OK) != 0) {
        if (rq->runs)
            return diag_set(d, path, 0, 0, "cannot open the training results (from `layerpipe "
                            "train CONFIG --policy all --out %s`)", rq->runs);
        return 0;
    }
    /* summary.json is JSON, which the YAML reader reads; results found by default that
     * do not parse are not this config's */
    struct ydoc doc;
    if (ydoc_load(&doc, path, d))
        return rq->runs ? -1 : 0;
    const struct ynode *root = doc.root,
                       *h = root && root->kind == YNODE_MAP ? ynode_get(root, "config_hash") : NULL;
    snprintf(want, sizeof want, "%016llx", (unsigned long long)c->hash);
    int same = h && h->kind == YNODE_SCALAR && !strcmp(h->text, want);
    ydoc_free(&doc);
    if (!same) {
        if (rq->runs)
            return diag_set(d, path, 0, 0, "these results were trained from another config "
                            "(this one's hash is %016llx)", (unsigned long long)c->hash);
        return 0;
    }
    snprintf(path, sizeof path, "%s/metrics.csv", r->runs);
    FILE *f = fopen(path, "r");
    if (!f)
        return rq->runs ? diag_set(d, path, 0, 0, "cannot open the training metrics") : 0;
    struct metrics *m = calloc(1, sizeof *m);
    if (!m) {
        fclose(f);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    int rc = metrics_read(m, f, path, d);
    for (int k = 0; k < PLAN_N_POLICIES && !rc; k++) {
        r->pol[k].n_acc = m->n[k];
        memcpy(r->pol[k].acc, m->pct[k], sizeof r->pol[k].acc);
    }
    free(m);
    r->have_runs = !rc;
    return rc;
}

/* ---- output ---- */

static double kib(int64_t words)
{
    return (double)words * 4.0 / 1024.0;
}

/* A memstream for one output file. */
struct buf {
    char *s;
    size_t n;
    FILE *f;
};

static FILE *buf_open(struct buf *b)
{
    b->s = NULL;
    b->n = 0;
    return b->f = open_memstream(&b->s, &b->n);
}

static int buf_write(struct buf *b, const char *dir, const char *name, struct diag *d)
{
    int rc = b->f ? fclose(b->f) : -1;
    b->f = NULL;
    if (rc)
        rc = diag_set(d, "layerpipe report", 0, 0, "out of memory");
    else
        rc = outfile_write(dir, name, b->s, b->n, d);
    free(b->s);
    b->s = NULL;
    return rc;
}

/* Layer l's EMA against its stash ring: the SRAM the EMA saves, the logic it adds (the
 * layer's logic under ema less under stash), and the width n of a square layer (n x n
 * weights, the same delay and array) below which that logic outweighs the SRAM saved:
 * the saving is (d - 1) n^2 words of SRAM, the logic does not grow with n. Returns 0 when
 * the layer keeps no history or either policy is off. */
static int ema_trade(const struct rep *r, int l, double *saved, double *added, double *width)
{
    const struct pol *E = &r->pol[PLAN_EMA], *S = &r->pol[PLAN_STASH];
    const struct plan_layer *pl = &r->p.layers[l];
    if (!E->on || !S->on || pl->ema_words <= 0 || pl->stash_words <= pl->ema_words)
        return 0;
    int64_t d = pl->stash_words / pl->ema_words;
    *saved = S->lay[l].hist_sram - E->lay[l].hist_sram;
    *added = E->lay[l].logic - S->lay[l].logic;
    *width = *added > 0 ? sqrt(*added / ((double)(d - 1) * 32 * sram_table[0].um2_per_bit)) : 0;
    return 1;
}

static void write_csv(const struct rep *r, FILE *f)
{
    const struct config *c = r->c;
    fprintf(f, "layer,stage,delay_steps,params_words,weights_bits,optimizer_bits");
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (r->pol[k].on)
            fprintf(f, ",%s_history_bits,%s_act_delay_bits,%s_registers_bits,%s_total_bytes", pname(k),
                    pname(k), pname(k), pname(k));
    fprintf(f, ",fwd_beats,dx_beats,dw_beats,update_cycles");
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (r->pol[k].on)
            fprintf(f, ",%s_fwd_cycles,%s_bwd_cycles", pname(k), pname(k));
    fprintf(f, "\n");
    struct cyc_model cm[PLAN_N_POLICIES];
    struct cyc_hw hw = {c->hardware.mac_rows, c->hardware.mac_cols, c->hardware.mac_pipeline};
    int built[PLAN_N_POLICIES] = {0};
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        built[k] = r->pol[k].on && !cyc_build(&cm[k], &c->net, c->pipeline.stage_of, r->M,
                                              c->training.batch, (enum plan_policy)k, &hw, NULL);
    for (int l = 0; l < r->L; l++) {
        int64_t w[5];
        layer_words(r, PLAN_STASH, l, w);
        csv_field(f, c->net.layers[l].name);
        fprintf(f, ",%d,%d,%lld,%lld,%lld", r->p.layers[l].stage,
                r->p.layers[l].delay, (long long)w[0], (long long)w[0] * 32,
                (long long)w[1] * 32);
        for (int k = 0; k < PLAN_N_POLICIES; k++) {
            if (!r->pol[k].on)
                continue;
            layer_words(r, k, l, w);
            fprintf(f, ",%lld,%lld,%lld,%lld", (long long)w[2] * 32, (long long)w[3] * 32,
                    (long long)w[4] * 32, (long long)(w[0] + w[1] + w[2] + w[3] + w[4]) * 4);
        }
        int any = -1;
        for (int k = 0; k < PLAN_N_POLICIES && any < 0; k++)
            if (built[k])
                any = k;
        const struct cyc_layer *cl = any >= 0 ? &cm[any].layer[l] : NULL;
        fprintf(f, ",%lld,%lld,%lld,%lld", cl ? (long long)cl->fwd_beats : 0,
                cl ? (long long)cl->dx_beats : 0, cl ? (long long)cl->dw_beats : 0,
                cl ? (long long)cl->update : 0);
        for (int k = 0; k < PLAN_N_POLICIES; k++)
            if (r->pol[k].on)
                fprintf(f, ",%lld,%lld", built[k] ? (long long)cm[k].layer[l].fwd : 0,
                        built[k] ? (long long)cm[k].layer[l].bwd : 0);
        fprintf(f, "\n");
    }
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (built[k])
            cyc_free(&cm[k]);
}

/* summary.json: one policy's area, timing and cycles. */
static void json_policy_figures(struct json *j, const struct pol *P)
{
    json_real(j, "total_area_um2", P->area);
    json_real(j, "logic_area_um2", P->logic_area);
    json_real(j, "sram_area_um2", P->sram_area);
    json_int(j, "std_cells", P->syn.cells);
    json_int(j, "fanout_buffers", P->buffers);
    json_real(j, "critical_path_ns", P->syn.path.ns);
    json_str(j, "critical_path_from", P->syn.path.from);
    json_str(j, "critical_path_to", P->syn.path.to);
    json_real(j, "fmax_mhz", P->fmax_mhz);
    json_begin_array(j, "critical_paths");
    for (int b = 0; b < B_N; b++) {
        if (P->blk[b].ns < 0)
            continue;
        json_begin_object(j, NULL);
        json_str(j, "block", block_name[b]);
        json_str(j, "from", P->blk[b].from);
        json_str(j, "to", P->blk[b].to);
        json_real(j, "delay_ns", P->blk[b].ns);
        json_real(j, "slack_ns", SLACK_NS(P, b));
        json_end_object(j);
    }
    json_end_array(j);
    json_int(j, "cycles_per_step", P->step_cycles);
    json_real(j, "step_latency_us", P->step_latency_us);
    json_int(j, "latency_steps", P->latency_steps);
    json_real(j, "latency_ns", P->latency_ns);
    json_real(j, "samples_per_s", P->samples_per_s);
    json_int(j, "ema_lane_cycles_per_step", P->lane_cycles);
    json_int(j, "history_bytes", P->w_hist * 4);
}

/* summary.json: one policy's memory, area by block, stages, layers and accuracy. */
static void json_policy_parts(struct json *j, const struct rep *r, const struct pol *P)
{
    json_begin_object(j, "memory_bytes");
    json_int(j, "weights", P->w_weights * 4);
    json_int(j, "optimizer_state", P->w_opt * 4);
    json_int(j, "history", P->w_hist * 4);
    json_int(j, "activation_delay_lines", P->w_act * 4);
    json_int(j, "stage_registers", P->w_regs * 4);
    json_int(j, "total", (P->w_weights + P->w_opt + P->w_hist + P->w_act + P->w_regs) * 4);
    json_end_object(j);
    json_begin_object(j, "rtl_memory_words");
    json_int(j, "weights", P->r_weights);
    json_int(j, "history", P->r_hist);
    json_int(j, "activation_delay_lines", P->r_act);
    json_int(j, "stage_registers", P->r_regs);
    json_end_object(j);
    json_begin_object(j, "area_um2");
    for (int b = 0; b < B_N; b++) {
        json_begin_object(j, block_name[b]);
        json_real(j, "logic", P->logic[b]);
        json_real(j, "sram", P->sram[b]);
        json_int(j, "sram_bits", P->sram_bits[b]);
        json_end_object(j);
    }
    json_end_object(j);
    json_begin_array(j, "stage_busy_cycles");
    for (int s = 0; s < r->M && s < 64; s++)
        json_int(j, NULL, P->stage_busy[s]);
    json_end_array(j);
    json_begin_array(j, "stage_mac_bound_cycles");
    for (int s = 0; s < r->M && s < 64; s++)
        json_int(j, NULL, P->stage_bound[s]);
    json_end_array(j);
    json_int(j, "mac_bound_cycles", P->mac_bound);
    json_begin_array(j, "layers");
    for (int l = 0; l < r->L; l++) {
        json_begin_object(j, NULL);
        json_str(j, "name", r->c->net.layers[l].name);
        json_real(j, "history_sram_um2", P->lay[l].hist_sram);
        json_real(j, "history_logic_um2", P->lay[l].hist_logic);
        json_real(j, "logic_um2", P->lay[l].logic);
        json_end_object(j);
    }
    json_end_array(j);
    if (P->n_acc) {
        json_begin_array(j, "test_accuracy_pct");
        for (int e = 0; e < P->n_acc; e++)
            json_real(j, NULL, P->acc[e]);
        json_end_array(j);
    }
}

static void write_json(const struct rep *r, FILE *f)
{
    const struct config *c = r->c;
    struct json j;
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    json_init(&j, f);
    json_begin_object(&j, NULL);
    json_str(&j, "name", c->name);
    json_str(&j, "config_hash", hash);
    json_begin_object(&j, "tools");
    json_str(&j, "yosys", r->v_yosys);
    json_str(&j, "opensta", r->v_sta);
    json_str(&j, "gnuplot", r->v_gnuplot);
    json_str(&j, "liberty", r->liberty);
    json_str(&j, "sram_table", sram_source);
    json_end_object(&j);
    json_int(&j, "stages", r->M);
    json_int(&j, "batch", c->training.batch);
    json_begin_object(&j, "policies");
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        const struct pol *P = &r->pol[k];
        if (!P->on)
            continue;
        json_begin_object(&j, pname(k));
        json_policy_figures(&j, P);
        json_policy_parts(&j, r, P);
        json_end_object(&j);
    }
    json_end_object(&j);
    json_begin_array(&j, "ema_against_stash");
    for (int l = 0; l < r->L; l++) {
        double saved, added, width;
        if (!ema_trade(r, l, &saved, &added, &width))
            continue;
        json_begin_object(&j, NULL);
        json_str(&j, "layer", c->net.layers[l].name);
        json_int(&j, "delay_steps", r->p.layers[l].stash_words / r->p.layers[l].ema_words);
        json_real(&j, "sram_saved_um2", saved);
        json_real(&j, "logic_added_um2", added);
        json_real(&j, "crossover_width", width);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    fputc('\n', f);
}

/* ---- plots ---- */

/* Thirteen distinct colours (ColorBrewer's Paired and a grey), one per series: gnuplot's
 * own cycle has eight, which would give two blocks one colour. */
static const char plot_head[] =
    "set style data histograms\nset style fill solid 0.8 border -1\nset boxwidth 0.9\n"
    "set key outside right top\nset grid ytics\nset xtics nomirror\n"
    "colors = '#1f78b4 #33a02c #e31a1c #ff7f00 #6a3d9a #b15928 #a6cee3 #b2df8a #fb9a99 "
    "#fdbf6f #cab2d6 #ffff99 #666666'\n";

static int plot(const char *dir, const char *name, const char *body, struct diag *d)
{
    return plot_run(dir, name, "layerpipe report", plot_head, body, d);
}

static int n_on_pols(const struct rep *r)
{
    int n = 0;
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        n += r->pol[k].on;
    return n;
}

/* A plot's data header: a comment, then the row key and one column per reported policy. */
static void policy_header(FILE *f, const struct rep *r, const char *what, const char *key)
{
    fprintf(f, "# %s\n%s", what, key);
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (r->pol[k].on)
            fprintf(f, " %s", pname(k));
    fputc('\n', f);
}

/* A histogram of columns 2..cols+1 of name.dat, one colour per column. */
static int histogram(const char *dir, const char *name, const char *settings, int cols,
                     struct diag *d)
{
    char body[4096];
    snprintf(body, sizeof body,
             "%splot for [i=2:%d] '%s.dat' using i:xtic(1) title columnheader(i) "
             "lc rgb word(colors, i - 1)\n",
             settings, cols + 1, name);
    return plot(dir, name, body, d);
}

/* plots/memory.dat and its histogram: memory by layer and policy. */
static int plot_memory(const struct rep *r, const char *dir, struct diag *d)
{
    const struct config *c = r->c;
    struct buf b;
    char set[512];
    int n_on = n_on_pols(r);
    FILE *f = buf_open(&b);
    policy_header(f, r, "layer, then KiB per policy (weights, optimizer state, history, "
                  "activation delay lines, registers)", "layer");
    for (int l = 0; l < r->L; l++) {
        fprintf(f, "%s", c->net.layers[l].name);
        for (int k = 0; k < PLAN_N_POLICIES; k++) {
            int64_t w[5];
            if (!r->pol[k].on)
                continue;
            layer_words(r, k, l, w);
            fprintf(f, " %.3f", kib(w[0] + w[1] + w[2] + w[3] + w[4]));
        }
        fprintf(f, "\n");
    }
    if (buf_write(&b, dir, "memory.dat", d))
        return -1;
    snprintf(set, sizeof set, "set title 'memory by layer and policy (%s)'\nset ylabel 'KiB'\n"
             "set style histogram clustered gap 1\n", c->name);
    return histogram(dir, "memory", set, n_on, d);
}

/* plots/area.dat and its histogram: area by block and policy. */
static int plot_area(const struct rep *r, const char *dir, struct diag *d)
{
    const struct config *c = r->c;
    struct buf b;
    char set[512];
    FILE *f = buf_open(&b);
    fprintf(f, "# policy, then mm^2 per block (logic and SRAM)\npolicy");
    for (int bl = 0; bl < B_N; bl++)
        fprintf(f, " %s", block_name[bl]);
    fprintf(f, "\n");
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        if (!r->pol[k].on)
            continue;
        fprintf(f, "%s", pname(k));
        for (int bl = 0; bl < B_N; bl++)
            fprintf(f, " %.6f", (r->pol[k].logic[bl] + r->pol[k].sram[bl]) / 1e6);
        fprintf(f, "\n");
    }
    if (buf_write(&b, dir, "area.dat", d))
        return -1;
    snprintf(set, sizeof set, "set title 'area by block and policy, OSU 0.18 um (%s)'\n"
             "set ylabel 'mm^2'\nset style histogram rowstacked\n", c->name);
    return histogram(dir, "area", set, B_N, d);
}

/* plots/cycles.dat and its histogram: busy cycles per step by stage. */
static int plot_cycles(const struct rep *r, const char *dir, struct diag *d)
{
    const struct config *c = r->c;
    struct buf b;
    char set[512];
    int n_on = n_on_pols(r);
    FILE *f = buf_open(&b);
    policy_header(f, r, "stage, then busy cycles in a step with every stage busy, per policy",
                  "stage");
    for (int s = 0; s < r->M && s < 64; s++) {
        fprintf(f, "%d", s + 1);
        for (int k = 0; k < PLAN_N_POLICIES; k++)
            if (r->pol[k].on)
                fprintf(f, " %lld", (long long)r->pol[k].stage_busy[s]);
        fprintf(f, "\n");
    }
    if (buf_write(&b, dir, "cycles.dat", d))
        return -1;
    snprintf(set, sizeof set, "set title 'busy cycles per step by stage (%s)'\n"
             "set ylabel 'cycles'\nset xlabel 'stage'\nset style histogram clustered gap 1\n",
             c->name);
    return histogram(dir, "cycles", set, n_on, d);
}

/* plots/accuracy.dat and its plot: test accuracy per epoch. */
static int plot_accuracy(const struct rep *r, const char *dir, struct diag *d)
{
    const struct config *c = r->c;
    struct buf b;
    int n_on = n_on_pols(r);
    FILE *f = buf_open(&b);
    int epochs = 0;
    policy_header(f, r, "epoch, then test accuracy % per policy", "epoch");
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (r->pol[k].on && r->pol[k].n_acc > epochs)
            epochs = r->pol[k].n_acc;
    for (int e = 0; e < epochs; e++) {
        fprintf(f, "%d", e + 1);
        for (int k = 0; k < PLAN_N_POLICIES; k++)
            if (r->pol[k].on) {
                if (e < r->pol[k].n_acc)
                    fprintf(f, " %.2f", r->pol[k].acc[e]);
                else
                    fprintf(f, " NaN");
            }
        fprintf(f, "\n");
    }
    if (buf_write(&b, dir, "accuracy.dat", d))
        return -1;
    char body[4096];
    snprintf(body, sizeof body,
             "set title 'test accuracy per epoch (%s, %s)'\nset ylabel '%%'\n"
             "set xlabel 'epoch'\nset style data linespoints\nset xtics 1\n"
             "plot for [i=2:%d] 'accuracy.dat' using 1:i title columnheader(i) lc rgb word(colors, i - 1)\n",
             c->name, r->runs, n_on + 1);
    return plot(dir, "accuracy", body, d);
}

static int write_plots(const struct rep *r, const char *out_dir, struct diag *d)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/plots", out_dir);
    struct diag dd;
    if (file_mkdir_p(dir, &dd))
        return *d = dd, -1;
    if (plot_memory(r, dir, d) || plot_area(r, dir, d) || plot_cycles(r, dir, d))
        return -1;
    return r->have_runs ? plot_accuracy(r, dir, d) : 0;
}

/* report.md: what was measured with what, and each policy's headline figures. */
static void md_summary(const struct rep *r, FILE *f)
{
    const struct config *c = r->c;
    struct table t;
    fprintf(f, "# Hardware report: %s\n\n", c->name);
    fprintf(f, "Config `%s`, hash `%016llx`; %d layers on %d stages, batch %d, MAC array "
               "%dx%d with a %d-cycle pipeline, %d-bit operands and %d-bit accumulators "
               "(the fixed-point formats of `numerics`%s). Area: Yosys (%s) mapped to the OSU 0.18 um "
               "cells (`%s`), memories above %d bits from the SRAM table (%s). Timing: "
               "OpenSTA (%s) on the mapped netlist. Cycles: the analytic cycle model, equal "
               "to the RTL's.\n\n",
            c->path, (unsigned long long)c->hash, r->L, r->M, c->training.batch,
            c->hardware.mac_rows, c->hardware.mac_cols, c->hardware.mac_pipeline, r->opw,
            r->accw, c->numerics.format == CFG_FIXED ? "" : "; the config trains in float32",
            r->v_yosys,
            r->liberty, SYN_FLOP_BITS, sram_source, r->v_sta);
    fprintf(f, "## Summary\n\n```\n");
    table_init(&t, 12);
    table_row(&t, "policy|area_mm2|logic_mm2|sram_mm2|fmax_MHz|cycles/step|step_us|"
                  "latency_us|samples/s|history_KiB|memory_KiB|test_acc_%%");
    table_rule(&t);
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        const struct pol *P = &r->pol[k];
        if (!P->on)
            continue;
        char acc[32] = "-";
        if (P->n_acc)
            snprintf(acc, sizeof acc, "%.2f", P->acc[P->n_acc - 1]);
        table_row(&t, "%s|%.3f|%.3f|%.3f|%.2f|%lld|%.3f|%.2f|%.0f|%.1f|%.1f|%s", pname(k),
                  P->area / 1e6, P->logic_area / 1e6, P->sram_area / 1e6, P->fmax_mhz,
                  (long long)P->step_cycles, P->step_latency_us, P->latency_ns / 1e3,
                  P->samples_per_s,
                  kib(P->w_hist),
                  kib(P->w_weights + P->w_opt + P->w_hist + P->w_act + P->w_regs), acc);
    }
    table_print(&t, f);
    table_free(&t);
    fprintf(f, "```\n\nlatency: one minibatch from its input to its last update (2M-1 steps "
               "pipelined, 1 sequential) at fmax; step_us: cycles per step / fmax; samples/s: "
               "batch x fmax / cycles per step.%s\n\n",
            r->have_runs ? "" : " No training results for this config (run `layerpipe train "
                                "CONFIG --policy all --out DIR`, then `--runs DIR`).");
    fprintf(f, "Against the MAC-bound (the tiles x beats of the busiest stage's products; "
               "sequential: of every stage's, one after the other):");
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        const struct pol *P = &r->pol[k];
        char where[32] = "";
        if (!P->on)
            continue;
        if (k != PLAN_SEQUENTIAL)
            snprintf(where, sizeof where, " (stage %d)", P->slowest);
        fprintf(f, " %s %lld cycles/step, %.3fx its bound of %lld%s;", pname(k),
                (long long)P->step_cycles,
                P->mac_bound ? (double)P->step_cycles / (double)P->mac_bound : 0,
                (long long)P->mac_bound, where);
    }
    fprintf(f, " docs/cycle-model.md says where the rest goes.\n\n");
}

/* report.md: the EMA unit against the stash ring, in area and cycles. */
static void md_ema(const struct rep *r, FILE *f)
{
    const struct pol *E = &r->pol[PLAN_EMA], *S = &r->pol[PLAN_STASH], *T = &r->pol[PLAN_STALE];
    if (E->on && S->on) {
        fprintf(f, "## EMA recompute against the stash baseline\n\n"
                   "EMA: %.3f mm^2 in all (EMA units %.3f mm^2 of logic, EMA buffers %.3f "
                   "mm^2 of SRAM for %.1f KiB); stash: %.3f mm^2 (stash rings %.3f mm^2 of "
                   "logic and %.3f mm^2 of SRAM for %.1f KiB). EMA is %s by %.3f mm^2 "
                   "(%.1f%%).",
                E->area / 1e6, E->logic[B_EMA] / 1e6, E->sram[B_EMA] / 1e6, kib(E->w_hist),
                S->area / 1e6, S->logic[B_STASH] / 1e6, S->sram[B_STASH] / 1e6,
                kib(S->w_hist), E->area < S->area ? "smaller" : "larger",
                (E->area < S->area ? S->area - E->area : E->area - S->area) / 1e6,
                100.0 * (E->area - S->area) / S->area);
        fprintf(f, " In cycles the EMA rebuild lanes sit on the path from memory to the array "
                   "and add %lld cycles of latency per step (summed over the layers; the stash "
                   "ring's read sits on the same path and adds %lld)",
                (long long)E->lane_cycles, (long long)S->lane_cycles);
        if (T->on)
            fprintf(f, ", which makes a step %lld cycles against stale weights' %lld (%+.1f%%)",
                    (long long)E->step_cycles, (long long)T->step_cycles,
                    100.0 * (double)(E->step_cycles - T->step_cycles) / (double)T->step_cycles);
        fprintf(f, ".\n\n");
    }
}

/* report.md: LAYERPIPE.md section 7's trade per layer, and where the EMA's logic
 * outweighs the memory it saves. */
static void md_history(const struct rep *r, FILE *f)
{
    const struct config *c = r->c;
    struct table t;
    const struct pol *E = &r->pol[PLAN_EMA], *S = &r->pol[PLAN_STASH], *T = &r->pol[PLAN_STALE];
    if (E->on || S->on) {
        fprintf(f, "## The weight history per layer, mm^2\n\n"
                   "LAYERPIPE.md section 7's trade: the history's SRAM (`hist_sram`), the logic "
                   "that serves it (`hist_logic`: the EMA's rebuild lanes and its step of m in "
                   "the update lanes, or the stash ring's push and read path, with the history "
                   "memory's banking), and all that the layer's logic has over stale's "
                   "(`logic_over_stale`, which also holds the operand registers that wait for "
                   "the rebuild lanes).\n\n```\n");
        table_init(&t, 6);
        table_row(&t, "layer|policy|history_KiB|hist_sram|hist_logic|logic_over_stale");
        table_rule(&t);
        for (int l = 0; l < r->L; l++)
            for (int k = PLAN_STASH; k <= PLAN_EMA; k++) {
                const struct pol *P = &r->pol[k];
                int64_t w[5];
                if (!P->on)
                    continue;
                layer_words(r, k, l, w);
                char over[32] = "-";
                if (T->on)
                    snprintf(over, sizeof over, "%.4f", (P->lay[l].logic - T->lay[l].logic) / 1e6);
                table_row(&t, "%s|%s|%.1f|%.4f|%.4f|%s", c->net.layers[l].name, pname(k),
                          kib(w[2]), P->lay[l].hist_sram / 1e6, P->lay[l].hist_logic / 1e6,
                          over);
            }
        table_print(&t, f);
        table_free(&t);
        fprintf(f, "```\n\n");
        int any = 0;
        for (int l = 0; l < r->L; l++) {
            double saved, added, width;
            if (!ema_trade(r, l, &saved, &added, &width))
                continue;
            if (!any++)
                fprintf(f, "EMA against stash, per layer with a history: the SRAM it saves, "
                           "the logic it adds (the layer's logic under ema less under stash), "
                           "and the width n of a square layer (n x n weights, the same delay "
                           "and array) below which that logic outweighs the SRAM saved "
                           "((d - 1) n^2 words):\n\n");
            fprintf(f, "- %s (d = %lld): saves %.4f mm^2, adds %.4f mm^2 of logic; "
                       "crossover n = %.1f\n",
                    c->net.layers[l].name,
                    (long long)(r->p.layers[l].stash_words / r->p.layers[l].ema_words),
                    saved / 1e6, added / 1e6, width);
        }
        if (any)
            fprintf(f, "\n");
    }
}

/* report.md: memory per layer and policy. */
static void md_memory(const struct rep *r, FILE *f)
{
    const struct config *c = r->c;
    struct table t;
    fprintf(f, "## Memory per layer, KiB (32-bit words)\n\n```\n");
    table_init(&t, 8);
    table_row(&t, "layer|policy|weights|optimizer|history|act_delay|registers|total");
    table_rule(&t);
    for (int l = 0; l < r->L; l++)
        for (int k = 0; k < PLAN_N_POLICIES; k++) {
            int64_t w[5];
            if (!r->pol[k].on)
                continue;
            layer_words(r, k, l, w);
            table_row(&t, "%s|%s|%.1f|%.1f|%.1f|%.1f|%.1f|%.1f", c->net.layers[l].name,
                      pname(k), kib(w[0]), kib(w[1]), kib(w[2]), kib(w[3]), kib(w[4]),
                      kib(w[0] + w[1] + w[2] + w[3] + w[4]));
        }
    table_print(&t, f);
    table_free(&t);
    fprintf(f, "```\n\nBits are 32 per word (the RTL's memory width); layers.csv has every "
               "figure in bits and bytes. `history` is the stash ring (d weight copies) or "
               "the EMA buffer (one).\n\n## Area by block, mm^2 (logic + SRAM)\n\n```\n");
}

/* report.md: area by block. */
static void md_blocks(const struct rep *r, FILE *f)
{
    struct table t;
    table_init(&t, 1 + n_on_pols(r));
    {
        char head[512];
        int k2 = snprintf(head, sizeof head, "block");
        for (int k = 0; k < PLAN_N_POLICIES; k++)
            if (r->pol[k].on)
                k2 += snprintf(head + k2, sizeof head - (size_t)k2, "|%s", pname(k));
        table_row(&t, "%s", head);
        table_rule(&t);
        for (int bl = 0; bl <= B_N; bl++) {
            char row[512];
            int n = snprintf(row, sizeof row, "%s", bl < B_N ? block_name[bl] : "total");
            for (int k = 0; k < PLAN_N_POLICIES; k++) {
                const struct pol *P = &r->pol[k];
                if (P->on)
                    n += snprintf(row + n, sizeof row - (size_t)n, "|%.4f",
                                  (bl < B_N ? P->logic[bl] + P->sram[bl] : P->area) / 1e6);
            }
            if (bl == B_N)
                table_rule(&t);
            table_row(&t, "%s", row);
        }
    }
    table_print(&t, f);
    table_free(&t);
}

/* report.md: the critical path of each policy and of each block. */
static void md_timing(const struct rep *r, FILE *f)
{
    struct table t;
    fprintf(f, "```\n\n## Timing\n\n```\n");
    table_init(&t, 7);
    table_row(&t, "policy|std_cells|fanout_buffers|path_ns|fmax_MHz|from|to");
    table_rule(&t);
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        if (r->pol[k].on)
            table_row(&t, "%s|%lld|%lld|%.3f|%.2f|%s|%s", pname(k),
                      (long long)r->pol[k].syn.cells, (long long)r->pol[k].buffers,
                      r->pol[k].syn.path.ns, r->pol[k].fmax_mhz, r->pol[k].syn.path.from,
                      r->pol[k].syn.path.to);
    table_print(&t, f);
    table_free(&t);
    fprintf(f, "```\n\nOne clock edge times every path, from and to the top's ports too; "
               "memories are SRAM macros, read data %.3f ns after the clock and %.3f ns of "
               "setup (the SRAM table's source, docs/reports.md). fanout_buffers: what "
               "layerpipe added where a net kept more than %d loads after ABC.\n\n"
               "### Critical path by block\n\nThe worst path ending in each block (at its "
               "flops, or at the inputs of the SRAM macros of the memories it holds; the top's "
               "output ports count as control), and its slack with the clock at the design's "
               "fmax:\n\n```\n",
            sram_timing.access_ns, sram_timing.setup_ns, SYN_MAX_FANOUT);
    table_init(&t, 6);
    table_row(&t, "policy|block|delay_ns|slack_ns|from|to");
    table_rule(&t);
    for (int k = 0; k < PLAN_N_POLICIES; k++)
        for (int b = 0; b < B_N; b++) {
            const struct pol *P = &r->pol[k];
            if (P->on && P->blk[b].ns >= 0)
                table_row(&t, "%s|%s|%.3f|%.3f|%s|%s", pname(k), block_name[b], P->blk[b].ns,
                          SLACK_NS(P, b), P->blk[b].from, P->blk[b].to);
        }
    table_print(&t, f);
    table_free(&t);
}

/* report.md: the RTL's memories against the planner's, plots, how to reproduce. */
static void md_planner(const struct rep *r, FILE *f)
{
    struct table t;
    fprintf(f, "```\n\n## Planner and RTL\n\nThe memories Yosys found in the RTL, in words, "
               "against the planner's:\n\n```\n");
    table_init(&t, 6);
    table_row(&t, "policy|memory|RTL|planner|");
    table_rule(&t);
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        const struct pol *P = &r->pol[k];
        if (!P->on)
            continue;
        const struct { const char *n; int64_t rtl, plan; } rows[] = {
            {"weights", P->r_weights, P->w_weights},
            {"history", P->r_hist, P->w_hist},
            {"activation delay lines", P->r_act, P->w_act},
            {"stage registers", P->r_regs, P->w_regs}};
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
            table_row(&t, "%s|%s|%lld|%lld|%s", pname(k), rows[i].n, (long long)rows[i].rtl,
                      (long long)rows[i].plan, rows[i].rtl == rows[i].plan ? "equal" : "DIFFERENT");
    }
    table_print(&t, f);
    table_free(&t);
    fprintf(f, "```\n\n## Plots\n\n![memory](memory.svg) ![area](area.svg) "
               "![cycles](cycles.svg)%s\n\n## Reproducing\n\nEvery number above comes from "
               "the runs in `commands.sh` (each Yosys run's script, log and statistics sit in "
               "its directory).\n",
            r->have_runs ? " ![accuracy](accuracy.svg)" : "");
}

static void write_md(const struct rep *r, FILE *f)
{
    md_summary(r, f);
    md_ema(r, f);
    md_history(r, f);
    md_memory(r, f);
    md_blocks(r, f);
    md_timing(r, f);
    md_planner(r, f);
}

static void write_commands(const struct rep *r, FILE *f)
{
    fprintf(f, "#!/bin/sh\n# The runs behind this report (layerpipe report, config hash "
               "%016llx).\n# Tools: %s; %s; %s\nset -e\n",
            (unsigned long long)r->c->hash, r->v_yosys, r->v_sta, r->v_gnuplot);
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        const struct syn_result *s = &r->pol[k].syn;
        if (!r->pol[k].on)
            continue;
        fprintf(f, "\n# %s\n(cd %s && yosys -q -s elab.ys)\n"
                   "# each module: yosys writes mapped.v, then layerpipe's fanout pass net.v\n",
                pname(k), s->elab_dir);
        for (int i = 0; i < s->n; i++)
            fprintf(f, "(cd %s && yosys -q -s synth.ys)   # %s x%lld\n", s->m[i].dir,
                    s->m[i].base, (long long)s->m[i].count);
        fprintf(f, "(cd %s && sta -no_init -exit sta.tcl)\n", s->sta_dir);
    }
    fprintf(f, "\n# plots\n(cd plots && for g in *.gp; do gnuplot \"$g\"; done)\n");
}

/* What every report needs before its policies: the RTL can build c, the liberty, the
 * plans. Returns 0, or 2 / 1 with d set. */
static int rep_init(struct rep *r, const struct config *c, struct diag *d)
{
    r->c = c;
    r->M = c->pipeline.n_stages;
    r->L = c->net.n_layers;
    int rc = 0;
    for (int l = 0; l < r->L && !rc; l++) {
        const struct net_layer *nl = &c->net.layers[l];
        if (nl->kind != NET_DENSE)
            rc = (diag_set(d, c->path, 0, 0, "layer %s is a %s layer; the RTL, and so its area "
                          "and timing, covers dense layers only", nl->name,
                          net_kind_name(nl->kind)), 2);
    }
    if (!rc && r->M > 64)
        rc = (diag_set(d, c->path, 0, 0, "report: at most 64 stages"), 2);
    r->liberty = rc ? NULL : syn_liberty(rtl_src_dir());
    if (!rc && !r->liberty)
        rc = (diag_set(d, "layerpipe report", 0, 0, "no OSU 0.18 um liberty file (qflow-tech-osu018): run "
                      "`make deps`, or set LAYERPIPE_LIBERTY"), 1);
    struct diag e = {0};
    for (int k = 0; k < PLAN_N_POLICIES && !rc; k++)
        if (!(r->pol[k].lay = calloc((size_t)r->L, sizeof *r->pol[k].lay)))
            rc = (diag_set(d, "layerpipe report", 0, 0, "out of memory"), 1);
    int *one = calloc((size_t)r->L, sizeof *one);
    for (int l = 0; one && l < r->L; l++)
        one[l] = 1;
    if (!rc && (!one || plan_build(&r->p, &c->net, c->pipeline.stage_of, r->M,
                                   c->training.batch, &e) ||
                plan_build(&r->p1, &c->net, one, 1, c->training.batch, &e)))
        rc = (diag_set(d, c->path, 0, 0, "%s", one ? e.msg : "out of memory"), 2);
    free(one);
    return rc;
}

static void rep_free(struct rep *r)
{
    for (int k = 0; k < PLAN_N_POLICIES; k++) {
        syn_free(&r->pol[k].syn);
        free(r->pol[k].lay);
    }
    plan_free(&r->p);
    plan_free(&r->p1);
    free(r);
}

/* The synthesis tools: the module cache ($LAYERPIPE_SYN_CACHE or build/syn in the source
 * tree; a relative path is taken from the working directory), jobs Yosys runs at once. */
static void rep_tools(const struct rep *r, struct syn_tools *t, char *cache, size_t size,
                      int jobs, FILE *note)
{
    const char *src = rtl_src_dir(), *env = getenv("LAYERPIPE_SYN_CACHE");
    char cwd[1024];
    if (!env || !*env)
        snprintf(cache, size, "%s/build/syn", src);
    else if (env[0] != '/' && getcwd(cwd, sizeof cwd))   /* the tools run inside it */
        snprintf(cache, size, "%s/%s", cwd, env);
    else
        snprintf(cache, size, "%s", env);
    /* skew_mem's Kind and RegSlots say what a memory holds and change nothing in the
     * hardware (rtl/skew_mem.sv) */
    static const char *const labels[] = {"Kind", "RegSlots", NULL};
    *t = (struct syn_tools){src, cache, r->liberty, jobs, note, &sram_timing, labels};
}

/* Synthesis and timing of every policy that is on, in one pool of tool runs, then each
 * one's figures. Returns 0; 2 with d set on bad input; 1 with d set otherwise. */
static int run_policies(struct rep *r, const struct syn_tools *tools, struct diag *d)
{
    char params[PLAN_N_POLICIES][4096];
    const char *p[PLAN_N_POLICIES];
    struct syn_result res[PLAN_N_POLICIES];
    int on[PLAN_N_POLICIES], n = 0, rc = 0;
    for (int k = 0; k < PLAN_N_POLICIES && !rc; k++)
        if (r->pol[k].on) {
            rc = policy_params(r, k, params[k], sizeof params[k], d);
            p[n] = params[k];
            on[n++] = k;
        }
    if (!rc && tools->note)
        fprintf(tools->note, "report: synthesis and timing of %d design%s\n", n,
                n == 1 ? "" : "s");
    if (!rc && syn_run_all(tools, n, p, res, d))
        rc = 1;
    for (int i = 0; i < n && !rc; i++)
        r->pol[on[i]].syn = res[i];
    for (int i = 0; i < n && !rc; i++)
        rc = policy_figures(r, on[i], d);
    return rc;
}

int report_area(const struct config *c, struct report_area *a, struct diag *d)
{
    struct rep *r = calloc(1, sizeof *r);
    if (!r)
        return diag_set(d, "layerpipe report", 0, 0, "out of memory"), 1;
    char cache[1100];
    struct syn_tools tools;
    int k = (int)c->pipeline.policy, rc = rep_init(r, c, d);
    rep_tools(r, &tools, cache, sizeof cache, 1, NULL);
    if (!rc) {
        r->pol[k].on = 1;
        rc = run_policies(r, &tools, d);
    }
    if (!rc) {
        const struct pol *P = &r->pol[k];
        *a = (struct report_area){P->area, P->logic_area, P->sram_area, P->fmax_mhz,
                                  P->latency_ns};
    }
    rep_free(r);
    return rc;
}

int report_run(const struct config *c, const struct report_request *rq, FILE *out,
               struct diag *d)
{
    struct rep *r = calloc(1, sizeof *r);
    if (!r)
        return diag_set(d, "layerpipe report", 0, 0, "out of memory"), 1;
    int rc = rep_init(r, c, d);
    if (!rc) {
        syn_tool_version("yosys -V", r->v_yosys, sizeof r->v_yosys);
        syn_tool_version("sta -version",
                         r->v_sta, sizeof r->v_sta);
        syn_tool_version("gnuplot --version", r->v_gnuplot, sizeof r->v_gnuplot);
    }
    if (!rc && read_runs(r, rq, d))
        rc = 2;
    char cache[1100];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct syn_tools tools;
    rep_tools(r, &tools, cache, sizeof cache, cpus > 1 ? (int)cpus : 1, stderr);
    for (int k = 0; k < PLAN_N_POLICIES && !rc; k++)
        r->pol[k].on = rq->policy < 0 || rq->policy == k;
    if (!rc)
        rc = run_policies(r, &tools, d);
    struct diag dd;
    /* From here on a failure is an output that cannot be written (status 2); each file
     * appears whole or keeps what it held. */
    if (!rc && file_mkdir_p(rq->out_dir, &dd))
        *d = dd, rc = 2;
    struct buf b;
    if (!rc) {
        write_md(r, buf_open(&b));
        rc = buf_write(&b, rq->out_dir, "report.md", d) ? 2 : 0;
    }
    if (!rc) {
        write_csv(r, buf_open(&b));
        rc = buf_write(&b, rq->out_dir, "layers.csv", d) ? 2 : 0;
    }
    if (!rc) {
        write_json(r, buf_open(&b));
        rc = buf_write(&b, rq->out_dir, "summary.json", d) ? 2 : 0;
    }
    if (!rc) {
        write_commands(r, buf_open(&b));
        rc = buf_write(&b, rq->out_dir, "commands.sh", d) ? 2 : 0;
    }
    if (!rc)
        rc = write_plots(r, rq->out_dir, d) ? 2 : 0;
    if (!rc) {
        fprintf(out, "report of %s in %s/: report.md, layers.csv, summary.json, commands.sh, "
                     "plots\n", c->name, rq->out_dir);
        for (int k = 0; k < PLAN_N_POLICIES; k++)
            if (r->pol[k].on)
                fprintf(out, "%-10s area %.3f mm^2, fmax %.2f MHz, %lld cycles/step, "
                             "history %.1f KiB\n",
                        pname(k), r->pol[k].area / 1e6, r->pol[k].fmax_mhz,
                        (long long)r->pol[k].step_cycles, kib(r->pol[k].w_hist));
    }
    rep_free(r);
    return rc;
}
