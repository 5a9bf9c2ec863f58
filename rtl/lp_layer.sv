// lp_layer: one dense layer of a pipeline stage: its weights and optimizer state, its
// activation delay line, its weight history (stash ring or EMA buffer) and the engine
// that runs its forward, backward, weight gradient and update (LAYERPIPE.md s. 3 and 7,
// docs/numerics.md; bit-exact with model/fixed.c, docs/rtl.md describes the schedule).
//
// Memories (32-bit words; the formats are runtime inputs, at most 32 bits):
//   w, master, vel   Params words each: W[i*Out + o], then the bias at In*Out + o
//   m                the EMA buffer, Params words (Policy ema and Delay > 0 only)
//   act              the activation delay line: Delay+1 slots, each the minibatch's
//                    input (Batch*In) and, with Relu, its output (Batch*Out) for the mask
//   dy               the output error of the minibatch in backward (Batch*Out)
//   wb               the backward's weights, read once per backward out of the stash ring
//                    or rebuilt by the EMA unit (Policy stash/ema and Delay > 0 only)
// A tag (minibatch, learning rate, weight version, slot) follows each forward through a
// delay_line of Delay steps to the matching backward.
//
// Commands (cmd_i with cmd_fwd_i: 1 forward, 0 backward; busy_o until done):
//   forward   acc[b][o] = sum_i x[b][i]*W[i][o] + bias[o] << act_frac on the MAC array,
//             narrowed to the activation format, relu; each word is written to the act
//             slot and leaves on fo_* (index b*Out + o).
//   backward  1. (history) wb <- the forward's weights, one word a cycle
//             2. (not the first layer) dx[b][i] = sum_o dy[b][o]*Wb[i][o], narrowed to the
//                error format, leaves on bo_* (index b*In + i)
//             3. dW[i][o] = sum_b x[b][i]*dy[b][o] and db[o] = sum_b dy[b][o], narrowed to
//                the gradient format, each word straight into sgd_update (the stash ring
//                takes the live word in the same cycle), which writes back 6 cycles later
// Inputs: in_* writes the forward's input into the current slot (before the forward);
// bi_* writes dy through the relu mask of the backward minibatch's stored output.
// step_i ends a pipeline step: the forward's tag enters the delay line.
//
// obs_*: every value the golden model's probe reports, as produced (kind = enum
// train_probe: 2 activation, 4 error, 5 backward weights, 6 gradient) and obsw_*: each
// update written back (7 weights, 8 master), for the co-simulation; nothing inside
// depends on them.
module lp_layer #(
  parameter int unsigned In        = 8,
  parameter int unsigned Out       = 6,
  parameter int unsigned Batch     = 4,
  parameter int unsigned Delay     = 0,   // 2*S: the forward -> backward gap in steps
  parameter int unsigned Policy    = 0,   // 0 stale, 1 stash, 2 ema (sequential: Delay 0)
  parameter int unsigned Relu      = 1,
  parameter int unsigned Bias      = 1,
  parameter int unsigned First     = 0,    // the network's first layer: no dx
  parameter int unsigned Rows      = 4,
  parameter int unsigned Cols      = 4,
  parameter int unsigned MulStages = 2,   // mac_array's: its latency is MulStages + 1
  parameter int unsigned OpW       = 32,  // MAC operands: wide enough for every format used
  parameter int unsigned AccW      = 64,  // MAC accumulators: numerics.accumulator_bits
  localparam bit          HasRelu  = (Relu != 0),
  localparam bit          HasBias  = (Bias != 0),
  localparam bit          IsFirst  = (First != 0),
  localparam int unsigned Params   = In * Out + (HasBias ? Out : 0),
  localparam bit          Hist     = (Policy != 0) && (Delay > 0),
  localparam bit          Ema      = (Policy == 2) && (Delay > 0),
  localparam int unsigned Slots    = Delay + 1,
  localparam int unsigned SlotW    = Batch * In + (HasRelu ? Batch * Out : 0),
  localparam int unsigned ActWords = Slots * SlotW,
  localparam int unsigned EmaWords = Ema ? Params : 0,
  localparam int unsigned StashWords = (Policy == 1) ? Delay * Params : 0,
  localparam int unsigned WbWords  = Hist ? Params : 1
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  // Formats, rounding and optimizer constants (docs/numerics.md).
  input  logic               round_even_i,
  input  logic [5:0]         act_bits_i,
  input  logic [4:0]         act_frac_i,
  input  logic [5:0]         err_bits_i,
  input  logic [4:0]         err_frac_i,
  input  logic [5:0]         weight_bits_i,
  input  logic [4:0]         weight_frac_i,
  input  logic [5:0]         master_bits_i,
  input  logic [4:0]         master_frac_i,
  input  logic [5:0]         grad_bits_i,
  input  logic [4:0]         grad_frac_i,
  input  logic [63:0]        wd_i,
  input  logic [15:0]        mu_i,
  input  logic [15:0]        beta_i,

  // Initial weights (host, between steps): w and master at init_idx_i; vel and m <- 0.
  input  logic               init_valid_i,
  input  logic [31:0]        init_idx_i,
  input  logic [31:0]        init_w_i,
  input  logic [31:0]        init_master_i,

  input  logic               cmd_i,
  input  logic               cmd_fwd_i,
  input  logic [31:0]        cmd_mb_i,      // forward: the minibatch
  input  logic [63:0]        cmd_lr_i,      // forward: its learning rate (per sample)
  output logic               busy_o,
  input  logic               step_i,

  input  logic               in_valid_i,
  input  logic [31:0]        in_idx_i,
  input  logic [31:0]        in_data_i,
  input  logic               bi_valid_i,
  input  logic [31:0]        bi_idx_i,
  input  logic [31:0]        bi_data_i,

  output logic               fo_valid_o,
  output logic [31:0]        fo_idx_o,
  output logic [31:0]        fo_data_o,
  output logic               bo_valid_o,
  output logic [31:0]        bo_idx_o,
  output logic [31:0]        bo_data_o,

  // The forward's tag, for the stage's output register.
  output logic [31:0]        fwd_mb_o,
  output logic [63:0]        fwd_lr_o,
  output logic [31:0]        bwd_mb_o,      // the minibatch the backward serves
  output logic               bwd_ready_o,   // a forward's tag has come out of the delay line

  output logic               obs_valid_o,
  output logic [3:0]         obs_kind_o,
  output logic [31:0]        obs_mb_o,
  output logic [31:0]        obs_idx_o,
  output logic [31:0]        obs_data_o,
  output logic               obsw_valid_o,  // an update written back (kind 7 and 8)
  output logic [31:0]        obsw_idx_o,
  output logic [31:0]        obsw_w_o,
  output logic [31:0]        obsw_master_o,
  output logic               error_o,       // sticky: a stash read missed its version

  // What this layer instantiated, in words.
  output logic [31:0]        act_words_o,
  output logic [31:0]        stash_words_o,
  output logic [31:0]        ema_words_o
);
  localparam logic [3:0] KAct = 4'd2, KErr = 4'd4, KBwdW = 4'd5, KGrad = 4'd6;
  localparam int unsigned RC = Rows * Cols;

  assign act_words_o   = 32'(ActWords);
  assign stash_words_o = 32'(StashWords);
  assign ema_words_o   = 32'(EmaWords);

  logic [31:0] w_mem      [Params];
  logic [31:0] master_mem [Params];
  logic [31:0] vel_mem    [Params];
  logic [31:0] act_mem    [ActWords];
  logic [31:0] dy_mem     [Batch * Out];
  logic [31:0] wb_mem     [WbWords];

  // ---------------------------------------------------------------- tags and slots
  localparam int unsigned TagDataW = 64 + 32 + 32;   // lr, version, slot
  logic [31:0] live_q;                    // updates applied
  logic [31:0] wp_q;                      // the slot the next forward writes
  logic        fwd_ran_q;                 // a forward ran in this step
  logic [31:0] fmb_q;
  logic [63:0] flr_q;
  logic [31:0] fver_q;
  logic        bv;                        // the backward minibatch's tag
  logic [31:0] bmb;
  logic [TagDataW-1:0] bdata;
  logic [63:0] blr;
  logic [31:0] bver, bslot;

  delay_line #(.Depth(Delay), .Width(TagDataW), .TagW(32)) u_tags (
    .clk_i, .rst_ni, .step_i,
    .valid_i (fwd_ran_q),
    .tag_i   (fmb_q),
    .data_i  ({flr_q, fver_q, wp_q}),
    .valid_o (bv),
    .tag_o   (bmb),
    .data_o  (bdata)
  );
  assign blr   = bdata[127:64];
  assign bver  = bdata[63:32];
  assign bslot = bdata[31:0];
  assign fwd_mb_o    = fmb_q;
  assign fwd_lr_o    = flr_q;
  assign bwd_mb_o    = bmb;
  assign bwd_ready_o = bv;

  // ---------------------------------------------------------------- control
  typedef enum logic [2:0] {SIdle, SFwd, SWb, SDx, SDw, SDb, SWait} state_e;
  state_e st_q;
  localparam logic [1:0] OpFwd = 2'd0, OpDx = 2'd1, OpDw = 2'd2, OpDb = 2'd3;

  // The product engine: C[Mdim x Ndim] over Kdim beats (+1 bias beat), tile by tile.
  logic        pe_run_q;                  // issuing beats
  logic [1:0]  op_q;
  logic [31:0] mdim, ndim, kdim;
  logic [31:0] i0_q, j0_q, k_q;
  logic        inflight_q;                // a tile's last beat is in the MAC array
  logic [31:0] fi0_q, fj0_q;              // that tile's origin
  logic [31:0] dr_q, dc_q, drows_q, dcols_q;   // drain position and extent
  logic        dbusy_q;
  logic [RC*AccW-1:0] dbuf_q;             // the captured tile's sums
  logic [31:0] di0_q, dj0_q;

  always_comb begin
    mdim = 32'(Batch);
    ndim = 32'(Out);
    kdim = 32'(In) + (HasBias ? 32'd1 : 32'd0);
    case (op_q)
      OpDx: begin mdim = 32'(Batch); ndim = 32'(In);  kdim = 32'(Out);   end
      OpDw: begin mdim = 32'(In);    ndim = 32'(Out); kdim = 32'(Batch); end
      OpDb: begin mdim = 32'd1;      ndim = 32'(Out); kdim = 32'(Batch); end
      default: ;
    endcase
  end

  // Operands of beat k_q of tile (i0_q, j0_q).
  logic [31:0] fslot_base, bslot_base;
  assign fslot_base = wp_q * 32'(SlotW);
  assign bslot_base = bslot * 32'(SlotW);

  // Operands are the low OpW bits of the 32-bit words (the values fit: the formats
  // are at most OpW bits wide, and 1 << act_frac below 2^(OpW-1)).
  logic [Rows*OpW-1:0] a_beat;
  logic [Cols*OpW-1:0] b_beat;
  always_comb begin
    a_beat = '0;
    b_beat = '0;
    for (int unsigned r = 0; r < Rows; r++) begin
      logic [31:0] i, w;
      i = i0_q + 32'(r);
      case (op_q)
        OpFwd:   w = (k_q == 32'(In)) ? (32'd1 << act_frac_i)
                                      : act_mem[fslot_base + i * 32'(In) + k_q];
        OpDx:    w = dy_mem[i * 32'(Out) + k_q];
        OpDw:    w = act_mem[bslot_base + k_q * 32'(In) + i];
        default: w = 32'd1;
      endcase
      if (i < mdim) begin
        a_beat[r*OpW +: OpW] = OpW'(w);
      end
    end
    for (int unsigned c = 0; c < Cols; c++) begin
      logic [31:0] j, w;
      j = j0_q + 32'(c);
      case (op_q)
        OpFwd:   w = w_mem[k_q * 32'(Out) + j];   // the bias row: k = In
        OpDx:    w = Hist ? wb_mem[j * 32'(Out) + k_q] : w_mem[j * 32'(Out) + k_q];
        default: w = dy_mem[k_q * 32'(Out) + j];
      endcase
      if (j < ndim) begin
        b_beat[c*OpW +: OpW] = OpW'(w);
      end
    end
  end

  logic        beat_last, can_last, issue;
  assign beat_last = (k_q + 32'd1 == kdim);
  assign can_last  = !inflight_q && !dbusy_q;
  assign issue     = pe_run_q && (!beat_last || can_last);

  logic               mac_valid;
  logic [RC*AccW-1:0] mac_acc;
  logic [7:0]         unused_mac_tag;
  mac_array #(.Rows(Rows), .Cols(Cols), .OpW(OpW), .AccW(AccW), .MulStages(MulStages),
              .TagW(8)) u_mac (
    .clk_i, .rst_ni,
    .in_valid_i  (issue),
    .clear_i     (k_q == 32'd0),
    .last_i      (beat_last),
    .tag_i       (8'd0),
    .a_i         (a_beat),
    .b_i         (b_beat),
    .out_valid_o (mac_valid),
    .out_tag_o   (unused_mac_tag),
    .acc_o       (mac_acc)
  );

  // Drain: one sum a cycle through the narrowing unit.
  logic signed [7:0]  nshift;
  logic        [5:0]  nbits;
  always_comb begin
    case (op_q)
      OpFwd:   begin nshift = 8'(weight_frac_i); nbits = act_bits_i; end
      OpDx:    begin nshift = 8'(weight_frac_i); nbits = err_bits_i; end
      OpDw:    begin nshift = 8'(act_frac_i) + 8'(err_frac_i) - 8'(grad_frac_i);
                     nbits = grad_bits_i; end
      default: begin nshift = 8'(err_frac_i) - 8'(grad_frac_i); nbits = grad_bits_i; end
    endcase
  end
  logic signed [31:0] ny;
  // The drained sum, sign-extended into fx_narrow: a mux of the RC sums by their index
  // (a part-select at a computed offset would synthesise to a barrel shifter across the
  // whole RC*AccW-bit tile).
  logic signed [AccW-1:0] dsum;
  logic [31:0]            dsel;
  assign dsel = dr_q * 32'(Cols) + dc_q;
  always_comb begin
    dsum = '0;
    for (int unsigned x = 0; x < RC; x++) begin
      if (dsel == 32'(x)) begin
        dsum = dbuf_q[x*AccW +: AccW];
      end
    end
  end
  logic               unused_nsat;
  fx_narrow u_narrow (
    .x_i          (64'(dsum)),
    .shift_i      (nshift),
    .bits_i       (nbits),
    .round_even_i,
    .y_o          (ny),
    .sat_o        (unused_nsat)
  );
  logic [31:0] di, dj;                    // the drained word's row and column
  assign di = di0_q + dr_q;
  assign dj = dj0_q + dc_q;

  // The drained word, registered: it leaves as an output word or enters the update.
  logic        dv_q;
  logic [1:0]  dop_q;
  logic [31:0] didx_q, dval_q;
  logic        dlast_q;                   // the last gradient word of the backward

  // ---- history read (backward step 1): P words through the stash ring or EMA unit
  logic [31:0] hr_q, hw_q;                // words issued, words written
  logic        hr_valid;
  logic        hist_out_valid;
  logic [31:0] hist_out;
  logic [31:0] hr_idx;                    // hr_q, kept in range when no read is issued
  assign hr_valid = (st_q == SWb) && (hr_q < 32'(Params));
  assign hr_idx   = hr_valid ? hr_q : 32'd0;

  // ---- update (backward step 3)
  logic        up_valid;
  logic [31:0] up_idx;
  assign up_valid = dv_q && (dop_q == OpDw || dop_q == OpDb);
  assign up_idx   = didx_q;
  logic        su_valid;
  logic [31:0] su_master, su_w, su_vel, su_m;
  logic [2:0]  unused_sat_cnt;
  logic [31:0] up_m_in;
  sgd_update #(.HasEma(Ema)) u_sgd (
    .clk_i, .rst_ni,
    .valid_i       (up_valid),
    .grad_i        (dval_q),
    .vel_i         (vel_mem[up_idx]),
    .master_i      (master_mem[up_idx]),
    .m_i           (up_m_in),
    .lr_i          (blr),
    .wd_i, .mu_i, .beta_i,
    .ema_en_i      (Ema),
    .round_even_i,
    .weight_bits_i, .weight_frac_i, .master_bits_i, .master_frac_i,
    .grad_bits_i, .grad_frac_i,
    .valid_o       (su_valid),
    .master_o      (su_master),
    .w_o           (su_w),
    .vel_o         (su_vel),
    .m_o           (su_m),
    .sat_cnt_o     (unused_sat_cnt)
  );
  // The update's index, 6 cycles behind (sgd_update's latency).
  logic [6*32-1:0] uidx_q;
  logic [31:0]     su_idx, uw_q;          // updates written back
  assign su_idx = uidx_q[5*32 +: 32];

  logic stash_miss;
  if (Ema) begin : gen_ema
    logic [31:0] m_mem [Params];
    logic        unused_st;
    logic [31:0] unused_st_m;
    logic        unused_rb_sat, unused_st_sat;
    assign up_m_in = m_mem[up_idx];
    ema_unit #(.RebuildEn(1'b1), .StepEn(1'b0)) u_ema (
      .clk_i, .rst_ni, .round_even_i,
      .master_bits_i, .master_frac_i, .weight_bits_i, .weight_frac_i,
      .rb_valid_i  (hr_valid),
      .rb_master_i (master_mem[hr_idx]),
      .rb_m_i      (m_mem[hr_idx]),
      .rb_gap_i    (16'(live_q - bver)),
      .rb_valid_o  (hist_out_valid),
      .rb_w_o      (hist_out),
      .rb_sat_o    (unused_rb_sat),
      .st_valid_i  (1'b0),
      .st_m_i      (32'sd0),
      .st_u_i      (32'sd0),
      .st_beta_i   (16'd0),
      .st_valid_o  (unused_st),
      .st_m_o      (unused_st_m),
      .st_sat_o    (unused_st_sat)
    );
    always_ff @(posedge clk_i) begin
      if (init_valid_i) begin
        m_mem[init_idx_i] <= 32'd0;
      end else if (su_valid) begin
        m_mem[su_idx] <= su_m;
      end
    end
    assign stash_miss = 1'b0;
  end else if (Policy == 1 && Delay > 0) begin : gen_stash
    logic [31:0] unused_live;
    assign up_m_in = 32'd0;
    stash_ring #(.Depth(Delay), .Words(Params), .Width(32), .VersionWidth(32)) u_stash (
      .clk_i, .rst_ni,
      .push_valid_i (up_valid),
      .push_idx_i   ($clog2(Params > 1 ? Params : 2)'(up_idx)),
      .push_data_i  (w_mem[up_idx]),
      .push_last_i  (dlast_q),
      .rd_valid_i   (hr_valid),
      .rd_ver_i     (bver),
      .rd_idx_i     ($clog2(Params > 1 ? Params : 2)'(hr_idx)),
      .rd_live_i    (w_mem[hr_idx]),
      .rd_valid_o   (hist_out_valid),
      .rd_data_o    (hist_out),
      .rd_miss_o    (stash_miss),
      .live_o       (unused_live)
    );
  end else begin : gen_no_hist
    logic unused_hist;
    assign unused_hist = ^{beta_i, hr_valid, bver};
    assign up_m_in = 32'd0;
    assign hist_out_valid = 1'b0;
    assign hist_out = 32'd0;
    assign stash_miss = 1'b0;
  end

  // ---- the sequencer
  logic [31:0] ng_q;                      // gradient words sent to the update
  logic        pe_done;
  assign pe_done = !pe_run_q && !inflight_q && !dbusy_q && !dv_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= SIdle;
      pe_run_q <= 1'b0;
      op_q <= OpFwd;
      i0_q <= '0; j0_q <= '0; k_q <= '0;
      inflight_q <= 1'b0;
      fi0_q <= '0; fj0_q <= '0;
      dbusy_q <= 1'b0;
      dr_q <= '0; dc_q <= '0; drows_q <= '0; dcols_q <= '0;
      di0_q <= '0; dj0_q <= '0;
      dv_q <= 1'b0; dop_q <= OpFwd; didx_q <= '0; dval_q <= '0; dlast_q <= 1'b0;
      hr_q <= '0; hw_q <= '0; ng_q <= '0; uw_q <= '0; uidx_q <= '0;
      live_q <= '0; wp_q <= '0; fwd_ran_q <= 1'b0;
      fmb_q <= '0; flr_q <= '0; fver_q <= '0;
      error_o <= 1'b0;
    end else begin
      // Step end: the forward's tag has entered the delay line; the slot advances.
      if (step_i) begin
        fwd_ran_q <= 1'b0;
        if (fwd_ran_q) begin
          wp_q <= (wp_q + 32'd1 == 32'(Slots)) ? 32'd0 : wp_q + 32'd1;
        end
      end
      if (stash_miss) begin
        error_o <= 1'b1;
      end

      // Issue.
      if (issue) begin
        if (!beat_last) begin
          k_q <= k_q + 32'd1;
        end else begin
          k_q <= '0;
          inflight_q <= 1'b1;
          fi0_q <= i0_q;
          fj0_q <= j0_q;
          if (j0_q + 32'(Cols) < ndim) begin
            j0_q <= j0_q + 32'(Cols);
          end else begin
            j0_q <= '0;
            if (i0_q + 32'(Rows) < mdim) begin
              i0_q <= i0_q + 32'(Rows);
            end else begin
              i0_q <= '0;
              pe_run_q <= 1'b0;
            end
          end
        end
      end

      // Capture a finished tile; drain it one word a cycle.
      dv_q <= 1'b0;
      dlast_q <= 1'b0;
      if (mac_valid) begin
        dbuf_q <= mac_acc;
        inflight_q <= 1'b0;
        dbusy_q <= 1'b1;
        dr_q <= '0;
        dc_q <= '0;
        di0_q <= fi0_q;
        dj0_q <= fj0_q;
        drows_q <= (mdim - fi0_q < 32'(Rows)) ? mdim - fi0_q : 32'(Rows);
        dcols_q <= (ndim - fj0_q < 32'(Cols)) ? ndim - fj0_q : 32'(Cols);
      end else if (dbusy_q) begin
        dv_q <= 1'b1;
        dop_q <= op_q;
        case (op_q)
          OpFwd: begin
            didx_q <= di * 32'(Out) + dj;
            dval_q <= (HasRelu && ny[31]) ? 32'd0 : ny;
          end
          OpDx: begin
            didx_q <= di * 32'(In) + dj;
            dval_q <= ny;
          end
          OpDw: begin
            didx_q <= di * 32'(Out) + dj;
            dval_q <= ny;
            dlast_q <= !HasBias && (ng_q + 32'd1 == 32'(Params));
            ng_q <= ng_q + 32'd1;
          end
          default: begin
            didx_q <= 32'(In * Out) + dj;
            dval_q <= ny;
            dlast_q <= (ng_q + 32'd1 == 32'(Params));
            ng_q <= ng_q + 32'd1;
          end
        endcase
        if (dc_q + 32'd1 < dcols_q) begin
          dc_q <= dc_q + 32'd1;
        end else begin
          dc_q <= '0;
          if (dr_q + 32'd1 < drows_q) begin
            dr_q <= dr_q + 32'd1;
          end else begin
            dbusy_q <= 1'b0;
          end
        end
      end

      // History reads.
      if (hr_valid) begin
        hr_q <= hr_q + 32'd1;
      end
      if (hist_out_valid) begin
        hw_q <= hw_q + 32'd1;
      end

      // Update write-back.
      uidx_q <= {uidx_q[0 +: 5*32], up_idx};
      if (su_valid) begin
        uw_q <= uw_q + 32'd1;
      end

      // Commands and phases.
      case (st_q)
        SIdle: begin
          if (cmd_i && cmd_fwd_i) begin
            st_q <= SFwd;
            op_q <= OpFwd;
            pe_run_q <= 1'b1;
            fwd_ran_q <= 1'b1;
            fmb_q <= cmd_mb_i;
            flr_q <= cmd_lr_i;
            fver_q <= live_q;
          end else if (cmd_i) begin
            hr_q <= '0; hw_q <= '0; ng_q <= '0; uw_q <= '0;
            if (Hist) begin
              st_q <= SWb;
            end else if (!IsFirst) begin
              st_q <= SDx;
              op_q <= OpDx;
              pe_run_q <= 1'b1;
            end else begin
              st_q <= SDw;
              op_q <= OpDw;
              pe_run_q <= 1'b1;
            end
          end
        end
        SFwd: if (pe_done) st_q <= SIdle;
        SWb: begin
          if (hw_q == 32'(Params)) begin
            st_q <= IsFirst ? SDw : SDx;
            op_q <= IsFirst ? OpDw : OpDx;
            pe_run_q <= 1'b1;
          end
        end
        SDx: begin
          if (pe_done) begin
            st_q <= SDw;
            op_q <= OpDw;
            pe_run_q <= 1'b1;
          end
        end
        SDw: begin
          if (pe_done) begin
            if (HasBias) begin
              st_q <= SDb;
              op_q <= OpDb;
              pe_run_q <= 1'b1;
            end else begin
              st_q <= SWait;
            end
          end
        end
        SDb: if (pe_done) st_q <= SWait;
        SWait: begin
          if (uw_q == 32'(Params)) begin
            st_q <= SIdle;
            live_q <= live_q + 32'd1;
          end
        end
        default: st_q <= SIdle;
      endcase
    end
  end

  assign busy_o = (st_q != SIdle);

  // Indices are 32 bits wide at the ports; a memory uses the bits it needs.
  // Which of these a configuration reads depends on its policy and delay.
  logic unused_idx;
  assign unused_idx = ^{init_idx_i, hr_idx, dlast_q, su_m};

  // ---- memory writes
  logic [31:0] bi_mask_src;               // the stored output the relu mask reads
  assign bi_mask_src = HasRelu ? act_mem[bslot_base + 32'(Batch * In) + bi_idx_i] : 32'd1;

  always_ff @(posedge clk_i) begin
    if (init_valid_i) begin
      w_mem[init_idx_i] <= init_w_i;
      master_mem[init_idx_i] <= init_master_i;
      vel_mem[init_idx_i] <= 32'd0;
    end else if (su_valid) begin
      w_mem[su_idx] <= su_w;
      master_mem[su_idx] <= su_master;
      vel_mem[su_idx] <= su_vel;
    end
    if (in_valid_i) begin
      act_mem[fslot_base + in_idx_i] <= in_data_i;
    end else if (dv_q && dop_q == OpFwd && HasRelu) begin
      act_mem[fslot_base + 32'(Batch * In) + didx_q] <= dval_q;
    end
    if (bi_valid_i) begin
      dy_mem[bi_idx_i] <= ($signed(bi_mask_src) <= 0) ? 32'd0 : bi_data_i;
    end
    if (hist_out_valid) begin
      wb_mem[hw_q] <= hist_out;
    end
  end

  // ---- outputs
  assign fo_valid_o = dv_q && dop_q == OpFwd;
  assign fo_idx_o   = didx_q;
  assign fo_data_o  = dval_q;
  assign bo_valid_o = dv_q && dop_q == OpDx;
  assign bo_idx_o   = didx_q;
  assign bo_data_o  = dval_q;

  assign obsw_valid_o  = su_valid;
  assign obsw_idx_o    = su_idx;
  assign obsw_w_o      = su_w;
  assign obsw_master_o = su_master;

  always_comb begin
    obs_valid_o = 1'b0;
    obs_kind_o  = KAct;
    obs_mb_o    = bmb;
    obs_idx_o   = '0;
    obs_data_o  = '0;
    if (bi_valid_i) begin
      obs_valid_o = 1'b1; obs_kind_o = KErr; obs_idx_o = bi_idx_i;
      obs_data_o = ($signed(bi_mask_src) <= 0) ? 32'd0 : bi_data_i;
    end else if (hist_out_valid) begin
      obs_valid_o = 1'b1; obs_kind_o = KBwdW; obs_idx_o = hw_q; obs_data_o = hist_out;
    end else if (dv_q && dop_q == OpFwd) begin
      obs_valid_o = 1'b1; obs_kind_o = KAct; obs_mb_o = fmb_q; obs_idx_o = didx_q;
      obs_data_o = dval_q;
    end else if (dv_q && (dop_q == OpDw || dop_q == OpDb)) begin
      obs_valid_o = 1'b1; obs_kind_o = KGrad; obs_idx_o = didx_q; obs_data_o = dval_q;
    end
  end
endmodule
