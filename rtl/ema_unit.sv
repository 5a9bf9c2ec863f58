// ema_unit: LayerPipe2's weight recompute for one weight word per cycle on each of two
// independent paths (LAYERPIPE.md s. 4 "ema", docs/numerics.md "Update" and "The weight
// history"):
//
//   rebuild, on the backward's weight read path:
//     rb_w_o  = narrow(master + gap*m)  from master_frac to Q(weight_bits, weight_frac);
//               the sum is exact, gap 0 gives narrow(master).  model/fixed.c: fixed_rebuild
//   step, on the write path after every update (u = the step the update subtracted):
//     st_m_o  = sat_master(narrow(beta*m + (2^16 - beta)*u, 16)).  fixed_ema_step
//
// Narrowing is fx_narrow's: shift right with the rounding mode (nearest, ties to even; or
// floor), then saturate; a saturation raises the word's sat_o (count it: nothing saturates
// silently).
//
// Timing: each path is a 2-stage pipeline, latency 2, one word per cycle, bubbles
// allowed: a word presented with *_valid_i in cycle t leaves with *_valid_o in cycle t+2.
//   stage 1: the exact products and sum (registered: *_acc_q)
//   stage 2: fx_narrow (registered: the outputs, *_q2)
// The formats, the rounding mode and beta are sampled with each word and travel with it
// down the pipeline, so consecutive words may belong to different layers or configs.
// Outputs hold their last value while *_valid_o is low.
//
// Runtime formats (model/fixed.c: fixed_check): bits 2..32, 0 <= frac < bits,
// master_frac >= weight_frac. beta: unsigned, 16 fraction bits (0 .. 1 - 2^-16).
//
// RebuildEn / StepEn leave a path out entirely (its outputs read 0 and its inputs are
// ignored), so sgd_update instantiates the step path alone.
module ema_unit #(
  parameter bit RebuildEn = 1'b1,
  parameter bit StepEn    = 1'b1
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  // Formats and rounding, sampled with each word of either path.
  input  logic               round_even_i,   // 1: nearest, ties to even; 0: truncate (floor)
  input  logic [5:0]         master_bits_i,  // step: m' saturates to the master format
  input  logic [4:0]         master_frac_i,  // rebuild: the sum's fraction bits
  input  logic [5:0]         weight_bits_i,  // rebuild: the output format
  input  logic [4:0]         weight_frac_i,

  // Rebuild (read path).
  input  logic               rb_valid_i,
  input  logic signed [31:0] rb_master_i,    // master weight, master format
  input  logic signed [31:0] rb_m_i,         // ema buffer word, master format
  input  logic        [15:0] rb_gap_i,       // updates since the forward's read (0: live)
  output logic               rb_valid_o,
  output logic signed [31:0] rb_w_o,         // weight format
  output logic               rb_sat_o,

  // Step (write path).
  input  logic               st_valid_i,
  input  logic signed [31:0] st_m_i,         // ema buffer word before the step
  input  logic signed [31:0] st_u_i,         // the update step u, master format
  input  logic        [15:0] st_beta_i,      // beta, 16 fraction bits
  output logic               st_valid_o,
  output logic signed [31:0] st_m_o,         // m', master format
  output logic               st_sat_o
);

  ///////////////////////
  // Rebuild (read path) //
  ///////////////////////

  if (RebuildEn) begin : gen_rebuild
    // |gap*m| <= 2^16 * 2^31 = 2^47, plus |master| <= 2^31: 50 bits hold the exact sum.
    logic signed [49:0] prod;
    logic               valid_d, valid_q, valid_q2;
    logic signed [49:0] acc_d, acc_q;
    logic signed [7:0]  shift_d, shift_q;      // master_frac - weight_frac
    logic        [5:0]  bits_d, bits_q;
    logic               even_d, even_q;
    logic signed [31:0] w;
    logic               sat;
    logic signed [31:0] w_d, w_q2;
    logic               sat_d, sat_q2;

    // Stage 1: the exact sum master + gap*m, and the word's format.
    always_comb begin
      valid_d = rb_valid_i;
      acc_d   = acc_q;
      shift_d = shift_q;
      bits_d  = bits_q;
      even_d  = even_q;
      prod    = 50'($signed({1'b0, rb_gap_i})) * 50'(rb_m_i);
      if (rb_valid_i) begin
        acc_d   = prod + 50'(rb_master_i);
        shift_d = $signed({3'b000, master_frac_i}) - $signed({3'b000, weight_frac_i});
        bits_d  = weight_bits_i;
        even_d  = round_even_i;
      end
    end

    // Stage 2: narrow to the weight format.
    fx_narrow u_narrow (
      .x_i         (64'(acc_q)),
      .shift_i     (shift_q),
      .bits_i      (bits_q),
      .round_even_i(even_q),
      .y_o         (w),
      .sat_o       (sat)
    );

    always_comb begin
      w_d   = w_q2;
      sat_d = sat_q2;
      if (valid_q) begin
        w_d   = w;
        sat_d = sat;
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_q  <= 1'b0;
        acc_q    <= 50'sd0;
        shift_q  <= 8'sd0;
        bits_q   <= 6'd32;
        even_q   <= 1'b0;
        valid_q2 <= 1'b0;
        w_q2     <= 32'sd0;
        sat_q2   <= 1'b0;
      end else begin
        valid_q  <= valid_d;
        acc_q    <= acc_d;
        shift_q  <= shift_d;
        bits_q   <= bits_d;
        even_q   <= even_d;
        valid_q2 <= valid_q;
        w_q2     <= w_d;
        sat_q2   <= sat_d;
      end
    end

    assign rb_valid_o = valid_q2;
    assign rb_w_o     = w_q2;
    assign rb_sat_o   = sat_q2;
  end else begin : gen_no_rebuild
    // Left out: the inputs are not read.
    logic unused_rebuild;
    assign unused_rebuild = ^{rb_valid_i, rb_master_i, rb_m_i, rb_gap_i, master_frac_i,
                              weight_bits_i, weight_frac_i};
    assign rb_valid_o = 1'b0;
    assign rb_w_o     = 32'sd0;
    assign rb_sat_o   = 1'b0;
  end

  //////////////////////
  // Step (write path) //
  //////////////////////

  if (StepEn) begin : gen_step
    // beta*m + (2^16 - beta)*u computed as beta*(m - u) + 2^16*u: the same exact value
    // with one multiplier. |beta*(m - u)| < 2^16 * 2^32 and |2^16*u| <= 2^47, so 50 bits
    // hold every partial sum.
    logic signed [32:0] diff;
    logic signed [49:0] prod;
    logic               valid_d, valid_q, valid_q2;
    logic signed [49:0] acc_d, acc_q;
    logic        [5:0]  bits_d, bits_q;
    logic               even_d, even_q;
    logic signed [31:0] m;
    logic               sat;
    logic signed [31:0] m_d, m_q2;
    logic               sat_d, sat_q2;

    // Stage 1: the exact weighted sum, and the word's format.
    always_comb begin
      valid_d = st_valid_i;
      acc_d   = acc_q;
      bits_d  = bits_q;
      even_d  = even_q;
      diff    = 33'(st_m_i) - 33'(st_u_i);
      prod    = 50'($signed({1'b0, st_beta_i})) * 50'(diff);
      if (st_valid_i) begin
        acc_d  = prod + (50'(st_u_i) <<< 16);
        bits_d = master_bits_i;
        even_d = round_even_i;
      end
    end

    // Stage 2: drop the 16 fraction bits of beta, saturate to the master format.
    fx_narrow u_narrow (
      .x_i         (64'(acc_q)),
      .shift_i     (8'sd16),
      .bits_i      (bits_q),
      .round_even_i(even_q),
      .y_o         (m),
      .sat_o       (sat)
    );

    always_comb begin
      m_d   = m_q2;
      sat_d = sat_q2;
      if (valid_q) begin
        m_d   = m;
        sat_d = sat;
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_q  <= 1'b0;
        acc_q    <= 50'sd0;
        bits_q   <= 6'd32;
        even_q   <= 1'b0;
        valid_q2 <= 1'b0;
        m_q2     <= 32'sd0;
        sat_q2   <= 1'b0;
      end else begin
        valid_q  <= valid_d;
        acc_q    <= acc_d;
        bits_q   <= bits_d;
        even_q   <= even_d;
        valid_q2 <= valid_q;
        m_q2     <= m_d;
        sat_q2   <= sat_d;
      end
    end

    assign st_valid_o = valid_q2;
    assign st_m_o     = m_q2;
    assign st_sat_o   = sat_q2;
  end else begin : gen_no_step
    // Left out: the inputs are not read.
    logic unused_step;
    assign unused_step = ^{st_valid_i, st_m_i, st_u_i, st_beta_i, master_bits_i};
    assign st_valid_o = 1'b0;
    assign st_m_o     = 32'sd0;
    assign st_sat_o   = 1'b0;
  end

  // With both paths left out nothing is read.
  if (!RebuildEn && !StepEn) begin : gen_no_paths
    logic unused_common;
    assign unused_common = ^{clk_i, rst_ni, round_even_i};
  end

endmodule
