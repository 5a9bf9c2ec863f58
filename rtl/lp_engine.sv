`include "lp_ff.svh"

// lp_engine: the product engine of one dense layer (docs/rtl.md, "A layer's work"): it walks
// the tiles of a command's products on its MAC array and drains each finished tile a row
// per cycle through Cols narrowing lanes.
//
// Products (C[Md x Nd] = sum over K beats, KB = 1 with a bias):
//   forward  Fwd  Md = Batch,     Nd = Out, K = In + KB   a[b] = x[b][k], b[o] = W[k][o]
//   backward Dx   Md = Batch,     Nd = In,  K = Out       a[b] = dy[b][k], b[i] = Wb[i][k]
//            Dw   Md = In + KB,   Nd = Out, K = Batch     a[i] = x[k][i], b[o] = dy[k][o]
// A forward command runs Fwd; a backward command runs Dx (not in the first layer) and Dw
// back to back. Row In of W is the bias (Fwd's last beat reads it with a = 1 << act_frac),
// and row In of Dw is the bias gradient (a = 1 << act_frac): the sum of dy, exact, narrowed
// with the weight gradient's shift (numerically the same as narrowing sum(dy) from the
// error format; docs/numerics.md).
//
// Tiles go rows outer (i0 by Rows), columns inner (j0 by Cols), one beat (k) a cycle. The
// beat issued in cycle t (beat_*) names what the layer reads; its operands reach the array
// FetchLat cycles later (arr_*, with a_i and b_i). A tile of `rows` rows is captured when
// its last product has been accumulated and drains a row a cycle (the array's hold
// registers shift it up; no wide capture buffer), so the next tile's last
// beat may be issued only `rows` cycles after this one's: the last beats of two tiles are
// max(K, rows) apart, and the array never waits while K >= Rows.
//
// Drain: in cycle s the row (pre_*) is selected and narrowed (Fwd: to the activation
// format, with the relu; Dx: to the error format; Dw: to the gradient format); its words
// leave registered in cycle s + 1 (dr_*), lanes Cols, lane c the column j0 + c.
module lp_engine #(
  parameter int unsigned In        = 8,
  parameter int unsigned Out       = 6,
  parameter int unsigned Batch     = 4,
  parameter int unsigned Bias      = 1,
  parameter int unsigned Relu      = 1,
  parameter int unsigned First     = 0,
  parameter int unsigned Rows      = 4,
  parameter int unsigned Cols      = 4,
  parameter int unsigned MulStages = 2,
  parameter int unsigned OpW       = 32,
  parameter int unsigned AccW      = 64,
  parameter int unsigned FetchLat  = 1    // cycles from a beat's issue to the array, >= 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  lp_pkg::numerics_t      num_i,       // formats and rounding (lp_pkg)

  input  logic                   start_i,
  input  logic                   start_fwd_i,
  output logic                   busy_o,

  output logic                   beat_valid_o,
  output logic [1:0]             beat_op_o,
  output logic [31:0]            beat_k_o,
  output logic [31:0]            beat_i0_o,
  output logic [31:0]            beat_j0_o,

  output logic                   arr_valid_o,
  output logic [1:0]             arr_op_o,
  output logic [31:0]            arr_k_o,
  output logic [31:0]            arr_i0_o,
  output logic [31:0]            arr_j0_o,
  input  logic [Rows*OpW-1:0]    a_i,
  input  logic [Cols*OpW-1:0]    b_i,

  output logic                   pre_valid_o,
  output logic [1:0]             pre_op_o,
  output logic [31:0]            pre_row_o,
  output logic [31:0]            pre_col_o,
  output logic                   dr_valid_o,
  output logic [1:0]             dr_op_o,
  output logic [31:0]            dr_row_o,
  output logic [31:0]            dr_col_o,
  output logic [Cols*32-1:0]     dr_data_o
);
  localparam logic [1:0] OpFwd = 2'd0, OpDx = 2'd1, OpDw = 2'd2;
  localparam int unsigned KB = (Bias != 0) ? 1 : 0;
  localparam int unsigned RC = Rows * Cols;
  localparam int unsigned TagW = 2 + 32 + 32;   // op, i0, j0

  if (FetchLat < 1) begin : gen_bad_lat
    $error("lp_engine: FetchLat must be at least 1");
  end

  function automatic logic [31:0] md_of(logic [1:0] op);
    md_of = (op == OpDw) ? 32'(In + KB) : 32'(Batch);
  endfunction
  function automatic logic [31:0] nd_of(logic [1:0] op);
    nd_of = (op == OpDx) ? 32'(In) : 32'(Out);
  endfunction
  function automatic logic [31:0] k_of(logic [1:0] op);
    k_of = (op == OpFwd) ? 32'(In + KB) : (op == OpDx) ? 32'(Out) : 32'(Batch);
  endfunction

  // ---------------------------------------------------------------- issue
  logic        run_q, run_d;
  logic [1:0]  op_q, op_d;
  logic [31:0] i0_q, i0_d, j0_q, j0_d, k_q, k_d;
  logic [31:0] since_q, since_d;          // cycles since the last tile's last beat (<= Rows)
  logic [31:0] prows_q, prows_d;          // that tile's rows
  logic [7:0]  tiles_q, tiles_d;          // tiles whose last beat is issued, not captured
  logic        last, can;
  logic [31:0] tile_rows;
  logic        capture;

  assign last      = (k_q + 32'd1 == k_of(op_q));
  assign can       = run_q && (!last || since_q >= prows_q);
  assign tile_rows = (md_of(op_q) - i0_q < 32'(Rows)) ? md_of(op_q) - i0_q : 32'(Rows);

  always_comb begin
    run_d   = run_q;
    op_d    = op_q;
    i0_d    = i0_q;
    j0_d    = j0_q;
    k_d     = k_q;
    since_d = (since_q < 32'(Rows)) ? since_q + 32'd1 : since_q;
    prows_d = prows_q;
    tiles_d = tiles_q - (capture ? 8'd1 : 8'd0);
    if (start_i) begin
      run_d = 1'b1;
      op_d  = start_fwd_i ? OpFwd : (First != 0) ? OpDw : OpDx;
      i0_d  = '0;
      j0_d  = '0;
      k_d   = '0;
    end else if (can) begin
      k_d = k_q + 32'd1;
      if (last) begin
        k_d     = '0;
        since_d = 32'd1;
        prows_d = tile_rows;
        tiles_d = tiles_d + 8'd1;
        if (j0_q + 32'(Cols) < nd_of(op_q)) begin
          j0_d = j0_q + 32'(Cols);
        end else begin
          j0_d = '0;
          if (i0_q + 32'(Rows) < md_of(op_q)) begin
            i0_d = i0_q + 32'(Rows);
          end else begin
            i0_d = '0;
            if (op_q == OpDx) begin
              op_d = OpDw;                // the weight gradient follows at once
            end else begin
              run_d = 1'b0;
            end
          end
        end
      end
    end
  end

  assign beat_valid_o = can;
  assign beat_op_o    = op_q;
  assign beat_k_o     = k_q;
  assign beat_i0_o    = i0_q;
  assign beat_j0_o    = j0_q;

  // ---------------------------------------------------------------- fetch latency
  // The beat's descriptor travels FetchLat cycles to meet its operands; stage s (1-based)
  // holds the beat issued s cycles ago.
  logic [FetchLat-1:0]      fv_q;
  logic [FetchLat-1:0]      fl_q;          // the tile's last beat
  logic [FetchLat*2-1:0]    fop_q;
  logic [FetchLat*32-1:0]   fk_q, fi0_q, fj0_q;

  logic [FetchLat-1:0]      fv_d, fl_d;
  logic [FetchLat*2-1:0]    fop_d;
  logic [FetchLat*32-1:0]   fk_d, fi0_d, fj0_d;

  always_comb begin
    fv_d[0]        = can;
    fl_d[0]        = can && last;
    fop_d[0 +: 2]  = op_q;
    fk_d[0 +: 32]  = k_q;
    fi0_d[0 +: 32] = i0_q;
    fj0_d[0 +: 32] = j0_q;
    for (int unsigned s = 1; s < FetchLat; s++) begin
      fv_d[s]           = fv_q[s-1];
      fl_d[s]           = fl_q[s-1];
      fop_d[s*2 +: 2]   = fop_q[(s-1)*2 +: 2];
      fk_d[s*32 +: 32]  = fk_q[(s-1)*32 +: 32];
      fi0_d[s*32 +: 32] = fi0_q[(s-1)*32 +: 32];
      fj0_d[s*32 +: 32] = fj0_q[(s-1)*32 +: 32];
    end
  end
  `LP_FF(fv_q, fv_d, '0)
  `LP_FF(fl_q, fl_d, '0)
  `LP_FF(fop_q, fop_d, '0)
  `LP_FF(fk_q, fk_d, '0)
  `LP_FF(fi0_q, fi0_d, '0)
  `LP_FF(fj0_q, fj0_d, '0)

  assign arr_valid_o = fv_q[FetchLat-1];
  assign arr_op_o    = fop_q[(FetchLat-1)*2 +: 2];
  assign arr_k_o     = fk_q[(FetchLat-1)*32 +: 32];
  assign arr_i0_o    = fi0_q[(FetchLat-1)*32 +: 32];
  assign arr_j0_o    = fj0_q[(FetchLat-1)*32 +: 32];

  // ---------------------------------------------------------------- the array
  logic               mac_valid;
  logic [TagW-1:0]    mac_tag;
  logic [RC*AccW-1:0] mac_acc;            // the whole tile: only tests read it
  logic [Cols*AccW-1:0] mac_row;          // the drain row
  logic               unused_acc;
  assign unused_acc = ^{mac_acc, num_i.weight.bits, num_i.master, num_i.wd, num_i.mu};

  mac_array #(.Rows(Rows), .Cols(Cols), .OpW(OpW), .AccW(AccW), .MulStages(MulStages),
              .TagW(TagW)) u_mac (
    .clk_i, .rst_ni,
    .in_valid_i  (arr_valid_o),
    .clear_i     (arr_k_o == 32'd0),
    .last_i      (fl_q[FetchLat-1]),
    .tag_i       ({arr_op_o, arr_i0_o, arr_j0_o}),
    .a_i,
    .b_i,
    .out_valid_o (mac_valid),
    .out_tag_o   (mac_tag),
    .acc_o       (mac_acc),
    .row_o       (mac_row)
  );
  assign capture = mac_valid;

  // ---------------------------------------------------------------- capture and drain
  // The array's hold registers bring row j of a finished tile to mac_row in cycle
  // capture + j; row_q registers it, so row j is in row_q in the drain's cycle j (dr_q).
  logic [Cols*AccW-1:0] row_q;
  logic               dbusy_d, dbusy_q;
  logic [1:0]         dop_d, dop_q;
  logic [31:0]        di0_d, di0_q, dj0_d, dj0_q, dr_d, dr_q, drows_d, drows_q;

  always_comb begin
    dbusy_d = dbusy_q;
    dop_d   = dop_q;
    di0_d   = di0_q;
    dj0_d   = dj0_q;
    dr_d    = dr_q;
    drows_d = drows_q;
    if (dbusy_q) begin
      dr_d = dr_q + 32'd1;
      if (dr_q + 32'd1 == drows_q) begin
        dbusy_d = 1'b0;
      end
    end
    if (capture) begin                    // the issue rule keeps this after the last row
      dbusy_d = 1'b1;
      dop_d   = mac_tag[TagW-1 -: 2];
      di0_d   = mac_tag[63:32];
      dj0_d   = mac_tag[31:0];
      dr_d    = '0;
      drows_d = (md_of(mac_tag[TagW-1 -: 2]) - mac_tag[63:32] < 32'(Rows))
                ? md_of(mac_tag[TagW-1 -: 2]) - mac_tag[63:32] : 32'(Rows);
    end
  end

  `LP_FF(dbusy_q, dbusy_d, 1'b0)
  `LP_FF(dop_q, dop_d, OpFwd)
  `LP_FF(di0_q, di0_d, '0)
  `LP_FF(dj0_q, dj0_d, '0)
  `LP_FF(dr_q, dr_d, '0)
  `LP_FF(drows_q, drows_d, '0)

  always_ff @(posedge clk_i) begin
    row_q <= mac_row;
  end

  assign pre_valid_o = dbusy_q;
  assign pre_op_o    = dop_q;
  assign pre_row_o   = di0_q + dr_q;
  assign pre_col_o   = dj0_q;

  // The row dr_q, through the narrowing lanes. Each lane has its own copy of the shift,
  // the format and the relu, loaded with the drain (they fan out to a 64-bit shifter).
  function automatic logic [14:0] narrow_of(logic [1:0] op);   // {relu, bits, shift}
    case (op)
      OpFwd:   narrow_of = {Relu != 0, num_i.act.bits, 8'(num_i.weight.frac)};
      OpDx:    narrow_of = {1'b0, num_i.err.bits, 8'(num_i.weight.frac)};
      default: narrow_of = {1'b0, num_i.grad.bits,
                            8'(num_i.act.frac) + 8'(num_i.err.frac) - 8'(num_i.grad.frac)};
    endcase
  endfunction

  logic [Cols*32-1:0] row_words;
  for (genvar c = 0; c < Cols; c++) begin : gen_lane
    logic signed [AccW-1:0] sum;
    logic signed [31:0]     y;
    logic                   unused_sat;
    logic signed [7:0]      nshift_q;
    logic        [5:0]      nbits_q;
    logic                   relu_q;
    always_ff @(posedge clk_i) begin
      if (capture) begin
        {relu_q, nbits_q, nshift_q} <= narrow_of(mac_tag[TagW-1 -: 2]);
      end
    end
    assign sum = $signed(row_q[c*AccW +: AccW]);
    fx_narrow u_narrow (
      .x_i          (64'(sum)),
      .shift_i      (nshift_q),
      .bits_i       (nbits_q),
      .round_even_i (num_i.round_even),
      .y_o          (y),
      .sat_o        (unused_sat)
    );
    assign row_words[c*32 +: 32] = (relu_q && y[31]) ? 32'd0 : y;
  end

  logic               drv_q;
  logic [1:0]         drop_q;
  logic [31:0]        drrow_q, drcol_q;
  logic [Cols*32-1:0] drdata_q;

  `LP_FF(drv_q, dbusy_q, 1'b0)
  `LP_FFE(drop_q, dop_q, dbusy_q, OpFwd)
  `LP_FFE(drrow_q, pre_row_o, dbusy_q, '0)
  `LP_FFE(drcol_q, dj0_q, dbusy_q, '0)

  always_ff @(posedge clk_i) begin
    if (dbusy_q) begin
      drdata_q <= row_words;
    end
  end

  assign dr_valid_o = drv_q;
  assign dr_op_o    = drop_q;
  assign dr_row_o   = drrow_q;
  assign dr_col_o   = drcol_q;
  assign dr_data_o  = drdata_q;

  // ---------------------------------------------------------------- state
  `LP_FF(run_q, run_d, 1'b0)
  `LP_FF(op_q, op_d, OpFwd)
  `LP_FF(i0_q, i0_d, '0)
  `LP_FF(j0_q, j0_d, '0)
  `LP_FF(k_q, k_d, '0)
  `LP_FF(since_q, since_d, 32'(Rows))
  `LP_FF(prows_q, prows_d, '0)
  `LP_FF(tiles_q, tiles_d, '0)

  // Busy until the last row has left: issuing, a tile in the array, draining, or the
  // last row in its register.
  assign busy_o = run_q || (tiles_q != 8'd0) || dbusy_q || drv_q;

`ifndef SYNTHESIS
  // ---------------------------------------------------------------- assertions
  // What docs/rtl.md states of this module, checked in every simulation (Verilator
  // --assert; docs/rtl.md, Assertions). Yosys defines SYNTHESIS and reads none of it.
  // Reset disables them: a sampled use of the asynchronous reset, which is no finding.
  /* verilator lint_off SYNCASYNCNET */
  // A command starts an idle engine.
  a_start_idle: assert property (@(posedge clk_i) disable iff (!rst_ni)
      start_i |-> !busy_o)
    else $error("lp_engine: a command while busy");
  // The issue rule: a tile is captured only once the one before has drained its last row.
  a_capture_drained: assert property (@(posedge clk_i) disable iff (!rst_ni)
      capture |-> !dbusy_q || dr_q + 32'd1 == drows_q)
    else $error("lp_engine: a tile captured over row %0d of %0d still draining", dr_q, drows_q);
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
