`include "lp_ff.svh"

// mac_cell: one multiply-accumulate cell of mac_array, with its own copy of the beat's
// control and a hold register that drains the finished sum up its column.
//
// Pipeline (s = cycles since the beat was presented to the array):
//   s = 1         operand registers a_q, b_q (the cell's own: each drives only this cell's
//                 multiplier); the beat's valid, clear and last arrive registered by the
//                 array's row (v1_i, clear1_i, last1_i)
//   s = 2..Mul    product registers prod_q and the cell's copies of valid, clear and last
//   accumulate    acc_q; in the same edge, a sum completed by a last beat loads hold_q
// Operands, products, clear and last load every cycle (no enable): what an idle cycle
// carries is never accumulated, since valid travels beside it to the accumulator's enable. hold_q takes the cell
// below's hold (below_i) in every cycle it does not load, so a column of cells is a shift
// register that brings a finished tile up a row per cycle (hold_o of row 0 is the
// array's drain row).
//
// Exactness: as mac_array's header (the product is exact; AccW < 2*OpW adds its low AccW
// bits, exact whenever the sum fits).
module mac_cell #(
  parameter int unsigned OpW       = 32,
  parameter int unsigned AccW      = 64,
  parameter int unsigned MulStages = 2
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  logic signed [OpW-1:0]  a_i,        // the beat's operands, s = 0
  input  logic signed [OpW-1:0]  b_i,
  input  logic                   v1_i,       // the beat's control, s = 1
  input  logic                   clear1_i,
  input  logic                   last1_i,
  input  logic        [AccW-1:0] below_i,    // hold_o of the cell below (0 in the last row)

  output logic        [AccW-1:0] hold_o
);
  localparam int unsigned ProdW = 2 * OpW;

  // ---- s = 1: operands ----
  logic signed [OpW-1:0] a_q, b_q;
  always_ff @(posedge clk_i) begin
    a_q <= a_i;
    b_q <= b_i;
  end

  logic signed [ProdW-1:0] prod;
  assign prod = ProdW'(a_q) * ProdW'(b_q);   // both sign-extended first: exact

  // ---- s = 2..MulStages: products and the cell's control ----
  logic signed [ProdW-1:0] prod_acc;   // the product that reaches the accumulator
  logic                    en, clr, lst;

  if (MulStages == 1) begin : gen_prod_comb
    assign prod_acc = prod;
    assign en       = v1_i;
    assign clr      = clear1_i;
    assign lst      = last1_i;
  end else begin : gen_prod_pipe
    // Stage s at [(s-2)*ProdW +: ProdW] and bit s-2.
    logic [(MulStages-1)*ProdW-1:0] prod_d, prod_q;
    logic [MulStages-2:0]           v_d, v_q, c_d, c_q, l_d, l_q;

    always_comb begin
      prod_d[0 +: ProdW] = prod;
      v_d[0] = v1_i;
      c_d[0] = clear1_i;
      l_d[0] = last1_i;
      for (int unsigned s = 1; s + 1 < MulStages; s++) begin
        prod_d[s*ProdW +: ProdW] = prod_q[(s-1)*ProdW +: ProdW];
        v_d[s] = v_q[s-1];
        c_d[s] = c_q[s-1];
        l_d[s] = l_q[s-1];
      end
    end

    always_ff @(posedge clk_i) begin
      prod_q <= prod_d;
    end
    `LP_FF(v_q, v_d, '0)
    `LP_FF(c_q, c_d, '0)
    `LP_FF(l_q, l_d, '0)

    assign prod_acc = $signed(prod_q[(MulStages-2)*ProdW +: ProdW]);
    assign en       = v_q[MulStages-2];
    assign clr      = c_q[MulStages-2];
    assign lst      = l_q[MulStages-2];
  end

  // ---- accumulate ----
  logic signed [AccW-1:0] addend, acc_d, acc_q;
  if (AccW >= ProdW) begin : gen_addend_ext
    assign addend = AccW'(prod_acc);   // sign extension
  end else begin : gen_addend_wrap
    logic unused_prod_hi;
    assign unused_prod_hi = ^prod_acc[ProdW-1:AccW];
    assign addend = $signed(prod_acc[AccW-1:0]);
  end

  always_comb begin
    acc_d = acc_q;
    if (en) begin
      acc_d = clr ? addend : acc_q + addend;
    end
  end

  `LP_FF(acc_q, acc_d, '0)

  // ---- hold: the finished sum, then the column's shift ----
  logic [AccW-1:0] hold_d, hold_q;
  assign hold_d = (en && lst) ? acc_d : below_i;
  always_ff @(posedge clk_i) begin
    hold_q <= hold_d;
  end
  assign hold_o = hold_q;
endmodule
