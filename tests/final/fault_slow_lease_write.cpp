// A fault to inject with LD_PRELOAD
// (Supervision.ARuntimeKilledWhileTakingALeaseLeavesNoLeaseBehind): holds
// the write(2) of the owner into a bridge lease file — the moment between
// the file getting its address's name and getting its content, if the
// runtime has such a moment — so that the test can kill the runtime there.
// On the first write to a file under a "/leases/" directory it creates the
// file $LAB_FAULT_LEASE_MARK (the window is open), then waits until the file
// $LAB_FAULT_LEASE_GO exists (at most 20 s) before writing.
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern "C" ssize_t write(int fd, const void* buf, size_t count) {
    const char* mark = std::getenv("LAB_FAULT_LEASE_MARK");
    const char* go = std::getenv("LAB_FAULT_LEASE_GO");
    if (mark && go && fd > 2) {
        char target[4096] = {};
        const std::string link = "/proc/self/fd/" + std::to_string(fd);
        const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
        if (n > 0 && std::strstr(target, "/leases/") != nullptr && std::strstr(target, "/lock") == nullptr) {
            const int m = ::open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (m >= 0) {
                ::close(m);
            }
            const timespec tick{0, 10'000'000};
            for (int i = 0; i < 2000 && ::access(go, F_OK) != 0; ++i) {
                ::nanosleep(&tick, nullptr);
            }
        }
    }
    return ::syscall(SYS_write, fd, buf, count);
}
