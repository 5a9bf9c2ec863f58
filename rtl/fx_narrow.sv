// fx_narrow: narrow an exact 64-bit value to a fixed-point format (docs/numerics.md).
//
// y = saturate(shift(x, shift)) where shift > 0 shifts right with the rounding mode
// (nearest, ties to even; or floor) and shift <= 0 shifts left exactly; saturate
// clamps to the signed range of `bits` (2..32) and raises sat_o. Combinational.
// Bit-exact with model/fixed.c: fixed_narrow (shift = frac_in - frac_out).
module fx_narrow (
  input  logic signed [63:0] x_i,
  input  logic signed [7:0]  shift_i,     // -63..63
  input  logic        [5:0]  bits_i,      // 2..32
  input  logic               round_even_i,
  output logic signed [31:0] y_o,
  output logic               sat_o
);
  logic        [6:0]   sh_right;
  logic        [6:0]   sh_left;
  logic signed [127:0] wide;
  logic signed [127:0] floor_q;
  logic        [63:0]  rem;
  logic        [63:0]  half;
  logic signed [127:0] rounded;
  logic signed [127:0] hi;
  logic signed [127:0] lo;

  always_comb begin
    sh_right = 7'd0;
    sh_left  = 7'd0;
    if (shift_i > 8'sd0) begin
      sh_right = 7'(shift_i);
    end else begin
      sh_left = 7'(-shift_i);
    end
    wide    = 128'(x_i) <<< sh_left;
    floor_q = wide >>> sh_right;                       // arithmetic: floor
    rem     = 64'(wide) & ((64'd1 << sh_right) - 64'd1);
    half    = (sh_right == 7'd0) ? 64'd0 : (64'd1 << (sh_right - 7'd1));
    rounded = floor_q;
    if (round_even_i && sh_right != 7'd0 &&
        (rem > half || (rem == half && floor_q[0]))) begin
      rounded = floor_q + 128'sd1;
    end
    hi    = (128'sd1 <<< (bits_i - 6'd1)) - 128'sd1;
    lo    = -(128'sd1 <<< (bits_i - 6'd1));
    sat_o = 1'b0;
    y_o   = 32'(rounded);
    if (rounded > hi) begin
      y_o   = 32'(hi);
      sat_o = 1'b1;
    end else if (rounded < lo) begin
      y_o   = 32'(lo);
      sat_o = 1'b1;
    end
  end
endmodule
