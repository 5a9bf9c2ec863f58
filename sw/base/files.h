/* files.h - reading a file whole, making directories, and writing a file only when
 * its content changes (so make sees no change). Output files that must appear whole
 * are outfile.h's.
 */
#ifndef LP_FILES_H
#define LP_FILES_H

#include <stddef.h>

#include "diag.h"

#define FILE_NO_LIMIT ((size_t)1 << 40)   /* 1 TiB: for files the tool wrote itself */

/* Read path whole into a new buffer (*text, NUL-terminated, *len bytes without the
 * NUL; the caller frees it). The buffer grows as data arrives, so a pipe works; a file
 * of more than max bytes is refused before more than max + 1 bytes are read (a regular
 * file's size is known: before any is read). Returns
 * 0, or -1 with d set (cannot open, a directory, too large, a read error) and *text
 * NULL. max is at most FILE_NO_LIMIT. */
int file_read(const char *path, size_t max, char **text, size_t *len, struct diag *d);

/* Create dir and any missing parents, mode 0777 less the umask, like `mkdir -p`. An
 * existing directory is fine; a component that exists but is not a directory is an
 * error. Returns 0, or -1 with d set (its file is the component that failed). */
int file_mkdir_p(const char *dir, struct diag *d);

/* Write text to path (through a temporary and a rename) unless path already holds
 * exactly text. Returns 0, or -1 with d set. */
int file_write_if_changed(const char *path, const char *text, struct diag *d);

/* Lock dir/.lock (created if missing) exclusively: one process at a time works in dir.
 * With wait, blocks until the lock is free; without, returns -2 at once when another
 * process holds it. Returns the lock's descriptor (give it to file_unlock), -2, or -1
 * with errno set. */
int file_lock_dir(const char *dir, int wait);
void file_unlock(int lock);

#endif
