// lab-probe: a small, statically linked oracle that the nsrun tests run inside containers.
//
// Each subcommand prints facts as `key=value` lines on stdout (lists repeat the key) and
// flushes after every line, so a test can wait for a line such as `listening=` while the
// probe is still running. Failures go to stderr as `lab-probe: <what failed>: <strerror>`.
// Exit status: 0 success, 1 failure, 2 usage error.
//
// The probe is copied into a busybox rootfs that has no shared libraries, no NSS and no
// resolver configuration. That is why it is linked with -static, uses nothing beyond
// libc/libstdc++, and takes IPv4 literals only (inet_pton, never getaddrinfo).

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Args = std::span<char* const>;  // the arguments after the subcommand name
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// A server waits long enough for a slow container to start its client; a client gives up
// sooner because its server is normally started first.
constexpr auto kServerTimeout = 20s;
constexpr auto kClientTimeout = 5s;
constexpr auto kRetryInterval = 50ms;

// ---------------------------------------------------------------------------------------------
// Errors. Subcommands throw instead of threading return codes through every helper:
// SysError ends the probe with status 1, UsageError with status 2.

struct SysError {
    std::string what;
    int err;  // errno value; 0 when the failure did not come from a system call
};

struct UsageError {
    std::string what;
};

[[noreturn]] void die(std::string what, int err = errno) { throw SysError{std::move(what), err}; }
[[noreturn]] void die_usage(std::string what) { throw UsageError{std::move(what)}; }

// Symbolic names (EROFS, EAGAIN) are what tests compare against; numbers vary by architecture.
std::string errno_name(int err) {
    if (err == 0) return "0";
    if (const char* name = strerrorname_np(err)) return name;
    return std::to_string(err);
}

// ---------------------------------------------------------------------------------------------
// Output. Tests read stdout through a pipe while we may still be blocked (listen, fork), and
// stdio fully buffers pipes, so every line is flushed on its own.

void emit(std::string_view key, std::string_view value) {
    std::string line;
    line.reserve(key.size() + value.size() + 2);
    line.append(key).append("=").append(value).append("\n");
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

void emit(std::string_view key, std::integral auto value) { emit(key, std::to_string(value)); }

// ---------------------------------------------------------------------------------------------
// Argument parsing.

template <typename T>
T parse_number(std::string_view text, std::string_view what) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || stop != end || text.empty())
        die_usage("invalid " + std::string(what) + ": '" + std::string(text) + "'");
    return value;
}

double parse_seconds(std::string_view text) {
    const auto seconds = parse_number<double>(text, "seconds");
    if (!(seconds >= 0 && seconds <= 1e6)) die_usage("seconds out of range: " + std::string(text));
    return seconds;
}

std::uint16_t parse_port(std::string_view text) { return parse_number<std::uint16_t>(text, "port"); }

in_addr parse_ipv4(const char* text) {
    in_addr addr{};
    if (inet_pton(AF_INET, text, &addr) != 1)
        die_usage("invalid IPv4 address (names are not resolved): '" + std::string(text) + "'");
    return addr;
}

// ---------------------------------------------------------------------------------------------
// Small utilities.

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// unique_ptr deleter for C APIs that hand out a pointer and a matching release function.
template <auto Release>
struct FreeWith {
    void operator()(auto* ptr) const { Release(ptr); }
};

void sleep_seconds(double seconds) {
    const auto ns = static_cast<long long>(seconds * 1e9);
    timespec left{};
    left.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    left.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
    }
}

// Reads a whole small file (/proc, /sys). Returns nullopt only when it does not exist, so that
// callers can report absence as a fact and still fail loudly on any other error.
std::optional<std::string> read_file(const std::string& path) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.get() < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        die("open " + path);
    }
    std::string data;
    std::array<char, 4096> buf{};
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read " + path);
        if (n == 0) return data;
        data.append(buf.data(), static_cast<std::size_t>(n));
    }
}

std::string read_existing_file(const std::string& path) {
    auto data = read_file(path);
    if (!data) die("open " + path, ENOENT);
    return *std::move(data);
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        lines.emplace_back(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return lines;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    constexpr std::string_view kSpace = " \t\r\n";
    for (auto start = text.find_first_not_of(kSpace); start != std::string_view::npos;) {
        const auto end = std::min(text.find_first_of(kSpace, start), text.size());
        words.push_back(text.substr(start, end - start));
        start = text.find_first_not_of(kSpace, end);
    }
    return words;
}

std::string join_words(std::string_view text) {
    std::string joined;
    for (const auto word : split_words(text)) joined.append(joined.empty() ? "" : " ").append(word);
    return joined;
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto start = text.find_first_not_of(kSpace);
    if (start == std::string_view::npos) return {};
    return text.substr(start, text.find_last_not_of(kSpace) - start + 1);
}

std::string strip_line_ending(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// ---------------------------------------------------------------------------------------------
// Sockets (IPv4 only).

sockaddr_in make_addr(in_addr ip, std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr = ip;
    addr.sin_port = htons(port);
    return addr;
}

std::string format_ip(in_addr ip) {
    std::array<char, INET_ADDRSTRLEN> buf{};
    ::inet_ntop(AF_INET, &ip, buf.data(), buf.size());
    return buf.data();
}

std::string format_addr(const sockaddr_in& addr) {
    return format_ip(addr.sin_addr) + ":" + std::to_string(ntohs(addr.sin_port));
}

sockaddr_in local_addr(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) die("getsockname");
    return addr;
}

Fd make_socket(int type) {
    Fd fd{::socket(AF_INET, type | SOCK_CLOEXEC, 0)};
    if (fd.get() < 0) die("socket");
    return fd;
}

// SO_REUSEADDR lets a test rerun a server on the same port while old connections sit in
// TIME_WAIT.
Fd bound_socket(int type, in_addr ip, std::uint16_t port) {
    Fd fd = make_socket(type);
    const int on = 1;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) die("setsockopt SO_REUSEADDR");
    const sockaddr_in addr = make_addr(ip, port);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) die("bind " + format_addr(addr));
    return fd;
}

// Waits until fd reports one of `events` (or an error); false when the deadline passes first.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd pfd{fd, events, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) die("poll");
        if (ready > 0) return true;
    }
}

void send_all(int fd, std::string_view data, const std::string& what) {
    while (!data.empty()) {
        // MSG_NOSIGNAL: a vanished peer should be an error message, not a silent SIGPIPE death.
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die(what);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads one line, without its '\n' or '\r\n'. Byte-at-a-time never reads past the line, and
// the lines exchanged here are a few bytes long.
std::string read_line(int fd, Clock::time_point deadline, const std::string& what) {
    std::string line;
    for (;;) {
        if (!wait_for(fd, POLLIN, deadline)) die(what, ETIMEDOUT);
        char c = 0;
        const ssize_t n = ::recv(fd, &c, 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die(what);
        if (n == 0 && line.empty()) die(what + ": connection closed by peer", 0);
        if (n == 0 || c == '\n') return strip_line_ending(std::move(line));
        line += c;
    }
}

std::string read_until_eof(int fd, Clock::time_point deadline, const std::string& what) {
    std::string data;
    std::array<char, 4096> buf{};
    for (;;) {
        if (!wait_for(fd, POLLIN, deadline)) die(what, ETIMEDOUT);
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die(what);
        if (n == 0) return data;
        data.append(buf.data(), static_cast<std::size_t>(n));
    }
}

// Errors that mean "the peer is not there yet": the server container may still be starting
// or its veth/route may not be configured yet, so these are retried rather than reported.
bool is_not_ready_yet(int err) { return err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH; }

void set_blocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) die("fcntl O_NONBLOCK");
}

// One non-blocking attempt bounded by the deadline (a SYN into the void would otherwise block
// for minutes). Returns the errno of the attempt, 0 on success.
int try_connect(int fd, const sockaddr_in& peer, Clock::time_point deadline) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) == 0) return 0;
    if (errno != EINPROGRESS) return errno;
    if (!wait_for(fd, POLLOUT, deadline)) return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) die("getsockopt SO_ERROR");
    return err;
}

Fd connect_with_retry(const sockaddr_in& peer, Clock::time_point deadline) {
    for (;;) {
        Fd fd = make_socket(SOCK_STREAM | SOCK_NONBLOCK);
        const int err = try_connect(fd.get(), peer, deadline);
        if (err == 0) {
            set_blocking(fd.get());
            return fd;
        }
        if (!is_not_ready_yet(err) || Clock::now() + kRetryInterval >= deadline)
            die("connect " + format_addr(peer), err);
        sleep_seconds(std::chrono::duration<double>(kRetryInterval).count());
    }
}

// ---------------------------------------------------------------------------------------------
// Subcommands: processes, hostname, filesystem.

int cmd_hostname(Args) {
    utsname name{};
    if (::uname(&name) < 0) die("uname");
    emit("hostname", name.nodename);
    return kExitOk;
}

int cmd_pid(Args) {
    emit("pid", ::getpid());
    emit("ppid", ::getppid());
    return kExitOk;
}

std::optional<long> parse_pid(std::string_view name) {
    long pid = 0;
    const auto [stop, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc{} || stop != name.data() + name.size()) return std::nullopt;
    return pid;
}

int cmd_pids(Args) {
    const std::unique_ptr<DIR, FreeWith<::closedir>> dir(::opendir("/proc"));
    if (!dir) die("opendir /proc");
    std::vector<long> pids;
    while (const dirent* entry = ::readdir(dir.get()))
        if (const auto pid = parse_pid(entry->d_name)) pids.push_back(*pid);
    std::ranges::sort(pids);
    for (const long pid : pids) emit("pid", pid);
    return kExitOk;
}

// mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT MOUNT_OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTS
// The optional fields (shared:N, master:N) vary in number, hence the search for "-".
int cmd_mounts(Args) {
    for (const auto& line : split_lines(read_existing_file("/proc/self/mountinfo"))) {
        const auto f = split_words(line);
        const auto dash = f.size() > 6 ? std::find(f.begin() + 6, f.end(), "-") : f.end();
        if (std::distance(dash, f.end()) < 4) die("unexpected line in /proc/self/mountinfo: " + line, 0);
        emit("mount", std::string(f[4]) + " " + std::string(dash[1]) + " " + std::string(dash[2]) + " " +
                          std::string(f[5]) + "," + std::string(dash[3]));
    }
    return kExitOk;
}

std::string_view file_type(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFREG: return "file";
        case S_IFDIR: return "dir";
        case S_IFCHR: return "chr";
        case S_IFBLK: return "blk";
        case S_IFLNK: return "link";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "sock";
        default: return "unknown";
    }
}

int cmd_stat(Args args) {
    struct stat st {};
    if (::lstat(args[0], &st) < 0) {
        if (errno != ENOENT) die(std::string("lstat ") + args[0]);
        emit("exists", 0);
        return kExitOk;
    }
    emit("exists", 1);
    emit("type", file_type(st.st_mode));
    // Leading 0 marks octal; setuid/setgid/sticky show up as a 4th digit (e.g. 01777 for /tmp).
    std::array<char, 16> mode{};
    std::snprintf(mode.data(), mode.size(), "0%03o", static_cast<unsigned>(st.st_mode & 07777));
    emit("mode", mode.data());
    emit("uid", st.st_uid);
    emit("gid", st.st_gid);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        emit("rdev", std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)));
    return kExitOk;
}

int cmd_mount_tmpfs(Args args) {
    const std::string dir = args[0];
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) die("mkdir -p " + dir, ec.value());
    // The source (TAG) is free text for tmpfs; tests use it to recognise their mount in `mounts`.
    if (::mount(args[1], dir.c_str(), "tmpfs", 0, "size=1m") < 0) die("mount tmpfs on " + dir);
    emit("mounted", dir);
    return kExitOk;
}

// A failed create is the answer, not an error: the probe exits 0 and reports why.
int cmd_writable(Args args) {
    const std::string path = std::string(args[0]) + "/.lab-probe-" + std::to_string(::getpid());
    Fd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (fd.get() < 0) {
        const int err = errno;
        emit("writable", 0);
        emit("errno", errno_name(err));
        return kExitOk;
    }
    fd.reset();
    if (::unlink(path.c_str()) < 0) die("unlink " + path);
    emit("writable", 1);
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Subcommands: IPC objects. SysV IPC and POSIX message queues belong to the IPC namespace of
// the process that makes or lists them, which is what these show.

int cmd_ipc_make(Args args) {
    const auto key = parse_number<key_t>(args[0], "key");
    const int shm = ::shmget(key, 4096, IPC_CREAT | 0600);
    if (shm < 0) die("shmget");
    const int msg = ::msgget(key, IPC_CREAT | 0600);
    if (msg < 0) die("msgget");
    const std::string queue = "/lab-" + std::string(args[0]);
    mq_attr attr{};
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 64;
    const mqd_t mq = ::mq_open(queue.c_str(), O_CREAT | O_RDWR, 0600, &attr);
    if (mq == static_cast<mqd_t>(-1)) die("mq_open " + queue);
    ::mq_close(mq);
    emit("shm_id", shm);
    emit("msg_id", msg);
    emit("mq", queue);
    return kExitOk;
}

// The keys of /proc/sysvipc/{shm,msg} (this IPC namespace's), and whether the POSIX queue
// /lab-KEY opens here.
int cmd_ipc_list(Args args) {
    for (const auto* kind : {"shm", "msg"}) {
        const auto lines = split_lines(read_existing_file(std::string("/proc/sysvipc/") + kind));
        for (std::size_t i = 1; i < lines.size(); ++i) {  // line 0 is the header
            const auto words = split_words(lines[i]);
            if (!words.empty()) emit(std::string(kind) + "_key", words[0]);
        }
    }
    if (!args.empty()) {
        const std::string queue = "/lab-" + std::string(args[0]);
        const mqd_t mq = ::mq_open(queue.c_str(), O_RDONLY);
        emit("mq_exists", mq == static_cast<mqd_t>(-1) ? 0 : 1);
        if (mq != static_cast<mqd_t>(-1)) ::mq_close(mq);
    }
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Subcommands: cgroups, identity, capabilities.

int cmd_cgroup(Args) {
    for (const auto& line : split_lines(read_existing_file("/proc/self/cgroup"))) emit("cgroup", line);
    return kExitOk;
}

// Read through /sys/fs/cgroup as mounted in the container, so with a cgroup namespace these
// are the limits nsrun applied. v2 files first, then the v1 per-controller hierarchies.
constexpr std::array<std::string_view, 10> kLimitFiles = {
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/memory.swap.max",
    "/sys/fs/cgroup/cpu.max",
    "/sys/fs/cgroup/cpu.weight",
    "/sys/fs/cgroup/pids.max",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
    "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
    "/sys/fs/cgroup/cpu/cpu.shares",
    "/sys/fs/cgroup/pids/pids.max",
};

int cmd_limits(Args) {
    for (const std::string_view path : kLimitFiles) {
        const auto value = read_file(std::string(path));
        if (!value) continue;
        emit(path.substr(path.rfind('/') + 1), trim(*value));
    }
    return kExitOk;
}

// Value of a "Name:\tvalue" line in /proc/self/status, empty if absent.
std::string status_field(const std::string& status, std::string_view name) {
    for (const auto& line : split_lines(status)) {
        const std::string_view view = line;
        if (view.starts_with(name) && view.substr(name.size()).starts_with(":"))
            return std::string(trim(view.substr(name.size() + 1)));
    }
    return {};
}

int cmd_ids(Args) {
    emit("uid", ::getuid());
    emit("gid", ::getgid());
    emit("euid", ::geteuid());
    emit("egid", ::getegid());
    // Maps are column-aligned by the kernel; normalise to single spaces so tests compare text.
    for (const auto* map : {"uid_map", "gid_map"})
        for (const auto& line : split_lines(read_existing_file(std::string("/proc/self/") + map)))
            emit(map, join_words(line));
    if (const auto setgroups = read_file("/proc/self/setgroups")) emit("setgroups", trim(*setgroups));
    const std::string status = read_existing_file("/proc/self/status");
    emit("cap_eff", status_field(status, "CapEff"));
    emit("cap_bnd", status_field(status, "CapBnd"));
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Subcommands: hardening. Each `try-*` is an attack; its refusal is the answer, not an error:
// ok=1, or ok=0 and errno=NAME, exit 0 either way.

int report_try(int rc) {
    const int err = errno;
    emit("ok", rc < 0 ? 0 : 1);
    if (rc < 0) emit("errno", errno_name(err));
    return kExitOk;
}

int cmd_security(Args) {
    const std::string status = read_existing_file("/proc/self/status");
    for (const auto& [key, field] : {std::pair{"cap_bnd", "CapBnd"}, std::pair{"cap_prm", "CapPrm"},
                                     std::pair{"cap_eff", "CapEff"}, std::pair{"cap_inh", "CapInh"},
                                     std::pair{"cap_amb", "CapAmb"}, std::pair{"no_new_privs", "NoNewPrivs"},
                                     std::pair{"seccomp", "Seccomp"}, std::pair{"seccomp_filters", "Seccomp_filters"}})
        emit(key, status_field(status, field));
    emit("euid", ::geteuid());
    return kExitOk;
}

int cmd_read(Args args) {
    Fd fd{::open(args[0], O_RDONLY | O_CLOEXEC)};
    if (fd.get() < 0) return report_try(-1);
    char buffer[4096];
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    const int rc = report_try(n < 0 ? -1 : 0);
    if (n >= 0) emit("bytes", n);
    return rc;
}

// open(2) alone, nothing read or written (a device whose read means
// something else, like /dev/fuse before a mount): ok=1, or ok=0 errno=NAME.
int cmd_open(Args args) {
    const std::string_view how = args.size() > 1 ? args[1] : "rw";
    const int flags = how == "r" ? O_RDONLY : how == "w" ? O_WRONLY : O_RDWR;
    Fd fd{::open(args[0], flags | O_CLOEXEC)};
    return report_try(fd.get());
}

int cmd_write(Args args) {
    Fd fd{::open(args[0], O_WRONLY | O_CLOEXEC)};
    if (fd.get() < 0) return report_try(-1);
    const std::string_view text = args[1];
    return report_try(::write(fd.get(), text.data(), text.size()) < 0 ? -1 : 0);
}

int cmd_try_mount(Args args) {
    ::mkdir(args[0], 0755);
    return report_try(::mount("lab-probe", args[0], "tmpfs", 0, "size=1m"));
}

int cmd_try_unshare(Args args) {
    const std::map<std::string_view, int> flags = {{"user", CLONE_NEWUSER}, {"mount", CLONE_NEWNS},
                                                   {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},
                                                   {"uts", CLONE_NEWUTS},   {"ipc", CLONE_NEWIPC},
                                                   {"cgroup", CLONE_NEWCGROUP}};
    const auto it = flags.find(args[0]);
    if (it == flags.end()) die_usage("unknown namespace: " + std::string(args[0]));
    return report_try(::unshare(it->second));
}

int cmd_try_x32(Args) {
#if defined(__x86_64__)
    // getpid(2) by the x32 ABI's number (the x86_64 number with bit 30 set).
    return report_try(static_cast<int>(::syscall(0x40000000 | SYS_getpid)));
#else
    errno = ENOSYS;
    return report_try(-1);
#endif
}

int cmd_try_mknod_block(Args args) {
    // 8:0 is the first SCSI/SATA disk (sda): a node for it would be the whole host disk.
    return report_try(::mknod(args[0], S_IFBLK | 0600, makedev(8, 0)));
}

int cmd_exchange(Args args) {
    // The symlink-exchange race of CVE-2021-30465: a name in a volume that another
    // container mounts under flips between a directory and a symlink, atomically
    // (renameat2 RENAME_EXCHANGE), as fast as it can, until STOPFILE appears.
    const std::string a{args[0]}, b{args[1]}, stop{args[2]};
    long long swaps = 0;
    for (;;) {
        if (::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), 2 /* RENAME_EXCHANGE */) < 0)
            die("renameat2(" + a + ", " + b + ", RENAME_EXCHANGE)");
        ++swaps;
        // An even count: the names end as they were given.
        if (swaps % 64 == 0 && ::access(stop.c_str(), F_OK) == 0) break;
    }
    emit("swaps", swaps);
    return kExitOk;
}

int cmd_try_write_exe(Args args) {
    // CVE-2019-5736: runc's binary, reached through /proc/PID/exe of a runc process that
    // entered the container, was opened for writing and overwritten on the host.  The write
    // puts back the byte that is there, so even a successful attack changes nothing.
    const std::string exe = "/proc/" + std::string(args[0]) + "/exe";
    char target[4096] = {};
    const ssize_t n = ::readlink(exe.c_str(), target, sizeof target - 1);
    emit("exe", n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string("?"));
    Fd fd{::open(exe.c_str(), O_RDWR | O_CLOEXEC)};
    if (fd.get() < 0) return report_try(-1);
    char byte = 0;
    if (::pread(fd.get(), &byte, 1, 0) != 1) return report_try(-1);
    return report_try(::pwrite(fd.get(), &byte, 1, 0) == 1 ? 0 : -1);
}

int cmd_rlimits(Args) {
    for (const auto& [name, resource] : {std::pair{"nofile", RLIMIT_NOFILE}, std::pair{"nproc", RLIMIT_NPROC},
                                         std::pair{"core", RLIMIT_CORE}, std::pair{"stack", RLIMIT_STACK}}) {
        rlimit limit{};
        ::getrlimit(resource, &limit);
        const auto text = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
        emit(name, text(limit.rlim_cur) + ":" + text(limit.rlim_max));
    }
    std::ifstream adj("/proc/self/oom_score_adj");
    std::string value;
    adj >> value;
    emit("oom_score_adj", value);
    return 0;
}

int cmd_try_open_by_handle(Args args) {
    // The shocker attack (2014): open_by_handle_at opens any inode of the filesystem by its handle,
    // whatever the caller's root is. Needs CAP_DAC_READ_SEARCH.
    struct {
        file_handle handle;
        unsigned char bytes[MAX_HANDLE_SZ];
    } h{};
    h.handle.handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    if (::name_to_handle_at(AT_FDCWD, args[0], &h.handle, &mount_id, 0) < 0) return report_try(-1);
    Fd mount_fd{::open(args[0], O_RDONLY | O_CLOEXEC)};
    Fd fd{::open_by_handle_at(mount_fd.get(), &h.handle, O_RDONLY | O_CLOEXEC)};
    return report_try(fd.get());
}

int cmd_fds(Args) {
    // Open the directory first: its own descriptor is the one to leave out.
    std::unique_ptr<DIR, FreeWith<::closedir>> dir{::opendir("/proc/self/fd")};
    if (!dir) die("opendir /proc/self/fd");
    const int own = ::dirfd(dir.get());
    while (const dirent* entry = ::readdir(dir.get())) {
        if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == own) continue;
        char target[4096];
        const std::string link = std::string("/proc/self/fd/") + entry->d_name;
        const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
        emit("fd", std::string(entry->d_name) + " " + (n < 0 ? std::string("?") : std::string(target, n)));
    }
    return kExitOk;
}

int cmd_cwd(Args) {
    char here[4096];
    if (::getcwd(here, sizeof here) == nullptr) die("getcwd");
    emit("cwd", here);
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Subcommands: network configuration.

using IfAddrs = std::unique_ptr<ifaddrs, FreeWith<::freeifaddrs>>;

IfAddrs get_ifaddrs() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) < 0) die("getifaddrs");
    return IfAddrs{list};
}

// if_nameindex lists each interface once with its index; getifaddrs repeats an interface per
// address, so it only supplies flags and IPv4 addresses.
void emit_interfaces(const ifaddrs* list) {
    std::map<std::string, unsigned> flags;
    for (const ifaddrs* a = list; a; a = a->ifa_next) flags[a->ifa_name] |= a->ifa_flags;

    // `struct` is needed: the function if_nameindex hides the type of the same name.
    const std::unique_ptr<struct if_nameindex, FreeWith<::if_freenameindex>> names(::if_nameindex());
    if (!names) die("if_nameindex");
    for (const struct if_nameindex* n = names.get(); n->if_index != 0; ++n) {
        const bool up = (flags[n->if_name] & IFF_UP) != 0;
        emit("iface", std::string(n->if_name) + " index=" + std::to_string(n->if_index) + " up=" + (up ? "1" : "0"));
    }
}

void emit_ipv4_addresses(const ifaddrs* list) {
    for (const ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        const auto* addr = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
        const auto* mask = reinterpret_cast<const sockaddr_in*>(a->ifa_netmask);
        const int prefix = mask ? std::popcount(ntohl(mask->sin_addr.s_addr)) : 32;
        emit("addr", std::string(a->ifa_name) + " " + format_ip(addr->sin_addr) + "/" + std::to_string(prefix));
    }
}

// /proc/net/route columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
// Addresses are the raw network-order 32-bit value printed in hex, so they go straight into
// s_addr without byte swapping.
void emit_default_route() {
    const auto table = read_file("/proc/net/route");
    if (!table) return;
    for (const auto& line : split_lines(*table)) {
        const auto f = split_words(line);
        if (f.size() < 8 || f[1] != "00000000" || f[7] != "00000000") continue;
        const auto flags = std::strtoul(std::string(f[3]).c_str(), nullptr, 16);
        if ((flags & RTF_UP) == 0) continue;
        in_addr gateway{};
        gateway.s_addr = static_cast<in_addr_t>(std::strtoul(std::string(f[2]).c_str(), nullptr, 16));
        emit("default_via", format_ip(gateway) + " dev=" + std::string(f[0]));
        return;
    }
}

int cmd_net(Args) {
    const IfAddrs list = get_ifaddrs();
    emit_interfaces(list.get());
    emit_ipv4_addresses(list.get());
    emit_default_route();
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Subcommands: resource consumption (to be stopped by cgroup limits).

int cmd_alloc(Args args) {
    const auto mib = parse_number<std::size_t>(args[0], "MiB");
    if (mib > (SIZE_MAX >> 21)) die_usage("MiB out of range: " + std::string(args[0]));
    const std::size_t bytes = mib << 20;
    // malloc only reserves address space; memory is charged to the cgroup when a page is first
    // written. volatile stops the compiler from dropping writes that are never read back.
    auto* mem = static_cast<volatile char*>(std::malloc(bytes));
    if (!mem && bytes != 0) die("malloc " + std::to_string(mib) + " MiB");
    for (std::size_t offset = 0; offset < bytes; offset += 4096) mem[offset] = 1;
    emit("allocated", mib);
    std::free(const_cast<char*>(mem));
    return kExitOk;
}

int cmd_fork(Args args) {
    const auto count = parse_number<unsigned>(args[0], "count");
    const double hold = args.size() > 1 ? parse_seconds(args[1]) : 2.0;
    std::vector<pid_t> children;
    int fork_errno = 0;
    for (unsigned i = 0; i < count; ++i) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            fork_errno = errno;  // under pids.max this is EAGAIN: the count so far is the result
            break;
        }
        if (pid == 0) {
            // Children must stay alive so that they all count against pids.max at once.
            sleep_seconds(hold);
            ::_exit(0);
        }
        children.push_back(pid);
    }
    emit("forked", children.size());
    emit("failed", fork_errno != 0 ? 1 : 0);
    emit("errno", errno_name(fork_errno));
    for (const pid_t pid : children) ::kill(pid, SIGKILL);
    for (const pid_t pid : children)
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    return kExitOk;
}

long long to_ms(const timeval& tv) { return static_cast<long long>(tv.tv_sec) * 1000 + tv.tv_usec / 1000; }

int cmd_spin(Args args) {
    const double seconds = parse_seconds(args[0]);
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    // Pure user-space busy work: under a cpu.max quota, cpu_ms falls well behind wall_ms.
    volatile std::uint64_t sink = 0;
    while (Clock::now() < end) sink = sink + 1;
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) < 0) die("getrusage");
    emit("wall_ms", static_cast<long long>(wall));
    emit("cpu_ms", to_ms(usage.ru_utime) + to_ms(usage.ru_stime));
    return kExitOk;
}

int cmd_sleep(Args args) {
    sleep_seconds(parse_seconds(args[0]));
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Subcommands: network traffic. Servers print `listening=PORT` once bound (the actual port,
// so PORT 0 works) and print their results before replying, so that by the time a client has
// its reply the server's output is complete.

int cmd_listen(Args args) {
    const auto port = parse_port(args[0]);
    const in_addr ip = parse_ipv4(args.size() > 1 ? args[1] : "0.0.0.0");
    const Fd server = bound_socket(SOCK_STREAM, ip, port);
    if (::listen(server.get(), 1) < 0) die("listen");
    const auto bound = local_addr(server.get());
    emit("listening", ntohs(bound.sin_port));

    if (!wait_for(server.get(), POLLIN, Clock::now() + kServerTimeout))
        die("waiting for a connection on " + format_addr(bound), ETIMEDOUT);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const Fd conn{::accept4(server.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC)};
    if (conn.get() < 0) die("accept");

    const std::string line = read_line(conn.get(), Clock::now() + kServerTimeout, "read from " + format_addr(peer));
    emit("peer", format_addr(peer));
    emit("got", line);
    send_all(conn.get(), "pong " + line + "\n", "send to " + format_addr(peer));
    return kExitOk;
}

int cmd_connect(Args args) {
    const sockaddr_in peer = make_addr(parse_ipv4(args[0]), parse_port(args[1]));
    const std::string message = args.size() > 2 ? args[2] : "ping";
    const Fd fd = connect_with_retry(peer, Clock::now() + kClientTimeout);
    send_all(fd.get(), message + "\n", "send to " + format_addr(peer));
    const std::string reply =
        read_line(fd.get(), Clock::now() + kClientTimeout, "read reply from " + format_addr(peer));
    emit("local", format_addr(local_addr(fd.get())));
    emit("reply", reply);
    return kExitOk;
}

int cmd_udp_echo(Args args) {
    const auto port = parse_port(args[0]);
    const in_addr ip = parse_ipv4(args.size() > 1 ? args[1] : "0.0.0.0");
    const Fd fd = bound_socket(SOCK_DGRAM, ip, port);
    const auto bound = local_addr(fd.get());
    emit("listening", ntohs(bound.sin_port));

    if (!wait_for(fd.get(), POLLIN, Clock::now() + kServerTimeout))
        die("waiting for a datagram on " + format_addr(bound), ETIMEDOUT);
    std::array<char, 65536> buf{};
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const ssize_t n = ::recvfrom(fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &len);
    if (n < 0) die("recvfrom");
    const std::string message = strip_line_ending(std::string(buf.data(), static_cast<std::size_t>(n)));
    emit("peer", format_addr(peer));
    emit("got", message);

    const std::string reply = "pong " + message + "\n";
    if (::sendto(fd.get(), reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&peer), len) < 0)
        die("sendto " + format_addr(peer));
    return kExitOk;
}

// A datagram sent before the echo server is bound is simply lost (or bounced as ICMP port
// unreachable, which a connected UDP socket sees as ECONNREFUSED), so the message is resent
// until a reply arrives or the deadline passes. The echo server answers the first one only.
std::string udp_exchange(int fd, const std::string& message, const sockaddr_in& peer) {
    const auto deadline = Clock::now() + kClientTimeout;
    std::array<char, 65536> buf{};
    while (Clock::now() < deadline) {
        if (::send(fd, message.data(), message.size(), 0) < 0 && !is_not_ready_yet(errno))
            die("send to " + format_addr(peer));
        if (!wait_for(fd, POLLIN, std::min(deadline, Clock::now() + 200ms))) continue;
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n >= 0) return strip_line_ending(std::string(buf.data(), static_cast<std::size_t>(n)));
        if (!is_not_ready_yet(errno)) die("recv from " + format_addr(peer));
        sleep_seconds(std::chrono::duration<double>(kRetryInterval).count());
    }
    die("no reply from " + format_addr(peer), ETIMEDOUT);
}

int cmd_udp_send(Args args) {
    const sockaddr_in peer = make_addr(parse_ipv4(args[0]), parse_port(args[1]));
    const Fd fd = make_socket(SOCK_DGRAM);
    // connect() fixes the peer (and thus our local address) and makes ICMP errors visible.
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&peer), sizeof peer) < 0)
        die("connect " + format_addr(peer));
    const std::string reply = udp_exchange(fd.get(), args[2], peer);
    emit("local", format_addr(local_addr(fd.get())));
    emit("reply", reply);
    return kExitOk;
}

struct HttpResponse {
    int status;
    std::string body;
};

HttpResponse parse_http_response(const std::string& raw) {
    const auto words = split_words(std::string_view(raw).substr(0, raw.find('\n')));
    if (words.size() < 2 || !words[0].starts_with("HTTP/")) die("malformed HTTP status line", 0);
    const int status = parse_number<int>(words[1], "HTTP status");
    // Headers end at the first empty line; tolerate bare-LF servers as well as CRLF.
    const auto crlf = raw.find("\r\n\r\n");
    const auto lf = raw.find("\n\n");
    if (crlf == std::string::npos && lf == std::string::npos) die("malformed HTTP response: no end of headers", 0);
    const std::size_t body = crlf < lf ? crlf + 4 : lf + 2;
    return {status, raw.substr(body)};
}

int cmd_http_get(Args args) {
    const sockaddr_in peer = make_addr(parse_ipv4(args[0]), parse_port(args[1]));
    const Fd fd = connect_with_retry(peer, Clock::now() + kClientTimeout);
    // HTTP/1.0 without keep-alive: the server closes after the body, so EOF ends the response
    // and neither Content-Length nor chunked encoding needs parsing.
    const std::string request = std::string("GET ") + args[2] + " HTTP/1.0\r\nHost: " + args[0] + ":" + args[1] +
                                "\r\nUser-Agent: lab-probe\r\nConnection: close\r\n\r\n";
    send_all(fd.get(), request, "send to " + format_addr(peer));
    const auto response =
        parse_http_response(read_until_eof(fd.get(), Clock::now() + kClientTimeout, "read from " + format_addr(peer)));
    emit("status", response.status);
    emit("body_bytes", response.body.size());
    emit("body", strip_line_ending(response.body.substr(0, response.body.find('\n'))));
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

struct Command {
    std::string_view name;
    std::string_view synopsis;
    std::size_t min_args;
    std::size_t max_args;
    int (*run)(Args);
    std::string_view help;
};

constexpr std::array kCommands = {
    Command{"hostname", "", 0, 0, cmd_hostname, "hostname=NAME (uname nodename)"},
    Command{"pid", "", 0, 0, cmd_pid, "pid=N, ppid=N"},
    Command{"pids", "", 0, 0, cmd_pids, "pid=N for every process in /proc, ascending"},
    Command{"mounts", "", 0, 0, cmd_mounts, "mount=MOUNTPOINT FSTYPE SOURCE OPTIONS per mountinfo line"},
    Command{"stat", "PATH", 1, 1, cmd_stat, "exists=0|1, type=, mode=0NNN, uid=, gid=, rdev=MAJ:MIN (lstat)"},
    Command{"mount-tmpfs", "DIR TAG", 2, 2, cmd_mount_tmpfs, "mkdir -p DIR, mount 1 MiB tmpfs named TAG; mounted=DIR"},
    Command{"writable", "PATH", 1, 1, cmd_writable, "writable=1, or writable=0 and errno=NAME"},
    Command{"ipc-make", "KEY", 1, 1, cmd_ipc_make, "SysV shm + msg queue with KEY, POSIX queue /lab-KEY; shm_id=, msg_id=, mq="},
    Command{"ipc-list", "[KEY]", 0, 1, cmd_ipc_list, "shm_key=, msg_key= per SysV object here; mq_exists=0|1 for /lab-KEY"},
    Command{"cgroup", "", 0, 0, cmd_cgroup, "cgroup=LINE per line of /proc/self/cgroup"},
    Command{"limits", "", 0, 0, cmd_limits, "cgroup v1/v2 limit files under /sys/fs/cgroup: FILE=VALUE"},
    Command{"ids", "", 0, 0, cmd_ids, "uid/gid/euid/egid=, uid_map=, gid_map=, setgroups=, cap_eff=, cap_bnd="},
    Command{"net", "", 0, 0, cmd_net, "iface=NAME index=N up=0|1, addr=NAME IP/P, default_via=IP dev=NAME"},
    Command{"alloc", "MIB", 1, 1, cmd_alloc, "allocate and touch MIB MiB; allocated=MIB"},
    Command{"fork", "N [HOLD_SECONDS=2]", 1, 2, cmd_fork, "fork up to N children; forked=K, failed=0|1, errno="},
    Command{"spin", "SECONDS", 1, 1, cmd_spin, "busy-loop; wall_ms=N, cpu_ms=N"},
    Command{"listen", "PORT [ADDR=0.0.0.0]", 1, 2, cmd_listen, "TCP: listening=PORT, peer=IP:PORT, got=LINE"},
    Command{"connect", "HOST PORT [MSG=ping]", 2, 3, cmd_connect, "TCP: send MSG; local=IP:PORT, reply=LINE"},
    Command{"udp-echo", "PORT [ADDR=0.0.0.0]", 1, 2, cmd_udp_echo, "UDP: listening=PORT, peer=IP:PORT, got=MSG"},
    Command{"udp-send", "HOST PORT MSG", 3, 3, cmd_udp_send, "UDP: send MSG; local=IP:PORT, reply=MSG"},
    Command{"http-get", "HOST PORT PATH", 3, 3, cmd_http_get, "HTTP/1.0 GET; status=N, body_bytes=N, body=FIRST_LINE"},
    Command{"security", "", 0, 0, cmd_security, "cap_bnd/prm/eff/inh/amb=HEX, no_new_privs=, seccomp=MODE, seccomp_filters=N, euid="},
    Command{"read", "PATH", 1, 1, cmd_read, "open and read: ok=1 bytes=N, or ok=0 errno=NAME"},
    Command{"open", "PATH [r|w|rw]", 1, 2, cmd_open, "open(2) only, read-write by default: ok=1, or ok=0 errno=NAME"},
    Command{"write", "PATH TEXT", 2, 2, cmd_write, "open an existing file and write TEXT: ok=1, or ok=0 errno=NAME"},
    Command{"try-mount", "DIR", 1, 1, cmd_try_mount, "mount a tmpfs on DIR: ok=1, or ok=0 errno=NAME"},
    Command{"try-unshare", "NS", 1, 1, cmd_try_unshare, "unshare(CLONE_NEW<NS>), NS=user|mount|net|pid|uts|ipc|cgroup: ok=, errno="},
    Command{"try-x32", "", 0, 0, cmd_try_x32, "getpid(2) through the x32 ABI (x86_64 only): ok=, errno="},
    Command{"try-mknod-block", "PATH", 1, 1, cmd_try_mknod_block, "mknod PATH as block device 8:0: ok=, errno="},
    Command{"try-open-by-handle", "PATH", 1, 1, cmd_try_open_by_handle, "name_to_handle_at + open_by_handle_at: ok=, errno="},
    Command{"try-write-exe", "PID", 1, 1, cmd_try_write_exe, "open /proc/PID/exe read-write, write its first byte back: exe=TARGET, ok=, errno="},
    Command{"rlimits", "", 0, 0, cmd_rlimits, "nofile=, nproc=, core=, stack=SOFT:HARD (getrlimit), oom_score_adj=N"},
    Command{"fds", "", 0, 0, cmd_fds, "fd=N TARGET for every open descriptor"},
    Command{"cwd", "", 0, 0, cmd_cwd, "cwd=PATH (getcwd)"},
    Command{"sleep", "SECONDS", 1, 1, cmd_sleep, "sleep (fractions allowed)"},
    Command{"exchange", "A B STOPFILE", 3, 3, cmd_exchange, "swap A and B (renameat2 RENAME_EXCHANGE) until STOPFILE exists; swaps=N"},
};

void print_usage(std::FILE* out) {
    std::fputs("usage: lab-probe SUBCOMMAND [ARGS...]\n\n"
               "Prints facts as key=value lines on stdout. Exit: 0 ok, 1 failure, 2 usage error.\n"
               "HOST must be an IPv4 address; names are not resolved.\n\nSubcommands:\n",
               out);
    for (const auto& cmd : kCommands) {
        const std::string call = std::string(cmd.name) + " " + std::string(cmd.synopsis);
        std::fprintf(out, "  %-36s %.*s\n", call.c_str(), static_cast<int>(cmd.help.size()), cmd.help.data());
    }
}

const Command* find_command(std::string_view name) {
    const auto it = std::ranges::find(kCommands, name, &Command::name);
    return it == kCommands.end() ? nullptr : &*it;
}

int usage_error(const Command& cmd, const std::string& problem) {
    std::fprintf(stderr, "lab-probe: %s\nusage: lab-probe %.*s %.*s\n", problem.c_str(),
                 static_cast<int>(cmd.name.size()), cmd.name.data(), static_cast<int>(cmd.synopsis.size()),
                 cmd.synopsis.data());
    return kExitUsage;
}

int run(const Command& cmd, Args args) {
    if (args.size() < cmd.min_args || args.size() > cmd.max_args) return usage_error(cmd, "wrong number of arguments");
    try {
        return cmd.run(args);
    } catch (const UsageError& e) {
        return usage_error(cmd, e.what);
    } catch (const SysError& e) {
        if (e.err != 0)
            std::fprintf(stderr, "lab-probe: %s: %s\n", e.what.c_str(), std::strerror(e.err));
        else
            std::fprintf(stderr, "lab-probe: %s\n", e.what.c_str());
    } catch (const std::exception& e) {  // e.g. bad_alloc
        std::fprintf(stderr, "lab-probe: %.*s: %s\n", static_cast<int>(cmd.name.size()), cmd.name.data(), e.what());
    }
    return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    const Args all(argv, static_cast<std::size_t>(argc));
    if (all.size() < 2) {
        print_usage(stderr);
        return kExitUsage;
    }
    const std::string_view name = all[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(stdout);
        return kExitOk;
    }
    const Command* cmd = find_command(name);
    if (!cmd) {
        std::fprintf(stderr, "lab-probe: unknown subcommand '%s' (see lab-probe --help)\n", all[1]);
        return kExitUsage;
    }
    return run(*cmd, all.subspan(2));
}
