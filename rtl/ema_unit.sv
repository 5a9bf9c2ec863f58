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
// Timing: each path is a 2-stage pipeline (fx_narrow_reg), latency 2, one word per
// cycle, bubbles allowed: a word presented with *_valid_i in cycle t leaves with
// *_valid_o in cycle t+2.
//   stage 1: the exact products and sum, registered with the word's format
//   stage 2: fx_narrow, the result registered
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
    logic signed [49:0] sum;
    assign sum = 50'($signed({1'b0, rb_gap_i})) * 50'(rb_m_i) + 50'(rb_master_i);

    fx_narrow_reg #(.Width(50)) u_stage (
      .clk_i,
      .rst_ni,
      .valid_i     (rb_valid_i),
      .x_i         (sum),
      .shift_i     ($signed({3'b000, master_frac_i}) - $signed({3'b000, weight_frac_i})),
      .bits_i      (weight_bits_i),
      .round_even_i,
      .valid_o     (rb_valid_o),
      .y_o         (rb_w_o),
      .sat_o       (rb_sat_o)
    );
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
    // hold every partial sum. Narrowing drops beta's 16 fraction bits and saturates to
    // the master format.
    logic signed [32:0] diff;
    logic signed [49:0] sum;
    assign diff = 33'(st_m_i) - 33'(st_u_i);
    assign sum  = 50'($signed({1'b0, st_beta_i})) * 50'(diff) + (50'(st_u_i) <<< 16);

    fx_narrow_reg #(.Width(50)) u_stage (
      .clk_i,
      .rst_ni,
      .valid_i     (st_valid_i),
      .x_i         (sum),
      .shift_i     (8'sd16),
      .bits_i      (master_bits_i),
      .round_even_i,
      .valid_o     (st_valid_o),
      .y_o         (st_m_o),
      .sat_o       (st_sat_o)
    );
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
