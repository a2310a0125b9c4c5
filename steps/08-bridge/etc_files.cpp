// The container's own /etc/hosts and /etc/hostname.  Programs look up the
// machine's own name in /etc/hosts (hostname -i, a server binding to its
// hostname), so once the container has an address of its own the file must
// say it.  The rootfs is shared by every container and never written: the
// runtime writes each container's files under its state directory
// (STATE/containers/ID/) and the child bind-mounts them over the rootfs's,
// in its own mount namespace, as docker does.
//
// A runtime killed with SIGKILL cannot remove its container's directory; a
// pid file (pid + start time, nsrun/identity.hpp) names the runtime, and the
// next runtime removes the directories whose runtime is gone.
#include "etc_files.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/identity.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

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
        if (entry->d_name[0] == '.' || !nsrun::fs::is_directory(path) || !nsrun::record_owner_is_gone(path + "/pid")) {
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

EtcFiles::EtcFiles(const std::string& state_dir, const std::string& id, const std::string& hostname,
                   const std::string& address)
    : dir_(fmt::format("{}/containers/{}", state_dir, id)) {
    const std::string containers = state_dir + "/containers";
    nsrun::fs::make_dirs(containers);
    const nsrun::fs::FileLock lock(containers + "/lock");
    sweep_stale_containers(containers);
    nsrun::sys::mkdir(dir_, 0755, /*exist_ok=*/false);
    const auto write = [](const std::string& path, const std::string& text) {
        nsrun::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644); // create it
        nsrun::sys::write_file(path, text);
    };
    write(dir_ + "/pid", nsrun::ProcessIdentity::self().str() + "\n"); // whose files these are (see sweep_stale_containers)
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
