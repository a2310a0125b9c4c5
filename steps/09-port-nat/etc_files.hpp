// The container's own /etc/hosts and /etc/hostname, bind-mounted over the
// rootfs's (which every container shares and nobody writes).
#pragma once

#include <string>

/// The container's own /etc/hosts and /etc/hostname, written under
/// STATE/containers/ID/ (STATE is --state-dir; with a pid file naming the
/// runtime) and removed with the directory on destruction.  Directories left
/// by runtimes killed with SIGKILL are swept by the next runtime.
class EtcFiles {
public:
    /// `address`: the container's own, or "" (no address of its own: the
    /// hostname then maps to 127.0.1.1, as Debian does).
    EtcFiles(const std::string& state_dir, const std::string& id, const std::string& hostname,
             const std::string& address);
    EtcFiles(const EtcFiles&) = delete;
    EtcFiles& operator=(const EtcFiles&) = delete;
    ~EtcFiles();
    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }

private:
    std::string dir_;
};

/// In the child, mounts private, before enter_rootfs: bind-mount the files
/// over ROOTFS/etc/hosts and ROOTFS/etc/hostname (the shared rootfs itself is
/// never written; the recursive bind of enter_rootfs carries them along).
void bind_etc_files(const EtcFiles& files, const std::string& rootfs);
