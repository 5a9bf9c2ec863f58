#include "rtl_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/files.h"
#include "../base/hash.h"
#include "../base/proc.h"

#ifndef LP_SRCDIR
#define LP_SRCDIR "."
#endif

const char *rtl_src_dir(void)
{
    const char *s = getenv("LAYERPIPE_SRC");
    return s && *s ? s : LP_SRCDIR;
}

const char *rtl_cache_dir(void)
{
    static char dir[1024];
    const char *s = getenv("LAYERPIPE_RTL_CACHE");
    if (s && *s)
        return s;
    snprintf(dir, sizeof dir, "%s/build/rtl", rtl_src_dir());
    return dir;
}

/* The waveform format of a --trace path, "none" without one, NULL for neither. */
static const char *trace_kind(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (!path)
        return "none";
    if (n > 4 && !strcmp(path + n - 4, ".vcd"))
        return "vcd";
    if (n > 4 && !strcmp(path + n - 4, ".fst"))
        return "fst";
    return NULL;
}

/* Write params.vc (unchanged when the same: make then sees nothing new) and run make. */
static int make_in(const char *dir, const char *params, const char *kind, const char *tk,
                   struct diag *e)
{
    char path[1100], mk[1100], out_arg[1100], trace_arg[32], kind_arg[32];
    struct diag d;
    snprintf(path, sizeof path, "%s/params.vc", dir);
    if (file_write_if_changed(path, params, &d))
        return lp_fail(e, -1, NULL, "%s: %s", d.file, d.msg);
    snprintf(mk, sizeof mk, "%s/sim/lptop.mk", rtl_src_dir());
    snprintf(out_arg, sizeof out_arg, "OUT=%s", dir);
    snprintf(trace_arg, sizeof trace_arg, "TRACE=%s", tk);
    snprintf(kind_arg, sizeof kind_arg, "KIND=%s", kind);
    char *argv[] = {"make", "-s", "--no-print-directory", "-f", mk, out_arg, trace_arg, kind_arg,
                    NULL};
    int rc = proc_run(NULL, argv, NULL);
    if (rc < 0)
        return lp_fail(e, -1, NULL, "cannot run make: %s", strerror(errno));
    if (rc)
        return lp_fail(e, -1, NULL, "building the RTL failed (make -f %s, log in %s/build.log)",
                       mk, dir);
    return 0;
}

int rtl_build(const struct cosim_setup *s, const char *kind, char *lib, size_t lib_size,
              FILE *note, struct diag *e)
{
    char params[4096], dir[1024];
    const char *tk = trace_kind(s->trace);
    if (!tk)
        return lp_fail(e, -1, NULL, "--trace %s: the waveform file must end in .vcd or .fst",
                       s->trace);
    if (cosim_top_params(s, params, sizeof params, e))
        return -1;
    uint64_t h = hash_str(hash_str(HASH_INIT, params), tk);
    if ((size_t)snprintf(dir, sizeof dir, "%s/%016llx-%s-%s", rtl_cache_dir(),
                         (unsigned long long)h, kind, tk) >= sizeof dir - 32)
        return lp_fail(e, -1, NULL, "the RTL build directory's path is too long");
    struct diag d;
    if (file_mkdir_p(dir, &d))
        return lp_fail(e, -1, NULL, "%s: %s", d.file, d.msg);
    int lock = file_lock_dir(dir, 1);
    if (lock < 0)
        return lp_fail(e, -1, NULL, "cannot lock %s/.lock: %s", dir, strerror(errno));
    snprintf(lib, lib_size, "%s/liblptop.so", dir);
    if (note && access(lib, F_OK) != 0) {
        fprintf(note, "building the RTL (%s) for this configuration in %s (once)\n", kind, dir);
        fflush(note);
    }
    int rc = make_in(dir, params, kind, tk, e);
    file_unlock(lock);
    return rc;
}
