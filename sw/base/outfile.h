/* outfile.h - output files that appear whole or not at all.
 *
 * outfile_open creates a temporary next to the destination (path +
 * ".tmp.XXXXXX", so it is on the same file system and the final rename is
 * atomic) and exposes it as o->f. outfile_commit flushes it, checks for write
 * errors, fsyncs, closes it and renames it onto path. A reader therefore sees
 * either the old file or the complete new one, never a half-written one, and
 * an existing file is replaced only by a complete one. outfile_abort closes
 * and removes the temporary and leaves any existing file untouched.
 *
 * The new file gets mode 0666 less the umask, as fopen would give it (mkstemp
 * alone would give 0600). The umask is read with umask(2), which is not
 * thread-safe: open output files from one thread.
 *
 * Ownership: after a successful outfile_open, struct outfile owns the FILE
 * and two strings until outfile_commit or outfile_abort. Each of those
 * releases everything, even on failure, and leaves o zeroed, so calling
 * outfile_abort again (say on a shared error path), or on a zeroed struct,
 * does nothing. Do not fclose o->f yourself.
 */
#ifndef LP_OUTFILE_H
#define LP_OUTFILE_H

#include <stdio.h>

#include "diag.h"

struct outfile {
    FILE *f;        /* write here between open and commit/abort */
    char *path;     /* the destination */
    char *tmp;      /* the temporary, path + ".tmp.XXXXXX" */
};

/* Create the temporary for path. Returns 0, or -1 with d set (naming path)
 * and o zeroed. */
int outfile_open(struct outfile *o, const char *path, struct diag *d);
/* Flush, check, fsync, close and rename onto path (then fsync the directory,
 * best effort). Returns 0, or -1 with d set; on failure the temporary is
 * removed and an existing file at path is untouched. */
int outfile_commit(struct outfile *o, struct diag *d);
/* Close and remove the temporary. */
void outfile_abort(struct outfile *o);

/* A command that writes a directory of files (a report, train --out, a vector set)
 * opens a stage on it: from outfile_stage_begin(dir) to outfile_stage_end, each file
 * placed under dir (by outfile_commit or outfile_place) replaces its path at once, so
 * later steps can read it (gnuplot reads the report's data), while the file it replaced
 * is kept aside under a hard link. outfile_stage_end(1, d) drops what was kept;
 * outfile_stage_end(0, d), after a failure (a full disk, a file-size limit), puts every
 * replaced file back and removes the new ones: the directory holds what it held.
 * Renames and links need no space. One stage at a time, from one thread. Both return
 * 0, or -1 with d set. */
int outfile_stage_begin(const char *dir, struct diag *d);
int outfile_stage_end(int keep, struct diag *d);

/* Move the complete file tmp onto path (kept aside first inside a stage). On failure
 * tmp is removed. Returns 0, or -1 with d set. */
int outfile_place(const char *tmp, const char *path, struct diag *d);

/* dir/name, whole, from len bytes of text. Returns 0, or -1 with d set. */
int outfile_write(const char *dir, const char *name, const char *text, size_t len,
                  struct diag *d);

#endif
