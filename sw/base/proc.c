#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t proc_start(const char *dir, char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (dir && chdir(dir))
        _exit(126);
    if (log) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    } else
        dup2(2, 1);
    execvp(argv[0], argv);
    _exit(127);
}

pid_t proc_wait(pid_t pid, int *status)
{
    pid_t got;
    do
        got = waitpid(pid, status, 0);
    while (got < 0 && errno == EINTR);
    return got;
}

int proc_exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 128;
}

int proc_run(const char *dir, char *const argv[], const char *log)
{
    int st = 0;
    pid_t pid = proc_start(dir, argv, log);
    if (pid < 0 || proc_wait(pid, &st) < 0)
        return -1;
    return proc_exit_code(st);
}

int proc_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

int proc_read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r, n -= (size_t)r;
    }
    return 0;
}
