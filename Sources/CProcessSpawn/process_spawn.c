#define _GNU_SOURCE
#include "process_spawn.h"

#ifndef __linux__
#error "rehearse runs commands through Linux's pidfds and epoll: it builds on Linux only"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int rehearse_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                   int stdout_fd, int stderr_fd, pid_t *pid, int *pidfd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int error;
    if ((error = posix_spawn_file_actions_init(&actions)) != 0) return error;
    if ((error = posix_spawnattr_init(&attributes)) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return error;
    }
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    // The harness ignores SIGINT, SIGTERM and SIGPIPE and blocks signals on some threads; a
    // command starts with every signal at its default and none blocked.
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if ((error = posix_spawnattr_setflags(&attributes, flags)) == 0
        && (error = posix_spawnattr_setpgroup(&attributes, 0)) == 0
        && (error = posix_spawnattr_setsigdefault(&attributes, &all)) == 0
        && (error = posix_spawnattr_setsigmask(&attributes, &none)) == 0
        && (error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0
        && (error = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1)) == 0
        && (error = posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2)) == 0
        && (error = posix_spawn_file_actions_addclosefrom_np(&actions, 3)) == 0
        && (error = posix_spawn_file_actions_addchdir_np(&actions, directory)) == 0) {
        error = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) return error;
    *pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);  // close-on-exec by definition
    return 0;
}

int rehearse_reap(int pidfd, pid_t pid, int *code, int *signaled) {
    siginfo_t info;
    info.si_pid = 0;
    int result;
    do {
        result = pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG)
                            : waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG);
        // Kernel 5.3 has pidfd_open but not waitid(P_PIDFD): wait by pid instead.
        if (result < 0 && errno == EINVAL && pidfd >= 0) {
            pidfd = -1;
            result = -2;
        }
    } while ((result < 0 && errno == EINTR) || result == -2);
    if (result < 0) return -1;
    if (info.si_pid == 0) return 0;
    if (info.si_code == CLD_EXITED) {
        *code = info.si_status;
        *signaled = 0;
    } else {
        *code = info.si_status;
        *signaled = 1;
    }
    return 1;
}

#include <sys/epoll.h>

int rehearse_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int rehearse_epoll_add(int epoll_fd, int fd, uint64_t key) {
    struct epoll_event event;
    event.events = EPOLLIN | EPOLLHUP | EPOLLERR;
    event.data.u64 = key;
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int rehearse_epoll_remove(int epoll_fd, int fd) { return epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL); }

int rehearse_epoll_wait(int epoll_fd, uint64_t *keys, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epoll_fd, events, capacity, timeout_ms);
    if (count < 0) return 0;
    for (int index = 0; index < count; index++) keys[index] = events[index].data.u64;
    return count;
}

int rehearse_pipe(int fds[2], int both) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    if (both) fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    return 0;
}
