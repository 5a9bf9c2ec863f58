// delay_line_bank: test-only top that puts delay_line at the depths 0, 1, 2, 3, 4, 5, 8
// and 17 side by side on the same inputs (RamMin 4: pass-through, register, two shift
// chains, four rings), so one Verilator build covers every structure. A test fixture
// for sim/blocks_delay_line_bank.cpp: it lints and synthesises like every module, but
// is not part of a design.
//
// Line i (depth Depths[i*32 +: 32]) drives valid_o[i], tag_o[i*TagW +: TagW] and
// data_o[i*Width +: Width].
//
// The parameters are public to Verilator so that the C++ harness can check them at
// compile time.
module delay_line_bank #(
  parameter int unsigned Width  /*verilator public*/ = 32,
  parameter int unsigned TagW   /*verilator public*/ = 8,
  parameter int unsigned RamMin /*verilator public*/ = 4
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               step_i,
  input  logic               valid_i,
  input  logic [TagW-1:0]    tag_i,
  input  logic [Width-1:0]   data_i,
  output logic [7:0]         valid_o,    // one bit per line
  output logic [8*TagW-1:0]  tag_o,
  output logic [8*Width-1:0] data_o
);
  localparam int unsigned NumLines = 8;
  // Depth of line i at [i*32 +: 32] (32 bits: the width of the int unsigned parameter).
  localparam logic [NumLines*32-1:0] Depths = {32'd17, 32'd8, 32'd5, 32'd4,
                                               32'd3,  32'd2, 32'd1, 32'd0};

  for (genvar i = 0; i < NumLines; i++) begin : gen_line
    delay_line #(
      .Depth  (Depths[i*32 +: 32]),
      .Width  (Width),
      .TagW   (TagW),
      .RamMin (RamMin)
    ) u_line (
      .clk_i,
      .rst_ni,
      .step_i,
      .valid_i,
      .tag_i,
      .data_i,
      .valid_o (valid_o[i]),
      .tag_o   (tag_o[i*TagW +: TagW]),
      .data_o  (data_o[i*Width +: Width])
    );
  end
endmodule
