`include "lp_ff.svh"

// stash_ring: the store-all-weights baseline (LAYERPIPE.md s. 4 "stash", PipeDream's weight
// stashing): a ring of Depth versions of a layer's P x Q weight matrix, as model/train.c
// keeps it, stored as skew_mem's banks so that the update pushes a row and the input
// gradient reads a column, N words a cycle each:
//
//   update_layer:      before update number live+1, the live weights W^(live) are pushed
//                      into slot live mod Depth; then live <- live + 1
//   backward_weights:  the backward of a minibatch whose forward read version v reads
//                      slot v mod Depth when v < live, the live weights when v == live
//
// Push: a row segment per cycle (push_valid_i): row push_p_i, columns push_q_i ..
// push_q_i + push_n_i - 1, its words in bank order as the weight memory's skew_mem reads
// them out (rd_bank_o; both memories have the same geometry, so no rotation). push_last_i
// with the version's last segment ends the version: the live counter (live_o) and the
// ring's head slot advance. Versions count from 0 at reset.
//
// Held: the versions pushed since reset, saturating at Depth (0 at reset): the ring holds
// versions live - held .. live - 1, never one from before the reset.
//
// Read: a column segment of version rd_ver_i (rows rd_p_i .., column rd_q_i), N lanes a
// cycle. The gap live - v (modulo 2^VersionWidth) selects:
//   gap == 0          the live weights: rd_live_o, and the caller reads its weight memory
//   1 <= gap <= held  the stored words, slot (live - gap) mod Depth = v mod Depth
//   otherwise         a miss: rd_miss_o, and rd_data_o means nothing
// Latency 2 (skew_mem's): rd_valid_o, rd_live_o, rd_miss_o and rd_data_o (lane order)
// belong to the read of two cycles before. The banks read first: a backward that reads the version the
// next push overwrites must read it before the push (an update follows its backward's
// input gradient, so it does). A read uses the counters before any push_last_i of its
// cycle. Depth >= 1.
module stash_ring #(
  parameter int unsigned Depth        = 6,
  parameter int unsigned P            = 8,   // rows: the layer's inputs
  parameter int unsigned Q            = 6,   // columns: its outputs
  parameter int unsigned N            = 4,   // banks: the MAC array's columns, a power of two
  parameter int unsigned Width        = 32,
  parameter int unsigned VersionWidth = 32
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,

  input  logic                    push_valid_i,
  input  logic [31:0]             push_p_i,
  input  logic [31:0]             push_q_i,
  input  logic [31:0]             push_n_i,
  input  logic [N*Width-1:0]      push_data_i,
  input  logic                    push_last_i,

  input  logic                    rd_valid_i,
  input  logic [VersionWidth-1:0] rd_ver_i,
  input  logic [31:0]             rd_p_i,
  input  logic [31:0]             rd_q_i,
  output logic                    rd_valid_o,
  output logic [N*Width-1:0]      rd_data_o,
  output logic                    rd_live_o,
  output logic                    rd_miss_o,

  output logic [VersionWidth-1:0] live_o
);
  if (Depth < 1) begin : gen_bad_depth
    $error("stash_ring: Depth must be at least 1");
  end

  // Slot numbers and gaps up to Depth, with a bit to spare.
  localparam int unsigned SlotW = $clog2(Depth + 1) + 1;
  localparam int unsigned CmpW  = (VersionWidth > SlotW) ? VersionWidth : SlotW;

  logic [VersionWidth-1:0] live_d, live_q, gap;
  logic [SlotW-1:0]        held_d, held_q, head_d, head_q, rd_slot;
  logic                    advance, is_live, hit;
  logic                    valid_q, live_sel_q, miss_q;
  logic                    valid_q2, live_sel_q2, miss_q2;
  logic [N*Width-1:0]      unused_bank;

  assign advance = push_valid_i && push_last_i;

  always_comb begin
    live_d = live_q;
    held_d = held_q;
    head_d = head_q;
    if (advance) begin
      live_d = live_q + VersionWidth'(1);
      if (held_q != SlotW'(Depth)) begin
        held_d = held_q + SlotW'(1);
      end
      head_d = (head_q == SlotW'(Depth - 1)) ? '0 : head_q + SlotW'(1);
    end
  end

  // Which words a read wants: the live ones, held ones, or neither (a miss). On a hit
  // 1 <= gap <= held <= Depth, so the gap's low SlotW bits are all of it.
  always_comb begin
    gap     = live_q - rd_ver_i;
    is_live = (gap == '0);
    hit     = !is_live && (CmpW'(gap) <= CmpW'(held_q));
    rd_slot = head_q - SlotW'(gap);
    if (head_q < SlotW'(gap)) begin
      rd_slot = head_q + SlotW'(Depth) - SlotW'(gap);
    end
  end

  `LP_FF(live_q, live_d, '0)
  `LP_FF(held_q, held_d, '0)
  `LP_FF(head_q, head_d, '0)
  `LP_FF(valid_q, rd_valid_i, 1'b0)
  `LP_FFE(live_sel_q, is_live, rd_valid_i, 1'b0)
  `LP_FFE(miss_q, !is_live && !hit, rd_valid_i, 1'b0)
  `LP_FF(valid_q2, valid_q, 1'b0)
  `LP_FFE(live_sel_q2, live_sel_q, valid_q, 1'b0)
  `LP_FFE(miss_q2, miss_q, valid_q, 1'b0)

  skew_mem #(.Kind(7), .N(N), .P(P), .Q(Q), .Slots(Depth), .Width(Width)) u_mem (
    .clk_i,
    .rd_valid_i (rd_valid_i && hit),
    .rd_col_i   (1'b1),
    .rd_slot_i  (8'(rd_slot)),
    .rd_p_i, .rd_q_i,
    .rd_data_o,
    .rd_bank_o  (unused_bank),
    .wr_valid_i (push_valid_i),
    .wr_bank_i  (1'b1),
    .wr_slot_i  (8'(head_q)),
    .wr_p_i     (push_p_i),
    .wr_q_i     (push_q_i),
    .wr_n_i     (push_n_i),
    .wr_data_i  (push_data_i)
  );

  assign rd_valid_o = valid_q2;
  assign rd_live_o  = live_sel_q2;
  assign rd_miss_o  = miss_q2;
  assign live_o     = live_q;

  logic unused;
  assign unused = ^unused_bank;
endmodule
