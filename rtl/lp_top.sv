// lp_top: a dense network trained on NStages pipeline stages (lp_stage) joined by forward
// and backward registers (lp_xreg), with the host's stream interface (docs/rtl.md):
//
//   in_*      the host writes the next minibatch into the input buffer (Batch x Dims[0])
//   start_i   begins a step; start_fwd_i says a new minibatch (start_mb_i, start_lr_i: its
//             number and learning rate per sample) is in the input buffer
//   out_*     the last layer's outputs (the logits), one word a cycle as computed
//   loss_*    the host writes the loss gradient (Batch x classes) and raises loss_ready_i
//             once the last stage waits for it (loss_wait_o)
//   done_o    one cycle when the step has finished; idle_o while no step runs
//
// A pipelined step (Sequential = 0): every stage loads its registers (forward input, and
// the backward input except at the last stage), all at once; when every stage has loaded,
// every stage runs (forward of its new minibatch, then backward of its old one) with no
// further waiting except the last stage's for the loss gradient. Fill and drain follow
// from the registers' valid bits. The weight-history policy is Policy (0 stale, 1 stash,
// 2 ema); layer l's delay is 2*(NStages - StageOf[l]).
// A sequential step (Sequential = 1, the unpipelined baseline on the same hardware): one
// minibatch through stages 1..NStages forward and back again, one stage at a time; every
// delay is 0.
//
// Cycle counters per stage (cnt_*_o, 64 bits, since reset, only while a step runs):
//   busy     the stage copies a register or one of its layers computes
//   stalled  it waits for the loss gradient, or (pipelined) it has loaded and waits for
//            the other stages to finish loading
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

  input  logic                   round_even_i,
  input  logic [5:0]             act_bits_i,
  input  logic [4:0]             act_frac_i,
  input  logic [5:0]             err_bits_i,
  input  logic [4:0]             err_frac_i,
  input  logic [5:0]             weight_bits_i,
  input  logic [4:0]             weight_frac_i,
  input  logic [5:0]             master_bits_i,
  input  logic [4:0]             master_frac_i,
  input  logic [5:0]             grad_bits_i,
  input  logic [4:0]             grad_frac_i,
  input  logic [63:0]            wd_i,
  input  logic [15:0]            mu_i,
  input  logic [NLayers*16-1:0]  beta_i,

  input  logic                   init_valid_i,
  input  logic [31:0]            init_layer_i,
  input  logic [31:0]            init_idx_i,
  input  logic [31:0]            init_w_i,
  input  logic [31:0]            init_master_i,

  input  logic                   in_valid_i,
  input  logic [31:0]            in_idx_i,
  input  logic [31:0]            in_data_i,
  input  logic                   start_i,
  input  logic                   start_fwd_i,
  input  logic [31:0]            start_mb_i,
  input  logic [63:0]            start_lr_i,

  output logic                   out_valid_o,
  output logic [31:0]            out_idx_o,
  output logic [31:0]            out_data_o,
  output logic                   loss_wait_o,
  input  logic                   loss_valid_i,
  input  logic [31:0]            loss_idx_i,
  input  logic [31:0]            loss_data_i,
  input  logic                   loss_ready_i,
  output logic                   done_o,
  output logic                   idle_o,

  output logic [NLayers-1:0]     obs_valid_o,
  output logic [NLayers*4-1:0]   obs_kind_o,
  output logic [NLayers*32-1:0]  obs_mb_o,
  output logic [NLayers*32-1:0]  obs_idx_o,
  output logic [NLayers*32-1:0]  obs_data_o,
  output logic [NLayers-1:0]     obsw_valid_o,
  output logic [NLayers*32-1:0]  obsw_idx_o,
  output logic [NLayers*32-1:0]  obsw_w_o,
  output logic [NLayers*32-1:0]  obsw_master_o,
  output logic                   error_o,

  output logic [NStages*64-1:0]  cnt_busy_o,
  output logic [NStages*64-1:0]  cnt_stall_o,
  output logic [NStages*64-1:0]  cnt_idle_o,

  // What the design instantiated, in 32-bit words.
  output logic [31:0]            act_words_o,
  output logic [31:0]            stash_words_o,
  output logic [31:0]            ema_words_o,
  output logic [31:0]            fwd_reg_words_o,
  output logic [31:0]            bwd_reg_words_o,
  output logic [31:0]            in_words_o,      // the input buffer: Batch x Dims[0]
  output logic [31:0]            out_words_o      // the loss buffer: Batch x classes
);
  `include "lp_partition.svh"

  localparam int unsigned M = NStages;

  // Parameter checks (elaboration time): stages 1..M, in order, none empty.
  for (genvar k = 1; k <= M; k++) begin : gen_check_stage
    if (count_of(k) == 0) begin : gen_empty
      $error("lp_top: stage %0d holds no layer", k);
    end
  end
  for (genvar l = 1; l < NLayers; l++) begin : gen_check_order
    if (StageOf[l*32 +: 32] < StageOf[(l-1)*32 +: 32] ||
        StageOf[l*32 +: 32] > StageOf[(l-1)*32 +: 32] + 1) begin : gen_order
      $error("lp_top: layer %0d's stage does not follow its predecessor's", l);
    end
  end

  // ---- the step sequencer
  typedef enum logic [2:0] {TIdle, TLoad, TLoadWait, TRun, TRunWait, TStep} tstate_e;
  tstate_e     ts_q;
  logic [31:0] k_q;           // sequential: the stage in turn (1..M)
  logic        back_q;        // sequential: on the way back

  logic [M-1:0] s_idle, s_work, s_wait_loss, s_load, s_run;
  logic [M-1:0] s_load_f, s_load_b, s_run_f, s_run_b, s_wl;
  logic [M-1:0] fvalid, bvalid;   // stage k-1's inputs hold a minibatch
  logic [M-1:0] s_err;

  // Registers: fwd[k] and bwd[k] sit between stages k and k+1 (k = 1 .. M-1, index k-1).
  logic [M*32-1:0] fin_idx, fin_data, fin_mb, bin_idx, bin_data;
  logic [M*64-1:0] fin_lr;
  logic [M-1:0]    fo_v, bo_v;
  logic [M*32-1:0] fo_idx, fo_data, fo_mb, bo_idx, bo_data, bo_mb;
  logic [M*64-1:0] fo_lr;
  logic [M*32-1:0] s_act, s_stash, s_ema;
  logic [M*32-1:0] xf_words, xb_words;    // entry k-1: the registers after stage k
  logic            in_valid_q;            // the input buffer's valid bit
  logic [31:0]     in_mb, unused_loss_mb;
  logic [63:0]     in_lr, unused_loss_lr;
  logic [31:0]     in_rd_data, loss_rd_data;
  logic            unused_loss_valid;

  // The input buffer (stage 1's forward register) and the loss buffer.
  lp_xreg #(.Words(Batch * InW)) u_in (
    .clk_i, .rst_ni,
    .set_i (start_i && ts_q == TIdle), .set_valid_i (start_fwd_i),
    .set_mb_i (start_mb_i), .set_lr_i (start_lr_i),
    .wr_valid_i (in_valid_i), .wr_idx_i (in_idx_i), .wr_data_i (in_data_i),
    .rd_idx_i (fin_idx[0 +: 32]), .rd_data_o (in_rd_data),
    .valid_o (in_valid_q), .mb_o (in_mb), .lr_o (in_lr), .words_o (in_words_o)
  );
  lp_xreg #(.Words(Batch * OutW)) u_loss (
    .clk_i, .rst_ni,
    .set_i (1'b0), .set_valid_i (1'b0), .set_mb_i (32'd0), .set_lr_i (64'd0),
    .wr_valid_i (loss_valid_i), .wr_idx_i (loss_idx_i), .wr_data_i (loss_data_i),
    .rd_idx_i (bin_idx[(M-1)*32 +: 32]), .rd_data_o (loss_rd_data),
    .valid_o (unused_loss_valid), .mb_o (unused_loss_mb), .lr_o (unused_loss_lr),
    .words_o (out_words_o)
  );
  assign fvalid[0] = in_valid_q;
  assign fin_data[0 +: 32] = in_rd_data;
  assign fin_mb[0 +: 32] = in_mb;
  assign fin_lr[0 +: 64] = in_lr;
  assign bin_data[(M-1)*32 +: 32] = loss_rd_data;
  assign bvalid[M-1] = fvalid[M-1];

  for (genvar k = 1; k < M; k++) begin : gen_reg
    localparam int unsigned W = Batch * Dims[(first_of(k) + count_of(k))*32 +: 32];
    logic        unused_bv;
    logic [31:0] unused_bmb;
    logic [63:0] unused_blr;
    // Forward: written by stage k's last layer, read by stage k+1's load.
    lp_xreg #(.Words(W)) u_fwd (
      .clk_i, .rst_ni,
      .set_i (s_run[k-1]), .set_valid_i (s_run_f[k-1]),
      .set_mb_i (fo_mb[(k-1)*32 +: 32]), .set_lr_i (fo_lr[(k-1)*64 +: 64]),
      .wr_valid_i (fo_v[k-1]), .wr_idx_i (fo_idx[(k-1)*32 +: 32]),
      .wr_data_i (fo_data[(k-1)*32 +: 32]),
      .rd_idx_i (fin_idx[k*32 +: 32]), .rd_data_o (fin_data[k*32 +: 32]),
      .valid_o (fvalid[k]), .mb_o (fin_mb[k*32 +: 32]), .lr_o (fin_lr[k*64 +: 64]),
      .words_o (xf_words[(k-1)*32 +: 32])
    );
    // Backward: written by stage k+1's first layer, read by stage k's load.
    lp_xreg #(.Words(W)) u_bwd (
      .clk_i, .rst_ni,
      .set_i (s_run[k]), .set_valid_i (s_run_b[k]),
      .set_mb_i (bo_mb[k*32 +: 32]), .set_lr_i (64'd0),
      .wr_valid_i (bo_v[k]), .wr_idx_i (bo_idx[k*32 +: 32]), .wr_data_i (bo_data[k*32 +: 32]),
      .rd_idx_i (bin_idx[(k-1)*32 +: 32]), .rd_data_o (bin_data[(k-1)*32 +: 32]),
      .valid_o (bvalid[k-1]), .mb_o (unused_bmb), .lr_o (unused_blr),
      .words_o (xb_words[(k-1)*32 +: 32])
    );
  end
  assign xf_words[(M-1)*32 +: 32] = '0;
  assign xb_words[(M-1)*32 +: 32] = '0;

  // ---- the stages
  for (genvar k = 1; k <= M; k++) begin : gen_stage
    localparam int unsigned F = first_of(k);
    localparam int unsigned N = count_of(k);
    lp_stage #(
      .NLayers (NLayers), .L0 (F), .NL (N), .Dims (Dims), .Relus (Relus), .Biases (Biases),
      .Batch (Batch), .Delay (Sequential != 0 ? 0 : 2 * (M - k)), .Policy (Policy),
      .Rows (Rows), .Cols (Cols), .MulStages (MulStages),
      .OpW (OpW), .AccW (AccW)
    ) u_stage (
      .clk_i, .rst_ni, .round_even_i,
      .act_bits_i, .act_frac_i, .err_bits_i, .err_frac_i, .weight_bits_i, .weight_frac_i,
      .master_bits_i, .master_frac_i, .grad_bits_i, .grad_frac_i, .wd_i, .mu_i,
      .beta_i        (beta_i[F*16 +: N*16]),
      .init_valid_i, .init_layer_i, .init_idx_i, .init_w_i, .init_master_i,
      .load_i        (s_load[k-1]),
      .load_fwd_i    (s_load_f[k-1]),
      .load_bwd_i    (s_load_b[k-1]),
      .run_i         (s_run[k-1]),
      .run_fwd_i     (s_run_f[k-1]),
      .run_bwd_i     (s_run_b[k-1]),
      .wait_loss_i   (s_wl[k-1]),
      .loss_ready_i,
      .step_i        (ts_q == TStep),
      .idle_o        (s_idle[k-1]),
      .work_o        (s_work[k-1]),
      .wait_loss_o   (s_wait_loss[k-1]),
      .fin_idx_o     (fin_idx[(k-1)*32 +: 32]),
      .fin_data_i    (fin_data[(k-1)*32 +: 32]),
      .fin_mb_i      (fin_mb[(k-1)*32 +: 32]),
      .fin_lr_i      (fin_lr[(k-1)*64 +: 64]),
      .bin_idx_o     (bin_idx[(k-1)*32 +: 32]),
      .bin_data_i    (bin_data[(k-1)*32 +: 32]),
      .fo_valid_o    (fo_v[k-1]),
      .fo_idx_o      (fo_idx[(k-1)*32 +: 32]),
      .fo_data_o     (fo_data[(k-1)*32 +: 32]),
      .fwd_mb_o      (fo_mb[(k-1)*32 +: 32]),
      .fwd_lr_o      (fo_lr[(k-1)*64 +: 64]),
      .bo_valid_o    (bo_v[k-1]),
      .bo_idx_o      (bo_idx[(k-1)*32 +: 32]),
      .bo_data_o     (bo_data[(k-1)*32 +: 32]),
      .bwd_mb_o      (bo_mb[(k-1)*32 +: 32]),
      .obs_valid_o   (obs_valid_o[F +: N]),
      .obs_kind_o    (obs_kind_o[F*4 +: N*4]),
      .obs_mb_o      (obs_mb_o[F*32 +: N*32]),
      .obs_idx_o     (obs_idx_o[F*32 +: N*32]),
      .obs_data_o    (obs_data_o[F*32 +: N*32]),
      .obsw_valid_o  (obsw_valid_o[F +: N]),
      .obsw_idx_o    (obsw_idx_o[F*32 +: N*32]),
      .obsw_w_o      (obsw_w_o[F*32 +: N*32]),
      .obsw_master_o (obsw_master_o[F*32 +: N*32]),
      .error_o       (s_err[k-1]),
      .act_words_o   (s_act[(k-1)*32 +: 32]),
      .stash_words_o (s_stash[(k-1)*32 +: 32]),
      .ema_words_o   (s_ema[(k-1)*32 +: 32])
    );
  end

  // The first stage's backward output has nowhere to go (the network input needs no
  // error); the last stage's forward output is the host's.
  logic unused_out;
  assign unused_out = ^{bo_v[0], bo_idx[0 +: 32], bo_data[0 +: 32], bo_mb[0 +: 32],
                        fo_mb[(M-1)*32 +: 32], fo_lr[(M-1)*64 +: 64], unused_loss_valid, unused_loss_mb, unused_loss_lr};
  assign out_valid_o = fo_v[M-1];
  assign out_idx_o   = fo_idx[(M-1)*32 +: 32];
  assign out_data_o  = fo_data[(M-1)*32 +: 32];
  assign loss_wait_o = s_wait_loss[M-1];
  assign error_o     = |s_err;

  always_comb begin
    act_words_o = '0;
    stash_words_o = '0;
    ema_words_o = '0;
    fwd_reg_words_o = '0;
    bwd_reg_words_o = '0;
    for (int unsigned k = 0; k < M; k++) begin
      act_words_o     = act_words_o + s_act[k*32 +: 32];
      stash_words_o   = stash_words_o + s_stash[k*32 +: 32];
      ema_words_o     = ema_words_o + s_ema[k*32 +: 32];
      fwd_reg_words_o = fwd_reg_words_o + xf_words[k*32 +: 32];
      bwd_reg_words_o = bwd_reg_words_o + xb_words[k*32 +: 32];
    end
  end

  // Commands to the stages. Pipelined: all stages at once (TLoad, TRun). Sequential:
  // stage k_q alone, forward on the way out, backward on the way back.
  always_comb begin
    for (int unsigned k = 0; k < M; k++) begin
      logic me;
      me = (Sequential == 0) || (k_q == 32'(k + 1));
      s_load[k]   = (ts_q == TLoad) && me;
      s_run[k]    = (ts_q == TRun) && me;
      if (Sequential == 0) begin
        s_load_f[k] = fvalid[k];
        s_load_b[k] = (k + 1 < M) && bvalid[k];
        s_run_f[k]  = fvalid[k];
        s_run_b[k]  = bvalid[k];
      end else begin
        s_load_f[k] = !back_q;
        s_load_b[k] = back_q;
        s_run_f[k]  = !back_q;
        s_run_b[k]  = back_q || (k + 1 == M);
      end
      s_wl[k] = (k + 1 == M) && s_run_f[k];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ts_q <= TIdle;
      k_q <= 32'd1;
      back_q <= 1'b0;
    end else begin
      case (ts_q)
        TIdle: begin
          if (start_i) begin
            k_q <= 32'd1;
            back_q <= 1'b0;
            ts_q <= (Sequential != 0 && !start_fwd_i) ? TStep : TLoad;
          end
        end
        TLoad: ts_q <= TLoadWait;
        TLoadWait: if (&s_idle) ts_q <= TRun;
        TRun: ts_q <= TRunWait;
        TRunWait: begin
          if (&s_idle) begin
            if (Sequential == 0) begin
              ts_q <= TStep;
            end else if (!back_q && k_q != 32'(M)) begin
              k_q <= k_q + 32'd1;
              ts_q <= TLoad;
            end else if (k_q != 32'd1) begin
              back_q <= 1'b1;
              k_q <= k_q - 32'd1;
              ts_q <= TLoad;
            end else begin
              ts_q <= TStep;
            end
          end
        end
        TStep: ts_q <= TIdle;
        default: ts_q <= TIdle;
      endcase
    end
  end
  assign done_o = (ts_q == TStep);
  assign idle_o = (ts_q == TIdle);

  // ---- cycle counters
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_busy_o <= '0;
      cnt_stall_o <= '0;
      cnt_idle_o <= '0;
    end else if (ts_q != TIdle) begin
      for (int unsigned k = 0; k < M; k++) begin
        if (s_work[k]) begin
          cnt_busy_o[k*64 +: 64] <= cnt_busy_o[k*64 +: 64] + 64'd1;
        end else if (s_wait_loss[k] ||
                     (Sequential == 0 && (ts_q == TLoadWait || ts_q == TRun))) begin
          cnt_stall_o[k*64 +: 64] <= cnt_stall_o[k*64 +: 64] + 64'd1;
        end else begin
          cnt_idle_o[k*64 +: 64] <= cnt_idle_o[k*64 +: 64] + 64'd1;
        end
      end
    end
  end
endmodule
