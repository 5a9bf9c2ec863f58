`include "lp_ff.svh"

// mac_array: Rows x Cols output-stationary array of pipelined multiply-accumulate cells
// (mac_cell), with a drain that brings a finished tile out a row per cycle.
//
// Each cycle with in_valid_i the array takes one column a[Rows] (a_i) and one row
// b[Cols] (b_i) of a sum over k; cell (r, c) adds the exact product a[r] * b[c],
// sign-extended to AccW, into its accumulator. clear_i on a beat starts a new sum
// (the accumulator loads the product instead of adding it); last_i marks the beat
// that completes the sum, and tag_i names it.
//
// Packing (all signed two's complement, element 0 in the least significant bits):
//   a_i[r*OpW +: OpW] = a[r]      b_i[c*OpW +: OpW] = b[c]
//   acc_o[(r*Cols + c)*AccW +: AccW] = sum[r][c]      row_o[c*AccW +: AccW]
//
// How operands and control reach 256 cells (docs/rtl.md, "The MAC array's wires"): no
// register drives more than one row or one cell. a_i[r] and b_i[c] go straight into each
// cell's own operand registers (stage 1), so an input bit drives Cols (or Rows) flops and
// an operand flop drives only its cell's multiplier. valid, clear and last are registered
// once per row (stage 1: Rows copies, each read by Cols cells); each cell keeps its own
// copy from stage 2 on, which is what enables its accumulator. Operands and products load
// every cycle (no enable to distribute); only valid decides what is accumulated.
//
// Pipeline: stage 1 operands and row control, stages 2..MulStages products, then the
// accumulators; latency MulStages + 1: when the beat with last_i is presented in cycle n,
// out_valid_o is high in cycle n + MulStages + 1 (one cycle for each last beat) with
// out_tag_o = its tag, acc_o = the finished sums and row_o = their row 0. Beats may
// follow each other back to back, with or without gaps; the sums of a tile need not be
// cleared (a first beat without clear_i continues the previous sum).
//
// Drain: the edge that finishes a sum also loads it into the cell's hold register, and
// every other edge moves each hold register up a row, so row_o shows row j of the tile in
// cycle n + MulStages + 1 + j. acc_o (every hold register) is the finished tile in the
// cycle of out_valid_o only. A tile's rows are all out before the next tile's sums
// replace them when the last beats of two tiles are at least Rows cycles apart (at least
// the rows the consumer reads, when it reads fewer).
//
// Exactness: the product is 2*OpW bits and exact. When AccW >= 2*OpW it is
// sign-extended; when AccW < 2*OpW only its low AccW bits are added, which is
// arithmetic modulo 2^AccW and so still gives the exact sum whenever the sum fits in
// AccW bits, which the model checks for every layer (fixed_check). Overflow of the sum
// itself is not handled (it cannot happen in a checked configuration).
//
// Reset (rst_ni, asynchronous, active low) empties the pipeline: beats in flight are
// dropped and no out_valid_o follows for them; control registers and accumulators reset
// to zero (operand, product and hold registers are data and have no reset).
//
// The parameters are public to Verilator so that the C++ harness can check at compile
// time that it packs the ports for the parameters the model was built with.
module mac_array #(
  parameter int unsigned Rows      /*verilator public*/ = 4,
  parameter int unsigned Cols      /*verilator public*/ = 4,
  parameter int unsigned OpW       /*verilator public*/ = 32,  // signed operands, 2..32 bits
  parameter int unsigned AccW      /*verilator public*/ = 64,  // signed accumulators, 2..64
  parameter int unsigned MulStages /*verilator public*/ = 2,   // registers before the add
  parameter int unsigned TagW      /*verilator public*/ = 8
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,

  input  logic                      in_valid_i,
  input  logic                      clear_i,
  input  logic                      last_i,
  input  logic [TagW-1:0]           tag_i,
  input  logic [Rows*OpW-1:0]       a_i,
  input  logic [Cols*OpW-1:0]       b_i,

  output logic                      out_valid_o,
  output logic [TagW-1:0]           out_tag_o,
  output logic [Rows*Cols*AccW-1:0] acc_o,
  output logic [Cols*AccW-1:0]      row_o
);
  // Parameter checks (elaboration time; both Verilator and Yosys stop on $error).
  if (Rows < 1 || Cols < 1) begin : gen_bad_shape
    $error("mac_array: Rows and Cols must be at least 1");
  end
  if (OpW < 2 || OpW > 32) begin : gen_bad_opw
    $error("mac_array: OpW must be 2..32");
  end
  if (AccW < 2 || AccW > 64) begin : gen_bad_accw
    $error("mac_array: AccW must be 2..64");
  end
  if (MulStages < 1) begin : gen_bad_stages
    $error("mac_array: MulStages must be at least 1");
  end
  if (TagW < 1) begin : gen_bad_tagw
    $error("mac_array: TagW must be at least 1");
  end

  // ---- the array's own control chain: valid, last and tag, for out_valid_o ----
  logic [MulStages:1]        valid_d, valid_q;
  logic [MulStages:1]        last_d,  last_q;
  logic [MulStages*TagW-1:0] tag_d,   tag_q;   // stage s at [(s-1)*TagW +: TagW]

  always_comb begin
    valid_d = valid_q;
    last_d  = last_q;
    tag_d   = tag_q;
    valid_d[1] = in_valid_i;
    if (in_valid_i) begin   // the payload of a stage loads only with a valid beat
      last_d[1]        = last_i;
      tag_d[0 +: TagW] = tag_i;
    end
    for (int unsigned s = 2; s <= MulStages; s++) begin
      valid_d[s] = valid_q[s-1];
      if (valid_q[s-1]) begin
        last_d[s] = last_q[s-1];
        tag_d[(s-1)*TagW +: TagW] = tag_q[(s-2)*TagW +: TagW];
      end
    end
  end

  `LP_FF(valid_q, valid_d, '0)
  `LP_FF(last_q, last_d, '0)
  `LP_FF(tag_q, tag_d, '0)

  // ---- stage 1 control, one copy per row ----
  logic [Rows-1:0] v1_q, clear1_q, last1_q;
  `LP_FF(v1_q, {Rows{in_valid_i}}, '0)
  `LP_FF(clear1_q, {Rows{clear_i}}, '0)
  `LP_FF(last1_q, {Rows{last_i}}, '0)

  // ---- the cells ----
  logic [Rows*Cols*AccW-1:0] hold;   // hold[(r*Cols + c)*AccW +: AccW]
  for (genvar r = 0; r < Rows; r++) begin : gen_row
    for (genvar c = 0; c < Cols; c++) begin : gen_col
      logic [AccW-1:0] below;
      if (r + 1 < Rows) begin : gen_below
        assign below = hold[((r+1)*Cols + c)*AccW +: AccW];
      end else begin : gen_bottom
        assign below = '0;
      end
      mac_cell #(.OpW(OpW), .AccW(AccW), .MulStages(MulStages)) u_cell (
        .clk_i, .rst_ni,
        .a_i      ($signed(a_i[r*OpW +: OpW])),
        .b_i      ($signed(b_i[c*OpW +: OpW])),
        .v1_i     (v1_q[r]),
        .clear1_i (clear1_q[r]),
        .last1_i  (last1_q[r]),
        .below_i  (below),
        .hold_o   (hold[(r*Cols + c)*AccW +: AccW])
      );
    end
  end
  assign acc_o = hold;
  assign row_o = hold[0 +: Cols*AccW];

  // ---- output: valid for one cycle after the last beat has been accumulated ----
  logic            out_valid_d, out_valid_q;
  logic [TagW-1:0] out_tag_d,   out_tag_q;

  always_comb begin
    out_valid_d = valid_q[MulStages] & last_q[MulStages];
    out_tag_d   = out_tag_q;
    if (out_valid_d) begin
      out_tag_d = tag_q[(MulStages-1)*TagW +: TagW];
    end
  end

  `LP_FF(out_valid_q, out_valid_d, 1'b0)
  `LP_FF(out_tag_q, out_tag_d, '0)

  assign out_valid_o = out_valid_q;
  assign out_tag_o   = out_tag_q;
endmodule
