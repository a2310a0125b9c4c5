/// @file fixture.hpp
/// @brief The base of the black-box suites of the complete runtime, nsrun.
///
/// The binary under test is `--bin=build/bin/nsrun` (no subcommand): the
/// tests say `run`, `ps`, `logs`, … themselves.  Every test gets a fresh
/// throwaway host (netfixture.hpp): its own network namespace and its own
/// /run, so nsrun's state directory (/run/nsrun), bridge, veths, leases and
/// nft table are the test's alone and vanish with it.  The cgroupfs is the
/// machine's: what a test checks there it finds by container id.
#pragma once

#include "../steps/netfixture.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace lab {

/// What a container may leave on the host, as the throwaway host sees it.
struct HostSnapshot {
    std::set<std::string> links;       ///< `ip -o link` names
    std::string ruleset;               ///< `nft list ruleset`
    std::set<std::string> state_files; ///< everything under /run/nsrun but lock files and the seccomp cache
    std::set<std::string> mounts;      ///< mount points and types of the host's mount table
    bool operator==(const HostSnapshot&) const = default;
};
std::ostream& operator<<(std::ostream& os, const HostSnapshot& s);

/// Base of every nsrun suite: root, a fresh throwaway host, and at the end
/// every container of the test removed (`rm -f`) so nothing outlives it.
class NsrunTest : public NetTest {
protected:
    void TearDown() override;

    /// `nsrun ARGS…` inside the throwaway host, to completion.
    Result nsrun(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s);
    /// `nsrun ARGS…` inside the throwaway host, in the background.
    std::unique_ptr<Runtime> start(std::vector<std::string> args);
    /// `nsrun run -d RUN_ARGS…`: the id it printed (the test fails if it did not start).
    std::string detach(std::vector<std::string> run_args);
    /// `nsrun inspect NAME`: the object of the one container (null if it failed).
    nlohmann::json inspect(const std::string& name);
    /// State.Status from inspect ("running", "exited", "dead"…; "" if unknown).
    std::string status_of(const std::string& name);
    /// Poll inspect until State.Status is `status` (false after `timeout`).
    bool wait_for_status(const std::string& name, const std::string& status, std::chrono::milliseconds timeout = 20s);

    /// What the throwaway host holds now.
    HostSnapshot snapshot();
    /// The cgroup directories of the machine whose name contains `id`.
    static std::vector<std::string> cgroups_of(const std::string& id);
    /// The container ids in the throwaway host's state directory.
    std::vector<std::string> state_ids();
    /// A file of the throwaway host (its /run is private) as text, or "".
    std::string host_file(const std::string& path);
};

/// The first line of `text` without its newline.
std::string first_line(const std::string& text);
/// A fresh directory on the machine's /tmp, removed (with its contents) on destruction.
class TempDir {
public:
    TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace lab
