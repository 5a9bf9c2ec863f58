/* net.h - a network as a graph of layers, with shape inference.
 *
 * Layers are listed in forward order; each reads the outputs of earlier layers
 * (or the network input) named by index. net_infer() checks that every layer
 * fits its inputs and fills in shapes, parameter counts and MAC counts.
 *
 * Ownership: struct net owns its layers array (net_init / net_free).
 */
#ifndef LP_NET_H
#define LP_NET_H

#include <stdint.h>

#include "err.h"

#define NET_NAME_MAX 32   /* layer name, including the terminating NUL */
#define NET_MAX_INPUTS 4  /* an add takes 2..NET_MAX_INPUTS inputs */
#define NET_INPUT (-1)    /* an input index that names the network input */

enum net_kind { NET_DENSE, NET_CONV, NET_MAXPOOL, NET_AVGPOOL, NET_FLATTEN, NET_ADD, NET_RELU };
enum net_act { NET_ACT_NONE, NET_ACT_RELU };
enum net_loss { NET_LOSS_SOFTMAX_CE, NET_LOSS_MSE };

/* A tensor shape per sample: rank 1 is [n], rank 3 is [channels, height, width]. */
struct net_shape {
    int rank;
    int dim[3];
};

struct net_layer {
    /* set by the caller */
    char name[NET_NAME_MAX];
    enum net_kind kind;
    enum net_act act;              /* dense, conv, add; NET_ACT_NONE elsewhere */
    int n_inputs;                  /* 1, or 2..NET_MAX_INPUTS for add */
    int inputs[NET_MAX_INPUTS];    /* earlier layer indices, or NET_INPUT */
    int out;                       /* dense: features; conv: output channels */
    int kernel, stride, pad;       /* conv and pools (square) */
    int bias;                      /* dense, conv: 1 if the layer has a bias */

    /* filled by net_infer */
    struct net_shape in_shape;     /* shape of inputs[0] (all inputs of an add agree) */
    struct net_shape out_shape;
    int64_t weights;               /* trainable weights, biases excluded */
    int64_t params;                /* weights + biases */
    int64_t macs;                  /* forward multiply-accumulates per sample */
    int64_t saved;                 /* words per sample the backward reads back
                                      (input, relu mask, pool argmax) */
};

struct net {
    struct net_shape input;
    enum net_loss loss;
    int n_layers;
    struct net_layer *layers;      /* n_layers entries, owned */
};

/* Allocate n zeroed layers. Returns 0, or -1 when out of memory. */
int net_init(struct net *n, int n_layers);
void net_free(struct net *n);

/* Check every layer against its inputs and fill shapes and counts.
 * Returns 0, or -1 with e naming the first layer (and field) that does not fit. */
int net_infer(struct net *n, struct diag *e);

int64_t net_shape_elems(const struct net_shape *s);
/* Format "[c, h, w]" into buf; returns buf. */
const char *net_shape_str(const struct net_shape *s, char *buf, int size);
const char *net_kind_name(enum net_kind k);
const char *net_act_name(enum net_act a);
const char *net_loss_name(enum net_loss l);
/* Index of the layer called name, or -1. */
int net_find(const struct net *n, const char *name);

/* Multiply-accumulates per sample to train layer l for one sample: forward,
 * weight gradient and (unless the layer reads only the network input) the
 * gradient with respect to its input. */
int64_t net_train_macs(const struct net *n, int l);

#endif
