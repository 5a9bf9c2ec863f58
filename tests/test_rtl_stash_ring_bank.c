/* test_rtl_stash_ring_bank.c - rtl/stash_ring.sv at the depths of rtl/stash_ring_bank.sv
 * (1, 2, 3 and 6: one slot whose head never moves, small rings, a deep one) against the
 * stash of model/train.c, one reference ring per depth, through
 * sim/blocks_stash_ring_bank.h. Geometry: versions of a P 7 x Q 6 weight matrix of 16-bit
 * words in N 4 skewed banks (Q not a multiple of N, and column segments from row 4 on run
 * past the matrix), 8-bit version counters.
 *
 * Method: the test plays a layer's trainer from reset. Each update pushes the live weights
 * W^(live) into every ring, a row segment per push: in half the updates as a weight
 * skew_mem of the same geometry reads them out for the update (each row in segments of N
 * columns from column 0, rows in order), in the other half cut into segments of 1 .. N
 * columns in a random order; the words in bank order (the word of element (p, q) at bank
 * (p + q) mod N, the reference computes it from the layout), the other banks random (they
 * must be ignored). The last segment ends the version. Pushes leave bubbles (cycles whose
 * push and read ports carry random words, push_last included, under a low valid), and
 * backward reads, at most one a cycle, mixed into the cycles of the pushes, ask for a
 * column segment (N rows down from any row, any column) of a version: each read plays the
 * backward of one ring chosen at random: half of them read its oldest version live - Depth
 * (the steady state), the rest any gap 0 .. 2*Depth + 1 (so also misses: overwritten, and
 * during the fill versions before 0); every ring answers it, a ring with a smaller depth
 * often with a miss. One read in eight asks on purpose for a version no ring holds (gap 7 .. 13, or not
 * yet pushed). The reference of each ring is train.c's ring: slot v mod Depth receives
 * W^(live) before each update (update_layer); a read of v with 1 <= live - v <=
 * min(live, Depth) takes slot v mod Depth (the ring holds only versions pushed since
 * reset), v == live is the live weights (backward_weights: the RTL raises rd_live and the
 * caller reads its weight memory), anything else a miss. Each reference ring is itself
 * checked against the exact versions W^(v) it was given, so the test shows that each
 * backward reads exactly the weights its forward read. Every ring must answer
 * SIM_SRB_LATENCY cycles after each read, and only then, with rd_live and rd_miss as the
 * reference says and, on a hit, the words of every lane inside the matrix; its live_o must
 * count the versions pushed.
 *
 * The order rule of the RTL (its header: the banks read first): a read of version live -
 * Depth, the slot this update's pushes overwrite, must read each word no later than the
 * cycle that word is pushed. With one read stream for all rings, the generator keeps to it
 * for every ring: a read whose gap is the depth of some ring takes a column segment none of
 * whose words inside the matrix was pushed in this update before this cycle, and in half of
 * those reads one that the very push of this cycle overwrites (read-first).
 *
 * Versions never pushed since reset: before each update of the fill of the Depth 6 ring
 * (live 0..5 after each reset, no word of the update pushed yet), the test sweeps every
 * version number, gap 0 .. 2^8 - 1 (a random segment each): every ring must answer the
 * live weights at gap 0, its stored words at 1 <= gap <= min(live, Depth), and a miss at
 * every other gap, among them the wrapped numbers 255, 254, ... of the versions "before 0"
 * whose slots still hold the words of the run before the reset.
 *
 * The version counters are SIM_SRB_VERSION_WIDTH (8) bits wide, so they wrap several times
 * in a run; the reference keeps exact 64-bit versions and compares modulo 2^8, as the RTL
 * does. The run (3000 updates) starts from reset and resets five more times (at an update
 * boundary during the fill of the Depth 6 ring, at another boundary, half-way through an
 * update's pushes, half-way through one after the counters wrapped, and at a boundary after
 * several wraps): the first Depth updates after each reset are part of it, with the RAMs
 * keeping the words of the run before.
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

#define R SIM_SRB_RINGS
#define NB SIM_SRB_N
#define P SIM_SRB_P
#define Q SIM_SRB_Q
#define WMASK ((uint32_t)((1ull << SIM_SRB_WIDTH) - 1u))
#define VMASK ((uint32_t)((1ull << SIM_SRB_VERSION_WIDTH) - 1u))
#define MAX_DEPTH 8      /* of a reference ring (the self-test models one deeper than the RTL) */
#define HIST 16          /* W^(v) kept at v mod HIST: > the deepest window + 1 */
#define QCAP 8           /* reads in flight */
#define MAX_SEGS (P * Q) /* row segments of one update */

#define SEED_RANDOM 20260321u
#define SEED_SELF 20260322u
#define MIN_OPS 10000      /* pushes, and reads, in the random run, at the least */
#define MIN_UPDATES 3000   /* updates in the random run, at the least */
#define MISS_IN 8       /* one read in MISS_IN asks for a version no ring holds */
#define REPORTS 5       /* mismatches printed per run; the rest are counted */
#define NRESETS 5       /* resets after the first in the random run (RESETS) */

static const int DEPTH[R] = SIM_SRB_DEPTHS;

/* ---- the reference: the trainer's weights, and train.c's ring at each depth ---- */

struct trainer {
    uint32_t hist[HIST][P][Q];   /* W^(v) at v mod HIST, v in the last HIST versions */
    uint8_t pushed[P][Q];        /* pushed so far (before this cycle) of version live */
    int64_t live;                /* exact; the RTL holds it modulo 2^VERSION_WIDTH */
};

struct ring {
    int depth;                           /* as modelled: the self-test gets one wrong */
    uint32_t slot[MAX_DEPTH][P][Q];      /* W^(v) at v mod depth; never cleared, as the RAM */
};

struct seg {
    uint32_t p, q, n;   /* row p, columns q .. q + n - 1 */
};

static uint32_t (*live_words(struct trainer *t))[Q]
{
    return t->hist[t->live % HIST];
}

static void new_weights(struct trainer *t, struct rng *rng)
{
    for (int p = 0; p < P; p++)
        for (int q = 0; q < Q; q++)
            live_words(t)[p][q] = (uint32_t)rng_next(rng) & WMASK;
}

/* A new training run: version 0 with fresh weights. The rings keep their slots. */
static void trainer_reset(struct trainer *t, struct rng *rng)
{
    memset(t, 0, sizeof *t);
    new_weights(t, rng);
}

/* update_layer, a row segment at a time: the live words go to slot live mod depth of every
 * ring; the last segment ends the version (live + 1, whose weights the "update" draws at
 * random). */
static void ref_push(struct trainer *t, struct ring *rings, const struct seg *sg, int last,
                     struct rng *rng)
{
    for (uint32_t l = 0; l < sg->n; l++) {
        for (int i = 0; i < R; i++)
            rings[i].slot[t->live % rings[i].depth][sg->p][sg->q + l] =
                live_words(t)[sg->p][sg->q + l];
        t->pushed[sg->p][sg->q + l] = 1;
    }
    if (last) {
        t->live++;
        memset(t->pushed, 0, sizeof t->pushed);
        new_weights(t, rng);
    }
}

enum kind { KIND_LIVE, KIND_HELD, KIND_MISS };

/* backward_weights at one ring: what a read of the column segment at (p, q) of version ver
 * returns now (before this cycle's push): on a hit, want[l] for the lanes inside the
 * matrix. Versions compare as in the RTL, modulo 2^VERSION_WIDTH. The ring holds the last
 * min(live, depth) versions: none from before the reset. */
static enum kind ring_read(const struct ring *g, const struct trainer *t, int64_t ver,
                           uint32_t p, uint32_t q, uint32_t *want)
{
    uint32_t gap = (uint32_t)(t->live - ver) & VMASK;
    int64_t held = t->live < g->depth ? t->live : g->depth;
    if (gap == 0)
        return KIND_LIVE;
    if (gap > held)
        return KIND_MISS;
    assert_true(ver >= 0 && t->live - ver == (int64_t)gap);   /* the generator's promise */
    for (uint32_t l = 0; l < NB && p + l < P; l++) {
        want[l] = g->slot[ver % g->depth][p + l][q];
        /* the reference holds what the forward read: W^(ver) */
        assert_int_equal(want[l], t->hist[ver % HIST][p + l][q]);
    }
    return KIND_HELD;
}

/* ---- the scoreboard ---- */

struct read {
    int64_t cycle, index, ver;
    uint32_t p, q;
    uint32_t want[R][NB];
    enum kind kind[R];
    int expect_bad[R];   /* the self-test's flipped word */
};

struct board {
    struct read q[QCAP];
    int head, n;
    int64_t cycle;
    int reports_left;
    int64_t bad[R], bad_expected;
    int64_t corrupted;   /* the read whose expected word the self-test flipped (0: none) */
    int64_t pushes, reads, updates, resets, wraps;
    int64_t sweep_reads;   /* of reads: those of the sweeps */
    int64_t past_reads;    /* reads of a segment partly past the last row */
    /* per ring: reads answered with the live flag, stored words, a miss; stored segments
     * read in the cycle a push overwrites one of their words; stored words read during the
     * fill; misses of versions never pushed since reset within Depth */
    int64_t live_reads[R], held_reads[R], miss_reads[R], same_cycle[R], fill_reads[R],
        unpushed_reads[R];
    int64_t unpushed_in_run[NRESETS + 1];   /* reads of such versions, per run (reset) */
};

static void report(struct board *b, int ring, const struct read *rd, const char *why,
                   const struct sim_srb_out *o)
{
    if (b->reports_left-- <= 0)
        return;
    if (!rd) {
        print_error("cycle %lld, ring %d (depth %d): %s\n", (long long)b->cycle, ring,
                    DEPTH[ring], why);
        return;
    }
    static const char *const kinds[] = {"live", "held", "miss"};
    print_error("cycle %lld, ring %d (depth %d), read %lld (cycle %lld): %s: version %lld, "
                "column segment at (%u, %u): rtl valid %d live %d miss %d data %04x %04x "
                "%04x %04x, reference %s %04x %04x %04x %04x\n", (long long)b->cycle, ring,
                DEPTH[ring], (long long)rd->index, (long long)rd->cycle, why,
                (long long)rd->ver, rd->p, rd->q, o->rd_valid[ring], o->rd_live[ring],
                o->rd_miss[ring], o->rd_data[ring][0], o->rd_data[ring][1],
                o->rd_data[ring][2], o->rd_data[ring][3], kinds[rd->kind[ring]],
                rd->want[ring][0], rd->want[ring][1], rd->want[ring][2], rd->want[ring][3]);
}

/* This cycle's outputs: the read due now on every ring, or no valid at all; live_o. */
static void board_check(struct board *b, const struct sim_srb_out *o, const struct trainer *t)
{
    const struct read *rd = NULL;
    if (b->n > 0 && b->cycle - b->q[b->head].cycle >= SIM_SRB_LATENCY)
        rd = &b->q[b->head];
    for (int i = 0; i < R; i++) {
        const char *why = NULL;
        if (rd && !o->rd_valid[i])
            why = "no valid when due";
        else if (!rd && o->rd_valid[i])
            why = "a valid with no read due";
        else if (rd && (o->rd_live[i] != (rd->kind[i] == KIND_LIVE) ||
                        o->rd_miss[i] != (rd->kind[i] == KIND_MISS)))
            why = "live or miss differs";
        else if (rd && rd->kind[i] == KIND_HELD)
            for (uint32_t l = 0; l < NB && rd->p + l < P; l++)
                if (o->rd_data[i][l] != rd->want[i][l])
                    why = "a word differs";
        if (why) {
            report(b, i, rd, why, o);
            b->bad[i]++;
            b->bad_expected += rd ? rd->expect_bad[i] : 0;
        }
        uint32_t live = (uint32_t)t->live & VMASK;
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
    for (int i = 0; i < R; i++)
        if (gap > 0 && (gap == (uint32_t)DEPTH[i] || gap == (uint32_t)rings[i].depth))
            return 1;
    return 0;
}

/* May a read at the gap of an overwritten slot take the segment at (p, q)? None of its
 * words inside the matrix may have been pushed before this cycle. *now: one of them is
 * pushed in this cycle (push: this cycle's segment, or NULL). */
static int unpushed(const struct trainer *t, uint32_t p, uint32_t q, const struct seg *push,
                    int *now)
{
    *now = 0;
    for (uint32_t l = 0; l < NB && p + l < P; l++) {
        if (t->pushed[p + l][q])
            return 0;
        if (push && push->p == p + l && q >= push->q && q < push->q + push->n)
            *now = 1;
    }
    return 1;
}

/* A backward's read (see the file comment). push: the segment pushed in this cycle, or
 * NULL. Keeps to the RTL's order rule in every ring. */
static void pick_read(const struct trainer *t, const struct ring *rings, struct rng *rng,
                      const struct seg *push, int miss_in, int64_t *ver, uint32_t *p,
                      uint32_t *q)
{
    int dmax = 0;
    for (int i = 0; i < R; i++)
        dmax = DEPTH[i] > dmax ? DEPTH[i] : dmax;
    *p = rng_below(rng, P);
    *q = rng_below(rng, Q);
    if (miss_in > 0 && rng_below(rng, (uint32_t)miss_in) == 0) {
        /* overwritten in every ring (gap dmax + 1 .. 2 dmax + 1), or not yet pushed */
        if (rng_below(rng, 2))
            *ver = t->live - dmax - 1 - (int64_t)rng_below(rng, (uint32_t)dmax + 1);
        else
            *ver = t->live + 1 + (int64_t)rng_below(rng, 4);
        return;
    }
    int target = DEPTH[rng_below(rng, R)];   /* the ring whose backward this read plays */
    int64_t gap = rng_below(rng, 2) ? target : (int64_t)rng_below(rng, 2u * (uint32_t)target + 2);
    if (gap == target && gap > t->live)   /* the trainer's own reads: none before 0 */
        gap = t->live;
    if (overwrites(rings, (uint32_t)gap)) {
        /* a segment none of whose words was pushed yet, in half the reads one this very
         * cycle's push overwrites */
        uint32_t cand[P * Q], ncand = 0, cnow[P * Q], nnow = 0;
        for (uint32_t pp = 0; pp < P; pp++)
            for (uint32_t qq = 0; qq < Q; qq++) {
                int now;
                if (unpushed(t, pp, qq, push, &now)) {
                    cand[ncand++] = pp * Q + qq;
                    if (now)
                        cnow[nnow++] = pp * Q + qq;
                }
            }
        if (nnow > 0 && rng_below(rng, 2)) {
            uint32_t c = cnow[rng_below(rng, nnow)];
            *p = c / Q, *q = c % Q;
        } else if (ncand > 0) {
            uint32_t c = cand[rng_below(rng, ncand)];
            *p = c / Q, *q = c % Q;
        } else {
            gap = 0;   /* every segment has a word pushed: read the live weights */
        }
    }
    *ver = t->live - gap;
}

struct reset_point {
    int64_t update;   /* before this update's first push, or half-way through its pushes */
    int mid;
};

static const struct reset_point RESETS[NRESETS] = {{4, 0}, {19, 0}, {43, 1}, {350, 1},
                                                   {1900, 0}};

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

/* Present a read of the column segment at (p, q) of version ver in *in, with what every
 * reference ring expects; push: this cycle's segment, or NULL. */
static void add_read(struct trainer *t, const struct ring *rings, const struct plan *pl,
                     struct board *b, int64_t cycle, int64_t ver, uint32_t p, uint32_t q,
                     const struct seg *push, struct sim_srb_in *in)
{
    struct read rd;
    uint32_t gap = (uint32_t)(t->live - ver) & VMASK;
    int now = 0;
    memset(&rd, 0, sizeof rd);
    rd.cycle = cycle;
    rd.index = b->reads;
    rd.ver = ver;
    rd.p = p;
    rd.q = q;
    if (push)
        unpushed(t, p, q, push, &now);
    int never = 0;
    for (int i = 0; i < R; i++) {
        enum kind k = ring_read(&rings[i], t, ver, p, q, rd.want[i]);
        rd.kind[i] = k;
        b->live_reads[i] += k == KIND_LIVE;
        b->held_reads[i] += k == KIND_HELD;
        b->miss_reads[i] += k == KIND_MISS;
        b->same_cycle[i] += k == KIND_HELD && now && gap == (uint32_t)DEPTH[i];
        b->fill_reads[i] += k == KIND_HELD && t->live < DEPTH[i];
        if (k == KIND_MISS && gap >= 1 && gap <= (uint32_t)DEPTH[i]) {
            b->unpushed_reads[i]++;
            never = 1;
        }
    }
    b->unpushed_in_run[b->resets] += never;
    b->past_reads += p + NB > P;
    if (pl->corrupt_read >= 0 && rd.index >= pl->corrupt_read && !b->corrupted &&
        rd.kind[pl->corrupt_ring] == KIND_HELD) {
        rd.want[pl->corrupt_ring][0] ^= 1u;   /* the first stored word from then */
        rd.expect_bad[pl->corrupt_ring] = 1;
        b->corrupted = rd.index;
    }
    in->rd_valid = 1;
    in->rd_ver = (uint32_t)ver & VMASK;
    in->rd_p = p;
    in->rd_q = q;
    assert_true(b->n < QCAP);
    b->q[(b->head + b->n++) % QCAP] = rd;
    b->reads++;
}

/* Before an update (no word of it pushed yet, so the order rule holds): read every version
 * number, gap 0 .. 2^VERSION_WIDTH - 1, a random segment each, one per cycle, and wait for
 * the answers. */
static int64_t sweep(struct sim_srb *s, struct trainer *t, const struct ring *rings,
                     const struct plan *pl, struct board *b, int64_t cycle, struct rng *rng)
{
    for (uint32_t gap = 0; gap <= VMASK || b->n > 0; gap++) {
        struct sim_srb_in in;
        struct sim_srb_out out;
        memset(&in, 0, sizeof in);
        if (gap <= VMASK) {
            uint32_t p = rng_below(rng, P), q = rng_below(rng, Q);
            add_read(t, rings, pl, b, cycle, t->live - gap, p, q, NULL, &in);
            b->sweep_reads++;
        }
        sim_srb_cycle(s, &in, &out);
        b->cycle = cycle++;
        board_check(b, &out, t);
    }
    return cycle;
}

/* The row segments of one update: as a weight skew_mem gives them (N columns at a time
 * from column 0, rows in order), or cut at random and shuffled. Returns their number. */
static int plan_segments(struct rng *rng, struct seg *segs)
{
    int n = 0, aligned = (int)rng_below(rng, 2);
    for (uint32_t p = 0; p < P; p++)
        for (uint32_t q = 0; q < Q;) {
            uint32_t left = Q - q < NB ? Q - q : NB;
            uint32_t len = aligned ? left : 1 + rng_below(rng, left);
            segs[n++] = (struct seg){p, q, len};
            q += len;
        }
    for (int i = n - 1; i > 0 && !aligned; i--) {
        int j = (int)rng_below(rng, (uint32_t)i + 1);
        struct seg x = segs[i];
        segs[i] = segs[j], segs[j] = x;
    }
    return n;
}

/* Random words on every input but the valids: a push or a read whose valid is low must be
 * ignored, push_last and all. */
static void junk(struct rng *rng, struct sim_srb_in *in)
{
    in->push_p = rng_below(rng, 2 * P);
    in->push_q = rng_below(rng, 2 * Q);
    in->push_n = rng_below(rng, NB + 1);
    for (int k = 0; k < NB; k++)
        in->push_data[k] = (uint32_t)rng_next(rng);
    in->push_last = (int)rng_below(rng, 2);
    in->rd_ver = (uint32_t)rng_next(rng);
    in->rd_p = rng_below(rng, 2 * P);
    in->rd_q = rng_below(rng, 2 * Q);
}

/* Play a layer's trainer from reset: at least pl->min_updates updates, and on until there
 * were pl->min_ops pushes and pl->min_ops reads besides the sweeps. Returns the
 * mismatches, all rings. */
static int64_t play(struct sim_srb *s, const struct plan *pl, struct board *b)
{
    struct trainer t;
    struct ring rings[R];
    struct rng rng;
    struct seg segs[MAX_SEGS];
    int dmax = 0;
    for (int i = 0; i < R; i++)
        dmax = DEPTH[i] > dmax ? DEPTH[i] : dmax;
    rng_seed(&rng, pl->seed);
    memset(b, 0, sizeof *b);
    memset(rings, 0, sizeof rings);
    b->reports_left = REPORTS;
    for (int i = 0; i < R; i++) {
        rings[i].depth = i == pl->wrong_ring ? pl->wrong_depth : DEPTH[i];
        assert_true(rings[i].depth >= 1 && rings[i].depth <= MAX_DEPTH &&
                    2 * rings[i].depth + 1 < HIST);
    }
    reset_both(s, &t, b, &rng);
    b->resets = 0;   /* count the resets after the first */
    int64_t cycle = 0;
    for (int64_t u = 0; u < pl->min_updates || b->pushes < pl->min_ops ||
                        b->reads - b->sweep_reads < pl->min_ops; u++) {
        int nseg = plan_segments(&rng, segs);
        int stop_at = -1;   /* pushes after which this update is abandoned by a reset */
        for (int r = 0; r < pl->resets; r++) {
            if (RESETS[r].update == u && RESETS[r].mid)
                stop_at = nseg / 2;
            else if (RESETS[r].update == u)
                reset_both(s, &t, b, &rng);   /* nothing in flight between updates */
        }
        if (pl->sweep && t.live < dmax)
            cycle = sweep(s, &t, rings, pl, b, cycle, &rng);
        int np = 0, reads_left = (int)rng_below(&rng, 2u * (uint32_t)nseg + 1);
        while (np < nseg || reads_left > 0 || b->n > 0) {
            struct sim_srb_in in;
            struct sim_srb_out out;
            const struct seg *sg = NULL;
            memset(&in, 0, sizeof in);
            int stopping = np == stop_at;
            if (stopping && b->n == 0) {   /* drained: the run restarts */
                reset_both(s, &t, b, &rng);
                break;
            }
            junk(&rng, &in);   /* what the ports carry while their valid is low */
            if (!stopping && np < nseg && rng_below(&rng, 4) != 0) {
                sg = &segs[np];
                in.push_valid = 1;
                in.push_p = sg->p;
                in.push_q = sg->q;
                in.push_n = sg->n;
                for (int k = 0; k < NB; k++)   /* the banks no word of the segment is in */
                    in.push_data[k] = (uint32_t)rng_next(&rng);
                for (uint32_t l = 0; l < sg->n; l++)   /* bank order: skew_mem's layout */
                    in.push_data[(sg->p + sg->q + l) % NB] = live_words(&t)[sg->p][sg->q + l];
                in.push_last = np == nseg - 1;   /* (junk may have set it) */
            }
            if (!stopping && reads_left > 0 && rng_below(&rng, 4) != 0) {
                int64_t ver;
                uint32_t p, q;
                pick_read(&t, rings, &rng, sg, pl->miss_in, &ver, &p, &q);
                add_read(&t, rings, pl, b, cycle, ver, p, q, sg, &in);
                reads_left--;
            }
            sim_srb_cycle(s, &in, &out);
            b->cycle = cycle++;
            board_check(b, &out, &t);
            if (sg) {
                ref_push(&t, rings, sg, in.push_last, &rng);
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
    for (int i = 0; i < R; i++)
        bad += b->bad[i];
    return bad;
}

/* ---- tests ---- */

static void test_trainer_sequence(void **state)
{
    const struct plan pl = {.seed = SEED_RANDOM, .min_ops = MIN_OPS, .min_updates = MIN_UPDATES,
                            .miss_in = MISS_IN, .resets = NRESETS, .wrong_ring = -1,
                            .corrupt_read = -1, .sweep = 1};
    struct board b;
    int64_t bad = play(*state, &pl, &b);
    print_message("  seed %u, P %d x Q %d words of %d bits in N %d banks, version counters of "
                  "%d bits: %lld row-segment pushes, %lld updates (the counters wrapped %lld "
                  "times), %lld column-segment reads (%lld partly past the last row), %lld "
                  "resets after the first, %lld cycles; %lld of the reads in the sweeps of the "
                  "fills\n", SEED_RANDOM, P, Q, SIM_SRB_WIDTH, NB, SIM_SRB_VERSION_WIDTH,
                  (long long)b.pushes, (long long)b.updates, (long long)b.wraps,
                  (long long)b.reads, (long long)b.past_reads, (long long)b.resets,
                  (long long)b.cycle + 1, (long long)b.sweep_reads);
    print_message("  reads of versions never pushed since reset within some Depth, per run:");
    for (int r = 0; r <= NRESETS; r++)
        print_message(" %lld", (long long)b.unpushed_in_run[r]);
    print_message("\n");
    for (int i = 0; i < R; i++)
        print_message("  ring %d, Depth %d: %lld live, %lld stored (%lld during the fill, %lld "
                      "in the cycle a push overwrites them), %lld misses (%lld never pushed "
                      "since reset, gap <= Depth); %lld mismatches\n", i, DEPTH[i],
                      (long long)b.live_reads[i], (long long)b.held_reads[i],
                      (long long)b.fill_reads[i], (long long)b.same_cycle[i],
                      (long long)b.miss_reads[i], (long long)b.unpushed_reads[i],
                      (long long)b.bad[i]);
    assert_int_equal(bad, 0);
    assert_true(b.pushes >= MIN_OPS);
    assert_true(b.reads - b.sweep_reads >= MIN_OPS);
    assert_int_equal(b.resets, NRESETS);
    assert_true(b.wraps >= 2);
    assert_true(b.past_reads >= 1000);
    for (int r = 0; r <= NRESETS; r++)
        assert_true(b.unpushed_in_run[r] > 0);
    for (int i = 0; i < R; i++) {
        assert_true(b.live_reads[i] > 0);
        assert_true(b.held_reads[i] >= 500);
        assert_true(b.miss_reads[i] >= 500);
        assert_true(b.same_cycle[i] >= 50);
        assert_true(b.unpushed_reads[i] >= NRESETS + 1);   /* Depth 1: a sweep per reset */
        if (DEPTH[i] >= 2)
            assert_true(b.fill_reads[i] > 0);
    }
}

/* The checker itself: ring 1 (Depth 2) modelled as Depth 3 must be reported, on that ring
 * alone; then one expected stored word of ring 0 (Depth 1) with its low bit flipped must
 * be reported, and nothing else. */
static void test_checker_catches_a_wrong_reference(void **state)
{
    struct board b;
    print_message("  seed %u; wrong references, each of which the checker must report:\n",
                  SEED_SELF);
    const struct plan wrong_depth = {.seed = SEED_SELF, .min_ops = 500, .miss_in = MISS_IN,
                                     .wrong_ring = 1, .wrong_depth = 3, .corrupt_read = -1};
    int64_t bad = play(*state, &wrong_depth, &b);
    print_message("  ring 1 (Depth 2) modelled as Depth 3: %lld mismatches (ring 1: %lld)\n",
                  (long long)bad, (long long)b.bad[1]);
    assert_true(b.bad[1] > 0);
    assert_int_equal(bad, b.bad[1]);

    const struct plan flipped = {.seed = SEED_SELF + 1, .min_ops = 200, .miss_in = MISS_IN,
                                 .wrong_ring = -1, .corrupt_read = 37, .corrupt_ring = 0};
    bad = play(*state, &flipped, &b);
    print_message("  one bit of a stored word of read %lld on ring 0 (Depth 1) flipped: "
                  "%lld mismatch\n", (long long)b.corrupted, (long long)bad);
    assert_true(b.corrupted >= 37);
    assert_int_equal(bad, 1);
    assert_int_equal(b.bad[0], 1);
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
