/* test_rtl_stash_ring.c - rtl/stash_ring.sv against the stash of model/train.c.
 *
 * Method: the test plays a layer's trainer from reset: each update pushes the live
 * weights W^(live) word by word in a random order (the last word ends the version), while
 * backward reads ask for words of versions v within the last Depth (live - Depth <= v <=
 * live; v == live reads the live word through rd_live), one per cycle, mixed into the
 * same cycles as the pushes, with bubbles. The C reference is train.c's ring: slot v mod
 * Depth receives W^(live) at each update (update_layer), a read of v < live takes slot
 * v mod Depth and v == live the live weights (backward_weights); the reference is itself
 * checked against the exact versions W^(v) it was given, so the test shows that the
 * backward reads exactly the weights its forward read. Every answer must come
 * SIM_STASH_RING_LATENCY cycles after its read with the reference's word, and live_o must
 * count the versions pushed. A few reads ask for versions the ring does not hold
 * (overwritten, or not yet pushed) and must be answered with rd_miss and data 0. The first
 * Depth updates after reset, when fewer than Depth versions exist, are part of every run.
 *
 * The ring holds only versions pushed since reset: during the fill it holds live of them,
 * and a read of a version "before 0" is a miss even when its gap live - v (modulo
 * 2^VersionWidth: v = -1 is rd_ver 2^VersionWidth - 1) is at most Depth, whatever the RAM,
 * which is not reset, still holds. test_misses asks for such versions: at random among
 * its misses, and in a sweep before each update of the fill (gaps 0 .. 2 Depth + 1, and
 * the next version, one word each). It plays on from the RAM test_trainer_sequence left
 * full, and resets again in the middle of its run, so that every fill is read over the
 * words of the run before.
 *
 * The one constraint the RTL puts on the order (its header): a read of version
 * live - Depth, whose slot the current push overwrites, must read each word no later than
 * the cycle that word is pushed; the generator keeps to it and, often, reads the very word
 * pushed in the same cycle (read-first).
 *
 * The geometry is the one the model was built with (sim_stash_ring_geometry), so the same
 * test and harness also check a build with other parameters, e.g. Depth 0 and 1:
 *   verilator --cc -Wall -Irtl --top-module stash_ring -GDepth=1 -Mdir DIR --build rtl/stash_ring.sv
 * (the Makefile builds the defaults only).
 *
 * test_scoreboard_catches_a_difference corrupts one expected word and asserts exactly
 * that read is reported (STYLE.md's injected fault). Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../model/rng.h"
#include "../sim/blocks_stash_ring.h"

#define SEED 20260227u
#define MIN_OPS 10000   /* pushes, and reads, per random run */
#define QCAP 8

/* train.c's stash for one layer, and the exact versions it should hold. */
struct ref {
    struct sim_stash_ring_geom g;
    uint32_t wmask, vmask;
    uint32_t *slot;      /* depth * words: W^(v) at v mod depth; kept over a reset, as the RAM */
    uint32_t *hist;      /* (depth + 1) * words: W^(v) at v mod (depth + 1), v in the window */
    uint8_t *pushed;     /* words: pushed so far of the version being pushed */
    int64_t live;        /* versions pushed since reset, exact */
};

struct read {
    int64_t cycle, index, ver;
    int idx;
    uint32_t want;
    int want_miss, expect_bad;
};

struct board {
    struct read q[QCAP];
    int head, n;
    int64_t cycle;
    int bad, bad_expected;
    int64_t pushes, reads, live_reads, held_reads, miss_reads, same_cycle, fill_reads;
    /* misses of versions never pushed since reset, although 1 <= gap <= depth (before 0,
     * during a fill); the same after a reset in the middle of the run */
    int64_t unpushed_reads, unpushed_after_restart, restarts;
};

static uint32_t *live_words(struct ref *r)
{
    return r->hist + (r->live % (r->g.depth + 1)) * r->g.words;
}

static void ref_init(struct ref *r, const struct sim_stash_ring_geom *g, struct rng *rng)
{
    memset(r, 0, sizeof *r);
    r->g = *g;
    r->wmask = g->width >= 32 ? 0xffffffffu : (1u << g->width) - 1u;
    r->vmask = g->version_width >= 32 ? 0xffffffffu : (1u << g->version_width) - 1u;
    r->slot = calloc((size_t)(g->depth > 0 ? g->depth : 1) * (size_t)g->words, sizeof *r->slot);
    r->hist = calloc((size_t)(g->depth + 1) * (size_t)g->words, sizeof *r->hist);
    r->pushed = calloc((size_t)g->words, 1);
    assert_non_null(r->slot);
    assert_non_null(r->hist);
    assert_non_null(r->pushed);
    for (int i = 0; i < g->words; i++)   /* W^(0) */
        live_words(r)[i] = (uint32_t)rng_next(rng) & r->wmask;
}

/* A reset: a new run from version 0 with fresh weights. The slots keep their words. */
static void ref_restart(struct ref *r, struct rng *rng)
{
    r->live = 0;
    memset(r->pushed, 0, (size_t)r->g.words);
    for (int i = 0; i < r->g.words; i++)
        live_words(r)[i] = (uint32_t)rng_next(rng) & r->wmask;
}

static void ref_free(struct ref *r)
{
    free(r->slot);
    free(r->hist);
    free(r->pushed);
}

/* update_layer: the live word idx goes to slot live mod depth; the last word ends the
 * version (live + 1, whose weights the "update" draws at random). */
static void ref_push(struct ref *r, int idx, int last, struct rng *rng)
{
    int d = r->g.depth;
    if (d > 0)
        r->slot[(r->live % d) * r->g.words + idx] = live_words(r)[idx];
    r->pushed[idx] = 1;
    if (last) {
        r->live++;
        memset(r->pushed, 0, (size_t)r->g.words);
        for (int i = 0; i < r->g.words; i++)
            live_words(r)[i] = (uint32_t)rng_next(rng) & r->wmask;
    }
}

/* backward_weights: what a read of word idx of version ver returns now (before this
 * cycle's push). Versions are compared as the RTL does, modulo 2^version_width. The ring
 * holds the last min(live, depth) versions: none from before the reset. */
static void ref_read(struct ref *r, int64_t ver, int idx, struct read *rd)
{
    int d = r->g.depth;
    uint32_t gap = (uint32_t)(r->live - ver) & r->vmask;
    int64_t held = r->live < d ? r->live : d;
    rd->ver = ver;
    rd->idx = idx;
    rd->want_miss = 0;
    if (d == 0 || gap == 0) {
        rd->want = live_words(r)[idx];
    } else if (gap <= held) {
        assert_true(ver >= 0 && r->live - ver == (int64_t)gap);   /* no aliasing in the test */
        rd->want = r->slot[(ver % d) * r->g.words + idx];
        /* the reference holds what the forward read: W^(ver) */
        assert_int_equal(rd->want, r->hist[(ver % (d + 1)) * r->g.words + idx]);
    } else {
        rd->want = 0;
        rd->want_miss = 1;
    }
}

static void report(const struct board *b, const struct read *rd, const char *why,
                   const struct sim_stash_ring_out *o)
{
    print_error("read %lld (cycle %lld, now %lld): %s; version %lld word %d: rtl %u (miss %d), "
                "reference %u (miss %d)\n", (long long)rd->index, (long long)rd->cycle,
                (long long)b->cycle, why, (long long)rd->ver, rd->idx, o->rd_data, o->rd_miss,
                rd->want, rd->want_miss);
}

static void board_check(struct board *b, const struct sim_stash_ring_out *o)
{
    if (o->rd_valid) {
        if (b->n == 0) {
            struct read none = {.cycle = b->cycle, .index = -1};
            report(b, &none, "a valid with no read in flight", o);
            b->bad++;
            return;
        }
        struct read *rd = &b->q[b->head];
        const char *why = NULL;
        if (b->cycle - rd->cycle != SIM_STASH_RING_LATENCY)
            why = "wrong latency";
        else if (o->rd_data != rd->want || o->rd_miss != rd->want_miss)
            why = "word differs";
        if (why) {
            report(b, rd, why, o);
            b->bad++;
            b->bad_expected += rd->expect_bad;
        }
        b->head = (b->head + 1) % QCAP;
        b->n--;
    } else if (b->n > 0 && b->cycle - b->q[b->head].cycle >= SIM_STASH_RING_LATENCY) {
        report(b, &b->q[b->head], "no valid when due", o);
        b->bad++;
        b->head = (b->head + 1) % QCAP;
        b->n--;
    }
}

/* A backward's read: a version within the last depth (during the fill: since 0), and,
 * one time in miss_in, one the ring does not hold: overwritten (or before 0), not yet
 * pushed, or, during the fill, one before 0 within the depth (gap live + 1 .. depth).
 * Keeps to the RTL's order rule: word idx of version live - depth only while it is not
 * yet pushed, or in the cycle of its push (push_idx >= 0). */
static void pick_read(struct ref *r, struct rng *rng, int push_idx, int miss_in, int64_t *ver,
                      int *idx)
{
    int d = r->g.depth;
    int64_t oldest = r->live - d < 0 ? 0 : r->live - d;
    *idx = (int)rng_below(rng, (uint32_t)r->g.words);
    if (d > 0 && miss_in > 0 && rng_below(rng, (uint32_t)miss_in) == 0) {
        int64_t k = 1 + (int64_t)rng_below(rng, 4);
        uint32_t kind = rng_below(rng, 3);
        if (kind == 0 && r->live < d)
            *ver = -1 - (int64_t)rng_below(rng, (uint32_t)(d - r->live));
        else
            *ver = kind == 1 ? r->live + k : r->live - d - k;
        return;
    }
    if (d == 0) {
        *ver = r->live;
        return;
    }
    /* The steady state reads the oldest version; the rest spread over the window. */
    *ver = rng_below(rng, 2) ? r->live - d : r->live - (int64_t)rng_below(rng, (uint32_t)d + 1);
    if (*ver < oldest)
        *ver = oldest;
    if (*ver == r->live - d) {
        if (push_idx >= 0 && rng_below(rng, 2))
            *idx = push_idx;   /* read-first: the word pushed in this very cycle */
        else if (r->pushed[*idx])
            *ver = r->live;    /* already overwritten: not a read a trainer would make */
    }
}

/* Present a read of word idx of version ver in *in, with what the reference expects;
 * push: this cycle pushes word in->push_idx. corrupt: the read whose expected word is
 * flipped (-1: none). */
static void add_read(struct ref *r, struct board *b, int64_t cycle, int64_t ver, int idx,
                     int push, int64_t corrupt, struct sim_stash_ring_in *in)
{
    struct read rd = {.cycle = cycle, .index = b->reads};
    int d = r->g.depth;
    uint32_t gap = (uint32_t)(r->live - ver) & r->vmask;
    ref_read(r, ver, idx, &rd);
    if (rd.index == corrupt) {
        rd.want ^= 1;
        rd.expect_bad = 1;
    }
    in->rd_valid = 1;
    in->rd_ver = (uint32_t)ver & r->vmask;
    in->rd_idx = idx;
    in->rd_live = live_words(r)[idx];
    assert_true(b->n < QCAP);
    b->q[(b->head + b->n++) % QCAP] = rd;
    b->reads++;
    b->miss_reads += rd.want_miss;
    b->live_reads += !rd.want_miss && ver == r->live;
    b->held_reads += !rd.want_miss && ver != r->live;
    b->same_cycle += push && ver == r->live - d && idx == in->push_idx && d > 0;
    b->fill_reads += r->live < d;
    if (rd.want_miss && gap >= 1 && gap <= (uint32_t)d) {
        b->unpushed_reads++;
        b->unpushed_after_restart += b->restarts > 0;
    }
}

/* Before an update of the fill (live < depth; no word of it pushed yet, so the order rule
 * holds): read versions live - gap for every gap 0 .. 2 depth + 1, and live + 1, one
 * random word each, one per cycle, and wait for the answers. */
static int64_t sweep(struct sim_stash_ring *s, struct ref *r, struct board *b, int64_t cycle,
                     struct rng *rng)
{
    int d = r->g.depth;
    for (int gap = -1; gap <= 2 * d + 1 || b->n > 0; gap++) {
        struct sim_stash_ring_in in;
        struct sim_stash_ring_out out;
        memset(&in, 0, sizeof in);
        if (gap <= 2 * d + 1)
            add_read(r, b, cycle, r->live - gap, (int)rng_below(rng, (uint32_t)r->g.words), 0,
                     -1, &in);
        sim_stash_ring_cycle(s, &in, &out);
        b->cycle = cycle++;
        board_check(b, &out);
    }
    return cycle;
}

/* Play a layer's trainer from reset: at least `updates` updates, and on until there were
 * min_ops pushes and min_ops reads. corrupt >= 0: the expected word of that read is
 * flipped. reset_at >= 0: reset again before that update (a new run from version 0 over
 * the RAM's words). do_sweep: sweep() before each update of every fill. Returns the
 * mismatches. */
static int play(struct sim_stash_ring *s, uint64_t seed, int updates, int64_t min_ops,
                int miss_in, int64_t corrupt, int reset_at, int do_sweep, struct board *b)
{
    struct sim_stash_ring_geom g;
    struct ref r;
    struct rng rng;
    int *perm;
    sim_stash_ring_geometry(s, &g);
    rng_seed(&rng, seed);
    ref_init(&r, &g, &rng);
    perm = malloc(sizeof *perm * (size_t)g.words);
    assert_non_null(perm);
    memset(b, 0, sizeof *b);
    sim_stash_ring_reset(s);
    int64_t cycle = 0;
    for (int u = 0; u < updates || b->pushes < min_ops || b->reads < min_ops; u++) {
        if (u == reset_at) {   /* between updates: nothing in flight */
            sim_stash_ring_reset(s);
            ref_restart(&r, &rng);
            b->restarts++;
        }
        if (do_sweep && r.live < g.depth)
            cycle = sweep(s, &r, b, cycle, &rng);
        for (int i = 0; i < g.words; i++)
            perm[i] = i;
        for (int i = g.words - 1; i > 0; i--) {
            int j = (int)rng_below(&rng, (uint32_t)i + 1), t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        int np = 0, reads_left = (int)rng_below(&rng, 2 * (uint32_t)g.words + 1);
        while (np < g.words || reads_left > 0 || b->n > 0) {
            struct sim_stash_ring_in in;
            struct sim_stash_ring_out out;
            memset(&in, 0, sizeof in);
            int push = np < g.words && rng_below(&rng, 4) != 0;
            if (push) {
                in.push_valid = 1;
                in.push_idx = perm[np];
                in.push_data = live_words(&r)[perm[np]];
                in.push_last = np == g.words - 1;
            }
            if (reads_left > 0 && rng_below(&rng, 4) != 0) {
                int64_t ver;
                int idx;
                pick_read(&r, &rng, push ? in.push_idx : -1, miss_in, &ver, &idx);
                add_read(&r, b, cycle, ver, idx, push, corrupt, &in);
                reads_left--;
            }
            sim_stash_ring_cycle(s, &in, &out);
            b->cycle = cycle++;
            board_check(b, &out);
            if (out.live != (g.depth > 0 ? (uint32_t)r.live & r.vmask : 0)) {
                print_error("cycle %lld: live_o %u, reference %lld\n", (long long)b->cycle,
                            out.live, (long long)r.live);
                b->bad++;
            }
            if (push) {
                ref_push(&r, in.push_idx, in.push_last, &rng);
                np++;
                b->pushes++;
            }
        }
    }
    free(perm);
    ref_free(&r);
    return b->bad;
}

static void test_trainer_sequence(void **state)
{
    struct sim_stash_ring *s = *state;
    struct sim_stash_ring_geom g;
    struct board b;
    sim_stash_ring_geometry(s, &g);
    int bad = play(s, SEED, 2 * g.depth + 2, MIN_OPS, 0, -1, -1, 0, &b);
    print_message("  Depth %d, Words %d, Width %d; seed %u: %lld pushes, %lld reads "
                  "(%lld of the live version, %lld stored, %lld during the fill, %lld in the "
                  "cycle of their word's overwrite), %d mismatches\n", g.depth, g.words,
                  g.width, SEED, (long long)b.pushes, (long long)b.reads,
                  (long long)b.live_reads, (long long)b.held_reads, (long long)b.fill_reads,
                  (long long)b.same_cycle, bad);
    assert_int_equal(bad, 0);
    assert_true(b.pushes >= MIN_OPS);
    assert_true(b.reads >= MIN_OPS);
    if (g.depth > 0) {
        assert_true(b.held_reads > 0);
        assert_true(b.same_cycle > 0);
    }
}

/* Reads of versions not held (overwritten, not yet pushed, or never pushed since reset)
 * mixed in, and swept during each fill: rd_miss, data 0. The RAM holds the words of the
 * run before (test_trainer_sequence's, then this run's own before its reset). */
static void test_misses(void **state)
{
    struct sim_stash_ring *s = *state;
    struct sim_stash_ring_geom g;
    struct board b;
    sim_stash_ring_geometry(s, &g);
    int reset_at = 2 * g.depth + 4;
    int bad = play(s, SEED + 1, 4 * g.depth + 8, 1000, 5, -1, reset_at, 1, &b);
    print_message("  %lld reads, %lld of versions not held (%lld never pushed since reset "
                  "although within Depth, %lld of them after the reset before update %d), "
                  "%d mismatches\n", (long long)b.reads, (long long)b.miss_reads,
                  (long long)b.unpushed_reads, (long long)b.unpushed_after_restart, reset_at,
                  bad);
    assert_int_equal(bad, 0);
    assert_int_equal(b.restarts, 1);
    if (g.depth > 0) {
        assert_true(b.miss_reads > 0);
        assert_true(b.unpushed_after_restart > 0);
        assert_true(b.unpushed_reads > b.unpushed_after_restart);
    }
}

/* The checker itself: one read's expected word off by one bit must be reported, and
 * only that one. */
static void test_scoreboard_catches_a_difference(void **state)
{
    struct board b;
    print_message("  one mismatch injected on purpose; it must be reported below:\n");
    int bad = play(*state, SEED + 2, 1, 100, 0, 37, -1, 0, &b);
    assert_true(b.reads > 37);
    assert_int_equal(bad, 1);
    assert_int_equal(b.bad_expected, 1);
}

static int setup(void **state)
{
    *state = sim_stash_ring_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_stash_ring_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainer_sequence),
        cmocka_unit_test(test_misses),
        cmocka_unit_test(test_scoreboard_catches_a_difference),
    };
    return cmocka_run_group_tests_name("rtl stash_ring", tests, setup, teardown);
}
