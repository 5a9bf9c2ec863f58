#define _DEFAULT_SOURCE   /* realpath, strsignal */
#include "sweep_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/files.h"
#include "../base/outfile.h"
#include "../base/proc.h"
#include "../base/progress.h"
#include "sweep_db.h"

#define MAX_JOBS 256
#define IN_FLIGHT 2          /* points queued at a worker: one running, one waiting */
#define COMMIT_SECONDS 0.25  /* results are committed at least this often */

/* ---- workers ---- */

struct worker {
    pid_t pid;
    int task, result;           /* our ends of its pipes; -1 when closed */
    int64_t queue[IN_FLIGHT];   /* points sent, the running one first */
    int n_queue;
    char *buf;                  /* what it has sent of its next result */
    size_t len, cap;
};

struct runner {
    struct sweep *s;
    const struct sweep_request *rq;
    struct sweep_db *db;
    struct worker w[MAX_JOBS];
    int n_workers;
    int64_t *todo, n_todo, next;   /* pending points; next to hand out */
    int64_t *back, n_back;         /* points handed back by a worker that died */
    int64_t total, ok, failed, done_here;
    double start, last_draw, last_commit;
    struct diag *d;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static void worker_main(struct sweep *s, const struct sweep_opts *o, int task, int result)
{
    int64_t p;
    while (proc_read_all(task, &p, sizeof p) == 0) {
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m || sweep_eval(s, p, o, m) || fclose(m))
            _exit(1);
        uint32_t n = (uint32_t)len;
        if (proc_write_all(result, &n, sizeof n) || proc_write_all(result, text, len))
            _exit(1);
        free(text);
    }
    _exit(0);
}

static int spawn(struct runner *r, struct worker *w)
{
    int t[2], res[2];
    if (pipe(t))
        return diag_set(r->d, "layerpipe sweep", 0, 0, "pipe: %s", strerror(errno));
    if (pipe(res)) {
        close(t[0]), close(t[1]);
        return diag_set(r->d, "layerpipe sweep", 0, 0, "pipe: %s", strerror(errno));
    }
    /* Not into what a point execs (a Verilator build): its parent's death must show. */
    for (int i = 0; i < 2; i++) {
        fcntl(t[i], F_SETFD, FD_CLOEXEC);
        fcntl(res[i], F_SETFD, FD_CLOEXEC);
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        /* A worker dies with its parent (kill -9 included) rather than run on. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
            _exit(1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        for (int i = 0; i < r->n_workers; i++)   /* only its own pipes stay open */
            if (r->w[i].pid > 0) {
                close(r->w[i].task);
                close(r->w[i].result);
            }
        close(t[1]), close(res[0]);
        worker_main(r->s, &r->rq->o, t[0], res[1]);
    }
    close(t[0]), close(res[1]);
    if (pid < 0) {
        close(t[1]), close(res[0]);
        return diag_set(r->d, "layerpipe sweep", 0, 0, "fork: %s", strerror(errno));
    }
    *w = (struct worker){.pid = pid, .task = t[1], .result = res[0]};
    return 0;
}

static int have_work(const struct runner *r)
{
    return r->n_back > 0 || r->next < r->n_todo;
}

/* Hand w points until it has IN_FLIGHT (or there are none left). */
static void feed(struct runner *r, struct worker *w)
{
    while (w->pid > 0 && w->n_queue < IN_FLIGHT && have_work(r) && !interrupted) {
        int64_t p = r->n_back ? r->back[--r->n_back] : r->todo[r->next++];
        if (proc_write_all(w->task, &p, sizeof p)) {
            r->back[r->n_back++] = p;   /* it died: its result pipe will say so */
            return;
        }
        w->queue[w->n_queue++] = p;
    }
}

static void draw(struct runner *r, int last)
{
    double t = progress_now();
    if (!r->rq->progress || (!last && t - r->last_draw < 0.1))
        return;
    r->last_draw = t;
    int64_t done = r->ok + r->failed;
    double rate = r->done_here / (t - r->start > 1e-6 ? t - r->start : 1e-6);
    double eta = rate > 0 ? (double)(r->total - done) / rate : 0;
    char left[32] = "ETA -";
    if (rate > 0)
        snprintf(left, sizeof left, "ETA %dm%02ds", (int)eta / 60, (int)eta % 60);
    progress_draw(stderr, "", 28, done, r->total, "%lld/%lld points, %lld failed, %.*f/s, %s",
                  (long long)done, (long long)r->total, (long long)r->failed, rate < 10 ? 2 : 0,
                  rate, left);
    if (last)
        progress_clear(stderr);
}

/* Record one result (from a worker, or made for a point whose worker died). */
static int record(struct runner *r, const char *text, size_t len)
{
    int failed = 0;
    int rc = sweep_db_store(r->db, "a worker's result", text, len, &failed, r->d);
    if (rc < 0 || rc == 2)
        return -1;   /* a database error, or a worker writing what we cannot read: a bug */
    if (rc == 0) {
        r->failed += failed;
        r->ok += !failed;
        r->done_here++;
    }
    double t = progress_now();
    if (t - r->last_commit >= COMMIT_SECONDS) {
        if (sweep_db_commit(r->db, r->d) || sweep_db_begin(r->db, r->d))
            return -1;
        r->last_commit = t;
    }
    return 0;
}

/* Read what w has sent; record each whole result. Returns 0, 1 when it has closed its
 * pipe (it exited or died), -1 on error. */
static int drain(struct runner *r, struct worker *w)
{
    if (w->cap - w->len < 65536) {
        size_t nc = w->cap ? 2 * w->cap : 65536;
        char *nb = realloc(w->buf, nc);
        if (!nb)
            return diag_set(r->d, "layerpipe sweep", 0, 0, "out of memory");
        w->buf = nb, w->cap = nc;
    }
    ssize_t got = read(w->result, w->buf + w->len, w->cap - w->len);
    if (got < 0)
        return errno == EINTR ? 0 : diag_set(r->d, "layerpipe sweep", 0, 0, "read: %s",
                                             strerror(errno));
    if (got == 0)
        return 1;
    w->len += (size_t)got;
    size_t off = 0;
    for (;;) {
        uint32_t n;
        if (w->len - off < sizeof n)
            break;
        memcpy(&n, w->buf + off, sizeof n);
        if (w->len - off - sizeof n < n)
            break;
        if (record(r, w->buf + off + sizeof n, n))
            return -1;
        off += sizeof n + n;
        memmove(w->queue, w->queue + 1, sizeof *w->queue * (size_t)--w->n_queue);
    }
    memmove(w->buf, w->buf + off, w->len - off);
    w->len -= off;
    feed(r, w);
    return 0;
}

/* w has closed its pipe: reap it; a point it was running failed, the rest go back. */
static int bury(struct runner *r, struct worker *w)
{
    int st = 0;
    close(w->task);
    close(w->result);
    proc_wait(w->pid, &st);
    w->pid = -1;
    if (w->n_queue && !interrupted) {
        char why[200], *text = NULL;
        size_t len = 0;
        if (WIFSIGNALED(st))
            snprintf(why, sizeof why, "the worker running this point was killed by signal %d "
                     "(%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            snprintf(why, sizeof why, "the worker running this point exited with status %d",
                     WEXITSTATUS(st));
        FILE *m = open_memstream(&text, &len);
        if (!m)
            return diag_set(r->d, "layerpipe sweep", 0, 0, "out of memory");
        sweep_write_failure(m, r->s, w->queue[0], &r->rq->o, why);
        fclose(m);
        int rc = record(r, text, len);
        free(text);
        if (rc)
            return -1;
        for (int i = w->n_queue - 1; i > 0; i--)
            r->back[r->n_back++] = w->queue[i];
    }
    w->n_queue = 0;
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    if (have_work(r) && !interrupted) {
        if (spawn(r, w))
            return -1;
        feed(r, w);
    }
    return 0;
}

static int busy(const struct runner *r)
{
    for (int i = 0; i < r->n_workers; i++)
        if (r->w[i].pid > 0 && r->w[i].n_queue)
            return 1;
    return 0;
}

static int run_points(struct runner *r)
{
    int rc = 0;
    struct pollfd pf[MAX_JOBS];
    int jobs = r->rq->jobs;
    if (jobs > r->n_todo)
        jobs = (int)r->n_todo;
    for (int i = 0; i < jobs && !rc; i++) {
        rc = spawn(r, &r->w[i]);
        r->n_workers = i + !rc;
    }
    for (int i = 0; i < r->n_workers; i++)
        feed(r, &r->w[i]);
    /* Work left and no worker busy: one died between two points, and its closed pipe
     * brings it to bury(), which starts another. */
    while (!rc && !interrupted && (busy(r) || have_work(r))) {
        for (int i = 0; i < r->n_workers; i++)
            pf[i] = (struct pollfd){r->w[i].pid > 0 ? r->w[i].result : -1, POLLIN, 0};
        int n = poll(pf, (nfds_t)r->n_workers, 100);
        if (n < 0 && errno != EINTR)
            rc = diag_set(r->d, "layerpipe sweep", 0, 0, "poll: %s", strerror(errno));
        for (int i = 0; n > 0 && !rc && i < r->n_workers; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int e = drain(r, &r->w[i]);
            rc = e < 0 ? -1 : e > 0 ? bury(r, &r->w[i]) : 0;
        }
        draw(r, 0);
    }
    /* Done, failed or interrupted: stop the workers (a point they are running is lost,
     * and runs again next time). */
    for (int i = 0; i < r->n_workers; i++) {
        struct worker *w = &r->w[i];
        if (w->pid <= 0)
            continue;
        close(w->task);
        if (w->n_queue)
            kill(w->pid, SIGTERM);
        proc_wait(w->pid, NULL);
        close(w->result);
        free(w->buf);
    }
    draw(r, 1);
    return rc;
}

/* ---- the modes ---- */

/* DIR/sweep.lock, held while this process writes the database: a POSIX record lock,
 * which the workers do not inherit and which goes with the process, however it ends. */
static int lock_dir(const char *dir, int *fd, struct diag *d)
{
    char path[1100];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    snprintf(path, sizeof path, "%s/sweep.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (*fd < 0)
        return diag_set(d, path, 0, 0, "cannot open: %s", strerror(errno)), 1;
    if (fcntl(*fd, F_SETLK, &fl)) {
        close(*fd);
        return diag_set(d, dir, 0, 0, "another layerpipe sweep is writing this directory's "
                        "database; wait for it or stop it first"), 1;
    }
    return 0;
}

static int cmd_run(const struct sweep_request *rq, struct sweep *s, struct sweep_db *db,
                   FILE *out, struct diag *d)
{
    struct runner r = {.s = s, .rq = rq, .db = db, .d = d, .total = s->n_points};
    int64_t retried = rq->retry_failed ? sweep_db_retry_failed(db, d) : 0;
    if (retried < 0 || sweep_db_counts(db, &r.ok, &r.failed, d) ||
        sweep_db_pending(db, &r.todo, &r.n_todo, d))
        return db->fail ? db->fail : 1;
    int64_t before = r.ok + r.failed;
    r.back = malloc(sizeof *r.back * (size_t)(MAX_JOBS * IN_FLIGHT + 1));
    if (!r.back) {
        free(r.todo);
        return diag_set(d, "layerpipe sweep", 0, 0, "out of memory"), 1;
    }
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term, old_pipe;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);
    r.start = r.last_commit = progress_now();
    int rc = sweep_db_begin(db, d) ? -1 : run_points(&r);
    /* What is recorded stays recorded, whatever stopped the run. */
    if (sqlite3_get_autocommit(db->db) == 0 && sweep_db_commit(db, rc ? &(struct diag){0} : d))
        rc = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    double secs = progress_now() - r.start;
    free(r.todo);
    free(r.back);
    if (rc)   /* a database that cannot be written is 2 (db->fail); workers' trouble 1 */
        return db->fail ? db->fail : 1;
    fprintf(out, "sweep %s: %lld points, %lld ok, %lld failed", rq->dir, (long long)r.total,
            (long long)r.ok, (long long)r.failed);
    if (before)
        fprintf(out, " (%lld recorded before this run)", (long long)before);
    if (retried)
        fprintf(out, " (%lld failed points run again)", (long long)retried);
    double rate = secs > 0 ? (double)r.done_here / secs : 0.0;
    fprintf(out, "\nthis run: %lld points in %.1f s, %.*f points/s, %d worker%s; results in "
            "%s/sweep.db\n", (long long)r.done_here, secs, rate < 10 ? 2 : 0, rate,
            r.n_workers, r.n_workers == 1 ? "" : "s", rq->dir);
    if (interrupted) {
        fprintf(out, "interrupted: %lld points pending; run the same command again to go "
                "on\n", (long long)(r.total - r.ok - r.failed));
        return 130;
    }
    return 0;
}

/* A shell word for s, single-quoted. */
static void shell_word(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The command that runs one point, without the point's number. */
static void job_command(FILE *f, const struct sweep_request *rq, const char *exe,
                        const struct sweep *s, const char *dir)
{
    shell_word(f, exe);
    fputs(" sweep ", f);
    shell_word(f, s->path);
    fputs(" --out ", f);
    shell_word(f, dir);
    fprintf(f, " --model %s%s%s --point", sim_model_name(rq->o.model),
            rq->o.train ? " --train" : "", rq->o.area ? " --area" : "");
}

static int cmd_emit(const struct sweep_request *rq, struct sweep *s, struct sweep_db *db,
                    const char *dir, FILE *out, struct diag *d)
{
    int64_t *ids, n;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return diag_set(d, "layerpipe sweep", 0, 0, "cannot find this program's path"), 1;
    exe[len] = '\0';
    if (sweep_db_pending(db, &ids, &n, d))
        return db->fail ? db->fail : 1;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) {
        free(ids);
        return diag_set(d, "layerpipe sweep", 0, 0, "out of memory"), 1;
    }
    int slurm = rq->mode == SWEEP_EMIT_SLURM;
    const char *name = slurm ? "sweep.sbatch" : "jobs.txt";
    if (slurm) {
        fprintf(f, "#!/bin/sh\n# %lld pending points of %s, one Slurm array task each.\n"
                "# Submit:  sbatch %s/sweep.sbatch\n# Then:    layerpipe sweep --merge %s\n"
                "# Slurm caps an array at MaxArraySize (1001 by default): submit a larger one "
                "in\n# slices, sbatch --array=0-999 ..., sbatch --array=1000-1999 ... (the "
                "command line\n# overrides the line below).\n"
                "#SBATCH --job-name=layerpipe-sweep\n#SBATCH --array=0-%lld\n"
                "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n#SBATCH --output=%s/logs/%%A_%%a.out\n"
                "set -eu\npoints='", (long long)n, s->path, dir, dir, (long long)n - 1, dir);
        for (int64_t i = 0; i < n; i++)
            fprintf(f, "%s%lld", i ? (i % 16 ? " " : "\n") : "", (long long)ids[i]);
        fputs("'\nset -- $points\nshift \"$SLURM_ARRAY_TASK_ID\"\nexec ", f);
        job_command(f, rq, exe, s, dir);
        fputs(" \"$1\"\n", f);
    } else {
        for (int64_t i = 0; i < n; i++) {
            job_command(f, rq, exe, s, dir);
            fprintf(f, " %lld\n", (long long)ids[i]);
        }
    }
    free(ids);
    int rc = fclose(f) ? diag_set(d, "layerpipe sweep", 0, 0, "out of memory")
                       : outfile_write(dir, name, text, size, d) ? -2 : 0;
    free(text);
    if (rc)
        return rc == -2 ? 2 : 1;   /* -2: the job list cannot be written */
    char logs[PATH_MAX + 16];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    if (slurm && file_mkdir_p(logs, d))
        return 2;
    fprintf(out, "wrote %s/%s: %lld pending points of %lld\n", dir, name, (long long)n,
            (long long)s->n_points);
    if (slurm)
        fprintf(out, "submit it with `sbatch %s/sweep.sbatch`; when the jobs are done, "
                "`layerpipe sweep --merge %s`\n", dir, dir);
    else
        fprintf(out, "run it with `parallel --will-cite < %s/jobs.txt` (add -S host1,host2 to "
                "spread it over ssh hosts); then `layerpipe sweep --merge %s`\n", dir, dir);
    return 0;
}

static int cmd_point(const struct sweep_request *rq, struct sweep *s, const char *dir,
                     FILE *out, struct diag *d)
{
    char res[PATH_MAX + 16], name[64];
    if (rq->point < 0 || rq->point >= s->n_points)
        return diag_set(d, s->path, 0, 0, "--point %lld: the sweep has points 0 to %lld",
                        (long long)rq->point, (long long)s->n_points - 1), 2;
    snprintf(res, sizeof res, "%s/results", dir);
    snprintf(name, sizeof name, "%lld.json", (long long)rq->point);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m || sweep_eval(s, rq->point, &rq->o, m) || fclose(m)) {
        free(text);
        if (!m)
            diag_set(d, "layerpipe sweep", 0, 0, "out of memory");
        return 1;
    }
    if (file_mkdir_p(res, d) || outfile_write(res, name, text, len, d)) {
        free(text);
        return 2;   /* the result file cannot be written: d says why */
    }
    free(text);
    fprintf(out, "wrote %s/%s\n", res, name);
    return 0;
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
    long long x = strtoll((*a)->d_name, NULL, 10), y = strtoll((*b)->d_name, NULL, 10);
    return (x > y) - (x < y);
}

static int result_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".json") && e->d_name[0] != '.';
}

/* Every DIR/results/N.json into the database, in one transaction: all or nothing. */
static int cmd_merge(const char *dir, struct sweep_db *db, FILE *out, struct diag *d)
{
    char res[1100];
    struct dirent **names;
    snprintf(res, sizeof res, "%s/results", dir);
    int n = scandir(res, &names, result_file, by_number);
    if (n < 0)
        return diag_set(d, res, 0, 0, "no results to merge: %s", strerror(errno)), 2;
    int rc = sweep_db_begin(db, d);
    int64_t added = 0, failed = 0, present = 0;
    for (int i = 0; i < n; i++) {
        char path[1400], *text;
        size_t len;
        int f = 0;
        if (!rc) {
            snprintf(path, sizeof path, "%s/%s", res, names[i]->d_name);
            if (file_read(path, YDOC_MAX_BYTES, &text, &len, d))
                rc = 1;
            else {
                int s = sweep_db_store(db, path, text, len, &f, d);
                free(text);
                rc = s == 2 ? 2 : s < 0 ? (db->fail ? db->fail : 1) : 0;
                added += s == 0, failed += s == 0 && f, present += s == 1;
            }
        }
        free(names[i]);
    }
    free(names);
    if (!rc)
        rc = sweep_db_commit(db, d);
    if (rc) {
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    int64_t ok, bad;
    if (sweep_db_counts(db, &ok, &bad, d))
        return db->fail ? db->fail : 1;
    fprintf(out, "merged %s: %lld new results (%lld failed points), %lld already recorded; "
            "%lld of %lld points done (%lld ok, %lld failed)\n", res, (long long)added,
            (long long)failed, (long long)present, (long long)(ok + bad), (long long)db->n_points,
            (long long)ok, (long long)bad);
    return 0;
}

int sweep_main(const struct sweep_request *rq, FILE *out, struct diag *d)
{
    struct sweep_db db;
    int rc, lock = -1;
    if (rq->mode == SWEEP_PARETO)
        return sweep_pareto(rq->dir, rq->objectives, out, d);
    if (rq->mode == SWEEP_MERGE) {
        if ((rc = sweep_db_open_existing(&db, rq->dir, d)))
            return rc;
        rc = lock_dir(rq->dir, &lock, d);
        if (!rc)
            rc = cmd_merge(rq->dir, &db, out, d);
        sweep_db_close(&db);
        if (lock >= 0)
            close(lock);
        return rc;
    }
    /* Absolute paths: errors and jobs name the same files wherever they run. */
    char path[PATH_MAX], dir[PATH_MAX];
    struct sweep s;
    if (!realpath(rq->sweep, path))
        return diag_set(d, rq->sweep, 0, 0, "cannot open: %s", strerror(errno)), 2;
    if (sweep_load(&s, path, d)) {
        if (!strcmp(d->file, path))   /* the sweep file itself: named as the user named it */
            snprintf(d->file, sizeof d->file, "%s", rq->sweep);
        return 2;
    }
    if (file_mkdir_p(rq->dir, d) || !realpath(rq->dir, dir)) {
        if (!d->msg[0] || errno)
            diag_set(d, rq->dir, 0, 0, "cannot use as the output directory: %s", strerror(errno));
        sweep_free(&s);
        return 1;
    }
    if (rq->mode == SWEEP_POINT) {
        rc = cmd_point(rq, &s, dir, out, d);
        sweep_free(&s);
        return rc;
    }
    rc = lock_dir(dir, &lock, d);
    if (!rc)
        rc = sweep_db_open(&db, dir, &s, &rq->o, d);
    if (!rc) {
        rc = rq->mode == SWEEP_RUN ? cmd_run(rq, &s, &db, out, d)
                                   : cmd_emit(rq, &s, &db, dir, out, d);
        sweep_db_close(&db);
    }
    if (lock >= 0)
        close(lock);
    sweep_free(&s);
    return rc;
}
