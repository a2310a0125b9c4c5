// Reading docker-save, OCI and plain archives (image_import.hpp).
//
// The archive is read twice, streaming, never unpacked as a whole: the first
// pass keeps its small files (manifests, configs, index.json) in memory and
// notes every entry; the second streams each missing layer through
//
//   archive entry ─sha256─▶ decompress (libarchive: gzip, zstd or none)
//                  ─sha256─▶ tar (libarchive) ─▶ LayerWriter (image_extract)
//
// so a layer is read once and both digests are known when it ends.
#include "image_import.hpp"

#include "image_extract.hpp"
#include "tree.hpp"
#include "sha256.hpp"
#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

using json = nlohmann::json;

namespace {

/// Manifests, configs and indexes larger than this are refused.
constexpr la_int64_t small_limit = 4 << 20;
constexpr std::size_t block_size = 1 << 17;

const char* error_of(archive* a) {
    const char* text = archive_error_string(a);
    return text ? text : "unknown error";
}

/// An archive being read, freed on scope exit.
class Reader {
public:
    Reader() : a_(archive_read_new()) {}
    ~Reader() { archive_read_free(a_); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    archive* get() const { return a_; }

private:
    archive* a_;
};

/// A temporary directory removed on scope exit unless released.
class Scratch {
public:
    explicit Scratch(std::string path) : path_(std::move(path)) {}
    ~Scratch() {
        if (!path_.empty()) {
            remove_tree(path_);
        }
    }
    Scratch(Scratch&& other) noexcept : path_(std::exchange(other.path_, {})) {}
    Scratch& operator=(Scratch&&) = delete;
    const std::string& path() const { return path_; }
    void release() { path_.clear(); }

private:
    std::string path_;
};

std::string human(std::uint64_t bytes) {
    if (bytes >= 1ULL << 30) return fmt::format("{:.1f} GB", static_cast<double>(bytes) / (1ULL << 30));
    if (bytes >= 1ULL << 20) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1ULL << 20));
    if (bytes >= 1ULL << 10) return fmt::format("{:.1f} kB", static_cast<double>(bytes) / (1ULL << 10));
    return fmt::format("{} B", bytes);
}

/// An entry name as a path inside the archive ("./a//b" → "a/b"); "" when
/// it could never be referenced (absolute, "..").
std::string archive_path(const char* raw) {
    try {
        const auto parts = entry_components(raw ? raw : "");
        std::string path;
        for (const auto& p : parts) {
            path += (path.empty() ? "" : "/") + p;
        }
        return path;
    } catch (const nsrun::Error&) {
        return {};
    }
}

/// A path named by a manifest: it must be a plain relative path.
std::string referenced_path(const std::string& path, const std::string& what) {
    if (path.empty() || path.front() == '/' || path.find("..") != std::string::npos) {
        throw nsrun::Error{fmt::format("{}: '{}' is not a path inside the archive", what, path.substr(0, 200)),
                           "the archive is malformed or malicious: nothing was stored"};
    }
    return archive_path(path.c_str());
}

// --- pass 1: what the archive holds ------------------------------------------

struct Contents {
    std::map<std::string, la_int64_t> files; ///< every regular file and its size
    std::map<std::string, std::string> small; ///< top-level files and blobs up to small_limit
    std::set<std::string> duplicates;
};

void open_file(archive* a, const std::string& file) {
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, file.c_str(), block_size) != ARCHIVE_OK) {
        throw nsrun::Error{fmt::format("{}: {}", file, error_of(a)),
                           "give a docker-save or OCI archive, or a root filesystem tarball with --name "
                           "(this is not a tar archive, or its gzip/zstd stream is damaged)"};
    }
}

std::string read_all(archive* a, const std::string& file, const std::string& name) {
    std::string data;
    std::array<char, 65536> buf{};
    for (;;) {
        const la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
        if (n < 0) {
            throw nsrun::Error{fmt::format("{}: {}: {}", file, name, error_of(a)), "the archive is truncated or corrupt"};
        }
        if (n == 0) {
            return data;
        }
        data.append(buf.data(), static_cast<std::size_t>(n));
    }
}

Contents read_contents(const std::string& file) {
    Reader reader;
    archive* a = reader.get();
    open_file(a, file);
    Contents contents;
    archive_entry* entry = nullptr;
    for (;;) {
        const int rc = archive_read_next_header(a, &entry);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc < ARCHIVE_WARN) {
            throw nsrun::Error{fmt::format("{}: {}", file, error_of(a)),
                               "the archive is truncated, corrupt or not a tar archive: nothing was stored"};
        }
        if (archive_entry_filetype(entry) != AE_IFREG) {
            continue;
        }
        const std::string name = archive_path(archive_entry_pathname(entry));
        if (name.empty()) {
            continue;
        }
        if (contents.files.contains(name)) {
            contents.duplicates.insert(name);
        }
        const la_int64_t size = archive_entry_size(entry);
        contents.files[name] = size;
        const bool metadata = name.find('/') == std::string::npos || name.starts_with("blobs/");
        if (metadata && size <= small_limit) {
            contents.small[name] = read_all(a, file, name);
        }
    }
    return contents;
}

// --- the plan: images and the layers they need --------------------------------

struct LayerJob {
    std::string path;      ///< the entry in the archive ("" = the file itself)
    std::string blob_hex;  ///< its expected sha256 ("" = none given: docker's legacy layer.tar)
    std::string diff_id;   ///< expected sha256 of the uncompressed tar ("" = learn it)
};

struct Plan {
    std::vector<Image> images;
    std::vector<LayerJob> layers; ///< one per distinct diff_id
};

/// A small blob's content, checked against its digest (and size).
std::string blob(const Contents& contents, const std::string& digest, std::optional<std::int64_t> size,
                 const std::string& what) {
    const std::string hex = digest_hex(digest, what);
    const std::string path = "blobs/sha256/" + hex;
    if (contents.duplicates.contains(path)) {
        throw nsrun::Error{fmt::format("{}: the archive holds {} twice", what, path), "the archive is malformed"};
    }
    const auto it = contents.small.find(path);
    if (it == contents.small.end()) {
        throw nsrun::Error{fmt::format("{}: missing blob {}", what, path),
                           contents.files.contains(path) ? "it is larger than a manifest or config can be"
                                                          : "the archive is incomplete: nothing was stored"};
    }
    if (Sha256::of(it->second) != hex) {
        throw nsrun::Error{fmt::format("{}: blob {} does not match its digest", what, path),
                           "the archive is corrupt or was tampered with: nothing was stored"};
    }
    if (size && *size != static_cast<std::int64_t>(it->second.size())) {
        throw nsrun::Error{fmt::format("{}: blob {} is {} bytes, its descriptor says {}", what, path,
                                       it->second.size(), *size),
                           "the archive is corrupt: nothing was stored"};
    }
    return it->second;
}

json parse_json(const std::string& text, const std::string& what) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw nsrun::Error{fmt::format("{}: not JSON ({})", what, e.what()), "the archive is malformed"};
    }
}

/// The config's diff_ids, checked, and the image made from it.
Image image_of(const std::string& config_text, const std::string& what) {
    Image image;
    image.id = "sha256:" + Sha256::of(config_text);
    image.config = parse_json(config_text, what);
    try {
        for (const auto& d : image.config.at("rootfs").at("diff_ids")) {
            const std::string diff_id = d.get<std::string>();
            (void)digest_hex(diff_id, what + " diff_id");
            image.layers.push_back(diff_id);
        }
    } catch (const json::exception&) {
        throw nsrun::Error{fmt::format("{}: no rootfs.diff_ids", what), "the archive is malformed"};
    }
    if (image.layers.empty()) {
        throw nsrun::Error{fmt::format("{}: an image without layers", what), "the archive is malformed"};
    }
    image.created = image.config.value("created", "");
    return image;
}

void add_layer(Plan& plan, LayerJob job) {
    for (const auto& l : plan.layers) {
        if (l.diff_id == job.diff_id) {
            return;
        }
    }
    plan.layers.push_back(std::move(job));
}

void check_present(const Contents& contents, const std::string& path, const std::string& what) {
    if (!contents.files.contains(path)) {
        throw nsrun::Error{fmt::format("{}: missing blob {}", what, path), "the archive is incomplete: nothing was stored"};
    }
    if (contents.duplicates.contains(path)) {
        throw nsrun::Error{fmt::format("{}: the archive holds {} twice", what, path), "the archive is malformed"};
    }
}

Plan plan_docker(const Contents& contents) {
    Plan plan;
    const json manifest = parse_json(contents.small.at("manifest.json"), "manifest.json");
    if (!manifest.is_array() || manifest.empty()) {
        throw nsrun::Error{"manifest.json: not a list of images", "the archive is malformed"};
    }
    for (const auto& m : manifest) {
        if (!m.is_object() || !m.contains("Config") || !m["Config"].is_string() || !m.contains("Layers") ||
            !m["Layers"].is_array()) {
            throw nsrun::Error{"manifest.json: an image without Config or Layers", "the archive is malformed"};
        }
        const std::string config_path = referenced_path(m["Config"].get<std::string>(), "manifest.json Config");
        check_present(contents, config_path, "manifest.json");
        const auto small = contents.small.find(config_path);
        if (small == contents.small.end()) {
            throw nsrun::Error{fmt::format("manifest.json: config {} is too large", config_path), "the archive is malformed"};
        }
        // The config's name is its digest (blobs/sha256/<hex> or <hex>.json).
        std::string named = config_path.starts_with("blobs/sha256/") ? config_path.substr(13) : config_path;
        if (named.ends_with(".json")) {
            named.resize(named.size() - 5);
        }
        if (named.size() == 64 && Sha256::of(small->second) != named) {
            throw nsrun::Error{fmt::format("config {} does not match its digest", config_path),
                               "the archive is corrupt or was tampered with: nothing was stored"};
        }
        Image image = image_of(small->second, config_path);
        if (m.contains("RepoTags") && m["RepoTags"].is_array()) {
            for (const auto& t : m["RepoTags"]) {
                image.tags.push_back(normalize_ref(t.get<std::string>()));
            }
        }
        if (m["Layers"].size() != image.layers.size()) {
            throw nsrun::Error{fmt::format("manifest.json lists {} layers, the config {} diff_ids", m["Layers"].size(),
                                           image.layers.size()),
                               "the archive is malformed"};
        }
        for (std::size_t i = 0; i < image.layers.size(); ++i) {
            const std::string path = referenced_path(m["Layers"][i].get<std::string>(), "manifest.json Layers");
            check_present(contents, path, "manifest.json");
            LayerJob job{path, "", image.layers[i]};
            if (path.starts_with("blobs/sha256/")) {
                job.blob_hex = digest_hex("sha256:" + path.substr(13), "layer " + path);
            }
            add_layer(plan, std::move(job));
        }
        plan.images.push_back(std::move(image));
    }
    return plan;
}

std::string host_architecture() {
    utsname u{};
    ::uname(&u);
    const std::string machine = u.machine;
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64") return "arm64";
    return machine;
}

bool is_index(const std::string& media_type) {
    return media_type == "application/vnd.oci.image.index.v1+json" ||
           media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

void plan_oci_manifest(const Contents& contents, const json& descriptor, const std::string& tag, Plan& plan, int depth) {
    const std::string media_type = descriptor.value("mediaType", "");
    const std::string digest = descriptor.value("digest", "");
    const std::optional<std::int64_t> size =
        descriptor.contains("size") && descriptor["size"].is_number_integer() ? std::optional(descriptor["size"].get<std::int64_t>())
                                                                             : std::nullopt;
    const json doc = parse_json(blob(contents, digest, size, "index.json"), "manifest " + digest);
    if (is_index(media_type) || (doc.contains("manifests") && !doc.contains("layers"))) {
        if (depth > 4 || !doc.contains("manifests") || !doc["manifests"].is_array()) {
            throw nsrun::Error{fmt::format("index {}: no manifests", digest), "the archive is malformed"};
        }
        // One image per index: the one for this machine, or the only one.
        const json* chosen = nullptr;
        for (const auto& m : doc["manifests"]) {
            const json platform = m.value("platform", json::object());
            if (doc["manifests"].size() == 1 ||
                (platform.value("os", "linux") == "linux" && platform.value("architecture", "") == host_architecture())) {
                chosen = &m;
                break;
            }
        }
        if (!chosen) {
            throw nsrun::Error{fmt::format("index {}: no image for linux/{}", digest, host_architecture()),
                               "export the image for this machine's platform"};
        }
        plan_oci_manifest(contents, *chosen, tag, plan, depth + 1);
        return;
    }
    if (!doc.contains("config") || !doc.contains("layers") || !doc["layers"].is_array()) {
        throw nsrun::Error{fmt::format("manifest {}: no config or layers", digest), "the archive is malformed"};
    }
    const json& config = doc["config"];
    const std::string config_text =
        blob(contents, config.value("digest", ""),
             config.contains("size") ? std::optional(config["size"].get<std::int64_t>()) : std::nullopt, "config");
    Image image = image_of(config_text, "config " + config.value("digest", ""));
    if (doc["layers"].size() != image.layers.size()) {
        throw nsrun::Error{fmt::format("manifest {} lists {} layers, its config {} diff_ids", digest,
                                       doc["layers"].size(), image.layers.size()),
                           "the archive is malformed"};
    }
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const json& layer = doc["layers"][i];
        const std::string type = layer.value("mediaType", "");
        if (type.find("encrypted") != std::string::npos || type.find("nondistributable") != std::string::npos ||
            layer.contains("urls")) {
            throw nsrun::Error{fmt::format("layer {}: media type {} is not supported", i, type),
                               "nsrun imports plain, gzip and zstd tar layers stored in the archive"};
        }
        const std::string hex = digest_hex(layer.value("digest", ""), fmt::format("layer {}", i));
        const std::string path = "blobs/sha256/" + hex;
        check_present(contents, path, "manifest " + digest);
        if (layer.contains("size") && layer["size"].is_number_integer() &&
            layer["size"].get<std::int64_t>() != contents.files.at(path)) {
            throw nsrun::Error{fmt::format("layer {}: {} bytes, its descriptor says {}", path, contents.files.at(path),
                                           layer["size"].get<std::int64_t>()),
                               "the archive is corrupt: nothing was stored"};
        }
        add_layer(plan, {path, hex, image.layers[i]});
    }
    if (!tag.empty()) {
        image.tags.push_back(tag);
    }
    plan.images.push_back(std::move(image));
}

/// "lab.oci.tar" → "lab": a name for an OCI image whose index names only a tag.
std::string name_from_file(const std::string& file) {
    std::string base = file.substr(file.rfind('/') + 1);
    base = base.substr(0, base.find('.'));
    for (auto& c : base) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return base;
}

Plan plan_oci(const Contents& contents, const std::string& file) {
    if (contents.small.contains("oci-layout")) {
        const json layout = parse_json(contents.small.at("oci-layout"), "oci-layout");
        if (layout.value("imageLayoutVersion", "") != "1.0.0") {
            throw nsrun::Error{"oci-layout: not imageLayoutVersion 1.0.0", "the archive is not an OCI image layout"};
        }
    }
    const json index = parse_json(contents.small.at("index.json"), "index.json");
    if (!index.contains("manifests") || !index["manifests"].is_array() || index["manifests"].empty()) {
        throw nsrun::Error{"index.json: no manifests", "the archive is malformed"};
    }
    Plan plan;
    for (const auto& m : index["manifests"]) {
        const json annotations = m.value("annotations", json::object());
        std::string tag;
        std::string ref = annotations.value("io.containerd.image.name", "");
        if (ref.empty()) {
            ref = annotations.value("org.opencontainers.image.ref.name", "");
            if (!ref.empty() && ref.find(':') == std::string::npos && ref.find('/') == std::string::npos) {
                ref = name_from_file(file) + ":" + ref; // the ref names a tag only
            }
        }
        if (!ref.empty()) {
            try {
                tag = normalize_ref(ref);
            } catch (const nsrun::Error&) {
                tag.clear(); // an odd name: imported untagged
            }
        }
        plan_oci_manifest(contents, m, tag, plan, 0);
    }
    return plan;
}

// --- pass 2: streaming a layer ---------------------------------------------

/// Where a layer's bytes come from: an entry of the archive, or the file.
class Source {
public:
    virtual ~Source() = default;
    /// Up to `size` bytes; 0 at the end; throws on an error.
    virtual std::size_t read(void* buffer, std::size_t size) = 0;
    /// How many bytes there are in all (0: unknown): the progress bar's 100%.
    [[nodiscard]] virtual std::uint64_t size() const = 0;
};

class EntrySource final : public Source {
public:
    EntrySource(archive* outer, std::uint64_t size) : outer_(outer), size_(size) {}
    [[nodiscard]] std::uint64_t size() const override { return size_; }
    std::size_t read(void* buffer, std::size_t size) override {
        const la_ssize_t n = archive_read_data(outer_, buffer, size);
        if (n < 0) {
            throw nsrun::Error{fmt::format("reading the layer: {}", error_of(outer_)), "the archive is truncated or corrupt"};
        }
        return static_cast<std::size_t>(n);
    }

private:
    archive* outer_;
    std::uint64_t size_;
};

class FileSource final : public Source {
public:
    explicit FileSource(const std::string& file) : file_(file), fd_(nsrun::sys::open(file, O_RDONLY | O_CLOEXEC)) {}
    [[nodiscard]] std::uint64_t size() const override {
        struct stat st {};
        return ::fstat(fd_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    }
    std::size_t read(void* buffer, std::size_t size) override {
        for (;;) {
            const ssize_t n = ::read(fd_.get(), buffer, size);
            if (n >= 0) {
                return static_cast<std::size_t>(n);
            }
            if (errno != EINTR) {
                throw nsrun::SysError(fmt::format("read({})", nsrun::explain::quote(file_)), errno);
            }
        }
    }

private:
    std::string file_;
    nsrun::UniqueFd fd_;
};

/// The compressed side: the source's bytes, hashed, handed to libarchive.
struct Compressed {
    Source* source;
    Sha256 hash;
    std::vector<char> buffer = std::vector<char>(block_size);
    std::string failure;
    std::uint64_t consumed = 0; ///< bytes read from the source so far (the progress bar)
};

la_ssize_t read_compressed(archive* a, void* data, const void** out) {
    auto* c = static_cast<Compressed*>(data);
    try {
        const std::size_t n = c->source->read(c->buffer.data(), c->buffer.size());
        c->hash.update(c->buffer.data(), n);
        c->consumed += n;
        *out = c->buffer.data();
        return static_cast<la_ssize_t>(n);
    } catch (const std::exception& e) {
        c->failure = e.what();
        archive_set_error(a, EIO, "%s", e.what());
        return -1;
    }
}

/// The uncompressed side: the decompressor's output, hashed, handed to tar.
struct Uncompressed {
    archive* decompressor;
    bool hashed; ///< false for a layer stored uncompressed: its blob digest is its diff_id
    Sha256 hash;
    std::vector<char> buffer = std::vector<char>(block_size);
    std::uint64_t total = 0;
};

la_ssize_t read_uncompressed(archive* a, void* data, const void** out) {
    auto* u = static_cast<Uncompressed*>(data);
    const la_ssize_t n = archive_read_data(u->decompressor, u->buffer.data(), u->buffer.size());
    if (n < 0) {
        archive_set_error(a, EIO, "decompressing: %s", error_of(u->decompressor));
        return -1;
    }
    if (u->hashed) {
        u->hash.update(u->buffer.data(), static_cast<std::size_t>(n));
    }
    u->total += static_cast<std::uint64_t>(n);
    *out = u->buffer.data();
    return n;
}

struct Unpacked {
    std::string blob_hex;
    std::string diff_hex;
    LayerStats stats;
};

/// One layer's line on stderr.  On a terminal, a bar that fills as the
/// layer's bytes (as stored: compressed or not) are read, redrawn in place;
/// elsewhere (a log, a pipe) only the final line.
class Progress {
public:
    Progress(bool live, std::string label, std::uint64_t total)
        : live_(live), label_(live ? shortened(std::move(label)) : std::move(label)), total_(total) {}
    void update(std::uint64_t bytes) {
        if (!live_) {
            return;
        }
        const unsigned percent = total_ ? static_cast<unsigned>(std::min<std::uint64_t>(bytes * 100 / total_, 100)) : 0;
        if (total_ ? percent == shown_percent_ : bytes < shown_bytes_ + (4U << 20)) {
            return; // redraw only when it changed: a terminal is slow
        }
        shown_percent_ = percent;
        shown_bytes_ = bytes;
        if (total_ == 0) {
            std::fprintf(stderr, "\r%s  %s ", label_.c_str(), human(bytes).c_str());
            return;
        }
        constexpr unsigned width = 30;
        const unsigned filled = percent * width / 100;
        std::string bar(filled, '=');
        if (filled < width) {
            bar += '>';
            bar.append(width - filled - 1, ' ');
        }
        std::fprintf(stderr, "\r%s  [%s] %3u%%  %s / %s ", label_.c_str(), bar.c_str(), percent, human(bytes).c_str(),
                     human(total_).c_str());
    }
    void done(const LayerStats& stats, const std::string& diff_hex) const {
        std::fprintf(stderr, "%s%s  sha256:%.12s  %llu files, %s%s\n", live_ ? "\r\033[K" : "", label_.c_str(),
                     diff_hex.c_str(), static_cast<unsigned long long>(stats.files), human(stats.bytes).c_str(),
                     stats.skipped_devices ? fmt::format(", {} device nodes skipped (not root)", stats.skipped_devices).c_str()
                                           : "");
    }

private:
    /// "layer 1/2 blobs/sha256/<64 hex>" → "layer 1/2 <12 hex>": the bar fits a terminal's line.
    static std::string shortened(std::string label) {
        constexpr std::string_view blobs = "blobs/sha256/";
        if (const auto at = label.find(blobs); at != std::string::npos && label.size() >= at + blobs.size() + 12) {
            label = label.substr(0, at) + label.substr(at + blobs.size(), 12);
        }
        return label;
    }

    bool live_;
    std::string label_;
    std::uint64_t total_;
    unsigned shown_percent_ = 101; // nothing shown yet
    std::uint64_t shown_bytes_ = 0;
};

Unpacked unpack_layer(Source& source, const std::string& dir, const LayerOptions& options, Progress& progress) {
    Compressed compressed{&source, {}, std::vector<char>(block_size), {}};
    Reader decompressor;
    archive_read_support_filter_all(decompressor.get());
    archive_read_support_format_raw(decompressor.get());
    archive_read_set_read_callback(decompressor.get(), read_compressed);
    archive_read_set_callback_data(decompressor.get(), &compressed);
    archive_entry* raw = nullptr;
    if (archive_read_open1(decompressor.get()) != ARCHIVE_OK ||
        archive_read_next_header(decompressor.get(), &raw) != ARCHIVE_OK) {
        throw nsrun::Error{fmt::format("the layer cannot be read: {}", error_of(decompressor.get())),
                           "the archive is truncated or corrupt: nothing was stored"};
    }
    // docker save stores layers as plain tar: then the bytes tar reads are
    // the bytes already hashed on the way in, and hashing them again would
    // cost as much CPU as the rest of the import.
    const bool stored_plain = archive_filter_code(decompressor.get(), 0) == ARCHIVE_FILTER_NONE;
    Uncompressed uncompressed{decompressor.get(), !stored_plain, {}, std::vector<char>(block_size), 0};
    Reader tar;
    archive_read_support_format_tar(tar.get());
    archive_read_set_read_callback(tar.get(), read_uncompressed);
    archive_read_set_callback_data(tar.get(), &uncompressed);
    if (archive_read_open1(tar.get()) != ARCHIVE_OK) {
        throw nsrun::Error{fmt::format("the layer is not a tar archive: {}", error_of(tar.get())),
                           "the archive is corrupt: nothing was stored"};
    }
    nsrun::sys::mkdir(dir, 0755);
    LayerWriter writer(dir, options);
    archive_entry* entry = nullptr;
    for (;;) {
        const int rc = archive_read_next_header(tar.get(), &entry);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc < ARCHIVE_WARN) {
            throw nsrun::Error{fmt::format("the layer is unreadable: {}", error_of(tar.get())),
                               "the archive is truncated or corrupt (a gzip or zstd stream that is garbage?): nothing was stored"};
        }
        writer.add(tar.get(), entry);
        progress.update(compressed.consumed);
    }
    writer.finish();
    // The digests cover every byte: what tar did not need (its end-of-archive
    // padding), and what the decompressor did not (trailing bytes).
    for (;;) {
        const void* out = nullptr;
        const la_ssize_t n = read_uncompressed(tar.get(), &uncompressed, &out);
        if (n < 0) {
            throw nsrun::Error{fmt::format("the layer is unreadable: {}", error_of(tar.get())),
                               "the archive is truncated or corrupt: nothing was stored"};
        }
        if (n == 0) {
            break;
        }
    }
    std::vector<char> rest(block_size);
    while (const std::size_t n = source.read(rest.data(), rest.size())) {
        compressed.hash.update(rest.data(), n);
    }
    const std::string blob_hex = compressed.hash.hex();
    return {blob_hex, stored_plain ? blob_hex : uncompressed.hash.hex(), writer.stats()};
}

/// A layer unpacked in tmp/, verified, waiting to be renamed into layers/.
struct Staged {
    Scratch dir;
    std::string diff_id;
    LayerStats stats;
};

Staged stage_layer(const ImageStore& store, Source& source, const LayerJob& job, const LayerOptions& options,
                   const std::string& label, bool live) {
    Scratch scratch(store.make_temp_dir());
    Progress progress(live, label, source.size());
    Unpacked u;
    try {
        u = unpack_layer(source, scratch.path() + "/fs", options, progress);
    } catch (const nsrun::Error& e) {
        throw nsrun::Error{fmt::format("{}: {}", label, e.what()), e.hint()};
    }
    if (!job.blob_hex.empty() && u.blob_hex != job.blob_hex) {
        throw nsrun::Error{fmt::format("{}: its content has sha256:{}, not the sha256:{} it is named by", label,
                                       u.blob_hex, job.blob_hex),
                           "the archive is corrupt or was tampered with: nothing was stored"};
    }
    const std::string diff_id = "sha256:" + u.diff_hex;
    if (!job.diff_id.empty() && diff_id != job.diff_id) {
        throw nsrun::Error{fmt::format("{}: its uncompressed content has {}, the config says {}", label, diff_id,
                                       job.diff_id),
                           "the archive is corrupt or was tampered with: nothing was stored"};
    }
    progress.done(u.stats, u.diff_hex);
    const json meta = {{"diffId", diff_id}, {"size", u.stats.bytes}, {"files", u.stats.files}};
    nsrun::fs::write_file_atomic(scratch.path() + "/layer.json", meta.dump() + "\n", 0600);
    return {std::move(scratch), diff_id, u.stats};
}

std::uint64_t layer_size(const ImageStore& store, const std::string& diff_id) {
    try {
        return json::parse(nsrun::sys::read_file(store.layer_dir(diff_id) + "/layer.json")).value("size", 0ULL);
    } catch (const std::exception&) {
        return 0;
    }
}

/// The config of a plain rootfs tarball: run /bin/sh with a PATH.
std::string plain_config(const std::string& diff_id) {
    const json config = {
        {"architecture", host_architecture()},
        {"os", "linux"},
        {"config",
         {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}, {"Cmd", {"/bin/sh"}}}},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
        {"history", {{{"created_by", "nsrun image import (a root filesystem tarball)"}}}},
    };
    return config.dump();
}

} // namespace

std::vector<Image> import_images(const ImageStore& store, const ImportOptions& options) {
    const std::string tag = options.name.empty() ? "" : normalize_ref(options.name);
    store.create();
    {
        const auto lock = store.lock();
        store.sweep_temp();
    }
    const LayerOptions layer_options{::geteuid() == 0,
                                     ::geteuid() == 0 ? "trusted.overlay.opaque" : "user.overlay.opaque"};
    const Contents contents = read_contents(options.file);
    const bool plain = !contents.small.contains("manifest.json") && !contents.small.contains("index.json");
    std::vector<Staged> staged;
    Plan plan;
    if (plain) {
        if (tag.empty()) {
            throw nsrun::Error{fmt::format("{} has no manifest.json or index.json: it is not a docker or OCI image archive",
                                           options.file),
                               fmt::format("if it is a root filesystem (docker export, a minirootfs), give the image a "
                                           "name: nsrun image import --name NAME {}",
                                           options.file)};
        }
        FileSource source(options.file);
        staged.push_back(stage_layer(store, source, {}, layer_options, "layer 1/1", options.progress));
        Image image = image_of(plain_config(staged.back().diff_id), "config");
        plan.images.push_back(std::move(image));
    } else {
        plan = contents.small.contains("manifest.json") ? plan_docker(contents) : plan_oci(contents, options.file);
        std::erase_if(plan.layers, [&](const LayerJob& job) { return store.has_layer(job.diff_id); });
        if (!plan.layers.empty()) {
            std::map<std::string, std::size_t> wanted; // archive path → index in plan.layers
            for (std::size_t i = 0; i < plan.layers.size(); ++i) {
                wanted[plan.layers[i].path] = i;
            }
            Reader reader;
            archive* a = reader.get();
            open_file(a, options.file);
            archive_entry* entry = nullptr;
            std::size_t done = 0;
            while (done < wanted.size()) {
                const int rc = archive_read_next_header(a, &entry);
                if (rc == ARCHIVE_EOF) {
                    break;
                }
                if (rc < ARCHIVE_WARN) {
                    throw nsrun::Error{fmt::format("{}: {}", options.file, error_of(a)),
                                       "the archive is truncated or corrupt: nothing was stored"};
                }
                const auto it = wanted.find(archive_path(archive_entry_pathname(entry)));
                if (archive_entry_filetype(entry) != AE_IFREG || it == wanted.end()) {
                    continue;
                }
                EntrySource source(a, static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(entry), 0)));
                ++done;
                staged.push_back(stage_layer(store, source, plan.layers[it->second], layer_options,
                                             fmt::format("layer {}/{} {}", done, wanted.size(), it->first),
                                             options.progress));
            }
            if (done < wanted.size()) {
                throw nsrun::Error{fmt::format("{}: a layer blob disappeared between two reads", options.file),
                                   "was the file changed during the import?"};
            }
        }
    }
    if (!tag.empty()) {
        if (plan.images.size() != 1) {
            throw nsrun::Error{fmt::format("--name {}: the archive holds {} images", options.name, plan.images.size()),
                               "import it without --name: each image keeps the tags it has"};
        }
        plan.images[0].tags.push_back(tag);
    }
    // Everything is verified: make it visible, layers first, images last.
    const auto lock = store.lock();
    for (auto& s : staged) {
        const std::string target = store.layer_dir(s.diff_id);
        if (store.has_layer(s.diff_id)) {
            continue; // another import got there first: same content
        }
        remove_tree(target); // a half-renamed leftover without layer.json
        nsrun::sys::rename(s.dir.path(), target);
        s.dir.release();
    }
    const std::string now = now_rfc3339();
    for (auto& image : plan.images) {
        std::sort(image.tags.begin(), image.tags.end());
        image.tags.erase(std::unique(image.tags.begin(), image.tags.end()), image.tags.end());
        image.size = 0;
        for (const auto& layer : image.layers) {
            if (!store.has_layer(layer)) {
                throw nsrun::Error{fmt::format("image {}: layer {} is missing from the store", image.id, layer)};
            }
            image.size += layer_size(store, layer);
        }
        image.imported = now;
        if (auto existing = store.find(image.id)) {
            image.imported = existing->imported;
            for (const auto& t : existing->tags) {
                if (std::find(image.tags.begin(), image.tags.end(), t) == image.tags.end()) {
                    image.tags.push_back(t);
                }
            }
        }
        store.save(image);
    }
    return plan.images;
}
