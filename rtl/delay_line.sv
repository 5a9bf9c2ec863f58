`include "lp_ff.svh"

// delay_line: the retimed delay registers, Depth pipeline steps long.
//
// Each cycle with step_i the line advances by one step and takes (valid_i, tag_i, data_i)
// in; the output shows what entered Depth steps ago: an entry taken by step n is on the
// output from the cycle after step n + Depth - 1 until the next step. Without step_i
// nothing moves. valid_o is low until Depth steps have passed since reset; a step with
// valid_i low enters a bubble. valid, tag and data are one entry and travel together;
// tag_o and data_o are meaningful while valid_o is high.
//
// Depth 0 is a combinational pass-through (step_i, clk_i and rst_ni unused) and Depth 1
// a single register; 2 <= Depth < RamMin is a shift chain of registers; Depth >= RamMin
// is a RAM-style ring: Depth - 1 entries written and read at one pointer (read-first,
// like a single-port RAM with a synchronous read) and an output register, so each entry
// is read Depth - 1 steps after it was written and shown one step later. The ring's tag
// and data are RAM without reset (as prim_ram_1p): before the first entry reaches the
// output they hold whatever the RAM holds, under valid_o low; its valid bits are
// registers and reset clears them.
//
// Reset (rst_ni, asynchronous, active low) empties the line: valid_o falls at once.
module delay_line #(
  parameter int unsigned Depth  = 5,
  parameter int unsigned Width  = 32,
  parameter int unsigned TagW   = 8,
  parameter int unsigned RamMin = 4    // smallest depth built as a ring, >= 2
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             step_i,
  input  logic             valid_i,
  input  logic [TagW-1:0]  tag_i,
  input  logic [Width-1:0] data_i,
  output logic             valid_o,
  output logic [TagW-1:0]  tag_o,
  output logic [Width-1:0] data_o
);
  if (Width < 1 || TagW < 1) begin : gen_bad_width
    $error("delay_line: Width and TagW must be at least 1");
  end
  if (RamMin < 2) begin : gen_bad_ram_min
    $error("delay_line: RamMin must be at least 2");
  end

  if (Depth == 0) begin : gen_pass
    // No storage: the output is the input.
    logic unused_ctrl;
    assign unused_ctrl = ^{clk_i, rst_ni, step_i};

    assign valid_o = valid_i;
    assign tag_o   = tag_i;
    assign data_o  = data_i;

  end else if (Depth == 1) begin : gen_reg
    // One register, loaded on a step.
    logic             valid_d, valid_q;
    logic [TagW-1:0]  tag_d,   tag_q;
    logic [Width-1:0] data_d,  data_q;

    always_comb begin
      valid_d = valid_q;
      tag_d   = tag_q;
      data_d  = data_q;
      if (step_i) begin
        valid_d = valid_i;
        tag_d   = tag_i;
        data_d  = data_i;
      end
    end

    `LP_FF(valid_q, valid_d, 1'b0)
    `LP_FF(tag_q, tag_d, '0)
    `LP_FF(data_q, data_d, '0)

    assign valid_o = valid_q;
    assign tag_o   = tag_q;
    assign data_o  = data_q;

  end else if (Depth < RamMin) begin : gen_chain
    // Shift chain: the entry s steps old (s = 1..Depth) is valid_q[s-1],
    // tag_q[(s-1)*TagW +: TagW], data_q[(s-1)*Width +: Width].
    logic [Depth-1:0]       valid_d, valid_q;
    logic [Depth*TagW-1:0]  tag_d,   tag_q;
    logic [Depth*Width-1:0] data_d,  data_q;

    always_comb begin
      valid_d = valid_q;
      tag_d   = tag_q;
      data_d  = data_q;
      if (step_i) begin
        valid_d = {valid_q[Depth-2:0], valid_i};
        tag_d   = {tag_q[(Depth-1)*TagW-1:0], tag_i};
        data_d  = {data_q[(Depth-1)*Width-1:0], data_i};
      end
    end

    `LP_FF(valid_q, valid_d, '0)
    `LP_FF(tag_q, tag_d, '0)
    `LP_FF(data_q, data_d, '0)

    assign valid_o = valid_q[Depth-1];
    assign tag_o   = tag_q[(Depth-1)*TagW +: TagW];
    assign data_o  = data_q[(Depth-1)*Width +: Width];

  end else begin : gen_ring
    // Ring of Entries = Depth - 1 slots at one pointer: a step reads the slot (the entry
    // written Entries steps ago) into the output register and writes the new entry in
    // its place, then moves the pointer on.
    localparam int unsigned Entries = Depth - 1;
    localparam int unsigned PtrW    = (Entries > 1) ? $clog2(Entries) : 1;
    localparam int unsigned WordW   = TagW + Width;

    logic [PtrW-1:0]    ptr_d, ptr_q;
    logic [Entries-1:0] slot_valid_d, slot_valid_q;   // valid bits of the slots: registers
    logic               valid_d, valid_q;             // the output register's valid bit
    logic [WordW-1:0]   mem_q [Entries];              // tag and data of the slots: RAM
    logic [WordW-1:0]   rdata_q;                      // the output register's tag and data

    always_comb begin
      ptr_d        = ptr_q;
      slot_valid_d = slot_valid_q;
      valid_d      = valid_q;
      if (step_i) begin
        valid_d               = slot_valid_q[ptr_q];
        slot_valid_d[ptr_q]   = valid_i;
        ptr_d = (ptr_q == PtrW'(Entries - 1)) ? '0 : ptr_q + PtrW'(1);
      end
    end

    `LP_FF(ptr_q, ptr_d, '0)
    `LP_FF(slot_valid_q, slot_valid_d, '0)
    `LP_FF(valid_q, valid_d, 1'b0)

    // The RAM and its read register have no reset (valid_q says when they mean something).
    always_ff @(posedge clk_i) begin
      if (step_i) begin
        rdata_q      <= mem_q[ptr_q];
        mem_q[ptr_q] <= {tag_i, data_i};
      end
    end

    assign valid_o = valid_q;
    assign tag_o   = rdata_q[Width +: TagW];
    assign data_o  = rdata_q[Width-1:0];
  end
endmodule
