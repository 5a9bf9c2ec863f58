`include "lp_ff.svh"

// lp_top: a dense network trained on NStages pipeline stages (lp_stage), each stage writing
// straight into its neighbours' memories, with the host's stream interface (docs/rtl.md).
// Every stream moves a row segment of Cols words a cycle:
//
//   in_*      before a step, the host writes the minibatch entering stage 1 into the first
//             layer's input slot (Batch x Dims[0]: row b, columns col .. col + Cols - 1)
//   start_i   begins a step; start_fwd_i says a new minibatch (start_mb_i, start_lr_i: its
//             number and learning rate per sample) was written
//   out_*     the last layer's outputs (the logits), a row segment a cycle as computed
//   loss_*    the host writes the loss gradient (Batch x classes) into the last layer's dy
//             and raises loss_ready_i once the last stage waits for it (loss_wait_o)
//   done_o    one cycle when the step has finished; idle_o while no step runs
//
// A pipelined step (Sequential = 0): every stage runs at once (forward of its new
// minibatch, then backward of its old one), waiting for nothing but, at the last stage,
// the loss gradient. A stage's forward output goes into the next stage's spare input slot
// and its input gradient into the stage before's second error buffer, both read a step
// later: these are the registers between stages. Fill and drain follow from which stages
// sent something in the step before. The weight-history policy is Policy (0 stale, 1
// stash, 2 ema); layer l's delay is 2*(NStages - StageOf[l]).
// A sequential step (Sequential = 1, the unpipelined baseline on the same hardware): one
// minibatch through stages 1..NStages forward and back again, one stage at a time; every
// delay is 0.
//
// Cycle counters per stage (cnt_*_o, 64 bits, since reset, only while a step runs):
//   busy     one of its layers computes, or a command is being issued
//   stalled  it waits for the loss gradient
//   idle     anything else in a step: done, or nothing to do
//
// Parameters describe the network, as lp_stage's: Dims[l*32 +: 32] layer l's input width
// (Dims[NLayers*32 +: 32] the classes), StageOf[l*32 +: 32] its stage (1..NStages, in
// order), Relus / Biases one 32-bit flag per layer.
module lp_top #(
  parameter int unsigned NLayers    /*verilator public*/ = 4,
  parameter int unsigned NStages    /*verilator public*/ = 4,
  parameter int unsigned Batch      /*verilator public*/ = 4,
  parameter int unsigned Rows       /*verilator public*/ = 4,
  parameter int unsigned Cols       /*verilator public*/ = 4,
  parameter int unsigned MulStages  /*verilator public*/ = 2,   // the MAC latency is this + 1
  parameter int unsigned OpW        /*verilator public*/ = 32,  // MAC operand bits
  parameter int unsigned AccW       /*verilator public*/ = 64,  // MAC accumulator bits
  parameter int unsigned Policy     /*verilator public*/ = 2,
  parameter int unsigned Sequential /*verilator public*/ = 0,
  parameter logic [(NLayers+1)*32-1:0] Dims    = {32'd4, 32'd5, 32'd6, 32'd6, 32'd8},
  parameter logic [NLayers*32-1:0]     StageOf = {32'd4, 32'd3, 32'd2, 32'd1},
  parameter logic [NLayers*32-1:0]     Relus   = {32'd0, 32'd1, 32'd1, 32'd1},
  parameter logic [NLayers*32-1:0]     Biases  = {32'd1, 32'd1, 32'd1, 32'd1},
  localparam int unsigned InW  = Dims[0 +: 32],
  localparam int unsigned OutW = Dims[NLayers*32 +: 32]
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  lp_pkg::numerics_t      num_i,
  input  logic [NLayers*16-1:0]  beta_i,

  input  logic                   init_valid_i,
  input  logic [31:0]            init_layer_i,
  input  logic [31:0]            init_row_i,
  input  logic [31:0]            init_col_i,
  input  logic [Cols*32-1:0]     init_w_i,
  input  logic [Cols*32-1:0]     init_master_i,

  input  logic                   in_valid_i,
  input  logic [31:0]            in_row_i,
  input  logic [31:0]            in_col_i,
  input  logic [Cols*32-1:0]     in_data_i,
  input  logic                   start_i,
  input  logic                   start_fwd_i,
  input  logic [31:0]            start_mb_i,
  input  logic [63:0]            start_lr_i,

  output logic                   out_valid_o,
  output logic [31:0]            out_row_o,
  output logic [31:0]            out_col_o,
  output logic [Cols*32-1:0]     out_data_o,
  output logic                   loss_wait_o,
  input  logic                   loss_valid_i,
  input  logic [31:0]            loss_row_i,
  input  logic [31:0]            loss_col_i,
  input  logic [Cols*32-1:0]     loss_data_i,
  input  logic                   loss_ready_i,
  output logic                   done_o,
  output logic                   idle_o,

  // The observation ports: layer l's (lp_pkg::obs_t, and its lanes) at field l.
  output logic [NLayers*lp_pkg::ObsW-1:0] obs_o,
  output logic [NLayers*Cols*32-1:0]      obs_data_o,
  output logic [NLayers*lp_pkg::ObsW-1:0] obse_o,
  output logic [NLayers*Cols*32-1:0]      obse_data_o,
  output logic [NLayers*lp_pkg::ObsW-1:0] obsw_o,
  output logic [NLayers*Cols*32-1:0]      obsw_w_o,
  output logic [NLayers*Cols*32-1:0]      obsw_master_o,
  output logic                   error_o,

  output logic [NStages*64-1:0]  cnt_busy_o,
  output logic [NStages*64-1:0]  cnt_stall_o,
  output logic [NStages*64-1:0]  cnt_idle_o,

  // What the design holds, in 32-bit words.
  output logic [31:0]            act_words_o,
  output logic [31:0]            stash_words_o,
  output logic [31:0]            ema_words_o,
  output logic [31:0]            fwd_reg_words_o,
  output logic [31:0]            bwd_reg_words_o,
  output logic [31:0]            in_words_o,      // a minibatch's input: Batch x Dims[0]
  output logic [31:0]            out_words_o      // its loss gradient: Batch x classes
);
  `include "lp_partition.svh"

  localparam int unsigned M = NStages;

  // Parameter checks (elaboration time): stages 1..M, in order, none empty.
  for (genvar k = 1; k <= M; k++) begin : gen_check_stage
    if (count_of(k) == 0) begin : gen_empty
      $error("lp_top: stage %0d holds no layer", k);
    end
  end
`ifndef SYNTHESIS
  // The bundles' widths, which lp_pkg states by hand for Yosys (and the harness mirrors).
  if ($bits(lp_pkg::obs_t) != lp_pkg::ObsW ||
      $bits(lp_pkg::numerics_t) != lp_pkg::NumericsW ||
      $bits(lp_pkg::mem_words_t) != lp_pkg::MemWordsW) begin : gen_check_pkg
    $error("lp_top: lp_pkg's ObsW, NumericsW or MemWordsW is not its struct's width");
  end
`endif
  for (genvar l = 1; l < NLayers; l++) begin : gen_check_order
    if (StageOf[l*32 +: 32] < StageOf[(l-1)*32 +: 32] ||
        StageOf[l*32 +: 32] > StageOf[(l-1)*32 +: 32] + 1) begin : gen_order
      $error("lp_top: layer %0d's stage does not follow its predecessor's", l);
    end
  end

  assign in_words_o  = 32'(Batch * InW);
  assign out_words_o = 32'(Batch * OutW);

  // ---- the step sequencer
  typedef enum logic [1:0] {TIdle, TRun, TRunWait, TStep} tstate_e;
  tstate_e     ts_d, ts_q;
  logic [31:0] k_d, k_q;           // sequential: the stage in turn (1..M)
  logic        back_d, back_q;     // sequential: on the way back
  logic        sfwd_d, sfwd_q;     // this step takes a new minibatch in
  logic [31:0] smb_d, smb_q;
  logic [63:0] slr_d, slr_q;

  // What each stage does this step (pipelined): stage k forwards what stage k-1 sent in
  // the step before (stage 1: the host's minibatch), backwards what stage k+1 sent back
  // (the last stage: what it forwards).
  logic [M-1:0]    fv_d, fv_q, bv_d, bv_q;  // sent in the step before, to stage k (index k-1)
  logic [M*32-1:0] fmb_d, fmb_q;
  logic [M*64-1:0] flr_d, flr_q;

  logic [M-1:0]    s_idle, s_work, s_wait_loss, s_run, s_run_f, s_run_b, s_wl, s_err;
  logic [M*32-1:0] s_mb;
  logic [M*64-1:0] s_lr;
  logic [M*lp_pkg::MemWordsW-1:0] s_words;

  // The row streams between stages: stage k's forward rows and backward rows (index k-1).
  logic [M-1:0]         fo_v, bo_v;
  logic [M*32-1:0]      fo_row, fo_col, bo_row, bo_col, bo_mb;
  logic [M*Cols*32-1:0] fo_data, bo_data;

  // ---- the stages
  for (genvar k = 1; k <= M; k++) begin : gen_stage
    localparam int unsigned F = first_of(k);
    localparam int unsigned N = count_of(k);
    logic               x_v, e_v;
    logic [31:0]        x_row, x_col, e_row, e_col, e_mb;
    logic [Cols*32-1:0] x_data, e_data;

    if (k == 1) begin : gen_x_host
      assign x_v = in_valid_i;
      assign x_row = in_row_i;
      assign x_col = in_col_i;
      assign x_data = in_data_i;
    end else begin : gen_x_prev
      assign x_v = fo_v[k-2];
      assign x_row = fo_row[(k-2)*32 +: 32];
      assign x_col = fo_col[(k-2)*32 +: 32];
      assign x_data = fo_data[(k-2)*Cols*32 +: Cols*32];
    end
    if (k == M) begin : gen_e_host
      assign e_v = loss_valid_i;
      assign e_row = loss_row_i;
      assign e_col = loss_col_i;
      assign e_data = loss_data_i;
      assign e_mb = s_mb[(M-1)*32 +: 32];
    end else begin : gen_e_next
      assign e_v = bo_v[k];
      assign e_row = bo_row[k*32 +: 32];
      assign e_col = bo_col[k*32 +: 32];
      assign e_data = bo_data[k*Cols*32 +: Cols*32];
      assign e_mb = bo_mb[k*32 +: 32];
    end

    lp_stage #(
      .NLayers (NLayers), .L0 (F), .NL (N), .Dims (Dims), .Relus (Relus), .Biases (Biases),
      .Batch (Batch), .Delay (Sequential != 0 ? 0 : 2 * (M - k)), .Policy (Policy),
      .FirstStage (k == 1 ? 1 : 0), .LastStage (k == M ? 1 : 0),
      .Rows (Rows), .Cols (Cols), .MulStages (MulStages), .OpW (OpW), .AccW (AccW)
    ) u_stage (
      .clk_i, .rst_ni, .num_i,
      .beta_i        (beta_i[F*16 +: N*16]),
      .init_valid_i, .init_layer_i, .init_row_i, .init_col_i, .init_w_i, .init_master_i,
      .run_i         (s_run[k-1]),
      .run_fwd_i     (s_run_f[k-1]),
      .run_bwd_i     (s_run_b[k-1]),
      .wait_loss_i   (s_wl[k-1]),
      .run_mb_i      (s_mb[(k-1)*32 +: 32]),
      .run_lr_i      (s_lr[(k-1)*64 +: 64]),
      .loss_ready_i,
      .step_i        (ts_q == TStep),
      .idle_o        (s_idle[k-1]),
      .work_o        (s_work[k-1]),
      .wait_loss_o   (s_wait_loss[k-1]),
      .xin_valid_i   (x_v), .xin_row_i (x_row), .xin_col_i (x_col), .xin_data_i (x_data),
      .ein_valid_i   (e_v), .ein_row_i (e_row), .ein_col_i (e_col), .ein_data_i (e_data),
      .ein_mb_i      (e_mb),
      .fo_valid_o    (fo_v[k-1]),
      .fo_row_o      (fo_row[(k-1)*32 +: 32]),
      .fo_col_o      (fo_col[(k-1)*32 +: 32]),
      .fo_data_o     (fo_data[(k-1)*Cols*32 +: Cols*32]),
      .bo_valid_o    (bo_v[k-1]),
      .bo_row_o      (bo_row[(k-1)*32 +: 32]),
      .bo_col_o      (bo_col[(k-1)*32 +: 32]),
      .bo_data_o     (bo_data[(k-1)*Cols*32 +: Cols*32]),
      .bo_mb_o       (bo_mb[(k-1)*32 +: 32]),
      .obs_o         (obs_o[F*lp_pkg::ObsW +: N*lp_pkg::ObsW]),
      .obs_data_o    (obs_data_o[F*Cols*32 +: N*Cols*32]),
      .obse_o        (obse_o[F*lp_pkg::ObsW +: N*lp_pkg::ObsW]),
      .obse_data_o   (obse_data_o[F*Cols*32 +: N*Cols*32]),
      .obsw_o        (obsw_o[F*lp_pkg::ObsW +: N*lp_pkg::ObsW]),
      .obsw_w_o      (obsw_w_o[F*Cols*32 +: N*Cols*32]),
      .obsw_master_o (obsw_master_o[F*Cols*32 +: N*Cols*32]),
      .error_o       (s_err[k-1]),
      .words_o       (s_words[(k-1)*lp_pkg::MemWordsW +: lp_pkg::MemWordsW])
    );
  end

  // The first stage's backward rows have nowhere to go (the network input needs no
  // error); the last stage's forward rows are the host's.
  logic unused_out;
  assign unused_out = ^{bo_v[0], bo_row[0 +: 32], bo_col[0 +: 32], bo_data[0 +: Cols*32],
                        bo_mb[0 +: 32]};
  assign out_valid_o = fo_v[M-1];
  assign out_row_o   = fo_row[(M-1)*32 +: 32];
  assign out_col_o   = fo_col[(M-1)*32 +: 32];
  assign out_data_o  = fo_data[(M-1)*Cols*32 +: Cols*32];
  assign loss_wait_o = s_wait_loss[M-1];
  assign error_o     = |s_err;

  // What the pipeline holds: the stages' words, field by field.
  logic [lp_pkg::MemWordsW-1:0] sum;
  lp_pkg::mem_words_t           words;
  always_comb begin
    sum = '0;
    for (int unsigned k = 0; k < M; k++) begin
      for (int unsigned f = 0; f < lp_pkg::MemWordsW; f += 32) begin
        sum[f +: 32] = sum[f +: 32] + s_words[k*lp_pkg::MemWordsW + f +: 32];
      end
    end
  end
  assign words           = sum;
  assign act_words_o     = words.act;
  assign fwd_reg_words_o = words.fwd_reg;
  assign bwd_reg_words_o = words.bwd_reg;
  assign stash_words_o   = words.stash;
  assign ema_words_o     = words.ema;

  // Commands to the stages. Pipelined: all stages at once. Sequential: stage k_q alone,
  // forward on the way out, backward on the way back.
  always_comb begin
    for (int unsigned k = 0; k < M; k++) begin
      logic me;
      me = (Sequential == 0) || (k_q == 32'(k + 1));
      s_run[k] = (ts_q == TRun) && me;
      if (Sequential == 0) begin
        s_run_f[k] = (k == 0) ? sfwd_q : fv_q[k];
        s_run_b[k] = (k + 1 == M) ? s_run_f[k] : bv_q[k];
        s_mb[k*32 +: 32] = (k == 0) ? smb_q : fmb_q[k*32 +: 32];
        s_lr[k*64 +: 64] = (k == 0) ? slr_q : flr_q[k*64 +: 64];
      end else begin
        s_run_f[k] = !back_q;
        s_run_b[k] = back_q || (k + 1 == M);
        s_mb[k*32 +: 32] = smb_q;
        s_lr[k*64 +: 64] = slr_q;
      end
      s_wl[k] = (k + 1 == M) && s_run_f[k];
    end
  end

  always_comb begin
    ts_d   = ts_q;
    k_d    = k_q;
    back_d = back_q;
    sfwd_d = sfwd_q;
    smb_d  = smb_q;
    slr_d  = slr_q;
    fv_d   = fv_q;
    bv_d   = bv_q;
    fmb_d  = fmb_q;
    flr_d  = flr_q;
    case (ts_q)
      TIdle: begin
        if (start_i) begin
          k_d    = 32'd1;
          back_d = 1'b0;
          sfwd_d = start_fwd_i;
          smb_d  = start_mb_i;
          slr_d  = start_lr_i;
          ts_d   = (Sequential != 0 && !start_fwd_i) ? TStep : TRun;
        end
      end
      TRun: ts_d = TRunWait;
      TRunWait: begin
        if (&s_idle) begin
          if (Sequential == 0) begin
            ts_d = TStep;
          end else if (!back_q && k_q != 32'(M)) begin
            k_d  = k_q + 32'd1;
            ts_d = TRun;
          end else if (k_q != 32'd1) begin
            back_d = 1'b1;
            k_d    = k_q - 32'd1;
            ts_d   = TRun;
          end else begin
            ts_d = TStep;
          end
        end
      end
      TStep: begin
        ts_d = TIdle;
        // What each stage sent this step is what its neighbour takes in the next.
        for (int unsigned k = 1; k < M; k++) begin
          fv_d[k]           = (Sequential == 0) && s_run_f[k-1];
          fmb_d[k*32 +: 32] = s_mb[(k-1)*32 +: 32];
          flr_d[k*64 +: 64] = s_lr[(k-1)*64 +: 64];
          bv_d[k-1]         = (Sequential == 0) && s_run_b[k];
        end
      end
      default: ts_d = TIdle;
    endcase
  end

  `LP_FF(ts_q, ts_d, TIdle)
  `LP_FF(k_q, k_d, 32'd1)
  `LP_FF(back_q, back_d, 1'b0)
  `LP_FF(sfwd_q, sfwd_d, 1'b0)
  `LP_FF(smb_q, smb_d, '0)
  `LP_FF(slr_q, slr_d, '0)
  `LP_FF(fv_q, fv_d, '0)
  `LP_FF(bv_q, bv_d, '0)
  `LP_FF(fmb_q, fmb_d, '0)
  `LP_FF(flr_q, flr_d, '0)
  assign done_o = (ts_q == TStep);
  assign idle_o = (ts_q == TIdle);

  logic unused_fv;
  assign unused_fv = ^{fv_q[0], bv_q[M-1], fmb_q[0 +: 32], flr_q[0 +: 64]};

  // ---- cycle counters
  logic [M*64-1:0] busy_d, busy_q, stall_d, stall_q, idle_d, idle_q;
  always_comb begin
    busy_d  = busy_q;
    stall_d = stall_q;
    idle_d  = idle_q;
    if (ts_q != TIdle) begin
      for (int unsigned k = 0; k < M; k++) begin
        if (s_work[k]) begin
          busy_d[k*64 +: 64] = busy_q[k*64 +: 64] + 64'd1;
        end else if (s_wait_loss[k]) begin
          stall_d[k*64 +: 64] = stall_q[k*64 +: 64] + 64'd1;
        end else begin
          idle_d[k*64 +: 64] = idle_q[k*64 +: 64] + 64'd1;
        end
      end
    end
  end
  `LP_FF(busy_q, busy_d, '0)
  `LP_FF(stall_q, stall_d, '0)
  `LP_FF(idle_q, idle_d, '0)
  assign cnt_busy_o  = busy_q;
  assign cnt_stall_o = stall_q;
  assign cnt_idle_o  = idle_q;

`ifndef SYNTHESIS
  // ---------------------------------------------------------------- assertions
  // What docs/rtl.md states of this module, checked in every simulation (Verilator
  // --assert; docs/rtl.md, Assertions). Yosys defines SYNTHESIS and reads none of it.
  // Reset disables them: a sampled use of the asynchronous reset, which is no finding.
  /* verilator lint_off SYNCASYNCNET */
  // The host's protocol: input rows and start while idle, the loss gradient while the last
  // stage waits for it.
  a_host_idle: assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_valid_i || start_i |-> ts_q == TIdle)
    else $error("lp_top: input or start while a step runs");
  a_host_loss: assert property (@(posedge clk_i) disable iff (!rst_ni)
      loss_valid_i || loss_ready_i |-> loss_wait_o)
    else $error("lp_top: loss gradient while no stage waits for it");
  // Sequential: one stage at a time.
  a_one_stage: assert property (@(posedge clk_i) disable iff (!rst_ni)
      Sequential != 0 |-> $onehot0(s_work))
    else $error("lp_top: stages %b work at once in a sequential step", s_work);
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
