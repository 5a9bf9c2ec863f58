// mac_array: Rows x Cols output-stationary array of pipelined multiply-accumulate cells.
//
// Each cycle with in_valid_i the array takes one column a[Rows] (a_i) and one row
// b[Cols] (b_i) of a sum over k; cell (r, c) adds the exact product a[r] * b[c],
// sign-extended to AccW, into its accumulator. clear_i on a beat starts a new sum
// (the accumulator loads the product instead of adding it); last_i marks the beat
// that completes the sum, and tag_i names it.
//
// Packing (all signed two's complement, element 0 in the least significant bits):
//   a_i[r*OpW +: OpW] = a[r]      b_i[c*OpW +: OpW] = b[c]
//   acc_o[(r*Cols + c)*AccW +: AccW] = acc[r][c]
//
// Pipeline (operands are broadcast along rows and columns, so every cell sees a beat in
// the same cycle and the latency does not depend on (r, c)):
//   stage 1          operand registers a_q, b_q (shared by a row or a column of cells)
//   stages 2..Mul    per-cell product registers prod_q (MulStages - 1 of them)
//   accumulate       acc_q, and out_valid_q / out_tag_q beside it
// valid, clear, last and tag travel down the same chain (valid_q[s], clear_q[s], ...,
// s = cycles since the beat was taken). Latency = MulStages + 1: when the beat with
// last_i is presented in cycle n, out_valid_o is high in cycle n + MulStages + 1 (one
// cycle for each last beat) with out_tag_o = its tag and acc_o = the finished sums.
// acc_o belongs to the next sum from the cycle after: a consumer takes it while
// out_valid_o is high. Beats may follow each other back to back, with or without gaps;
// the sums of a tile need not be cleared (a first beat without clear_i continues the
// previous sum).
//
// Exactness: the product is 2*OpW bits and exact. When AccW >= 2*OpW it is
// sign-extended; when AccW < 2*OpW only its low AccW bits are added, which is
// arithmetic modulo 2^AccW and so still gives the exact sum whenever the sum fits in
// AccW bits, which the model checks for every layer (fixed_check). Overflow of the sum
// itself is not handled (it cannot happen in a checked configuration).
//
// Reset (rst_ni, asynchronous, active low) empties the pipeline: beats in flight are
// dropped and no out_valid_o follows for them; every register resets to zero.
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
  output logic [Rows*Cols*AccW-1:0] acc_o
);
  localparam int unsigned ProdW = 2 * OpW;

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

  // ---- control chain: valid, clear, last and tag of the beat s cycles old ----
  logic [MulStages:1]           valid_d, valid_q;
  logic [MulStages:1]           clear_d, clear_q;
  logic [MulStages:1]           last_d,  last_q;
  logic [MulStages*TagW-1:0]    tag_d,   tag_q;   // stage s at [(s-1)*TagW +: TagW]

  always_comb begin
    valid_d = valid_q;
    clear_d = clear_q;
    last_d  = last_q;
    tag_d   = tag_q;
    valid_d[1] = in_valid_i;
    if (in_valid_i) begin   // the payload of a stage loads only with a valid beat
      clear_d[1] = clear_i;
      last_d[1]  = last_i;
      tag_d[0 +: TagW] = tag_i;
    end
    for (int unsigned s = 2; s <= MulStages; s++) begin
      valid_d[s] = valid_q[s-1];
      if (valid_q[s-1]) begin
        clear_d[s] = clear_q[s-1];
        last_d[s]  = last_q[s-1];
        tag_d[(s-1)*TagW +: TagW] = tag_q[(s-2)*TagW +: TagW];
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= '0;
      clear_q <= '0;
      last_q  <= '0;
      tag_q   <= '0;
    end else begin
      valid_q <= valid_d;
      clear_q <= clear_d;
      last_q  <= last_d;
      tag_q   <= tag_d;
    end
  end

  // The beat that reaches the accumulators this cycle.
  logic acc_en;
  logic acc_clear;
  assign acc_en    = valid_q[MulStages];
  assign acc_clear = clear_q[MulStages];

  // ---- stage 1: operand registers ----
  logic [Rows*OpW-1:0] a_d, a_q;
  logic [Cols*OpW-1:0] b_d, b_q;

  always_comb begin
    a_d = a_q;
    b_d = b_q;
    if (in_valid_i) begin
      a_d = a_i;
      b_d = b_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q <= '0;
      b_q <= '0;
    end else begin
      a_q <= a_d;
      b_q <= b_d;
    end
  end

  // ---- the cells ----
  for (genvar r = 0; r < Rows; r++) begin : gen_row
    for (genvar c = 0; c < Cols; c++) begin : gen_col
      logic signed [OpW-1:0]   a_op;
      logic signed [OpW-1:0]   b_op;
      logic signed [ProdW-1:0] prod;      // exact product of stage 1's operands
      logic signed [ProdW-1:0] prod_acc;  // the product that reaches the accumulator
      logic signed [AccW-1:0]  addend;
      logic signed [AccW-1:0]  acc_d, acc_q;

      assign a_op = $signed(a_q[r*OpW +: OpW]);
      assign b_op = $signed(b_q[c*OpW +: OpW]);
      // Both operands sign-extended to the product width first: exact for any OpW.
      assign prod = ProdW'(a_op) * ProdW'(b_op);

      if (MulStages == 1) begin : gen_prod_comb
        // No product register: stage 1 feeds the accumulator directly.
        assign prod_acc = prod;
      end else begin : gen_prod_pipe
        // The product of the beat s cycles old (s = 2..MulStages) is at
        // prod_q[(s-2)*ProdW +: ProdW].
        logic [(MulStages-1)*ProdW-1:0] prod_d, prod_q;

        always_comb begin
          prod_d = prod_q;
          if (valid_q[1]) begin
            prod_d[0 +: ProdW] = prod;
          end
          for (int unsigned s = 3; s <= MulStages; s++) begin
            if (valid_q[s-1]) begin
              prod_d[(s-2)*ProdW +: ProdW] = prod_q[(s-3)*ProdW +: ProdW];
            end
          end
        end

        always_ff @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            prod_q <= '0;
          end else begin
            prod_q <= prod_d;
          end
        end

        assign prod_acc = $signed(prod_q[(MulStages-2)*ProdW +: ProdW]);
      end

      if (AccW >= ProdW) begin : gen_addend_ext
        assign addend = AccW'(prod_acc);   // sign extension (prod_acc is signed)
      end else begin : gen_addend_wrap
        // Modulo 2^AccW: exact for every sum that fits in AccW bits (see the header).
        logic unused_prod_hi;
        assign unused_prod_hi = ^prod_acc[ProdW-1:AccW];
        assign addend = $signed(prod_acc[AccW-1:0]);
      end

      always_comb begin
        acc_d = acc_q;
        if (acc_en) begin
          acc_d = acc_clear ? addend : acc_q + addend;
        end
      end

      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          acc_q <= '0;
        end else begin
          acc_q <= acc_d;
        end
      end

      assign acc_o[(r*Cols + c)*AccW +: AccW] = acc_q;
    end
  end

  // ---- output: valid for one cycle after the last beat has been accumulated ----
  logic            out_valid_d, out_valid_q;
  logic [TagW-1:0] out_tag_d,   out_tag_q;

  always_comb begin
    out_valid_d = acc_en & last_q[MulStages];
    out_tag_d   = out_tag_q;
    if (out_valid_d) begin
      out_tag_d = tag_q[(MulStages-1)*TagW +: TagW];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_valid_q <= 1'b0;
      out_tag_q   <= '0;
    end else begin
      out_valid_q <= out_valid_d;
      out_tag_q   <= out_tag_d;
    end
  end

  assign out_valid_o = out_valid_q;
  assign out_tag_o   = out_tag_q;
endmodule
