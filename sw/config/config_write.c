/* config_write.c - the effective config as YAML (cfg_write). */
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "config.h"

/* A double-quoted YAML string: backslash escapes for '"', '\\' and control bytes. */
static void quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void write_layer(FILE *out, const struct net *n, int l)
{
    const struct net_layer *ly = &n->layers[l];
    fprintf(out, "    - {name: %s, type: %s, inputs: [", ly->name, net_kind_name(ly->kind));
    for (int i = 0; i < ly->n_inputs; i++)
        fprintf(out, "%s%s", i ? ", " : "",
                ly->inputs[i] == NET_INPUT ? "input" : n->layers[ly->inputs[i]].name);
    fputc(']', out);
    switch (ly->kind) {
    case NET_DENSE:
        fprintf(out, ", out: %d", ly->out);
        break;
    case NET_CONV:
        fprintf(out, ", out_channels: %d, kernel: %d, stride: %d, pad: %d", ly->out,
                ly->kernel, ly->stride, ly->pad);
        break;
    case NET_MAXPOOL:
    case NET_AVGPOOL:
        fprintf(out, ", kernel: %d, stride: %d", ly->kernel, ly->stride);
        break;
    default:
        break;
    }
    if (ly->kind == NET_DENSE || ly->kind == NET_CONV || ly->kind == NET_ADD)
        fprintf(out, ", act: %s", net_act_name(ly->act));
    if (ly->kind == NET_DENSE || ly->kind == NET_CONV)
        fprintf(out, ", bias: %s", ly->bias ? "true" : "false");
    fputs("}\n", out);
}

static void write_fixed(FILE *out, const char *key, struct cfg_fixed f)
{
    fprintf(out, "  %s: {bits: %d, frac: %d}\n", key, f.bits, f.frac);
}

int cfg_write(const struct config *c, FILE *out, int header)
{
    static const char *const mode[] = {"per_layer", "a list of stages", "balanced"};
    static const char *const rounding[] = {"nearest_even", "truncate"};
    static const char *const schedule[] = {"constant", "step", "cosine"};
    const struct net *n = &c->net;
    char b[32];

    if (header)
        fprintf(out, "# effective config of %s: every default filled in, stages resolved\n",
                c->path);
    fprintf(out, "schema_version: %d\nname: %s\nnetwork:\n  input: [", c->schema_version,
            c->name);
    for (int i = 0; i < n->input.rank; i++)
        fprintf(out, "%s%d", i ? ", " : "", n->input.dim[i]);
    fputs("]\n  layers:\n", out);
    for (int l = 0; l < n->n_layers; l++)
        write_layer(out, n, l);
    fprintf(out, "  loss: %s\n", net_loss_name(n->loss));

    fputs("pipeline:\n  stages: [", out);
    for (int s = 1; s <= c->pipeline.n_stages; s++) {
        fprintf(out, "%s[", s > 1 ? ", " : "");
        for (int l = 0, first = 1; l < n->n_layers; l++)
            if (c->pipeline.stage_of[l] == s)
                fprintf(out, "%s%s", first ? "" : ", ", n->layers[l].name), first = 0;
        fputc(']', out);
    }
    fputc(']', out);
    if (header)   /* not hashed: equal partitions written differently hash the same */
        fprintf(out, "  # from %s", mode[c->pipeline.mode]);
    if (header && c->pipeline.mode == CFG_STAGES_BALANCED)
        fprintf(out, ": %d", c->pipeline.n_stages);
    fprintf(out, "\n  policy: %s\n  ema_beta: %s\n", plan_policy_name(c->pipeline.policy),
            c->pipeline.ema_beta_auto ? "auto" : json_shortest(b, sizeof b, c->pipeline.ema_beta));

    fprintf(out, "numerics:\n  format: %s\n",
            c->numerics.format == CFG_FIXED ? "fixed" : "float32");
    write_fixed(out, "activation", c->numerics.activation);
    write_fixed(out, "error", c->numerics.error);
    write_fixed(out, "weight", c->numerics.weight);
    write_fixed(out, "master_weight", c->numerics.master_weight);
    write_fixed(out, "gradient", c->numerics.gradient);
    fprintf(out, "  accumulator_bits: %d\n", c->numerics.accumulator_bits);
    fprintf(out, "  rounding: %s\n", rounding[c->numerics.rounding]);

    fprintf(out, "training:\n  dataset: %s\n  data_dir: ", cfg_dataset_name(c->training.dataset));
    quoted(out, c->training.data_dir);
    fprintf(out, "\n  batch: %d\n  epochs: %d\n", c->training.batch, c->training.epochs);
    fprintf(out, "  lr: %s\n", json_shortest(b, sizeof b, c->training.lr));
    fprintf(out, "  momentum: %s\n", json_shortest(b, sizeof b, c->training.momentum));
    fprintf(out, "  weight_decay: %s\n", json_shortest(b, sizeof b, c->training.weight_decay));
    fprintf(out, "  lr_schedule: %s\n", schedule[c->training.lr_schedule]);
    fprintf(out, "  lr_decay: %s\n", json_shortest(b, sizeof b, c->training.lr_decay));
    fprintf(out, "  seed: %u\n  normalize: %s\n", (unsigned)c->training.seed,
            c->training.normalize ? "true" : "false");
    fprintf(out, "  train_samples: %lld\n  test_samples: %lld\n",
            (long long)c->training.train_samples, (long long)c->training.test_samples);

    fprintf(out, "hardware:\n  mac_rows: %d\n  mac_cols: %d\n  mac_pipeline: %d\n",
            c->hardware.mac_rows, c->hardware.mac_cols, c->hardware.mac_pipeline);
    fprintf(out, "  clock_mhz: %s\n", json_shortest(b, sizeof b, c->hardware.clock_mhz));
    fprintf(out, "  onchip_kib: %lld\n", (long long)c->hardware.onchip_kib);
    fprintf(out, "  offchip_bytes_per_cycle: %s\n",
            json_shortest(b, sizeof b, c->hardware.offchip_bytes_per_cycle));
    fprintf(out, "  offchip_latency: %d\n", c->hardware.offchip_latency);
    return ferror(out) ? -1 : 0;
}
