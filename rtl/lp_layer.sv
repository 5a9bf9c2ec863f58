`include "lp_ff.svh"

// lp_layer: one dense layer of a pipeline stage (LAYERPIPE.md s. 3 and 7, docs/numerics.md;
// bit-exact with model/fixed.c; docs/rtl.md describes the schedule): its memories, its weight
// history, the product engine (lp_engine) and the lanes that run beside it at the array's
// rate.
//
// Memories (skew_mem, banked so that rows and columns both move a row a cycle; 32-bit
// words; W has a row In for the bias when Bias):
//   w, master, vel   (In + KB) x Out           datapath weights, master weights, momentum
//   m                In x Out                  the EMA buffer (ema, history read)
//   stash ring       Delay versions of In x Out   (stash, history read; stash_ring)
//   x                XSlots x Batch x In       the activation delay line: the minibatch's
//                                              input, per minibatch in flight; XSpare adds
//                                              the slot the stage before writes into (the
//                                              forward register between stages)
//   y                (Delay+1) x Batch x Out   with Relu: the output, for the mask
//   dy               DyBufs x Batch x Out      the output error; DyBufs = 2 at a stage's last
//                                              layer before the last stage: the second is
//                                              the backward register the next stage writes
// A layer whose backward propagates no error (First) or has no delay keeps no history.
// A tag (minibatch, learning rate, weight version, x slot) follows each forward through a
// delay_line of Delay steps to the matching backward.
//
// Commands (cmd_i; cmd_fwd_i: 1 forward, 0 backward; busy_o until done):
//   forward   the engine's Fwd product; each drained row (a sample b, Cols outputs) is
//             written to y and leaves on fo_*
//   backward  Dx (except First): the weights it reads come from memory to the array through
//             the history lanes, in the cycles the array takes them: the live weights
//             (stale, no delay), the stash ring's version (stash) or narrow(master + gap*m)
//             rebuilt by Cols ema_unit lanes (ema, gap = updates since the forward); each
//             drained row of dx leaves on bo_*. Then Dw: each drained row of the weight
//             gradient (an input i or the bias row, Cols outputs) waits a cycle for the
//             row's vel, master and m (read the cycle before it left the drain; a memory
//             answers in two) and goes into Cols sgd_update lanes with them, the stash ring
//             takes the live row in the same cycle, and the lanes' results are written back
//             7 cycles later.
// Memories answer a read two cycles later (skew_mem: the SRAM's register, then an output
// register), so no logic sits between an SRAM macro and a flip-flop.
// Inputs: xin_* writes a row of the input into the x slot being filled; ein_* writes a row
// of the output error through the relu mask into dy (two register stages: the mask's read).
// step_i ends a pipeline step: slot and buffer counters advance, the tag enters the line.
//
// Observation (for the co-simulation; nothing inside reads it): obs_* the engine's values
// (kind 2 activation row, 6 gradient row, 5 the backward's weights as they reach the array,
// lane c at obs_idx_o + c*obs_stride_o), obse_* each error row written (kind 4), obsw_*
// each update row written back (kinds 7 and 8). Lanes 0 .. *_n_o - 1 are valid.
module lp_layer #(
  parameter int unsigned In        = 8,
  parameter int unsigned Out       = 6,
  parameter int unsigned Batch     = 4,
  parameter int unsigned Delay     = 0,   // 2*S: the forward -> backward gap in steps
  parameter int unsigned Policy    = 0,   // 0 stale, 1 stash, 2 ema (sequential: Delay 0)
  parameter int unsigned Relu      = 1,
  parameter int unsigned Bias      = 1,
  parameter int unsigned First     = 0,   // the network's first layer: no dx, no history
  parameter int unsigned XSpare    = 0,   // 1: the stage's first layer after stage 1
  parameter int unsigned DyBufs    = 1,   // 2: the stage's last layer before the last stage
  parameter int unsigned Rows      = 4,
  parameter int unsigned Cols      = 4,
  parameter int unsigned MulStages = 2,
  parameter int unsigned OpW       = 32,
  parameter int unsigned AccW      = 64,
  localparam int unsigned KB       = (Bias != 0) ? 1 : 0,
  localparam bit          HasRelu  = (Relu != 0),
  localparam bit          Hist     = (Policy != 0) && (Delay > 0) && (First == 0),
  localparam bit          Ema      = Hist && (Policy == 2),
  localparam bit          Stash    = Hist && (Policy == 1),
  localparam int unsigned FetchLat = Ema ? 5 : 2,
  localparam int unsigned Nx       = 1 << $clog2((Rows > Cols) ? Rows : Cols),
  localparam int unsigned Nw       = 1 << $clog2(Cols),
  localparam int unsigned XSlots   = Delay + 1 + XSpare,
  localparam int unsigned YSlots   = Delay + 1
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  input  lp_pkg::numerics_t  num_i,         // formats, rounding, optimizer constants
  input  logic [15:0]        beta_i,

  // Initial weights (host, between steps): a row segment of w and master at (row, col);
  // vel and m <- 0.
  input  logic               init_valid_i,
  input  logic [31:0]        init_row_i,
  input  logic [31:0]        init_col_i,
  input  logic [Cols*32-1:0] init_w_i,
  input  logic [Cols*32-1:0] init_master_i,

  input  logic               cmd_i,
  input  logic               cmd_fwd_i,
  input  logic [31:0]        cmd_mb_i,      // forward: the minibatch
  input  logic [63:0]        cmd_lr_i,      // forward: its learning rate (per sample)
  output logic               busy_o,
  input  logic               step_i,

  input  logic               xin_valid_i,   // x[row][col + l], l < Cols
  input  logic [31:0]        xin_row_i,
  input  logic [31:0]        xin_col_i,
  input  logic [Cols*32-1:0] xin_data_i,
  input  logic               ein_valid_i,   // dy[row][col + l] before the mask
  input  logic [31:0]        ein_row_i,
  input  logic [31:0]        ein_col_i,
  input  logic [Cols*32-1:0] ein_data_i,
  input  logic [31:0]        ein_mb_i,

  output logic               fo_valid_o,    // y[row][col + l]
  output logic [31:0]        fo_row_o,
  output logic [31:0]        fo_col_o,
  output logic [Cols*32-1:0] fo_data_o,
  output logic               bo_valid_o,    // dx[row][col + l]
  output logic [31:0]        bo_row_o,
  output logic [31:0]        bo_col_o,
  output logic [Cols*32-1:0] bo_data_o,
  output logic [31:0]        bwd_mb_o,      // the minibatch the backward serves

  output lp_pkg::obs_t      obs_o,         // the engine's values
  output logic [Cols*32-1:0] obs_data_o,
  output lp_pkg::obs_t      obse_o,        // each error row written
  output logic [Cols*32-1:0] obse_data_o,
  output lp_pkg::obs_t      obsw_o,        // each update row written back
  output logic [Cols*32-1:0] obsw_w_o,
  output logic [Cols*32-1:0] obsw_master_o,
  output logic               error_o,       // sticky: a stash read missed its version

  output lp_pkg::mem_words_t words_o        // what this layer holds (lp_pkg)
);
  localparam logic [1:0] OpFwd = 2'd0, OpDx = 2'd1, OpDw = 2'd2;
  localparam int unsigned WRows = In + KB;

  always_comb begin
    words_o.act     = 32'((Delay + 1) * Batch * (In + (HasRelu ? Out : 0)));
    words_o.fwd_reg = 32'(XSpare * Batch * In);
    words_o.bwd_reg = 32'((DyBufs - 1) * Batch * Out);
    words_o.stash   = 32'(Stash ? Delay * In * Out : 0);
    words_o.ema     = 32'(Ema ? In * Out : 0);
  end

  function automatic logic [31:0] min32(logic [31:0] a, logic [31:0] b);
    min32 = (a < b) ? a : b;
  endfunction

  // Lane l of a bank-order vector of Nw words whose lane 0 sits in bank base, and back.
  function automatic logic [Cols*32-1:0] to_lanes(logic [Nw*32-1:0] banks, logic [31:0] base);
    for (int unsigned l = 0; l < Cols; l++) begin
      logic [31:0] b;
      b = (base + 32'(l)) & 32'(Nw - 1);
      to_lanes[l*32 +: 32] = banks[b*32 +: 32];
    end
  endfunction
  function automatic logic [Nw*32-1:0] to_banks(logic [Cols*32-1:0] lanes, logic [31:0] base);
    to_banks = '0;
    for (int unsigned b = 0; b < Nw; b++) begin
      logic [31:0] l;
      l = (32'(b) - base) & 32'(Nw - 1);
      if (l < 32'(Cols)) begin
        to_banks[b*32 +: 32] = lanes[l*32 +: 32];
      end
    end
  endfunction

  // ---------------------------------------------------------------- counters and tags
  logic        fwd_ran_d, fwd_ran_q, bwd_ran_d, bwd_ran_q, xrcv_d, xrcv_q, ercv_d, ercv_q;
  logic [7:0]  fx_d, fx_q, fy_d, fy_q;    // slots: the next forward's x and y
  logic [7:0]  ix_d, ix_q, ry_d, ry_q;    // the incoming x's, the error's
  logic        rpar_d, rpar_q, bpar_d, bpar_q;   // dy buffers: receiving, backward
  logic [31:0] live_d, live_q;            // updates applied
  logic [31:0] fmb_d, fmb_q, fver_d, fver_q;
  logic [63:0] flr_d, flr_q;
  logic        error_d, error_q;
  logic        bv;
  logic [31:0] bmb, bver, bslot;
  logic [63:0] blr;
  logic [127:0] bdata;

  function automatic logic [7:0] next_slot(logic [7:0] s, int unsigned n);
    next_slot = (32'(s) + 32'd1 == 32'(n)) ? 8'd0 : s + 8'd1;
  endfunction

  // The line's output holds from the cycle after a step to the next step, and nothing
  // reads it sooner than two cycles after one (a backward follows its stage's forward or
  // a new start), so it is copied into registers every cycle: a deep line is an SRAM
  // macro, and its read data go to no logic but these flops (docs/rtl.md, Timing).
  logic         bv_l;
  logic [31:0]  bmb_l;
  logic [127:0] bdata_l;
  delay_line #(.Depth(Delay), .Width(128), .TagW(32)) u_tags (
    .clk_i, .rst_ni, .step_i,
    .valid_i (fwd_ran_q),
    .tag_i   (fmb_q),
    .data_i  ({flr_q, fver_q, 24'd0, fx_q}),
    .valid_o (bv_l),
    .tag_o   (bmb_l),
    .data_o  (bdata_l)
  );
  `LP_FF(bv, bv_l, 1'b0)
  `LP_FF(bmb, bmb_l, '0)
  `LP_FF(bdata, bdata_l, '0)
  assign blr   = bdata[127:64];
  assign bver  = bdata[63:32];
  assign bslot = bdata[31:0];
  assign bwd_mb_o = bmb;

  // ---------------------------------------------------------------- the engine
  logic        eng_start, eng_busy;
  logic        beat_v, arr_v, pre_v, dr_v;
  logic [1:0]  beat_op, arr_op, pre_op, dr_op;
  logic [31:0] beat_k, beat_i0, beat_j0, arr_k, arr_i0, arr_j0;
  logic [31:0] pre_row, pre_col, dr_row, dr_col;
  logic [Cols*32-1:0] dr_data;
  logic [Rows*OpW-1:0] a_op;
  logic [Cols*OpW-1:0] b_op;

  lp_engine #(.In(In), .Out(Out), .Batch(Batch), .Bias(Bias), .Relu(Relu), .First(First),
              .Rows(Rows), .Cols(Cols), .MulStages(MulStages), .OpW(OpW), .AccW(AccW),
              .FetchLat(FetchLat)) u_eng (
    .clk_i, .rst_ni, .num_i,
    .start_i (eng_start), .start_fwd_i (cmd_fwd_i), .busy_o (eng_busy),
    .beat_valid_o (beat_v), .beat_op_o (beat_op), .beat_k_o (beat_k), .beat_i0_o (beat_i0),
    .beat_j0_o (beat_j0),
    .arr_valid_o (arr_v), .arr_op_o (arr_op), .arr_k_o (arr_k), .arr_i0_o (arr_i0),
    .arr_j0_o (arr_j0), .a_i (a_op), .b_i (b_op),
    .pre_valid_o (pre_v), .pre_op_o (pre_op), .pre_row_o (pre_row), .pre_col_o (pre_col),
    .dr_valid_o (dr_v), .dr_op_o (dr_op), .dr_row_o (dr_row), .dr_col_o (dr_col),
    .dr_data_o (dr_data)
  );

  // Receivers and update lanes (defined below).
  logic               e1_v;
  logic [31:0]        e1_row, e1_col, e1_mb;
  logic [Cols*32-1:0] e1_data, e1_masked;
  logic [Nw*32-1:0]   y_rd;
  logic               up1_v;
  logic [31:0]        up1_row, up1_col, up1_n, up1_base;

  // Lane-order vectors widened to a memory's banks.
  logic [Nx*32-1:0] xin_wide, e1_wide;
  logic [Nw*32-1:0] dr_wide;
  always_comb begin
    xin_wide = '0;
    e1_wide  = '0;
    dr_wide  = '0;
    xin_wide[Cols*32-1:0] = xin_data_i;
    e1_wide[Cols*32-1:0]  = e1_masked;
    dr_wide[Cols*32-1:0]  = dr_data;
  end

  // ---------------------------------------------------------------- memories
  // Reads for the beat issued this cycle, and for the update of the row selected this
  // cycle (Dw drain), which never coincide with a beat that reads the same memory.
  logic up_rd;                            // the update reads its row
  assign up_rd = pre_v && pre_op == OpDw;
  logic [7:0] dy_rd_buf, dy_wr_buf;
  assign dy_rd_buf = (DyBufs == 2) ? {7'd0, bpar_q} : 8'd0;
  assign dy_wr_buf = (DyBufs == 2) ? {7'd0, rpar_q} : 8'd0;

  logic [Nx*32-1:0] x_rd, dy_rd, unused_xb, unused_dyb;
  logic [Nw*32-1:0] w_rd, w_bank, ms_rd, ms_bank, vel_bank, m_rd, m_bank;
  logic [Nw*32-1:0] unused_vel_rd;

  // Write-back of the update (bank order), or the host's initial weights (lane order).
  logic             wb_v;
  logic [31:0]      wb_row, wb_col, wb_n;
  logic [Nw*32-1:0] wb_w, wb_ms, wb_vel, wb_m;
  logic             wb_ema;

  skew_mem #(.Kind(0), .RegSlots(XSpare), .N(Nx), .P(Batch), .Q(In), .Slots(XSlots)) u_x (
    .clk_i,
    .rd_valid_i (beat_v && beat_op != OpDx),
    .rd_col_i   (beat_op == OpFwd),
    .rd_slot_i  (beat_op == OpFwd ? fx_q : bslot[7:0]),
    .rd_p_i     (beat_op == OpFwd ? beat_i0 : beat_k),
    .rd_q_i     (beat_op == OpFwd ? beat_k : beat_i0),
    .rd_data_o  (x_rd), .rd_bank_o (unused_xb),
    .wr_valid_i (xin_valid_i), .wr_bank_i (1'b0),
    .wr_slot_i  ((XSpare != 0) ? ix_q : fx_q),
    .wr_p_i     (xin_row_i), .wr_q_i (xin_col_i),
    .wr_n_i     (min32(32'(Cols), 32'(In) - xin_col_i)),
    .wr_data_i  (xin_wide)
  );

  skew_mem #(.Kind(2), .RegSlots(DyBufs - 1), .N(Nx), .P(Batch), .Q(Out), .Slots(DyBufs)) u_dy (
    .clk_i,
    .rd_valid_i (beat_v && beat_op != OpFwd),
    .rd_col_i   (beat_op == OpDx),
    .rd_slot_i  (dy_rd_buf),
    .rd_p_i     (beat_op == OpDx ? beat_i0 : beat_k),
    .rd_q_i     (beat_op == OpDx ? beat_k : beat_j0),
    .rd_data_o  (dy_rd), .rd_bank_o (unused_dyb),
    .wr_valid_i (e1_v), .wr_bank_i (1'b0),
    .wr_slot_i  (dy_wr_buf),
    .wr_p_i     (e1_row), .wr_q_i (e1_col),
    .wr_n_i     (min32(32'(Cols), 32'(Out) - e1_col)),
    .wr_data_i  (e1_wide)
  );

  // The W family: the beat reads a row (Fwd) or a column (Dx) in lane order; the update
  // reads and writes rows in bank order.
  logic        wf_rd, wf_col;
  logic [31:0] wf_p, wf_q;
  always_comb begin
    wf_rd  = up_rd || (beat_v && beat_op != OpDw);
    wf_col = !up_rd && beat_op == OpDx;
    wf_p   = up_rd ? pre_row : (beat_op == OpDx) ? beat_j0 : beat_k;
    wf_q   = up_rd ? pre_col : (beat_op == OpDx) ? beat_k : beat_j0;
  end

  skew_mem #(.Kind(3), .N(Nw), .P(WRows), .Q(Out), .Slots(1)) u_w (
    .clk_i,
    .rd_valid_i (wf_rd), .rd_col_i (wf_col), .rd_slot_i (8'd0),
    .rd_p_i (wf_p), .rd_q_i (wf_q),
    .rd_data_o (w_rd), .rd_bank_o (w_bank),
    .wr_valid_i (wb_v), .wr_bank_i (!init_valid_i), .wr_slot_i (8'd0),
    .wr_p_i (wb_row), .wr_q_i (wb_col), .wr_n_i (wb_n), .wr_data_i (wb_w)
  );
  skew_mem #(.Kind(4), .N(Nw), .P(WRows), .Q(Out), .Slots(1)) u_master (
    .clk_i,
    .rd_valid_i (wf_rd), .rd_col_i (wf_col), .rd_slot_i (8'd0),
    .rd_p_i (wf_p), .rd_q_i (wf_q),
    .rd_data_o (ms_rd), .rd_bank_o (ms_bank),
    .wr_valid_i (wb_v), .wr_bank_i (!init_valid_i), .wr_slot_i (8'd0),
    .wr_p_i (wb_row), .wr_q_i (wb_col), .wr_n_i (wb_n), .wr_data_i (wb_ms)
  );
  skew_mem #(.Kind(5), .N(Nw), .P(WRows), .Q(Out), .Slots(1)) u_vel (
    .clk_i,
    .rd_valid_i (up_rd), .rd_col_i (1'b0), .rd_slot_i (8'd0),
    .rd_p_i (pre_row), .rd_q_i (pre_col),
    .rd_data_o (unused_vel_rd), .rd_bank_o (vel_bank),
    .wr_valid_i (wb_v), .wr_bank_i (1'b1), .wr_slot_i (8'd0),
    .wr_p_i (wb_row), .wr_q_i (wb_col), .wr_n_i (wb_n), .wr_data_i (wb_vel)
  );

  // ---------------------------------------------------------------- the beat's operands
  // Two cycles after the issue the memories answer (skew_mem: the SRAM's register, then
  // its output register); the descriptor travels beside (oq_*, then o1_*).
  logic        oq_v, o1_v;
  logic [1:0]  oq_op, o1_op;
  logic [31:0] oq_k, oq_i0, o1_k, o1_i0;
  `LP_FF(oq_v, beat_v, 1'b0)
  `LP_FFE(oq_op, beat_op, beat_v, OpFwd)
  `LP_FFE(oq_k, beat_k, beat_v, '0)
  `LP_FFE(oq_i0, beat_i0, beat_v, '0)
  `LP_FF(o1_v, oq_v, 1'b0)
  `LP_FFE(o1_op, oq_op, oq_v, OpFwd)
  `LP_FFE(o1_k, oq_k, oq_v, '0)
  `LP_FFE(o1_i0, oq_i0, oq_v, '0)

  logic [31:0] one_act;                   // the bias beat's operand: 1.0 as an activation
  assign one_act = 32'd1 << num_i.act.frac;

  // a: Rows lanes, b: Cols lanes, 32-bit words (the history lanes' output replaces b for
  // Dx when they rebuild).
  logic [Rows*32-1:0] a1;
  logic [Cols*32-1:0] b1, bhist;
  logic               hist_live;          // stash: this backward reads the live weights
  always_comb begin
    for (int unsigned r = 0; r < Rows; r++) begin
      case (o1_op)
        OpFwd:   a1[r*32 +: 32] = (o1_k == 32'(In)) ? one_act : x_rd[r*32 +: 32];
        OpDx:    a1[r*32 +: 32] = dy_rd[r*32 +: 32];
        default: a1[r*32 +: 32] = (o1_i0 + 32'(r) == 32'(In)) ? one_act : x_rd[r*32 +: 32];
      endcase
    end
    for (int unsigned c = 0; c < Cols; c++) begin
      case (o1_op)
        OpFwd:   b1[c*32 +: 32] = w_rd[c*32 +: 32];
        OpDx:    b1[c*32 +: 32] = (Stash && !hist_live) ? bhist[c*32 +: 32] : w_rd[c*32 +: 32];
        default: b1[c*32 +: 32] = dy_rd[c*32 +: 32];
      endcase
    end
  end

  // Operands as the array takes them (FetchLat cycles after the issue), 32-bit words.
  logic [Rows*32-1:0] a_w;
  logic [Cols*32-1:0] b_w;
  logic               stash_miss;
  logic [31:0]        gap;
  assign gap = live_q - bver;

  if (Ema) begin : gen_ema
    // The EMA buffer, and Cols rebuild lanes narrow(master + gap*m) on the path to the
    // array: the lanes' operands are registered as they leave the SRAMs (rb_*_q), then
    // ema_unit takes two cycles; a and the other products' b wait those three cycles in
    // registers.
    logic [Cols*32-1:0] rb_w;
    logic [Cols-1:0]    unused_rb_v, unused_rb_sat, unused_st_v, unused_st_sat;
    logic [Cols*32-1:0] unused_st_m;
    logic [Rows*32-1:0] a2_q, a3_q, a4_q;
    logic [Cols*32-1:0] b2_q, b3_q, b4_q;
    logic [1:0]         op2_q, op3_q, op4_q;
    logic               rb_v_q;
    logic [Cols*32-1:0] rb_ms_q, rb_m_q;
    logic [15:0]        rb_gap_q;

    skew_mem #(.Kind(6), .N(Nw), .P(In), .Q(Out), .Slots(1)) u_m (
      .clk_i,
      .rd_valid_i (wf_rd && (up_rd ? pre_row < 32'(In) : beat_op == OpDx)),
      .rd_col_i (wf_col), .rd_slot_i (8'd0),
      .rd_p_i (wf_p), .rd_q_i (wf_q),
      .rd_data_o (m_rd), .rd_bank_o (m_bank),
      .wr_valid_i (wb_v && wb_ema), .wr_bank_i (!init_valid_i), .wr_slot_i (8'd0),
      .wr_p_i (wb_row), .wr_q_i (wb_col), .wr_n_i (wb_n), .wr_data_i (wb_m)
    );

    for (genvar c = 0; c < Cols; c++) begin : gen_rebuild
      ema_unit #(.RebuildEn(1'b1), .StepEn(1'b0)) u_rb (
        .clk_i, .rst_ni,
        .round_even_i  (num_i.round_even),
        .master_bits_i (num_i.master.bits), .master_frac_i (num_i.master.frac),
        .weight_bits_i (num_i.weight.bits), .weight_frac_i (num_i.weight.frac),
        .rb_valid_i  (rb_v_q),
        .rb_master_i (rb_ms_q[c*32 +: 32]),
        .rb_m_i      (rb_m_q[c*32 +: 32]),
        .rb_gap_i    (rb_gap_q),
        .rb_valid_o  (unused_rb_v[c]),
        .rb_w_o      (rb_w[c*32 +: 32]),
        .rb_sat_o    (unused_rb_sat[c]),
        .st_valid_i  (1'b0), .st_m_i (32'sd0), .st_u_i (32'sd0), .st_beta_i (16'd0),
        .st_valid_o  (unused_st_v[c]), .st_m_o (unused_st_m[c*32 +: 32]),
        .st_sat_o    (unused_st_sat[c])
      );
    end

    always_ff @(posedge clk_i) begin
      rb_v_q   <= o1_v && o1_op == OpDx;
      rb_ms_q  <= ms_rd[Cols*32-1:0];
      rb_m_q   <= m_rd[Cols*32-1:0];
      rb_gap_q <= 16'(gap);
      a2_q  <= a1;
      a3_q  <= a2_q;
      a4_q  <= a3_q;
      b2_q  <= b1;
      b3_q  <= b2_q;
      b4_q  <= b3_q;
      op2_q <= o1_op;
      op3_q <= op2_q;
      op4_q <= op3_q;
    end
    assign a_w = a4_q;
    assign b_w = (op4_q == OpDx) ? rb_w : b4_q;
    assign bhist = '0;
    assign hist_live = 1'b0;
    assign stash_miss = 1'b0;
    logic unused_ema;
    assign unused_ema = ^{unused_rb_v, unused_rb_sat, unused_st_v, unused_st_sat, unused_st_m};
    if (Nw > Cols) begin : gen_ms_hi   // a bank row's lanes past Cols (Cols not a power of 2)
      logic unused_ms_hi;
      assign unused_ms_hi = ^ms_rd[Nw*32-1:Cols*32];
    end
  end else begin : gen_no_ema
    assign m_rd = '0;
    assign m_bank = '0;
    assign a_w = a1;
    assign b_w = b1;
    logic unused_ema;
    assign unused_ema = ^{beta_i, gap, ms_rd};
  end

  if (Stash) begin : gen_stash
    logic [Nw*32-1:0] bhist_banks;
    logic [31:0] unused_live;
    logic        unused_sv;
    stash_ring #(.Depth(Delay), .P(In), .Q(Out), .N(Nw)) u_stash (
      .clk_i, .rst_ni,
      .push_valid_i (up1_v && up1_row < 32'(In)),
      .push_p_i     (up1_row),
      .push_q_i     (up1_col),
      .push_n_i     (up1_n),
      .push_data_i  (w_bank),
      .push_last_i  (up1_row + 32'd1 == 32'(In) && up1_col + 32'(Cols) >= 32'(Out)),
      .rd_valid_i   (beat_v && beat_op == OpDx),
      .rd_ver_i     (bver),
      .rd_p_i       (beat_j0),
      .rd_q_i       (beat_k),
      .rd_valid_o   (unused_sv),
      .rd_data_o    (bhist_banks),
      .rd_live_o    (hist_live),
      .rd_miss_o    (stash_miss),
      .live_o       (unused_live)
    );
    assign bhist = bhist_banks[Cols*32-1:0];
    logic unused_stash;
    assign unused_stash = ^{unused_live, unused_sv,
                            bhist_banks};
  end else if (!Ema) begin : gen_no_hist
    assign bhist = '0;
    assign hist_live = 1'b0;
    assign stash_miss = 1'b0;
  end

  for (genvar r = 0; r < Rows; r++) begin : gen_a
    assign a_op[r*OpW +: OpW] = OpW'(a_w[r*32 +: 32]);
  end
  for (genvar c = 0; c < Cols; c++) begin : gen_b
    assign b_op[c*OpW +: OpW] = OpW'(b_w[c*32 +: 32]);
  end

  // ---------------------------------------------------------------- the update lanes
  // Cycle s: the engine selects a Dw row (pre_*) and the memories read it; s + 1: its
  // gradient leaves the drain (dr_*) and waits a cycle (dq_*); s + 2: it meets the row's
  // words in Cols sgd_update lanes, in bank order; s + 9: written back.
  logic               dq_v;
  logic [31:0]        dq_row, dq_col;
  logic [Cols*32-1:0] dq_data;
  `LP_FF(dq_v, dr_v && dr_op == OpDw, 1'b0)
  `LP_FFE(dq_row, dr_row, dr_v, '0)
  `LP_FFE(dq_col, dr_col, dr_v, '0)
  always_ff @(posedge clk_i) begin
    if (dr_v) begin
      dq_data <= dr_data;
    end
  end
  assign up1_v    = dq_v;
  assign up1_row  = dq_row;
  assign up1_col  = dq_col;
  assign up1_n    = min32(32'(Cols), 32'(Out) - dq_col);
  assign up1_base = dq_row + dq_col;

  logic [Nw*32-1:0] g_bank;
  assign g_bank = to_banks(dq_data, up1_base);

  logic [Nw-1:0]    su_v;
  logic [Nw*32-1:0] su_w, su_ms, su_vel, su_m;
  for (genvar b = 0; b < Nw; b++) begin : gen_update
    logic [2:0] unused_cnt;
    logic       lane_on;
    assign lane_on = up1_v && (((32'(b) - up1_base) & 32'(Nw - 1)) < up1_n);
    sgd_update #(.HasEma(Ema)) u_sgd (
      .clk_i, .rst_ni,
      .valid_i   (lane_on),
      .grad_i    (g_bank[b*32 +: 32]),
      .vel_i     (vel_bank[b*32 +: 32]),
      .master_i  (ms_bank[b*32 +: 32]),
      .m_i       (m_bank[b*32 +: 32]),
      .lr_i      (blr),
      .wd_i      (num_i.wd),
      .mu_i      (num_i.mu),
      .beta_i,
      .ema_en_i  (Ema && up1_row < 32'(In)),
      .round_even_i  (num_i.round_even),
      .weight_bits_i (num_i.weight.bits), .weight_frac_i (num_i.weight.frac),
      .master_bits_i (num_i.master.bits), .master_frac_i (num_i.master.frac),
      .grad_bits_i   (num_i.grad.bits), .grad_frac_i (num_i.grad.frac),
      .valid_o   (su_v[b]),
      .master_o  (su_ms[b*32 +: 32]),
      .w_o       (su_w[b*32 +: 32]),
      .vel_o     (su_vel[b*32 +: 32]),
      .m_o       (su_m[b*32 +: 32]),
      .sat_cnt_o (unused_cnt)
    );
  end

  // The row's address travels beside the lanes: stage s holds the row entered s cycles ago.
  localparam int unsigned UpLat = 7;      // sgd_update's
  logic [UpLat-1:0]    uv_q;
  logic [UpLat*32-1:0] urow_q, ucol_q;
  `LP_FF(uv_q, {uv_q[UpLat-2:0], up1_v}, '0)
  `LP_FF(urow_q, {urow_q[(UpLat-1)*32-1:0], up1_row}, '0)
  `LP_FF(ucol_q, {ucol_q[(UpLat-1)*32-1:0], up1_col}, '0)
  logic        wbu_v;
  logic [31:0] wbu_row, wbu_col;
  assign wbu_v   = uv_q[UpLat-1];
  assign wbu_row = urow_q[(UpLat-1)*32 +: 32];
  assign wbu_col = ucol_q[(UpLat-1)*32 +: 32];

  always_comb begin
    if (init_valid_i) begin
      wb_v   = 1'b1;
      wb_row = init_row_i;
      wb_col = init_col_i;
      wb_w   = '0;
      wb_ms  = '0;
      wb_w[Cols*32-1:0]  = init_w_i;
      wb_ms[Cols*32-1:0] = init_master_i;
      wb_vel = '0;
      wb_m   = '0;
      wb_ema = init_row_i < 32'(In);
    end else begin
      wb_v   = wbu_v;
      wb_row = wbu_row;
      wb_col = wbu_col;
      wb_w   = su_w;
      wb_ms  = su_ms;
      wb_vel = su_vel;
      wb_m   = su_m;
      wb_ema = wbu_row < 32'(In);
    end
    wb_n = min32(32'(Cols), 32'(Out) - wb_col);
  end

  // ---------------------------------------------------------------- receivers
  // An error row: the mask's read of y, then the write of dy two cycles later (eq_*, then
  // e1_*, as skew_mem answers).
  logic               eq_v;
  logic [31:0]        eq_row, eq_col, eq_mb;
  logic [Cols*32-1:0] eq_data;
  `LP_FF(eq_v, ein_valid_i, 1'b0)
  `LP_FFE(eq_row, ein_row_i, ein_valid_i, '0)
  `LP_FFE(eq_col, ein_col_i, ein_valid_i, '0)
  `LP_FFE(eq_mb, ein_mb_i, ein_valid_i, '0)
  `LP_FF(e1_v, eq_v, 1'b0)
  `LP_FFE(e1_row, eq_row, eq_v, '0)
  `LP_FFE(e1_col, eq_col, eq_v, '0)
  `LP_FFE(e1_mb, eq_mb, eq_v, '0)
  always_ff @(posedge clk_i) begin
    if (ein_valid_i) begin
      eq_data <= ein_data_i;
    end
    if (eq_v) begin
      e1_data <= eq_data;
    end
  end

  if (HasRelu) begin : gen_y
    logic [Nw*32-1:0] unused_yb;
    skew_mem #(.Kind(1), .N(Nw), .P(Batch), .Q(Out), .Slots(YSlots), .Skew(1'b0)) u_y (
      .clk_i,
      .rd_valid_i (ein_valid_i), .rd_col_i (1'b0), .rd_slot_i (ry_q),
      .rd_p_i (ein_row_i), .rd_q_i (ein_col_i),
      .rd_data_o (y_rd), .rd_bank_o (unused_yb),
      .wr_valid_i (dr_v && dr_op == OpFwd), .wr_bank_i (1'b0), .wr_slot_i (fy_q),
      .wr_p_i (dr_row), .wr_q_i (dr_col),
      .wr_n_i (min32(32'(Cols), 32'(Out) - dr_col)),
      .wr_data_i (dr_wide)
    );
    logic unused_y;
    assign unused_y = ^unused_yb;
  end else begin : gen_no_y
    assign y_rd = '0;
  end

  always_comb begin
    for (int unsigned c = 0; c < Cols; c++) begin
      e1_masked[c*32 +: 32] = (HasRelu && $signed(y_rd[c*32 +: 32]) <= 0) ? 32'd0
                                                                           : e1_data[c*32 +: 32];
    end
  end

  // ---------------------------------------------------------------- the sequencer
  typedef enum logic [1:0] {SIdle, SFwd, SBwd} state_e;
  state_e st_d, st_q;
  assign eng_start = cmd_i;
  logic up_busy;
  assign up_busy = (dr_v && dr_op == OpDw) || up1_v || (|uv_q);

  always_comb begin
    st_d      = st_q;
    live_d    = live_q;
    fwd_ran_d = fwd_ran_q;
    bwd_ran_d = bwd_ran_q;
    xrcv_d    = xrcv_q || xin_valid_i;
    ercv_d    = ercv_q || ein_valid_i;
    fx_d      = fx_q;
    fy_d      = fy_q;
    ix_d      = ix_q;
    ry_d      = ry_q;
    rpar_d    = rpar_q;
    bpar_d    = bpar_q;
    fmb_d     = fmb_q;
    flr_d     = flr_q;
    fver_d    = fver_q;
    error_d   = error_q || stash_miss;
    if (step_i) begin
      fwd_ran_d = 1'b0;
      bwd_ran_d = 1'b0;
      xrcv_d    = 1'b0;
      ercv_d    = 1'b0;
      if (fwd_ran_q) begin
        fx_d = next_slot(fx_q, XSlots);
        fy_d = next_slot(fy_q, YSlots);
      end
      if (xrcv_q) ix_d = next_slot(ix_q, XSlots);
      if (ercv_q) begin
        ry_d   = next_slot(ry_q, YSlots);
        rpar_d = !rpar_q;
      end
      if (bwd_ran_q) bpar_d = !bpar_q;
    end
    case (st_q)
      SIdle: begin
        if (cmd_i && cmd_fwd_i) begin
          st_d      = SFwd;
          fwd_ran_d = 1'b1;
          fmb_d     = cmd_mb_i;
          flr_d     = cmd_lr_i;
          fver_d    = live_q;
        end else if (cmd_i) begin
          st_d      = SBwd;
          bwd_ran_d = 1'b1;
        end
      end
      SFwd: if (!eng_busy) st_d = SIdle;
      SBwd: begin
        if (!eng_busy && !up_busy) begin
          st_d   = SIdle;
          live_d = live_q + 32'd1;
        end
      end
      default: st_d = SIdle;
    endcase
  end

  `LP_FF(st_q, st_d, SIdle)
  `LP_FF(live_q, live_d, '0)
  `LP_FF(fwd_ran_q, fwd_ran_d, 1'b0)
  `LP_FF(bwd_ran_q, bwd_ran_d, 1'b0)
  `LP_FF(xrcv_q, xrcv_d, 1'b0)
  `LP_FF(ercv_q, ercv_d, 1'b0)
  `LP_FF(fx_q, fx_d, '0)
  `LP_FF(fy_q, fy_d, '0)
  `LP_FF(ix_q, ix_d, '0)
  `LP_FF(ry_q, ry_d, '0)
  `LP_FF(rpar_q, rpar_d, 1'b0)
  `LP_FF(bpar_q, bpar_d, 1'b0)
  `LP_FF(fmb_q, fmb_d, '0)
  `LP_FF(flr_q, flr_d, '0)
  `LP_FF(fver_q, fver_d, '0)
  `LP_FF(error_q, error_d, 1'b0)
  assign error_o = error_q;
  assign busy_o = (st_q != SIdle);

  // ---------------------------------------------------------------- outputs
  assign fo_valid_o = dr_v && dr_op == OpFwd;
  assign fo_row_o   = dr_row;
  assign fo_col_o   = dr_col;
  assign fo_data_o  = dr_data;
  assign bo_valid_o = dr_v && dr_op == OpDx;
  assign bo_row_o   = dr_row;
  assign bo_col_o   = dr_col;
  assign bo_data_o  = dr_data;

  // Observation. The backward's weights: Dx's operands of the first row block, when it
  // reads a history (the live weights of stale layers are checked from the writes).
  always_comb begin
    obs_o        = '0;
    obs_o.kind   = lp_pkg::KindAct;
    obs_o.mb     = fmb_q;
    obs_o.stride = 32'd1;
    obs_data_o   = dr_data;
    if (dr_v && dr_op == OpFwd) begin
      obs_o.valid = 1'b1;
      obs_o.idx   = dr_row * 32'(Out) + dr_col;
      obs_o.n     = min32(32'(Cols), 32'(Out) - dr_col);
    end else if (dr_v && dr_op == OpDw) begin
      obs_o.valid = 1'b1;
      obs_o.kind  = lp_pkg::KindGrad;
      obs_o.mb    = bmb;
      obs_o.idx   = dr_row * 32'(Out) + dr_col;
      obs_o.n     = min32(32'(Cols), 32'(Out) - dr_col);
    end else if (Hist && arr_v && arr_op == OpDx && arr_i0 == 32'd0) begin
      obs_o.valid  = 1'b1;
      obs_o.kind   = lp_pkg::KindBwdW;
      obs_o.mb     = bmb;
      obs_o.idx    = arr_j0 * 32'(Out) + arr_k;
      obs_o.stride = 32'(Out);
      obs_o.n      = min32(32'(Cols), 32'(In) - arr_j0);
      obs_data_o   = b_w;
    end
  end

  // Yosys 0.23 takes no assignment pattern ('{...}): field by field.
  always_comb begin
    obse_o        = '0;
    obse_o.valid  = e1_v;
    obse_o.kind   = lp_pkg::KindErr;
    obse_o.mb     = e1_mb;
    obse_o.idx    = e1_row * 32'(Out) + e1_col;
    obse_o.stride = 32'd1;
    obse_o.n      = min32(32'(Cols), 32'(Out) - e1_col);
    obsw_o        = '0;
    obsw_o.valid  = wbu_v && !init_valid_i;
    obsw_o.kind   = lp_pkg::KindWUpd;
    obsw_o.mb     = bmb;
    obsw_o.idx    = wbu_row * 32'(Out) + wbu_col;
    obsw_o.stride = 32'd1;
    obsw_o.n      = min32(32'(Cols), 32'(Out) - wbu_col);
  end
  assign obse_data_o   = e1_masked;
  assign obsw_w_o      = to_lanes(su_w, wbu_row + wbu_col);
  assign obsw_master_o = to_lanes(su_ms, wbu_row + wbu_col);

  logic unused;
  assign unused = ^{bv, beat_i0, arr_k, unused_xb, unused_dyb, unused_vel_rd, su_v, pre_col,
                    w_bank, m_rd, wb_m, wb_ema, o1_v, dr_wide, gap,
                    bslot[31:8], o1_i0};

`ifndef SYNTHESIS
  // ---------------------------------------------------------------- assertions
  // What docs/rtl.md states of this module, checked in every simulation (Verilator
  // --assert; docs/rtl.md, Assertions). Yosys defines SYNTHESIS and reads none of it.
  // Reset disables them: a sampled use of the asynchronous reset, which is no finding.
  /* verilator lint_off SYNCASYNCNET */
  // A command reaches an idle layer; a backward has its forward's tag.
  a_cmd_idle: assert property (@(posedge clk_i) disable iff (!rst_ni)
      cmd_i |-> st_q == SIdle)
    else $error("lp_layer: a command while busy");
  a_bwd_tag: assert property (@(posedge clk_i) disable iff (!rst_ni)
      cmd_i && !cmd_fwd_i |-> bv)
    else $error("lp_layer: a backward with no forward's tag at the delay line's end");
  // The update's read of the W family never meets a beat that reads it ("A layer's work").
  a_w_read_port: assert property (@(posedge clk_i) disable iff (!rst_ni)
      up_rd |-> !(beat_v && beat_op != OpDw))
    else $error("lp_layer: the update's read and a beat's read of W in one cycle");
  // The EMA rebuild's gap is the updates since the forward: at most the delay.
  a_ema_gap: assert property (@(posedge clk_i) disable iff (!rst_ni)
      Ema && o1_v && o1_op == OpDx |-> gap <= 32'(Delay))
    else $error("lp_layer: EMA gap %0d past the delay %0d", gap, Delay);
  // The stash ring holds the version every backward reads (error_o stays low).
  a_stash_hit: assert property (@(posedge clk_i) disable iff (!rst_ni) !stash_miss)
    else $error("lp_layer: the stash ring has no version %0d", bver);
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
