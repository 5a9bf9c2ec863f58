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
    if (!what && rename(o->tmp, o->path) != 0)
        what = "cannot rename the temporary file onto it", e = errno;
    if (what) {
        unlink(o->tmp);
        diag_set(d, o->path, 0, 0, "%s: %s", what, strerror(e));
        release(o);
        return -1;
    }
    sync_parent(o->path);
    release(o);
    return 0;
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
