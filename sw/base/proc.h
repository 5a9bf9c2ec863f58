/* proc.h - child processes and pipes: start a tool, wait for it, move bytes through a
 * pipe, every call retrying when a signal interrupts it (EINTR).
 */
#ifndef LP_PROC_H
#define LP_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Start argv[0] (looked up in PATH) with argv, in dir (NULL: this directory). With log
 * (a path, relative to dir), the child's stdout and stderr go to it, created or
 * truncated; without, its stdout goes to this process's stderr (a tool's chatter is a
 * diagnostic: stdout stays the caller's output). Returns the pid, or -1 with errno set.
 * A child that cannot enter dir, open log or exec exits with 126 or 127. */
pid_t proc_start(const char *dir, char *const argv[], const char *log);

/* waitpid(pid, status, 0), again when interrupted; pid -1 waits for any child. Returns
 * the pid waited for, or -1 with errno set. */
pid_t proc_wait(pid_t pid, int *status);

/* The exit status of a waited-for child: its exit code, or 128 + the signal that
 * killed it. */
int proc_exit_code(int status);

/* proc_start, then proc_wait. Returns the child's exit code (proc_exit_code), or -1
 * with errno set when it could not be started or waited for. */
int proc_run(const char *dir, char *const argv[], const char *log);

/* Write or read exactly n bytes. Return 0, or -1 (an error, or the other end closed
 * first). */
int proc_write_all(int fd, const void *buf, size_t n);
int proc_read_all(int fd, void *buf, size_t n);

#endif
