#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hash.h"
#include "ydoc.h"

#define MAX_LAYERS 4096

/* Decoding state: the document, where messages go, and what model errors
 * need to be mapped back to positions. */
struct dec {
    const char *file;
    struct diag *d;
    struct config *c;
    const struct ynode *network, *layers, *stages, *training, *numerics;
    const struct ynode **stage_pos;   /* per layer: its name in the stages list */
};

static const char *const kind_names[] = {"dense", "conv", "maxpool", "avgpool",
                                         "flatten", "add", "relu", NULL};
static const char *const act_names[] = {"none", "relu", NULL};
static const char *const loss_names[] = {"softmax_cross_entropy", "mse", NULL};
static const char *const policy_names[] = {"sequential", "stale", "stash", "ema", NULL};
static const char *const format_names[] = {"float32", "fixed", NULL};
static const char *const rounding_names[] = {"nearest_even", "truncate", NULL};
static const char *const schedule_names[] = {"constant", "step", "cosine", NULL};
static const char *const dataset_names[] = {"fashion-mnist", "synthetic", NULL};

const char *cfg_dataset_name(enum cfg_dataset d)
{
    return dataset_names[d];
}

static int fail(struct dec *x, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct dec *x, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    char msg[sizeof x->d->msg];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A node may come from another file than the config's: a sweep's axis value. */
    return diag_set(x->d, n && n->file ? n->file : x->file, n ? n->line : 0, n ? n->col : 0,
                    "%s", msg);
}

static int expect(struct dec *x, const struct ynode *n, enum ynode_kind k, const char *path)
{
    if (n->kind != k)
        return fail(x, n, "%s: expected %s, got %s", path, ynode_kind_name(k),
                    ynode_kind_name(n->kind));
    return 0;
}

/* Every key of map must be in allowed (NULL-terminated). */
static int check_keys(struct dec *x, const struct ynode *map, const char *path,
                      const char *const *allowed)
{
    for (int i = 0; i < map->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, map->keys[i]->text) == 0;
        if (!ok) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return fail(x, map->keys[i], "%s: unknown key \"%s\" (expected one of: %s)", path,
                        map->keys[i]->text, list);
        }
    }
    return 0;
}

static int require(struct dec *x, const struct ynode *map, const char *key, const char *path,
                   const struct ynode **out)
{
    *out = ynode_get(map, key);
    if (!*out)
        return fail(x, map, "%s: missing required key \"%s\"", path, key);
    return 0;
}

static int plain_scalar(struct dec *x, const struct ynode *n, const char *path, const char *what)
{
    if (n->kind != YNODE_SCALAR)
        return fail(x, n, "%s: expected %s, got %s", path, what, ynode_kind_name(n->kind));
    if (!n->plain)
        return fail(x, n, "%s: expected %s, got the quoted string \"%s\"", path, what, n->text);
    return 0;
}

static int get_int(struct dec *x, const struct ynode *n, const char *path, int64_t lo,
                   int64_t hi, int64_t *out)
{
    if (plain_scalar(x, n, path, "an integer"))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(n->text, &end, 10);
    if (!n->text[0] || *end || isspace((unsigned char)n->text[0]))
        return fail(x, n, "%s: expected an integer, got \"%s\"", path, n->text);
    if (errno == ERANGE || v < lo || v > hi)
        return fail(x, n, "%s: %s is out of range [%lld, %lld]", path, n->text, (long long)lo,
                    (long long)hi);
    *out = v;
    return 0;
}

static int get_i32(struct dec *x, const struct ynode *n, const char *path, int lo, int hi,
                   int *out)
{
    int64_t v;
    if (get_int(x, n, path, lo, hi, &v))
        return -1;
    *out = (int)v;
    return 0;
}

/* A finite real in [lo, hi], or [lo, hi) when hi_open. */
static int get_real(struct dec *x, const struct ynode *n, const char *path, double lo, double hi,
                    int hi_open, double *out)
{
    if (plain_scalar(x, n, path, "a number"))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(n->text, &end);
    if (!n->text[0] || *end || isspace((unsigned char)n->text[0]) ||
        strpbrk(n->text, "xXnN"))   /* no hex, inf or nan */
        return fail(x, n, "%s: expected a finite number, got \"%s\"", path, n->text);
    if (errno == ERANGE || v < lo || v > hi || (hi_open && v == hi))
        return fail(x, n, "%s: %s is out of range [%g, %g%c", path, n->text, lo, hi,
                    hi_open ? ')' : ']');
    *out = v;
    return 0;
}

static int get_bool(struct dec *x, const struct ynode *n, const char *path, int *out)
{
    if (plain_scalar(x, n, path, "true or false"))
        return -1;
    if (strcmp(n->text, "true") && strcmp(n->text, "false"))
        return fail(x, n, "%s: expected true or false, got \"%s\"", path, n->text);
    *out = strcmp(n->text, "true") == 0;
    return 0;
}

static int get_enum(struct dec *x, const struct ynode *n, const char *path,
                    const char *const *names, int *out)
{
    if (n->kind != YNODE_SCALAR)
        return fail(x, n, "%s: expected a name, got %s", path, ynode_kind_name(n->kind));
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], n->text) == 0) {
            *out = i;
            return 0;
        }
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (names[i + 1])
            strncat(list, " | ", sizeof list - strlen(list) - 1);
    }
    return fail(x, n, "%s: unknown value \"%s\" (expected %s)", path, n->text, list);
}

/* A name: 1..max-1 characters of [A-Za-z0-9_.-]. */
static int get_name(struct dec *x, const struct ynode *n, const char *path, char *out, size_t max)
{
    if (n->kind != YNODE_SCALAR)
        return fail(x, n, "%s: expected a name, got %s", path, ynode_kind_name(n->kind));
    size_t len = strlen(n->text);
    if (len == 0 || len >= max)
        return fail(x, n, "%s: a name must have 1 to %zu characters", path, max - 1);
    for (const char *p = n->text; *p; p++) {
        int c = (unsigned char)*p;
        int ok = c < 128 && (isalnum(c) || c == '_' || (p > n->text && strchr(".-", c)));
        if (!ok)
            return fail(x, n, "%s: \"%s\" is not a name: names use the ASCII letters, digits "
                        "and _ . - and start with a letter, digit or _", path, n->text);
    }
    memcpy(out, n->text, len + 1);
    return 0;
}

/* Optional key: decode it if present, leave the default otherwise. */
#define OPT(map, key) const struct ynode *key##_n = ynode_get(map, #key); if (key##_n)

/* ---- network ---- */

static int decode_shape(struct dec *x, const struct ynode *n, struct net_shape *s)
{
    if (expect(x, n, YNODE_SEQ, "network.input"))
        return -1;
    if (n->n != 1 && n->n != 3)
        return fail(x, n, "network.input: expected [N] or [C, H, W], got %d dimensions", n->n);
    s->rank = n->n;
    for (int i = 0; i < n->n; i++)
        if (get_i32(x, n->items[i], "network.input", 1, 1 << 20, &s->dim[i]))
            return -1;
    if (net_shape_elems(s) > (1 << 28))
        return fail(x, n, "network.input: more than %d values per sample", 1 << 28);
    return 0;
}

static const char *const *keys_for(enum net_kind k)
{
    static const char *const dense[] = {"name", "type", "inputs", "out", "act", "bias", NULL};
    static const char *const conv[] = {"name", "type", "inputs", "out_channels", "kernel",
                                       "stride", "pad", "act", "bias", NULL};
    static const char *const pool[] = {"name", "type", "inputs", "kernel", "stride", NULL};
    static const char *const add[] = {"name", "type", "inputs", "act", NULL};
    static const char *const plain[] = {"name", "type", "inputs", NULL};
    switch (k) {
    case NET_DENSE: return dense;
    case NET_CONV: return conv;
    case NET_MAXPOOL:
    case NET_AVGPOOL: return pool;
    case NET_ADD: return add;
    default: return plain;
    }
}

/* Index of the layer named name in the document (decoded or not), or -1. */
static int doc_find(const struct dec *x, const char *name)
{
    for (int l = 0; l < x->layers->n; l++) {
        const struct ynode *nm = ynode_get(x->layers->items[l], "name");
        if (nm && nm->kind == YNODE_SCALAR && strcmp(nm->text, name) == 0)
            return l;
    }
    return -1;
}

static const char *article(const char *word)
{
    return strchr("aeiou", word[0]) ? "an" : "a";
}

static int decode_inputs(struct dec *x, const struct ynode *n, int l, const char *path)
{
    struct net_layer *ly = &x->c->net.layers[l];
    if (expect(x, n, YNODE_SEQ, path))
        return -1;
    int lo = ly->kind == NET_ADD ? 2 : 1, hi = ly->kind == NET_ADD ? NET_MAX_INPUTS : 1;
    if (n->n < lo || n->n > hi) {
        if (lo == hi)
            return fail(x, n, "%s: %s %s layer takes exactly %d input, got %d", path,
                        article(kind_names[ly->kind]), kind_names[ly->kind], lo, n->n);
        return fail(x, n, "%s: %s %s layer takes %d to %d inputs, got %d", path,
                    article(kind_names[ly->kind]), kind_names[ly->kind], lo, hi, n->n);
    }
    ly->n_inputs = n->n;
    for (int i = 0; i < n->n; i++) {
        const struct ynode *in = n->items[i];
        if (expect(x, in, YNODE_SCALAR, path))
            return -1;
        int is_input = strcmp(in->text, "input") == 0;
        int src = is_input ? NET_INPUT : doc_find(x, in->text);
        if (!is_input && src < 0)
            return fail(x, in, "%s: unknown layer \"%s\"", path, in->text);
        if (src == l)
            return fail(x, in, "%s: layer \"%s\" cannot read itself", path, in->text);
        if (src > l)
            return fail(x, in, "%s: layer \"%s\" comes later in the list; a layer reads only "
                        "earlier layers or \"input\"", path, in->text);
        for (int j = 0; j < i; j++)
            if (ly->inputs[j] == src)
                return fail(x, in, "%s: \"%s\" is named twice", path, in->text);
        ly->inputs[i] = src;
    }
    return 0;
}

static int decode_layer(struct dec *x, int l)
{
    const struct ynode *m = x->layers->items[l], *v;
    struct net_layer *ly = &x->c->net.layers[l];
    char path[64], sub[96];
    int kind;
    snprintf(path, sizeof path, "network.layers[%d]", l);
    if (expect(x, m, YNODE_MAP, path))
        return -1;
#define SUB(key) (snprintf(sub, sizeof sub, "%s.%s", path, key), sub)
    if (require(x, m, "name", path, &v) || get_name(x, v, SUB("name"), ly->name, NET_NAME_MAX))
        return -1;
    if (strcmp(ly->name, "input") == 0)
        return fail(x, v, "%s: \"input\" is reserved for the network input", sub);
    int prev = net_find(&x->c->net, ly->name);
    if (prev >= 0 && prev < l)
        return fail(x, v, "%s: duplicate layer name \"%s\" (first at line %d)", sub, ly->name,
                    x->layers->items[prev]->line);
    if (require(x, m, "type", path, &v) || get_enum(x, v, SUB("type"), kind_names, &kind))
        return -1;
    ly->kind = (enum net_kind)kind;
    if (check_keys(x, m, path, keys_for(ly->kind)))
        return -1;

    ly->n_inputs = 1;
    ly->inputs[0] = l == 0 ? NET_INPUT : l - 1;
    if ((v = ynode_get(m, "inputs"))) {
        if (decode_inputs(x, v, l, SUB("inputs")))
            return -1;
    } else if (ly->kind == NET_ADD) {
        return fail(x, m, "%s: an add layer needs \"inputs\"", path);
    }
    ly->bias = 1;
    ly->stride = 1;
    int act = NET_ACT_NONE;
    OPT(m, act) if (get_enum(x, act_n, SUB("act"), act_names, &act)) return -1;
    ly->act = (enum net_act)act;
    OPT(m, bias) if (get_bool(x, bias_n, SUB("bias"), &ly->bias)) return -1;
    OPT(m, pad) if (get_i32(x, pad_n, SUB("pad"), 0, 1024, &ly->pad)) return -1;
    switch (ly->kind) {
    case NET_DENSE:
        if (require(x, m, "out", path, &v) || get_i32(x, v, SUB("out"), 1, 1 << 20, &ly->out))
            return -1;
        break;
    case NET_CONV:
        if (require(x, m, "out_channels", path, &v) ||
            get_i32(x, v, SUB("out_channels"), 1, 65536, &ly->out))
            return -1;
        /* fall through */
    case NET_MAXPOOL:
    case NET_AVGPOOL:
        if (require(x, m, "kernel", path, &v) ||
            get_i32(x, v, SUB("kernel"), 1, 1024, &ly->kernel))
            return -1;
        if (ly->kind != NET_CONV)
            ly->stride = ly->kernel;
        OPT(m, stride) if (get_i32(x, stride_n, SUB("stride"), 1, 1024, &ly->stride)) return -1;
        break;
    default:
        break;
    }
    if (ly->kind != NET_DENSE && ly->kind != NET_CONV)
        ly->bias = 0;
#undef SUB
    return 0;
}

static int decode_network(struct dec *x, const struct ynode *n)
{
    static const char *const keys[] = {"input", "layers", "loss", NULL};
    const struct ynode *v;
    struct config *c = x->c;
    if (expect(x, n, YNODE_MAP, "network") || check_keys(x, n, "network", keys))
        return -1;
    x->network = n;
    if (require(x, n, "layers", "network", &v) || expect(x, v, YNODE_SEQ, "network.layers"))
        return -1;
    if (v->n < 1 || v->n > MAX_LAYERS)
        return fail(x, v, "network.layers: expected 1 to %d layers, got %d", MAX_LAYERS, v->n);
    x->layers = v;
    if (net_init(&c->net, v->n))
        return fail(x, NULL, "out of memory");
    if (require(x, n, "input", "network", &v) || decode_shape(x, v, &c->net.input))
        return -1;
    for (int l = 0; l < x->layers->n; l++)
        if (decode_layer(x, l))
            return -1;
    int loss = NET_LOSS_SOFTMAX_CE;
    OPT(n, loss) if (get_enum(x, loss_n, "network.loss", loss_names, &loss)) return -1;
    c->net.loss = (enum net_loss)loss;
    return 0;
}

/* ---- pipeline ---- */

static int decode_stage_lists(struct dec *x, const struct ynode *s)
{
    struct config *c = x->c;
    if (s->n < 1)
        return fail(x, s, "pipeline.stages: the list of stages is empty");
    c->pipeline.n_stages = s->n;
    for (int k = 0; k < s->n; k++) {
        const struct ynode *st = s->items[k];
        char path[64];
        snprintf(path, sizeof path, "pipeline.stages[%d]", k);
        if (expect(x, st, YNODE_SEQ, path))
            return -1;
        if (st->n == 0)
            return fail(x, st, "%s: stage %d holds no layer", path, k + 1);
        for (int i = 0; i < st->n; i++) {
            const struct ynode *nm = st->items[i];
            if (expect(x, nm, YNODE_SCALAR, path))
                return -1;
            int l = net_find(&c->net, nm->text);
            if (l < 0)
                return fail(x, nm, "%s: unknown layer \"%s\"", path, nm->text);
            if (x->stage_pos[l])
                return fail(x, nm, "%s: layer \"%s\" is already in stage %d (line %d)", path,
                            nm->text, c->pipeline.stage_of[l], x->stage_pos[l]->line);
            c->pipeline.stage_of[l] = k + 1;
            x->stage_pos[l] = nm;
        }
    }
    for (int l = 0; l < c->net.n_layers; l++)
        if (!x->stage_pos[l])
            return fail(x, s, "pipeline.stages: layer \"%s\" is in no stage", c->net.layers[l].name);
    return 0;
}

static int decode_stages(struct dec *x, const struct ynode *s)
{
    struct config *c = x->c;
    int L = c->net.n_layers;
    x->stages = s;
    if (s->kind == YNODE_SCALAR) {
        if (strcmp(s->text, "per_layer"))
            return fail(x, s, "pipeline.stages: unknown value \"%s\" (expected per_layer, a "
                        "list of stages, or {balanced: M})", s->text);
        c->pipeline.mode = CFG_STAGES_PER_LAYER;
        c->pipeline.n_stages = L;
        for (int l = 0; l < L; l++)
            c->pipeline.stage_of[l] = l + 1;
        return 0;
    }
    if (s->kind == YNODE_SEQ) {
        c->pipeline.mode = CFG_STAGES_LIST;
        return decode_stage_lists(x, s);
    }
    static const char *const keys[] = {"balanced", NULL};
    const struct ynode *v;
    struct diag e;
    if (check_keys(x, s, "pipeline.stages", keys) ||
        require(x, s, "balanced", "pipeline.stages", &v) ||
        get_i32(x, v, "pipeline.stages.balanced", 1, MAX_LAYERS, &c->pipeline.n_stages))
        return -1;
    if (c->pipeline.n_stages > L)
        return fail(x, v, "pipeline.stages.balanced: %d stages for %d layers; each stage "
                    "needs at least one layer", c->pipeline.n_stages, L);
    c->pipeline.mode = CFG_STAGES_BALANCED;
    if (plan_balance(&c->net, c->pipeline.n_stages, c->pipeline.stage_of, &e))
        return fail(x, v, "pipeline.stages.balanced: %s", e.msg);
    return 0;
}

static int decode_pipeline(struct dec *x, const struct ynode *n)
{
    static const char *const keys[] = {"stages", "policy", "ema_beta", NULL};
    struct config *c = x->c;
    c->pipeline.stage_of = calloc((size_t)c->net.n_layers, sizeof *c->pipeline.stage_of);
    x->stage_pos = calloc((size_t)c->net.n_layers, sizeof *x->stage_pos);
    if (!c->pipeline.stage_of || !x->stage_pos)
        return fail(x, NULL, "out of memory");
    c->pipeline.policy = PLAN_EMA;
    c->pipeline.ema_beta_auto = 1;
    if (n && (expect(x, n, YNODE_MAP, "pipeline") || check_keys(x, n, "pipeline", keys)))
        return -1;
    const struct ynode *stages = ynode_get(n, "stages");
    if (stages) {
        if (decode_stages(x, stages))
            return -1;
    } else {
        c->pipeline.mode = CFG_STAGES_PER_LAYER;
        c->pipeline.n_stages = c->net.n_layers;
        for (int l = 0; l < c->net.n_layers; l++)
            c->pipeline.stage_of[l] = l + 1;
    }
    int pol = PLAN_EMA;
    OPT(n, policy) if (get_enum(x, policy_n, "pipeline.policy", policy_names, &pol)) return -1;
    c->pipeline.policy = (enum plan_policy)pol;
    OPT(n, ema_beta) {
        if (ema_beta_n->kind == YNODE_SCALAR && strcmp(ema_beta_n->text, "auto") == 0)
            c->pipeline.ema_beta_auto = 1;
        else if (get_real(x, ema_beta_n, "pipeline.ema_beta", 0, 1, 1, &c->pipeline.ema_beta))
            return -1;
        else
            c->pipeline.ema_beta_auto = 0;
    }
    return 0;
}

/* ---- numerics, training, hardware ---- */

static int decode_fixed(struct dec *x, const struct ynode *parent, const char *key,
                        struct cfg_fixed *f)
{
    static const char *const keys[] = {"bits", "frac", NULL};
    const struct ynode *n = ynode_get(parent, key);
    char path[64], sub[80];
    if (!n)
        return 0;
    snprintf(path, sizeof path, "numerics.%s", key);
    if (expect(x, n, YNODE_MAP, path) || check_keys(x, n, path, keys))
        return -1;
    OPT(n, bits) {
        snprintf(sub, sizeof sub, "%s.bits", path);
        if (get_i32(x, bits_n, sub, 2, 32, &f->bits))
            return -1;
    }
    OPT(n, frac) {
        snprintf(sub, sizeof sub, "%s.frac", path);
        if (get_i32(x, frac_n, sub, 0, 31, &f->frac))
            return -1;
    }
    if (f->frac >= f->bits)
        return fail(x, frac_n ? frac_n : bits_n ? bits_n : n, "%s: frac (%d) must be less than bits (%d): one bit is the sign",
                    path, f->frac, f->bits);
    return 0;
}

static int decode_numerics(struct dec *x, const struct ynode *n)
{
    static const char *const keys[] = {"format", "activation", "error", "weight",
                                       "master_weight", "gradient", "accumulator_bits",
                                       "rounding", NULL};
    struct config *c = x->c;
    c->numerics.format = CFG_FLOAT32;
    c->numerics.activation = (struct cfg_fixed){16, 10};
    c->numerics.error = (struct cfg_fixed){16, 12};
    c->numerics.weight = (struct cfg_fixed){16, 14};
    c->numerics.master_weight = (struct cfg_fixed){32, 28};
    c->numerics.gradient = (struct cfg_fixed){32, 20};
    c->numerics.accumulator_bits = 48;
    c->numerics.rounding = CFG_ROUND_NEAREST_EVEN;
    x->numerics = n;
    if (!n)
        return 0;
    if (expect(x, n, YNODE_MAP, "numerics") || check_keys(x, n, "numerics", keys))
        return -1;
    int v;
    OPT(n, format) {
        if (get_enum(x, format_n, "numerics.format", format_names, &v))
            return -1;
        c->numerics.format = (enum cfg_format)v;
    }
    OPT(n, rounding) {
        if (get_enum(x, rounding_n, "numerics.rounding", rounding_names, &v))
            return -1;
        c->numerics.rounding = (enum cfg_rounding)v;
    }
    OPT(n, accumulator_bits) {
        if (get_i32(x, accumulator_bits_n, "numerics.accumulator_bits", 2, 64,
                    &c->numerics.accumulator_bits))
            return -1;
    }
    if (decode_fixed(x, n, "activation", &c->numerics.activation) ||
        decode_fixed(x, n, "error", &c->numerics.error) ||
        decode_fixed(x, n, "weight", &c->numerics.weight) ||
        decode_fixed(x, n, "master_weight", &c->numerics.master_weight) ||
        decode_fixed(x, n, "gradient", &c->numerics.gradient))
        return -1;
    if (c->numerics.master_weight.frac < c->numerics.weight.frac)
        return fail(x, ynode_get(n, "master_weight") ? ynode_get(n, "master_weight") : n,
                    "numerics.master_weight: needs at least the weight's %d fraction bits, "
                    "has %d", c->numerics.weight.frac, c->numerics.master_weight.frac);
    return 0;
}

void cfg_fixed_spec(const struct config *c, struct fixed_spec *q)
{
    q->act = (struct fixed_fmt){c->numerics.activation.bits, c->numerics.activation.frac};
    q->err = (struct fixed_fmt){c->numerics.error.bits, c->numerics.error.frac};
    q->weight = (struct fixed_fmt){c->numerics.weight.bits, c->numerics.weight.frac};
    q->master = (struct fixed_fmt){c->numerics.master_weight.bits,
                                   c->numerics.master_weight.frac};
    q->grad = (struct fixed_fmt){c->numerics.gradient.bits, c->numerics.gradient.frac};
    q->acc_bits = c->numerics.accumulator_bits;
    q->rounding = c->numerics.rounding == CFG_ROUND_TRUNCATE ? FIXED_TRUNCATE
                                                              : FIXED_NEAREST_EVEN;
}

static int decode_training(struct dec *x, const struct ynode *n)
{
    static const char *const keys[] = {"dataset", "data_dir", "batch", "epochs", "lr",
                                       "momentum", "weight_decay", "lr_schedule", "lr_decay",
                                       "seed", "normalize", "train_samples", "test_samples",
                                       NULL};
    struct config *c = x->c;
    int v;
    int64_t seed = 1;
    c->training.dataset = CFG_DATA_FASHION_MNIST;
    snprintf(c->training.data_dir, sizeof c->training.data_dir, "%s",
             "/usr/share/datasets/fashion-mnist");
    c->training.batch = 32;
    c->training.epochs = 5;
    c->training.lr = 0.05;
    c->training.momentum = 0.9;
    c->training.weight_decay = 0;
    c->training.lr_schedule = CFG_LR_STEP;
    c->training.lr_decay = 0.6;
    c->training.normalize = 1;
    x->training = n;
    if (n && (expect(x, n, YNODE_MAP, "training") || check_keys(x, n, "training", keys)))
        return -1;
    OPT(n, dataset) {
        if (get_enum(x, dataset_n, "training.dataset", dataset_names, &v))
            return -1;
        c->training.dataset = (enum cfg_dataset)v;
    }
    OPT(n, data_dir) {
        if (expect(x, data_dir_n, YNODE_SCALAR, "training.data_dir"))
            return -1;
        size_t len = strlen(data_dir_n->text);
        if (len == 0 || len >= sizeof c->training.data_dir)
            return fail(x, data_dir_n, "training.data_dir: expected a path of 1 to %zu "
                        "characters", sizeof c->training.data_dir - 1);
        memcpy(c->training.data_dir, data_dir_n->text, len + 1);
    }
    OPT(n, batch) if (get_i32(x, batch_n, "training.batch", 1, 65536, &c->training.batch)) return -1;
    OPT(n, epochs) if (get_i32(x, epochs_n, "training.epochs", 1, 100000, &c->training.epochs)) return -1;
    OPT(n, lr) if (get_real(x, lr_n, "training.lr", 1e-12, 100, 0, &c->training.lr)) return -1;
    OPT(n, momentum) if (get_real(x, momentum_n, "training.momentum", 0, 1, 1, &c->training.momentum)) return -1;
    OPT(n, weight_decay) if (get_real(x, weight_decay_n, "training.weight_decay", 0, 1, 1, &c->training.weight_decay)) return -1;
    OPT(n, lr_schedule) {
        if (get_enum(x, lr_schedule_n, "training.lr_schedule", schedule_names, &v))
            return -1;
        c->training.lr_schedule = (enum cfg_lr_schedule)v;
    }
    OPT(n, lr_decay) if (get_real(x, lr_decay_n, "training.lr_decay", 1e-12, 1, 0, &c->training.lr_decay)) return -1;
    OPT(n, seed) if (get_int(x, seed_n, "training.seed", 0, UINT32_MAX, &seed)) return -1;
    c->training.seed = (uint32_t)seed;
    OPT(n, normalize) if (get_bool(x, normalize_n, "training.normalize", &c->training.normalize)) return -1;
    OPT(n, train_samples) if (get_int(x, train_samples_n, "training.train_samples", 0, INT32_MAX, &c->training.train_samples)) return -1;
    OPT(n, test_samples) if (get_int(x, test_samples_n, "training.test_samples", 0, INT32_MAX, &c->training.test_samples)) return -1;
    return 0;
}

static int decode_hardware(struct dec *x, const struct ynode *n)
{
    static const char *const keys[] = {"mac_rows", "mac_cols", "mac_pipeline", "clock_mhz",
                                       "onchip_kib", "offchip_bytes_per_cycle",
                                       "offchip_latency", NULL};
    struct config *c = x->c;
    c->hardware.mac_rows = 16;
    c->hardware.mac_cols = 16;
    c->hardware.mac_pipeline = 3;
    c->hardware.clock_mhz = 200;
    c->hardware.onchip_kib = 512;
    c->hardware.offchip_bytes_per_cycle = 16;
    c->hardware.offchip_latency = 100;
    if (!n)
        return 0;
    if (expect(x, n, YNODE_MAP, "hardware") || check_keys(x, n, "hardware", keys))
        return -1;
    OPT(n, mac_rows) if (get_i32(x, mac_rows_n, "hardware.mac_rows", 1, 4096, &c->hardware.mac_rows)) return -1;
    OPT(n, mac_cols) if (get_i32(x, mac_cols_n, "hardware.mac_cols", 1, 4096, &c->hardware.mac_cols)) return -1;
    OPT(n, mac_pipeline) if (get_i32(x, mac_pipeline_n, "hardware.mac_pipeline", 1, 64, &c->hardware.mac_pipeline)) return -1;
    OPT(n, clock_mhz) if (get_real(x, clock_mhz_n, "hardware.clock_mhz", 1e-3, 1e5, 0, &c->hardware.clock_mhz)) return -1;
    OPT(n, onchip_kib) if (get_int(x, onchip_kib_n, "hardware.onchip_kib", 0, INT64_C(1) << 40, &c->hardware.onchip_kib)) return -1;
    OPT(n, offchip_bytes_per_cycle) if (get_real(x, offchip_bytes_per_cycle_n, "hardware.offchip_bytes_per_cycle", 1e-6, 1e6, 0, &c->hardware.offchip_bytes_per_cycle)) return -1;
    OPT(n, offchip_latency) if (get_i32(x, offchip_latency_n, "hardware.offchip_latency", 0, 1000000, &c->hardware.offchip_latency)) return -1;
    return 0;
}

/* ---- whole-config checks ---- */

/* Turn a model error into a position: the stage entry, the layer's field,
 * the layer, or the section it names. */
static int model_fail(struct dec *x, const struct diag *e)
{
    const struct ynode *at = NULL;
    if (e->layer >= 0 && e->field && strcmp(e->field, "accumulator_bits") == 0) {
        at = ynode_get(x->numerics, "accumulator_bits");
        at = at ? at : x->numerics;
    } else if (e->layer >= 0) {
        const struct ynode *m = x->layers->items[e->layer];
        if (e->field && strcmp(e->field, "stage") == 0)
            at = x->stage_pos[e->layer] ? x->stage_pos[e->layer] : x->stages;
        else if (e->field)
            at = ynode_get(m, e->field);
        if (!at)
            at = m;
    } else if (e->field && strcmp(e->field, "loss") == 0) {
        at = ynode_get(x->network, "loss");
    } else if (e->field && strcmp(e->field, "accumulator_bits") == 0) {
        at = ynode_get(x->numerics, "accumulator_bits");
        at = at ? at : x->numerics;
    } else if (e->field && strcmp(e->field, "batch") == 0) {
        at = ynode_get(x->training, "batch");
    } else if (e->field && strcmp(e->field, "stages") == 0) {
        at = x->stages;
    }
    return fail(x, at ? at : x->network, "%s", e->msg);
}

static int check_dataset(struct dec *x)
{
    struct config *c = x->c;
    const struct net *net = &c->net;
    const struct net_layer *last = &net->layers[net->n_layers - 1];
    char buf[64];
    if (c->training.dataset != CFG_DATA_FASHION_MNIST)
        return 0;
    if (net_shape_elems(&net->input) != 784)
        return fail(x, ynode_get(x->network, "input"),
                    "network.input: fashion-mnist images have 784 values ([784] or [1, 28, 28]), "
                    "not %s", net_shape_str(&net->input, buf, sizeof buf));
    if (net->input.rank == 3 && (net->input.dim[1] != 28 || net->input.dim[2] != 28))
        return fail(x, ynode_get(x->network, "input"),
                    "network.input: fashion-mnist images are [1, 28, 28], not %s",
                    net_shape_str(&net->input, buf, sizeof buf));
    if (last->out_shape.rank != 1 || last->out_shape.dim[0] != 10) {
        const struct ynode *m = x->layers->items[net->n_layers - 1];
        const struct ynode *at = ynode_get(m, "out");
        return fail(x, at ? at : m, "fashion-mnist has 10 classes, but the last layer, %s, "
                    "gives %s", last->name, net_shape_str(&last->out_shape, buf, sizeof buf));
    }
    return 0;
}

static int decode(struct dec *x, const struct ynode *root)
{
    static const char *const keys[] = {"schema_version", "name", "network", "pipeline",
                                       "numerics", "training", "hardware", NULL};
    struct config *c = x->c;
    const struct ynode *v;
    int64_t ver;
    struct diag e;
    static const struct ynode start = {.line = 1, .col = 1};
    if (!root)
        return fail(x, &start, "the file is empty; a config needs at least schema_version, "
                    "name and network");
    /* The version first: a newer file's new keys are not "unknown keys". */
    if (expect(x, root, YNODE_MAP, "the config") ||
        require(x, root, "schema_version", "the config", &v) ||
        get_int(x, v, "schema_version", INT64_MIN, INT64_MAX, &ver))
        return -1;
    if (ver != 1)
        return fail(x, v, "schema_version: %lld is not supported (this layerpipe reads 1)",
                    (long long)ver);
    if (check_keys(x, root, "the config", keys))
        return -1;
    c->schema_version = 1;
    if (require(x, root, "name", "the config", &v) ||
        get_name(x, v, "name", c->name, sizeof c->name))
        return -1;
    if (require(x, root, "network", "the config", &v) || decode_network(x, v))
        return -1;
    if (net_infer(&c->net, &e))
        return model_fail(x, &e);
    if (decode_pipeline(x, ynode_get(root, "pipeline")) ||
        decode_numerics(x, ynode_get(root, "numerics")) ||
        decode_training(x, ynode_get(root, "training")) ||
        decode_hardware(x, ynode_get(root, "hardware")))
        return -1;
    if (plan_check(&c->net, c->pipeline.stage_of, c->pipeline.n_stages, &e))
        return model_fail(x, &e);
    if (c->numerics.format == CFG_FIXED) {
        struct fixed_spec q;
        cfg_fixed_spec(c, &q);
        if (fixed_check(&c->net, &q, c->training.batch, &e))
            return model_fail(x, &e);
    }
    return check_dataset(x);
}

static int decode_root(struct config *c, const struct ynode *root, const char *name,
                       struct diag *d)
{
    struct dec x = {.file = name, .d = d, .c = c};
    snprintf(c->path, sizeof c->path, "%s", name);
    int rc = decode(&x, root);
    free(x.stage_pos);
    if (rc == 0) {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (!mem || cfg_write(c, mem, 0) || fclose(mem))
            rc = fail(&x, NULL, "out of memory");
        else
            c->hash = hash_bytes(HASH_INIT, text, len);
        free(text);
    }
    if (rc)
        cfg_free(c);
    return rc;
}

int cfg_load_doc(struct config *c, const struct ydoc *doc, struct diag *d)
{
    memset(c, 0, sizeof *c);
    return decode_root(c, doc->root, doc->path, d);
}

int cfg_load(struct config *c, const char *path, struct diag *d)
{
    struct ydoc doc;
    memset(c, 0, sizeof *c);
    if (ydoc_load(&doc, path, d))
        return -1;
    int rc = decode_root(c, doc.root, path, d);
    ydoc_free(&doc);
    return rc;
}

int cfg_load_string(struct config *c, const char *name, const char *text, struct diag *d)
{
    struct ydoc doc;
    memset(c, 0, sizeof *c);
    if (ydoc_load_string(&doc, name, text, d))
        return -1;
    int rc = decode_root(c, doc.root, name, d);
    ydoc_free(&doc);
    return rc;
}

void cfg_free(struct config *c)
{
    net_free(&c->net);
    free(c->pipeline.stage_of);
    c->pipeline.stage_of = NULL;
}

int cfg_check_rtl(const struct config *c, struct diag *d)
{
    if (c->numerics.format != CFG_FIXED)
        return diag_set(d, c->path, 0, 0, "the RTL datapath is bit-exact fixed point: the "
                        "config needs numerics.format: fixed");
    for (int l = 0; l < c->net.n_layers; l++)
        if (c->net.layers[l].kind != NET_DENSE)
            return diag_set(d, c->path, 0, 0, "layer %s is a %s layer; the RTL runs dense "
                            "layers only", c->net.layers[l].name,
                            net_kind_name(c->net.layers[l].kind));
    return 0;
}
