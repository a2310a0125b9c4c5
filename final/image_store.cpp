// The image store on disk (see image_store.hpp for its layout).
#include "image_store.hpp"

#include "tree.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/identity.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

using json = nlohmann::json;

std::string default_image_root() {
    if (::geteuid() == 0) {
        return "/var/lib/nsrun";
    }
    if (const char* data = ::getenv("XDG_DATA_HOME"); data && *data == '/') {
        return fmt::format("{}/nsrun", data);
    }
    if (const char* home = ::getenv("HOME"); home && *home == '/') {
        return fmt::format("{}/.local/share/nsrun", home);
    }
    return fmt::format("/tmp/nsrun-images-{}", ::geteuid());
}

std::string digest_hex(const std::string& digest, const std::string& what) {
    static const std::regex form("sha256:[0-9a-f]{64}");
    if (!std::regex_match(digest, form)) {
        throw nsrun::Error{fmt::format("{}: '{}' is not a sha256 digest", what, digest.substr(0, 100)),
                           "digests are sha256:<64 lowercase hex digits>: the archive is malformed or malicious"};
    }
    return digest.substr(7);
}

std::string normalize_ref(const std::string& ref) {
    // [host[:port]/]component(/component)*[:tag]
    static const std::regex name_form(
        "([a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*");
    static const std::regex tag_form("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    const auto slash = ref.rfind('/');
    const auto colon = ref.rfind(':');
    const bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
    const std::string name = has_tag ? ref.substr(0, colon) : ref;
    const std::string tag = has_tag ? ref.substr(colon + 1) : "latest";
    if (name.size() > 255 || !std::regex_match(name, name_form) || !std::regex_match(tag, tag_form)) {
        throw nsrun::Error{fmt::format("'{}' is not a valid image name", ref),
                           "give NAME[:TAG]: lowercase letters, digits and . _ - / in NAME, e.g. alpine:3.19"};
    }
    return name + ":" + tag;
}

ImageProcess Image::process() const {
    ImageProcess p;
    if (!config.is_object() || !config.contains("config") || !config["config"].is_object()) {
        return p;
    }
    const json& c = config["config"];
    const auto strings = [&](const char* key) {
        std::vector<std::string> out;
        if (c.contains(key) && c[key].is_array()) {
            for (const auto& v : c[key]) {
                if (v.is_string()) {
                    out.push_back(v.get<std::string>());
                }
            }
        }
        return out;
    };
    const auto text = [&](const char* key) {
        return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : std::string();
    };
    p.entrypoint = strings("Entrypoint");
    p.cmd = strings("Cmd");
    p.env = strings("Env");
    p.working_dir = text("WorkingDir");
    p.user = text("User");
    return p;
}

void to_json(json& j, const Image& i) {
    j = {{"id", i.id},         {"repoTags", i.tags},         {"layers", i.layers}, {"size", i.size},
         {"created", i.created}, {"imported", i.imported}, {"config", i.config}};
}

void from_json(const json& j, Image& i) {
    j.at("id").get_to(i.id);
    j.at("repoTags").get_to(i.tags);
    j.at("layers").get_to(i.layers);
    j.at("size").get_to(i.size);
    i.created = j.value("created", "");
    i.imported = j.value("imported", "");
    i.config = j.value("config", json::object());
}

ImageStore::ImageStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') {
        root_.pop_back();
    }
}

void ImageStore::create() const {
    nsrun::fs::make_dirs(root_, 0700);
    for (const char* sub : {"/images", "/layers", "/tmp"}) {
        nsrun::sys::mkdir(root_ + sub, 0700);
    }
}

nsrun::fs::FileLock ImageStore::lock() const { return nsrun::fs::FileLock(root_ + "/lock"); }

std::string ImageStore::layer_dir(const std::string& diff_id) const {
    return fmt::format("{}/layers/{}", root_, digest_hex(diff_id, "layer"));
}

bool ImageStore::has_layer(const std::string& diff_id) const { return nsrun::fs::exists(layer_dir(diff_id) + "/layer.json"); }

std::string ImageStore::make_temp_dir() const {
    static std::atomic<unsigned> counter{0};
    for (;;) {
        const std::string dir = fmt::format("{}/tmp/{}.{}", root_, ::getpid(), counter++);
        if (::mkdir(dir.c_str(), 0700) == 0) {
            nsrun::explain::note("mkdir({}, 0700) = 0", nsrun::explain::quote(dir));
            return dir;
        }
        if (errno != EEXIST) {
            throw nsrun::SysError(fmt::format("mkdir({})", nsrun::explain::quote(dir)), errno);
        }
    }
}

namespace {

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name != "." && name != "..") {
                names.push_back(name);
            }
        }
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

void ImageStore::sweep_temp() const {
    for (const auto& name : names_in(root_ + "/tmp")) {
        const pid_t pid = std::atoi(name.c_str());
        if (pid > 0 && (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH)) {
            continue; // an import still at work
        }
        remove_tree(root_ + "/tmp/" + name);
    }
}

std::vector<Image> ImageStore::list() const {
    std::vector<Image> images;
    for (const auto& name : names_in(root_ + "/images")) {
        if (!name.ends_with(".json")) {
            continue;
        }
        try {
            images.push_back(json::parse(nsrun::sys::read_file(root_ + "/images/" + name)).get<Image>());
        } catch (const std::exception& e) {
            nsrun::explain::note("skipping unreadable image record {}: {}", name, e.what());
        }
    }
    std::stable_sort(images.begin(), images.end(),
                     [](const Image& a, const Image& b) { return a.imported < b.imported; });
    return images;
}

std::optional<Image> ImageStore::find(const std::string& ref) const {
    const auto images = list();
    // A tag first (docker's order), then an id or a unique prefix of one.
    std::string tag;
    try {
        tag = normalize_ref(ref);
    } catch (const nsrun::Error&) {
    }
    for (const auto& image : images) {
        if (!tag.empty() && std::find(image.tags.begin(), image.tags.end(), tag) != image.tags.end()) {
            return image;
        }
    }
    const std::string hex = ref.starts_with("sha256:") ? ref.substr(7) : ref;
    if (hex.size() < 4 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return std::nullopt;
    }
    std::optional<Image> found;
    for (const auto& image : images) {
        if (image.id.compare(7, hex.size(), hex) == 0) {
            if (found) {
                throw nsrun::Error{fmt::format("image id prefix {} is ambiguous", hex), "give more digits"};
            }
            found = image;
        }
    }
    return found;
}

Image ImageStore::resolve(const std::string& ref) const {
    if (auto image = find(ref)) {
        return *image;
    }
    throw nsrun::Error{fmt::format("no such image: {}", ref),
                       fmt::format("nsrun image ls lists the images in {}; bring one with: nsrun image import FILE", root_)};
}

void ImageStore::save(const Image& image) const {
    const std::string hex = digest_hex(image.id, "image id");
    for (auto other : list()) {
        if (other.id == image.id) {
            continue;
        }
        const auto before = other.tags.size();
        std::erase_if(other.tags, [&](const std::string& t) {
            return std::find(image.tags.begin(), image.tags.end(), t) != image.tags.end();
        });
        if (other.tags.size() != before) {
            nsrun::fs::write_file_atomic(fmt::format("{}/images/{}.json", root_, other.id.substr(7)),
                                         json(other).dump(2) + "\n", 0600);
        }
    }
    nsrun::fs::write_file_atomic(fmt::format("{}/images/{}.json", root_, hex), json(image).dump(2) + "\n", 0600);
}

void ImageStore::prune_layers(const std::vector<std::string>& in_use) const {
    std::set<std::string> keep;
    for (const auto& id : in_use) {
        keep.insert(id.starts_with("sha256:") ? id.substr(7) : id);
    }
    for (const auto& image : list()) {
        for (const auto& layer : image.layers) {
            keep.insert(layer.substr(7));
        }
    }
    for (const auto& name : names_in(root_ + "/layers")) {
        if (!keep.contains(name)) {
            remove_tree(root_ + "/layers/" + name);
        }
    }
}

void ImageStore::remove(const Image& image, const std::vector<std::string>& in_use) const {
    nsrun::sys::unlink(fmt::format("{}/images/{}.json", root_, digest_hex(image.id, "image id")));
    prune_layers(in_use);
}
