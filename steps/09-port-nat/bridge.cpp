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
#include <dirent.h>
#include <csignal>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/App.hpp>

namespace nl = nsrun::netlink;

namespace {

void check_subnet(const std::string& text) {
    const auto subnet = nl::Cidr::parse(text); // throws on garbage
    if (subnet.prefix < 8 || subnet.prefix > 29) {
        throw CLI::ValidationError(fmt::format("--subnet {}: use a prefix of /8 to /29", text));
    }
}

using nsrun::fs::FileLock;
using nsrun::fs::make_dirs;

/// Whether the owner record at `path` (a lease, a container's pid file)
/// names a runtime that is gone: its pid is dead or now another process's,
/// or the record is missing, empty or garbled — left by a runtime killed
/// while it made it.  Asked only under the lock the record's writer holds
/// while writing, so no writer is half-way through right now.
bool owner_is_gone(const std::string& path) {
    std::string text;
    try {
        text = nsrun::sys::read_file(path);
    } catch (const nsrun::SysError& e) {
        return e.error_number() == ENOENT;
    }
    const auto owner = nsrun::ProcessIdentity::parse(text);
    return !owner || !nsrun::is_alive(*owner);
}

/// The record naming this runtime as the owner: "PID START_TIME\n".
std::string owner_record() { return nsrun::ProcessIdentity::self().str() + "\n"; }

const char* const container_files[] = {"/hosts", "/hostname", "/pid"};

/// Remove STATE/containers/ID directories whose runtime is gone (killed with
/// SIGKILL: no destructor ran).  Called under STATE/containers/lock, which
/// every runtime also holds while it makes its directory, so a directory
/// without a pid file is not being made: its maker was killed half-way.
void sweep_stale_containers(const std::string& containers) {
    DIR* dir = ::opendir(containers.c_str());
    if (!dir) {
        return;
    }
    while (const dirent* entry = ::readdir(dir)) {
        const std::string path = containers + "/" + entry->d_name;
        if (entry->d_name[0] == '.' || !nsrun::fs::is_directory(path) || !owner_is_gone(path + "/pid")) {
            continue;
        }
        nsrun::explain::note("{} is stale (its runtime is gone): removing it", nsrun::explain::quote(path));
        for (const char* name : container_files) {
            ::unlink((path + name).c_str());
        }
        ::rmdir(path.c_str());
    }
    ::closedir(dir);
}

} // namespace

void add_bridge_options(CLI::App& app, BridgeOptions& options) {
    app.add_option("--bridge", options.name, "the host's bridge for --network bridge (created on first use)")
        ->type_name("NAME")
        ->capture_default_str()
        ->check([](const std::string& name) {
            return name.empty() || name.size() > 15 ? std::string("a link name has 1 to 15 characters") : std::string();
        });
    app.add_option("--subnet", options.subnet, "the bridge's subnet; its .1 is the containers' gateway")
        ->type_name("CIDR")
        ->capture_default_str()
        ->check([](const std::string& text) {
            try {
                check_subnet(text);
                return std::string();
            } catch (const std::exception& e) {
                return std::string(e.what());
            }
        });
    app.add_option("--state-dir", options.state_dir, "where the runtime keeps leases and per-container files")
        ->type_name("DIR")
        ->capture_default_str();
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

Lease join_bridge(const BridgeOptions& options) {
    const nl::Cidr subnet = nl::Cidr::parse(options.subnet);
    const nl::Cidr gateway = subnet.host(1);
    const std::string dir = fmt::format("{}/leases/{}", options.state_dir, options.name);
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
        if (fd == -1 && errno == EEXIST && owner_is_gone(path)) {
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
        nsrun::sys::write_file(path, owner_record());
        return lease;
    }
    throw nsrun::Error{fmt::format("no free address left in {} on bridge {}", options.subnet, options.name),
                       "stop some containers, or use a larger --subnet"};
}

LinkPlan plan_bridge_port(const BridgeOptions& options, const std::string& id, const Lease& lease) {
    VethNames names = veth_names(id);
    return LinkPlan{
        .host_name = std::move(names.host),
        .peer_name = std::move(names.peer),
        .container_address = lease.address(),
        .gateway = nl::Cidr::parse(options.subnet).host(1).address,
        .host_address = std::nullopt,
    };
}

void enslave_to_bridge(const BridgeOptions& options, const LinkPlan& plan) {
    nl::Socket netlink;
    netlink.set_master(plan.host_name, options.name);
}

EtcFiles::EtcFiles(const BridgeOptions& options, const std::string& id, const std::string& hostname,
                   const std::string& address)
    : dir_(fmt::format("{}/containers/{}", options.state_dir, id)) {
    const std::string containers = options.state_dir + "/containers";
    make_dirs(containers);
    const FileLock lock(containers + "/lock");
    sweep_stale_containers(containers);
    nsrun::sys::mkdir(dir_, 0755, /*exist_ok=*/false);
    const auto write = [](const std::string& path, const std::string& text) {
        nsrun::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644); // create it
        nsrun::sys::write_file(path, text);
    };
    write(dir_ + "/pid", owner_record()); // whose files these are (see sweep_stale_containers)
    write(dir_ + "/hostname", hostname + "\n");
    write(dir_ + "/hosts", fmt::format("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\t{}\n",
                                       address.empty() ? "127.0.1.1" : address, hostname));
}

EtcFiles::~EtcFiles() {
    for (const char* name : container_files) {
        ::unlink((dir_ + name).c_str()); // a missing one is fine: rmdir tells if anything is left
    }
    const int rc = ::rmdir(dir_.c_str());
    const int err = errno;
    nsrun::explain::note("rmdir({}) {}", nsrun::explain::quote(dir_), nsrun::explain::result(rc, err));
    if (rc == -1) {
        nsrun::cli::print_warning(
            fmt::format("could not remove the container's files {}: {}", dir_, nsrun::errno_text(err)));
    }
}

void bind_etc_files(const EtcFiles& files, const std::string& rootfs) {
    for (const char* name : {"hosts", "hostname"}) {
        const std::string target = fmt::format("{}/etc/{}", rootfs, name);
        struct stat st {};
        if (::stat(target.c_str(), &st) == -1) {
            nsrun::explain::note("{} does not exist in the rootfs: not providing it", target);
            continue;
        }
        nsrun::sys::mount(fmt::format("{}/{}", files.dir(), name).c_str(), target, nullptr, MS_BIND);
    }
}
