#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_init(struct net *n, int n_layers)
{
    memset(n, 0, sizeof *n);
    if (n_layers < 0)
        return -1;
    n->layers = calloc(n_layers > 0 ? (size_t)n_layers : 1, sizeof *n->layers);
    if (!n->layers)
        return -1;
    n->n_layers = n_layers;
    return 0;
}

void net_free(struct net *n)
{
    free(n->layers);
    n->layers = NULL;
    n->n_layers = 0;
}

int64_t net_shape_elems(const struct net_shape *s)
{
    int64_t e = 1;
    for (int i = 0; i < s->rank; i++)
        e *= s->dim[i];
    return e;
}

const char *net_shape_str(const struct net_shape *s, char *buf, int size)
{
    if (s->rank == 3)
        snprintf(buf, (size_t)size, "[%d, %d, %d]", s->dim[0], s->dim[1], s->dim[2]);
    else
        snprintf(buf, (size_t)size, "[%d]", s->dim[0]);
    return buf;
}

const char *net_kind_name(enum net_kind k)
{
    static const char *const names[] = {"dense", "conv", "maxpool", "avgpool",
                                        "flatten", "add", "relu"};
    return names[k];
}

const char *net_act_name(enum net_act a)
{
    return a == NET_ACT_RELU ? "relu" : "none";
}

const char *net_loss_name(enum net_loss l)
{
    return l == NET_LOSS_MSE ? "mse" : "softmax_cross_entropy";
}

int net_find(const struct net *n, const char *name)
{
    for (int i = 0; i < n->n_layers; i++)
        if (strcmp(n->layers[i].name, name) == 0)
            return i;
    return -1;
}

static const struct net_shape *input_shape(const struct net *n, int idx)
{
    return idx == NET_INPUT ? &n->input : &n->layers[idx].out_shape;
}

static const char *input_name(const struct net *n, int idx)
{
    return idx == NET_INPUT ? "the network input" : n->layers[idx].name;
}

/* a*b*c... with overflow check; returns -1 on overflow. */
static int64_t mul(int64_t a, int64_t b)
{
    int64_t r;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
        return -1;
    return r;
}

/* Output size of a window of k with stride s and padding p over size x. */
static int window_out(int x, int k, int s, int p)
{
    return (x + 2 * p - k) / s + 1;
}

static int infer_window(struct net_layer *ly, int l, struct diag *e)
{
    const struct net_shape *in = &ly->in_shape;
    char buf[64];
    if (in->rank != 3)
        return lp_fail(e, l, "type", "%s layer %s needs a [C, H, W] input, got %s",
                       net_kind_name(ly->kind), ly->name, net_shape_str(in, buf, sizeof buf));
    if (ly->kernel > in->dim[1] + 2 * ly->pad || ly->kernel > in->dim[2] + 2 * ly->pad)
        return lp_fail(e, l, "kernel",
                       "kernel %d of layer %s does not fit its input %s with pad %d",
                       ly->kernel, ly->name, net_shape_str(in, buf, sizeof buf), ly->pad);
    ly->out_shape.rank = 3;
    ly->out_shape.dim[0] = ly->kind == NET_CONV ? ly->out : in->dim[0];
    ly->out_shape.dim[1] = window_out(in->dim[1], ly->kernel, ly->stride, ly->pad);
    ly->out_shape.dim[2] = window_out(in->dim[2], ly->kernel, ly->stride, ly->pad);
    return 0;
}

static int infer_layer(struct net *n, int l, struct diag *e)
{
    struct net_layer *ly = &n->layers[l];
    char b1[64], b2[64];

    for (int i = 0; i < ly->n_inputs; i++)
        if (ly->inputs[i] != NET_INPUT && (ly->inputs[i] < 0 || ly->inputs[i] >= l))
            return lp_fail(e, l, "inputs", "layer %s may only read earlier layers", ly->name);
    if (ly->n_inputs < 1 || (ly->kind != NET_ADD && ly->n_inputs != 1))
        return lp_fail(e, l, "inputs", "layer %s takes exactly one input", ly->name);
    if (ly->kind == NET_ADD && ly->n_inputs < 2)
        return lp_fail(e, l, "inputs", "add layer %s needs 2 to %d inputs", ly->name,
                       NET_MAX_INPUTS);
    ly->in_shape = *input_shape(n, ly->inputs[0]);
    const struct net_shape *in = &ly->in_shape;
    int64_t in_elems = net_shape_elems(in);

    switch (ly->kind) {
    case NET_DENSE:
        if (in->rank != 1)
            return lp_fail(e, l, "type",
                           "dense layer %s needs a flat input, got %s: add a flatten layer "
                           "before it", ly->name, net_shape_str(in, b1, sizeof b1));
        ly->out_shape.rank = 1;
        ly->out_shape.dim[0] = ly->out;
        ly->weights = mul(in_elems, ly->out);
        ly->macs = ly->weights;
        break;
    case NET_CONV:
        if (infer_window(ly, l, e))
            return -1;
        ly->weights = mul(mul(ly->out, in->dim[0]), mul(ly->kernel, ly->kernel));
        ly->macs = mul(ly->weights, mul(ly->out_shape.dim[1], ly->out_shape.dim[2]));
        break;
    case NET_MAXPOOL:
    case NET_AVGPOOL:
        if (infer_window(ly, l, e))
            return -1;
        break;
    case NET_FLATTEN:
        ly->out_shape.rank = 1;
        ly->out_shape.dim[0] = (int)in_elems;
        if (in_elems > 0x7fffffff)
            return lp_fail(e, l, NULL, "layer %s: %lld elements is too many", ly->name,
                           (long long)in_elems);
        break;
    case NET_ADD:
        for (int i = 1; i < ly->n_inputs; i++) {
            const struct net_shape *s = input_shape(n, ly->inputs[i]);
            if (s->rank != in->rank || memcmp(s->dim, in->dim, sizeof(int) * (size_t)s->rank))
                return lp_fail(e, l, "inputs",
                               "add layer %s sums different shapes: %s is %s, %s is %s",
                               ly->name, input_name(n, ly->inputs[0]),
                               net_shape_str(in, b1, sizeof b1),
                               input_name(n, ly->inputs[i]), net_shape_str(s, b2, sizeof b2));
        }
        ly->out_shape = *in;
        break;
    case NET_RELU:
        ly->out_shape = *in;
        break;
    }
    if (ly->weights < 0 || ly->macs < 0)
        return lp_fail(e, l, NULL, "layer %s is too large to count", ly->name);
    ly->params = ly->weights + (ly->bias ? ly->out : 0);

    /* What the backward reads back for one sample (see docs/planner.md). */
    int64_t out_elems = net_shape_elems(&ly->out_shape);
    int has_relu = ly->act == NET_ACT_RELU || ly->kind == NET_RELU;
    ly->saved = (has_relu ? out_elems : 0);
    if (ly->kind == NET_DENSE || ly->kind == NET_CONV)
        ly->saved += in_elems;       /* the weight gradient reads the input */
    else if (ly->kind == NET_MAXPOOL)
        ly->saved += out_elems;      /* one argmax index per output */
    return 0;
}

int net_infer(struct net *n, struct diag *e)
{
    if (n->n_layers < 1)
        return lp_fail(e, -1, "layers", "the network has no layers");
    for (int l = 0; l < n->n_layers; l++)
        if (infer_layer(n, l, e))
            return -1;

    /* Only the last layer may be the output: every other one must be read. */
    for (int l = 0; l < n->n_layers - 1; l++) {
        int used = 0;
        for (int k = l + 1; k < n->n_layers && !used; k++)
            for (int i = 0; i < n->layers[k].n_inputs; i++)
                used |= n->layers[k].inputs[i] == l;
        if (!used)
            return lp_fail(e, l, NULL,
                           "the output of layer %s is never read (only the last layer, %s, "
                           "may be the network output)", n->layers[l].name,
                           n->layers[n->n_layers - 1].name);
    }

    const struct net_layer *last = &n->layers[n->n_layers - 1];
    char buf[64];
    if (n->loss == NET_LOSS_SOFTMAX_CE && (last->out_shape.rank != 1 || last->out_shape.dim[0] < 2))
        return lp_fail(e, -1, "loss",
                       "softmax_cross_entropy needs a flat output of at least 2 classes; "
                       "the last layer, %s, gives %s", last->name,
                       net_shape_str(&last->out_shape, buf, sizeof buf));
    return 0;
}

int64_t net_train_macs(const struct net *n, int l)
{
    const struct net_layer *ly = &n->layers[l];
    int reads_input_only = 1;
    for (int i = 0; i < ly->n_inputs; i++)
        reads_input_only &= ly->inputs[i] == NET_INPUT;
    return ly->macs * (reads_input_only ? 2 : 3);
}
