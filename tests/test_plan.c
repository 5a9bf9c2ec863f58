#include <stdio.h>
/* test_plan.c - the delay planner against LAYERPIPE.md's worked examples.
 *
 * Networks are built in code (no YAML), so these tests need model/ only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../model/net.h"
#include "../model/plan.h"

/* A chain of n dense layers width -> width: each has w = width^2 weights, and
 * width biases when bias is set. */
static void chain_bias(struct net *n, int layers, int width, int bias)
{
    assert_int_equal(net_init(n, layers), 0);
    n->input.rank = 1;
    n->input.dim[0] = width;
    for (int l = 0; l < layers; l++) {
        struct net_layer *ly = &n->layers[l];
        snprintf(ly->name, sizeof ly->name, "fc%d", l + 1);
        ly->kind = NET_DENSE;
        ly->act = l + 1 < layers ? NET_ACT_RELU : NET_ACT_NONE;
        ly->n_inputs = 1;
        ly->inputs[0] = l ? l - 1 : NET_INPUT;
        ly->out = width;
        ly->bias = bias;
    }
    assert_int_equal(net_infer(n, NULL), 0);
}

/* The same without biases. */
static void chain(struct net *n, int layers, int width)
{
    chain_bias(n, layers, width, 0);
}

/* History words of a 4-layer chain, in units of one layer's weights (ours) and
 * of its params (the paper's count, LAYERPIPE.md s. 4). */
struct four {
    int64_t stash, ema;               /* ours: no history for fc1, weights only */
    int64_t paper_stash, paper_ema;   /* every layer, weights and biases */
};

/* Plan a 4-layer chain (16 wide, with and without biases) with the given stages;
 * check delays and history words. */
static void check_four(const int stage_of[4], int M, const int delay[4], struct four want)
{
    for (int bias = 0; bias <= 1; bias++) {
        struct net n;
        struct plan p;
        const int64_t w = 16 * 16, par = w + (bias ? 16 : 0);
        chain_bias(&n, 4, 16, bias);
        assert_int_equal(plan_build(&p, &n, stage_of, M, 1, NULL), 0);
        for (int l = 0; l < 4; l++) {
            const struct plan_layer *pl = &p.layers[l];
            assert_int_equal(pl->delay, delay[l]);
            assert_int_equal(pl->S, delay[l] / 2);
            assert_int_equal(pl->params, par);
            assert_int_equal(pl->weights, w);
            /* fc1 reads the network input: its backward propagates no error. */
            assert_int_equal(pl->propagates, l > 0);
            assert_int_equal(pl->stash_words, l > 0 ? delay[l] * w : 0);
            assert_int_equal(pl->ema_words, l > 0 && delay[l] > 0 ? w : 0);
            assert_int_equal(pl->paper_stash_words, delay[l] * par);
            assert_int_equal(pl->paper_ema_words, delay[l] > 0 ? par : 0);
        }
        assert_int_equal(p.totals.stash_words, want.stash * w);
        assert_int_equal(p.totals.ema_words, want.ema * w);
        assert_int_equal(p.totals.paper_stash_words, want.paper_stash * par);
        assert_int_equal(p.totals.paper_ema_words, want.paper_ema * par);
        assert_int_equal(plan_history_words(&p, PLAN_STASH), want.stash * w);
        assert_int_equal(plan_history_words(&p, PLAN_EMA), want.ema * w);
        assert_int_equal(plan_history_words(&p, PLAN_STALE), 0);
        assert_int_equal(plan_history_words(&p, PLAN_SEQUENTIAL), 0);
        assert_int_equal(plan_paper_history_words(&p, PLAN_STASH), want.paper_stash * par);
        assert_int_equal(plan_paper_history_words(&p, PLAN_EMA), want.paper_ema * par);
        assert_int_equal(plan_paper_history_words(&p, PLAN_STALE), 0);
        assert_int_equal(plan_paper_history_words(&p, PLAN_SEQUENTIAL), 0);
        plan_free(&p);
        net_free(&n);
    }
}

/* LAYERPIPE.md s. 4's worked examples: d = 6, 4, 2, 0: the paper's stash 12w,
 * ema 3w; the hardware's (no history for fc1) stash 6w, ema 2w. */
static void test_one_layer_per_stage(void **state)
{
    (void)state;
    check_four((int[]){1, 2, 3, 4}, 4, (int[]){6, 4, 2, 0}, (struct four){6, 2, 12, 3});
}

/* d = 2, 2, 0, 0: paper stash 4w, ema 2w; hardware stash 2w, ema 1w. */
static void test_two_groups(void **state)
{
    (void)state;
    check_four((int[]){1, 1, 2, 2}, 2, (int[]){2, 2, 0, 0}, (struct four){2, 1, 4, 2});
}

static void test_middle_group(void **state)
{
    (void)state;
    check_four((int[]){1, 2, 2, 3}, 3, (int[]){4, 2, 2, 0},
               (struct four){2 + 2, 2, 4 + 2 + 2, 3});
}

static void test_one_stage_is_sequential(void **state)
{
    (void)state;
    check_four((int[]){1, 1, 1, 1}, 1, (int[]){0, 0, 0, 0}, (struct four){0, 0, 0, 0});
}

/* Activation words: (2S+1) * batch * (input + relu mask) for a dense layer. */
static void test_activation_words(void **state)
{
    (void)state;
    struct net n;
    struct plan p;
    chain(&n, 4, 16);
    assert_int_equal(plan_build(&p, &n, (int[]){1, 2, 3, 4}, 4, 8, NULL), 0);
    assert_int_equal(p.layers[0].act_words, 7 * 8 * (16 + 16));
    assert_int_equal(p.layers[3].act_words, 1 * 8 * 16);   /* last: no relu */
    int64_t sum = 0;
    for (int l = 0; l < 4; l++)
        sum += p.layers[l].act_words;
    assert_int_equal(p.totals.act_words, sum);
    /* Three boundaries, one register each way per minibatch of 8 x 16 words. */
    assert_int_equal(p.totals.forward_reg_words, 3 * 8 * 16);
    assert_int_equal(p.totals.backward_reg_words, 3 * 8 * 16);
    plan_free(&p);
    net_free(&n);
}

/* a -> b -> c -> add(c, a): the skip edge a -> add. */
static void residual(struct net *n)
{
    static const char *names[] = {"a", "b", "c", "add"};
    assert_int_equal(net_init(n, 4), 0);
    n->input.rank = 3;
    n->input.dim[0] = 4, n->input.dim[1] = 8, n->input.dim[2] = 8;
    for (int l = 0; l < 4; l++) {
        struct net_layer *ly = &n->layers[l];
        snprintf(ly->name, sizeof ly->name, "%s", names[l]);
        ly->kind = l < 3 ? NET_CONV : NET_ADD;
        ly->act = NET_ACT_RELU;
        ly->n_inputs = 1;
        ly->inputs[0] = l ? l - 1 : NET_INPUT;
        ly->out = 4, ly->kernel = 3, ly->stride = 1, ly->pad = 1, ly->bias = 1;
    }
    n->layers[3].n_inputs = 2;
    n->layers[3].inputs[1] = 0;
    n->loss = NET_LOSS_MSE;
    assert_int_equal(net_infer(n, NULL), 0);
}

static const struct plan_edge *edge(const struct plan *p, int from, int to)
{
    for (int i = 0; i < p->n_edges; i++)
        if (p->edges[i].from == from && p->edges[i].to == to)
            return &p->edges[i];
    fail_msg("no edge %d -> %d", from, to);
    return NULL;
}

static void test_skip_edge_over_two_boundaries(void **state)
{
    (void)state;
    struct net n;
    struct plan p;
    residual(&n);
    assert_int_equal(plan_build(&p, &n, (int[]){1, 2, 3, 3}, 3, 2, NULL), 0);
    const struct plan_edge *skip = edge(&p, 0, 3);
    assert_int_equal(skip->forward_delay, 2);
    assert_int_equal(skip->backward_delay, 2);
    assert_int_equal(skip->forward_words, 2 * 2 * 4 * 8 * 8);
    assert_int_equal(edge(&p, 2, 3)->forward_delay, 0);   /* same stage */
    assert_int_equal(edge(&p, 0, 1)->forward_delay, 1);
    assert_int_equal(edge(&p, NET_INPUT, 0)->forward_delay, 0);
    assert_int_equal(edge(&p, NET_INPUT, 0)->backward_delay, 0);
    /* Both inputs of the add see the same minibatch: a's output waits one
     * step per boundary, exactly as long as the path a -> b -> c. */
    assert_int_equal(skip->forward_delay,
                     edge(&p, 0, 1)->forward_delay + edge(&p, 1, 2)->forward_delay +
                         edge(&p, 2, 3)->forward_delay);
    assert_int_equal(p.layers[3].delay, 0);
    assert_int_equal(p.layers[0].delay, 4);
    plan_free(&p);
    net_free(&n);
}

/* In a graph, a layer keeps history when some input is a layer: a (conv, reads
 * only the network input, d = 4) keeps none although its output also feeds the
 * add; b (d = 2) keeps its weights only; c and the add have d = 0 or no weights. */
static void test_history_in_a_residual_graph(void **state)
{
    (void)state;
    struct net n;
    struct plan p;
    residual(&n);
    assert_int_equal(plan_build(&p, &n, (int[]){1, 2, 3, 3}, 3, 2, NULL), 0);
    const int64_t w = 4 * 4 * 3 * 3, par = w + 4;   /* each conv: 144 weights, 4 biases */
    static const int propagates[4] = {0, 1, 1, 1}, delay[4] = {4, 2, 0, 0};
    for (int l = 0; l < 4; l++) {
        assert_int_equal(p.layers[l].propagates, propagates[l]);
        assert_int_equal(plan_propagates(&n, l), propagates[l]);
        assert_int_equal(p.layers[l].delay, delay[l]);
    }
    assert_int_equal(p.layers[0].params, par);
    assert_int_equal(p.layers[0].weights, w);
    assert_int_equal(p.layers[0].stash_words, 0);
    assert_int_equal(p.layers[0].ema_words, 0);
    assert_int_equal(p.layers[1].stash_words, 2 * w);
    assert_int_equal(p.layers[1].ema_words, w);
    assert_int_equal(p.layers[3].weights, 0);
    assert_int_equal(p.totals.stash_words, 2 * w);
    assert_int_equal(p.totals.ema_words, w);
    assert_int_equal(p.totals.paper_stash_words, 4 * par + 2 * par);
    assert_int_equal(p.totals.paper_ema_words, 2 * par);
    plan_free(&p);
    net_free(&n);
}

static void test_refuses_backward_flow(void **state)
{
    (void)state;
    struct net n;
    struct plan p;
    struct diag e;
    residual(&n);
    /* c in stage 1 reads b from stage 2. */
    assert_int_equal(plan_build(&p, &n, (int[]){1, 2, 1, 2}, 2, 1, &e), -1);
    assert_int_equal(e.layer, 2);
    assert_string_equal(e.field, "stage");
    assert_non_null(strstr(e.msg, "later stage"));
    /* The add in stage 1 reads a skip from stage 2. */
    assert_int_equal(plan_check(&n, (int[]){2, 2, 2, 1}, 2, &e), -1);
    /* a stage with no layer, and a stage number out of range */
    assert_int_equal(plan_check(&n, (int[]){1, 1, 3, 3}, 3, &e), -1);
    assert_non_null(strstr(e.msg, "stage 2 holds no layer"));
    assert_int_equal(plan_check(&n, (int[]){1, 2, 3, 4}, 3, &e), -1);
    assert_int_equal(e.layer, 3);
    assert_int_equal(plan_check(&n, (int[]){1, 2, 3, 4}, 5, &e), -1);
    net_free(&n);
}

static void test_shape_errors(void **state)
{
    (void)state;
    struct net n;
    struct diag e;
    residual(&n);
    n.layers[1].out = 8;   /* add of [4,8,8] and [8,8,8]... via c reading b */
    n.layers[2].out = 8;
    assert_int_equal(net_infer(&n, &e), -1);
    assert_int_equal(e.layer, 3);
    assert_non_null(strstr(e.msg, "different shapes"));
    n.layers[1].out = n.layers[2].out = 4;
    n.layers[0].kernel = 11, n.layers[0].pad = 1;   /* 11 > 8 + 2 */
    assert_int_equal(net_infer(&n, &e), -1);
    assert_int_equal(e.layer, 0);
    assert_string_equal(e.field, "kernel");
    net_free(&n);
}

static void test_schedule_pipelined(void **state)
{
    (void)state;
    struct net n;
    struct plan p;
    struct plan_slot s;
    chain(&n, 4, 16);
    assert_int_equal(plan_build(&p, &n, (int[]){1, 2, 3, 4}, 4, 1, NULL), 0);
    /* Minibatch m is forwarded by stage k at step m+k-1, back at m+2M-1-k. */
    for (int m = 0; m < 20; m++)
        for (int k = 1; k <= 4; k++) {
            int d = 2 * (4 - k);
            plan_slot(&p, PLAN_EMA, k, m + k - 1, &s);
            assert_int_equal(s.fwd, m);
            assert_int_equal(s.fwd_version, m - d > 0 ? m - d : 0);
            plan_slot(&p, PLAN_EMA, k, m + 2 * 4 - 1 - k, &s);
            assert_int_equal(s.bwd, m);
            assert_int_equal(s.live_version, m);
            assert_int_equal(s.bwd_version, m - d > 0 ? m - d : 0);
        }
    /* The fill: stage 1 idles on backward until step 6; the last stage does
     * forward and backward of the same minibatch in one step. */
    plan_slot(&p, PLAN_STASH, 1, 5, &s);
    assert_int_equal(s.bwd, -1);
    plan_slot(&p, PLAN_STASH, 1, 6, &s);
    assert_int_equal(s.bwd, 0);
    plan_slot(&p, PLAN_STASH, 4, 2, &s);
    assert_int_equal(s.fwd, -1);
    plan_slot(&p, PLAN_STASH, 4, 3, &s);
    assert_int_equal(s.fwd, 0);
    assert_int_equal(s.bwd, 0);
    /* In steady state the gap between the live and the forward's version is the delay. */
    plan_slot(&p, PLAN_STALE, 1, 100, &s);
    assert_int_equal(s.live_version - s.bwd_version, 6);
    plan_free(&p);
    net_free(&n);
}

static void test_schedule_sequential(void **state)
{
    (void)state;
    struct net n;
    struct plan p;
    struct plan_slot s;
    chain(&n, 4, 16);
    assert_int_equal(plan_build(&p, &n, (int[]){1, 2, 3, 4}, 4, 1, NULL), 0);
    /* One minibatch per 2M-1 = 7 steps; every read is of W^(m). */
    int busy = 0;
    for (int t = 0; t < 7 * 5; t++)
        for (int k = 1; k <= 4; k++) {
            plan_slot(&p, PLAN_SEQUENTIAL, k, t, &s);
            busy += (s.fwd >= 0) + (s.bwd >= 0);
            if (s.fwd >= 0)
                assert_int_equal(s.fwd_version, t / 7), assert_int_equal(s.fwd, t / 7);
            if (s.bwd >= 0)
                assert_int_equal(s.bwd_version, s.live_version);
        }
    assert_int_equal(busy, 5 * 8);   /* each minibatch: 4 forwards, 4 backwards */
    plan_slot(&p, PLAN_SEQUENTIAL, 1, 6, &s);
    assert_int_equal(s.bwd, 0);
    plan_slot(&p, PLAN_SEQUENTIAL, 1, 7, &s);
    assert_int_equal(s.fwd, 1);
    plan_free(&p);
    net_free(&n);
}

static void test_balanced(void **state)
{
    (void)state;
    struct net n;
    int stage_of[4];
    struct diag e;
    /* Widths 64, 8, 8, 8, 8: fc1 has 8x the MACs of the others. */
    assert_int_equal(net_init(&n, 4), 0);
    n.input.rank = 1, n.input.dim[0] = 64;
    for (int l = 0; l < 4; l++) {
        struct net_layer *ly = &n.layers[l];
        snprintf(ly->name, sizeof ly->name, "fc%d", l + 1);
        ly->kind = NET_DENSE, ly->n_inputs = 1, ly->inputs[0] = l ? l - 1 : NET_INPUT;
        ly->out = 8;
    }
    assert_int_equal(net_infer(&n, NULL), 0);
    /* train MACs: fc1 2*512 = 1024, others 3*64 = 192 each. */
    assert_int_equal(plan_balance(&n, 2, stage_of, &e), 0);
    assert_memory_equal(stage_of, ((int[]){1, 2, 2, 2}), sizeof stage_of);
    assert_int_equal(plan_balance(&n, 4, stage_of, &e), 0);
    assert_memory_equal(stage_of, ((int[]){1, 2, 3, 4}), sizeof stage_of);
    assert_int_equal(plan_balance(&n, 1, stage_of, &e), 0);
    assert_memory_equal(stage_of, ((int[]){1, 1, 1, 1}), sizeof stage_of);
    assert_int_equal(plan_balance(&n, 5, stage_of, &e), -1);
    assert_int_equal(plan_balance(&n, 0, stage_of, &e), -1);
    /* Equal layers split evenly. */
    net_free(&n);
    chain(&n, 4, 16);
    assert_int_equal(plan_balance(&n, 2, stage_of, &e), 0);
    /* fc1 reads only the input: 2 units; the others 3 each: {fc1,fc2} = 5, {fc3,fc4} = 6. */
    assert_memory_equal(stage_of, ((int[]){1, 1, 2, 2}), sizeof stage_of);
    net_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_layer_per_stage),
        cmocka_unit_test(test_two_groups),
        cmocka_unit_test(test_middle_group),
        cmocka_unit_test(test_one_stage_is_sequential),
        cmocka_unit_test(test_activation_words),
        cmocka_unit_test(test_skip_edge_over_two_boundaries),
        cmocka_unit_test(test_history_in_a_residual_graph),
        cmocka_unit_test(test_refuses_backward_flow),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_schedule_pipelined),
        cmocka_unit_test(test_schedule_sequential),
        cmocka_unit_test(test_balanced),
    };
    return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
