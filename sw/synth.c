#define _DEFAULT_SOURCE   /* flock, mkdir */
#include "synth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outfile.h"

/* Bumped whenever the scripts below change, so old cached results are not reused. */
#define SYN_FLOW "layerpipe-syn-5"

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv_str(const char *s, uint64_t h)
{
    return fnv(s, strlen(s), h);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    if (len)
        *len = n;
    return b;
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

/* Start `tool -args` in dir with its output in dir/log.txt. Returns the pid or -1. */
static pid_t start(const char *dir, char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir))
            _exit(126);
        int fd = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int mkdir_p(const char *path)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0777) && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0777) && errno != EEXIST ? -1 : 0;
}

/* ---- the elaborated design, split into modules ---- */

struct emod {
    char full[512];           /* the RTLIL name, e.g. $paramod$<sha1>\lp_layer */
    const char *text;         /* from its attributes to its `end` line */
    size_t len;
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
    *m = (struct syn_mem){"", 1, 1, 0};
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

/* A black box with m's ports, for the synthesis of a module that instantiates it. */
static void write_stub(FILE *f, const struct emod *m, const char *name)
{
    fprintf(f, "attribute \\blackbox 1\nmodule \\%s\n", name);
    for (const char *p = m->text, *end = m->text + m->len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        char w[8], line[1024];
        token(p, w, sizeof w);
        size_t n = (size_t)(next - p) < sizeof line - 1 ? (size_t)(next - p) : sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (!strcmp(w, "wire") &&
            (strstr(line, " input ") || strstr(line, " output ") || strstr(line, " inout ")))
            fwrite(p, 1, (size_t)(next - p), f);
        p = next;
    }
    fputs("end\n", f);
}

/* What Yosys synthesises for module self (into *out, malloc'd): its text with every module
 * name replaced by its netlist name, then a black box for each submodule; its memories
 * and submodules are recorded in ms[self]. */
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
            bad = !strcmp(t1, "cell") && add_kid(sm, idx);
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

static int write_script(const struct syn_module *m, const char *lib, struct diag *d)
{
    char path[1100], text[8192], small[4096] = "";
    size_t k = 0;
    for (int i = 0; i < m->n_mems && k < sizeof small - 200; i++)
        if (m->mems[i].width * m->mems[i].size <= SYN_FLOP_BITS)
            k += (size_t)snprintf(small + k, sizeof small - k, "memory_map %s/%s\n", m->name,
                                  m->mems[i].name);
    snprintf(path, sizeof path, "%s/synth.ys", m->dir);
    snprintf(text, sizeof text,
             "# %s: %s alone, its submodules black boxes; memories of more than %d bits\n"
             "# kept as $mem_v2 (SRAM), smaller ones mapped to flops\n"
             "read_rtlil module.il\n"
             "hierarchy -top \\%s\n"
             "synth -top \\%s -run begin:fine\n"
             "%s"
             "opt -fast -full\n"
             "techmap\n"
             "opt -fast\n"
             "abc -fast\n"
             "opt -fast\n"
             "dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_PN0_ 01 -cell $_DFF_PN1_ 01\n"
             "dfflibmap -liberty %s\n"
             "# map, then buffer nets of more than 12 loads and size the cells (ABC)\n"
             "abc -liberty %s -script +strash;dretime;map;cleanup;buffer,-N,12;upsize;dnsize\n"
             "opt_clean\n"
             "tee -q -o stat.txt stat -liberty %s\n"
             "tee -q -o mems.txt select -list t:$mem_v2\n"
             "# the netlist OpenSTA reads: memories cut out, one bit per net, no assigns\n"
             "delete t:$mem_v2\n"
             "setundef -zero\n"
             "splitnets\n"
             "opt_clean -purge\n"
             "insbuf -buf BUFX2 A Y\n"
             "write_verilog -noattr -noexpr net.v\n",
             SYN_FLOW, m->name, SYN_FLOP_BITS, m->name, m->name, small, lib, lib, lib);
    return spit(path, text, d);
}

/* Own area and standard cells from stat.txt; the memories Yosys kept from mems.txt. */
static int read_results(struct syn_module *m, const struct syn_module *all, struct diag *d)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/stat.txt", m->dir);
    char *s = slurp(path, NULL);
    if (!s)
        return diag_set(d, path, 0, 0, "cannot read Yosys's statistics");
    const char *a = strstr(s, "Chip area for module");
    const char *colon = a ? strstr(a, "': ") : NULL;
    const char *nc = strstr(s, "Number of cells:");
    if (!nc) {
        free(s);
        return diag_set(d, path, 0, 0, "no cell count in Yosys's statistics");
    }
    m->area = colon ? strtod(colon + 3, NULL) : 0;   /* no area line: no cells */
    m->cells = 0;
    for (const char *p = strchr(nc, '\n'); p && p[1] && p[1] != '\n';) {
        char type[256], num[64];
        const char *q = token(p + 1, type, sizeof type);
        token(q, num, sizeof num);
        int kid = type[0] == '$';
        for (int j = 0; !kid && j < m->n_kids; j++)
            kid = !strcmp(all[m->kid[j]].name, type);
        if (!kid && *type)
            m->cells += atoll(num);
        p = strchr(p + 1, '\n');
    }
    free(s);
    snprintf(path, sizeof path, "%s/mems.txt", m->dir);
    s = slurp(path, NULL);
    if (!s)
        return diag_set(d, path, 0, 0, "cannot read the list of memories");
    /* Which declared memories Yosys kept as memories ("module/name" lines). */
    int k = 0, listed = 0;
    for (int i = 0; i < m->n_mems; i++) {
        char want[200];
        snprintf(want, sizeof want, "/%s\n", m->mems[i].name);
        m->mems[i].sram = strstr(s, want) != NULL;
        k += m->mems[i].sram;
    }
    for (const char *p = s; (p = strchr(p, '/')); p++)
        listed++;
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

static int lock_dir(const char *dir, int wait)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) {
        close(fd);
        return -2;
    }
    return fd;
}

struct running {
    pid_t pid;
    int lock, mod;
};

/* Wait for one run (any, or all when all is set) to end: mark it done and unlock it. */
static int reap(struct running *run, int *n_run, int all, struct syn_result *r, struct diag *d)
{
    int bad = 0;
    while (*n_run > 0) {
        int st = 0;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        int i = 0;
        while (i < *n_run && run[i].pid != pid)
            i++;
        if (i == *n_run) {
            if (pid < 0)   /* no child left: should not happen */
                return diag_set(d, "layerpipe report", 0, 0, "lost track of yosys: %s",
                                strerror(errno));
            continue;      /* another child of this process */
        }
        struct syn_module *m = &r->m[run[i].mod];
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
        char done[1100];
        snprintf(done, sizeof done, "%s/done", m->dir);
        if (rc == 0) {
            FILE *f = fopen(done, "w");
            rc = f ? fclose(f) : -1;
        }
        if (rc && !bad)
            bad = diag_set(d, "layerpipe report", 0, 0, "yosys failed on %s (%s/log.txt)",
                           m->base, m->dir);
        flock(run[i].lock, LOCK_UN);
        close(run[i].lock);
        run[i] = run[--*n_run];
        if (!all)
            break;
    }
    return bad;
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

/* The module's parameter values (its `parameter` lines) into h: the top keeps its name
 * when chparam sets them. */
static uint64_t fnv_params(const struct emod *m, uint64_t h)
{
    for (const char *p = m->text, *end = m->text + m->len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        if (!strncmp(p, "  parameter ", 12))
            h = fnv(p, (size_t)(next - p), h);
        p = next;
    }
    return h;
}

/* A module's result depends on its source and parameters only: its elaborated name, its
 * parameter values and the RTL's hash key it; the elaborated text as a whole does not, as
 * Yosys numbers internal names across the whole design. */
static int synth_modules(const struct syn_tools *t, const struct emod *e, struct syn_result *r,
                         uint64_t src_h, struct diag *d)
{
    struct running run[16];
    int n_run = 0, jobs = t->jobs < 1 ? 1 : t->jobs > 16 ? 16 : t->jobs;
    int rc = 0;
    for (int i = 0; i < r->n && !rc; i++) {
        struct syn_module *m = &r->m[i];
        char *body = NULL;
        size_t k = 0;
        if (module_text(e, r->n, i, r->m, &body, &k)) {
            rc = diag_set(d, "layerpipe report", 0, 0, "out of memory");
            break;
        }
        uint64_t h = fnv_str(t->liberty, fnv_str(SYN_FLOW, fnv_str(e[i].full, src_h)));
        if (e[i].full[0] == '\\')   /* ($paramod names carry their parameters already) */
            h = fnv_params(&e[i], h);
        snprintf(m->dir, sizeof m->dir, "%s/%s-%016llx", t->cache, m->name, (unsigned long long)h);
        char path[1100];
        snprintf(path, sizeof path, "%s/done", m->dir);
        if (exists(path)) {
            free(body);
            continue;
        }
        if (mkdir_p(m->dir)) {
            free(body);
            rc = diag_set(d, m->dir, 0, 0, "cannot create: %s", strerror(errno));
            break;
        }
        int lock = lock_dir(m->dir, 0);
        if (lock == -2) {   /* another run is on it: wait with no lock of ours held */
            rc = reap(run, &n_run, 1, r, d);
            lock = rc ? -1 : lock_dir(m->dir, 1);
        }
        if (lock < 0 || exists(path)) {
            if (lock >= 0)
                close(lock);
            free(body);
            if (lock < 0 && !rc)
                rc = diag_set(d, m->dir, 0, 0, "cannot lock: %s", strerror(errno));
            continue;
        }
        snprintf(path, sizeof path, "%s/module.il", m->dir);
        if (spit(path, body, d) || write_script(m, t->liberty, d)) {
            free(body);
            close(lock);
            rc = -1;
            break;
        }
        free(body);
        if (t->note)
            fprintf(t->note, "synthesising %s (%s)\n", m->base, m->dir), fflush(t->note);
        char *argv[] = {"yosys", "-q", "-s", "synth.ys", NULL};
        pid_t pid = start(m->dir, argv);
        if (pid < 0) {
            close(lock);
            rc = diag_set(d, "layerpipe report", 0, 0, "cannot run yosys: %s", strerror(errno));
            break;
        }
        run[n_run++] = (struct running){pid, lock, i};
        if (n_run == jobs)
            rc = reap(run, &n_run, 0, r, d);
    }
    int rc2 = reap(run, &n_run, 1, r, d);
    return rc ? rc : rc2;
}

/* ---- timing ---- */

static int sta(const struct syn_tools *t, struct syn_result *r, struct diag *d)
{
    uint64_t h = fnv_str(t->liberty, fnv_str(SYN_FLOW, 0xcbf29ce484222325ull));
    for (int i = 0; i < r->n; i++)
        h = fnv_str(r->m[i].dir, h);
    snprintf(r->sta_dir, sizeof r->sta_dir, "%s/sta-%016llx", t->cache, (unsigned long long)h);
    char path[1100], done[1100];
    snprintf(path, sizeof path, "%s/sta.tcl", r->sta_dir);
    snprintf(done, sizeof done, "%s/done", r->sta_dir);
    if (!exists(done)) {
        if (mkdir_p(r->sta_dir))
            return diag_set(d, r->sta_dir, 0, 0, "cannot create: %s", strerror(errno));
        size_t cap = 4096 + (size_t)r->n * 1200, k = 0;
        char *s = malloc(cap);
        if (!s)
            return diag_set(d, "layerpipe report", 0, 0, "out of memory");
        k += (size_t)snprintf(s + k, cap - k,
                              "# %s: the mapped hierarchy of lp_top, memories cut out; every\n"
                              "# path from and to the ports is timed against one clock edge\n"
                              "read_liberty %s\n",
                              SYN_FLOW, t->liberty);
        for (int i = 0; i < r->n; i++)
            k += (size_t)snprintf(s + k, cap - k, "read_verilog %s/net.v\n", r->m[i].dir);
        snprintf(s + k, cap - k,
                 "link_design %s\n"
                 "create_clock -name clk -period 1000 [get_ports clk_i]\n"
                 "set_input_delay 0 -clock clk [all_inputs]\n"
                 "set_output_delay 0 -clock clk [all_outputs]\n"
                 "report_checks -path_delay max -digits 3\n",
                 r->m[0].name);
        int bad = spit(path, s, d);
        free(s);
        if (bad)
            return -1;
        char *argv[] = {"sta", "-no_init", "-exit", "sta.tcl", NULL};
        pid_t pid = start(r->sta_dir, argv);
        if (pid < 0 || finish(pid) != 0)
            return diag_set(d, "layerpipe report", 0, 0, "OpenSTA failed (%s/log.txt)", r->sta_dir);
    }
    snprintf(path, sizeof path, "%s/log.txt", r->sta_dir);
    char *log = slurp(path, NULL);
    /* Every module must be there: a black box would hide its paths. */
    const char *bb = log ? strstr(log, "not found.  Creating black box") : NULL;
    if (bb) {
        while (bb > log && bb[-1] != '\n')
            bb--;
        char what[200];
        sscanf(bb, "%199[^\n]", what);
        free(log);
        return diag_set(d, path, 0, 0, "OpenSTA could not link the whole design: %s", what);
    }
    /* The path with the least slack of those reported (one per path group). */
    double best = 1e300;
    const char *path_at = NULL;
    for (const char *p = log; p && (p = strstr(p, "slack (")); p++) {
        const char *bol = p;
        while (bol > log && bol[-1] != '\n')
            bol--;
        double slack = strtod(bol, NULL);
        if (slack < best) {
            best = slack;
            path_at = bol;
        }
    }
    const char *sp = NULL, *ep = NULL;
    for (const char *p = log; path_at && (p = strstr(p, "Startpoint: ")) && p < path_at; p++)
        sp = p;
    ep = sp ? strstr(sp, "Endpoint: ") : NULL;
    if (!sp || !ep || ep > path_at) {
        free(log);
        return diag_set(d, path, 0, 0, "no timed path in OpenSTA's report");
    }
    r->path_ns = 1000.0 - best;
    sscanf(sp + 12, "%159[^\n]", r->path_from);
    sscanf(ep + 10, "%159[^\n]", r->path_to);
    free(log);
    FILE *f = fopen(done, "w");
    if (f)
        fclose(f);
    return 0;
}

int syn_run(const struct syn_tools *t, const char *params, struct syn_result *r, struct diag *d)
{
    memset(r, 0, sizeof *r);
    /* Elaborate: the parameters, as chparam takes them. */
    char set[8192];
    size_t k = 0;
    for (const char *p = params; *p && k < sizeof set - 256;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n > 2 && !strncmp(p, "-G", 2) && eq)
            k += (size_t)snprintf(set + k, sizeof set - k, " -set %.*s %.*s", (int)(eq - p - 2),
                                  p + 2, (int)(n - (size_t)(eq - p) - 1), eq + 1);
        p += n + (eol != NULL);
    }
    set[k] = '\0';
    char script[16384];
    int sk = snprintf(script, sizeof script,
                      "# %s: lp_top elaborated with the config's parameters\nread_verilog -sv",
                      SYN_FLOW);
    static const char *const files[] = {
        "delay_line", "ema_unit", "fx_narrow",  "fx_narrow_reg", "lp_engine",  "lp_layer",
        "lp_stage",   "lp_top",   "mac_array",  "sgd_update",    "skew_mem",   "stash_ring"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        sk += snprintf(script + sk, sizeof script - (size_t)sk, " %s/rtl/%s.sv", t->src, files[i]);
    snprintf(script + sk, sizeof script - (size_t)sk,
             "\nchparam%s lp_top\nhierarchy -top lp_top\nwrite_rtlil elab.il\n", set);
    uint64_t src_h = 0xcbf29ce484222325ull;   /* the RTL itself */
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/rtl/%s.sv", t->src, files[i]);
        size_t n;
        char *s = slurp(path, &n);
        if (!s)
            return diag_set(d, path, 0, 0, "cannot read the RTL: %s", strerror(errno));
        src_h = fnv(s, n, src_h);
        free(s);
    }
    uint64_t h = fnv_str(script, src_h);
    snprintf(r->elab_dir, sizeof r->elab_dir, "%s/elab-%016llx", t->cache, (unsigned long long)h);
    char path[1100], il[1100];
    snprintf(il, sizeof il, "%s/elab.il", r->elab_dir);
    snprintf(path, sizeof path, "%s/done", r->elab_dir);
    if (!exists(path)) {
        snprintf(path, sizeof path, "%s/elab.ys", r->elab_dir);
        if (mkdir_p(r->elab_dir))
            return diag_set(d, r->elab_dir, 0, 0, "cannot create: %s", strerror(errno));
        if (spit(path, script, d))
            return -1;
        char *argv[] = {"yosys", "-q", "-s", "elab.ys", NULL};
        pid_t pid = start(r->elab_dir, argv);
        if (pid < 0 || finish(pid) != 0)
            return diag_set(d, "layerpipe report", 0, 0, "yosys could not elaborate lp_top (%s/log.txt)",
                            r->elab_dir);
        snprintf(path, sizeof path, "%s/done", r->elab_dir);
        FILE *f = fopen(path, "w");
        if (f)
            fclose(f);
    }
    char *text = slurp(il, NULL);
    struct emod *e = NULL;
    int n = 0;
    if (!text || split_modules(text, &e, &n) || n < 1) {
        free(text);
        free(e);
        return diag_set(d, il, 0, 0, "cannot read the elaborated design");
    }
    /* The top first: Yosys writes modules sorted by name. */
    int top = find_full(e, n, "\\lp_top");
    if (top < 0) {
        free(text);
        free(e);
        return diag_set(d, il, 0, 0, "no lp_top in the elaborated design");
    }
    struct emod tmp = e[0];
    e[0] = e[top];
    e[top] = tmp;
    r->n = n;
    r->m = calloc((size_t)n, sizeof *r->m);
    int rc = r->m ? 0 : diag_set(d, "layerpipe report", 0, 0, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        struct syn_module *m = &r->m[i];
        const char *hd = strstr(e[i].text, "attribute \\hdlname \"\\\\");
        if (hd && hd < e[i].text + e[i].len)
            sscanf(hd + 22, "%47[^\"]", m->base);
        else
            snprintf(m->base, sizeof m->base, "%s", e[i].full + (e[i].full[0] == '\\'));
        m->kind = param_of(&e[i], "Kind");
        m->reg_slots = param_of(&e[i], "RegSlots");
        m->slots = param_of(&e[i], "Slots");
        if (e[i].full[0] == '\\')
            snprintf(m->name, sizeof m->name, "%s", e[i].full + 1);
        else
            snprintf(m->name, sizeof m->name, "%s_%08llx", m->base,
                     (unsigned long long)(fnv_str(e[i].full, 0xcbf29ce484222325ull) & 0xffffffffu));
    }
    if (!rc)
        rc = synth_modules(t, e, r, src_h, d);
    for (int i = 0; !rc && i < n; i++)
        rc = read_results(&r->m[i], r->m, d);
    free(text);
    free(e);
    if (rc)
        return -1;
    count_instances(r, 0, 1);
    for (int i = 0; i < n; i++) {
        r->logic_area += r->m[i].area * (double)r->m[i].count;
        r->cells += r->m[i].cells * r->m[i].count;
    }
    return sta(t, r, d);
}

void syn_free(struct syn_result *r)
{
    for (int i = 0; r->m && i < r->n; i++) {
        free(r->m[i].mems);
        free(r->m[i].kid);
        free(r->m[i].kid_n);
    }
    free(r->m);
    memset(r, 0, sizeof *r);
}
