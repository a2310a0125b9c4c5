// nsrun update [--resources FILE] [limit flags] ID: new limits on a live container (runc update).
#include "cli.hpp"

#include "cgroups.hpp"
#include "oci.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

/// The part of an OCI linux.resources object that nsrun sets: memory.limit,
/// cpu.quota/period and cpu.shares, pids.limit.  Anything else is refused.
Resources resources_from_file(const std::string& path) {
    nlohmann::json j;
    try {
        if (path == "-") {
            j = nlohmann::json::parse(std::cin);
        } else {
            std::ifstream in(path);
            if (!in) {
                throw nsrun::Error{fmt::format("--resources {}: cannot open", path)};
            }
            j = nlohmann::json::parse(in);
        }
    } catch (const nlohmann::json::exception& e) {
        throw nsrun::Error{fmt::format("--resources {}: {}", path, e.what()), "give an OCI linux.resources object"};
    }
    Resources r;
    for (const auto& [key, value] : j.items()) {
        if (key == "memory") {
            if (value.contains("limit") && value.at("limit").get<long long>() > 0) {
                r.memory = value.at("limit").get<unsigned long long>();
            }
        } else if (key == "cpu") {
            const auto quota = value.value("quota", 0LL);
            const auto period = value.value("period", 0ULL);
            if (quota > 0) {
                r.cpus = static_cast<double>(quota) / static_cast<double>(period ? period : cpu_period_us);
            }
            if (value.value("shares", 0ULL) > 0) {
                r.cpu_weight = static_cast<unsigned>(value.at("shares").get<unsigned long long>() * 100 / 1024);
            }
        } else if (key == "pids") {
            if (value.value("limit", 0LL) > 0) {
                r.pids_limit = static_cast<unsigned>(value.at("limit").get<long long>());
            }
        } else if (!value.is_null() && !value.empty()) {
            // podman sends every field it has: say what is left as it was, never silently.
            nsrun::cli::print_warning(fmt::format("update: linux.resources.{} is not supported by nsrun and stays "
                                                  "as it was (nsrun updates memory, cpu and pids)",
                                                  key));
        }
    }
    return r;
}

} // namespace

int cli_update(int argc, char** argv) {
    CLI::App app{"Change the limits of a running container on its live cgroup", "nsrun update"};
    OneContainerCommand command(app);
    std::string file;
    std::optional<unsigned long long> memory;
    std::optional<unsigned> pids_limit;
    std::optional<long long> cpu_quota;
    std::optional<unsigned long long> cpu_period;
    app.add_option("-r,--resources", file, "an OCI linux.resources JSON file (- for stdin)")->type_name("FILE");
    app.add_option("-m,--memory", memory, "memory limit in bytes")->type_name("BYTES");
    app.add_option("--pids-limit", pids_limit, "maximum number of processes");
    app.add_option("--cpu-quota", cpu_quota, "CPU time in µs per period");
    app.add_option("--cpu-period", cpu_period, "the CPU period in µs (default 100000)");
    return command.run(argc, argv, [&](const Store& store, const std::string& id) {
        Resources r = file.empty() ? Resources{} : resources_from_file(file);
        if (memory) r.memory = memory;
        if (pids_limit) r.pids_limit = pids_limit;
        if (cpu_quota && *cpu_quota > 0) {
            r.cpus = static_cast<double>(*cpu_quota) / static_cast<double>(cpu_period.value_or(cpu_period_us));
        }
        const Record record = load_container(store, id);
        const std::string status = oci_status(record);
        if (status == "stopped") {
            throw nsrun::Error{fmt::format("cannot update container {}: it is stopped", id)};
        }
        update_resources(record, r);
        return 0;
    });
}
