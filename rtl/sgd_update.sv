`include "lp_ff.svh"

// sgd_update: the update unit, one parameter per cycle (docs/numerics.md "Update";
// bit-exact with model/fixed.c: fixed_update on one element):
//
//   g' = g + shift(wd*master)                from 32 + master_frac to grad_frac, not saturated
//   v  = sat_grad(shift(mu*v, 16) + g')
//   u  = sat_master(shift(lr*v))             from 32 + grad_frac to master_frac (lr*v: 97 bits)
//   master' = sat_master(master - u)
//   w  = narrow(master')                     from master_frac to Q(weight_bits, weight_frac)
//   m' = sat_master(shift(beta*m + (2^16 - beta)*u, 16))     (ema_en_i; ema_unit's step path)
//
// shift() is the rounding right shift of fx_narrow (nearest, ties to even; or floor) on the
// exact value; sat_f() clamps to the signed range of format f. Every clamp is an event:
// sat_cnt_o counts them for the word (0..5: v, u, master', w, m'), as fixed_update adds
// them to its counter.
//
// Timing: a 7-stage pipeline, latency 7, one parameter per cycle, bubbles allowed: a word
// presented with valid_i in cycle t leaves with valid_o in cycle t+7.
//   stage 0  the word and its constants, registered as they arrive  (*_r): the operands
//            come straight from SRAM read ports, whose access time leaves no room for
//            a multiplier in the same cycle
//   stage 1  the products wd*master and mu*v                        (registers *_q)
//   stage 2  g', v: the rounding shifts, the sum, sat_grad          (*_q2)
//   stage 3  the product lr*v                                       (*_q3)
//   stage 4  u: the rounding shift, sat_master                      (*_q4)
//   stage 5  master' = sat_master(master - u); ema_unit's stage 1    (*_q5)
//   stage 6  w = fx_narrow(master'); ema_unit's stage 2             (*_q6, the outputs)
// The constants, the formats, the rounding mode and ema_en_i are sampled with each word
// and travel with it, so consecutive words may belong to different layers or minibatches
// (lr is re-rounded for every update). Outputs hold their last value while valid_o is low.
//
// Runtime formats (model/fixed.c: fixed_check): bits 2..32, 0 <= frac < bits,
// master_frac >= weight_frac. Constants: lr (per sample, lr / batch) and wd unsigned with
// 32 fraction bits; mu and beta unsigned with 16 fraction bits (0 .. 1 - 2^-16). wd*master
// is computed exactly for any wd (fixed_update's int64 product needs wd <= 2^32, which
// weight_decay < 1 gives).
module sgd_update #(
  parameter bit HasEma = 1'b1    // 0: no EMA step at all (m_o is 0), for a layer without a buffer
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  input  logic               valid_i,
  input  logic signed [31:0] grad_i,         // g, gradient format
  input  logic signed [31:0] vel_i,          // v, gradient format
  input  logic signed [31:0] master_i,       // master format
  input  logic signed [31:0] m_i,            // ema buffer, master format (read when ema_en_i)

  // Constants, formats and rounding, sampled with each word.
  input  logic        [63:0] lr_i,           // 32 fraction bits
  input  logic        [63:0] wd_i,           // 32 fraction bits
  input  logic        [15:0] mu_i,           // 16 fraction bits
  input  logic        [15:0] beta_i,         // 16 fraction bits
  input  logic               ema_en_i,       // the layer keeps an ema buffer
  input  logic               round_even_i,   // 1: nearest, ties to even; 0: truncate (floor)
  input  logic [5:0]         weight_bits_i,
  input  logic [4:0]         weight_frac_i,
  input  logic [5:0]         master_bits_i,
  input  logic [4:0]         master_frac_i,
  input  logic [5:0]         grad_bits_i,
  input  logic [4:0]         grad_frac_i,

  output logic               valid_o,
  output logic signed [31:0] master_o,       // master'
  output logic signed [31:0] w_o,            // weight format
  output logic signed [31:0] vel_o,          // v
  output logic signed [31:0] m_o,            // m' (0 when the word's ema_en_i was low)
  output logic        [2:0]  sat_cnt_o       // saturations of this word, 0..5
);

  // Wide enough for every exact intermediate: |wd*master| < 2^64 * 2^31, |lr*v| likewise;
  // g' and the sum before sat_grad add less than a bit.
  localparam int unsigned WideW = 98;

  // x >> s with fx_narrow's rounding, no saturation, s in 0..63. fx_narrow cannot serve
  // here: these values are wider than its 64-bit input, or are summed before saturating.
  // As in fx_narrow, the rounding comes from the guard bit (the last bit shifted out) and
  // the sticky bit (any bit below it): rem > half is guard and sticky, rem == half guard
  // alone.
  function automatic logic signed [WideW-1:0] shr_round(logic signed [WideW-1:0] x,
                                                        logic [5:0] s, logic even);
    logic signed [WideW-1:0] q;
    logic        [63:0]      low;
    logic                    guard, sticky;
    q      = x >>> s;                                   // floor
    low    = 64'(x) & ~(64'hFFFF_FFFF_FFFF_FFFF << s);
    guard  = s != 6'd0 && low[s - 6'd1];
    sticky = s > 6'd1 && (low & ~(64'hFFFF_FFFF_FFFF_FFFF << (s - 6'd1))) != 64'd0;
    if (even && guard && (sticky || q[0])) begin
      q = q + WideW'(1);
    end
    shr_round = q;
  endfunction

  // x clamped to the signed range of `bits` (2..32): {saturated, value}. x fits when its
  // bits from bits - 1 up all equal its sign (a mask, not two wide comparisons).
  function automatic logic [32:0] sat_fmt(logic signed [WideW-1:0] x, logic [5:0] bits);
    logic [WideW-1:0] keep;
    logic [31:0]      hi;
    keep = {WideW{1'b1}} << (bits - 6'd1);
    hi   = (32'd1 << (bits - 6'd1)) - 32'd1;
    if ((keep & WideW'(x)) == '0 || (keep & WideW'(x)) == keep) begin
      sat_fmt = {1'b0, 32'(x)};
    end else begin
      sat_fmt = {1'b1, x[WideW-1] ? ~hi : hi};
    end
  endfunction

  /////////////////////////////////////////
  // Stage 0: the word and its constants //
  /////////////////////////////////////////

  logic                    valid_r;
  logic signed [31:0]      grad_r, vel_r, master_r, m_r;
  logic        [63:0]      lr_r, wd_r;
  logic        [15:0]      mu_r, beta_r;
  logic                    ema_en_r, round_even_r;
  logic        [5:0]       weight_bits_r, master_bits_r, grad_bits_r;
  logic        [4:0]       weight_frac_r, master_frac_r, grad_frac_r;

  `LP_FF(valid_r, valid_i, 1'b0)
  // No reset and no enable: stage 1 takes them only with valid_r.
  always_ff @(posedge clk_i) begin
    grad_r        <= grad_i;
    vel_r         <= vel_i;
    master_r      <= master_i;
    m_r           <= m_i;
    lr_r          <= lr_i;
    wd_r          <= wd_i;
    mu_r          <= mu_i;
    beta_r        <= beta_i;
    ema_en_r      <= ema_en_i;
    round_even_r  <= round_even_i;
    weight_bits_r <= weight_bits_i;
    weight_frac_r <= weight_frac_i;
    master_bits_r <= master_bits_i;
    master_frac_r <= master_frac_i;
    grad_bits_r   <= grad_bits_i;
    grad_frac_r   <= grad_frac_i;
  end

  ////////////////////////////////
  // Stage 1: wd*master and mu*v //
  ////////////////////////////////

  logic                    valid_q;
  logic signed [WideW-1:0] wdm_d, wdm_q;        // wd * master, 32 + master_frac fraction bits
  logic signed [48:0]      muv_d, muv_q;        // mu * v, 16 + grad_frac
  logic signed [31:0]      grad_d, grad_q;
  logic signed [31:0]      master_d, master_q;
  logic signed [31:0]      m_d, m_q;
  logic        [63:0]      lr_d, lr_q;
  logic        [15:0]      beta_d, beta_q;
  logic                    ema_d, ema_q;
  logic                    even_d, even_q;
  logic        [5:0]       sh_wd_d, sh_wd_q;    // 32 + master_frac - grad_frac: 1..63
  logic        [5:0]       sh_lr_d, sh_lr_q;    // 32 + grad_frac - master_frac: 1..63
  logic signed [7:0]       sh_w_d, sh_w_q;      // master_frac - weight_frac: 0..31
  logic        [5:0]       gbits_d, gbits_q;
  logic        [5:0]       mbits_d, mbits_q;
  logic        [5:0]       wbits_d, wbits_q;

  always_comb begin
    wdm_d    = wdm_q;
    muv_d    = muv_q;
    grad_d   = grad_q;
    master_d = master_q;
    m_d      = m_q;
    lr_d     = lr_q;
    beta_d   = beta_q;
    ema_d    = ema_q;
    even_d   = even_q;
    sh_wd_d  = sh_wd_q;
    sh_lr_d  = sh_lr_q;
    sh_w_d   = sh_w_q;
    gbits_d  = gbits_q;
    mbits_d  = mbits_q;
    wbits_d  = wbits_q;
    if (valid_r) begin
      wdm_d    = WideW'($signed({1'b0, wd_r})) * WideW'(master_r);
      muv_d    = 49'($signed({1'b0, mu_r})) * 49'(vel_r);
      grad_d   = grad_r;
      master_d = master_r;
      m_d      = m_r;
      lr_d     = lr_r;
      beta_d   = beta_r;
      ema_d    = ema_en_r;
      even_d   = round_even_r;
      sh_wd_d  = 6'(7'd32 + 7'(master_frac_r) - 7'(grad_frac_r));
      sh_lr_d  = 6'(7'd32 + 7'(grad_frac_r) - 7'(master_frac_r));
      sh_w_d   = $signed({3'b000, master_frac_r}) - $signed({3'b000, weight_frac_r});
      gbits_d  = grad_bits_r;
      mbits_d  = master_bits_r;
      wbits_d  = weight_bits_r;
    end
  end

  ///////////////////////////////////
  // Stage 2: g' and the new v     //
  ///////////////////////////////////

  logic                    valid_q2;
  logic signed [WideW-1:0] vsum;
  logic        [32:0]      vsat;
  logic signed [31:0]      vel_d, vel_q2;
  logic        [2:0]       cnt_d, cnt_q2;
  logic signed [31:0]      master_q2, m_q2;
  logic        [63:0]      lr_q2;
  logic        [15:0]      beta_q2;
  logic                    ema_q2, even_q2;
  logic        [5:0]       sh_lr_q2, mbits_q2, wbits_q2;
  logic signed [7:0]       sh_w_q2;

  always_comb begin
    // shift(mu*v, 16) + g + shift(wd*master); the sum is exact, then sat_grad.
    vsum  = shr_round(WideW'(muv_q), 6'd16, even_q) + WideW'(grad_q) +
            shr_round(wdm_q, sh_wd_q, even_q);
    vsat  = sat_fmt(vsum, gbits_q);
    vel_d = vel_q2;
    cnt_d = cnt_q2;
    if (valid_q) begin
      vel_d = vsat[31:0];
      cnt_d = {2'b00, vsat[32]};
    end
  end

  /////////////////////////
  // Stage 3: lr*v       //
  /////////////////////////

  logic                    valid_q3;
  logic signed [WideW-1:0] lrv_d, lrv_q3;       // lr * v, 32 + grad_frac fraction bits
  logic signed [31:0]      vel_q3, master_q3, m_q3;
  logic        [2:0]       cnt_q3;
  logic        [15:0]      beta_q3;
  logic                    ema_q3, even_q3;
  logic        [5:0]       sh_lr_q3, mbits_q3, wbits_q3;
  logic signed [7:0]       sh_w_q3;

  always_comb begin
    lrv_d = lrv_q3;
    if (valid_q2) begin
      lrv_d = WideW'($signed({1'b0, lr_q2})) * WideW'(vel_q2);
    end
  end

  ////////////////////////////////
  // Stage 4: u = sat_master(...) //
  ////////////////////////////////

  logic                    valid_q4;
  logic        [32:0]      usat;
  logic signed [31:0]      u_d, u_q4;
  logic        [2:0]       cnt4_d, cnt_q4;
  logic signed [31:0]      vel_q4, master_q4, m_q4;
  logic        [15:0]      beta_q4;
  logic                    ema_q4, even_q4;
  logic        [5:0]       mbits_q4, wbits_q4;
  logic signed [7:0]       sh_w_q4;

  always_comb begin
    usat   = sat_fmt(shr_round(lrv_q3, sh_lr_q3, even_q3), mbits_q3);
    u_d    = u_q4;
    cnt4_d = cnt_q4;
    if (valid_q3) begin
      u_d    = usat[31:0];
      cnt4_d = cnt_q3 + {2'b00, usat[32]};
    end
  end

  ///////////////////////////////////////////////////
  // Stage 5: master' = sat_master(master - u); m' //
  ///////////////////////////////////////////////////

  logic                    valid_q5;
  logic        [32:0]      msat;
  logic signed [31:0]      mst_d, mst_q5;
  logic        [2:0]       cnt5_d, cnt_q5;
  logic signed [31:0]      vel_q5;
  logic                    even_q5;
  logic        [5:0]       wbits_q5;
  logic signed [7:0]       sh_w_q5;

  always_comb begin
    msat   = sat_fmt(WideW'(master_q4) - WideW'(u_q4), mbits_q4);
    mst_d  = mst_q5;
    cnt5_d = cnt_q5;
    if (valid_q4) begin
      mst_d  = msat[31:0];
      cnt5_d = cnt_q4 + {2'b00, msat[32]};
    end
  end

  // m' = the ema step on u: ema_unit's write path, 2 stages (5 and 6).
  logic               ema_valid;
  logic signed [31:0] ema_m;
  logic               ema_sat;
  logic               unused_rb_valid;
  logic signed [31:0] unused_rb_w;
  logic               unused_rb_sat;

  if (HasEma) begin : gen_ema
    ema_unit #(
      .RebuildEn(1'b0),
      .StepEn   (1'b1)
    ) u_ema (
      .clk_i        (clk_i),
      .rst_ni       (rst_ni),
      .round_even_i (even_q4),
      .master_bits_i(mbits_q4),
      .master_frac_i(5'd0),        // rebuild path only, left out
      .weight_bits_i(6'd0),
      .weight_frac_i(5'd0),
      .rb_valid_i   (1'b0),
      .rb_master_i  (32'sd0),
      .rb_m_i       (32'sd0),
      .rb_gap_i     (16'd0),
      .rb_valid_o   (unused_rb_valid),
      .rb_w_o       (unused_rb_w),
      .rb_sat_o     (unused_rb_sat),
      .st_valid_i   (valid_q4 && ema_q4),
      .st_m_i       (m_q4),
      .st_u_i       (u_q4),
      .st_beta_i    (beta_q4),
      .st_valid_o   (ema_valid),
      .st_m_o       (ema_m),
      .st_sat_o     (ema_sat)
    );
  end else begin : gen_no_ema
    // The step's inputs are left unread: Yosys and Verilator drop their registers.
    logic unused_step;
    assign unused_step = ^{ema_q4, m_q4, u_q4, beta_q4, even_q4};
    assign {unused_rb_valid, unused_rb_w, unused_rb_sat} = '0;
    assign ema_valid = 1'b0;
    assign ema_m     = 32'sd0;
    assign ema_sat   = 1'b0;
  end

  ///////////////////////////////////////
  // Stage 6: w = narrow(master')      //
  ///////////////////////////////////////

  logic                    valid_q6;
  logic signed [31:0]      w;
  logic                    wsat;
  logic signed [31:0]      w_d, w_q6;
  logic        [2:0]       cnt6_d, cnt_q6;
  logic signed [31:0]      vel_q6, mst_q6;

  fx_narrow u_narrow_w (
    .x_i         (64'(mst_q5)),
    .shift_i     (sh_w_q5),
    .bits_i      (wbits_q5),
    .round_even_i(even_q5),
    .y_o         (w),
    .sat_o       (wsat)
  );

  always_comb begin
    w_d    = w_q6;
    cnt6_d = cnt_q6;
    if (valid_q5) begin
      w_d    = w;
      cnt6_d = cnt_q5 + {2'b00, wsat};
    end
  end

  ///////////////
  // Registers //
  ///////////////

  `LP_FF(valid_q, valid_r, 1'b0)
  `LP_FF(wdm_q, wdm_d, '0)
  `LP_FF(muv_q, muv_d, '0)
  `LP_FF(grad_q, grad_d, '0)
  `LP_FF(master_q, master_d, '0)
  `LP_FF(m_q, m_d, '0)
  `LP_FF(lr_q, lr_d, '0)
  `LP_FF(beta_q, beta_d, '0)
  `LP_FF(ema_q, ema_d, 1'b0)
  `LP_FF(even_q, even_d, 1'b0)
  `LP_FF(sh_wd_q, sh_wd_d, 6'd1)
  `LP_FF(sh_lr_q, sh_lr_d, 6'd1)
  `LP_FF(sh_w_q, sh_w_d, '0)
  `LP_FF(gbits_q, gbits_d, 6'd32)
  `LP_FF(mbits_q, mbits_d, 6'd32)
  `LP_FF(wbits_q, wbits_d, 6'd32)

  // The word's passengers move on with it; in a bubble they copy the stage before,
  // which holds the last word, so every register keeps that word's values.
  `LP_FF(valid_q2, valid_q, 1'b0)
  `LP_FF(vel_q2, vel_d, '0)
  `LP_FF(cnt_q2, cnt_d, '0)
  `LP_FF(master_q2, master_q, '0)
  `LP_FF(m_q2, m_q, '0)
  `LP_FF(lr_q2, lr_q, '0)
  `LP_FF(beta_q2, beta_q, '0)
  `LP_FF(ema_q2, ema_q, 1'b0)
  `LP_FF(even_q2, even_q, 1'b0)
  `LP_FF(sh_lr_q2, sh_lr_q, 6'd1)
  `LP_FF(sh_w_q2, sh_w_q, '0)
  `LP_FF(mbits_q2, mbits_q, 6'd32)
  `LP_FF(wbits_q2, wbits_q, 6'd32)

  `LP_FF(valid_q3, valid_q2, 1'b0)
  `LP_FF(lrv_q3, lrv_d, '0)
  `LP_FF(vel_q3, vel_q2, '0)
  `LP_FF(cnt_q3, cnt_q2, '0)
  `LP_FF(master_q3, master_q2, '0)
  `LP_FF(m_q3, m_q2, '0)
  `LP_FF(beta_q3, beta_q2, '0)
  `LP_FF(ema_q3, ema_q2, 1'b0)
  `LP_FF(even_q3, even_q2, 1'b0)
  `LP_FF(sh_lr_q3, sh_lr_q2, 6'd1)
  `LP_FF(sh_w_q3, sh_w_q2, '0)
  `LP_FF(mbits_q3, mbits_q2, 6'd32)
  `LP_FF(wbits_q3, wbits_q2, 6'd32)

  `LP_FF(valid_q4, valid_q3, 1'b0)
  `LP_FF(u_q4, u_d, '0)
  `LP_FF(cnt_q4, cnt4_d, '0)
  `LP_FF(vel_q4, vel_q3, '0)
  `LP_FF(master_q4, master_q3, '0)
  `LP_FF(m_q4, m_q3, '0)
  `LP_FF(beta_q4, beta_q3, '0)
  `LP_FF(ema_q4, ema_q3, 1'b0)
  `LP_FF(even_q4, even_q3, 1'b0)
  `LP_FF(sh_w_q4, sh_w_q3, '0)
  `LP_FF(mbits_q4, mbits_q3, 6'd32)
  `LP_FF(wbits_q4, wbits_q3, 6'd32)

  `LP_FF(valid_q5, valid_q4, 1'b0)
  `LP_FF(mst_q5, mst_d, '0)
  `LP_FF(cnt_q5, cnt5_d, '0)
  `LP_FF(vel_q5, vel_q4, '0)
  `LP_FF(even_q5, even_q4, 1'b0)
  `LP_FF(sh_w_q5, sh_w_q4, '0)
  `LP_FF(wbits_q5, wbits_q4, 6'd32)

  `LP_FF(valid_q6, valid_q5, 1'b0)
  `LP_FF(w_q6, w_d, '0)
  `LP_FF(cnt_q6, cnt6_d, '0)
  `LP_FF(vel_q6, vel_q5, '0)
  `LP_FF(mst_q6, mst_q5, '0)

  assign valid_o   = valid_q6;
  assign master_o  = mst_q6;
  assign w_o       = w_q6;
  assign vel_o     = vel_q6;
  // ema_unit's output lines up with stage 6; its valid is the word's valid and ema_en.
  assign m_o       = ema_valid ? ema_m : 32'sd0;
  assign sat_cnt_o = cnt_q6 + {2'b00, ema_valid && ema_sat};

  // The rebuild path of ema_unit is left out; its outputs read 0.
  logic unused_rebuild;
  assign unused_rebuild = ^{unused_rb_valid, unused_rb_w, unused_rb_sat};

endmodule
