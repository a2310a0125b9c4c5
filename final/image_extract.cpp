// Unpacking a layer: every entry resolved beneath the layer's directory
// descriptor, then written by libarchive's secure extraction (see the
// header for the two locks, and final/README.md for the attacks).
#include "image_extract.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

nsrun::Error refused(std::string_view entry, const std::string& why) {
    return nsrun::Error{fmt::format("layer entry '{}': {}", entry, why),
                        "the archive is malformed or malicious: nothing of it was stored"};
}

std::string join(const std::vector<std::string>& components, std::size_t count) {
    std::string path;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) {
            path += '/';
        }
        path += components[i];
    }
    return path;
}

/// openat2(2) beneath `root` without following any symlink; -1 and errno on failure.
int open_beneath(int root, const std::string& path) {
    open_how how{};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    return static_cast<int>(::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
}

/// The largest device numbers Linux has (12-bit major, 20-bit minor).
constexpr unsigned long max_major = 0xfff;
constexpr unsigned long max_minor = 0xfffff;

} // namespace

std::vector<std::string> entry_components(std::string_view name) {
    if (name.empty()) {
        throw refused(name, "an empty name");
    }
    if (name.find('\0') != std::string_view::npos) {
        throw refused(name, "a NUL in the name");
    }
    if (name.front() == '/') {
        throw refused(name, "an absolute path (it would write outside the layer)");
    }
    std::vector<std::string> components;
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t slash = std::min(name.find('/', start), name.size());
        const std::string_view part = name.substr(start, slash - start);
        if (part == "..") {
            throw refused(name, "a '..' component (it would climb out of the layer)");
        }
        if (!part.empty() && part != ".") {
            components.emplace_back(part);
        }
        start = slash + 1;
    }
    return components;
}

Whiteout classify_whiteout(std::string_view leaf) {
    constexpr std::string_view prefix = ".wh.";
    if (!leaf.starts_with(prefix)) {
        return {};
    }
    if (leaf == ".wh..wh..opq") {
        return {Whiteout::opaque, {}};
    }
    const std::string_view target = leaf.substr(prefix.size());
    if (target.empty() || target == "." || target == ".." || target.starts_with(".wh.")) {
        throw refused(leaf, "a whiteout that names no file");
    }
    return {Whiteout::file, std::string(target)};
}

LayerWriter::LayerWriter(const std::string& root, LayerOptions options)
    : root_path_(root), options_(std::move(options)) {
    root_.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root_) {
        throw nsrun::SysError(fmt::format("open({})", nsrun::explain::quote(root)), errno);
    }
    saved_cwd_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    // archive_write_disk resolves paths from the working directory.
    if (::fchdir(root_.get()) == -1) {
        throw nsrun::SysError(fmt::format("fchdir({})", nsrun::explain::quote(root)), errno);
    }
    disk_ = archive_write_disk_new();
    int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                ARCHIVE_EXTRACT_NO_OVERWRITE | ARCHIVE_EXTRACT_NO_AUTODIR;
    if (options_.privileged) {
        flags |= ARCHIVE_EXTRACT_OWNER; // numeric ids: no lookup in the host's /etc/passwd
    }
    archive_write_disk_set_options(disk_, flags);
}

LayerWriter::~LayerWriter() {
    if (disk_) {
        archive_write_free(disk_);
    }
    if (saved_cwd_) {
        (void)!::fchdir(saved_cwd_.get());
    }
}

int LayerWriter::parent_dir(const std::vector<std::string>& components, std::size_t count, std::string_view entry) {
    if (count == 0) {
        return root_.get();
    }
    std::string path = join(components, count);
    if (cached_fd_ && path == cached_parent_) {
        return cached_fd_.get();
    }
    nsrun::UniqueFd fd{open_beneath(root_.get(), path)};
    if (!fd) {
        // Missing (made here, as tar does) or refused: walk one component
        // at a time to make what is missing and to say what blocked.
        fd.reset(::dup(root_.get()));
        for (std::size_t i = 0; i < count; ++i) {
            const std::string& name = components[i];
            int next = ::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next == -1 && errno == ENOENT) {
                if (::mkdirat(fd.get(), name.c_str(), 0755) == -1 && errno != EEXIST) {
                    throw refused(entry, fmt::format("mkdir {}: {}", join(components, i + 1), nsrun::errno_text(errno)));
                }
                next = ::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
            if (next == -1) {
                struct stat st {};
                const bool is_link = ::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
                throw refused(entry, is_link ? fmt::format("its parent {} is a symlink: writing through it could leave the layer",
                                                           join(components, i + 1))
                                             : fmt::format("its parent {}: {}", join(components, i + 1),
                                                           nsrun::errno_text(errno)));
            }
            fd.reset(next);
        }
    }
    cached_parent_ = std::move(path);
    cached_fd_ = std::move(fd);
    return cached_fd_.get();
}

void LayerWriter::add_whiteout(const Whiteout& whiteout, int parent, const std::string& path, std::string_view entry) {
    if (whiteout.kind == Whiteout::opaque) {
        if (::fsetxattr(parent, options_.opaque_xattr.c_str(), "y", 1, 0) == -1) {
            throw nsrun::Error{fmt::format("layer entry '{}': setxattr {}: {}", entry, options_.opaque_xattr,
                                           nsrun::errno_text(errno)),
                               "the store's filesystem must support extended attributes (ext4, xfs, btrfs, tmpfs)"};
        }
    } else {
        const std::string hidden = path.empty() ? whiteout.target : path + "/" + whiteout.target;
        if (!seen_.insert(hidden).second) {
            throw refused(entry, fmt::format("a second entry for {}", hidden));
        }
        // overlayfs's whiteout: a character device 0:0 (unprivileged since Linux 5.8).
        if (::mknodat(parent, whiteout.target.c_str(), S_IFCHR | 0, ::makedev(0, 0)) == -1) {
            throw refused(entry, fmt::format("mknod whiteout {}: {}", hidden, nsrun::errno_text(errno)));
        }
    }
    ++stats_.whiteouts;
}

void LayerWriter::check_hardlink(archive_entry* entry, const std::string& path) {
    const char* link = archive_entry_hardlink(entry);
    const auto target = entry_components(link);
    if (target.empty()) {
        throw refused(path, "a hard link to the layer's root");
    }
    const std::string normal = join(target, target.size());
    if (!seen_.contains(normal)) {
        throw refused(path, fmt::format("a hard link to {}, which this layer holds no file at", link));
    }
    // The target's directory, resolved like every entry: no symlink on the way.
    const int parent = parent_dir(target, target.size() - 1, path);
    struct stat st {};
    if (::fstatat(parent, target.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == -1 || S_ISDIR(st.st_mode)) {
        throw refused(path, fmt::format("a hard link to {}, which is not a file of this layer", link));
    }
    archive_entry_set_hardlink(entry, normal.c_str());
}

void LayerWriter::write(archive* in, archive_entry* entry, const std::string& path) {
    archive_entry_set_pathname(entry, path.c_str());
    if (archive_write_header(disk_, entry) < ARCHIVE_WARN) {
        throw refused(path, archive_error_string(disk_) ? archive_error_string(disk_) : "cannot be written");
    }
    if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0 &&
        archive_entry_hardlink(entry) == nullptr) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        for (;;) {
            const int rc = archive_read_data_block(in, &block, &size, &offset);
            if (rc == ARCHIVE_EOF) {
                break;
            }
            if (rc < ARCHIVE_WARN) {
                throw nsrun::Error{fmt::format("layer entry '{}': {}", path,
                                               archive_error_string(in) ? archive_error_string(in) : "unreadable"),
                                   "the archive is truncated or corrupt: nothing of it was stored"};
            }
            if (archive_write_data_block(disk_, block, size, offset) < ARCHIVE_WARN) {
                throw nsrun::Error{fmt::format("layer entry '{}': write: {}", path, archive_error_string(disk_))};
            }
            stats_.bytes += size;
        }
    }
    if (archive_write_finish_entry(disk_) < ARCHIVE_WARN) {
        throw refused(path, archive_error_string(disk_) ? archive_error_string(disk_) : "cannot be finished");
    }
}

void LayerWriter::add(archive* in, archive_entry* entry) {
    const char* raw = archive_entry_pathname(entry);
    const std::string_view name = raw ? raw : "";
    const auto components = entry_components(name);
    if (components.empty()) {
        return; // "./": the layer's own root, which is ours
    }
    const std::string path = join(components, components.size());
    const std::string parent_path = join(components, components.size() - 1);
    const int parent = parent_dir(components, components.size() - 1, name);
    const Whiteout whiteout = classify_whiteout(components.back());
    const auto type = archive_entry_filetype(entry);
    if (whiteout.kind != Whiteout::none) {
        if (type == AE_IFDIR) {
            throw refused(name, "a whiteout that is a directory");
        }
        add_whiteout(whiteout, parent, parent_path, name);
        return;
    }
    if (type != AE_IFDIR && !seen_.insert(path).second) {
        throw refused(name, "a second entry for the same path (duplicates are refused, not overwritten)");
    }
    if (type == AE_IFDIR && seen_.contains(path)) {
        throw refused(name, "a directory where this layer already has a file");
    }
    if (archive_entry_hardlink(entry) != nullptr) {
        check_hardlink(entry, path);
    } else if (type == AE_IFCHR || type == AE_IFBLK) {
        const unsigned long major = archive_entry_rdevmajor(entry);
        const unsigned long minor = archive_entry_rdevminor(entry);
        if (major > max_major || minor > max_minor) {
            throw refused(name, fmt::format("a device node {}:{}, beyond Linux's device numbers", major, minor));
        }
        const bool whiteout_node = type == AE_IFCHR && major == 0 && minor == 0;
        if (!options_.privileged && !whiteout_node) {
            ++stats_.skipped_devices; // mknod needs CAP_MKNOD on the host
            return;
        }
    } else if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO) {
        return; // sockets and unknown types: nothing to make
    }
    write(in, entry, path);
    if (type != AE_IFDIR) {
        ++stats_.files;
    }
}

void LayerWriter::finish() {
    cached_fd_.reset();
    if (archive_write_close(disk_) < ARCHIVE_WARN) {
        throw nsrun::Error{fmt::format("layer {}: setting directory modes: {}", root_path_,
                                       archive_error_string(disk_) ? archive_error_string(disk_) : "failed")};
    }
}

