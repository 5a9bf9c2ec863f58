// lp_pkg: the bundles the pipeline passes from lp_top down to its layers. Modules name
// them qualified (lp_pkg::numerics_t): Yosys 0.23 rejects `import` in a module header.
// Yosys 0.23 reads neither $bits of a package type nor packed arrays of structs, so a
// vector of bundles (one per layer) is a flat vector of *W-bit fields, field j at
// [j*W +: W]; lp_top checks each *W against $bits in simulation.
// A module uses some of its constants: the others are not a lint finding there.
/* verilator lint_off UNUSEDPARAM */
package lp_pkg;

  // A fixed-point format: total bits (2..32) and fraction bits (docs/numerics.md).
  typedef struct packed {
    logic [5:0] bits;
    logic [4:0] frac;
  } fmt_t;

  // The formats, rounding mode and optimizer constants: runtime inputs, so that one
  // build serves every config (docs/numerics.md). wd is weight decay (Q.32 of a 64-bit
  // word as the model's fixed_wd), mu the momentum (Q.16). The EMA's beta is per layer
  // and travels on its own.
  typedef struct packed {
    logic        round_even;   // 1 nearest-even, 0 floor
    fmt_t        act;
    fmt_t        err;
    fmt_t        weight;
    fmt_t        master;
    fmt_t        grad;
    logic [63:0] wd;
    logic [15:0] mu;
  } numerics_t;
  localparam int unsigned NumericsW = 1 + 5 * 11 + 64 + 16;

  // What an observation port reports about one row segment (docs/rtl.md, Observation
  // port): lanes 0 .. n-1 valid, lane c at element idx + c*stride of the layer's value of
  // this kind (the model's probe kinds: 2 activation, 4 error, 5 the backward's weights,
  // 6 gradient, 7 updated weights, with the master weights as kind 8 beside them) for
  // minibatch mb. The lanes' data travel beside it.
  typedef struct packed {
    logic        valid;
    logic [3:0]  kind;
    logic [31:0] mb;
    logic [31:0] idx;
    logic [31:0] stride;
    logic [31:0] n;
  } obs_t;
  localparam int unsigned ObsW = 1 + 4 + 4 * 32;

  // What a layer holds, in words (docs/rtl.md): its activation delay line (x and y,
  // without the spare slot), the inter-stage registers it holds, its history (stash,
  // EMA). A stage and lp_top report each field summed over their layers (32-bit fields,
  // field f at [f*32 +: 32] of the flat vector).
  typedef struct packed {
    logic [31:0] act;
    logic [31:0] fwd_reg;
    logic [31:0] bwd_reg;
    logic [31:0] stash;
    logic [31:0] ema;
  } mem_words_t;
  localparam int unsigned MemWordsW = 5 * 32;

  localparam logic [3:0] KindAct   = 4'd2;
  localparam logic [3:0] KindErr   = 4'd4;
  localparam logic [3:0] KindBwdW  = 4'd5;
  localparam logic [3:0] KindGrad  = 4'd6;
  localparam logic [3:0] KindWUpd  = 4'd7;

endpackage
/* verilator lint_on UNUSEDPARAM */
