// Shared plumbing of the OCI client suites: scratch directories, the logging
// runtime wrapper, cgroup paths on v1 and v2, what was left running.
#include "clients.hpp"

#include "../needs_root.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace lab::oci {

Scratch::Scratch() {
    std::string tmpl = "/tmp/nsrun-oci-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error(fmt::format("mkdtemp({}): {}", tmpl, std::strerror(errno)));
    }
    path_ = tmpl;
    ::chmod(path_.c_str(), 0755); // containers (and their users) walk into the bundles below
}

Scratch::~Scratch() {
    if (std::getenv("NSRUN_OCI_KEEP") != nullptr) { // to read calls.log and the engines' logs after a run
        std::cout << "NSRUN_OCI_KEEP: kept " << path_ << "\n";
        return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text, unsigned mode) {
    {
        std::ofstream out(path, std::ios::trunc);
        out << text;
        if (!out) throw std::runtime_error("cannot write " + path);
    }
    ::chmod(path.c_str(), mode);
}

std::string runtime_path() {
    if (config().bin.empty()) return "";
    const std::string& bin = config().bin.front();
    if (bin.find('/') != std::string::npos) {
        return ::access(bin.c_str(), X_OK) == 0 ? bin : "";
    }
    std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
    dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
    std::istringstream in(dirs);
    for (std::string dir; std::getline(in, dir, ':');) {
        if (dir.empty()) continue;
        const std::string candidate = dir + "/" + bin;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

std::string write_runtime_wrapper(const Scratch& dir) {
    // The words after the runtime's path in --bin (e.g. `--debug`) come first.
    std::string real = shell_quote(runtime_path());
    for (std::size_t i = 1; i < config().bin.size(); ++i) real += " " + shell_quote(config().bin[i]);
    const std::string script = fmt::format(R"SH(#!/bin/sh
# One call of the OCI runtime by a client (containerd's shim, conmon, podman):
# logged to calls.log, then the real runtime runs in this very process (exec),
# so the client sees it exactly as it would without the log.
log={log}
stdin=$(readlink /proc/$$/fd/0) stdout=$(readlink /proc/$$/fd/1) stderr=$(readlink /proc/$$/fd/2)
others=$(for f in /proc/$$/fd/*; do n=${{f##*/}}; case $n in 0|1|2) ;; *) printf ' %s=%s' "$n" "$(readlink "$f")" ;; esac; done)
{{
  printf '%s pid %s ppid %s:' "$(date -u +%H:%M:%S.%N)" $$ $PPID
  for a in "$@"; do printf ' %s' "$a"; done
  printf '\n  cwd %s\n  stdin %s, stdout %s, stderr %s\n  other fds:%s\n' "$(pwd)" "$stdin" "$stdout" "$stderr" "$others"
  env | sort | grep -E '^(_OCI|_CONTAINERS|CONTAINERS_|NOTIFY_SOCKET|LISTEN_|XDG_RUNTIME_DIR|TTRPC_ADDRESS|GRPC_ADDRESS|NAMESPACE|MAX_SHIM|GOMAXPROCS|TMPDIR|HOME|TERM|container)' | sed 's/^/  env /'
}} >>"$log" 2>/dev/null
exec {real} "$@"
)SH",
                                           fmt::arg("log", shell_quote(dir / "calls.log")), fmt::arg("real", real));
    const std::string path = dir / "runtime";
    write_file(path, script, 0755);
    write_file(dir / "calls.log", "");
    return path;
}

std::size_t calls_size(const Scratch& dir) {
    std::error_code ec;
    const auto size = fs::file_size(dir / "calls.log", ec);
    return ec ? 0 : static_cast<std::size_t>(size);
}

std::string calls_since(const Scratch& dir, std::size_t from) {
    const std::string all = read_file(dir / "calls.log");
    return from < all.size() ? all.substr(from) : "";
}

bool cgroup_v2() {
    return fs::exists("/sys/fs/cgroup/cgroup.controllers");
}

std::string cgroup_file(const std::string& controller, const std::string& path, const std::string& v1_file,
                        const std::string& v2_file) {
    if (cgroup_v2()) return "/sys/fs/cgroup" + path + "/" + v2_file;
    return "/sys/fs/cgroup/" + controller + path + "/" + v1_file;
}

namespace {
/// The hierarchies' mount points: /sys/fs/cgroup (v2) or /sys/fs/cgroup/* (v1).
std::vector<std::string> hierarchies() {
    if (cgroup_v2()) return {"/sys/fs/cgroup"};
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ec)) {
        if (entry.is_directory(ec) && !entry.is_symlink(ec)) out.push_back(entry.path().string());
    }
    return out;
}

void remove_bottom_up(const fs::path& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_directory(ec) && !entry.is_symlink(ec)) remove_bottom_up(entry.path());
    }
    ::rmdir(dir.c_str());
}
} // namespace

std::vector<std::string> cgroup_dirs(const std::string& path) {
    std::vector<std::string> out;
    for (const auto& h : hierarchies()) {
        if (fs::is_directory(h + path)) out.push_back(h + path);
    }
    return out;
}

namespace {
void find_named(const fs::path& dir, const std::string& name, int depth, std::vector<std::string>& out) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
        if (entry.path().filename() == name) out.push_back(entry.path().string());
        if (depth > 1) find_named(entry.path(), name, depth - 1, out);
    }
}
} // namespace

std::vector<std::string> cgroups_named(const std::string& name) {
    std::vector<std::string> out;
    for (const auto& h : hierarchies()) find_named(h, name, 4, out);
    return out;
}

bool remove_cgroup_tree(const std::string& path) {
    for (const auto& dir : cgroup_dirs(path)) remove_bottom_up(dir);
    return cgroup_dirs(path).empty();
}

namespace {
/// /proc/PID/cgroup as (controllers, path) pairs: ("memory", "/a/b"), ("", "/a/b") for v2.
std::vector<std::pair<std::string, std::string>> cgroup_lines(pid_t pid) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(read_file(fmt::format("/proc/{}/cgroup", pid)));
    for (std::string line; std::getline(in, line);) {
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        out.emplace_back(line.substr(first + 1, second - first - 1), line.substr(second + 1));
    }
    return out;
}

/// The mount point of a v1 hierarchy named by its controllers field ("cpu,cpuacct", "name=systemd").
std::string hierarchy_dir(const std::string& controllers) {
    std::vector<std::string> candidates{"/sys/fs/cgroup/" + controllers};
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
        candidates.push_back("/sys/fs/cgroup/" + (name.starts_with("name=") ? name.substr(5) : name));
    }
    for (const auto& dir : candidates) {
        if (fs::is_directory(dir)) return dir;
    }
    return "";
}
} // namespace

std::string cgroup_dir_of(pid_t pid, const std::string& controller) {
    for (const auto& [controllers, path] : cgroup_lines(pid)) {
        if (cgroup_v2()) {
            if (controllers.empty()) return "/sys/fs/cgroup" + path;
            continue;
        }
        std::istringstream names(controllers);
        for (std::string name; std::getline(names, name, ',');) {
            if (name == controller) {
                const std::string root = hierarchy_dir(controllers);
                return root.empty() ? "" : root + path;
            }
        }
    }
    return "";
}

std::vector<std::string> cgroup_dirs_of(pid_t pid) {
    std::vector<std::string> out;
    for (const auto& [controllers, path] : cgroup_lines(pid)) {
        if (controllers.empty() != cgroup_v2()) continue; // v1: skip the empty v2 line of a hybrid machine
        const std::string root = controllers.empty() ? "/sys/fs/cgroup" : hierarchy_dir(controllers);
        if (!root.empty() && path != "/") out.push_back(root + path);
    }
    return out;
}

std::vector<std::string> own_cgroup_dirs(pid_t pid) {
    const std::string ppid = proc_status(pid, "PPid");
    std::vector<std::string> parents;
    if (!ppid.empty()) parents = cgroup_dirs_of(std::stoi(ppid));
    std::vector<std::string> out;
    for (const auto& dir : cgroup_dirs_of(pid)) {
        if (std::find(parents.begin(), parents.end(), dir) == parents.end()) out.push_back(dir);
    }
    return out;
}

std::string control_file(const std::string& dir, const std::string& v1_file, const std::string& v2_file) {
    return dir + "/" + (cgroup_v2() ? v2_file : v1_file);
}

std::string still_there(const std::vector<std::string>& dirs) {
    std::string out;
    for (const auto& dir : dirs) {
        if (fs::is_directory(dir)) out += (out.empty() ? "" : " ") + dir;
    }
    return out;
}

std::string first_line_of(const std::string& path) {
    const std::string text = read_file(path);
    return text.substr(0, text.find('\n'));
}

std::vector<pid_t> processes_mentioning(const std::string& text) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = read_file(entry.path() / "cmdline");
        for (char& c : cmdline) {
            if (c == '\0') c = ' ';
        }
        const pid_t pid = std::stoi(name);
        if (pid != ::getpid() && cmdline.find(text) != std::string::npos) out.push_back(pid);
    }
    return out;
}

bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

std::string missing_tools(const std::vector<std::string>& tools) {
    std::string missing;
    for (const auto& tool : tools) {
        const std::string check = "command -v " + shell_quote(tool) + " >/dev/null 2>&1";
        if (std::system(check.c_str()) != 0) missing += (missing.empty() ? "" : ", ") + tool;
    }
    return missing.empty() ? "" : missing + " not installed: run `sudo make oci-deps` (or `sudo make deps`)";
}

std::vector<std::string> lines_with(const std::string& text, const std::string& word) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.find(word) != std::string::npos) out.push_back(line);
    }
    return out;
}

std::string lab_archive() {
    const std::string archive = config().rootfs + ".oci.tar";
    if (!fs::exists(archive)) {
        throw std::runtime_error(archive + " is missing: run `make rootfs`");
    }
    return archive;
}

std::string start_instance(const std::vector<std::string>& tools, const std::function<void()>& make) {
    if (::geteuid() != 0 || !missing_tools(tools).empty() || runtime_path().empty()) return "";
    try {
        make();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

PrivateInstance::PrivateInstance(const std::string& client)
    : runtime_(write_runtime_wrapper(dir)), parent_("/nsrun-oci-" + unique(client)) {}

PrivateInstance::~PrivateInstance() {
    // Monitors (shims, conmon) may outlive their engine by design: any one of
    // ours still there is a failure.  They end on their own once their
    // container is deleted, a moment after the client's last command returns
    // (a shim exits after its Shutdown call): given a loaded machine's while.
    (void)eventually([&] { return processes_mentioning(dir.path()).empty(); }, 30s);
    for (const pid_t pid : processes_mentioning(dir.path())) {
        ADD_FAILURE() << "left running after the suite: pid " << pid << ": "
                      << read_file(fmt::format("/proc/{}/cmdline", pid)) << " (killed now)";
        ::kill(pid, SIGKILL);
    }
    host_.reset();
    if (!eventually([&] { return remove_cgroup_tree(parent_); }, 5s)) {
        ADD_FAILURE() << "the cgroups under " << parent_ << " could not be removed";
    }
}

std::string ClientTest::freezer_state(pid_t pid) {
    return first_line_of(control_file(cgroup_dir_of(pid, "freezer"), "freezer.state", "cgroup.freeze"));
}

void ClientTest::require(const std::vector<std::string>& tools, const std::string& suite_error,
                         const Scratch* scratch) {
    if (scratch != nullptr) calls_from_ = calls_size(*scratch);
    NSRUN_REQUIRE_ROOT("starts a private container engine");
    std::string missing = missing_tools(tools);
    if (runtime_path().empty()) {
        missing += (missing.empty() ? "" : "; ") +
                   fmt::format("the runtime under test `{}` is not found (runc: `sudo make oci-deps`)",
                               config().bin.empty() ? "" : config().bin.front());
    }
    if (!missing.empty()) {
        const char* ci = std::getenv("CI");
        if (ci != nullptr && std::string_view(ci) == "true") {
            FAIL() << missing << "; in CI (CI=true) a skipped test is a failure";
        }
        GTEST_SKIP() << missing;
    }
    ASSERT_TRUE(suite_error.empty()) << "the suite's private engine did not come up: " << suite_error;
}

void ClientTest::show_calls_on_failure(const Scratch* scratch) {
    if (!HasFailure() || scratch == nullptr) return;
    std::string calls = calls_since(*scratch, calls_from_);
    if (calls.size() > 12000) calls = "…\n" + calls.substr(calls.size() - 12000);
    std::cout << "\nThe runtime calls this test caused (" << scratch->path() << "/calls.log):\n" << calls << "\n";
}

} // namespace lab::oci
