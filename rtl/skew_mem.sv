// skew_mem: Slots matrices of P x Q words in N banks, laid out so that a row and a
// column of the matrix can both be read at the array's rate (N words a cycle).
//
// Layout (Skew = 1): element (p, q) of slot s lives in bank (p + q) mod N at address
//   s*P*QB + p*QB + (q >> log2 N),   QB = ceil(Q / N)
// so N consecutive elements of a row (p fixed) and N consecutive elements of a column
// (q fixed) fall in N different banks. Skew = 0 places (p, q) in bank q mod N: rows only.
// N is a power of two; a row of Q words takes QB words of every bank (the last ones of a
// row are padding when N does not divide Q).
//
// Accesses name their first element (p, q) and run along the row (lane l is (p, q + l))
// or down the column (rd_col_i: lane l is (p + l, q)). Lane l sits in bank
// (base + l) mod N, base = (p + q) mod N (Skew) or q mod N, whichever the direction, so
// the banks' addresses and the lanes' data are the same rotation.
//   read   two cycles: rd_data_o in lane order, rd_bank_o in bank order, from the second
//          cycle after rd_valid_i until the next read's words replace them. The first
//          register is the SRAM's own (its read data comes an access time after the clock,
//          docs/reports.md "SRAM timing"), the second an output register per bank, so that
//          nothing but a wire lies between a macro and a flip-flop; the lane rotation
//          follows it. Lanes past the matrix read whatever their bank holds.
//   write  along a row, lanes 0 .. wr_n_i - 1 (the caller keeps q + l < Q); wr_data_i in
//          lane order, or in bank order (wr_bank_i: the word for bank b at b, as rd_bank_o
//          gives it, for a copy between memories of the same geometry).
// Each bank has one write and one read port (1R1W SRAM); a read and a write of the same
// word in one cycle return the old word.
//
// Kind and RegSlots change nothing in the hardware: they say what the memory holds, for
// the area report (sw/report.c): 0 activations x, 1 outputs y (the relu mask), 2 errors
// dy, 3 weights, 4 master weights, 5 velocity, 6 the EMA buffer, 7 a stash ring; RegSlots
// of its Slots are a register between stages (a spare x slot, a second dy buffer).
module skew_mem #(
  parameter int unsigned Kind     = 0,
  parameter int unsigned RegSlots = 0,
  parameter int unsigned N     = 4,
  parameter int unsigned P     = 5,
  parameter int unsigned Q     = 7,
  parameter int unsigned Slots = 1,
  parameter int unsigned Width = 32,
  parameter bit          Skew  = 1'b1,
  localparam int unsigned LogN  = $clog2(N),               // 0 for one bank
  localparam int unsigned BW    = (LogN > 0) ? LogN : 1,    // bits of a bank number
  localparam int unsigned QB    = (Q + N - 1) / N,
  localparam int unsigned Depth = (Slots * P * QB > 0) ? Slots * P * QB : 1,
  localparam int unsigned AW    = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic               clk_i,

  input  logic               rd_valid_i,
  input  logic               rd_col_i,
  input  logic [7:0]         rd_slot_i,
  input  logic [31:0]        rd_p_i,
  input  logic [31:0]        rd_q_i,
  output logic [N*Width-1:0] rd_data_o,
  output logic [N*Width-1:0] rd_bank_o,

  input  logic               wr_valid_i,
  input  logic               wr_bank_i,
  input  logic [7:0]         wr_slot_i,
  input  logic [31:0]        wr_p_i,
  input  logic [31:0]        wr_q_i,
  input  logic [31:0]        wr_n_i,
  input  logic [N*Width-1:0] wr_data_i
);
  if (N < 1 || (N & (N - 1)) != 0) begin : gen_bad_n
    $error("skew_mem: N must be a power of two");
  end
  if (Kind > 7 || RegSlots > Slots) begin : gen_bad_label
    $error("skew_mem: Kind is 0..7 and RegSlots at most Slots");
  end

  localparam logic [31:0] Mask = 32'(N - 1);

  // The bank holding lane 0: (p + q) mod N, or q mod N.
  function automatic logic [31:0] base_of(logic [31:0] p, logic [31:0] q);
    base_of = (Skew ? p + q : q) & Mask;
  endfunction

  // The address of lane l of an access at (p, q) in slot s.
  function automatic logic [31:0] addr_of(logic [7:0] s, logic [31:0] p, logic [31:0] q,
                                          logic col, logic [31:0] l);
    logic [31:0] row, qq;
    row = col ? p + l : p;
    qq  = col ? q : q + l;
    addr_of = {24'd0, s} * 32'(P * QB) + row * 32'(QB) + (qq >> LogN);
  endfunction

  logic [31:0]       rbase, wbase;
  logic [BW-1:0]     rbase_q;
  logic [N-1:0]      re, we;
  logic [AW-1:0]     raddr [N];
  logic [AW-1:0]     waddr [N];
  logic [Width-1:0]  wdata [N];
  logic [Width-1:0]  rdata_q [N];      // the SRAM's read register
  logic [Width-1:0]  rdata_q2 [N];     // the output register
  logic [BW-1:0]     rbase_q2;

  assign rbase = base_of(rd_p_i, rd_q_i);
  assign wbase = base_of(wr_p_i, wr_q_i);

  always_comb begin
    for (int unsigned b = 0; b < N; b++) begin
      logic [31:0] rl, wl;
      rl = (32'(b) - rbase) & Mask;        // the lane bank b serves
      wl = (32'(b) - wbase) & Mask;
      re[b]    = rd_valid_i;
      raddr[b] = AW'(addr_of(rd_slot_i, rd_p_i, rd_q_i, rd_col_i, rl));
      we[b]    = wr_valid_i && (wl < wr_n_i);
      waddr[b] = AW'(addr_of(wr_slot_i, wr_p_i, wr_q_i, 1'b0, wl));
      wdata[b] = wr_bank_i ? wr_data_i[b*Width +: Width] : wr_data_i[wl*Width +: Width];
    end
  end

  // The banks: one write port and one registered read port each, no reset.
  for (genvar b = 0; b < N; b++) begin : gen_bank
    logic [Width-1:0] mem [Depth];
    always_ff @(posedge clk_i) begin
      if (we[b]) begin
        mem[waddr[b]] <= wdata[b];
      end
      if (re[b]) begin
        rdata_q[b] <= mem[raddr[b]];
      end
    end
  end

  // The output register loads every cycle, with no enable between the macro and it: the
  // SRAM's register holds its words until the next read, so this one holds them too, a
  // cycle later. No reset: the outputs mean nothing before the first read's words arrive.
  always_ff @(posedge clk_i) begin
    if (rd_valid_i) begin
      rbase_q <= rbase[BW-1:0];
    end
    rbase_q2 <= rbase_q;
    for (int unsigned b = 0; b < N; b++) begin
      rdata_q2[b] <= rdata_q[b];
    end
  end

  always_comb begin
    for (int unsigned l = 0; l < N; l++) begin
      logic [BW-1:0] b;
      b = BW'((32'(l) + 32'(rbase_q2)) & Mask);
      rd_data_o[l*Width +: Width] = rdata_q2[b];
      rd_bank_o[l*Width +: Width] = rdata_q2[l];
    end
  end

`ifndef SYNTHESIS
  // ---------------------------------------------------------------- assertions
  // What docs/rtl.md states of this module, checked in every simulation (Verilator
  // --assert; docs/rtl.md, Assertions). Yosys defines SYNTHESIS and reads none of it.
  // A write names slot, row and lanes inside the matrix ("the caller keeps q + l < Q").
  a_write_inside: assert property (@(posedge clk_i)
      wr_valid_i |-> wr_slot_i < 8'(Slots) && wr_p_i < 32'(P) && wr_n_i >= 32'd1 &&
                     wr_n_i <= 32'(N) && wr_q_i + wr_n_i <= 32'(Q))
    else $error("skew_mem (kind %0d): write of %0d lanes at slot %0d (%0d, %0d) outside %0d x %0d x %0d",
                Kind, wr_n_i, wr_slot_i, wr_p_i, wr_q_i, Slots, P, Q);
`endif
endmodule
