`include "lp_ff.svh"

// fx_narrow_reg: fx_narrow between two register stages, with valid travelling alongside.
//
// Stage 1 registers an exact value and the format it narrows to (taken only with
// valid_i); stage 2 narrows it (fx_narrow) and registers the result. Latency 2, one
// word per cycle, bubbles allowed; the outputs hold their last value while valid_o is
// low. The pipelines of ema_unit end in this stage.
module fx_narrow_reg #(
  parameter int unsigned Width = 64   // bits of the exact value, <= 64
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    valid_i,
  input  logic signed [Width-1:0] x_i,
  input  logic signed [7:0]       shift_i,      // as fx_narrow
  input  logic        [5:0]       bits_i,
  input  logic                    round_even_i,
  output logic                    valid_o,
  output logic signed [31:0]      y_o,
  output logic                    sat_o
);
  logic                    valid_q, valid_q2;
  logic signed [Width-1:0] x_d, x_q;
  logic signed [7:0]       shift_d, shift_q;
  logic        [5:0]       bits_d, bits_q;
  logic                    even_d, even_q;
  logic signed [31:0]      y, y_d, y_q2;
  logic                    sat, sat_d, sat_q2;

  always_comb begin
    x_d     = x_q;
    shift_d = shift_q;
    bits_d  = bits_q;
    even_d  = even_q;
    if (valid_i) begin
      x_d     = x_i;
      shift_d = shift_i;
      bits_d  = bits_i;
      even_d  = round_even_i;
    end
  end

  fx_narrow u_narrow (
    .x_i         (64'(x_q)),
    .shift_i     (shift_q),
    .bits_i      (bits_q),
    .round_even_i(even_q),
    .y_o         (y),
    .sat_o       (sat)
  );

  always_comb begin
    y_d   = y_q2;
    sat_d = sat_q2;
    if (valid_q) begin
      y_d   = y;
      sat_d = sat;
    end
  end

  `LP_FF(valid_q, valid_i, 1'b0)
  `LP_FF(x_q, x_d, '0)
  `LP_FF(shift_q, shift_d, 8'sd0)
  `LP_FF(bits_q, bits_d, 6'd32)
  `LP_FF(even_q, even_d, 1'b0)
  `LP_FF(valid_q2, valid_q, 1'b0)
  `LP_FF(y_q2, y_d, 32'sd0)
  `LP_FF(sat_q2, sat_d, 1'b0)

  assign valid_o = valid_q2;
  assign y_o     = y_q2;
  assign sat_o   = sat_q2;
endmodule
