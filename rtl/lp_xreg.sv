// lp_xreg: a register between pipeline stages (LAYERPIPE.md s. 2 and 7): one minibatch's
// tensor of Words 32-bit words, with the valid bit and tag (minibatch, learning rate) of
// the minibatch it holds. The producer streams words in (wr_*) and sets the valid bit and
// tag (set_i) when it starts; the consumer reads any word combinationally (rd_idx_i).
// The top orders the two in a step (docs/rtl.md): in the pipeline every consumer copies
// its register out before any producer writes, so one minibatch of storage is enough.
module lp_xreg #(
  parameter int unsigned Words = 16
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        set_i,
  input  logic        set_valid_i,
  input  logic [31:0] set_mb_i,
  input  logic [63:0] set_lr_i,
  input  logic        wr_valid_i,
  input  logic [31:0] wr_idx_i,
  input  logic [31:0] wr_data_i,
  input  logic [31:0] rd_idx_i,
  output logic [31:0] rd_data_o,
  output logic        valid_o,
  output logic [31:0] mb_o,
  output logic [63:0] lr_o,
  output logic [31:0] words_o
);
  logic [31:0] mem [Words];

  assign words_o   = 32'(Words);

  logic unused_idx;   // a 32-bit index; the memory uses the bits it needs
  assign unused_idx = ^wr_idx_i;
  assign rd_data_o = (rd_idx_i < 32'(Words)) ? mem[rd_idx_i] : 32'd0;

  always_ff @(posedge clk_i) begin
    if (wr_valid_i) begin
      mem[wr_idx_i] <= wr_data_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_o <= 1'b0;
      mb_o    <= '0;
      lr_o    <= '0;
    end else if (set_i) begin
      valid_o <= set_valid_i;
      mb_o    <= set_mb_i;
      lr_o    <= set_lr_i;
    end
  end
endmodule
