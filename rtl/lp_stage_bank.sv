// lp_stage_bank: every stage of a configuration side by side (the lp_stage instances
// lp_top would build, same parameters), each driven from outside: the SystemC system
// model (sim/sc_pipeline.cpp) sequences them as Verilated RTL stages. Their row inputs
// are idle and their outputs go nowhere: a stage's cycles do not depend on the values it
// computes. Stage k (1-based) is bit k-1 of each vector.
module lp_stage_bank #(
  parameter int unsigned NLayers    = 4,
  parameter int unsigned NStages    /*verilator public*/ = 4,
  parameter int unsigned Batch      = 4,
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned MulStages  = 2,
  parameter int unsigned OpW        = 32,
  parameter int unsigned AccW       = 64,
  parameter int unsigned Policy     = 2,
  parameter int unsigned Sequential = 0,
  parameter logic [(NLayers+1)*32-1:0] Dims    = {32'd4, 32'd5, 32'd6, 32'd6, 32'd8},
  parameter logic [NLayers*32-1:0]     StageOf = {32'd4, 32'd3, 32'd2, 32'd1},
  parameter logic [NLayers*32-1:0]     Relus   = {32'd0, 32'd1, 32'd1, 32'd1},
  parameter logic [NLayers*32-1:0]     Biases  = {32'd1, 32'd1, 32'd1, 32'd1}
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic [NStages-1:0] run_i,
  input  logic [NStages-1:0] run_fwd_i,
  input  logic [NStages-1:0] run_bwd_i,
  input  logic [NStages-1:0] wait_loss_i,
  input  logic [NStages-1:0] loss_ready_i,
  input  logic               step_i,
  output logic [NStages-1:0] idle_o,
  output logic [NStages-1:0] work_o,
  output logic [NStages-1:0] wait_loss_o
);
  `include "lp_partition.svh"

  // Formats of the default config (docs/numerics.md); they change no cycle.
  lp_pkg::numerics_t num;
  always_comb begin
    num = '0;
    num.round_even  = 1'b1;
    num.act.bits    = 6'd16;
    num.act.frac    = 5'd10;
    num.err.bits    = 6'd16;
    num.err.frac    = 5'd12;
    num.weight.bits = 6'd16;
    num.weight.frac = 5'd14;
    num.master.bits = 6'd32;
    num.master.frac = 5'd28;
    num.grad.bits   = 6'd32;
    num.grad.frac   = 5'd20;
  end

  for (genvar k = 1; k <= NStages; k++) begin : gen_stage
    localparam int unsigned F = first_of(k);
    localparam int unsigned N = count_of(k);
    logic                 fo_valid, bo_valid, error;
    logic [31:0]          fo_row, fo_col, bo_row, bo_col, bo_mb;
    logic [Cols*32-1:0]   fo_data, bo_data;
    logic [N*lp_pkg::ObsW-1:0] obs, obse, obsw;
    logic [N*Cols*32-1:0] obs_data, obse_data, obsw_w, obsw_master;
    lp_pkg::mem_words_t   words;

    lp_stage #(
      .NLayers (NLayers), .L0 (F), .NL (N), .Dims (Dims), .Relus (Relus), .Biases (Biases),
      .Batch (Batch), .Delay (Sequential != 0 ? 0 : 2 * (NStages - k)), .Policy (Policy),
      .FirstStage (k == 1 ? 1 : 0), .LastStage (k == NStages ? 1 : 0),
      .Rows (Rows), .Cols (Cols), .MulStages (MulStages),
      .OpW (OpW), .AccW (AccW)
    ) u_stage (
      .clk_i, .rst_ni,
      .num_i (num),
      .beta_i ('0),
      .init_valid_i (1'b0), .init_layer_i (32'd0), .init_row_i (32'd0), .init_col_i (32'd0),
      .init_w_i ('0), .init_master_i ('0),
      .run_i (run_i[k-1]), .run_fwd_i (run_fwd_i[k-1]), .run_bwd_i (run_bwd_i[k-1]),
      .wait_loss_i (wait_loss_i[k-1]), .run_mb_i (32'd0), .run_lr_i (64'd0),
      .loss_ready_i (loss_ready_i[k-1]), .step_i,
      .idle_o (idle_o[k-1]), .work_o (work_o[k-1]), .wait_loss_o (wait_loss_o[k-1]),
      .xin_valid_i (1'b0), .xin_row_i (32'd0), .xin_col_i (32'd0), .xin_data_i ('0),
      .ein_valid_i (1'b0), .ein_row_i (32'd0), .ein_col_i (32'd0), .ein_data_i ('0),
      .ein_mb_i (32'd0),
      .fo_valid_o (fo_valid), .fo_row_o (fo_row), .fo_col_o (fo_col), .fo_data_o (fo_data),
      .bo_valid_o (bo_valid), .bo_row_o (bo_row), .bo_col_o (bo_col), .bo_data_o (bo_data),
      .bo_mb_o (bo_mb),
      .obs_o (obs), .obs_data_o (obs_data), .obse_o (obse), .obse_data_o (obse_data),
      .obsw_o (obsw), .obsw_w_o (obsw_w), .obsw_master_o (obsw_master),
      .error_o (error),
      .words_o (words)
    );

    // Only the timing is of interest here.
    logic unused;
    assign unused = ^{fo_valid, bo_valid, error, fo_row, fo_col, bo_row, bo_col, bo_mb, fo_data,
                      bo_data, obs, obse, obsw,
                      obs_data, obse_data, obsw_w, obsw_master, words};
  end
endmodule
