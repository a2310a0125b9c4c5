// nsrun image import|ls|inspect|rm, and --image for `nsrun run`: the image
// store (image_store.hpp) and the importer (image_import.hpp) on a command line.
#include "cli.hpp"

#include "image_import.hpp"
#include "image_store.hpp"
#include "state.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace {

struct ImageFlags {
    std::string image_root = default_image_root();
    std::string state_dir = default_state_dir();
    bool explain = false;
};

void add_image_root(CLI::App& app, ImageFlags& flags) {
    app.add_option("--image-root", flags.image_root, "where images are stored")->type_name("DIR")->capture_default_str();
    app.add_flag("--explain", flags.explain, "narrate every kernel-level action on stderr");
}

std::string human(std::uint64_t bytes) {
    if (bytes >= 1ULL << 30) return fmt::format("{:.1f}GB", static_cast<double>(bytes) / (1ULL << 30));
    if (bytes >= 1ULL << 20) return fmt::format("{:.1f}MB", static_cast<double>(bytes) / (1ULL << 20));
    if (bytes >= 1ULL << 10) return fmt::format("{:.1f}kB", static_cast<double>(bytes) / (1ULL << 10));
    return fmt::format("{}B", bytes);
}

std::string short_id(const std::string& id) { return id.substr(7, 12); }

int do_import(const ImageFlags& flags, const std::string& file, const std::string& name) {
    const ImageStore store(flags.image_root);
    const auto images = import_images(store, {file, name, ::isatty(STDERR_FILENO) == 1});
    for (const auto& image : images) {
        if (image.tags.empty()) {
            std::printf("Loaded image ID: %s\n", image.id.c_str());
        }
        for (const auto& tag : image.tags) {
            std::printf("Loaded image: %s (%s)\n", tag.c_str(), short_id(image.id).c_str());
        }
    }
    return 0;
}

int do_ls(const ImageFlags& flags, bool quiet) {
    const ImageStore store(flags.image_root);
    const auto images = store.list();
    if (quiet) {
        for (const auto& image : images) {
            std::printf("%s\n", short_id(image.id).c_str());
        }
        return 0;
    }
    std::printf("%-30s %-12s %-12s %-9s %s\n", "NAME", "TAG", "ID", "SIZE", "CREATED");
    for (const auto& image : images) {
        const std::string created = (image.created.empty() ? image.imported : image.created).substr(0, 19);
        std::vector<std::string> tags = image.tags;
        if (tags.empty()) {
            tags.emplace_back("<none>:<none>");
        }
        for (const auto& tag : tags) {
            const auto colon = tag.rfind(':');
            std::printf("%-30s %-12s %-12s %-9s %s\n", tag.substr(0, colon).c_str(), tag.substr(colon + 1).c_str(),
                        short_id(image.id).c_str(), human(image.size).c_str(), created.c_str());
        }
    }
    return 0;
}

int do_inspect(const ImageFlags& flags, const std::vector<std::string>& refs) {
    const ImageStore store(flags.image_root);
    json all = json::array();
    for (const auto& ref : refs) {
        const Image image = store.resolve(ref);
        json layer_dirs = json::array();
        for (const auto& layer : image.layers) {
            layer_dirs.push_back(store.layer_fs(layer));
        }
        all.push_back({{"Id", image.id},
                       {"RepoTags", image.tags},
                       {"Created", image.created},
                       {"Imported", image.imported},
                       {"Size", image.size},
                       {"Architecture", image.config.value("architecture", "")},
                       {"Os", image.config.value("os", "")},
                       {"Config", image.config.value("config", json::object())},
                       {"RootFS", {{"Type", "layers"}, {"Layers", image.layers}}},
                       {"LayerDirs", layer_dirs}});
    }
    std::printf("%s\n", all.dump(4).c_str());
    return 0;
}

/// The layers (diff_id hex) the containers of `state_dir` stack, and the
/// containers that use `image`.
struct Users {
    std::vector<std::string> layers;
    std::vector<std::string> containers;
};

Users users_of(const std::string& state_dir, const Image& image) {
    Users users;
    for (const auto& c : Store(state_dir).list()) {
        if (!c.record || c.record->spec.nsrun.image_id.empty()) {
            continue;
        }
        for (const auto& dir : c.record->spec.nsrun.image_layers) {
            const std::string layer = dir.substr(0, dir.rfind('/'));
            users.layers.push_back(layer.substr(layer.rfind('/') + 1));
        }
        if (c.record->spec.nsrun.image_id == image.id) {
            users.containers.push_back(fmt::format("{} ({})", display_name(*c.record), c.record->state()));
        }
    }
    return users;
}

int do_rm(const ImageFlags& flags, const std::vector<std::string>& refs, bool force) {
    const ImageStore store(flags.image_root);
    int status = 0;
    for (const auto& ref : refs) {
        try {
            const auto lock = store.lock();
            Image image = store.resolve(ref);
            std::string tag;
            try {
                tag = normalize_ref(ref);
            } catch (const nsrun::Error&) {
            }
            // A tag of an image with several: only untag (docker's rule).
            if (image.tags.size() > 1 && std::find(image.tags.begin(), image.tags.end(), tag) != image.tags.end()) {
                std::erase(image.tags, tag);
                store.save(image);
                std::printf("Untagged: %s\n", tag.c_str());
                continue;
            }
            const Users users = users_of(flags.state_dir, image);
            if (!users.containers.empty() && !force) {
                std::string list;
                for (const auto& c : users.containers) {
                    list += (list.empty() ? "" : ", ") + c;
                }
                throw nsrun::Error{fmt::format("image {} is used by container {}", ref, list),
                                   fmt::format("remove the container first (nsrun rm -f NAME), or force it: nsrun image "
                                               "rm -f {} (the layers stay until no container stacks them)",
                                               ref)};
            }
            store.remove(image, users.layers);
            for (const auto& t : image.tags) {
                std::printf("Untagged: %s\n", t.c_str());
            }
            std::printf("Deleted: %s\n", image.id.c_str());
        } catch (const nsrun::Error& e) {
            nsrun::cli_print_error(e);
            status = e.exit_status();
        }
    }
    return status;
}

// --- --image for nsrun run ---------------------------------------------------

/// A file of a layer, opened beneath its root without following symlinks.
std::string read_in_layer(const std::string& layer, const char* path, bool& whiteout) {
    const nsrun::UniqueFd root{::open(layer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!root) {
        return {};
    }
    struct stat st {};
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    const nsrun::UniqueFd fd{static_cast<int>(::syscall(SYS_openat2, root.get(), path, &how, sizeof how))};
    if (!fd) {
        whiteout = ::fstatat(root.get(), path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode);
        return {};
    }
    if (::fstat(fd.get(), &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
        return {};
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    const ssize_t n = ::read(fd.get(), text.data(), text.size());
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    whiteout = true; // found: lower layers do not count
    return text;
}

/// NAME's line in the image's /etc/passwd or /etc/group (field 3: the id,
/// field 4: passwd's gid), looked up from the top layer down.
std::optional<std::vector<std::string>> lookup(const std::vector<std::string>& layers, const char* file,
                                               const std::string& name) {
    for (const auto& layer : layers) {
        bool stop = false;
        const std::string text = read_in_layer(layer, file, stop);
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            std::vector<std::string> fields;
            std::istringstream parts(line);
            for (std::string field; std::getline(parts, field, ':');) {
                fields.push_back(field);
            }
            if (fields.size() >= 4 && fields[0] == name) {
                return fields;
            }
        }
        if (stop) {
            break;
        }
    }
    return std::nullopt;
}

bool numeric(const std::string& text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

/// The image's User ("nginx", "1000", "nginx:www", "1000:1000") as UID:GID.
std::string image_user(const std::vector<std::string>& layers, const std::string& user) {
    if (user.empty()) {
        return {};
    }
    const auto colon = user.find(':');
    const std::string name = user.substr(0, colon);
    const std::string group = colon == std::string::npos ? "" : user.substr(colon + 1);
    std::string uid = name;
    std::string gid = group;
    if (!numeric(name)) {
        const auto entry = lookup(layers, "etc/passwd", name);
        if (!entry) {
            throw nsrun::Error{fmt::format("the image's User {} is not in its /etc/passwd", name),
                               "give -u UID[:GID]"};
        }
        uid = (*entry)[2];
        if (group.empty()) {
            gid = (*entry)[3];
        }
    }
    if (!group.empty() && !numeric(group)) {
        const auto entry = lookup(layers, "etc/group", group);
        if (!entry) {
            throw nsrun::Error{fmt::format("the image's group {} is not in its /etc/group", group), "give -u UID:GID"};
        }
        gid = (*entry)[2];
    }
    return gid.empty() ? uid : uid + ":" + gid;
}

} // namespace

void resolve_image(RunFlags& flags) {
    const ImageStore store(flags.image_root);
    const Image image = store.resolve(flags.image);
    flags.image_id = image.id;
    flags.image_layers.clear();
    for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
        flags.image_layers.push_back(store.layer_fs(*it)); // top first, as overlayfs wants
    }
    ImageProcess process = image.process();
    process.user = image_user(flags.image_layers, process.user);
    flags.image_process = process;
}

int cli_image(int argc, char** argv) {
    CLI::App app{"Manage images: archives brought to this machine (no registry), stored once per layer and\n"
                 "run with `nsrun run --image NAME`.  Formats: docker save, OCI image layouts (as a tar,\n"
                 "e.g. skopeo's oci-archive), and plain root filesystem tarballs (docker export, a\n"
                 "minirootfs) with --name; layers plain, gzip or zstd.  Every blob's sha256 is checked\n"
                 "before anything is stored, and no entry can be written outside its layer.",
                 "nsrun image"};
    app.require_subcommand(1);
    ImageFlags flags;
    std::string file;
    std::string name;
    bool quiet = false;
    bool force = false;
    std::vector<std::string> refs;
    std::function<int()> action;

    auto* import = app.add_subcommand("import", "Import the images of an archive (docker save, OCI, or a rootfs tarball)");
    add_image_root(*import, flags);
    import->add_option("FILE", file, "the archive")->required();
    import->add_option("--name", name, "tag the image NAME[:TAG]; needed for a plain rootfs tarball")->type_name("NAME[:TAG]");
    import->callback([&] { action = [&] { return do_import(flags, file, name); }; });

    auto* ls = app.add_subcommand("ls", "List images: NAME TAG ID SIZE CREATED");
    ls->alias("list");
    add_image_root(*ls, flags);
    ls->add_flag("-q,--quiet", quiet, "only the ids");
    ls->callback([&] { action = [&] { return do_ls(flags, quiet); }; });

    auto* inspect = app.add_subcommand("inspect", "Show images as JSON: id, tags, config, layers");
    add_image_root(*inspect, flags);
    inspect->add_option("IMAGE", refs, "NAME[:TAG] or ID")->required();
    inspect->callback([&] { action = [&] { return do_inspect(flags, refs); }; });

    auto* rm = app.add_subcommand("rm", "Remove images (refused while a container uses one, unless -f)");
    add_image_root(*rm, flags);
    rm->add_option("--state-dir", flags.state_dir, "where the containers that may use it are recorded")
        ->type_name("DIR")
        ->capture_default_str();
    rm->add_flag("-f,--force", force, "remove it even if containers use it (their layers stay until they go)");
    rm->add_option("IMAGE", refs, "NAME[:TAG] or ID")->required();
    rm->callback([&] { action = [&] { return do_rm(flags, refs, force); }; });

    app.footer("Images live in --image-root (default /var/lib/nsrun as root, ~/.local/share/nsrun otherwise).\n"
               "Run one with: nsrun run --image NAME[:TAG] [--] [COMMAND...]");
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(flags.explain);
        return action ? action() : 125;
    });
}
