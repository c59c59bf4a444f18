#define _GNU_SOURCE
#include "process_spawn.h"

#ifndef __linux__
#error "rehearse runs commands through Linux's pidfds and epoll: it builds on Linux only"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/// Moves `fd` to a descriptor of 10 or more (close-on-exec), so that putting the child's
/// standard descriptors in place cannot overwrite one still to be placed.
static int high_copy(int fd) { return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 10); }

/// The child's side, between the clone and the exec: returns an errno value if it cannot run
/// the command. Only system calls: it runs in the memory of a multithreaded process (as a
/// `vfork` child does), on the stack of the parent's thread, which waits.
static int become_command(const char *path, char *const argv[], char *const envp[], const char *directory,
                          int stdout_fd, int stderr_fd) {
    setpgid(0, 0);
    struct sigaction standard;
    memset(&standard, 0, sizeof standard);
    standard.sa_handler = SIG_DFL;
    for (int number = 1; number < NSIG; number++) {
        if (number != SIGKILL && number != SIGSTOP) sigaction(number, &standard, NULL);
    }
    // glibc keeps 32 and 33 for its threads and refuses to reset them: the kernel does not.
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } kernel_default = { 0, 0, 0, 0 };
    for (int number = 32; number <= 33; number++) syscall(SYS_rt_sigaction, number, &kernel_default, NULL, sizeof(unsigned long));
    int out = high_copy(stdout_fd), err = high_copy(stderr_fd);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || err < 0 || null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) return errno ? errno : EBADF;
    // Nothing else is inherited.
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
#endif
    {
        for (int fd = 3; fd < 65536; fd++) close(fd);
    }
    if (chdir(directory) != 0) return errno;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
    return errno;
}

/// Linux's `struct clone_args` up to `cgroup` (version 2, Linux 5.7).
struct rehearse_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#if defined(__x86_64__)
/// `clone3` as `vfork` is made: the child runs on the parent's stack while the parent waits, so
/// the return address must not stay on that stack across the call (the child's calls would
/// overwrite it): it is kept in a register, as glibc's `vfork` does. Returns the child's pid, 0
/// in the child, or a negated errno value.
__attribute__((returns_twice)) long rehearse_clone3_vfork(void *args, unsigned long size);
__asm__(".text\n"
        ".globl rehearse_clone3_vfork\n"
        ".hidden rehearse_clone3_vfork\n"
        ".type rehearse_clone3_vfork, @function\n"
        "rehearse_clone3_vfork:\n"
        "    popq %rdx\n"         // the return address, out of the shared stack
        "    movl $435, %eax\n"   // SYS_clone3
        "    syscall\n"
        "    pushq %rdx\n"
        "    ret\n"
        ".size rehearse_clone3_vfork, .-rehearse_clone3_vfork\n");
#endif

/// The child created straight in the cgroup whose folder is `cgroup_fd` (`clone3` with
/// `CLONE_INTO_CGROUP`): the kernel places it there as it creates it, which costs far less than
/// moving it afterwards (a move waits for the cgroup lock). Otherwise as `vfork`: the memory
/// shared until the exec, the harness waiting. Returns 0, an errno value from the command's
/// start, or -1 where this machine cannot do it (the caller falls back to `vfork`).
static int spawn_into_cgroup(const char *path, char *const argv[], char *const envp[], const char *directory,
                             int stdout_fd, int stderr_fd, int cgroup_fd, pid_t *pid, int *pidfd) {
#if defined(__x86_64__)
    volatile int child_error = 0;
    int child_pidfd = -1;
    struct rehearse_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP;
    args.pidfd = (uint64_t)(uintptr_t)&child_pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    long child = rehearse_clone3_vfork(&args, sizeof args);
    if (child == 0) {
        child_error = become_command(path, argv, envp, directory, stdout_fd, stderr_fd);
        _exit(127);
    }
    if (child < 0) return -1;  // no clone3, or a cgroup it refuses: moved by the fallback instead
    if (child_error != 0) {
        int status;
        while (waitpid((pid_t)child, &status, 0) < 0 && errno == EINTR) {}
        if (child_pidfd >= 0) close(child_pidfd);
        return child_error;
    }
    *pid = (pid_t)child;
    *pidfd = child_pidfd;
    return 0;
#else
    (void)path; (void)argv; (void)envp; (void)directory; (void)stdout_fd; (void)stderr_fd; (void)cgroup_fd; (void)pid; (void)pidfd;
    return -1;
#endif
}

int rehearse_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                   int stdout_fd, int stderr_fd, int cgroup_fd, int cgroup_procs_fd, pid_t *pid, int *pidfd,
                   int *cgroup_joined) {
    sigset_t all, saved;
    sigfillset(&all);
    // No handler runs in the child: every signal is blocked across the clone, and in the child
    // every disposition is reset before the mask is cleared.
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    if (cgroup_fd >= 0) {
        int result = spawn_into_cgroup(path, argv, envp, directory, stdout_fd, stderr_fd, cgroup_fd, pid, pidfd);
        if (result >= 0) {
            pthread_sigmask(SIG_SETMASK, &saved, NULL);
            *cgroup_joined = result == 0;
            return result;
        }
    }
    // vfork: the child shares the parent's memory until it execs, as posix_spawn's child does,
    // and writes why it could not start here.
    volatile int child_error = 0;
    volatile int joined = 0;
    pid_t child = vfork();
    if (child == 0) {
        // The cgroup first: whatever the command starts from here on is in it.
        if (cgroup_procs_fd >= 0 && write(cgroup_procs_fd, "0", 1) == 1) joined = 1;
        child_error = become_command(path, argv, envp, directory, stdout_fd, stderr_fd);
        _exit(127);
    }
    int spawn_error = child < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (child < 0) return spawn_error;
    if (child_error != 0) {
        // It never ran the command: reap it, and say why.
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return child_error;
    }
    *pid = child;
    *cgroup_joined = joined;
    *pidfd = (int)syscall(SYS_pidfd_open, child, 0);  // close-on-exec by definition
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
