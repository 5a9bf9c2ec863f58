// fx_narrow: narrow an exact 64-bit value to a fixed-point format (docs/numerics.md).
//
// y = saturate(shift(x, shift)) where shift > 0 shifts right with the rounding mode
// (nearest, ties to even; or floor) and shift <= 0 shifts left exactly; saturate
// clamps to the signed range of `bits` (2..32) and raises sat_o. Combinational.
// Bit-exact with model/fixed.c: fixed_narrow (shift = frac_in - frac_out).
//
// Built for a short path (docs/rtl.md, "Timing"): one barrel shift, the rounding
// decision from the guard bit (the last bit shifted out) and the sticky bit (any bit
// below it), an increment, and a range check that masks the bits above the format
// instead of comparing with its limits; the masks depend on bits_i and the shift alone,
// so they are ready before the data. A left shift saturates when x does not fit in
// bits - shift bits (x << shift is exact, any width).
module fx_narrow (
  input  logic signed [63:0] x_i,
  input  logic signed [7:0]  shift_i,     // -63..63
  input  logic        [5:0]  bits_i,      // 2..32
  input  logic               round_even_i,
  output logic signed [31:0] y_o,
  output logic               sat_o
);
  logic        [5:0]  sh_r, sh_l;
  logic signed [63:0] floor_q;            // x >>> sh_r
  logic        [63:0] low;                // the bits shifted out, and below
  logic               guard, sticky, up;
  logic signed [64:0] rounded;            // floor_q + up
  logic        [64:0] keep_r;             // the bits of rounded that must equal its sign
  logic        [63:0] keep_l;             // the bits of x that must equal its sign
  logic               left, fits, neg;
  logic        [31:0] hi;

  always_comb begin
    left = shift_i <= 8'sd0;
    sh_r = left ? 6'd0 : 6'(shift_i);
    sh_l = left ? 6'(-shift_i) : 6'd0;

    floor_q = x_i >>> sh_r;                       // arithmetic: floor
    low     = 64'(x_i) & ~(64'hFFFF_FFFF_FFFF_FFFF << sh_r);
    guard   = sh_r != 6'd0 && low[sh_r - 6'd1];
    sticky  = sh_r > 6'd1 && (low & ~(64'hFFFF_FFFF_FFFF_FFFF << (sh_r - 6'd1))) != 64'd0;
    up      = round_even_i && guard && (sticky || floor_q[0]);
    rounded = 65'(floor_q) + 65'(up);

    // Right: rounded fits in bits_i bits when its bits bits_i - 1 and up are all equal.
    keep_r = 65'h1_FFFF_FFFF_FFFF_FFFF << (bits_i - 6'd1);
    // Left: x << sh_l fits when x fits in bits_i - sh_l bits (x == 0 when that is <= 0).
    keep_l = (7'(bits_i) > 7'(sh_l)) ? 64'hFFFF_FFFF_FFFF_FFFF << (bits_i - sh_l - 6'd1)
                                     : 64'hFFFF_FFFF_FFFF_FFFF;
    if (left) begin
      neg  = x_i[63];
      fits = ((keep_l & 64'(x_i)) == 64'd0) ||
             (7'(bits_i) > 7'(sh_l) && (keep_l & 64'(x_i)) == keep_l);
    end else begin
      neg  = rounded[64];
      fits = ((keep_r & 65'(rounded)) == 65'd0) || ((keep_r & 65'(rounded)) == keep_r);
    end

    hi    = (32'd1 << (bits_i - 6'd1)) - 32'd1;
    sat_o = !fits;
    if (fits) begin
      y_o = left ? 32'(x_i <<< sh_l) : 32'(rounded);
    end else begin
      y_o = neg ? ~hi : hi;
    end
  end
endmodule
