/// @file archives.hpp
/// @brief Archives built inside the image tests: layers (tar, gzip, zstd)
/// written entry by entry with libarchive's writer — so any name, link or
/// device an attacker could put in a tar is possible — and the docker-save
/// and OCI layouts around them, with their digests.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace lab {

/// One entry of a tar, exactly as it will be written.
struct TarEntry {
    std::string name{};
    char type = 'f';      ///< f file, d dir, l symlink, h hard link, c char device, b block device, p fifo
    std::string data{};   ///< file content
    std::string link{};   ///< symlink target or hard-link target
    unsigned mode = 0644;
    unsigned major = 0, minor = 0;
    unsigned uid = 0, gid = 0;
};

/// A tar of `entries`, compressed with `filter`: "none", "gzip" or "zstd".
std::string make_tar(const std::vector<TarEntry>& entries, const std::string& filter = "none");

/// sha256 hex of `bytes`.
std::string sha256_hex(const std::string& bytes);

/// An image to pack: its layers (as stored: maybe compressed) with their
/// uncompressed tars, and the config's "config" object.
struct TestImage {
    std::vector<std::string> layers;       ///< the blobs
    std::vector<std::string> uncompressed; ///< their tars (for diff_ids)
    nlohmann::json process = nlohmann::json::object();
    std::string ref = "test:latest";
    std::string forged_layer; ///< if set: stored under layers[0]'s digest instead of it
};

/// An OCI image layout in a tar (oci-archive).  `tamper` may edit the
/// manifest JSON before it is stored (e.g. a digest "sha256:../../x").
std::string make_oci(const TestImage& image, const std::function<void(nlohmann::json&)>& tamper = {});
/// A docker-save archive (manifest.json, <id>.json, <n>/layer.tar).
std::string make_docker_save(const TestImage& image, const std::function<void(nlohmann::json&)>& tamper = {});

/// A tiny image's layer: the lab rootfs's busybox and a few applets.
std::vector<TarEntry> busybox_layer(const std::string& lab_rootfs);

/// Write `bytes` to `path`.
void write_file(const std::string& path, const std::string& bytes);

} // namespace lab
