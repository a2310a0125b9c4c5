/// @file netfixture.hpp
/// @brief Throwaway hosts for the network suites (Netns, Bridge, Nat).
///
/// A network test never touches the machine's own network.  It runs the
/// runtime under test inside a *throwaway host*: a process parked in a fresh
/// network namespace and a private mount namespace (its own tmpfs on /run,
/// so the runtime's state directory /run/nsrun is private too, and its own
/// sysfs on /sys), with only `lo`, up.  Bridges, veths, nft tables, sysctls
/// and leases the runtime makes live there and vanish with it.
///
/// For traffic "from another machine" a NetLab adds an *outside* namespace
/// linked to the throwaway host by a veth pair:
///
///     outside  [uplink 198.18.0.2/30] ==veth== [nsx-lab 198.18.0.1/30]  throwaway host
///
/// 198.18.0.0/15 is the benchmarking range (RFC 2544): never routed on the
/// Internet, and here only ever between the two namespaces.
///
/// HostNetworkGuard (a global test environment, installed by linking this
/// file) snapshots the real machine's `ip -o link`, routes, nft ruleset and
/// forwarding sysctls at start and fails the run if they changed at the end —
/// when the process started anything on the machine's own network
/// (started_on_the_machine(), harness.hpp); a process that ran everything in
/// throwaway hosts cannot have changed it, whatever else on the machine did.
#pragma once

#include "harness.hpp"

#include <memory>
#include <string>
#include <vector>

namespace lab {

/// A process parked in a fresh network + mount namespace; killed (by pid)
/// on destruction, which destroys the namespaces and all they hold.
class Namespaces {
public:
    /// Whether the host's cgroup hierarchies are mounted at /sys/fs/cgroup
    /// inside, as on a normal machine, or not (an empty directory), as inside
    /// a container or on WSL2 without cgroups, or mounted read-only, as
    /// docker gives them to a container (found, but no cgroup can be made).
    enum class Cgroups { kept, none, read_only };
    explicit Namespaces(Cgroups cgroups = Cgroups::kept);
    Namespaces(const Namespaces&) = delete;
    Namespaces& operator=(const Namespaces&) = delete;
    ~Namespaces();

    [[nodiscard]] pid_t pid() const { return pid_; }

    /// The runtime under test, started inside (options, then COMMAND…).
    [[nodiscard]] Launch runtime(std::vector<std::string> args) const;
    /// Run the runtime under test inside, to completion.
    Result run(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) const;
    /// Start the runtime under test inside, in the background.
    [[nodiscard]] std::unique_ptr<Runtime> start(std::vector<std::string> args) const;

    /// Run any program inside (lab-probe, ip, nft, ls …), to completion.
    Result exec(std::vector<std::string> argv, std::chrono::milliseconds timeout = 30s) const;
    /// `sh -c SCRIPT` inside.
    Result sh(const std::string& script, std::chrono::milliseconds timeout = 30s) const;
    /// Start a program inside, in the background (a lab-probe server).
    [[nodiscard]] std::unique_ptr<Runtime> spawn(std::vector<std::string> argv) const;

    /// The names of the links inside (`ip -o link`).
    [[nodiscard]] std::vector<std::string> links() const;

private:
    pid_t pid_ = -1;
};

/// A throwaway host plus an outside namespace linked to it (see above).
struct NetLab {
    NetLab();
    Namespaces host;
    Namespaces outside;
    static constexpr const char* host_address = "198.18.0.1";    ///< on the host's nsx-lab
    static constexpr const char* outside_address = "198.18.0.2"; ///< on the outside's uplink
    static constexpr const char* host_link = "nsx-lab";
};

/// Base of the network suites: root (KernelTest) and a fresh throwaway host
/// per test, with an outside namespace when the suite asks for it.
class NetTest : public KernelTest {
protected:
    void SetUp() override;
    void TearDown() override;
    /// Overridden by suites that need the outside namespace.
    [[nodiscard]] virtual bool wants_outside() const { return false; }

    /// The throwaway host (valid after SetUp).
    Namespaces& host() { return lab_ ? lab_->host : *host_; }
    /// The outside namespace (only when wants_outside()).
    Namespaces& outside() { return lab_->outside; }

private:
    std::unique_ptr<Namespaces> host_;
    std::unique_ptr<NetLab> lab_;
};

/// An interface's IPv4 address from `lab-probe net` output: the value of the
/// `addr=NAME IP/P` line for `iface`, e.g. "10.202.0.2/30", or "".
std::string probe_address(const std::string& probe_output, const std::string& iface);
/// The interface names of `lab-probe net` output (`iface=NAME …` lines).
std::vector<std::string> probe_interfaces(const std::string& probe_output);
/// The gateway of the `default_via=IP dev=NAME` line, or "".
std::string probe_gateway(const std::string& probe_output);
/// "10.202.0.2/30" → "10.202.0.2".
std::string without_prefix(const std::string& cidr);

} // namespace lab
