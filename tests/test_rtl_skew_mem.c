/* test_rtl_skew_mem.c - rtl/skew_mem.sv at its default parameters (N 4 banks, P 5 x Q 7
 * words, so Q is not a multiple of N and each row ends in a padding word) against a plain
 * reference array ref[slot][p][q], through sim/blocks_skew_mem.h.
 *
 * Method: the test first writes every word of every slot (rows in lane order), then runs
 * a random stream, one cycle per step, mixing
 *   - reads (three in four cycles): along a row or down a column, any slot, any first
 *     element (p, q) of the matrix, so that an access may run past the last column or row:
 *     only the lanes inside the matrix are compared;
 *   - row writes (one in two cycles) of 1 .. N lanes, wr_q + n <= Q, in lane order or in
 *     bank order (the word of lane l at the bank the layout gives element (p, q + l));
 *   - in one cycle in four that has both, a write aimed at a word the read reads: the read
 *     must return the old word (read-first);
 *   - idle ports (a low valid) carrying random words, which must be ignored;
 *   - copies: a row read, then SIM_SKEW_LATENCY cycles without a read (its words must stay on the outputs,
 *     even when a write changes the memory under them), then a bank-order write of the
 *     rd_bank it gave into another address whose lane 0 sits in the same bank, which must
 *     reproduce the row there (what a copy between memories of one geometry does).
 * Every cycle, the outputs must show the last read presented SIM_SKEW_LATENCY or more
 * cycles before it: rd_data in lane order, and rd_bank in bank order, each word of lane l at the
 * bank where the layout (bank (p + q) mod N) says its element lives, read from the
 * reference, not from rd_data.
 *
 * test_checker_catches_a_wrong_reference runs the stream three times with a wrong
 * reference (one bit of one expected word flipped; writes seen before the read of the same
 * cycle; the bank order of an unskewed memory) and asserts that the checker reports each
 * (STYLE.md's injected fault). Seeds are fixed and printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../model/rng.h"
#include "../sim/blocks_skew_mem.h"

#define N SIM_SKEW_N
#define P SIM_SKEW_P
#define Q SIM_SKEW_Q
#define SLOTS SIM_SKEW_SLOTS

#define SEED_RANDOM 20260311u
#define SEED_SELF 20260312u
#define CYCLES 50000    /* of the random stream */
#define MIN_OPS 10000   /* reads and writes in the stream, at the least */
#define REPORTS 5       /* mismatches printed per run; the rest are counted */

/* ---- the reference ---- */

struct plan {
    uint64_t seed;
    int64_t cycles;
    int64_t flip_read;   /* >= 0: the first read from this one on gets one expected bit flipped */
    int write_first;     /* the reference applies a cycle's write before its read */
    int unskewed;        /* the reference expects element (p, q) in bank q mod N */
};

/* Where the layout places element (p, q): its bank (the address is the RTL's business:
 * only the bank shows at the ports). */
static int bank_of(const struct plan *pl, uint32_t p, uint32_t q)
{
    return (int)((pl->unskewed || !SIM_SKEW_SKEW ? q : p + q) % N);
}

/* One read: what it must return, lane by lane. */
struct read {
    int64_t index, cycle;
    int slot, col;
    uint32_t p, q;
    uint32_t want[N];   /* lane order, the words before this cycle's write */
    uint32_t flip[N];   /* the self-test's corruption, XORed into the comparison only */
    int inside[N];      /* the lane's element is in the matrix */
    int bad;            /* reported already */
};

struct board {
    uint32_t ref[SLOTS][P][Q];
    /* seen[k]: the last read presented up to k + 1 cycles ago (have[k]: there is one);
     * the outputs show seen[SIM_SKEW_LATENCY - 1] */
    struct read seen[SIM_SKEW_LATENCY];
    int have[SIM_SKEW_LATENCY];
    int64_t cycle, reads, bad_reads, reports_left, flipped;
    /* counts */
    int64_t row_reads, col_reads, past_reads, lane_writes, bank_writes, same_word, copies,
        held_cycles, held_overwritten;
};

static void lane_elem(uint32_t p, uint32_t q, int col, int l, uint32_t *pe, uint32_t *qe)
{
    *pe = col ? p + (uint32_t)l : p;
    *qe = col ? q : q + (uint32_t)l;
}

/* The read of this cycle, as the reference sees it now. */
static void ref_read(struct board *b, const struct sim_skew_in *in, struct read *rd)
{
    memset(rd, 0, sizeof *rd);
    rd->index = b->reads;
    rd->cycle = b->cycle;
    rd->slot = in->rd_slot;
    rd->col = in->rd_col;
    rd->p = in->rd_p;
    rd->q = in->rd_q;
    for (int l = 0; l < N; l++) {
        uint32_t pe, qe;
        lane_elem(rd->p, rd->q, rd->col, l, &pe, &qe);
        rd->inside[l] = pe < P && qe < Q;
        rd->want[l] = rd->inside[l] ? b->ref[rd->slot][pe][qe] : 0;
    }
}

/* The write of this cycle into the reference: lane l's word is at l (lane order) or at the
 * bank of its element (bank order); a copy's lane l is lane l of the row it copies, as the
 * reference read it (a copy must reproduce the row, whatever the RTL put on rd_bank). */
static void ref_write(const struct plan *pl, struct board *b, const struct sim_skew_in *in,
                      const struct read *copy)
{
    for (uint32_t l = 0; l < in->wr_n; l++) {
        uint32_t q = in->wr_q + l;
        assert_true(in->wr_p < P && q < Q);   /* the generator's promise */
        if (copy)
            assert_true(copy->inside[l]);
        b->ref[in->wr_slot][in->wr_p][q] =
            copy ? copy->want[l] : in->wr_data[in->wr_bank ? bank_of(pl, in->wr_p, q) : (int)l];
    }
}

/* The outputs of this cycle against the last read presented SIM_SKEW_LATENCY or more
 * cycles before it. */
static void board_check(const struct plan *pl, struct board *b, const struct sim_skew_out *o)
{
    struct read *rd = &b->seen[SIM_SKEW_LATENCY - 1];
    if (!b->have[SIM_SKEW_LATENCY - 1])
        return;
    for (int l = 0; l < N; l++) {
        if (!rd->inside[l])
            continue;
        uint32_t pe, qe, want = rd->want[l] ^ rd->flip[l];
        lane_elem(rd->p, rd->q, rd->col, l, &pe, &qe);
        int bank = bank_of(pl, pe, qe);
        int lane_bad = o->rd_data[l] != want;
        if (!lane_bad && o->rd_bank[bank] == want)
            continue;
        if (!rd->bad) {
            for (int k = 0; k < SIM_SKEW_LATENCY; k++)   /* the copies of it still to show */
                b->seen[k].bad |= b->seen[k].index == rd->index;
            b->bad_reads++;
        }
        if (b->reports_left-- > 0)
            print_error("cycle %lld, read %lld (cycle %lld, %s of slot %d at (%u, %u)): %s "
                        "lane %d, element (%u, %u) in bank %d: rtl 0x%08x, reference 0x%08x\n",
                        (long long)b->cycle, (long long)rd->index, (long long)rd->cycle,
                        rd->col ? "column" : "row", rd->slot, rd->p, rd->q,
                        lane_bad ? "rd_data (lane order)" : "rd_bank (bank order)", l, pe, qe,
                        bank, lane_bad ? o->rd_data[l] : o->rd_bank[bank], want);
    }
}

/* ---- the stream ---- */

static uint32_t word(struct rng *rng)
{
    return (uint32_t)rng_next(rng);
}

/* A row write of n lanes at (p, q) of slot s, the words random, in lane or bank order (the
 * lanes' words at their banks, the other banks' words random: they must be ignored). */
static void make_write(struct rng *rng, struct sim_skew_in *in, int s, uint32_t p, uint32_t q,
                       uint32_t n, int bank_order)
{
    in->wr_valid = 1;
    in->wr_bank = bank_order;
    in->wr_slot = s;
    in->wr_p = p;
    in->wr_q = q;
    in->wr_n = n;
    for (int l = 0; l < N; l++)
        in->wr_data[l] = word(rng);
}

/* A write of the row of element (pe, qe), covering it. */
static void write_over(struct rng *rng, struct sim_skew_in *in, int s, uint32_t pe, uint32_t qe)
{
    uint32_t n = 1 + rng_below(rng, N);
    uint32_t lo = qe + 1 >= n ? qe + 1 - n : 0, hi = qe < Q - n ? qe : Q - n;
    make_write(rng, in, s, pe, lo + rng_below(rng, hi - lo + 1), n, (int)rng_below(rng, 2));
}

/* Does this cycle's write cover a word this cycle's read reads? */
static int same_word(const struct sim_skew_in *in)
{
    if (!in->rd_valid || !in->wr_valid || in->rd_slot != in->wr_slot)
        return 0;
    for (int l = 0; l < N; l++) {
        uint32_t pe, qe;
        lane_elem(in->rd_p, in->rd_q, in->rd_col, l, &pe, &qe);
        if (pe < P && qe < Q && pe == in->wr_p && qe >= in->wr_q && qe < in->wr_q + in->wr_n)
            return 1;
    }
    return 0;
}

/* One cycle: the reference's read (before or, wrongly, after the write), the RTL's cycle,
 * the check of its outputs, then the reference's write. copy: the read whose row this
 * cycle's (bank-order) write copies, or NULL. */
static void step(struct sim_skew *s, const struct plan *pl, struct board *b,
                 const struct sim_skew_in *in, const struct read *copy, struct sim_skew_out *out)
{
    struct read rd;
    memset(&rd, 0, sizeof rd);
    if (in->rd_valid && !pl->write_first)
        ref_read(b, in, &rd);
    if (in->wr_valid && pl->write_first)
        ref_write(pl, b, in, copy);
    if (in->rd_valid && pl->write_first)
        ref_read(b, in, &rd);
    sim_skew_cycle(s, in, out);
    board_check(pl, b, out);
    if (in->wr_valid && !pl->write_first)
        ref_write(pl, b, in, copy);
    for (int k = SIM_SKEW_LATENCY - 1; k > 0; k--) {
        b->seen[k] = b->seen[k - 1];
        b->have[k] = b->have[k - 1];
    }
    if (in->rd_valid) {
        if (pl->flip_read >= 0 && rd.index >= pl->flip_read && !b->flipped) {
            rd.flip[0] = 1u << 7;   /* lane 0 is always inside: (p, q) is */
            b->flipped = rd.index + 1;
        }
        b->seen[0] = rd;
        b->have[0] = 1;
        b->reads++;
    }
    b->cycle++;
}

/* Fill every word of every slot, rows in lane order, N lanes a cycle. */
static void fill(struct sim_skew *s, const struct plan *pl, struct board *b, struct rng *rng)
{
    for (int sl = 0; sl < SLOTS; sl++)
        for (uint32_t p = 0; p < P; p++)
            for (uint32_t q = 0; q < Q; q += N) {
                struct sim_skew_in in;
                struct sim_skew_out out;
                memset(&in, 0, sizeof in);
                make_write(rng, &in, sl, p, q, Q - q < N ? Q - q : N, 0);
                step(s, pl, b, &in, NULL, &out);
            }
}

/* The bank-order write of a copy: the words of src's row (a read whose words the outputs
 * *out show) into (p', q') of some slot with (p' + q') = (p + q) mod N, as many lanes as
 * the row had inside the matrix or fewer. */
static void copy_write(struct rng *rng, const struct read *src, const struct sim_skew_out *out,
                       struct sim_skew_in *in)
{
    uint32_t inside = 0, n, p, q;
    int sl;
    for (int l = 0; l < N; l++)
        inside += (uint32_t)src->inside[l];
    n = 1 + rng_below(rng, inside);
    do {
        sl = (int)rng_below(rng, SLOTS);
        p = rng_below(rng, P);
        q = rng_below(rng, Q - n + 1);
    } while ((p + q) % N != (src->p + src->q) % N ||
             (sl == src->slot && p == src->p && q == src->q));
    in->wr_valid = 1;
    in->wr_bank = 1;
    in->wr_slot = sl;
    in->wr_p = p;
    in->wr_q = q;
    in->wr_n = n;
    memcpy(in->wr_data, out->rd_bank, sizeof in->wr_data);
}

/* Random words on every input but the valids: a read or a write whose valid is low must be
 * ignored. */
static void junk(struct rng *rng, struct sim_skew_in *in)
{
    in->rd_col = (int)rng_below(rng, 2);
    in->rd_slot = (int)rng_below(rng, SLOTS);
    in->rd_p = rng_below(rng, P);
    in->rd_q = rng_below(rng, Q);
    in->wr_bank = (int)rng_below(rng, 2);
    in->wr_slot = (int)rng_below(rng, SLOTS);
    in->wr_p = rng_below(rng, P);
    in->wr_q = rng_below(rng, Q);
    in->wr_n = rng_below(rng, N + 1);
    for (int l = 0; l < N; l++)
        in->wr_data[l] = word(rng);
}

/* Play the stream of the file comment. Returns the reads whose answer differed. */
static int64_t play(struct sim_skew *s, const struct plan *pl, struct board *b)
{
    struct rng rng;
    struct sim_skew_out out;
    struct read src;   /* a copy's row read */
    memset(b, 0, sizeof *b);
    memset(&out, 0, sizeof out);
    memset(&src, 0, sizeof src);
    b->reports_left = REPORTS;
    rng_seed(&rng, pl->seed);
    fill(s, pl, b, &rng);
    /* copy: 0 none; 1 its row read is presented in this cycle; 2 .. SIM_SKEW_LATENCY + 1
     * cycles without a read; SIM_SKEW_LATENCY + 2 the bank-order write of what the
     * outputs show */
    int copy = 0;
    for (int64_t c = 0; c < pl->cycles; c++) {
        struct sim_skew_in in;
        int copying = copy == SIM_SKEW_LATENCY + 2;
        memset(&in, 0, sizeof in);
        junk(&rng, &in);   /* what the ports carry while their valid is low */
        if (copying) {
            copy_write(&rng, &src, &out, &in);
            b->copies++;
            copy = 0;
        }
        if (copy == 0 && rng_below(&rng, 4) != 0) {
            in.rd_valid = 1;
            in.rd_slot = (int)rng_below(&rng, SLOTS);
            in.rd_p = rng_below(&rng, P);
            in.rd_q = rng_below(&rng, Q);
            in.rd_col = (int)rng_below(&rng, 2);
            if (rng_below(&rng, 12) == 0) {
                in.rd_col = 0;
                copy = 1;   /* a row read to copy */
            }
        }
        if (!in.wr_valid && rng_below(&rng, 2) == 0) {
            int l = (int)rng_below(&rng, N);
            uint32_t pe, qe;
            lane_elem(in.rd_p, in.rd_q, in.rd_col, l, &pe, &qe);
            if (in.rd_valid && pe < P && qe < Q && rng_below(&rng, 4) == 0) {
                write_over(&rng, &in, in.rd_slot, pe, qe);   /* read-first */
            } else {
                uint32_t q = rng_below(&rng, Q);
                uint32_t n = 1 + rng_below(&rng, Q - q < N ? Q - q : N);
                make_write(&rng, &in, (int)rng_below(&rng, SLOTS), rng_below(&rng, P), q, n,
                           (int)rng_below(&rng, 2));
            }
        }
        if (in.rd_valid) {
            b->col_reads += in.rd_col;
            b->row_reads += !in.rd_col;
            b->past_reads += in.rd_col ? in.rd_p + N > P : in.rd_q + N > Q;
        } else if (b->have[0]) {
            b->held_cycles++;
            b->held_overwritten += in.wr_valid && in.wr_slot == b->seen[0].slot;
        }
        b->lane_writes += in.wr_valid && !in.wr_bank;
        b->bank_writes += in.wr_valid && in.wr_bank;
        b->same_word += same_word(&in);
        step(s, pl, b, &in, copying ? &src : NULL, &out);
        if (copy == 1)
            src = b->seen[0];
        if (copy >= 1)
            copy++;
    }
    return b->bad_reads;
}

/* ---- tests ---- */

static void test_random_operations(void **state)
{
    const struct plan pl = {.seed = SEED_RANDOM, .cycles = CYCLES, .flip_read = -1};
    struct board b;
    int64_t bad = play(*state, &pl, &b);
    print_message("  seed %u, N %d banks, P %d x Q %d words, %d slot(s), skew %d: %lld cycles, "
                  "%lld row reads, %lld column reads (%lld partly past the matrix), %lld "
                  "lane-order and %lld bank-order writes, %lld same-word read and write, "
                  "%lld copies, %lld cycles holding a read's words (%lld with a write to its "
                  "slot); %lld reads differ\n", SEED_RANDOM, N, P, Q, SLOTS, SIM_SKEW_SKEW,
                  (long long)CYCLES, (long long)b.row_reads, (long long)b.col_reads,
                  (long long)b.past_reads, (long long)b.lane_writes, (long long)b.bank_writes,
                  (long long)b.same_word, (long long)b.copies, (long long)b.held_cycles,
                  (long long)b.held_overwritten, (long long)bad);
    assert_int_equal(bad, 0);
    assert_true(b.row_reads + b.col_reads + b.lane_writes + b.bank_writes >= MIN_OPS);
    assert_true(b.row_reads >= 1000 && b.col_reads >= 1000 && b.past_reads >= 1000);
    assert_true(b.lane_writes >= 1000 && b.bank_writes >= 1000);
    assert_true(b.same_word >= 500 && b.copies >= 500 && b.held_overwritten >= 100);
}

/* The checker itself: each wrong reference must be reported. */
static void test_checker_catches_a_wrong_reference(void **state)
{
    struct board b;
    print_message("  seed %u; wrong references, each of which the checker must report:\n",
                  SEED_SELF);
    const struct plan flipped = {.seed = SEED_SELF, .cycles = 2000, .flip_read = 733};
    int64_t bad = play(*state, &flipped, &b);
    print_message("  one bit of one expected word of read %lld flipped: %lld read differs\n",
                  (long long)b.flipped - 1, (long long)bad);
    assert_true(b.flipped - 1 >= 733);
    assert_int_equal(bad, 1);

    const struct plan write_first = {.seed = SEED_SELF + 1, .cycles = 2000, .flip_read = -1,
                                     .write_first = 1};
    bad = play(*state, &write_first, &b);
    print_message("  writes seen by the read of the same cycle (%lld such cycles): %lld "
                  "reads differ (copies spread the wrong words)\n", (long long)b.same_word,
                  (long long)bad);
    assert_true(bad > 0);

    const struct plan unskewed = {.seed = SEED_SELF + 2, .cycles = 2000, .flip_read = -1,
                                  .unskewed = 1};
    bad = play(*state, &unskewed, &b);
    print_message("  bank order of an unskewed memory expected: %lld reads differ\n",
                  (long long)bad);
    assert_true(bad > 0);
}

static int setup(void **state)
{
    *state = sim_skew_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_skew_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_operations),
        cmocka_unit_test(test_checker_catches_a_wrong_reference),
    };
    return cmocka_run_group_tests_name("rtl skew_mem", tests, setup, teardown);
}
