// lp_stage: one pipeline stage: layers L0 .. L0+NL-1 of the network (lp_layer each) and
// the control that runs them in a step (docs/rtl.md):
//
//   load   copy the forward input register into the first layer's activation slot and
//          the backward input register (the error of the last layer's output) through
//          the relu mask into the last layer's dy, one word of each per cycle, both at once
//   run    forward the layers in order, each one's output streaming into the next one's
//          slot; at the last stage, wait for the host's loss gradient (loss_ready_i) and
//          copy it in as a load does; then backward the layers in reverse order, each
//          one's dx streaming through the mask into the layer before
//
// The stage's forward output (fo_*) and backward output (bo_*) stream to the registers
// around it. A stage holds its layers' one shared Delay: 2*(M - stage), 0 sequential.
// Layer parameters come in packed vectors indexed by the network's layer number:
// Dims[l*32 +: 32] is layer l's input width and Dims[(l+1)*32 +: 32] its output width;
// Relus and Biases hold one 32-bit flag per layer.
module lp_stage #(
  parameter int unsigned NLayers = 4,
  parameter int unsigned L0      = 0,
  parameter int unsigned NL      = 1,
  parameter logic [(NLayers+1)*32-1:0] Dims   = {32'd4, 32'd5, 32'd6, 32'd6, 32'd8},
  parameter logic [NLayers*32-1:0]     Relus  = {32'd0, 32'd1, 32'd1, 32'd1},
  parameter logic [NLayers*32-1:0]     Biases = {32'd1, 32'd1, 32'd1, 32'd1},
  parameter int unsigned Batch   = 4,
  parameter int unsigned Delay   = 0,
  parameter int unsigned Policy  = 0,
  parameter int unsigned Rows    = 4,
  parameter int unsigned Cols    = 4,
  parameter int unsigned MulStages = 2,
  parameter int unsigned OpW     = 32,
  parameter int unsigned AccW    = 64,
  localparam int unsigned InW    = Dims[L0*32 +: 32],
  localparam int unsigned OutW   = Dims[(L0+NL)*32 +: 32]
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  input  logic               round_even_i,
  input  logic [5:0]         act_bits_i,
  input  logic [4:0]         act_frac_i,
  input  logic [5:0]         err_bits_i,
  input  logic [4:0]         err_frac_i,
  input  logic [5:0]         weight_bits_i,
  input  logic [4:0]         weight_frac_i,
  input  logic [5:0]         master_bits_i,
  input  logic [4:0]         master_frac_i,
  input  logic [5:0]         grad_bits_i,
  input  logic [4:0]         grad_frac_i,
  input  logic [63:0]        wd_i,
  input  logic [15:0]        mu_i,
  input  logic [NL*16-1:0]   beta_i,          // per layer

  input  logic               init_valid_i,
  input  logic [31:0]        init_layer_i,    // the network's layer number
  input  logic [31:0]        init_idx_i,
  input  logic [31:0]        init_w_i,
  input  logic [31:0]        init_master_i,

  input  logic               load_i,
  input  logic               load_fwd_i,
  input  logic               load_bwd_i,
  input  logic               run_i,
  input  logic               run_fwd_i,
  input  logic               run_bwd_i,
  input  logic               wait_loss_i,
  input  logic               loss_ready_i,
  input  logic               step_i,
  output logic               idle_o,          // no command in progress
  output logic               work_o,          // copying or a layer busy
  output logic               wait_loss_o,     // waiting for the host's loss gradient

  // The forward input register, read port and tag.
  output logic [31:0]        fin_idx_o,
  input  logic [31:0]        fin_data_i,
  input  logic [31:0]        fin_mb_i,
  input  logic [63:0]        fin_lr_i,
  // The backward input (register, or the host's loss buffer at the last stage).
  output logic [31:0]        bin_idx_o,
  input  logic [31:0]        bin_data_i,

  output logic               fo_valid_o,
  output logic [31:0]        fo_idx_o,
  output logic [31:0]        fo_data_o,
  output logic [31:0]        fwd_mb_o,        // the minibatch this step's load took in
  output logic [63:0]        fwd_lr_o,
  output logic               bo_valid_o,
  output logic [31:0]        bo_idx_o,
  output logic [31:0]        bo_data_o,
  output logic [31:0]        bwd_mb_o,        // the minibatch the backward serves

  output logic [NL-1:0]      obs_valid_o,
  output logic [NL*4-1:0]    obs_kind_o,
  output logic [NL*32-1:0]   obs_mb_o,
  output logic [NL*32-1:0]   obs_idx_o,
  output logic [NL*32-1:0]   obs_data_o,
  output logic [NL-1:0]      obsw_valid_o,
  output logic [NL*32-1:0]   obsw_idx_o,
  output logic [NL*32-1:0]   obsw_w_o,
  output logic [NL*32-1:0]   obsw_master_o,
  output logic               error_o,

  output logic [31:0]        act_words_o,
  output logic [31:0]        stash_words_o,
  output logic [31:0]        ema_words_o
);
  localparam int unsigned FN = Batch * InW;    // words a forward load copies
  localparam int unsigned BN = Batch * OutW;   // words a backward load copies

  typedef enum logic [2:0] {
    SIdle, SLoad, SFwdCmd, SFwdWait, SLossWait, SBwdCmd, SBwdWait
  } state_e;
  state_e      st_q;
  logic [31:0] j_q;                       // the layer (0 .. NL-1) a command went to
  logic [31:0] fcnt_q, bcnt_q;
  logic        do_f_q, do_b_q;            // this load copies forward / backward
  logic        rb_q, wl_q;                // this run: backward after, wait for the loss
  logic        then_bwd_q;                // the load is the loss copy: backward after it
  logic [31:0] mb_q;
  logic [63:0] lr_q;

  logic lf, lb;                           // a word is copied this cycle
  assign lf = (st_q == SLoad) && do_f_q && (fcnt_q < 32'(FN));
  assign lb = (st_q == SLoad) && do_b_q && (bcnt_q < 32'(BN));
  assign fin_idx_o = fcnt_q;
  assign bin_idx_o = bcnt_q;

  // Per-layer wiring, flat: layer j's field at [j*W +: W].
  logic [NL-1:0]    l_busy, l_cmd, l_fo_v, l_bo_v, l_err, l_bready;
  logic [NL*32-1:0] l_fo_idx, l_fo_data, l_bo_idx, l_bo_data, l_bmb;
  logic [NL*32-1:0] l_act, l_stash, l_ema;
  logic             cmd_fwd;
  assign cmd_fwd = (st_q == SFwdCmd);

  for (genvar j = 0; j < NL; j++) begin : gen_layer
    localparam int unsigned L = L0 + j;
    logic        in_v, bi_v;
    logic [31:0] in_idx, in_data, bi_idx, bi_data;
    logic [31:0] unused_fmb;
    logic [63:0] unused_flr;

    if (j == 0) begin : gen_in_load
      assign in_v = lf;
      assign in_idx = fcnt_q;
      assign in_data = fin_data_i;
    end else begin : gen_in_prev
      assign in_v = l_fo_v[j-1];
      assign in_idx = l_fo_idx[(j-1)*32 +: 32];
      assign in_data = l_fo_data[(j-1)*32 +: 32];
    end
    if (j == NL - 1) begin : gen_bi_load
      assign bi_v = lb;
      assign bi_idx = bcnt_q;
      assign bi_data = bin_data_i;
    end else begin : gen_bi_next
      assign bi_v = l_bo_v[j+1];
      assign bi_idx = l_bo_idx[(j+1)*32 +: 32];
      assign bi_data = l_bo_data[(j+1)*32 +: 32];
    end
    assign l_cmd[j] = (st_q == SFwdCmd || st_q == SBwdCmd) && (j_q == 32'(j));

    lp_layer #(
      .In     (Dims[L*32 +: 32]),
      .Out    (Dims[(L+1)*32 +: 32]),
      .Batch  (Batch),
      .Delay  (Delay),
      .Policy (Policy),
      .Relu   (Relus[L*32 +: 32]),
      .Bias   (Biases[L*32 +: 32]),
      .First  ((L == 0) ? 1 : 0),
      .Rows   (Rows),
      .Cols   (Cols),
      .MulStages (MulStages),
      .OpW    (OpW),
      .AccW   (AccW)
    ) u_layer (
      .clk_i, .rst_ni, .round_even_i,
      .act_bits_i, .act_frac_i, .err_bits_i, .err_frac_i, .weight_bits_i, .weight_frac_i,
      .master_bits_i, .master_frac_i, .grad_bits_i, .grad_frac_i, .wd_i, .mu_i,
      .beta_i        (beta_i[j*16 +: 16]),
      .init_valid_i  (init_valid_i && init_layer_i == 32'(L)),
      .init_idx_i, .init_w_i, .init_master_i,
      .cmd_i         (l_cmd[j]),
      .cmd_fwd_i     (cmd_fwd),
      .cmd_mb_i      (mb_q),
      .cmd_lr_i      (lr_q),
      .busy_o        (l_busy[j]),
      .step_i,
      .in_valid_i    (in_v),
      .in_idx_i      (in_idx),
      .in_data_i     (in_data),
      .bi_valid_i    (bi_v),
      .bi_idx_i      (bi_idx),
      .bi_data_i     (bi_data),
      .fo_valid_o    (l_fo_v[j]),
      .fo_idx_o      (l_fo_idx[j*32 +: 32]),
      .fo_data_o     (l_fo_data[j*32 +: 32]),
      .bo_valid_o    (l_bo_v[j]),
      .bo_idx_o      (l_bo_idx[j*32 +: 32]),
      .bo_data_o     (l_bo_data[j*32 +: 32]),
      .fwd_mb_o      (unused_fmb),
      .fwd_lr_o      (unused_flr),
      .bwd_mb_o      (l_bmb[j*32 +: 32]),
      .bwd_ready_o   (l_bready[j]),
      .obs_valid_o   (obs_valid_o[j]),
      .obs_kind_o    (obs_kind_o[j*4 +: 4]),
      .obs_mb_o      (obs_mb_o[j*32 +: 32]),
      .obs_idx_o     (obs_idx_o[j*32 +: 32]),
      .obs_data_o    (obs_data_o[j*32 +: 32]),
      .obsw_valid_o  (obsw_valid_o[j]),
      .obsw_idx_o    (obsw_idx_o[j*32 +: 32]),
      .obsw_w_o      (obsw_w_o[j*32 +: 32]),
      .obsw_master_o (obsw_master_o[j*32 +: 32]),
      .error_o       (l_err[j]),
      .act_words_o   (l_act[j*32 +: 32]),
      .stash_words_o (l_stash[j*32 +: 32]),
      .ema_words_o   (l_ema[j*32 +: 32])
    );
  end

  // The stage's outputs: the last layer's forward, the first layer's backward.
  assign fo_valid_o = l_fo_v[NL-1];
  assign fo_idx_o   = l_fo_idx[(NL-1)*32 +: 32];
  assign fo_data_o  = l_fo_data[(NL-1)*32 +: 32];
  assign bo_valid_o = l_bo_v[0];
  assign bo_idx_o   = l_bo_idx[0 +: 32];
  assign bo_data_o  = l_bo_data[0 +: 32];
  assign fwd_mb_o   = mb_q;
  assign fwd_lr_o   = lr_q;
  assign bwd_mb_o   = l_bmb[0 +: 32];
  assign error_o    = |l_err;

  // What every layer's delay line says is known to the layer itself.
  logic unused_bready;
  assign unused_bready = ^{l_bready, l_bmb};

  always_comb begin
    act_words_o = '0;
    stash_words_o = '0;
    ema_words_o = '0;
    for (int unsigned j = 0; j < NL; j++) begin
      act_words_o   = act_words_o + l_act[j*32 +: 32];
      stash_words_o = stash_words_o + l_stash[j*32 +: 32];
      ema_words_o   = ema_words_o + l_ema[j*32 +: 32];
    end
  end

  logic cur_busy;                         // the layer j_q
  assign cur_busy = l_busy[j_q[$clog2(NL > 1 ? NL : 2)-1:0]];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= SIdle;
      j_q <= '0;
      fcnt_q <= '0;
      bcnt_q <= '0;
      do_f_q <= 1'b0;
      do_b_q <= 1'b0;
      rb_q <= 1'b0;
      wl_q <= 1'b0;
      then_bwd_q <= 1'b0;
      mb_q <= '0;
      lr_q <= '0;
    end else begin
      if (lf) fcnt_q <= fcnt_q + 32'd1;
      if (lb) bcnt_q <= bcnt_q + 32'd1;
      case (st_q)
        SIdle: begin
          if (load_i && (load_fwd_i || load_bwd_i)) begin
            st_q <= SLoad;
            fcnt_q <= '0;
            bcnt_q <= '0;
            do_f_q <= load_fwd_i;
            do_b_q <= load_bwd_i;
            then_bwd_q <= 1'b0;
            if (load_fwd_i) begin
              mb_q <= fin_mb_i;
              lr_q <= fin_lr_i;
            end
          end else if (run_i) begin
            rb_q <= run_bwd_i;
            wl_q <= wait_loss_i;
            j_q <= run_fwd_i ? 32'd0 : 32'(NL - 1);
            st_q <= run_fwd_i ? SFwdCmd : wait_loss_i ? SLossWait
                  : run_bwd_i ? SBwdCmd : SIdle;
          end
        end
        SLoad: begin
          if (!lf && !lb) begin
            st_q <= then_bwd_q ? SBwdCmd : SIdle;
            j_q <= 32'(NL - 1);
          end
        end
        SFwdCmd: st_q <= SFwdWait;
        SFwdWait: begin
          if (!cur_busy) begin
            if (j_q + 32'd1 < 32'(NL)) begin
              j_q <= j_q + 32'd1;
              st_q <= SFwdCmd;
            end else begin
              j_q <= 32'(NL - 1);
              st_q <= wl_q ? SLossWait : rb_q ? SBwdCmd : SIdle;
            end
          end
        end
        SLossWait: begin
          if (loss_ready_i) begin
            st_q <= SLoad;
            bcnt_q <= '0;
            do_f_q <= 1'b0;
            do_b_q <= 1'b1;
            then_bwd_q <= rb_q;
          end
        end
        SBwdCmd: st_q <= SBwdWait;
        SBwdWait: begin
          if (!cur_busy) begin
            if (j_q != 32'd0) begin
              j_q <= j_q - 32'd1;
              st_q <= SBwdCmd;
            end else begin
              st_q <= SIdle;
            end
          end
        end
        default: st_q <= SIdle;
      endcase
    end
  end

  assign idle_o      = (st_q == SIdle);
  assign wait_loss_o = (st_q == SLossWait);
  assign work_o      = !idle_o && !wait_loss_o;
endmodule
