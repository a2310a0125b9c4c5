// TEMPORARY: what `nsrun create` compiles a bundle with until the engine
// honours a whole parsed config.json (oci_config.hpp's spec_from_bundle: its
// mounts list with proc/sysfs/devpts…, rlimits, hooks, sysctls, …).  Reads
// only what the lifecycle tests need and lets compile_run fill docker's
// defaults.
#include "cli.hpp"

#include <nsrun/error.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

ContainerSpec engine_spec_from_bundle(const std::filesystem::path& bundle) {
    std::ifstream in(bundle / "config.json");
    if (!in) {
        throw nsrun::Error{fmt::format("{}/config.json: cannot open", bundle.string())};
    }
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw nsrun::Error{fmt::format("{}/config.json: {}", bundle.string(), e.what())};
    }
    RunFlags flags;
    const std::filesystem::path root = j.at("root").at("path").get<std::string>();
    flags.rootfs = root.is_absolute() ? root.string() : (bundle / root).string();
    flags.command = j.at("process").at("args").get<std::vector<std::string>>();
    flags.tty = j.at("process").value("terminal", false);
    flags.network = "none";
    flags.hostname = j.value("hostname", "container");
    ContainerSpec spec = compile_run(flags);
    spec.process.env = j.at("process").value("env", std::vector<std::string>{});
    spec.process.cwd = j.at("process").value("cwd", "/");
    if (!j.contains("linux") || !j.at("linux").contains("seccomp")) {
        spec.linux.seccomp.reset(); // config.json asks for none (runc spec's default)
    }
    return spec;
}
