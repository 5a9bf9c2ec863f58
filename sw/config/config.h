/* config.h - one design point, loaded strictly from a YAML file.
 *
 * cfg_load reads the file, checks every key (unknown, duplicate, wrong type, out
 * of range, unknown layer, bad partition, shapes that do not fit), fills the
 * documented defaults (docs/config.md), infers the network's shapes and
 * resolves the stage partition. On bad input it returns -1 with a diag that
 * points at the offending line and column; nothing is allocated then.
 *
 * Ownership: struct config owns its network and stage table (cfg_free).
 */
#ifndef LP_CONFIG_H
#define LP_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "../../model/fixed.h"
#include "../../model/net.h"
#include "../../model/plan.h"
#include "../base/diag.h"
#include "ydoc.h"

enum cfg_stages_mode { CFG_STAGES_PER_LAYER, CFG_STAGES_LIST, CFG_STAGES_BALANCED };
enum cfg_format { CFG_FLOAT32, CFG_FIXED };
enum cfg_rounding { CFG_ROUND_NEAREST_EVEN, CFG_ROUND_TRUNCATE };
enum cfg_lr_schedule { CFG_LR_CONSTANT, CFG_LR_STEP, CFG_LR_COSINE };
enum cfg_dataset { CFG_DATA_FASHION_MNIST, CFG_DATA_SYNTHETIC };

/* A signed two's-complement fixed-point format: bits in all, frac after the point. */
struct cfg_fixed {
    int bits, frac;
};

struct config {
    char path[512];
    int schema_version;
    char name[64];
    struct net net;

    struct {
        enum cfg_stages_mode mode;  /* as written; stage_of is always resolved */
        int n_stages;               /* M */
        int *stage_of;              /* net.n_layers entries, 1..M */
        enum plan_policy policy;
        int ema_beta_auto;          /* 1: beta = d/(d+1) per layer */
        double ema_beta;            /* when not auto */
    } pipeline;

    struct {
        enum cfg_format format;
        struct cfg_fixed activation, error, weight, master_weight, gradient;
        int accumulator_bits;
        enum cfg_rounding rounding;
    } numerics;

    struct {
        enum cfg_dataset dataset;
        char data_dir[256];
        int batch, epochs;
        double lr, momentum, weight_decay, lr_decay;
        enum cfg_lr_schedule lr_schedule;
        uint32_t seed;
        int normalize;
        int64_t train_samples, test_samples;  /* 0: the whole dataset */
    } training;

    struct {
        int mac_rows, mac_cols, mac_pipeline;
        double clock_mhz;
        int64_t onchip_kib;                   /* per stage */
        double offchip_bytes_per_cycle;
        int offchip_latency;                  /* cycles */
    } hardware;

    uint64_t hash;  /* FNV-1a 64 of the effective config (cfg_write without header) */
};

/* The fixed-point spec of the config's numerics (whatever its format). */
void cfg_fixed_spec(const struct config *c, struct fixed_spec *q);

/* Load and check path. Returns 0, or -1 with d set (file:line:column: message). */
int cfg_load(struct config *c, const char *path, struct diag *d);
/* The same from a string; name stands for the file in messages. */
int cfg_load_string(struct config *c, const char *name, const char *text, struct diag *d);
/* The same from a parsed document, which is left as it is (a sweep decodes one base
 * document many times, each with its axis values in place). */
int cfg_load_doc(struct config *c, const struct ydoc *doc, struct diag *d);
void cfg_free(struct config *c);

/* Write the effective config (every default filled in, stages resolved) as
 * YAML that cfg_load reads back to the same config. With header, a comment
 * naming the source file comes first. Returns 0, or -1 on a write error. */
int cfg_write(const struct config *c, FILE *out, int header);

const char *cfg_dataset_name(enum cfg_dataset d);

/* Whether the RTL datapath can run c (bit-exact fixed point, dense layers): 0, or -1
 * with d set (no position: the whole config is at fault). */
int cfg_check_rtl(const struct config *c, struct diag *d);

#endif
