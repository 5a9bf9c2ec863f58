// stash_ring_bank: test-only top that puts stash_ring at the depths 1, 2, 3 and 6 side by
// side on the same push and read inputs (Depth 1: one slot, the head never moves; 2 and 3:
// small rings; 6: a deep one), so one Verilator build covers the degenerate and small
// rings the pipeline's builds may never elaborate. A test fixture for
// sim/blocks_stash_ring_bank.cpp: it lints and synthesises like every module, but is not
// part of a design.
//
// The geometry is small on purpose: P = 7 rows (a column segment of N = 4 lanes starting
// at row 4 or more runs past the matrix; 7 x 6 also holds every layer of the golden vector
// sets, which sim/replay.c replays through ring 3), Q = 6 columns (not a multiple of N, so each row
// ends in padding words), 16-bit words, and VersionWidth 8, so that the version counters
// wrap within a test run.
//
// Every ring sees the same push stream (so they hold the same versions, each as many as
// its Depth) and the same reads; ring i (depth Depths[i*8 +: 8]) drives rd_valid_o[i],
// rd_data_o[i*N*Width +: N*Width] (lane order), rd_live_o[i], rd_miss_o[i] and
// live_o[i*VersionWidth +: VersionWidth]. A read of a version outside ring i's window is a
// miss on ring i alone.
//
// P, Q, N, Width, VersionWidth, NumRings and Depths are public to Verilator so that the
// C++ harness can check them at compile time.
module stash_ring_bank #(
  parameter int unsigned P            /*verilator public*/ = 7,
  parameter int unsigned Q            /*verilator public*/ = 6,
  parameter int unsigned N            /*verilator public*/ = 4,
  parameter int unsigned Width        /*verilator public*/ = 16,
  parameter int unsigned VersionWidth /*verilator public*/ = 8,
  localparam int unsigned NumRings    /*verilator public*/ = 4
) (
  input  logic                               clk_i,
  input  logic                               rst_ni,

  // Shared by every ring: push a row segment of the live weights, in bank order.
  input  logic                               push_valid_i,
  input  logic [31:0]                        push_p_i,
  input  logic [31:0]                        push_q_i,
  input  logic [31:0]                        push_n_i,
  input  logic [N*Width-1:0]                 push_data_i,
  input  logic                               push_last_i,

  // Shared by every ring: read the column segment at (rd_p_i, rd_q_i) of version rd_ver_i.
  input  logic                               rd_valid_i,
  input  logic [VersionWidth-1:0]            rd_ver_i,
  input  logic [31:0]                        rd_p_i,
  input  logic [31:0]                        rd_q_i,

  // One field per ring.
  output logic [NumRings-1:0]                rd_valid_o,
  output logic [NumRings*N*Width-1:0]        rd_data_o,
  output logic [NumRings-1:0]                rd_live_o,
  output logic [NumRings-1:0]                rd_miss_o,
  output logic [NumRings*VersionWidth-1:0]   live_o
);
  // Depth of ring i at [i*8 +: 8].
  localparam logic [NumRings*8-1:0] Depths /*verilator public*/ = {8'd6, 8'd3, 8'd2, 8'd1};

  for (genvar i = 0; i < NumRings; i++) begin : gen_ring
    stash_ring #(
      .Depth        (32'(Depths[i*8 +: 8])),
      .P            (P),
      .Q            (Q),
      .N            (N),
      .Width        (Width),
      .VersionWidth (VersionWidth)
    ) u_ring (
      .clk_i,
      .rst_ni,
      .push_valid_i,
      .push_p_i,
      .push_q_i,
      .push_n_i,
      .push_data_i,
      .push_last_i,
      .rd_valid_i,
      .rd_ver_i,
      .rd_p_i,
      .rd_q_i,
      .rd_valid_o (rd_valid_o[i]),
      .rd_data_o  (rd_data_o[i*N*Width +: N*Width]),
      .rd_live_o  (rd_live_o[i]),
      .rd_miss_o  (rd_miss_o[i]),
      .live_o     (live_o[i*VersionWidth +: VersionWidth])
    );
  end
endmodule
