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
// "create the bridge on first use" safe.  A lease names its owner (the
// runtime or the monitor) by pid *and* start time: a lease whose owner is
// gone (killed with SIGKILL, so nothing released it) is stale and is taken
// over — and a reused pid is never mistaken for the owner.
#include "bridge.hpp"

#include "inroot.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <dirent.h>
#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

namespace nl = nsrun::netlink;

namespace {

/// Whether the lease file at `path` belongs to an owner that is gone.
bool lease_is_stale(const std::string& path) {
    std::string text;
    try {
        text = nsrun::sys::read_file(path);
    } catch (const nsrun::SysError&) {
        return false;
    }
    const auto owner = ProcessId::parse(text);
    if (!owner) {
        return false; // not a lease of ours: never reclaim on a doubt
    }
    return !nsrun::is_alive(*owner);
}

std::string lease_text(const ProcessId& owner) { return owner.str() + "\n"; }

/// Make the lease file `path` in `dir` with `text` (its owner) already in
/// it: written to an unnamed file (O_TMPFILE) and then linked to its name,
/// which fails with EEXIST if the address is taken.  A runtime killed at any
/// moment leaves no lease or a whole one — never an empty file, which no
/// sweep could tell from a file that is not nsrun's (O_CREAT|O_EXCL and then
/// write(2) left one when killed in between, and the address was lost for
/// good).  Returns false when the address is taken.  Where the filesystem
/// has no O_TMPFILE, O_CREAT|O_EXCL and write(2).
bool make_lease(const std::string& dir, const std::string& path, const std::string& text) {
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    const bool unnamed = fd != -1;
    if (!unnamed) {
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd == -1 && errno == EEXIST) {
            return false;
        }
    }
    if (fd == -1) {
        throw nsrun::SysError(fmt::format("open({}, O_CREAT|O_EXCL)", nsrun::explain::quote(path)), errno);
    }
    const nsrun::UniqueFd lease{fd};
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        const int err = errno;
        if (!unnamed) {
            ::unlink(path.c_str());
        }
        throw nsrun::SysError(fmt::format("write({})", nsrun::explain::quote(path)), err);
    }
    if (!unnamed) {
        return true;
    }
    const std::string self = fmt::format("/proc/self/fd/{}", fd);
    const int rc = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW);
    const int err = errno;
    if (rc == -1 && err == EEXIST) {
        return false;
    }
    if (rc == -1) {
        throw nsrun::SysError(fmt::format("linkat({}, {})", self, nsrun::explain::quote(path)), err);
    }
    return true;
}

} // namespace

nl::Cidr join_bridge(const ContainerSpec& spec, const ProcessId& owner,
                     const std::function<void(const std::string&, const nl::Cidr&)>& record) {
    const nl::Cidr subnet = nl::Cidr::parse(spec.nsrun.subnet);
    const nl::Cidr gateway = subnet.host(1);
    const std::string dir = fmt::format("{}/leases/{}", spec.nsrun.state_dir, spec.nsrun.bridge);
    nsrun::fs::make_dirs(dir);
    const nsrun::fs::FileLock lock(dir + "/lock");

    nl::Socket netlink;
    if (!netlink.link_exists(spec.nsrun.bridge)) {
        netlink.create_bridge(spec.nsrun.bridge);
        netlink.add_address(spec.nsrun.bridge, gateway);
        netlink.set_up(spec.nsrun.bridge);
    }
    // .0 is the network, .1 the gateway, the last the broadcast address.
    for (std::uint32_t index = 2; index + 1 < subnet.size(); ++index) {
        const nl::Cidr address = subnet.host(index);
        const std::string path = fmt::format("{}/{}", dir, address.ip());
        if (!make_lease(dir, path, lease_text(owner))) {
            if (lease_is_stale(path)) {
                nsrun::explain::note("lease {} is stale (its runtime is gone): taking it over", address.ip());
                ::unlink(path.c_str());
                --index; // try the same address again
            }
            continue;
        }
        nsrun::explain::note("open({}, O_TMPFILE), write({}), linkat(… {}) = 0 (leased {})",
                             nsrun::explain::quote(dir), nsrun::explain::quote(owner.str()),
                             nsrun::explain::quote(path), address.str());
        record(path, address);
        return address;
    }
    throw nsrun::Error{fmt::format("no free address left in {} on bridge {}", spec.nsrun.subnet, spec.nsrun.bridge),
                       "stop some containers, or use a larger --subnet"};
}

void release_lease(const std::string& path, const ProcessId& owner) noexcept {
    if (path.empty()) {
        return;
    }
    try {
        const std::string dir = path.substr(0, path.rfind('/'));
        if (!nsrun::fs::is_directory(dir)) {
            return;
        }
        const nsrun::fs::FileLock lock(dir + "/lock");
        std::string text;
        try {
            text = nsrun::sys::read_file(path);
        } catch (const nsrun::SysError&) {
            return; // already released
        }
        if (text != lease_text(owner)) {
            nsrun::explain::note("lease {} now belongs to another container: leaving it", path);
            return;
        }
        const int rc = ::unlink(path.c_str());
        nsrun::explain::note("unlink({}) {} (lease released)", nsrun::explain::quote(path),
                             nsrun::explain::result(rc, errno));
    } catch (const std::exception& e) {
        nsrun::explain::note("could not release lease {}: {}", path, e.what());
    }
}

void sweep_stale_leases(const std::string& state_dir) noexcept {
    const std::string leases = state_dir + "/leases";
    DIR* bridges = ::opendir(leases.c_str());
    if (!bridges) {
        return;
    }
    while (const dirent* bridge = ::readdir(bridges)) {
        if (bridge->d_name[0] == '.') {
            continue;
        }
        const std::string dir = leases + "/" + bridge->d_name;
        try {
            const nsrun::fs::FileLock lock(dir + "/lock");
            DIR* files = ::opendir(dir.c_str());
            while (const dirent* file = files ? ::readdir(files) : nullptr) {
                const std::string path = dir + "/" + file->d_name;
                if (file->d_name[0] != '.' && std::string(file->d_name) != "lock" && lease_is_stale(path)) {
                    const int rc = ::unlink(path.c_str());
                    nsrun::explain::note("unlink({}) {} (stale lease: its owner is gone)", nsrun::explain::quote(path),
                                         nsrun::explain::result(rc, errno));
                }
            }
            if (files) {
                ::closedir(files);
            }
        } catch (const std::exception&) {
        }
    }
    ::closedir(bridges);
}

LinkPlan plan_bridge_port(const ContainerSpec& spec, const std::string& id, const nl::Cidr& address) {
    const std::string short_id = id.substr(0, 8);
    return LinkPlan{
        .host_name = "nsr-" + short_id,
        .container_address = address,
        .gateway = nl::Cidr::parse(spec.nsrun.subnet).host(1).address,
        .host_address = std::nullopt,
    };
}

void enslave_to_bridge(const ContainerSpec& spec, const LinkPlan& plan) {
    nl::Socket netlink;
    netlink.set_master(plan.host_name, spec.nsrun.bridge);
}

void write_etc_files(const std::string& dir, const std::string& hostname, const std::string& address) {
    const auto write = [](const std::string& path, const std::string& text) {
        nsrun::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644); // create it
        nsrun::sys::write_file(path, text);
    };
    write(dir + "/hostname", hostname + "\n");
    write(dir + "/hosts", fmt::format("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\t{}\n",
                                      address.empty() ? "127.0.1.1" : address, hostname));
}

void bind_etc_files(const std::string& dir, const std::string& rootfs) {
    // Resolved inside the rootfs (inroot.hpp): an image whose /etc/hosts is
    // a symlink to a host path gets the file at that path *in the image*.
    const nsrun::UniqueFd root = nsrun::sys::open(rootfs, O_PATH | O_DIRECTORY);
    for (const char* name : {"hosts", "hostname"}) {
        const std::string path = fmt::format("/etc/{}", name);
        nsrun::UniqueFd target;
        try {
            target = open_in_root(root.get(), path);
        } catch (const nsrun::SysError&) {
            nsrun::explain::note("{} does not exist in the rootfs: not providing it", path);
            continue;
        }
        struct stat st {};
        if (::fstat(target.get(), &st) == -1 || !S_ISREG(st.st_mode)) {
            nsrun::explain::note("{} is not a file in the rootfs: not providing it", path);
            continue;
        }
        nsrun::explain::note("{} is {} inside the rootfs", fd_path(target), nsrun::explain::quote(path));
        nsrun::sys::mount(fmt::format("{}/{}", dir, name).c_str(), fd_path(target), nullptr, MS_BIND);
    }
}
