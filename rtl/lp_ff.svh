// rtl/lp_ff.svh - the register macros (after OpenTitan's prim_flop_macros.svh): every
// register with a reset is one line, so an always_ff block only ever latches. The clock
// is clk_i, the reset rst_ni (active low, asynchronous), as in every module here.
//   `LP_FF(q, d, rst)        q takes rst in reset, then d on every clock
//   `LP_FFE(q, d, en, rst)   ... then d on the clocks where en is high (q holds otherwise)
// Registers without a reset (wide data whose valid bit has one) keep a plain
// always_ff @(posedge clk_i). Yosys and Verilator read this file through `include, from
// the directory of the file that includes it (Verilator: -I rtl).
`ifndef LP_FF_SVH
`define LP_FF_SVH

`define LP_FF(q, d, rst) \
  always_ff @(posedge clk_i or negedge rst_ni) begin \
    if (!rst_ni) q <= (rst); \
    else q <= (d); \
  end

`define LP_FFE(q, d, en, rst) \
  always_ff @(posedge clk_i or negedge rst_ni) begin \
    if (!rst_ni) q <= (rst); \
    else if (en) q <= (d); \
  end

`endif
