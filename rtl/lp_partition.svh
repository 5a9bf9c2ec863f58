// lp_partition.svh - the layers of each stage, from the including module's parameters
// NLayers and StageOf (StageOf[l*32 +: 32]: layer l's stage, 1-based, in order).
// Included inside lp_top and lp_stage_bank, which build the same stages.

// The first layer of stage k.
function automatic int unsigned first_of(int unsigned k);
  first_of = 0;
  for (int unsigned l = NLayers; l > 0; l--) begin
    if (StageOf[(l-1)*32 +: 32] == k) first_of = l - 1;
  end
endfunction

// How many layers stage k holds.
function automatic int unsigned count_of(int unsigned k);
  count_of = 0;
  for (int unsigned l = 0; l < NLayers; l++) begin
    if (StageOf[l*32 +: 32] == k) count_of = count_of + 1;
  end
endfunction
