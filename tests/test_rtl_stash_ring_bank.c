/* test_rtl_stash_ring_bank.c - rtl/stash_ring.sv at the depths of rtl/stash_ring_bank.sv
 * (0, 1, 2, 3 and 6: no RAM, one slot without a head pointer, small rings, the default)
 * against the stash of model/train.c, one reference ring per depth, through
 * sim/blocks_stash_ring_bank.h. The CI builds stash_ring with its default Depth only;
 * this is where its degenerate branches are tested.
 *
 * Method (that of tests/test_rtl_stash_ring.c, for five rings at once): the test plays a
 * layer's trainer from reset. Each update pushes the live weights W^(live) word by word
 * in a random order (the last word ends the version) into every ring, while backward reads
 * ask, one per cycle, mixed into the cycles of the pushes, with bubbles, for a word of a
 * version: each read plays the backward of one ring chosen at random (the steady state
 * reads that ring's oldest version live - Depth, the rest spread over its window, gap 0
 * to Depth), and every ring answers it; for a ring with a smaller depth the version may be
 * outside its window, and it must answer rd_miss. One read in eight asks for a version no
 * ring holds (gap Depth 6 + 1..4, not yet pushed, or, during the fill, before 0) on
 * purpose. The reference of each ring is train.c's ring: slot v mod Depth receives
 * W^(live) at each update (update_layer); a read of v with 1 <= live - v <= min(live,
 * Depth) takes slot v mod Depth (the ring holds only versions pushed since reset), v ==
 * live the live weights (backward_weights), anything else is a miss, with data 0; Depth
 * 0 always gives the live weights. Each reference ring is itself checked against the exact
 * versions W^(v) it was given, so the test shows that each backward reads exactly the
 * weights its forward read. Every ring must answer SIM_SRB_LATENCY cycles after each
 * read, and only then; its live_o must count the versions pushed (Depth 0: read 0).
 *
 * The order rule of the RTL (its header): a read of version live - Depth must read each
 * word no later than the cycle that word is pushed. With one read stream for all rings,
 * the generator keeps to it for every ring: a read whose gap is the depth of some ring
 * takes a word not yet pushed in this update, and often the very word pushed in the same
 * cycle (read-first). The trainer's own reads ask for no version before 0 during the
 * fill (live < gap); the misses above and the sweep below do, on purpose.
 *
 * Versions never pushed since reset: before each update of the fill of the Depth 6 ring
 * (live 0..5 after each reset, no word of the update pushed yet), the test sweeps every
 * version number, gap 0 .. 2^8 - 1 (one random word each): every ring must answer the
 * live word at gap 0, its stored word at 1 <= gap <= min(live, Depth), and a miss with
 * data 0 at every other gap, among them the wrapped numbers 255, 254, ... of the versions
 * "before 0" whose slots still hold the words of the run before the reset.
 *
 * The version counters are SIM_SRB_VERSION_WIDTH (8) bits wide, so they wrap several
 * times in a run; the reference keeps exact 64-bit versions and compares modulo 2^8, as
 * the RTL does. The run starts from reset and resets three more times (at an update
 * boundary during the fill of the Depth 6 ring, at another boundary, and half-way
 * through an update's pushes): the first Depth updates after each reset are part of it,
 * with the RAMs keeping the words of the run before (the first run starts on the RAMs as
 * the model was created).
 *
 * test_checker_catches_a_wrong_reference models one ring at the wrong depth and flips one
 * bit of one expected stored word of another, and asserts that the checker reports exactly
 * those (STYLE.md's injected fault). Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../model/rng.h"
#include "../sim/blocks_stash_ring_bank.h"

#define N SIM_SRB_RINGS
#define WORDS SIM_SRB_WORDS
#define WMASK ((uint32_t)((1ull << SIM_SRB_WIDTH) - 1u))
#define VMASK ((uint32_t)((1ull << SIM_SRB_VERSION_WIDTH) - 1u))
#define MAX_DEPTH 8   /* of a reference ring (the self-test models one deeper than the RTL) */
#define HIST 16       /* W^(v) kept at v mod HIST: > the deepest window + 1 */
#define QCAP 8        /* reads in flight */

#define SEED_RANDOM 20260301u
#define SEED_SELF 20260302u
#define MIN_OPS 10000   /* pushes, and reads, in the random run */
#define MISS_IN 8       /* one read in MISS_IN asks for a version no ring holds */
#define REPORTS 5       /* mismatches printed per run; the rest are counted */

static const int DEPTH[N] = SIM_SRB_DEPTHS;

/* ---- the reference: the trainer's weights, and train.c's ring at each depth ---- */

struct trainer {
    uint32_t hist[HIST][WORDS];   /* W^(v) at v mod HIST, v in the last HIST versions */
    uint8_t pushed[WORDS];        /* pushed so far (before this cycle) of version live */
    int64_t live;                 /* exact; the RTL holds it modulo 2^VERSION_WIDTH */
};

struct ring {
    int depth;                            /* as modelled: the self-test gets one wrong */
    uint32_t slot[MAX_DEPTH][WORDS];      /* W^(v) at v mod depth; never cleared, as the RAM */
};

static uint32_t *live_words(struct trainer *t)
{
    return t->hist[t->live % HIST];
}

/* A new training run: version 0 with fresh weights. The rings keep their slots. */
static void trainer_reset(struct trainer *t, struct rng *rng)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < WORDS; i++)
        live_words(t)[i] = (uint32_t)rng_next(rng) & WMASK;
}

/* update_layer: the live word idx goes to slot live mod depth of every ring; the last word
 * ends the version (live + 1, whose weights the "update" draws at random). */
static void ref_push(struct trainer *t, struct ring *rings, int idx, int last, struct rng *rng)
{
    for (int i = 0; i < N; i++)
        if (rings[i].depth > 0)
            rings[i].slot[t->live % rings[i].depth][idx] = live_words(t)[idx];
    t->pushed[idx] = 1;
    if (last) {
        t->live++;
        memset(t->pushed, 0, sizeof t->pushed);
        for (int i = 0; i < WORDS; i++)
            live_words(t)[i] = (uint32_t)rng_next(rng) & WMASK;
    }
}

enum kind { KIND_LIVE, KIND_HELD, KIND_MISS };

/* backward_weights at one ring: what a read of word idx of version ver returns now
 * (before this cycle's push). Versions compare as in the RTL, modulo 2^VERSION_WIDTH. The
 * ring holds the last min(live, depth) versions: none from before the reset. */
static enum kind ring_read(const struct ring *g, struct trainer *t, int64_t ver, int idx,
                           uint32_t *want)
{
    uint32_t gap = (uint32_t)(t->live - ver) & VMASK;
    int64_t held = t->live < g->depth ? t->live : g->depth;
    if (g->depth == 0 || gap == 0) {
        *want = live_words(t)[idx];
        return KIND_LIVE;
    }
    if (gap <= held) {
        assert_true(ver >= 0 && t->live - ver == (int64_t)gap);   /* the generator's promise */
        *want = g->slot[ver % g->depth][idx];
        /* the reference holds what the forward read: W^(ver) */
        assert_int_equal(*want, t->hist[ver % HIST][idx]);
        return KIND_HELD;
    }
    *want = 0;
    return KIND_MISS;
}

/* ---- the scoreboard ---- */

struct read {
    int64_t cycle, index, ver;
    int idx;
    uint32_t want[N];
    int want_miss[N];
    int expect_bad[N];   /* the self-test's flipped word */
};

struct board {
    struct read q[QCAP];
    int head, n;
    int64_t cycle;
    int reports_left;
    int64_t bad[N], bad_expected;
    int64_t corrupted;   /* the read whose expected word the self-test flipped (0: none) */
    int64_t pushes, reads, updates, resets, wraps;
    int64_t sweep_reads;   /* of reads: those of the sweeps */
    /* per ring: reads answered with the live word, a stored word, a miss; stored words
     * read in the cycle of their overwrite; stored words read during the fill */
    int64_t live_reads[N], held_reads[N], miss_reads[N], same_cycle[N], fill_reads[N];
    /* per ring: misses of versions never pushed since reset, although 1 <= gap <= Depth;
     * per run (the first, and after each reset): those misses on any ring */
    int64_t unpushed_reads[N], unpushed_in_run[4];
};

static void report(struct board *b, int ring, const struct read *rd, const char *why,
                   const struct sim_srb_out *o)
{
    if (b->reports_left-- <= 0)
        return;
    if (rd)
        print_error("cycle %lld, ring %d (depth %d), read %lld of cycle %lld: %s; version "
                    "%lld word %d: rtl valid %d data %u miss %d, reference data %u miss %d\n",
                    (long long)b->cycle, ring, DEPTH[ring], (long long)rd->index,
                    (long long)rd->cycle, why, (long long)rd->ver, rd->idx, o->rd_valid[ring],
                    o->rd_data[ring], o->rd_miss[ring], rd->want[ring], rd->want_miss[ring]);
    else
        print_error("cycle %lld, ring %d (depth %d): %s\n", (long long)b->cycle, ring,
                    DEPTH[ring], why);
}

/* This cycle's outputs: the read due now on every ring, or no valid at all; live_o. */
static void board_check(struct board *b, const struct sim_srb_out *o, const struct trainer *t)
{
    const struct read *rd = NULL;
    if (b->n > 0 && b->cycle - b->q[b->head].cycle >= SIM_SRB_LATENCY)
        rd = &b->q[b->head];
    for (int i = 0; i < N; i++) {
        const char *why = NULL;
        if (rd && !o->rd_valid[i])
            why = "no valid when due";
        else if (!rd && o->rd_valid[i])
            why = "a valid with no read due";
        else if (rd && (o->rd_data[i] != rd->want[i] || o->rd_miss[i] != rd->want_miss[i]))
            why = "word differs";
        if (why) {
            report(b, i, rd, why, o);
            b->bad[i]++;
            b->bad_expected += rd ? rd->expect_bad[i] : 0;
        }
        uint32_t live = DEPTH[i] > 0 ? (uint32_t)t->live & VMASK : 0;
        if (o->live[i] != live) {
            if (b->reports_left-- > 0)
                print_error("cycle %lld, ring %d (depth %d): live_o %u, reference %u\n",
                            (long long)b->cycle, i, DEPTH[i], o->live[i], live);
            b->bad[i]++;
        }
    }
    if (rd) {
        b->head = (b->head + 1) % QCAP;
        b->n--;
    }
}

/* ---- the trainer's stream ---- */

/* Does a read at this gap take the slot the current update overwrites, in some ring of
 * the RTL or of the reference? */
static int overwrites(const struct ring *rings, uint32_t gap)
{
    for (int i = 0; i < N; i++)
        if (gap > 0 && (gap == (uint32_t)DEPTH[i] || gap == (uint32_t)rings[i].depth))
            return 1;
    return 0;
}

/* A backward's read (see the file comment). push_idx: the word pushed in this cycle, or
 * -1. Keeps to the RTL's order rule in every ring. */
static void pick_read(const struct trainer *t, const struct ring *rings, struct rng *rng,
                      int push_idx, int miss_in, int64_t *ver, int *idx)
{
    int dmax = 0;
    for (int i = 0; i < N; i++)
        dmax = DEPTH[i] > dmax ? DEPTH[i] : dmax;
    *idx = (int)rng_below(rng, WORDS);
    if (miss_in > 0 && rng_below(rng, (uint32_t)miss_in) == 0) {
        /* overwritten, not yet pushed, or during the fill before 0 (gap live + 1 .. dmax) */
        int64_t k = 1 + (int64_t)rng_below(rng, 4);
        uint32_t kind = rng_below(rng, 3);
        if (kind == 0 && t->live < dmax)
            *ver = -1 - (int64_t)rng_below(rng, (uint32_t)(dmax - t->live));
        else
            *ver = kind == 1 ? t->live + k : t->live - dmax - k;
        return;
    }
    int target = DEPTH[rng_below(rng, N)];   /* the ring whose backward this read plays */
    int64_t gap = rng_below(rng, 2) ? target : (int64_t)rng_below(rng, (uint32_t)target + 1);
    if (gap > t->live)   /* the fill: no version before 0 */
        gap = t->live;
    if (gap == target && gap > 0 && push_idx >= 0 && rng_below(rng, 2))
        *idx = push_idx;   /* read-first: the word pushed in this very cycle */
    if (overwrites(rings, (uint32_t)gap) && t->pushed[*idx]) {
        /* already overwritten in that ring: take a word not yet pushed (one always is:
         * the last push ends the version) */
        int left = 0;
        for (int i = 0; i < WORDS; i++)
            left += !t->pushed[i];
        assert_true(left > 0);
        int k = (int)rng_below(rng, (uint32_t)left);
        for (int i = 0; i < WORDS; i++)
            if (!t->pushed[i] && k-- == 0)
                *idx = i;
    }
    *ver = t->live - gap;
}

struct reset_point {
    int64_t update;   /* before this update's first push, or half-way through its pushes */
    int mid;
};

static const struct reset_point RESETS[] = {{4, 0}, {19, 0}, {43, 1}};

struct plan {
    uint64_t seed;
    int64_t min_ops, min_updates;
    int miss_in, resets;            /* resets: how many of RESETS to take */
    int wrong_ring, wrong_depth;    /* wrong_ring >= 0: modelled with wrong_depth */
    int64_t corrupt_read;           /* >= 0: the first stored word on corrupt_ring read ... */
    int corrupt_ring;               /* ... from read corrupt_read on has its low bit flipped */
    int sweep;                      /* sweep every version number during each fill */
};

static void reset_both(struct sim_srb *s, struct trainer *t, struct board *b, struct rng *rng)
{
    sim_srb_reset(s);
    trainer_reset(t, rng);
    b->resets++;
}

/* Present a read of word idx of version ver in *in, with what every reference ring
 * expects; push: this cycle pushes word in->push_idx. */
static void add_read(struct trainer *t, const struct ring *rings, const struct plan *p,
                     struct board *b, int64_t cycle, int64_t ver, int idx, int push,
                     struct sim_srb_in *in)
{
    struct read rd;
    uint32_t gap = (uint32_t)(t->live - ver) & VMASK;
    memset(&rd, 0, sizeof rd);
    rd.cycle = cycle;
    rd.index = b->reads;
    rd.ver = ver;
    rd.idx = idx;
    int unpushed = 0;
    for (int i = 0; i < N; i++) {
        enum kind k = ring_read(&rings[i], t, rd.ver, rd.idx, &rd.want[i]);
        rd.want_miss[i] = k == KIND_MISS;
        b->live_reads[i] += k == KIND_LIVE;
        b->held_reads[i] += k == KIND_HELD;
        b->miss_reads[i] += k == KIND_MISS;
        b->same_cycle[i] += k == KIND_HELD && push && gap == (uint32_t)DEPTH[i] &&
                            rd.idx == in->push_idx;
        b->fill_reads[i] += k == KIND_HELD && t->live < DEPTH[i];
        if (k == KIND_MISS && gap >= 1 && gap <= (uint32_t)DEPTH[i]) {
            b->unpushed_reads[i]++;
            unpushed = 1;
        }
    }
    b->unpushed_in_run[b->resets] += unpushed;
    if (p->corrupt_read >= 0 && rd.index >= p->corrupt_read && !b->corrupted &&
        !rd.want_miss[p->corrupt_ring] && rd.ver != t->live) {
        rd.want[p->corrupt_ring] ^= 1u;   /* the first stored word from then */
        rd.expect_bad[p->corrupt_ring] = 1;
        b->corrupted = rd.index;
    }
    in->rd_valid = 1;
    in->rd_ver = (uint32_t)rd.ver & VMASK;
    in->rd_idx = rd.idx;
    in->rd_live = live_words(t)[rd.idx];
    assert_true(b->n < QCAP);
    b->q[(b->head + b->n++) % QCAP] = rd;
    b->reads++;
}

/* Before an update (no word of it pushed yet, so the order rule holds): read every version
 * number, gap 0 .. 2^VERSION_WIDTH - 1, one random word each, one per cycle, and wait for
 * the answers. */
static int64_t sweep(struct sim_srb *s, struct trainer *t, const struct ring *rings,
                     const struct plan *p, struct board *b, int64_t cycle, struct rng *rng)
{
    for (uint32_t gap = 0; gap <= VMASK || b->n > 0; gap++) {
        struct sim_srb_in in;
        struct sim_srb_out out;
        memset(&in, 0, sizeof in);
        if (gap <= VMASK) {
            add_read(t, rings, p, b, cycle, t->live - gap, (int)rng_below(rng, WORDS), 0, &in);
            b->sweep_reads++;
        }
        sim_srb_cycle(s, &in, &out);
        b->cycle = cycle++;
        board_check(b, &out, t);
    }
    return cycle;
}

/* Play a layer's trainer from reset: at least p->min_updates updates, and on until there
 * were p->min_ops pushes and p->min_ops reads besides the sweeps. Returns the mismatches,
 * all rings. */
static int64_t play(struct sim_srb *s, const struct plan *p, struct board *b)
{
    struct trainer t;
    struct ring rings[N];
    struct rng rng;
    int perm[WORDS], dmax = 0;
    for (int i = 0; i < N; i++)
        dmax = DEPTH[i] > dmax ? DEPTH[i] : dmax;
    rng_seed(&rng, p->seed);
    memset(b, 0, sizeof *b);
    memset(rings, 0, sizeof rings);
    b->reports_left = REPORTS;
    for (int i = 0; i < N; i++) {
        rings[i].depth = i == p->wrong_ring ? p->wrong_depth : DEPTH[i];
        assert_true(rings[i].depth <= MAX_DEPTH && rings[i].depth + 1 < HIST);
    }
    reset_both(s, &t, b, &rng);
    b->resets = 0;   /* count the resets after the first */
    int64_t cycle = 0;
    for (int64_t u = 0; u < p->min_updates || b->pushes < p->min_ops ||
                        b->reads - b->sweep_reads < p->min_ops; u++) {
        int stop_at = -1;   /* pushes after which this update is abandoned by a reset */
        for (int r = 0; r < p->resets; r++) {
            if (RESETS[r].update == u && RESETS[r].mid)
                stop_at = WORDS / 2;
            else if (RESETS[r].update == u)
                reset_both(s, &t, b, &rng);   /* nothing in flight between updates */
        }
        if (p->sweep && t.live < dmax)
            cycle = sweep(s, &t, rings, p, b, cycle, &rng);
        for (int i = 0; i < WORDS; i++)
            perm[i] = i;
        for (int i = WORDS - 1; i > 0; i--) {
            int j = (int)rng_below(&rng, (uint32_t)i + 1), x = perm[i];
            perm[i] = perm[j], perm[j] = x;
        }
        int np = 0, reads_left = (int)rng_below(&rng, 2 * WORDS + 1);
        while (np < WORDS || reads_left > 0 || b->n > 0) {
            struct sim_srb_in in;
            struct sim_srb_out out;
            memset(&in, 0, sizeof in);
            int stopping = np == stop_at;
            if (stopping && b->n == 0) {   /* drained: the run restarts */
                reset_both(s, &t, b, &rng);
                break;
            }
            int push = !stopping && np < WORDS && rng_below(&rng, 4) != 0;
            if (push) {
                in.push_valid = 1;
                in.push_idx = perm[np];
                in.push_data = live_words(&t)[perm[np]];
                in.push_last = np == WORDS - 1;
            }
            if (!stopping && reads_left > 0 && rng_below(&rng, 4) != 0) {
                int64_t ver;
                int idx;
                pick_read(&t, rings, &rng, push ? in.push_idx : -1, p->miss_in, &ver, &idx);
                add_read(&t, rings, p, b, cycle, ver, idx, push, &in);
                reads_left--;
            }
            sim_srb_cycle(s, &in, &out);
            b->cycle = cycle++;
            board_check(b, &out, &t);
            if (push) {
                ref_push(&t, rings, in.push_idx, in.push_last, &rng);
                np++;
                b->pushes++;
                if (in.push_last) {
                    b->updates++;
                    b->wraps += ((uint32_t)t.live & VMASK) == 0;
                }
            }
        }
    }
    int64_t bad = 0;
    for (int i = 0; i < N; i++)
        bad += b->bad[i];
    return bad;
}

/* ---- tests ---- */

static void test_trainer_sequence(void **state)
{
    const struct plan p = {SEED_RANDOM, MIN_OPS, 0, MISS_IN, 3, -1, 0, -1, 0, 1};
    struct board b;
    int64_t bad = play(*state, &p, &b);
    print_message("  seed %u, Words %d, Width %d, version counters of %d bits: %lld pushes, "
                  "%lld updates (the counters wrapped %lld times), %lld reads, %lld resets "
                  "after the first, %lld cycles; %lld of the reads in the sweeps of the fills, "
                  "reads never pushed since reset within some Depth in each run: %lld %lld "
                  "%lld %lld\n", SEED_RANDOM, WORDS, SIM_SRB_WIDTH, SIM_SRB_VERSION_WIDTH,
                  (long long)b.pushes, (long long)b.updates, (long long)b.wraps,
                  (long long)b.reads, (long long)b.resets, (long long)b.cycle + 1,
                  (long long)b.sweep_reads, (long long)b.unpushed_in_run[0],
                  (long long)b.unpushed_in_run[1], (long long)b.unpushed_in_run[2],
                  (long long)b.unpushed_in_run[3]);
    for (int i = 0; i < N; i++)
        print_message("  ring %d, Depth %d: %lld live, %lld stored (%lld during the fill, %lld "
                      "in the cycle of their overwrite), %lld misses (%lld never pushed since "
                      "reset, gap <= Depth); %lld mismatches\n", i, DEPTH[i],
                      (long long)b.live_reads[i], (long long)b.held_reads[i],
                      (long long)b.fill_reads[i], (long long)b.same_cycle[i],
                      (long long)b.miss_reads[i], (long long)b.unpushed_reads[i],
                      (long long)b.bad[i]);
    assert_int_equal(bad, 0);
    assert_true(b.pushes >= MIN_OPS);
    assert_true(b.reads >= MIN_OPS);
    assert_int_equal(b.resets, 3);
    assert_true(b.wraps >= 2);
    for (int r = 0; r <= 3; r++)
        assert_true(b.unpushed_in_run[r] > 0);
    for (int i = 0; i < N; i++) {
        assert_true(b.live_reads[i] > 0);
        if (DEPTH[i] == 0) {   /* every read is the live word */
            assert_int_equal(b.live_reads[i], b.reads);
            continue;
        }
        assert_true(b.held_reads[i] >= 500);
        assert_true(b.miss_reads[i] >= 500);
        assert_true(b.same_cycle[i] >= 50);
        assert_true(b.unpushed_reads[i] >= 4);   /* Depth 1: one sweep after each reset */
        if (DEPTH[i] >= 2)
            assert_true(b.fill_reads[i] > 0);
    }
}

/* The checker itself: ring 2 (Depth 2) modelled as Depth 3 must be reported, on that ring
 * alone; then one expected stored word of ring 1 (Depth 1) with its low bit flipped must
 * be reported, and nothing else. */
static void test_checker_catches_a_wrong_reference(void **state)
{
    struct board b;
    print_message("  seed %u; wrong references, each of which the checker must report:\n",
                  SEED_SELF);
    const struct plan wrong_depth = {SEED_SELF, 500, 0, MISS_IN, 0, 2, 3, -1, 0, 0};
    int64_t bad = play(*state, &wrong_depth, &b);
    print_message("  ring 2 (Depth 2) modelled as Depth 3: %lld mismatches (ring 2: %lld)\n",
                  (long long)bad, (long long)b.bad[2]);
    assert_true(b.bad[2] > 0);
    assert_int_equal(bad, b.bad[2]);

    const struct plan flipped = {SEED_SELF + 1, 200, 0, MISS_IN, 0, -1, 0, 37, 1, 0};
    bad = play(*state, &flipped, &b);
    print_message("  one bit of the stored word of read %lld on ring 1 (Depth 1) flipped: "
                  "%lld mismatch\n", (long long)b.corrupted, (long long)bad);
    assert_true(b.corrupted >= 37);
    assert_int_equal(bad, 1);
    assert_int_equal(b.bad[1], 1);
    assert_int_equal(b.bad_expected, 1);
}

static int setup(void **state)
{
    *state = sim_srb_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_srb_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainer_sequence),
        cmocka_unit_test(test_checker_catches_a_wrong_reference),
    };
    return cmocka_run_group_tests_name("rtl stash_ring_bank", tests, setup, teardown);
}
