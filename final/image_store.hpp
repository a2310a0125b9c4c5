// The image store: what `nsrun image import` keeps and `run --image` reads.
//
//   IMAGE_ROOT/                  /var/lib/nsrun (root) — mode 0700: setuid
//   ├── lock                     files of images stay out of host users' reach
//   ├── images/<id>.json         one image: tags, layers (diff_ids, bottom first), config
//   ├── layers/<diff_id>/fs/     one layer, unpacked once, whiteouts in overlayfs's form
//   │               /layer.json  its size and file count
//   └── tmp/<pid>.<n>/           layers being unpacked (renamed into layers/ when verified)
//
// A layer is named by its diff_id — the sha256 of its uncompressed tar —
// so two images that share a layer share its directory.  Changes to
// images/ and layers/ happen under IMAGE_ROOT/lock (flock); an image file
// is written atomically (rename) after all its layers are in place, so an
// interrupted import leaves nothing half-visible.
#pragma once

#include <nsrun/fs.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

/// /var/lib/nsrun for root; $XDG_DATA_HOME/nsrun or ~/.local/share/nsrun otherwise.
std::string default_image_root();

/// "sha256:<64 lowercase hex>" → the hex.  Throws nsrun::Error (125) for
/// anything else ("sha256:../../x", another algorithm, a short digest):
/// a digest becomes a path in the store, so it is checked before use.
std::string digest_hex(const std::string& digest, const std::string& what);

/// "alpine" → "alpine:latest"; checks the name and tag characters
/// (docker's: [a-z0-9] separated by . _ - /, a registry host[:port] first;
/// tag [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}).  Throws (125) otherwise.
std::string normalize_ref(const std::string& ref);

/// The parts of an image's config that decide how its container runs.
struct ImageProcess {
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::vector<std::string> env;
    std::string working_dir;
    std::string user;
};

/// One image of the store (`images/<id>.json`).
struct Image {
    std::string id;                  ///< "sha256:<hex>" of its config blob
    std::vector<std::string> tags;   ///< "name:tag"
    std::vector<std::string> layers; ///< diff_ids, bottom layer first
    std::uint64_t size = 0;          ///< unpacked bytes of all layers
    std::string created;             ///< the config's "created", or ""
    std::string imported;            ///< when it was imported (RFC 3339)
    nlohmann::json config;           ///< the whole image config

    [[nodiscard]] ImageProcess process() const;
};
void to_json(nlohmann::json& j, const Image& image);
void from_json(const nlohmann::json& j, Image& image);

class ImageStore {
public:
    explicit ImageStore(std::string root);

    [[nodiscard]] const std::string& root() const noexcept { return root_; }
    /// Make the store's directories (0700) if missing.
    void create() const;
    /// The store's lock: held while images/ or layers/ change.
    [[nodiscard]] nsrun::fs::FileLock lock() const;

    [[nodiscard]] std::string layer_dir(const std::string& diff_id) const;
    /// The unpacked tree of a layer (an overlayfs lowerdir).
    [[nodiscard]] std::string layer_fs(const std::string& diff_id) const { return layer_dir(diff_id) + "/fs"; }
    [[nodiscard]] bool has_layer(const std::string& diff_id) const;
    /// A fresh private directory under tmp/ for unpacking.
    [[nodiscard]] std::string make_temp_dir() const;
    /// Remove what imports killed midway left in tmp/ (their pid is gone).
    void sweep_temp() const;

    /// Every image, oldest import first.
    [[nodiscard]] std::vector<Image> list() const;
    /// NAME[:TAG], a full id (sha256:…) or a unique id prefix (≥ 4 hex digits).
    [[nodiscard]] std::optional<Image> find(const std::string& ref) const;
    /// find(), or a 125 error "no such image" with a hint.
    [[nodiscard]] Image resolve(const std::string& ref) const;
    /// Write the image atomically; its tags are taken from any other image
    /// that had them (the caller holds the lock).
    void save(const Image& image) const;
    /// Remove the image's file, then every layer no image references and
    /// that is not in `in_use` (the caller holds the lock).
    void remove(const Image& image, const std::vector<std::string>& in_use) const;
    /// The layers that are not in any image nor in `in_use` (diff_ids).
    void prune_layers(const std::vector<std::string>& in_use) const;

private:
    std::string root_;
};
