#ifndef REHEARSE_PROCESS_SPAWN_H
#define REHEARSE_PROCESS_SPAWN_H

#include <sys/types.h>

/// Starts `argv[0]` with `argv` and `envp` in `directory`, in a process group of its own, with
/// every signal at its default disposition and none blocked, standard input from /dev/null,
/// standard output to `stdout_fd` and standard error to `stderr_fd`, and no other descriptor.
/// With `cgroup_fd` (a cgroup's folder, open; -1 for none) the child is created in that cgroup
/// (`clone3` with `CLONE_INTO_CGROUP`, Linux 5.7); where the kernel refuses, it joins it through
/// `cgroup_procs_fd` (the cgroup's `cgroup.procs` open for writing) before anything else. Either
/// way nothing it starts is ever outside the cgroup; `*cgroup_joined` says whether it got in.
///
/// Returns 0 and sets `*pid` and `*pidfd` (a pidfd for the child, or -1 where the kernel has
/// none), or an errno value (ENOENT when `directory` or the executable is missing).
int rehearse_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                   int stdout_fd, int stderr_fd, int cgroup_fd, int cgroup_procs_fd, pid_t *pid, int *pidfd,
                   int *cgroup_joined);

/// Reaps a child through its pidfd without blocking. Returns 1 and sets `*code` and `*signaled`
/// once it has ended, 0 while it runs, -1 on error.
int rehearse_reap(int pidfd, pid_t pid, int *code, int *signaled);



#include <stdint.h>

/// A new epoll instance (close-on-exec), or -1.
int rehearse_epoll_create(void);
/// Watches `fd` for input, hang-up and errors; `key` comes back from `rehearse_epoll_wait`.
int rehearse_epoll_add(int epoll_fd, int fd, uint64_t key);
int rehearse_epoll_remove(int epoll_fd, int fd);
/// Waits up to `timeout_ms` (-1: forever) and writes the keys of ready descriptors; returns how
/// many, 0 on timeout or interruption.
int rehearse_epoll_wait(int epoll_fd, uint64_t *keys, int capacity, int timeout_ms);
/// A close-on-exec pipe; the read end is non-blocking, and the write end too when `both`.
int rehearse_pipe(int fds[2], int both);
#endif
