// A fault to inject with LD_PRELOAD
// (Supervision.ARuntimeKilledBeforeTheContainerIsTiedToItLeavesNothingRunning):
// holds prctl(PR_SET_PDEATHSIG) — the call that ties the container to its
// supervisor — so that the test can kill the supervisor in the window
// between clone(2) and that call.  It creates the file $LAB_FAULT_MARK (the
// window is open), then waits until the file $LAB_FAULT_GO exists (at most
// 20 s) before making the call.
#include <cstdarg>
#include <cstdlib>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern "C" int prctl(int option, ...) {
    va_list args;
    va_start(args, option);
    const unsigned long a2 = va_arg(args, unsigned long);
    const unsigned long a3 = va_arg(args, unsigned long);
    const unsigned long a4 = va_arg(args, unsigned long);
    const unsigned long a5 = va_arg(args, unsigned long);
    va_end(args);
    const char* mark = std::getenv("LAB_FAULT_MARK");
    const char* go = std::getenv("LAB_FAULT_GO");
    if (option == PR_SET_PDEATHSIG && mark && go) {
        const int fd = ::open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::close(fd);
        }
        const timespec tick{0, 10'000'000};
        for (int i = 0; i < 2000 && ::access(go, F_OK) != 0; ++i) {
            ::nanosleep(&tick, nullptr);
        }
    }
    return static_cast<int>(::syscall(SYS_prctl, option, a2, a3, a4, a5));
}
