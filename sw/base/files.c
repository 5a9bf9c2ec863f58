#define _DEFAULT_SOURCE   /* flock */
#include "files.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

int file_read(const char *path, size_t max, char **text, size_t *len, struct diag *d)
{
    struct stat st;
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return diag_set(d, path, 0, 0, "cannot open: %s", strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return diag_set(d, path, 0, 0, "is a directory, not a file");
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {   /* known without reading */
        fclose(f);
        return diag_set(d, path, 0, 0, "%lld bytes: larger than %zu bytes, the most this file "
                        "may hold", (long long)st.st_size, max);
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = 0;
    for (;;) {
        if (n + 1 >= cap) {   /* room for one more byte and the NUL */
            if (n > max) {
                rc = diag_set(d, path, 0, 0, "larger than %zu bytes, the most this file may hold",
                              max);
                break;
            }
            size_t nc = cap ? 2 * cap : 65536;
            nc = nc > max + 2 ? max + 2 : nc;
            char *nb = realloc(buf, nc);
            if (!nb) {
                rc = diag_set(d, path, 0, 0, "out of memory");
                break;
            }
            buf = nb, cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!rc && ferror(f))
        rc = diag_set(d, path, 0, 0, "read error: %s", strerror(errno));
    fclose(f);
    if (rc) {
        free(buf);
        return -1;
    }
    if (!buf && !(buf = malloc(1)))
        return diag_set(d, path, 0, 0, "out of memory");
    buf[n] = '\0';
    *text = buf, *len = n;
    return 0;
}

/* Make one directory; an existing directory is fine. */
static int mkdir_one(const char *dir, struct diag *d)
{
    struct stat st;
    if (mkdir(dir, 0777) == 0)
        return 0;
    int e = errno;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        return diag_set(d, dir, 0, 0, "exists and is not a directory");
    }
    return diag_set(d, dir, 0, 0, "cannot create directory: %s", strerror(e));
}

int file_mkdir_p(const char *dir, struct diag *d)
{
    if (!dir[0])
        return diag_set(d, dir, 0, 0, "an empty directory path");
    char *p = strdup(dir);
    if (!p)
        return diag_set(d, dir, 0, 0, "out of memory");
    int rc = 0;
    /* Each prefix that ends a component: cut at the '/' after it. */
    for (char *s = p + 1; !rc && *s; s++) {
        if (*s != '/' || s[-1] == '/')
            continue;
        *s = '\0';
        rc = mkdir_one(p, d);
        *s = '/';
    }
    if (!rc)
        rc = mkdir_one(p, d);
    free(p);
    return rc;
}

int file_write_if_changed(const char *path, const char *text, struct diag *d)
{
    size_t n = strlen(text);
    char *old = malloc(n + 2);
    FILE *f = fopen(path, "rb");
    size_t got = f && old ? fread(old, 1, n + 1, f) : 0;
    if (f)
        fclose(f);
    int same = got == n && old && !memcmp(old, text, n);
    free(old);
    if (same)
        return 0;
    struct outfile o;
    if (outfile_open(&o, path, d))
        return -1;
    (void)fwrite(text, 1, n, o.f);   /* a short write sets the error outfile_commit checks */
    return outfile_commit(&o, d);
}

int file_lock_dir(const char *dir, int wait)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0)
        return -1;
    int rc;
    do
        rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    while (rc && errno == EINTR);
    if (rc) {
        int e = errno;
        close(fd);
        errno = e;
        return e == EWOULDBLOCK ? -2 : -1;
    }
    return fd;
}

void file_unlock(int lock)
{
    if (lock >= 0) {
        flock(lock, LOCK_UN);
        close(lock);
    }
}
