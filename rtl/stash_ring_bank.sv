// stash_ring_bank: test-only top that puts stash_ring at the depths 0, 1, 2, 3 and 6 side
// by side on the same push and read inputs (Depth 0: no RAM, the live word; Depth 1: one
// slot, no head pointer; 2 and 3: small rings; 6: the default), so one Verilator build
// covers the degenerate branches the default-parameter build of stash_ring never
// elaborates. A test fixture for sim/blocks_stash_ring_bank.cpp: it lints and synthesises
// like every module, but is not part of a design.
//
// Every ring sees the same push stream (so they hold the same versions, each as many as
// its Depth) and the same reads; ring i (depth Depths[i*8 +: 8]) drives rd_valid_o[i],
// rd_data_o[i*Width +: Width], rd_miss_o[i] and live_o[i*VersionWidth +: VersionWidth].
// A read of a version outside ring i's window is a miss on ring i alone.
//
// VersionWidth defaults to 8 so that the version counters wrap within a test run.
// Words, Width, VersionWidth, NumRings and Depths are public to Verilator so that the C++
// harness can check them at compile time.
module stash_ring_bank #(
  parameter int unsigned Words        /*verilator public*/ = 8,
  parameter int unsigned Width        /*verilator public*/ = 16,
  parameter int unsigned VersionWidth /*verilator public*/ = 8,
  localparam int unsigned NumRings    /*verilator public*/ = 5,
  localparam int unsigned IdxW = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                             clk_i,
  input  logic                             rst_ni,

  // Shared by every ring: push the live weights before an update.
  input  logic                             push_valid_i,
  input  logic [IdxW-1:0]                  push_idx_i,
  input  logic [Width-1:0]                 push_data_i,
  input  logic                             push_last_i,

  // Shared by every ring: read word rd_idx_i of version rd_ver_i.
  input  logic                             rd_valid_i,
  input  logic [VersionWidth-1:0]          rd_ver_i,
  input  logic [IdxW-1:0]                  rd_idx_i,
  input  logic [Width-1:0]                 rd_live_i,

  // One field per ring.
  output logic [NumRings-1:0]              rd_valid_o,
  output logic [NumRings*Width-1:0]        rd_data_o,
  output logic [NumRings-1:0]              rd_miss_o,
  output logic [NumRings*VersionWidth-1:0] live_o
);
  // Depth of ring i at [i*8 +: 8].
  localparam logic [NumRings*8-1:0] Depths /*verilator public*/ = {8'd6, 8'd3, 8'd2, 8'd1,
                                                                    8'd0};

  for (genvar i = 0; i < NumRings; i++) begin : gen_ring
    stash_ring #(
      .Depth        (32'(Depths[i*8 +: 8])),
      .Words        (Words),
      .Width        (Width),
      .VersionWidth (VersionWidth)
    ) u_ring (
      .clk_i,
      .rst_ni,
      .push_valid_i,
      .push_idx_i,
      .push_data_i,
      .push_last_i,
      .rd_valid_i,
      .rd_ver_i,
      .rd_idx_i,
      .rd_live_i,
      .rd_valid_o (rd_valid_o[i]),
      .rd_data_o  (rd_data_o[i*Width +: Width]),
      .rd_miss_o  (rd_miss_o[i]),
      .live_o     (live_o[i*VersionWidth +: VersionWidth])
    );
  end
endmodule
