// run -it: the container gets a real terminal — a pty of its own, a
// /dev/pts path for `tty`, the window size of the caller's terminal (and its
// changes), and Ctrl-C reaches the container.  nsrun runs here under a pty
// the test holds the master of, as it would under a terminal emulator.
#include "fixture.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace lab {
namespace {

/// nsrun started in the throwaway host on the slave side of a new pty.
class PtySession {
public:
    PtySession(pid_t host, const std::vector<std::string>& args, unsigned short rows, unsigned short cols) {
        winsize size{};
        size.ws_row = rows;
        size.ws_col = cols;
        pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
        if (pid_ < 0) {
            throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
        }
        if (pid_ == 0) {
            for (const char* ns : {"net", "mnt"}) {
                const std::string path = "/proc/" + std::to_string(host) + "/ns/" + ns;
                const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0 || ::setns(fd, 0) != 0) ::_exit(122);
                ::close(fd);
            }
            ::setenv("PATH", (config().probe_dir + ":/usr/sbin:/usr/bin:/sbin:/bin").c_str(), 1);
            ::setenv("TERM", "xterm", 1);
            std::vector<std::string> words = config().bin;
            words.insert(words.end(), args.begin(), args.end());
            std::vector<char*> argv;
            for (auto& w : words) argv.push_back(w.data());
            argv.push_back(nullptr);
            ::execvp(argv[0], argv.data());
            ::_exit(121);
        }
    }
    PtySession(const PtySession&) = delete;
    PtySession& operator=(const PtySession&) = delete;
    ~PtySession() {
        if (!status_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(master_);
    }

    /// Read the terminal until `text` appears (false after `timeout` or EOF).
    bool wait_for(const std::string& text, std::chrono::milliseconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (screen_.find(text) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(left)) return false;
        }
        return true;
    }
    /// Type on the terminal.
    void type(const std::string& keys) { (void)::write(master_, keys.data(), keys.size()); }
    /// Resize the terminal, as a terminal emulator's window does.
    void resize(unsigned short rows, unsigned short cols) {
        winsize size{};
        size.ws_row = rows;
        size.ws_col = cols;
        ::ioctl(master_, TIOCSWINSZ, &size);
    }
    /// nsrun's exit status (128+N if killed), after reading the rest of the screen.
    int finish(std::chrono::milliseconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int st = 0;
        while (::waitpid(pid_, &st, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &st, 0);
                break;
            }
            pump(50ms);
        }
        while (pump(100ms)) {
        }
        status_ = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
        return *status_;
    }
    [[nodiscard]] const std::string& screen() const { return screen_; }

private:
    bool pump(std::chrono::milliseconds budget) {
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(budget.count())) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) return false; // EIO: the slave side is closed
        screen_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    pid_t pid_ = -1;
    int master_ = -1;
    std::string screen_;
    std::optional<int> status_;
};

class Tty : public NsrunTest {};

STEP_TEST(Tty, TtyPrintsAPtsPathAndSttyShowsTheWindowSize,
          "run -it gives the container a terminal: tty prints a /dev/pts path and stty size the caller's window size") {
    PtySession s(host().pid(), {"run", "-it", "--rm", "--network", "none", "--", "sh", "-c", "echo tty=$(tty); echo size=$(stty size)"},
                 33, 101);
    const int status = s.finish();
    EXPECT_EQ(status, 0) << s.screen();
    EXPECT_NE(s.screen().find("tty=/dev/pts/"), std::string::npos) << s.screen();
    EXPECT_NE(s.screen().find("size=33 101"), std::string::npos) << s.screen();
}

STEP_TEST(Tty, WithoutTIsNotATerminal,
          "without -t the container's stdin is not a terminal") {
    const Result r = nsrun({"run", "--rm", "--network", "none", "--", "sh", "-c", "tty; echo status=$?"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "status"), "1") << "no -t: stdin is not a terminal" << r;
}

STEP_TEST(Tty, ResizesFollowTheWindow,
          "resizing the caller's terminal reaches the container (SIGWINCH and the new size)") {
    PtySession s(host().pid(),
                 {"run", "-it", "--rm", "--network", "none", "--", "sh", "-c",
                  "trap 'echo size=$(stty size)' WINCH; echo ready; while :; do sleep 0.1; done"},
                 24, 80);
    ASSERT_TRUE(s.wait_for("ready")) << s.screen();
    s.resize(50, 132);
    EXPECT_TRUE(s.wait_for("size=50 132")) << s.screen();
    s.type("\x03"); // Ctrl-C ends it
    s.finish();
}

STEP_TEST(Tty, TypedInputAndCtrlCReachTheContainer,
          "what the user types reaches the container, and Ctrl-C is the container's SIGINT, not the runtime's") {
    PtySession s(host().pid(),
                 {"run", "-it", "--rm", "--network", "none", "--", "sh", "-c",
                  "trap 'echo got-sigint; exit 42' INT; echo ready; read line; echo read=$line; while :; do sleep 0.1; done"},
                 24, 80);
    ASSERT_TRUE(s.wait_for("ready")) << s.screen();
    s.type("hello\r");
    EXPECT_TRUE(s.wait_for("read=hello")) << s.screen();
    s.type("\x03");
    EXPECT_TRUE(s.wait_for("got-sigint")) << "Ctrl-C is the container's SIGINT" << s.screen();
    EXPECT_EQ(s.finish(), 42) << s.screen();
}

STEP_TEST(Tty, DetachedWithATerminalLogsWhatItShows,
          "run -d -t gives the container a terminal whose output the monitor writes to the log: tty prints a "
          "/dev/pts path, stty size a real size (24 80 without a caller's terminal), and nsrun logs shows it") {
    detach({"--name", "dt", "-t", "--network", "none", "--", "sh", "-c",
            "echo tty=$(tty); echo size=$(stty size); echo done"});
    ASSERT_TRUE(wait_for_status("dt", "exited"));
    EXPECT_EQ(inspect("dt")["State"]["ExitCode"], 0) << inspect("dt").dump(2);
    const Result logs = nsrun({"logs", "dt"});
    EXPECT_EQ(logs.status, 0) << logs;
    EXPECT_NE(logs.out.find("tty=/dev/pts/"), std::string::npos) << "the container's stdin is its pty" << logs;
    EXPECT_NE(logs.out.find("size=24 80"), std::string::npos) << "the classic size, not 0 0" << logs;
    EXPECT_NE(logs.out.find("done"), std::string::npos) << "everything until the end is logged" << logs;
}

STEP_TEST(Tty, DetachedInteractiveShellKeepsRunningOnItsTerminal,
          "run -dit sh: the shell waits on its terminal instead of ending at end-of-file, and a second process "
          "can join it with exec") {
    detach({"--name", "dit", "-i", "-t", "--network", "none", "--", "sh"});
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(status_of("dit"), "running") << "sh reads its terminal, which stays open" << inspect("dit").dump(2);
    const Result ps = nsrun({"exec", "dit", "sh", "-c", "echo tty-of-1=$(readlink /proc/1/fd/0)"});
    EXPECT_EQ(ps.status, 0) << ps;
    EXPECT_NE(ps.out.find("tty-of-1=/dev/pts/"), std::string::npos) << "PID 1's stdin is its pty" << ps;
    const Result stop = nsrun({"stop", "-t", "1", "dit"});
    EXPECT_EQ(stop.status, 0) << stop;
}

} // namespace
} // namespace lab
