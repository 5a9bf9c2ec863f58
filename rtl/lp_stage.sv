`include "lp_ff.svh"

// lp_stage: one pipeline stage: layers L0 .. L0+NL-1 of the network (lp_layer each) and
// the control that runs them in a step (docs/rtl.md). On run_i it forwards its layers in
// order (each one's output rows stream into the next one's input slot, the last one's out
// on fo_*), waits at the last stage for the host's loss gradient (written into its last
// layer's dy through ein_*, then loss_ready_i), and backwards its layers in reverse order
// (each one's input-gradient rows stream through the mask into the layer before, the first
// one's out on bo_*). Nothing is copied at the start of a step: the stage before writes
// this stage's input into the first layer's spare x slot while it runs (the forward
// register), and the stage after writes its error into the last layer's second dy buffer
// (the backward register).
//
// A stage's layers share one Delay: 2*(M - stage), 0 sequential. Layer parameters come in
// packed vectors indexed by the network's layer number: Dims[l*32 +: 32] is layer l's input
// width and Dims[(l+1)*32 +: 32] its output width; Relus and Biases one 32-bit flag per
// layer. Observation ports are per layer (layer j at field j), lanes Cols.
module lp_stage #(
  parameter int unsigned NLayers   = 4,
  parameter int unsigned L0        = 0,
  parameter int unsigned NL        = 1,
  parameter logic [(NLayers+1)*32-1:0] Dims   = {32'd4, 32'd5, 32'd6, 32'd6, 32'd8},
  parameter logic [NLayers*32-1:0]     Relus  = {32'd0, 32'd1, 32'd1, 32'd1},
  parameter logic [NLayers*32-1:0]     Biases = {32'd1, 32'd1, 32'd1, 32'd1},
  parameter int unsigned Batch     = 4,
  parameter int unsigned Delay     = 0,
  parameter int unsigned Policy    = 0,
  parameter int unsigned FirstStage = 1,  // no stage before: the host writes the input
  parameter int unsigned LastStage = 1,   // no stage after: the host writes the loss
  parameter int unsigned Rows      = 4,
  parameter int unsigned Cols      = 4,
  parameter int unsigned MulStages = 2,
  parameter int unsigned OpW       = 32,
  parameter int unsigned AccW      = 64
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,

  input  lp_pkg::numerics_t     num_i,
  input  logic [NL*16-1:0]      beta_i,          // per layer

  input  logic                  init_valid_i,
  input  logic [31:0]           init_layer_i,    // the network's layer number
  input  logic [31:0]           init_row_i,
  input  logic [31:0]           init_col_i,
  input  logic [Cols*32-1:0]    init_w_i,
  input  logic [Cols*32-1:0]    init_master_i,

  input  logic                  run_i,
  input  logic                  run_fwd_i,
  input  logic                  run_bwd_i,
  input  logic                  wait_loss_i,
  input  logic [31:0]           run_mb_i,        // the forward's minibatch
  input  logic [63:0]           run_lr_i,        // and its learning rate
  input  logic                  loss_ready_i,
  input  logic                  step_i,
  output logic                  idle_o,          // no command in progress
  output logic                  work_o,          // a layer busy or a command issued
  output logic                  wait_loss_o,     // waiting for the host's loss gradient

  input  logic                  xin_valid_i,     // the stage's input, a row segment
  input  logic [31:0]           xin_row_i,
  input  logic [31:0]           xin_col_i,
  input  logic [Cols*32-1:0]    xin_data_i,
  input  logic                  ein_valid_i,     // the error of its output, a row segment
  input  logic [31:0]           ein_row_i,
  input  logic [31:0]           ein_col_i,
  input  logic [Cols*32-1:0]    ein_data_i,
  input  logic [31:0]           ein_mb_i,

  output logic                  fo_valid_o,
  output logic [31:0]           fo_row_o,
  output logic [31:0]           fo_col_o,
  output logic [Cols*32-1:0]    fo_data_o,
  output logic                  bo_valid_o,
  output logic [31:0]           bo_row_o,
  output logic [31:0]           bo_col_o,
  output logic [Cols*32-1:0]    bo_data_o,
  output logic [31:0]           bo_mb_o,

  // Layer j's observation ports (lp_layer's) at field j.
  output logic [NL*lp_pkg::ObsW-1:0] obs_o,
  output logic [NL*Cols*32-1:0] obs_data_o,
  output logic [NL*lp_pkg::ObsW-1:0] obse_o,
  output logic [NL*Cols*32-1:0] obse_data_o,
  output logic [NL*lp_pkg::ObsW-1:0] obsw_o,
  output logic [NL*Cols*32-1:0] obsw_w_o,
  output logic [NL*Cols*32-1:0] obsw_master_o,
  output logic                  error_o,

  output lp_pkg::mem_words_t    words_o       // what the stage's layers hold, summed
);
  typedef enum logic [2:0] {SIdle, SFwdCmd, SFwdWait, SLossWait, SBwdCmd, SBwdWait} state_e;
  state_e      st_d, st_q;
  logic [31:0] j_d, j_q;                  // the layer (0 .. NL-1) a command went to
  logic        rb_d, rb_q, wl_d, wl_q;    // this run: backward after, wait for the loss
  logic [31:0] mb_d, mb_q;
  logic [63:0] lr_d, lr_q;

  // Per-layer wiring, flat: layer j's field at [j*W +: W].
  logic [NL-1:0]         l_busy, l_cmd, l_fo_v, l_bo_v, l_err;
  logic [NL*32-1:0]      l_fo_row, l_fo_col, l_bo_row, l_bo_col, l_bmb;
  logic [NL*Cols*32-1:0] l_fo_data, l_bo_data;
  logic [NL*lp_pkg::MemWordsW-1:0] l_words;
  logic                  cmd_fwd;
  assign cmd_fwd = (st_q == SFwdCmd);

  for (genvar j = 0; j < NL; j++) begin : gen_layer
    localparam int unsigned L = L0 + j;
    logic               x_v, e_v;
    logic [31:0]        x_row, x_col, e_row, e_col, e_mb;
    logic [Cols*32-1:0] x_data, e_data;

    if (j == 0) begin : gen_x_in
      assign x_v = xin_valid_i;
      assign x_row = xin_row_i;
      assign x_col = xin_col_i;
      assign x_data = xin_data_i;
    end else begin : gen_x_prev
      assign x_v = l_fo_v[j-1];
      assign x_row = l_fo_row[(j-1)*32 +: 32];
      assign x_col = l_fo_col[(j-1)*32 +: 32];
      assign x_data = l_fo_data[(j-1)*Cols*32 +: Cols*32];
    end
    if (j == NL - 1) begin : gen_e_in
      assign e_v = ein_valid_i;
      assign e_row = ein_row_i;
      assign e_col = ein_col_i;
      assign e_data = ein_data_i;
      assign e_mb = ein_mb_i;
    end else begin : gen_e_next
      assign e_v = l_bo_v[j+1];
      assign e_row = l_bo_row[(j+1)*32 +: 32];
      assign e_col = l_bo_col[(j+1)*32 +: 32];
      assign e_data = l_bo_data[(j+1)*Cols*32 +: Cols*32];
      assign e_mb = l_bmb[(j+1)*32 +: 32];
    end
    assign l_cmd[j] = (st_q == SFwdCmd || st_q == SBwdCmd) && (j_q == 32'(j));

    lp_layer #(
      .In        (Dims[L*32 +: 32]),
      .Out       (Dims[(L+1)*32 +: 32]),
      .Batch     (Batch),
      .Delay     (Delay),
      .Policy    (Policy),
      .Relu      (Relus[L*32 +: 32]),
      .Bias      (Biases[L*32 +: 32]),
      .First     ((L == 0) ? 1 : 0),
      .XSpare    ((j == 0 && FirstStage == 0) ? 1 : 0),
      .DyBufs    ((j == NL - 1 && LastStage == 0) ? 2 : 1),
      .Rows      (Rows),
      .Cols      (Cols),
      .MulStages (MulStages),
      .OpW       (OpW),
      .AccW      (AccW)
    ) u_layer (
      .clk_i, .rst_ni, .num_i,
      .beta_i          (beta_i[j*16 +: 16]),
      .init_valid_i    (init_valid_i && init_layer_i == 32'(L)),
      .init_row_i, .init_col_i, .init_w_i, .init_master_i,
      .cmd_i           (l_cmd[j]),
      .cmd_fwd_i       (cmd_fwd),
      .cmd_mb_i        (mb_q),
      .cmd_lr_i        (lr_q),
      .busy_o          (l_busy[j]),
      .step_i,
      .xin_valid_i     (x_v),
      .xin_row_i       (x_row),
      .xin_col_i       (x_col),
      .xin_data_i      (x_data),
      .ein_valid_i     (e_v),
      .ein_row_i       (e_row),
      .ein_col_i       (e_col),
      .ein_data_i      (e_data),
      .ein_mb_i        (e_mb),
      .fo_valid_o      (l_fo_v[j]),
      .fo_row_o        (l_fo_row[j*32 +: 32]),
      .fo_col_o        (l_fo_col[j*32 +: 32]),
      .fo_data_o       (l_fo_data[j*Cols*32 +: Cols*32]),
      .bo_valid_o      (l_bo_v[j]),
      .bo_row_o        (l_bo_row[j*32 +: 32]),
      .bo_col_o        (l_bo_col[j*32 +: 32]),
      .bo_data_o       (l_bo_data[j*Cols*32 +: Cols*32]),
      .bwd_mb_o        (l_bmb[j*32 +: 32]),
      .obs_o           (obs_o[j*lp_pkg::ObsW +: lp_pkg::ObsW]),
      .obs_data_o      (obs_data_o[j*Cols*32 +: Cols*32]),
      .obse_o          (obse_o[j*lp_pkg::ObsW +: lp_pkg::ObsW]),
      .obse_data_o     (obse_data_o[j*Cols*32 +: Cols*32]),
      .obsw_o          (obsw_o[j*lp_pkg::ObsW +: lp_pkg::ObsW]),
      .obsw_w_o        (obsw_w_o[j*Cols*32 +: Cols*32]),
      .obsw_master_o   (obsw_master_o[j*Cols*32 +: Cols*32]),
      .error_o         (l_err[j]),
      .words_o       (l_words[j*lp_pkg::MemWordsW +: lp_pkg::MemWordsW])
    );
  end

  // The stage's outputs: the last layer's forward rows, the first layer's backward rows.
  assign fo_valid_o = l_fo_v[NL-1];
  assign fo_row_o   = l_fo_row[(NL-1)*32 +: 32];
  assign fo_col_o   = l_fo_col[(NL-1)*32 +: 32];
  assign fo_data_o  = l_fo_data[(NL-1)*Cols*32 +: Cols*32];
  assign bo_valid_o = l_bo_v[0];
  assign bo_row_o   = l_bo_row[0 +: 32];
  assign bo_col_o   = l_bo_col[0 +: 32];
  assign bo_data_o  = l_bo_data[0 +: Cols*32];
  assign bo_mb_o    = l_bmb[0 +: 32];
  assign error_o    = |l_err;

  logic [lp_pkg::MemWordsW-1:0] words;   // the layers' words, field by field
  always_comb begin
    words = '0;
    for (int unsigned j = 0; j < NL; j++) begin
      for (int unsigned f = 0; f < lp_pkg::MemWordsW; f += 32) begin
        words[f +: 32] = words[f +: 32] + l_words[j*lp_pkg::MemWordsW + f +: 32];
      end
    end
  end
  assign words_o = words;

  logic cur_busy;                         // the layer j_q
  assign cur_busy = l_busy[j_q[$clog2(NL > 1 ? NL : 2)-1:0]];

  always_comb begin
    st_d = st_q;
    j_d  = j_q;
    rb_d = rb_q;
    wl_d = wl_q;
    mb_d = mb_q;
    lr_d = lr_q;
    case (st_q)
      SIdle: begin
        if (run_i) begin
          rb_d = run_bwd_i;
          wl_d = wait_loss_i;
          mb_d = run_mb_i;
          lr_d = run_lr_i;
          j_d  = run_fwd_i ? 32'd0 : 32'(NL - 1);
          st_d = run_fwd_i ? SFwdCmd : wait_loss_i ? SLossWait : run_bwd_i ? SBwdCmd : SIdle;
        end
      end
      SFwdCmd: st_d = SFwdWait;
      SFwdWait: begin
        if (!cur_busy) begin
          if (j_q + 32'd1 < 32'(NL)) begin
            j_d  = j_q + 32'd1;
            st_d = SFwdCmd;
          end else begin
            j_d  = 32'(NL - 1);
            st_d = wl_q ? SLossWait : rb_q ? SBwdCmd : SIdle;
          end
        end
      end
      SLossWait: if (loss_ready_i) st_d = rb_q ? SBwdCmd : SIdle;
      SBwdCmd: st_d = SBwdWait;
      SBwdWait: begin
        if (!cur_busy) begin
          if (j_q != 32'd0) begin
            j_d  = j_q - 32'd1;
            st_d = SBwdCmd;
          end else begin
            st_d = SIdle;
          end
        end
      end
      default: st_d = SIdle;
    endcase
  end

  `LP_FF(st_q, st_d, SIdle)
  `LP_FF(j_q, j_d, '0)
  `LP_FF(rb_q, rb_d, 1'b0)
  `LP_FF(wl_q, wl_d, 1'b0)
  `LP_FF(mb_q, mb_d, '0)
  `LP_FF(lr_q, lr_d, '0)

  assign idle_o      = (st_q == SIdle);
  assign wait_loss_o = (st_q == SLossWait);
  assign work_o      = !idle_o && !wait_loss_o;

`ifndef SYNTHESIS
  // ---------------------------------------------------------------- assertions
  // What docs/rtl.md states of this module, checked in every simulation (Verilator
  // --assert; docs/rtl.md, Assertions). Yosys defines SYNTHESIS and reads none of it.
  // Reset disables them: a sampled use of the asynchronous reset, which is no finding.
  /* verilator lint_off SYNCASYNCNET */
  // A run reaches an idle stage.
  a_run_idle: assert property (@(posedge clk_i) disable iff (!rst_ni)
      run_i |-> st_q == SIdle)
    else $error("lp_stage: a run while busy");
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
