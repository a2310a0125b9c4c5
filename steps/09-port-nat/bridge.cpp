// A Linux bridge (ip link add … type bridge) is a virtual Ethernet switch.
// Each container's veth host end becomes a *port* of it (IFLA_MASTER), so
// the containers share one layer-2 segment: they reach each other directly,
// and the host reaches them all through the bridge's own address — the
// containers' gateway, the .1 of the subnet.
//
// Addresses come from the subnet without a DHCP server: the runtime keeps
// one lease file per address in its state directory.  Many runtimes may
// start at once, so the scan for a free address and the taking of it happen
// under one flock(2) on STATE/leases/BRIDGE/lock — the same lock also makes
// "create the bridge on first use" safe.  A lease names its runtime by pid
// *and* start time (nsrun/identity.hpp: a pid alone may meanwhile name
// another process): a lease whose runtime is gone (killed with SIGKILL, so
// no destructor ran) is stale and is taken over — so is an empty one, left
// by a runtime killed between creating the file and writing it.
#include "bridge.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/cli.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/identity.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nl = nsrun::netlink;

namespace {

using nsrun::fs::FileLock;
using nsrun::fs::make_dirs;

} // namespace

std::string check_bridge_name(const std::string& name) {
    return name.empty() || name.size() > 15 ? "a link name has 1 to 15 characters" : "";
}

std::string check_subnet(const std::string& text) {
    try {
        const auto subnet = nl::Cidr::parse(text); // throws on garbage
        if (subnet.prefix < 8 || subnet.prefix > 29) {
            return fmt::format("--subnet {}: use a prefix of /8 to /29", text);
        }
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

Lease::Lease(Lease&& other) noexcept : path_(std::move(other.path_)), address_(other.address_) {
    other.path_.clear();
}

Lease::~Lease() {
    if (path_.empty()) {
        return;
    }
    const int rc = ::unlink(path_.c_str());
    const int err = errno;
    nsrun::explain::note("unlink({}) {} (lease of {} released)", nsrun::explain::quote(path_),
                         nsrun::explain::result(rc, err), address_.ip());
    if (rc == -1) {
        nsrun::cli::print_warning(fmt::format("could not release the lease of {}: unlink({}): {}", address_.ip(),
                                              path_, nsrun::errno_text(err)));
    }
}

Lease join_bridge(const BridgeOptions& options, const std::string& state_dir) {
    const nl::Cidr subnet = nl::Cidr::parse(options.subnet);
    const nl::Cidr gateway = subnet.host(1);
    const std::string dir = fmt::format("{}/leases/{}", state_dir, options.name);
    make_dirs(dir);
    const FileLock lock(dir + "/lock");

    nl::Socket netlink;
    if (!netlink.link_exists(options.name)) {
        netlink.create_bridge(options.name);
        netlink.add_address(options.name, gateway);
        netlink.set_up(options.name);
    }
    // .0 is the network, .1 the gateway, the last the broadcast address.
    for (std::uint32_t index = 2; index + 1 < subnet.size(); ++index) {
        const nl::Cidr address = subnet.host(index);
        const std::string path = fmt::format("{}/{}", dir, address.ip());
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd == -1 && errno == EEXIST && nsrun::record_owner_is_gone(path)) {
            nsrun::explain::note("lease {} is stale (its runtime is gone): taking it over", address.ip());
            ::unlink(path.c_str());
            --index; // try the same address again
            continue;
        }
        if (fd == -1 && errno == EEXIST) {
            continue;
        }
        if (fd == -1) {
            throw nsrun::SysError(fmt::format("open({}, O_CREAT|O_EXCL)", nsrun::explain::quote(path)), errno);
        }
        nsrun::explain::note("open({}, O_CREAT|O_EXCL) = {} (leased {})", nsrun::explain::quote(path), fd,
                             address.str());
        ::close(fd); // the file is ours; sys::write_file writes it, checked
        Lease lease{path, address}; // from here on, removed on every exit path
        nsrun::sys::write_file(path, nsrun::ProcessIdentity::self().str() + "\n"); // "PID START_TIME"
        return lease;
    }
    throw nsrun::Error{fmt::format("no free address left in {} on bridge {}", options.subnet, options.name),
                       "stop some containers, or use a larger --subnet"};
}

LinkPlan plan_bridge_port(const BridgeOptions& options, const std::string& id, const Lease& lease) {
    return LinkPlan{
        .host_name = veth_host_name(id),
        .container_address = lease.address(),
        .gateway = nl::Cidr::parse(options.subnet).host(1).address,
        .host_address = std::nullopt,
    };
}

void enslave_to_bridge(const BridgeOptions& options, const LinkPlan& plan) {
    nl::Socket netlink;
    netlink.set_master(plan.host_name, options.name);
}
