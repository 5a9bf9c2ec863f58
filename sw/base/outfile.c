#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char TMP_SUFFIX[] = ".tmp.XXXXXX";

static void release(struct outfile *o)
{
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

int outfile_open(struct outfile *o, const char *path, struct diag *d)
{
    size_t len = strlen(path);
    memset(o, 0, sizeof *o);
    if (len == 0)
        return diag_set(d, path, 0, 0, "an empty output path");
    o->path = strdup(path);
    o->tmp = malloc(len + sizeof TMP_SUFFIX);
    if (!o->path || !o->tmp) {
        release(o);
        return diag_set(d, path, 0, 0, "out of memory");
    }
    memcpy(o->tmp, path, len);
    memcpy(o->tmp + len, TMP_SUFFIX, sizeof TMP_SUFFIX);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        release(o);
        return diag_set(d, path, 0, 0, "cannot create a temporary file beside it: %s",
                        strerror(e));
    }
    mode_t mask = umask(0);
    umask(mask);
    o->f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "wb") : NULL;
    if (!o->f) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        release(o);
        return diag_set(d, path, 0, 0, "cannot open a temporary file beside it: %s",
                        strerror(e));
    }
    return 0;
}

/* fsync the directory that holds path, so the rename itself is durable.
 * Best effort: some file systems refuse fsync on a directory. */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == path ? strdup("/")
              : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Why a write to the stream failed earlier, when the stream no longer says (a failed
 * fwrite sets the error flag, and a later fflush of an empty buffer succeeds): one byte
 * written at the temporary's end, which is discarded anyway, fails the same way (a
 * file-size limit, a full disk). */
static int write_errno(FILE *f)
{
    struct stat st;
    char c = 0;
    int fd = fileno(f);
    if (fstat(fd, &st) == 0 && pwrite(fd, &c, 1, st.st_size) < 0)
        return errno;
    return EIO;
}

int outfile_commit(struct outfile *o, struct diag *d)
{
    if (!o->f)
        return diag_set(d, o->path, 0, 0, "not open for writing");
    const char *what = NULL;
    int e = 0;
    if (fflush(o->f) != 0)
        what = "cannot write", e = errno;
    else if (ferror(o->f))
        what = "cannot write", e = write_errno(o->f);
    else if (fsync(fileno(o->f)) != 0)
        what = "cannot sync to disk", e = errno;
    if (fclose(o->f) != 0 && !what)
        what = "cannot write (on close)", e = errno;
    o->f = NULL;
    if (what) {
        unlink(o->tmp);
        diag_set(d, o->path, 0, 0, "%s: %s", what, strerror(e));
        release(o);
        return -1;
    }
    int rc = outfile_place(o->tmp, o->path, d);
    release(o);
    return rc;
}

/* The open stage: its directory, and per file placed under it, in order, its path and
 * where the file it replaced is kept (NULL: there was none). */
static struct {
    char *dir;
    int n, cap;
    char **path, **kept;
} stage;

int outfile_stage_begin(const char *dir, struct diag *d)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    stage.dir = strndup(dir, n);
    return stage.dir ? 0 : diag_set(d, dir, 0, 0, "out of memory");
}

static int in_stage(const char *path)
{
    size_t n = stage.dir ? strlen(stage.dir) : 0;
    return n && !strncmp(path, stage.dir, n) && path[n] == '/';
}

/* Grow the stage's lists by one; 0, or -1 when out of memory. */
static int stage_grow(void)
{
    if (stage.n < stage.cap)
        return 0;
    int cap = stage.cap ? 2 * stage.cap : 16;
    char **p = realloc(stage.path, (size_t)cap * sizeof *p);
    if (p)
        stage.path = p;
    char **k = p ? realloc(stage.kept, (size_t)cap * sizeof *k) : NULL;
    if (!k)
        return -1;
    stage.kept = k, stage.cap = cap;
    return 0;
}

int outfile_place(const char *tmp, const char *path, struct diag *d)
{
    const char *what = NULL;
    int e = 0;
    char *kept = NULL, *dup = NULL;
    if (in_stage(path)) {
        /* kept beside tmp, whose name is unique: tmp + ".old" */
        if (stage_grow() || !(dup = strdup(path)) || !(kept = malloc(strlen(tmp) + 5))) {
            what = "out of memory", e = ENOMEM;
        } else {
            sprintf(kept, "%s.old", tmp);
            if (link(path, kept) != 0) {   /* ENOENT: a new file, nothing to keep */
                if (errno != ENOENT)
                    what = "cannot keep the file it replaces aside", e = errno;
                free(kept);
                kept = NULL;
            }
        }
    }
    if (!what && rename(tmp, path) != 0)
        what = "cannot rename the temporary file onto it", e = errno;
    if (what) {
        unlink(tmp);
        if (kept)
            unlink(kept);
        free(kept);
        free(dup);
        return diag_set(d, path, 0, 0, "%s: %s", what, strerror(e));
    }
    if (dup)
        stage.path[stage.n] = dup, stage.kept[stage.n++] = kept;
    sync_parent(path);
    return 0;
}

int outfile_stage_end(int keep, struct diag *d)
{
    int rc = 0;
    for (int i = stage.n - 1; i >= 0; i--) {
        const char *k = stage.kept[i];
        if (keep ? k && unlink(k) != 0
                 : k ? rename(k, stage.path[i]) != 0 : unlink(stage.path[i]) != 0)
            rc = rc ? rc : diag_set(d, stage.path[i], 0, 0, "cannot %s: %s",
                                    keep ? "remove the old file kept aside"
                                         : "put the old file back", strerror(errno));
        free(stage.kept[i]);
        free(stage.path[i]);
    }
    free(stage.path);
    free(stage.kept);
    free(stage.dir);
    memset(&stage, 0, sizeof stage);
    return rc;
}

void outfile_abort(struct outfile *o)
{
    if (o->f) {
        fclose(o->f);
        unlink(o->tmp);
    }
    release(o);
}

int outfile_write(const char *dir, const char *name, const char *text, size_t len,
                  struct diag *d)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct outfile o;
    if (outfile_open(&o, path, d))
        return -1;
    (void)fwrite(text, 1, len, o.f);   /* a short write sets the error outfile_commit checks */
    return outfile_commit(&o, d);
}
