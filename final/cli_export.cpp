// nsrun export [-o FILE] CONTAINER: the container's filesystem as a tar
// (docker export) — what `nsrun image import --name NAME` reads back.
//
// Which filesystem, and seen how:
//   running             its root as its init sees it: /proc/PID/root
//   stopped, --image    its layers and its upper directory, stacked again as a
//                       read-only overlay in a private mount namespace (one the
//                       export process makes and drops: nothing is mounted on
//                       the host)
//   stopped, --rootfs   the directory
// Mounts inside the container (/proc, /sys, /dev, volumes, tmpfs) are not
// part of its filesystem: their mount points are written, not descended into.
// Owners are written as the container sees them (its uid/gid mappings).
#include "cli.hpp"

#include "overlay.hpp"
#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fd.hpp>
#include <nsrun/sys.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <sched.h>
#include <set>
#include <sstream>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// Mount points below the container's / as `pid` sees them ("proc",
/// "srv/www"), from its mountinfo (field 5 is relative to its root).
std::set<std::string> mount_points_of(pid_t pid) {
    std::set<std::string> points;
    std::ifstream in(fmt::format("/proc/{}/mountinfo", pid));
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, point;
        fields >> id >> parent >> devno >> root >> point;
        if (point.size() > 1) {
            points.insert(point.substr(1));
        }
    }
    return points;
}

/// A host uid/gid as the container sees it, through its mappings (no
/// mappings: the same number).  Unmapped ids become 65534, as the kernel shows them.
std::int64_t inside_id(const std::vector<IdRange>& ranges, std::int64_t host) {
    if (ranges.empty()) {
        return host;
    }
    for (const auto& r : ranges) {
        if (host >= r.outside && host < std::int64_t{r.outside} + r.count) {
            return r.inside + (host - r.outside);
        }
    }
    return 65534;
}

struct ArchiveFree {
    void operator()(archive* a) const {
        if (a) {
            archive_write_free(a); // frees a reader too: both are `struct archive`
        }
    }
};
struct ReadFree {
    void operator()(archive* a) const {
        if (a) {
            archive_read_free(a);
        }
    }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

/// How to write one export.
struct Source {
    std::set<std::string> skip;             ///< mount points: written, not descended into
    const std::vector<IdRange>* uids = nullptr; ///< translate owners (null: as stat says)
    const std::vector<IdRange>* gids = nullptr;
};

/// Write the tree under the working directory to `out` as a pax tar,
/// names relative ("bin/sh").  Throws nsrun::Error naming the entry.
void write_tree(int out, const Source& source) {
    std::unique_ptr<archive, ReadFree> disk{archive_read_disk_new()};
    std::unique_ptr<archive, ArchiveFree> tar{archive_write_new()};
    if (!disk || !tar) {
        throw nsrun::Error{"libarchive: out of memory"};
    }
    archive_read_disk_set_symlink_physical(disk.get()); // a symlink is an entry, never followed
    archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
    archive_write_set_format_pax_restricted(tar.get());
    if (archive_write_open_fd(tar.get(), out) != ARCHIVE_OK) {
        throw nsrun::Error{fmt::format("archive_write_open_fd: {}", archive_error_string(tar.get()))};
    }
    if (archive_read_disk_open(disk.get(), ".") != ARCHIVE_OK) {
        throw nsrun::Error{fmt::format("archive_read_disk_open(/): {}", archive_error_string(disk.get()))};
    }
    std::unique_ptr<archive_entry, EntryFree> entry{archive_entry_new()};
    std::vector<char> buffer(1 << 16);
    for (;;) {
        archive_entry_clear(entry.get());
        const int rc = archive_read_next_header2(disk.get(), entry.get());
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc < ARCHIVE_WARN) {
            throw nsrun::Error{fmt::format("reading the container's files: {}", archive_error_string(disk.get()))};
        }
        std::string name = archive_entry_pathname(entry.get());
        if (name.starts_with("./")) {
            name.erase(0, 2);
        }
        const bool directory = archive_entry_filetype(entry.get()) == AE_IFDIR;
        if (directory && !source.skip.contains(name)) {
            archive_read_disk_descend(disk.get());
        }
        if (name == "." || name.empty()) {
            continue;
        }
        archive_entry_set_pathname(entry.get(), name.c_str());
        if (source.uids) {
            archive_entry_set_uid(entry.get(), inside_id(*source.uids, archive_entry_uid(entry.get())));
            archive_entry_set_gid(entry.get(), inside_id(*source.gids, archive_entry_gid(entry.get())));
        }
        archive_entry_set_uname(entry.get(), nullptr); // the host's names mean nothing inside
        archive_entry_set_gname(entry.get(), nullptr);
        const int written = archive_write_header(tar.get(), entry.get());
        if (written == ARCHIVE_FAILED && archive_entry_filetype(entry.get()) == AE_IFSOCK) {
            continue; // a socket has no tar form; docker export leaves them out too
        }
        if (written < ARCHIVE_WARN) {
            throw nsrun::Error{fmt::format("writing {}: {}", name, archive_error_string(tar.get()))};
        }
        if (archive_entry_filetype(entry.get()) != AE_IFREG || archive_entry_size(entry.get()) == 0) {
            continue;
        }
        for (la_ssize_t n; (n = archive_read_data(disk.get(), buffer.data(), buffer.size())) != 0;) {
            if (n < 0) {
                throw nsrun::Error{fmt::format("reading {}: {}", name, archive_error_string(disk.get()))};
            }
            if (archive_write_data(tar.get(), buffer.data(), static_cast<std::size_t>(n)) < 0) {
                throw nsrun::Error{fmt::format("writing {}: {}", name, archive_error_string(tar.get()))};
            }
        }
    }
    if (archive_write_close(tar.get()) != ARCHIVE_OK) {
        throw nsrun::Error{fmt::format("finishing the tar: {}", archive_error_string(tar.get()))};
    }
}

/// A stopped container of an image: in a private mount namespace (and,
/// rootless, a user namespace mapping the caller to 0 as the container
/// did), its upper directory over its layers as a read-only overlay, which
/// is never attached anywhere: the process enters it with fchdir.
void enter_stopped_overlay(const Record& record, const std::string& container_dir) {
    OverlayPlan plan = plan_overlay(record.spec, container_dir);
    if (record.spec.nsrun.rootless) {
        const uid_t uid = ::geteuid();
        const gid_t gid = ::getegid();
        nsrun::sys::unshare(CLONE_NEWUSER | CLONE_NEWNS);
        nsrun::sys::write_file("/proc/self/setgroups", "deny");
        nsrun::sys::write_file("/proc/self/uid_map", fmt::format("0 {} 1", uid));
        nsrun::sys::write_file("/proc/self/gid_map", fmt::format("0 {} 1", gid));
    } else {
        nsrun::sys::unshare(CLONE_NEWNS);
    }
    nsrun::sys::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
    plan.lowers.insert(plan.lowers.begin(), plan.upper); // the container's changes on top
    plan.upper.clear();                                   // and no upper of its own: read-only
    const nsrun::UniqueFd root = make_overlay(plan);
    if (::fchdir(root.get()) == -1) {
        throw nsrun::SysError("fchdir(the container's overlay)", errno);
    }
}

/// Export `record` to `out`; in a child process, so that the namespaces a
/// stopped image container needs are dropped with it.  Returns 0 or 125.
int export_container(const Store& store, const Record& record, int out) {
    const bool running = record.status == Status::running && nsrun::is_alive(record.init);
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child == -1) {
        throw nsrun::SysError("fork(export)", errno);
    }
    if (child > 0) {
        int status = 0;
        while (::waitpid(child, &status, 0) == -1 && errno == EINTR) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : nsrun::exit_code::runtime_error;
    }
    try {
        Source source;
        source.uids = &record.spec.linux.uid_mappings;
        source.gids = &record.spec.linux.gid_mappings;
        if (running) {
            const std::string root = fmt::format("/proc/{}/root", record.init.pid);
            source.skip = mount_points_of(record.init.pid);
            nsrun::sys::chdir(root);
        } else if (!record.spec.nsrun.image_layers.empty()) {
            check_image_layers(record.spec);
            enter_stopped_overlay(record, store.dir_of(record.id));
            if (record.spec.nsrun.rootless) {
                source.uids = source.gids = nullptr; // the user namespace shows the container's owners already
            }
        } else {
            nsrun::sys::chdir(record.spec.root.path);
        }
        write_tree(out, source);
        ::_exit(0);
    } catch (const nsrun::Error& e) {
        nsrun::cli_print_error(e);
        ::_exit(e.exit_status());
    }
}

} // namespace

int cli_export(int argc, char** argv) {
    CLI::App app{"Export a container's filesystem as a tar archive, running or stopped (docker export).\n"
                 "Its mounts (/proc, /sys, /dev, volumes, tmpfs) are left out; owners are written as the\n"
                 "container sees them.  `nsrun image import --name NAME FILE` makes an image of it.",
                 "nsrun export"};
    CommonFlags common;
    std::string output;
    std::string name;
    add_common_options(app, common);
    app.add_option("-o,--output", output, "write to FILE (whole or not at all) instead of stdout")->type_name("FILE");
    app.add_option("CONTAINER", name, "name or id")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        const Record record = find_container(store, name);
        if (output.empty()) {
            if (::isatty(STDOUT_FILENO)) {
                throw nsrun::Error{"refusing to write a tar archive to a terminal",
                                   fmt::format("redirect it (nsrun export {} > rootfs.tar) or use -o FILE", name)};
            }
            return export_container(store, record, STDOUT_FILENO);
        }
        // Written beside FILE, renamed over it when complete.
        const std::string partial = output + ".partial";
        nsrun::UniqueFd file = nsrun::sys::open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const int status = export_container(store, record, file.get());
        file.reset();
        if (status != 0) {
            ::unlink(partial.c_str());
            return status;
        }
        nsrun::sys::rename(partial, output);
        return 0;
    });
}
