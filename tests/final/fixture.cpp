#include "fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace lab {

namespace fs = std::filesystem;

std::ostream& operator<<(std::ostream& os, const HostSnapshot& s) {
    os << "\n  links:";
    for (const auto& l : s.links) os << " " << l;
    os << "\n  state files:";
    for (const auto& f : s.state_files) os << "\n    " << f;
    os << "\n  mounts:";
    for (const auto& m : s.mounts) os << "\n    " << m;
    return os << "\n  nft ruleset:\n" << s.ruleset;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

TempDir::TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nsrun-test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp " + pattern + " failed");
    }
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

void NsrunTest::TearDown() {
    if (!IsSkipped() && geteuid() == 0) {
        // Everything the test made, removed the way a user would; a test that
        // wants to prove rm/gc work has done so already.
        const Result ids = nsrun({"ps", "-a", "-q"});
        std::istringstream lines(ids.out);
        for (std::string id; std::getline(lines, id);) {
            if (!id.empty()) {
                nsrun({"rm", "-f", id});
            }
        }
        nsrun({"gc"});
    }
    NetTest::TearDown();
}

Result NsrunTest::nsrun(std::vector<std::string> args, std::chrono::milliseconds timeout) {
    return host().run(std::move(args), timeout);
}

std::unique_ptr<Runtime> NsrunTest::start(std::vector<std::string> args) { return host().start(std::move(args)); }

std::string NsrunTest::detach(std::vector<std::string> run_args) {
    std::vector<std::string> args{"run", "-d"};
    args.insert(args.end(), run_args.begin(), run_args.end());
    const Result r = nsrun(args);
    EXPECT_EQ(r.status, 0) << "nsrun run -d should start the container" << r;
    return first_line(r.out);
}

nlohmann::json NsrunTest::inspect(const std::string& name) {
    const Result r = nsrun({"inspect", name});
    if (r.status != 0) {
        return nullptr;
    }
    try {
        const auto all = nlohmann::json::parse(r.out);
        return all.is_array() && all.size() == 1 ? all[0] : nlohmann::json(nullptr);
    } catch (const nlohmann::json::exception&) {
        ADD_FAILURE() << "nsrun inspect printed no JSON" << r;
        return nullptr;
    }
}

std::string NsrunTest::status_of(const std::string& name) {
    const auto j = inspect(name);
    if (j.is_null() || !j.contains("State") || !j["State"].contains("Status")) {
        return {};
    }
    return j["State"]["Status"].get<std::string>();
}

bool NsrunTest::wait_for_status(const std::string& name, const std::string& status,
                                std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (status_of(name) == status) {
            return true;
        }
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

std::string NsrunTest::host_file(const std::string& path) {
    // /proc/PID/root is the root as that process sees it: through its mount
    // namespace, so the throwaway host's private /run.
    std::ifstream in("/proc/" + std::to_string(host().pid()) + "/root" + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

HostSnapshot NsrunTest::snapshot() {
    HostSnapshot s;
    for (const auto& link : host().links()) {
        s.links.insert(link);
    }
    s.ruleset = host().exec({"nft", "list", "ruleset"}).out;
    // Not the seccomp programs compiled once per profile (/run/nsrun/seccomp):
    // a cache shared by every container, none of them its owner.
    std::istringstream files(
        host().sh("find /run/nsrun -mindepth 1 ! -name lock ! -name '*.lock' ! -path '/run/nsrun/seccomp/*' 2>/dev/null")
            .out);
    for (std::string f; std::getline(files, f);) {
        s.state_files.insert(f);
    }
    std::ifstream table("/proc/" + std::to_string(host().pid()) + "/mountinfo");
    for (std::string line; std::getline(table, line);) {
        // "36 35 98:0 /mnt1 /mnt/point rw,noatime master:1 - ext3 /dev/root rw" → "/mnt/point ext3"
        std::istringstream words(line);
        std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
        const auto dash = std::find(w.begin(), w.end(), "-");
        if (w.size() > 4 && dash != w.end() && dash + 1 != w.end()) {
            s.mounts.insert(w[4] + " " + *(dash + 1));
        }
    }
    return s;
}

std::vector<std::string> NsrunTest::cgroups_of(const std::string& id) {
    std::vector<std::string> found;
    if (id.empty()) {
        return found;
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it.depth() > 4) {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_directory(ec) && it->path().filename().string().find(id) != std::string::npos) {
            found.push_back(it->path().string());
        }
    }
    return found;
}

std::vector<std::string> NsrunTest::state_ids() {
    std::vector<std::string> ids;
    std::istringstream lines(host().sh("ls /run/nsrun/containers 2>/dev/null").out);
    for (std::string id; std::getline(lines, id);) {
        if (!id.empty()) ids.push_back(id);
    }
    return ids;
}

} // namespace lab
