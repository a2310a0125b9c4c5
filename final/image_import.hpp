// `nsrun image import FILE`: the archives people bring, read with libarchive.
//
//  - docker-save: manifest.json ([{Config, RepoTags, Layers}]) and the blobs
//    it names ("<id>/layer.tar" before docker 25, "blobs/sha256/<hex>" since);
//  - an OCI image layout in a tar (oci-archive): oci-layout, index.json,
//    blobs/sha256/<hex> (an index may point to a per-platform index);
//  - a plain root filesystem tarball (docker export, a minirootfs) with
//    --name: one layer, and a config that runs /bin/sh.
//
// Layers may be uncompressed, gzip or zstd.  Every blob is verified while
// it streams: its sha256 against its descriptor, the sha256 of its
// uncompressed tar against the config's diff_id — a layer is unpacked into
// a private temporary directory and renamed into the store only once both
// match, and the image file is written last.
#pragma once

#include "image_store.hpp"

#include <string>
#include <vector>

struct ImportOptions {
    std::string file;
    std::string name;      ///< --name: tag (and, for a plain tarball, make) the image
    bool progress = false; ///< a live progress line per layer (a terminal)
};

/// Import every image of the archive; returns them as stored.  Throws
/// nsrun::Error (125) naming the blob or entry when anything is refused;
/// then nothing new is visible in the store.
std::vector<Image> import_images(const ImageStore& store, const ImportOptions& options);
