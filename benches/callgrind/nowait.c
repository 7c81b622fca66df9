// LD_PRELOAD shim for profiling tessera under valgrind 3.19 (see
// ir_per_command.sh). Valgrind does not know io_uring_enter can block and
// keeps its big lock across it, so glommio's executors deadlock. This
// strips IORING_ENTER_GETEVENTS from glommio's syscall(426, ...): shard
// threads then poll; other threads (the control executor) sleep 2 ms
// instead of waiting, so they do not spin.
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static __thread int kind; // 0 unknown, 1 shard thread, 2 other

static long raw(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

long syscall(long nr, ...) {
    va_list ap;
    va_start(ap, nr);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (nr == 426 && (a4 & 1) && a3 > 0) { // io_uring_enter, GETEVENTS, min_complete
        if (!kind) {
            char name[32] = {0};
            prctl(PR_GET_NAME, name);
            kind = strncmp(name, "shard", 5) == 0 ? 1 : 2;
        }
        a3 = 0;
        a4 &= ~1L;
        if (kind == 2) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, 0);
        }
    }
    long ret = raw(nr, a1, a2, a3, a4, a5, a6);
    if (ret < 0 && ret > -4096) {
        extern int *__errno_location(void);
        *__errno_location() = (int)-ret;
        return -1;
    }
    return ret;
}
