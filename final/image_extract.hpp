// Unpacking one image layer into an empty directory, so that no entry of
// the archive can write anywhere else.  Two independent locks:
//
//  1. Every entry is resolved relative to the layer's directory *descriptor*:
//     its name is split into components and refused if absolute or holding
//     "..", and its parent directories are opened one by one (openat2 with
//     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), created when missing, and
//     refused when any of them is a symlink — so a link planted by an
//     earlier entry cannot redirect a later one.  Hard-link targets and
//     whiteouts go through the same resolution.
//  2. The file itself is then written by libarchive's archive_write_disk
//     with ARCHIVE_EXTRACT_SECURE_NODOTDOT | SECURE_SYMLINKS |
//     SECURE_NOABSOLUTEPATHS and NO_OVERWRITE, which check the same things
//     again on their own.
//
// Each layer is unpacked into its own directory (never on top of the layer
// below), so a symlink in one layer never affects another: overlayfs stacks
// them at run time.  OCI whiteouts become overlayfs's: `.wh.NAME` → a 0:0
// character device NAME, `.wh..wh..opq` → the opaque xattr on its directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nsrun/fd.hpp>

struct archive;
struct archive_entry;

/// The components of an archive entry's name ("./usr//bin/" → usr, bin),
/// empty for the root itself ("./").  Throws nsrun::Error (125) for an
/// absolute name, a ".." component, an empty name or a NUL.
std::vector<std::string> entry_components(std::string_view name);

/// What an entry's last component means to overlayfs.
struct Whiteout {
    enum Kind { none, file, opaque } kind = none;
    std::string target; ///< for `file`: the name it hides
};
/// `.wh.NAME` → {file, NAME}; `.wh..wh..opq` → {opaque}; anything else
/// → {none}.  Throws (125) for `.wh.` alone, `.wh..`, `.wh..wh.` other than
/// the opaque marker, or a target that is "." or "..".
Whiteout classify_whiteout(std::string_view leaf);

/// How a layer is written.
struct LayerOptions {
    /// The importer may create device nodes and set owners (real root).
    bool privileged = false;
    /// The opaque-directory xattr: "trusted.overlay.opaque" (root) or
    /// "user.overlay.opaque" (rootless overlay with userxattr).
    std::string opaque_xattr = "trusted.overlay.opaque";
};

/// What a layer held, for the store and the progress line.
struct LayerStats {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0; ///< regular files' content
    std::uint64_t whiteouts = 0;
    std::uint64_t skipped_devices = 0; ///< device nodes an unprivileged import cannot make
};

/// One layer being written into the directory `root` (empty, private).
class LayerWriter {
public:
    LayerWriter(const std::string& root, LayerOptions options);
    ~LayerWriter();
    LayerWriter(const LayerWriter&) = delete;
    LayerWriter& operator=(const LayerWriter&) = delete;

    /// Write the entry `entry` of `in` (its data is read from `in`).
    /// Throws nsrun::Error (125) naming the entry when it is refused.
    void add(archive* in, archive_entry* entry);
    /// Apply the deferred directory modes and times; the layer is complete.
    void finish();

    [[nodiscard]] const LayerStats& stats() const { return stats_; }

private:
    /// The directory holding `parents` (made when missing), as a descriptor.
    int parent_dir(const std::vector<std::string>& components, std::size_t count, std::string_view entry);
    void add_whiteout(const Whiteout& whiteout, int parent, const std::string& path, std::string_view entry);
    void check_hardlink(archive_entry* entry, const std::string& path);
    void write(archive* in, archive_entry* entry, const std::string& path);

    std::string root_path_;
    nsrun::UniqueFd root_;
    nsrun::UniqueFd saved_cwd_;
    LayerOptions options_;
    archive* disk_ = nullptr;
    std::string cached_parent_; ///< the last parent resolved, and its descriptor
    nsrun::UniqueFd cached_fd_;
    std::unordered_set<std::string> seen_; ///< every non-directory path so far
    LayerStats stats_;
};
