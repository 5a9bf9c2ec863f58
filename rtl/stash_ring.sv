// stash_ring: the store-all-weights baseline (LAYERPIPE.md s. 4 "stash", PipeDream's weight
// stashing): a ring of Depth weight versions of Words words of Width bits, one RAM of
// Depth*Words entries, as model/train.c keeps it:
//
//   update_layer:      before update number live+1, the live weights W^(live) are pushed
//                      into slot live mod Depth; then live <- live + 1
//   backward_weights:  the backward of a minibatch whose forward read version v reads
//                      slot v mod Depth when v < live, the live weights when v == live
//
// Push: one word per cycle (push_valid_i), index push_idx_i, in any order; push_last_i with
// the version's last word ends the version: the live counter (live_o) and the ring's head
// slot advance. Versions count from 0 at reset.
//
// Held: the ring counts the versions pushed since reset, saturating at Depth (held, 0 at
// reset, +1 with each version's last word until it reaches Depth): it holds the versions
// live - held .. live - 1, never one from before the reset.
//
// Read: word rd_idx_i of version rd_ver_i, one per cycle (rd_valid_i). The gap live - v
// (modulo 2^VersionWidth, so the counters may wrap) selects:
//   gap == 0          the live word, rd_live_i (read from the weight memory alongside),
//   1 <= gap <= held  the stored word, slot (live - gap) mod Depth = v mod Depth,
//   otherwise         a miss: the version is not held (overwritten, not yet written, or
//                     never pushed since reset, e.g. a version "before 0" during the first
//                     Depth updates, whose slot may still hold a word of the run before
//                     the reset); rd_miss_o is raised and rd_data_o reads 0.
// Latency 1: a read presented in cycle t answers with rd_valid_o in cycle t+1. The RAM
// is read-first: a read and a push of the same word in one cycle returns the old word.
// So a backward that reads version live - Depth (the slot the next push overwrites, the
// steady state) must read each word before, or in the same cycle as, that word's push.
// A read uses the live and held counters before any push_last_i of the same cycle.
//
// Degenerate depths: Depth 0 holds nothing (no RAM, no counters): every read returns the
// live word, rd_ver_i and the push port are ignored, live_o and rd_miss_o read 0. Depth 1
// has no head pointer and its held count is one flag: its one slot holds W^(live-1) once a
// version was pushed since reset. Indices must be below Words. The RAM is not reset (the
// held count is what keeps its old words from being read).
module stash_ring #(
  // (verilator public: the harness reads the geometry it was built with.)
  parameter int unsigned Depth        /*verilator public*/ = 6,   // versions: the delay d
  parameter int unsigned Words        /*verilator public*/ = 64,  // weights per version
  parameter int unsigned Width        /*verilator public*/ = 16,  // bits per weight
  parameter int unsigned VersionWidth /*verilator public*/ = 32,  // version counter (wraps)
  localparam int unsigned IdxW = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,

  // Push the live weights before an update.
  input  logic                    push_valid_i,
  input  logic [IdxW-1:0]         push_idx_i,
  input  logic [Width-1:0]        push_data_i,
  input  logic                    push_last_i,    // the version's last word: live <- live + 1

  // Read word rd_idx_i of version rd_ver_i.
  input  logic                    rd_valid_i,
  input  logic [VersionWidth-1:0] rd_ver_i,
  input  logic [IdxW-1:0]         rd_idx_i,
  input  logic [Width-1:0]        rd_live_i,      // the live word rd_idx_i
  output logic                    rd_valid_o,
  output logic [Width-1:0]        rd_data_o,
  output logic                    rd_miss_o,

  output logic [VersionWidth-1:0] live_o          // versions pushed since reset
);

  if (Depth == 0) begin : gen_depth0
    // Nothing stored: the live word goes through the same output register as a stored one
    // would, so the read latency does not depend on Depth.
    logic             valid_q;
    logic [Width-1:0] data_d, data_q;

    always_comb begin
      data_d = data_q;
      if (rd_valid_i) begin
        data_d = rd_live_i;
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_q <= 1'b0;
        data_q  <= '0;
      end else begin
        valid_q <= rd_valid_i;
        data_q  <= data_d;
      end
    end

    assign rd_valid_o = valid_q;
    assign rd_data_o  = data_q;
    assign rd_miss_o  = 1'b0;
    assign live_o     = '0;

    logic unused_depth0;
    assign unused_depth0 = ^{push_valid_i, push_idx_i, push_data_i, push_last_i, rd_ver_i,
                             rd_idx_i};

  end else begin : gen_ring
    localparam int unsigned Entries  = Depth * Words;
    // Slot numbers and gaps up to Depth, with a bit to spare for head + Depth - gap.
    localparam int unsigned SlotW    = $clog2(Depth + 1) + 1;
    // A gap is compared with the held count in the wider of their widths.
    localparam int unsigned CmpW     = (VersionWidth > SlotW) ? VersionWidth : SlotW;
    localparam int unsigned AddrW    = (Entries > 1) ? $clog2(Entries) : 1;
    // slot * Words + idx is formed in SumW bits (no fewer than a slot number has), then
    // cut to AddrW: the value is below Entries.
    localparam int unsigned SumW     = (AddrW > SlotW) ? AddrW : SlotW;

    logic [Width-1:0]        mem_q [Entries];

    logic [VersionWidth-1:0] live_d, live_q;
    logic                    advance;           // the version's last word: live + 1
    logic [SlotW-1:0]        head;              // live mod Depth: the slot the next push fills
    logic [SlotW-1:0]        held;              // versions held: pushed since reset, <= Depth
    logic [VersionWidth-1:0] gap;
    logic                    is_live, hit;
    logic [SlotW-1:0]        rd_slot;
    logic [SumW-1:0]         rd_sum, push_sum;
    logic [AddrW-1:0]        rd_addr, push_addr;
    logic                    ram_re;

    logic                    valid_q, sel_live_d, sel_live_q, miss_d, miss_q;
    logic [Width-1:0]        live_word_d, live_word_q;
    logic [Width-1:0]        ram_rdata_q;

    assign advance = push_valid_i && push_last_i;

    // The live counter.
    always_comb begin
      live_d = live_q;
      if (advance) begin
        live_d = live_q + VersionWidth'(1);
      end
    end

    // Which word a read wants: the live word, a held one, or neither (a miss).
    always_comb begin
      gap     = live_q - rd_ver_i;
      is_live = (gap == '0);
      hit     = !is_live && (CmpW'(gap) <= CmpW'(held));
    end

    // The held count, the head and the slot of the version a read wants.
    if (Depth == 1) begin : gen_depth1
      // One slot: once a version was pushed since reset it holds W^(live-1). No head
      // pointer; the held count is one flag.
      logic held_d, held_q;

      always_comb begin
        held_d = held_q;
        if (advance) begin
          held_d = 1'b1;
        end
      end

      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          held_q <= 1'b0;
        end else begin
          held_q <= held_d;
        end
      end

      assign held    = SlotW'(held_q);
      assign head    = '0;
      assign rd_slot = '0;
    end else begin : gen_head
      logic [SlotW-1:0] held_d, held_q, head_d, head_q;

      always_comb begin
        held_d = held_q;
        head_d = head_q;
        if (advance) begin
          if (held_q != SlotW'(Depth)) begin
            held_d = held_q + SlotW'(1);
          end
          head_d = (head_q == SlotW'(Depth - 1)) ? '0 : head_q + SlotW'(1);
        end
      end

      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          held_q <= '0;
          head_q <= '0;
        end else begin
          held_q <= held_d;
          head_q <= head_d;
        end
      end

      assign held = held_q;

      // (head - gap) mod Depth; used only on a hit, so 1 <= gap <= held <= Depth and gap's
      // low SlotW bits are all of it.
      always_comb begin
        rd_slot = head_q - SlotW'(gap);
        if (head_q < SlotW'(gap)) begin
          rd_slot = head_q + SlotW'(Depth) - SlotW'(gap);
        end
      end

      assign head = head_q;
    end

    always_comb begin
      rd_sum    = SumW'(rd_slot) * SumW'(Words) + SumW'(rd_idx_i);
      push_sum  = SumW'(head) * SumW'(Words) + SumW'(push_idx_i);
      rd_addr   = AddrW'(rd_sum);
      push_addr = AddrW'(push_sum);
      ram_re    = rd_valid_i && hit;

      sel_live_d  = sel_live_q;
      miss_d      = miss_q;
      live_word_d = live_word_q;
      if (rd_valid_i) begin
        sel_live_d  = is_live;
        miss_d      = !is_live && !hit;
        live_word_d = rd_live_i;
      end
    end

    // The RAM: one write port, one registered read port (read-first), no reset.
    always_ff @(posedge clk_i) begin
      if (push_valid_i) begin
        mem_q[push_addr] <= push_data_i;
      end
      if (ram_re) begin
        ram_rdata_q <= mem_q[rd_addr];
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        live_q      <= '0;
        valid_q     <= 1'b0;
        sel_live_q  <= 1'b0;
        miss_q      <= 1'b0;
        live_word_q <= '0;
      end else begin
        live_q      <= live_d;
        valid_q     <= rd_valid_i;
        sel_live_q  <= sel_live_d;
        miss_q      <= miss_d;
        live_word_q <= live_word_d;
      end
    end

    always_comb begin
      rd_data_o = ram_rdata_q;
      if (sel_live_q) begin
        rd_data_o = live_word_q;
      end else if (miss_q) begin
        rd_data_o = '0;
      end
    end

    assign rd_valid_o = valid_q;
    assign rd_miss_o  = miss_q;
    assign live_o     = live_q;

    // With few words a slot number is wider than an address: those top bits are 0.
    logic unused_sum;
    assign unused_sum = ^{rd_sum, push_sum};
  end

endmodule
