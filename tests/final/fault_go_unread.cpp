// A fault to inject with LD_PRELOAD
// (Supervision.AChildThatFailsWithGoUnreadReportsItsOwnError): the child
// fails and exits with the parent's "go" unread in its socket, before the
// parent reads its report.
//  - sethostname(2), which nsrun's child makes before it waits for "go",
//    fails with EPERM 200 ms late;
//  - the parent's send(2) of "go" returns 400 ms late.
// The kernel then answers the parent's next recv(2) with ECONNRESET once,
// before the child's report that is still queued.
#include <cerrno>
#include <cstddef>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace {
void sleep_ms(long ms) {
    const timespec t{ms / 1000, (ms % 1000) * 1'000'000};
    ::nanosleep(&t, nullptr);
}
} // namespace

extern "C" int sethostname(const char* /*name*/, std::size_t /*length*/) {
    sleep_ms(200);
    errno = EPERM;
    return -1;
}

extern "C" ssize_t send(int fd, const void* buf, std::size_t len, int flags) {
    const long sent = ::syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
    if (len == 1 && static_cast<const char*>(buf)[0] == 'G') {
        sleep_ms(400);
    }
    return sent;
}
