/* config.c - fuzz harness of the config loader (cfg_load on YAML from a file).
 * Checks: a refusal carries a message; an accepted config passes cfg_check_rtl or says
 * why not, and its effective config (cfg_write) loads back to the same hash, layers and
 * stages (config.h promises that round trip). */
#include "../../sw/config/config.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("config.yaml", data, size);
    struct config c, back;
    struct diag d = {0}, e = {0};
    if (cfg_load(&c, path, &d)) {
        FUZZ_REFUSED(d);
        return 0;
    }
    if (cfg_check_rtl(&c, &e))
        FUZZ_CHECK(e.msg[0]);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    FUZZ_CHECK(m && cfg_write(&c, m, 0) == 0);
    FUZZ_CHECK(fclose(m) == 0);
    if (fuzz_inject())
        c.hash ^= 1;
    memset(&d, 0, sizeof d);
    int rc = cfg_load_string(&back, "written", text, &d);
    if (rc)
        fprintf(stderr, "%s:%d:%d: %s\n%s", d.file, d.line, d.col, d.msg, text);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(back.hash == c.hash);
    FUZZ_CHECK(back.net.n_layers == c.net.n_layers);
    FUZZ_CHECK(back.pipeline.n_stages == c.pipeline.n_stages);
    for (int l = 0; l < c.net.n_layers; l++)
        FUZZ_CHECK(back.pipeline.stage_of[l] == c.pipeline.stage_of[l]);
    cfg_free(&back);
    cfg_free(&c);
    free(text);
    return 0;
}
