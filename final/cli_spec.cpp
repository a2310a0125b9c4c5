// nsrun spec [--rootless] [--bundle DIR]: a starting config.json, as `runc
// spec` writes one; nsrun features: what config.json may ask of nsrun.
#include "cli.hpp"

#include "oci_config.hpp"

#include <nsrun/error.hpp>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

int cli_spec(int argc, char** argv) {
    CLI::App app{"Write a starting config.json for an OCI bundle: sh in a terminal, ./rootfs read-only,\n"
                 "docker's default capabilities, the usual mounts and namespaces",
                 "nsrun spec"};
    bool rootless = false;
    std::string bundle = ".";
    app.add_flag("--rootless", rootless,
                 "for a container made by a user who is not root: a user namespace mapping root to you");
    app.add_option("-b,--bundle", bundle, "the bundle directory to write config.json into")->type_name("DIR");
    return run_subcommand(app, argc, argv, [&] {
        const std::string path = (std::filesystem::path(bundle) / "config.json").string();
        // O_EXCL: a config.json someone edited is never overwritten.
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            const int err = errno;
            throw nsrun::Error{fmt::format("cannot create {}: {}", path, nsrun::errno_text(err)),
                               err == EEXIST ? "remove it first, or give another --bundle" : "give a writable --bundle DIR"};
        }
        const std::string text = default_oci_config(rootless).dump(4) + "\n";
        const ssize_t written = ::write(fd, text.data(), text.size());
        const int err = errno;
        ::close(fd);
        if (written != static_cast<ssize_t>(text.size())) {
            throw nsrun::Error{fmt::format("write {}: {}", path, nsrun::errno_text(written < 0 ? err : ENOSPC))};
        }
        return 0;
    });
}

int cli_features(int argc, char** argv) {
    CLI::App app{"Print what nsrun supports of the OCI runtime spec, as JSON (hooks, mount options,\n"
                 "namespaces, capabilities, cgroup versions, seccomp actions and architectures)",
                 "nsrun features"};
    return run_subcommand(app, argc, argv, [&] {
        std::puts(oci_features().dump(4).c_str());
        return 0;
    });
}
