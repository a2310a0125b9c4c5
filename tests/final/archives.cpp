#include "archives.hpp"

#include "../../final/sha256.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace lab {

namespace {

la_ssize_t append(archive*, void* out, const void* buffer, size_t length) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

std::string make_tar(const std::vector<TarEntry>& entries, const std::string& filter) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (filter == "gzip") {
        archive_write_add_filter_gzip(a);
    } else if (filter == "zstd") {
        archive_write_add_filter_zstd(a);
    }
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open(a, &out, nullptr, append, nullptr) != ARCHIVE_OK) {
        throw std::runtime_error(std::string("archive_write_open: ") + archive_error_string(a));
    }
    for (const auto& e : entries) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, e.name.c_str());
        archive_entry_set_perm(entry, e.mode);
        archive_entry_set_uid(entry, e.uid);
        archive_entry_set_gid(entry, e.gid);
        archive_entry_set_mtime(entry, 0, 0);
        switch (e.type) {
        case 'd': archive_entry_set_filetype(entry, AE_IFDIR); break;
        case 'l':
            archive_entry_set_filetype(entry, AE_IFLNK);
            archive_entry_set_symlink(entry, e.link.c_str());
            break;
        case 'h':
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_hardlink(entry, e.link.c_str());
            break;
        case 'c':
        case 'b':
            archive_entry_set_filetype(entry, e.type == 'c' ? AE_IFCHR : AE_IFBLK);
            archive_entry_set_rdevmajor(entry, e.major);
            archive_entry_set_rdevminor(entry, e.minor);
            break;
        case 'p': archive_entry_set_filetype(entry, AE_IFIFO); break;
        default:
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
        }
        if (archive_write_header(a, entry) != ARCHIVE_OK) {
            throw std::runtime_error(std::string("archive_write_header ") + e.name + ": " + archive_error_string(a));
        }
        if (e.type == 'f' && !e.data.empty()) {
            archive_write_data(a, e.data.data(), e.data.size());
        }
        archive_entry_free(entry);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

std::string sha256_hex(const std::string& bytes) { return Sha256::of(bytes); }

namespace {

nlohmann::json config_of(const TestImage& image) {
    nlohmann::json diff_ids = nlohmann::json::array();
    for (const auto& u : image.uncompressed) {
        diff_ids.push_back("sha256:" + sha256_hex(u));
    }
    return {{"architecture", "amd64"},
            {"os", "linux"},
            {"config", image.process},
            {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
}

} // namespace

std::string make_oci(const TestImage& image, const std::function<void(nlohmann::json&)>& tamper) {
    std::vector<TarEntry> files;
    const auto blob = [&](const std::string& bytes) {
        const std::string hex = sha256_hex(bytes);
        files.push_back({"blobs/sha256/" + hex, 'f', bytes});
        return hex;
    };
    const std::string config = config_of(image).dump();
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", "sha256:" + blob(config)}, {"size", config.size()}}},
        {"layers", nlohmann::json::array()}};
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const std::string& layer = image.layers[i];
        std::string digest = "sha256:" + sha256_hex(layer);
        if (i == 0 && !image.forged_layer.empty()) {
            files.push_back({"blobs/sha256/" + sha256_hex(layer), 'f', image.forged_layer});
        } else {
            digest = "sha256:" + blob(layer);
        }
        manifest["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                      {"digest", digest},
                                      {"size", layer.size()}});
    }
    if (tamper) {
        tamper(manifest);
    }
    const std::string m = manifest.dump();
    const nlohmann::json index = {
        {"schemaVersion", 2},
        {"manifests",
         {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"digest", "sha256:" + blob(m)},
           {"size", m.size()},
           {"annotations", {{"io.containerd.image.name", image.ref}}}}}}};
    files.push_back({"oci-layout", 'f', R"({"imageLayoutVersion":"1.0.0"})"});
    files.push_back({"index.json", 'f', index.dump()});
    return make_tar(files);
}

std::string make_docker_save(const TestImage& image, const std::function<void(nlohmann::json&)>& tamper) {
    std::vector<TarEntry> files;
    const std::string config = config_of(image).dump();
    const std::string config_name = sha256_hex(config) + ".json";
    files.push_back({config_name, 'f', config});
    nlohmann::json layers = nlohmann::json::array();
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const std::string path = std::to_string(i) + "/layer.tar";
        files.push_back({std::to_string(i), 'd', "", "", 0755});
        files.push_back({path, 'f', image.layers[i]});
        layers.push_back(path);
    }
    nlohmann::json manifest = nlohmann::json::array({{{"Config", config_name}, {"RepoTags", {image.ref}}, {"Layers", layers}}});
    if (tamper) {
        tamper(manifest);
    }
    files.push_back({"manifest.json", 'f', manifest.dump()});
    return make_tar(files);
}

std::vector<TarEntry> busybox_layer(const std::string& lab_rootfs) {
    std::vector<TarEntry> entries = {{"bin", 'd', "", "", 0755}, {"bin/busybox", 'f', read_file(lab_rootfs + "/bin/busybox"), "", 0755}};
    for (const char* applet : {"sh", "cat", "ls", "echo", "id", "pwd", "stat", "touch", "sleep", "test", "grep", "env"}) {
        entries.push_back({std::string("bin/") + applet, 'l', "", "busybox", 0777});
    }
    for (const char* dir : {"etc", "tmp", "proc", "sys", "dev", "srv", "srv/www", "root"}) {
        entries.push_back({dir, 'd', "", "", 0755});
    }
    entries.push_back({"etc/passwd", 'f', "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:www:/srv/www:/bin/sh\n"});
    entries.push_back({"etc/group", 'f', "root:x:0:\nwww:x:34:\n"});
    return entries;
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

} // namespace lab
