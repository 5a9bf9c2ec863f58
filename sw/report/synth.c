#define _DEFAULT_SOURCE   /* flock, mkdir, DT_ */
#include "synth.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/files.h"
#include "../base/hash.h"
#include "../base/outfile.h"
#include "../base/proc.h"
#include "../config/ydoc.h"
#include "synth_buffer.h"

/* Bumped whenever the scripts below change, so old cached results are not reused. */
#define SYN_FLOW "layerpipe-syn-8"

/* The buffer of the fanout trees synth_buffer.c adds (at most SYN_MAX_FANOUT loads). */
#define SYN_BUF "BUFX4"
#define SYN_CLOCK "clk_i"

/* path whole (files.h), or NULL when it cannot be read: the callers say what is missing. */
static char *slurp(const char *path, size_t *len)
{
    struct diag unused;
    char *text;
    size_t n;
    if (file_read(path, FILE_NO_LIMIT, &text, &n, &unused))
        return NULL;
    if (len)
        *len = n;
    return text;
}

static int spit(const char *path, const char *text, struct diag *d)
{
    struct outfile o;
    if (outfile_open(&o, path, d))
        return -1;
    fputs(text, o.f);
    return outfile_commit(&o, d);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

const char *syn_liberty(const char *src)
{
    static char buf[1200];
    const char *env = getenv("LAYERPIPE_LIBERTY");
    if (env && *env)
        return exists(env) ? env : NULL;
    const char *deb = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
    if (exists(deb))
        return deb;
    snprintf(buf, sizeof buf, "%s/build/tech/usr/share/qflow/tech/osu018/osu018_stdcells.lib",
             src);
    return exists(buf) ? buf : NULL;
}

void syn_tool_version(const char *cmd, char *out, size_t size)
{
    char line[512] = "";
    char full[600];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p || !fgets(line, sizeof line, p))
        line[0] = '\0';
    if (p)
        pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    snprintf(out, size, "%s", line[0] ? line : "unknown");
}

/* ---- a pool of tool runs, each in its own cache directory ---- */

/* A directory holds one run: its script, log.txt, and `done` once the run succeeded (and
 * its `after` step, if any). A `.lock` (flock) keeps two processes from running it at
 * once. */
struct job {
    pid_t pid;
    int lock;
    char dir[1024];
    char what[160];
    /* run in this process when the tool succeeded, before `done` is written */
    int (*after)(void *ctx, const char *dir, struct diag *d);
    void *ctx;
};

struct pool {
    struct job run[16];
    int n, max;
    int failed;               /* a run failed: d holds the first failure */
};

static int is_done(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/done", dir);
    return exists(path);
}

/* Wait for one run (or all, when all is set) to end; mark it done. Returns -1 once any
 * run has failed (d set by the first), else 0. */
static int pool_reap(struct pool *p, int all, struct diag *d)
{
    while (p->n > 0) {
        int st = 0;
        pid_t pid = proc_wait(-1, &st);
        int i = 0;
        while (i < p->n && p->run[i].pid != pid)
            i++;
        if (i == p->n) {
            if (pid < 0) {   /* no child left: should not happen */
                if (!p->failed)
                    diag_set(d, "layerpipe report", 0, 0, "lost track of a tool run: %s",
                             strerror(errno));
                p->failed = 1;
                p->n = 0;
                break;
            }
            continue;      /* another child of this process */
        }
        struct job *j = &p->run[i];
        int rc = proc_exit_code(st);
        if (rc) {
            if (!p->failed)
                diag_set(d, "layerpipe report", 0, 0, "%s failed (%s/log.txt)", j->what, j->dir);
            p->failed = 1;
        } else if (!p->failed && j->after && j->after(j->ctx, j->dir, d))
            p->failed = 1;
        else if (!p->failed) {
            char done[1100];
            snprintf(done, sizeof done, "%s/done", j->dir);
            FILE *f = fopen(done, "w");
            if (!f || fclose(f)) {
                diag_set(d, done, 0, 0, "cannot write: %s", strerror(errno));
                p->failed = 1;
            }
        }
        file_unlock(j->lock);
        p->run[i] = p->run[--p->n];
        if (!all)
            break;
    }
    return p->failed ? -1 : 0;
}

/* Claims dir for a run. Returns the lock (>= 0: write the run's inputs, then pool_spawn),
 * -3 when there is nothing to do (done, or running in this pool), or -1 with d set. */
static int pool_take(struct pool *p, const char *dir, struct diag *d)
{
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->run[i].dir, dir))
            return -3;
    if (is_done(dir))
        return -3;
    if (file_mkdir_p(dir, d))
        return -1;
    int lock = file_lock_dir(dir, 0);
    if (lock == -2) {   /* another process is on it: wait with no lock of ours held */
        if (pool_reap(p, 1, d))
            return -1;
        lock = file_lock_dir(dir, 1);
    }
    if (lock < 0)
        return diag_set(d, dir, 0, 0, "cannot lock: %s", strerror(errno));
    if (is_done(dir)) {
        close(lock);
        return -3;
    }
    return lock;
}

/* Starts argv in dir (output to dir/log.txt), holding lock, and waits while the pool is
 * full. Returns 0, or -1 with d set. */
static int pool_spawn(struct pool *p, int lock, const char *dir, char *const argv[],
                      const char *what, int (*after)(void *, const char *, struct diag *),
                      void *ctx, FILE *note, struct diag *d)
{
    if (note)
        fprintf(note, "%s (%s)\n", what, dir), fflush(note);
    pid_t pid = proc_start(dir, argv, "log.txt");
    if (pid < 0) {
        close(lock);
        return diag_set(d, "layerpipe report", 0, 0, "cannot run %s: %s", argv[0],
                        strerror(errno));
    }
    struct job *j = &p->run[p->n++];
    *j = (struct job){pid, lock, "", "", after, ctx};
    snprintf(j->dir, sizeof j->dir, "%s", dir);
    snprintf(j->what, sizeof j->what, "%s", what);
    return p->n >= p->max ? pool_reap(p, 0, d) : 0;
}

/* ---- the RTL ---- */

static int is_pkg(const char *name)
{
    size_t n = strlen(name);
    return n > 7 && !strcmp(name + n - 7, "_pkg.sv");
}

/* Packages first (every module may name them), then by name. */
static int cmp_rtl(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return is_pkg(y) - is_pkg(x) ? is_pkg(y) - is_pkg(x) : strcmp(x, y);
}

/* The .sv files of rtl/ (what Yosys reads), packages first, into *names (malloc'd, freed
 * with free_names), a hash of them and of the .svh files they include, by name and
 * content, and one of what any module may use without instantiating it: the .svh files
 * and the packages. Returns 0, or -1 with d set. */
static int rtl_files(const char *src, char ***names, int *n, uint64_t *hash, uint64_t *inc_hash,
                     struct diag *d)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/rtl", src);
    DIR *dp = opendir(dir);
    if (!dp)
        return diag_set(d, dir, 0, 0, "cannot read the RTL: %s", strerror(errno));
    char **all = NULL;
    int n_all = 0, bad = 0;
    for (struct dirent *e; !bad && (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        int sv = len > 3 && !strcmp(e->d_name + len - 3, ".sv");
        int svh = len > 4 && !strcmp(e->d_name + len - 4, ".svh");
        if (!sv && !svh)
            continue;
        char **na = realloc(all, (size_t)(n_all + 1) * sizeof *na);
        char *s = na ? strdup(e->d_name) : NULL;
        if (na)
            all = na;
        if (!s)
            bad = 1;
        else
            all[n_all++] = s;
    }
    closedir(dp);
    if (!bad && !n_all) {
        free(all);
        return diag_set(d, dir, 0, 0, "no SystemVerilog files");
    }
    if (!bad)
        qsort(all, (size_t)n_all, sizeof *all, cmp_rtl);
    uint64_t h = HASH_INIT, hi = h;
    int k = 0;
    for (int i = 0; !bad && i < n_all; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, all[i]);
        size_t len;
        char *s = slurp(path, &len);
        if (!s) {
            diag_set(d, path, 0, 0, "cannot read the RTL: %s", strerror(errno));
            bad = 2;
            break;
        }
        h = hash_bytes(hash_str(h, all[i]), s, len);
        size_t nl = strlen(all[i]);
        if (is_pkg(all[i]))
            hi = hash_bytes(hash_str(hi, all[i]), s, len);
        if (nl > 3 && !strcmp(all[i] + nl - 3, ".sv")) {
            all[k++] = all[i];
        } else {
            hi = hash_bytes(hash_str(hi, all[i]), s, len);
            free(all[i]);
        }
        free(s);
    }
    if (bad) {
        for (int i = 0; i < n_all; i++)
            if (i >= k)
                free(all[i]);
        free(all);
        return bad == 1 ? diag_set(d, "layerpipe report", 0, 0, "out of memory") : -1;
    }
    *names = all;
    *n = k;
    *hash = h;
    *inc_hash = hi;
    return 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- the elaborated design, split into modules ---- */

struct port {
    char name[96];
    enum nb_dir dir;
};

struct emod {
    char full[512];           /* the RTLIL name, e.g. $paramod$<sha1>\lp_layer */
    const char *text;         /* from its attributes to its `end` line */
    size_t len;
    struct port *ports;       /* its ports' directions */
    int n_ports;
};

/* The RTLIL token at p (up to white space) into out. */
static const char *token(const char *p, char *out, size_t size)
{
    size_t n = 0;
    while (*p == ' ')
        p++;
    while (*p && *p != ' ' && *p != '\n') {
        if (n + 1 < size)
            out[n++] = *p;
        p++;
    }
    out[n] = '\0';
    return p;
}

static int split_modules(const char *il, struct emod **out, int *n_out)
{
    int n = 0, cap = 16;
    struct emod *m = malloc((size_t)cap * sizeof *m);
    const char *start = NULL;
    for (const char *p = il; m && *p;) {
        const char *eol = strchr(p, '\n');
        const char *next = eol ? eol + 1 : p + strlen(p);
        if (!start && !strncmp(p, "attribute ", 10))
            start = p;
        else if (!strncmp(p, "module ", 7)) {
            if (n == cap) {
                struct emod *nm = realloc(m, (size_t)(cap *= 2) * sizeof *m);
                if (!nm)
                    break;
                m = nm;
            }
            token(p + 7, m[n].full, sizeof m[n].full);
            m[n].text = start ? start : p;
        } else if (!strncmp(p, "end", 3) && (p[3] == '\n' || !p[3])) {
            m[n].len = (size_t)(next - m[n].text);
            n++;
            start = NULL;
        } else if (strncmp(p, "attribute ", 10))
            start = NULL;
        p = next;
    }
    if (!m)
        return -1;
    *out = m;
    *n_out = n;
    return 0;
}

static int find_full(const struct emod *e, int n, const char *full)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].full, full))
            return i;
    return -1;
}

/* A `memory [width W] [size N] [offset O] \name` line into m. */
static void parse_memory(const char *p, struct syn_mem *m)
{
    char tk[512], v[64];
    *m = (struct syn_mem){"", 1, 1, 0, "", 0};
    p = token(p, tk, sizeof tk);   /* "memory" */
    while ((void)(p = token(p, tk, sizeof tk)), *tk) {
        if (!strcmp(tk, "width") || !strcmp(tk, "size") || !strcmp(tk, "offset")) {
            p = token(p, v, sizeof v);
            if (!strcmp(tk, "width"))
                m->width = atoll(v);
            else if (!strcmp(tk, "size"))
                m->size = atoll(v);
        } else if (*tk == '\\')
            snprintf(m->name, sizeof m->name, "%.63s", tk + 1);
    }
}

static int add_kid(struct syn_module *sm, int idx)
{
    for (int j = 0; j < sm->n_kids; j++)
        if (sm->kid[j] == idx)
            return sm->kid_n[j]++, 0;
    int *k = realloc(sm->kid, (size_t)(sm->n_kids + 1) * sizeof *k);
    if (k)
        sm->kid = k;
    int *kn = k ? realloc(sm->kid_n, (size_t)(sm->n_kids + 1) * sizeof *kn) : NULL;
    if (!kn)
        return -1;
    sm->kid_n = kn;
    sm->kid[sm->n_kids] = idx;
    sm->kid_n[sm->n_kids++] = 1;
    return 0;
}

/* The line of an RTLIL module at p (before end) into line, without its newline, and in
 * *io 'i' for a `wire ... input|inout ...` line, 'o' for an output, 0 for any other.
 * Returns where the next line starts. */
static const char *port_line(const char *p, const char *end, char *line, size_t size, char *io)
{
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *next = eol ? eol + 1 : end;
    char w[8];
    token(p, w, sizeof w);
    size_t n = (size_t)(next - p) < size - 1 ? (size_t)(next - p) : size - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    line[strcspn(line, "\n")] = '\0';
    *io = strcmp(w, "wire") ? 0
          : strstr(line, " input ") || strstr(line, " inout ") ? 'i'
          : strstr(line, " output ") ? 'o' : 0;
    return next;
}

/* Module m's ports and their directions, from its `wire ... input|output|inout N \name`
 * lines. Returns 0 or -1 (out of memory). */
static int read_ports(struct emod *m)
{
    char line[1024], io;
    for (const char *p = m->text, *end = m->text + m->len; p < end;) {
        p = port_line(p, end, line, sizeof line, &io);
        const char *name = strrchr(line, ' ');
        if (io && name && name[1] == '\\') {
            struct port *np = realloc(m->ports, (size_t)(m->n_ports + 1) * sizeof *np);
            if (!np)
                return -1;
            m->ports = np;
            np = &m->ports[m->n_ports++];
            snprintf(np->name, sizeof np->name, "%s", name + 2);
            np->dir = io == 'o' ? NB_OUT : NB_IN;
        }
    }
    return 0;
}

static int add_inst(struct syn_module *sm, int idx, const char *name)
{
    int *k = realloc(sm->inst_kid, (size_t)(sm->n_inst + 1) * sizeof *k);
    if (k)
        sm->inst_kid = k;
    char **nn = k ? realloc(sm->inst_name, (size_t)(sm->n_inst + 1) * sizeof *nn) : NULL;
    if (nn)
        sm->inst_name = nn;
    char *s = nn ? strdup(name[0] == '\\' ? name + 1 : name) : NULL;
    if (!s)
        return -1;
    sm->inst_kid[sm->n_inst] = idx;
    sm->inst_name[sm->n_inst++] = s;
    return 0;
}

/* A black box with m's ports, for the synthesis of a module that instantiates it. */
static void write_stub(FILE *f, const struct emod *m, const char *name)
{
    fprintf(f, "attribute \\blackbox 1\nmodule \\%s\n", name);
    char line[1024], io;
    for (const char *p = m->text, *end = m->text + m->len; p < end;) {
        const char *next = port_line(p, end, line, sizeof line, &io);
        if (io)
            fwrite(p, 1, (size_t)(next - p), f);
        p = next;
    }
    fputs("end\n", f);
}

/* What Yosys synthesises for module self (into *out, malloc'd): its text with every module
 * name replaced by its netlist name, then a black box for each submodule; its memories,
 * submodules and instances are recorded in ms[self]. */
static int module_text(const struct emod *e, int n, int self, struct syn_module *ms,
                       char **out, size_t *len)
{
    struct syn_module *sm = &ms[self];
    FILE *f = open_memstream(out, len);
    int bad = !f;
    for (const char *p = e[self].text, *end = p + e[self].len; !bad && p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        char t1[16], t2[512], t3[512];
        const char *q = token(token(p, t1, sizeof t1), t2, sizeof t2);
        int idx = !strcmp(t1, "module") || !strcmp(t1, "cell") ? find_full(e, n, t2) : -1;
        if (idx >= 0) {
            token(q, t3, sizeof t3);
            fprintf(f, "%s%s \\%s%s%s\n", *p == ' ' ? "  " : "", t1, ms[idx].name,
                    *t3 ? " " : "", t3);
            bad = !strcmp(t1, "cell") && (add_kid(sm, idx) || add_inst(sm, idx, t3));
        } else {
            if (!strcmp(t1, "memory")) {
                struct syn_mem *nm = realloc(sm->mems, (size_t)(sm->n_mems + 1) * sizeof *nm);
                if (nm)
                    parse_memory(p, &(sm->mems = nm)[sm->n_mems++]);
                bad = !nm;
            }
            fwrite(p, 1, (size_t)(next - p), f);
        }
        p = next;
    }
    for (int j = 0; !bad && j < sm->n_kids; j++)
        write_stub(f, &e[sm->kid[j]], ms[sm->kid[j]].name);
    if (f && fclose(f))
        bad = 1;
    if (bad) {
        if (f)
            free(*out);
        *out = NULL;
    }
    return bad ? -1 : 0;
}

/* ---- one module's synthesis ---- */

/* The SRAM macro of a depth x width memory with one registered read port and one write
 * port, both on the rising edge. */
static void macro_name(char *out, size_t size, int64_t depth, int64_t width)
{
    snprintf(out, size, "lp_sram_%lldx%lld_1r1w", (long long)depth, (long long)width);
}

/* The parameters of Yosys 0.23's $mem_v2: an SRAM macro instance carries none. */
static const char mem_params[] =
    "-unset ABITS -unset MEMID -unset OFFSET -unset SIZE -unset WIDTH -unset INIT "
    "-unset RD_PORTS -unset RD_CLK_ENABLE -unset RD_CLK_POLARITY -unset RD_TRANSPARENCY_MASK "
    "-unset RD_COLLISION_X_MASK -unset RD_WIDE_CONTINUATION -unset RD_CE_OVER_SRST "
    "-unset RD_ARST_VALUE -unset RD_SRST_VALUE -unset RD_INIT_VALUE -unset WR_PORTS "
    "-unset WR_CLK_ENABLE -unset WR_CLK_POLARITY -unset WR_PRIORITY_MASK "
    "-unset WR_WIDE_CONTINUATION";

/* m's Yosys script, synth.ys, in its directory. Over 80 lines because the script is one
 * template, read best whole, beside the two lists it is filled with. Returns 0, or -1
 * with d set. */
static int write_script(const struct syn_module *m, const char *lib, struct diag *d)
{
    char path[1100], small[4096] = "", macros[8192] = "";
    size_t k = 0, km = 0;
    for (int i = 0; i < m->n_mems && k < sizeof small - 200; i++)
        if (m->mems[i].width * m->mems[i].size <= SYN_FLOP_BITS)
            k += (size_t)snprintf(small + k, sizeof small - k, "memory_map %s/%s\n", m->name,
                                  m->mems[i].name);
    /* One macro type per shape: Yosys's $mem_v2 cell, renamed and stripped of its
     * parameters, is written out as a plain instance with $mem_v2's ports. */
    for (int i = 0; i < m->n_mems && km < sizeof macros - 400; i++) {
        const struct syn_mem *mm = &m->mems[i];
        int seen = mm->width * mm->size <= SYN_FLOP_BITS;
        for (int j = 0; j < i && !seen; j++)
            seen = m->mems[j].width == mm->width && m->mems[j].size == mm->size;
        if (seen)
            continue;
        char name[64];
        macro_name(name, sizeof name, mm->size, mm->width);
        km += (size_t)snprintf(macros + km, sizeof macros - km,
                               "chtype -set %s t:$mem_v2 r:SIZE=%lld %%i r:WIDTH=%lld %%i "
                               "r:RD_PORTS=1 %%i r:WR_PORTS=1 %%i r:RD_CLK_ENABLE=1'1 %%i "
                               "r:RD_CLK_POLARITY=1'1 %%i r:WR_CLK_ENABLE=1'1 %%i "
                               "r:WR_CLK_POLARITY=1'1 %%i\n",
                               name, (long long)mm->size, (long long)mm->width);
    }
    snprintf(path, sizeof path, "%s/constr.sdc", m->dir);
    /* What drives the inputs of ABC's network (flip-flop outputs, the module's inputs,
     * submodule outputs) and loads its outputs: about a BUFX2, and a D pin (fF). With a
     * driving cell ABC buffers its inputs too. */
    if (spit(path, "set_driving_cell BUFX2\nset_load 9\n", d))
        return -1;
    snprintf(path, sizeof path, "%s/synth.ys", m->dir);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return diag_set(d, path, 0, 0, "out of memory");
    fprintf(f,
            "# %s: %s alone, its submodules black boxes; memories of more than %d bits\n"
            "# kept as $mem_v2 (SRAM), smaller ones mapped to flops\n"
            "read_rtlil module.il\n"
            "hierarchy -top \\%s\n"
            "synth -top \\%s -run begin:fine\n"
            "%s"
            "opt -fast -full\n"
            "# (no opt after techmap: ABC folds the constants, and opt took a third of the time)\n"
            "techmap\n"
            "opt_clean\n"
            "abc -fast\n"
            "opt -fast\n"
            "dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_PN0_ 01 -cell $_DFF_PN1_ 01\n"
            "dfflibmap -liberty %s\n"
            "# map, then buffer nets of more than %d loads and size the cells (ABC); its\n"
            "# inputs are driven like a BUFX2 (constr.sdc), so their nets are buffered too\n"
            "abc -liberty %s -constr constr.sdc -script "
            "+strash;dretime;map;cleanup;buffer,-N,%d;upsize;dnsize\n"
            "opt_clean\n"
            "tee -q -o stat.json stat -json\n"
            "# each memory left becomes an SRAM macro, one cell type per shape (depth x\n"
            "# width, one registered read port and one write port); a memory of another\n"
            "# kind stops here, as no macro models it\n"
            "%s"
            "select -assert-none t:$mem_v2\n"
            "setparam -unset INIT t:lp_sram_*\n"
            "tee -q -o mems.txt dump t:lp_sram_*\n"
            "setparam %s t:lp_sram_*\n"
            "# the netlist: one bit per net, no assigns (synth_buffer.c adds the fanout\n"
            "# trees ABC could not see, into net.v)\n"
            "setundef -zero\n"
            "splitnets\n"
            "opt_clean -purge\n"
            "insbuf -buf BUFX2 A Y\n"
            "write_verilog -noattr -noexpr mapped.v\n",
            SYN_FLOW, m->name, SYN_FLOP_BITS, m->name, m->name, small, lib, SYN_MAX_FANOUT,
            lib, SYN_MAX_FANOUT, macros, mem_params);
    if (fclose(f)) {
        free(text);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    int rc = spit(path, text, d);
    free(text);
    return rc;
}

/* The state shared by the designs of one syn_run_all. */
struct design {
    struct syn_result *r;
    char *text;               /* the elaborated design */
    struct emod *e;
    int n;
};

struct run_ctx {
    const struct syn_tools *t;
    struct nb_lib *lib;
    struct design *ds;
    int n_ds;
};

/* The direction of a pin of a cell in a module's netlist: a liberty cell's, an SRAM
 * macro's (read data out, the clocks, the rest in), or a submodule's port. */
static enum nb_dir pin_dir(void *ctx, const char *type, const char *pin)
{
    const struct run_ctx *c = ctx;
    enum nb_dir r = nb_lib_dir(c->lib, type, pin);
    if (r != NB_UNKNOWN)
        return r;
    if (!strncmp(type, "lp_sram_", 8))
        return !strcmp(pin, "RD_DATA") ? NB_OUT
               : !strcmp(pin, "RD_CLK") || !strcmp(pin, "WR_CLK") ? NB_CLOCK : NB_IN;
    for (int i = 0; i < c->n_ds; i++)
        for (int j = 0; j < c->ds[i].n; j++) {
            if (strcmp(c->ds[i].r->m[j].name, type))
                continue;
            const struct emod *e = &c->ds[i].e[j];
            for (int k = 0; k < e->n_ports; k++)
                if (!strcmp(e->ports[k].name, pin))
                    return e->ports[k].dir;
            return NB_UNKNOWN;
        }
    return NB_UNKNOWN;
}

/* After Yosys: the fanout trees (mapped.v into net.v) and how many buffers they took. */
static int after_synth(void *ctx, const char *dir, struct diag *d)
{
    const struct run_ctx *c = ctx;
    struct nb_opts o = {SYN_MAX_FANOUT, SYN_BUF, "A", "Y", SYN_CLOCK, pin_dir, ctx};
    char in[1100], out[1100], text[64];
    int64_t n = 0;
    snprintf(in, sizeof in, "%s/mapped.v", dir);
    snprintf(out, sizeof out, "%s/net.v", dir);
    if (nb_buffer(in, out, &o, &n, d))
        return -1;
    snprintf(out, sizeof out, "%s/buffers.txt", dir);
    snprintf(text, sizeof text, "%lld %s\n", (long long)n, SYN_BUF);
    (void)c;
    return spit(out, text, d);
}

/* A parameter's value in an RTLIL cell dump (`parameter \NAME value`), or -1. */
static int64_t dump_param(const char *cell, const char *end, const char *name)
{
    char want[64];
    int n = snprintf(want, sizeof want, "parameter \\%s ", name);
    for (const char *p = cell; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, want, (size_t)n))
            return strtoll(p + n, NULL, 10);
    }
    return -1;
}

/* Own area and standard cells from Yosys's `stat -json` (stat.json): its cells by
 * type, priced from the liberty, as Yosys 0.23 puts no area in its JSON. Not the
 * memories ($mem_v2 when stat runs), not the submodules. */
static int read_stat(struct syn_module *m, const struct syn_module *all,
                     const struct nb_lib *lib, struct diag *d)
{
    char path[1100], key[300];
    snprintf(path, sizeof path, "%s/stat.json", m->dir);
    snprintf(key, sizeof key, "\\%s", m->name);
    struct ydoc doc;
    if (ydoc_load(&doc, path, d))
        return -1;
    const struct ynode *mods = doc.root ? ynode_get(doc.root, "modules") : NULL,
                       *mod = mods ? ynode_get(mods, key) : NULL,
                       *by = mod ? ynode_get(mod, "num_cells_by_type") : NULL;
    int rc = by && by->kind == YNODE_MAP ? 0 : diag_set(d, path, 0, 0, "no cell counts of "
                                                        "module %s in Yosys's statistics", m->name);
    m->area = 0;
    m->cells = 0;
    for (int i = 0; !rc && i < by->n; i++) {
        const char *type = by->keys[i]->text;
        int kid = type[0] == '$';
        for (int j = 0; !kid && j < m->n_kids; j++)
            kid = !strcmp(all[m->kid[j]].name, type);
        double area = kid ? 0 : nb_lib_area(lib, type);
        long long n = by->items[i]->kind == YNODE_SCALAR ? atoll(by->items[i]->text) : -1;
        if (!kid && (area < 0 || n < 0))
            rc = diag_set(d, path, by->keys[i]->line, by->keys[i]->col, "cell %s: %s", type,
                          n < 0 ? "no count" : "not in the liberty");
        else if (!kid)
            m->cells += n, m->area += (double)n * area;
    }
    ydoc_free(&doc);
    return rc;
}

/* Own area and standard cells (read_stat) with the fanout pass's buffers (buffers.txt);
 * the memories Yosys kept (and their macros) from mems.txt. */
static int read_results(struct syn_module *m, const struct syn_module *all,
                        const struct nb_lib *lib, struct diag *d)
{
    char path[1100];
    if (read_stat(m, all, lib, d))
        return -1;
    snprintf(path, sizeof path, "%s/buffers.txt", m->dir);
    char *s = slurp(path, NULL);
    if (!s)
        return diag_set(d, path, 0, 0, "cannot read the fanout pass's count");
    m->buffers = strtoll(s, NULL, 10);
    free(s);
    double buf_area = nb_lib_area(lib, SYN_BUF);
    if (buf_area < 0)
        return diag_set(d, path, 0, 0, "no %s in the liberty", SYN_BUF);
    m->area += (double)m->buffers * buf_area;
    m->cells += m->buffers;
    snprintf(path, sizeof path, "%s/mems.txt", m->dir);
    s = slurp(path, NULL);
    if (!s)
        return diag_set(d, path, 0, 0, "cannot read the list of memories");
    /* The macros: `cell \lp_sram_<shape> \<name>` ... `end`, MEMID naming the memory. */
    int listed = 0, k = 0;
    for (const char *p = s; (p = strstr(p, "cell \\lp_sram_")); listed++) {
        const char *end = strstr(p, "\n  end");
        end = end ? end : p + strlen(p);
        char type[64] = "", memid[80] = "";
        sscanf(p + 6, "%63s", type);
        const char *mi = strstr(p, "parameter \\MEMID \"\\\\");
        if (mi && mi < end)
            sscanf(mi + 20, "%79[^\"]", memid);
        for (int i = 0; i < m->n_mems; i++)
            if (!strcmp(m->mems[i].name, memid) && !m->mems[i].sram) {
                struct syn_mem *mm = &m->mems[i];
                mm->sram = 1;
                snprintf(mm->macro, sizeof mm->macro, "%s", type);
                mm->abits = dump_param(p, end, "ABITS");
                k++;
                if (dump_param(p, end, "SIZE") != mm->size ||
                    dump_param(p, end, "WIDTH") != mm->width || mm->abits < 1) {
                    free(s);
                    return diag_set(d, path, 0, 0, "memory %s of %s: the macro %s does not "
                                    "match its %lld x %lld bits", memid, m->base, type,
                                    (long long)mm->size, (long long)mm->width);
                }
            }
        p = end;
    }
    free(s);
    if (listed != k)
        return diag_set(d, path, 0, 0, "Yosys kept %d memories in %s, %d of them declared", listed,
                        m->base, k);
    return 0;
}

static void count_instances(struct syn_result *r, int i, int64_t times)
{
    r->m[i].count += times;
    for (int j = 0; j < r->m[i].n_kids; j++)
        count_instances(r, r->m[i].kid[j], times * r->m[i].kid_n[j]);
}

/* The value of parameter `name` in module m's text (its `parameter` line), or -1. */
static int64_t param_of(const struct emod *m, const char *name)
{
    char want[80];
    int n = snprintf(want, sizeof want, "  parameter \\%s ", name);
    for (const char *p = m->text, *end = m->text + m->len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        if (next - p > n && !strncmp(p, want, (size_t)n))
            return strtoll(p + n, NULL, 10);
        p = next;
    }
    return -1;
}

/* The module's parameter values (its `parameter` lines) into h, but for the parameters in
 * labels (NULL-terminated, or NULL): the key of what the module is. */
static uint64_t hash_params(const struct emod *m, uint64_t h, const char *const *labels)
{
    for (const char *p = m->text, *end = m->text + m->len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        int skip = strncmp(p, "  parameter \\", 13) != 0;
        for (int i = 0; !skip && labels && labels[i]; i++) {
            size_t n = strlen(labels[i]);
            skip = !strncmp(p + 13, labels[i], n) && p[13 + n] == ' ';
        }
        if (!skip)
            h = hash_bytes(h, p, (size_t)(next - p));
        p = next;
    }
    return h;
}

/* ---- the SRAM macros' liberty ---- */

/* A pin, or a bus of width bits (of type lp_bus<width>), with body inside. */
static void lib_pin(FILE *f, const char *name, int64_t width, const char *body)
{
    if (width == 1)
        fprintf(f, "    pin (%s) {\n%s    }\n", name, body);
    else
        fprintf(f, "    bus (%s) {\n      bus_type : lp_bus%lld;\n%s    }\n", name,
                (long long)width, body);
}

/* The memory shapes of r that are SRAM macros, one entry per macro (into *out, freed by
 * the caller; *n of them). Returns 0, or -1 with d set (two memories of one shape with
 * different address widths). */
static int sram_shapes(const struct syn_result *r, const char *path,
                       const struct syn_mem ***out, int *n, struct diag *d)
{
    const struct syn_mem **shape = NULL;
    int n_shape = 0;
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->m[i].n_mems; j++) {
            const struct syn_mem *mm = &r->m[i].mems[j];
            int k = 0;
            while (k < n_shape && strcmp(shape[k]->macro, mm->macro))
                k++;
            if (!mm->sram || k < n_shape) {
                if (mm->sram && shape[k]->abits != mm->abits) {
                    long long other = (long long)shape[k]->abits;
                    free(shape);
                    return diag_set(d, path, 0, 0, "two memories of shape %s with %lld and "
                                    "%lld address bits (%s of %s)", mm->macro, other,
                                    (long long)mm->abits, mm->name, r->m[i].base);
                }
                continue;
            }
            const struct syn_mem **ns = realloc(shape, (size_t)(n_shape + 1) * sizeof *ns);
            if (!ns) {
                free(shape);
                return diag_set(d, path, 0, 0, "out of memory");
            }
            shape = ns;
            shape[n_shape++] = mm;
        }
    *out = shape;
    *n = n_shape;
    return 0;
}

/* The SRAM library's header (units, conditions) and the bus types its cells use. */
static void lib_head(FILE *f, const struct syn_sram_timing *s, const struct syn_mem **shape,
                     int n_shape)
{
    fprintf(f,
            "/* %s: the SRAM macros of one design, a cell per shape (layerpipe report).\n"
            " * A memory's $mem_v2 ports: one read port whose data register sits in the\n"
            " * macro (RD_DATA changes %.4f ns after a rising RD_CLK with RD_EN high, and\n"
            " * holds otherwise; RD_ARST and RD_SRST are tied off), one write port\n"
            " * (WR_DATA bits whose WR_EN bit is high are written at a rising WR_CLK).\n"
            " * Address, data and enables set up %.4f ns before their clock. Timing from\n"
            " * %s.\n"
            " * Area: 0 here; the report prices memories from its SRAM table. */\n"
            "library (lp_sram) {\n"
            "  delay_model : table_lookup;\n"
            "  time_unit : \"1ns\";\n"
            "  voltage_unit : \"1V\";\n"
            "  current_unit : \"1uA\";\n"
            "  pulling_resistance_unit : \"1kohm\";\n"
            "  leakage_power_unit : \"1nW\";\n"
            "  capacitive_load_unit (1,pf);\n"
            "  slew_upper_threshold_pct_rise : 80;\n"
            "  slew_lower_threshold_pct_rise : 20;\n"
            "  slew_upper_threshold_pct_fall : 80;\n"
            "  slew_lower_threshold_pct_fall : 20;\n"
            "  input_threshold_pct_rise : 50;\n"
            "  input_threshold_pct_fall : 50;\n"
            "  output_threshold_pct_rise : 50;\n"
            "  output_threshold_pct_fall : 50;\n"
            "  nom_process : 1;\n"
            "  nom_voltage : 1.8;\n"
            "  nom_temperature : 25;\n"
            "  operating_conditions (typical) {\n"
            "    process : 1;\n"
            "    voltage : 1.8;\n"
            "    temperature : 25;\n"
            "  }\n"
            "  default_operating_conditions : typical;\n",
            SYN_FLOW, s->access_ns, s->setup_ns, s->source);
    /* the bus widths used */
    for (int i = 0; i < n_shape; i++)
        for (int w = 0; w < 2; w++) {
            int64_t bits = w ? shape[i]->width : shape[i]->abits, seen = bits == 1;
            for (int j = 0; j <= i && !seen; j++)
                seen = (j < i && (shape[j]->abits == bits || shape[j]->width == bits)) ||
                       (j == i && w && shape[i]->abits == bits);
            if (!seen)
                fprintf(f,
                        "  type (lp_bus%lld) {\n    base_type : array;\n    data_type : bit;\n"
                        "    bit_width : %lld;\n    bit_from : %lld;\n    bit_to : 0;\n"
                        "    downto : true;\n  }\n",
                        (long long)bits, (long long)bits, (long long)bits - 1);
        }
}

/* A cell per memory shape: the pins of a $mem_v2 with one registered read port and one
 * write port, timed as s says. */
static void lib_cells(FILE *f, const struct syn_sram_timing *s, const struct syn_mem **shape,
                      int n_shape)
{
    char clock[2][512], in_rd[512], in_wr[512], plain[128], out[1024];
    for (int w = 0; w < 2; w++)
        snprintf(clock[w], sizeof clock[w],
                 "      direction : input;\n      clock : true;\n      capacitance : %.6f;\n"
                 "      timing () {\n        related_pin : \"%s\";\n"
                 "        timing_type : minimum_period;\n"
                 "        rise_constraint (scalar) { values (\"%.4f\"); }\n"
                 "        fall_constraint (scalar) { values (\"%.4f\"); }\n      }\n",
                 s->pin_cap_pf, w ? "WR_CLK" : "RD_CLK", s->min_period_ns, s->min_period_ns);
    for (int w = 0; w < 2; w++)
        snprintf(w ? in_wr : in_rd, sizeof in_rd,
                 "      direction : input;\n      capacitance : %.6f;\n      timing () {\n"
                 "        related_pin : \"%s\";\n        timing_type : setup_rising;\n"
                 "        rise_constraint (scalar) { values (\"%.4f\"); }\n"
                 "        fall_constraint (scalar) { values (\"%.4f\"); }\n      }\n",
                 s->pin_cap_pf, w ? "WR_CLK" : "RD_CLK", s->setup_ns, s->setup_ns);
    snprintf(plain, sizeof plain, "      direction : input;\n      capacitance : %.6f;\n",
             s->pin_cap_pf);
    snprintf(out, sizeof out,
             "      direction : output;\n      timing () {\n        related_pin : \"RD_CLK\";\n"
             "        timing_type : rising_edge;\n        timing_sense : non_unate;\n"
             "        cell_rise (scalar) { values (\"%.4f\"); }\n"
             "        cell_fall (scalar) { values (\"%.4f\"); }\n"
             "        rise_transition (scalar) { values (\"%.4f\"); }\n"
             "        fall_transition (scalar) { values (\"%.4f\"); }\n      }\n",
             s->access_ns, s->access_ns, s->transition_ns, s->transition_ns);
    for (int i = 0; i < n_shape; i++) {
        const struct syn_mem *mm = shape[i];
        fprintf(f, "  cell (%s) {\n    area : 0;\n    dont_use : true;\n    dont_touch : true;\n",
                mm->macro);
        lib_pin(f, "RD_CLK", 1, clock[0]);
        lib_pin(f, "RD_EN", 1, in_rd);
        lib_pin(f, "RD_ARST", 1, plain);
        lib_pin(f, "RD_SRST", 1, plain);
        lib_pin(f, "RD_ADDR", mm->abits, in_rd);
        lib_pin(f, "RD_DATA", mm->width, out);
        lib_pin(f, "WR_CLK", 1, clock[1]);
        lib_pin(f, "WR_EN", mm->width, in_wr);
        lib_pin(f, "WR_ADDR", mm->abits, in_wr);
        lib_pin(f, "WR_DATA", mm->width, in_wr);
        fprintf(f, "  }\n");
    }
}

/* The liberty of every SRAM macro of r (none: *any is 0 and nothing is written). Every
 * shape gets t->sram's timing. Returns 0, or -1 with d set (two memories of one shape
 * with different address widths). */
static int write_sram_lib(const struct syn_tools *t, const struct syn_result *r,
                          const char *path, int *any, struct diag *d)
{
    const struct syn_mem **shape = NULL;
    int n_shape = 0;
    if (sram_shapes(r, path, &shape, &n_shape, d))
        return -1;
    *any = n_shape > 0;
    if (!n_shape)
        return 0;
    const struct syn_sram_timing *s = t->sram;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(shape);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    lib_head(f, s, shape, n_shape);
    lib_cells(f, s, shape, n_shape);
    fprintf(f, "}\n");
    free(shape);
    if (fclose(f)) {
        free(text);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    int rc = spit(path, text, d);
    free(text);
    return rc;
}

/* ---- timing ---- */

/* Every instance path under prefix (OpenSTA's names: instance names joined by '/') with
 * the index of its module, as Tcl dict entries. */
static int owner_dict(FILE *f, const struct syn_result *r, int i, const char *prefix)
{
    const struct syn_module *m = &r->m[i];
    for (int j = 0; j < m->n_inst; j++) {
        char path[2048];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", m->inst_name[j]);
        if (strpbrk(path, "{}\\"))
            return -1;
        fprintf(f, " \\\n  {%s} %d", path, m->inst_kid[j]);
        if (owner_dict(f, r, m->inst_kid[j], path))
            return -1;
    }
    return 0;
}

/* r->sta_dir/sta.tcl: OpenSTA on the mapped hierarchy of r (with sram.lib when any
 * memory is a macro), a path group per module of the report. Returns 0, or -1 with d
 * set. */
static int write_sta_script(const struct syn_tools *t, const struct syn_result *r, int any,
                            struct diag *d)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return diag_set(d, r->sta_dir, 0, 0, "out of memory");
    fprintf(f,
            "# %s: the mapped hierarchy of %s with its SRAM macros; every path from\n"
            "# and to the ports is timed against one clock edge\n"
            "read_liberty %s\n%s",
            SYN_FLOW, r->m[0].name, t->liberty, any ? "read_liberty sram.lib\n" : "");
    for (int i = 0; i < r->n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(r->m[j].dir, r->m[i].dir);
        if (!seen)
            fprintf(f, "read_verilog %s/net.v\n", r->m[i].dir);
    }
    fprintf(f,
            "link_design %s\n"
            "create_clock -name clk -period 1000 [get_ports %s]\n"
            "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports %s]]\n"
            "set_output_delay 0 -clock clk [all_outputs]\n"
            "# A path group per module of the report (m<index>), by where the endpoint's\n"
            "# cell sits, and per module with SRAM macros for their inputs (m<index>s): the\n"
            "# report names the worst path of each\n"
            "set owner [dict create {} 0",
            r->m[0].name, SYN_CLOCK, SYN_CLOCK);
    int bad = owner_dict(f, r, 0, "");
    fprintf(f,
            "]\n"
            "set groups [dict create]\n"
            "foreach pin [sta::endpoints] {\n"
            "  if {[$pin is_top_level_port]} {\n"
            "    dict lappend groups m0 $pin\n"
            "  } elseif {[$pin is_load]} {\n"
            "    set inst [$pin instance]\n"
            "    set parent [get_full_name [$inst parent]]\n"
            "    if {![dict exists $owner $parent]} {\n"
            "      puts \"layerpipe: no module for the instance $parent\"\n"
            "      exit 1\n"
            "    }\n"
            "    set g m[dict get $owner $parent]\n"
            "    if {[string match lp_sram_* [get_property $inst ref_name]]} { append g s }\n"
            "    dict lappend groups $g $pin\n"
            "  }\n"
            "}\n"
            "dict for {g pins} $groups { group_path -name $g -to $pins }\n"
            "report_checks -path_delay max -digits 3 -group_count 1 -endpoint_count 1\n");
    if (fclose(f) || bad) {
        free(text);
        return diag_set(d, r->sta_dir, 0, 0, bad ? "an instance name OpenSTA cannot be "
                        "given ({, } or \\)" : "out of memory");
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/sta.tcl", r->sta_dir);
    bad = spit(path, text, d);
    free(text);
    return bad;
}

/* The timing run's directory and script (and the macros' liberty beside it). Returns 0,
 * or -1 with d set. */
static int sta_start(const struct syn_tools *t, struct syn_result *r, struct pool *p,
                     struct diag *d)
{
    const struct syn_sram_timing *s = t->sram;
    char sram[256];
    snprintf(sram, sizeof sram, "%.6f %.6f %.6f %.6f %.6f %s", s->access_ns, s->setup_ns,
             s->min_period_ns, s->transition_ns, s->pin_cap_pf, s->source);
    /* the modules' directories carry the sources, the cell library and the tools */
    uint64_t h = hash_str(hash_str(HASH_INIT, SYN_FLOW), sram);
    for (int i = 0; i < r->n; i++)
        h = hash_str(h, r->m[i].dir);
    snprintf(r->sta_dir, sizeof r->sta_dir, "%s/sta-%016llx", t->cache, (unsigned long long)h);
    int lock = pool_take(p, r->sta_dir, d);
    if (lock == -3)
        return 0;
    if (lock < 0)
        return -1;
    char path[1100];
    int any = 0;
    snprintf(path, sizeof path, "%s/sram.lib", r->sta_dir);
    if (write_sram_lib(t, r, path, &any, d)) {
        close(lock);
        return -1;
    }
    if (write_sta_script(t, r, any, d)) {
        close(lock);
        return -1;
    }
    char *argv[] = {"sta", "-no_init", "-exit", "sta.tcl", NULL};
    return pool_spawn(p, lock, r->sta_dir, argv, "timing lp_top", NULL, NULL, t->note, d);
}

/* The worst path of each path group, and of the whole design, from the timing run's log. */
static int sta_read(struct syn_result *r, struct diag *d)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/log.txt", r->sta_dir);
    char *log = slurp(path, NULL);
    if (!log)
        return diag_set(d, path, 0, 0, "cannot read OpenSTA's log");
    /* Every module must be there: a black box would hide its paths. */
    const char *bb = strstr(log, "not found.  Creating black box");
    if (bb) {
        while (bb > log && bb[-1] != '\n')
            bb--;
        char what[200];
        sscanf(bb, "%199[^\n]", what);
        free(log);
        return diag_set(d, path, 0, 0, "OpenSTA could not link the whole design: %s", what);
    }
    for (int i = 0; i < r->n; i++)
        r->m[i].worst[SYN_LOGIC].ns = r->m[i].worst[SYN_SRAM].ns = -1;
    r->path.ns = -1;
    for (const char *sp = strstr(log, "Startpoint: "); sp;) {
        const char *next = strstr(sp + 1, "Startpoint: ");
        const char *ep = strstr(sp, "Endpoint: "), *gp = strstr(sp, "Path Group: ");
        const char *sl = strstr(sp, "slack (");
        if (!ep || !gp || !sl || (next && sl > next)) {
            free(log);
            return diag_set(d, path, 0, 0, "a path OpenSTA's report does not complete");
        }
        const char *bol = sl;
        while (bol > log && bol[-1] != '\n')
            bol--;
        struct syn_path pa;
        pa.ns = round((1000.0 - strtod(bol, NULL)) * 1000.0) / 1000.0;   /* ps, as reported */
        sscanf(sp + 12, "%255[^\n]", pa.from);
        sscanf(ep + 10, "%255[^\n]", pa.to);
        char g[64] = "";
        sscanf(gp + 12, "%63s", g);
        int idx = -1, kind = SYN_LOGIC;
        char *end = NULL;
        if (g[0] == 'm') {
            idx = (int)strtol(g + 1, &end, 10);
            kind = end && *end == 's' ? SYN_SRAM : SYN_LOGIC;
        }
        if (idx >= 0 && idx < r->n && pa.ns > r->m[idx].worst[kind].ns)
            r->m[idx].worst[kind] = pa;
        if (pa.ns > r->path.ns)
            r->path = pa;
        sp = next;
    }
    free(log);
    if (r->path.ns < 0)
        return diag_set(d, path, 0, 0, "no timed path in OpenSTA's report");
    return 0;
}

/* ---- the designs ---- */

/* Elaborate lp_top with params (its run in the pool). */
static int elab_start(const struct syn_tools *t, const char *params, char **files,
                      int n_files, uint64_t src_h, struct syn_result *r, struct pool *p,
                      struct diag *d)
{
    /* The parameters, as chparam takes them. */
    char set[8192];
    size_t k = 0;
    for (const char *q = params; *q && k < sizeof set - 256;) {
        const char *eol = strchr(q, '\n');
        size_t n = eol ? (size_t)(eol - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        if (n > 2 && !strncmp(q, "-G", 2) && eq)
            k += (size_t)snprintf(set + k, sizeof set - k, " -set %.*s %.*s", (int)(eq - q - 2),
                                  q + 2, (int)(n - (size_t)(eq - q) - 1), eq + 1);
        q += n + (eol != NULL);
    }
    set[k] = '\0';
    char *script = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&script, &len);
    if (!f)
        return diag_set(d, "layerpipe report", 0, 0, "out of memory");
    fprintf(f, "# %s: lp_top elaborated with the config's parameters\nread_verilog -sv",
            SYN_FLOW);
    for (int i = 0; i < n_files; i++)
        fprintf(f, " %s/rtl/%s", t->src, files[i]);
    fprintf(f, "\nchparam%s lp_top\nhierarchy -top lp_top\nwrite_rtlil elab.il\n", set);
    if (fclose(f)) {
        free(script);
        return diag_set(d, "layerpipe report", 0, 0, "out of memory");
    }
    uint64_t h = hash_str(src_h, script);
    snprintf(r->elab_dir, sizeof r->elab_dir, "%s/elab-%016llx", t->cache, (unsigned long long)h);
    int lock = pool_take(p, r->elab_dir, d), rc = lock == -3 ? 0 : lock;
    if (lock >= 0) {
        char path[1100];
        snprintf(path, sizeof path, "%s/elab.ys", r->elab_dir);
        rc = spit(path, script, d);
        char *argv[] = {"yosys", "-q", "-s", "elab.ys", NULL};
        if (rc)
            close(lock);
        else
            rc = pool_spawn(p, lock, r->elab_dir, argv, "elaborating lp_top", NULL, NULL,
                            t->note, d);
    }
    free(script);
    return rc < 0 ? -1 : 0;
}

/* The elaborated design split into modules, the top first, each named. */
static int read_design(struct design *ds, struct syn_result *r, const char *const *labels,
                       struct diag *d)
{
    char il[1100];
    snprintf(il, sizeof il, "%s/elab.il", r->elab_dir);
    ds->r = r;
    ds->text = slurp(il, NULL);
    if (!ds->text || split_modules(ds->text, &ds->e, &ds->n) || ds->n < 1)
        return diag_set(d, il, 0, 0, "cannot read the elaborated design");
    for (int i = 0; i < ds->n; i++) {
        ds->e[i].ports = NULL;
        ds->e[i].n_ports = 0;
    }
    struct emod *e = ds->e;
    int n = ds->n;
    /* The top first: Yosys writes modules sorted by name. */
    int top = find_full(e, n, "\\lp_top");
    if (top < 0)
        return diag_set(d, il, 0, 0, "no lp_top in the elaborated design");
    struct emod tmp = e[0];
    e[0] = e[top];
    e[top] = tmp;
    r->n = n;
    r->m = calloc((size_t)n, sizeof *r->m);
    if (!r->m)
        return diag_set(d, "layerpipe report", 0, 0, "out of memory");
    for (int i = 0; i < n; i++) {
        struct syn_module *m = &r->m[i];
        if (read_ports(&e[i]))
            return diag_set(d, "layerpipe report", 0, 0, "out of memory");
        const char *hd = strstr(e[i].text, "attribute \\hdlname \"\\\\");
        if (hd && hd < e[i].text + e[i].len)
            sscanf(hd + 22, "%47[^\"]", m->base);
        else
            snprintf(m->base, sizeof m->base, "%s", e[i].full + (e[i].full[0] == '\\'));
        m->kind = param_of(&e[i], "Kind");
        m->reg_slots = param_of(&e[i], "RegSlots");
        m->slots = param_of(&e[i], "Slots");
        /* A derived module is named by its parameters, label parameters left out: two
         * modules that differ in those only are one netlist. */
        if (e[i].full[0] == '\\')
            snprintf(m->name, sizeof m->name, "%s", e[i].full + 1);
        else
            snprintf(m->name, sizeof m->name, "%s_%08llx", m->base,
                     (unsigned long long)(hash_params(&e[i], hash_str(HASH_INIT, m->base),
                                                     labels) & 0xffffffffu));
    }
    return 0;
}

/* What can change module i's netlist, hashed: its own file rtl/<base>.sv, the files of
 * the modules it instantiates (their ports shape its connections; their insides are
 * black boxes to it) and every include file, so that editing one module leaves the cached
 * netlists of the others valid. A module whose file is not rtl/<base>.sv is keyed by the
 * whole RTL (all). */
static uint64_t module_src_hash(const struct syn_tools *t, const struct syn_result *r, int i,
                                uint64_t all, uint64_t inc)
{
    uint64_t h = inc;
    for (int j = -1; j < r->m[i].n_kids; j++) {
        const char *base = r->m[j < 0 ? i : r->m[i].kid[j]].base;
        char path[1400];
        size_t len;
        snprintf(path, sizeof path, "%s/rtl/%s.sv", t->src, base);
        char *text = slurp(path, &len);
        if (!text)
            return all;
        h = hash_bytes(hash_str(h, base), text, len);
        free(text);
    }
    return h;
}

/* Module i of ds: its text and cache directory, and its synthesis in the pool unless it
 * is cached. A module's result depends on its source and parameters only: its RTL module,
 * its parameter values but the labels, and the source files that can change its netlist
 * key it (module_src_hash); the elaborated text as a whole does not, as Yosys numbers
 * internal names across the whole design. */
static int synth_start(const struct syn_tools *t, struct design *ds, int i, uint64_t src_h,
                       uint64_t inc_h, struct pool *p, struct run_ctx *ctx, struct diag *d)
{
    struct syn_module *m = &ds->r->m[i];
    const struct emod *e = &ds->e[i];
    char *body = NULL;
    size_t k = 0;
    if (module_text(ds->e, ds->n, i, ds->r->m, &body, &k))
        return diag_set(d, "layerpipe report", 0, 0, "out of memory");
    uint64_t own = module_src_hash(t, ds->r, i, src_h, inc_h);
    uint64_t h = hash_str(hash_str(own, m->name), SYN_FLOW);
    h = hash_params(e, hash_str(h, m->base), t->labels);
    snprintf(m->dir, sizeof m->dir, "%s/%s-%016llx", t->cache, m->name, (unsigned long long)h);
    int lock = pool_take(p, m->dir, d);
    if (lock < 0) {
        free(body);
        return lock == -3 ? 0 : -1;
    }
    char path[1100], what[160];
    snprintf(path, sizeof path, "%s/module.il", m->dir);
    if (spit(path, body, d) || write_script(m, t->liberty, d)) {
        free(body);
        close(lock);
        return -1;
    }
    free(body);
    snprintf(what, sizeof what, "synthesising %s", m->base);
    char *argv[] = {"yosys", "-q", "-s", "synth.ys", NULL};
    return pool_spawn(p, lock, m->dir, argv, what, after_synth, ctx, t->note, d);
}

/* Mix into *h what every cached result depends on besides its own inputs: the cell
 * library's contents (not its path) and the versions of Yosys and OpenSTA. */
static int tools_hash(const struct syn_tools *t, uint64_t *h, struct diag *d)
{
    char *lib, yosys[160], sta[160];
    size_t n;
    if (file_read(t->liberty, FILE_NO_LIMIT, &lib, &n, d))
        return -1;
    syn_tool_version("yosys -V", yosys, sizeof yosys);
    syn_tool_version("sta -version", sta, sizeof sta);
    *h = hash_str(hash_str(hash_bytes(*h, lib, n), yosys), sta);
    free(lib);
    return 0;
}

int syn_run_all(const struct syn_tools *t, int n, const char *const *params,
                struct syn_result *r, struct diag *d)
{
    for (int i = 0; i < n; i++)
        memset(&r[i], 0, sizeof r[i]);
    char **files = NULL;
    int n_files = 0;
    uint64_t src_h = 0, inc_h = 0;
    if (rtl_files(t->src, &files, &n_files, &src_h, &inc_h, d))
        return -1;
    struct design *ds = calloc((size_t)n, sizeof *ds);
    struct pool pool = {.max = t->jobs < 1 ? 1 : t->jobs > 16 ? 16 : t->jobs};
    struct nb_lib *lib = NULL;
    struct run_ctx ctx = {t, NULL, ds, 0};
    uint64_t tools_h = HASH_INIT;
    int rc = ds ? tools_hash(t, &tools_h, d) : diag_set(d, "layerpipe report", 0, 0, "out of memory");
    src_h = hash_bytes(src_h, &tools_h, sizeof tools_h);   /* elaboration, whole-RTL keys */
    inc_h = hash_bytes(inc_h, &tools_h, sizeof tools_h);   /* each module's key */
    for (int i = 0; i < n && !rc; i++)
        rc = elab_start(t, params[i], files, n_files, src_h, &r[i], &pool, d);
    if (pool_reap(&pool, 1, d))
        rc = -1;
    for (int i = 0; i < n && !rc; i++, ctx.n_ds++)
        rc = read_design(&ds[i], &r[i], t->labels, d);
    if (!rc)
        rc = nb_lib_load(t->liberty, &lib, d);
    ctx.lib = lib;
    for (int i = 0; i < n && !rc; i++)
        for (int j = 0; j < ds[i].n && !rc; j++)
            rc = synth_start(t, &ds[i], j, src_h, inc_h, &pool, &ctx, d);
    if (pool_reap(&pool, 1, d))
        rc = -1;
    for (int i = 0; i < n && !rc; i++) {
        for (int j = 0; j < r[i].n && !rc; j++)
            rc = read_results(&r[i].m[j], r[i].m, lib, d);
        if (rc)
            break;
        count_instances(&r[i], 0, 1);
        for (int j = 0; j < r[i].n; j++) {
            r[i].logic_area += r[i].m[j].area * (double)r[i].m[j].count;
            r[i].cells += r[i].m[j].cells * r[i].m[j].count;
        }
    }
    for (int i = 0; i < n && !rc; i++)
        rc = sta_start(t, &r[i], &pool, d);
    if (pool_reap(&pool, 1, d))
        rc = -1;
    for (int i = 0; i < n && !rc; i++)
        rc = sta_read(&r[i], d);
    for (int i = 0; ds && i < n; i++) {
        for (int j = 0; j < ds[i].n; j++)
            free(ds[i].e[j].ports);
        free(ds[i].e);
        free(ds[i].text);
    }
    free(ds);
    nb_lib_free(lib);
    free_names(files, n_files);
    if (rc)
        for (int i = 0; i < n; i++)
            syn_free(&r[i]);
    return rc ? -1 : 0;
}

int syn_run(const struct syn_tools *t, const char *params, struct syn_result *r,
            struct diag *d)
{
    return syn_run_all(t, 1, &params, r, d);
}

void syn_free(struct syn_result *r)
{
    for (int i = 0; r->m && i < r->n; i++) {
        free(r->m[i].mems);
        free(r->m[i].kid);
        free(r->m[i].kid_n);
        for (int j = 0; j < r->m[i].n_inst; j++)
            free(r->m[i].inst_name[j]);
        free(r->m[i].inst_kid);
        free(r->m[i].inst_name);
    }
    free(r->m);
    memset(r, 0, sizeof *r);
}
