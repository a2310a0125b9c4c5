// nsrun ps [-a] [-q]: the containers, as docker ps shows them.
#include "cli.hpp"

#include "oci.hpp"
#include "state.hpp"

#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include <nsrun/explain.hpp>

#include <cstdio>

#include <fmt/format.h>

namespace {

std::string command_of(const Record& r) {
    std::string text;
    for (const auto& arg : r.spec.process.args) {
        text += (text.empty() ? "" : " ") + arg;
    }
    return text.size() > 20 ? "\"" + text.substr(0, 19) + "…\"" : "\"" + text + "\"";
}

std::string ports_of(const Record& r) {
    std::string text;
    for (const auto& p : r.spec.nsrun.publish) {
        text += (text.empty() ? "" : ", ") + p.str();
    }
    return text;
}

/// `ps ID` (runc's): the processes in the container's cgroup.
int processes_of(const Store& store, const std::string& id, const std::string& format) {
    const Record record = load_container(store, id);
    const std::vector<pid_t> pids = container_pids(record);
    if (format == "json") {
        std::puts(nlohmann::json(pids).dump().c_str());
        return 0;
    }
    std::printf("%-8s %s\n", "PID", "CMD");
    for (const pid_t pid : pids) {
        std::string cmd;
        try {
            cmd = nsrun::sys::read_file(fmt::format("/proc/{}/cmdline", pid));
        } catch (const std::exception&) {
            continue; // ended meanwhile
        }
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        std::printf("%-8d %s\n", pid, cmd.c_str());
    }
    return 0;
}

} // namespace

int cli_ps(int argc, char** argv) {
    CLI::App app{"List containers (running ones; -a: all) — or, given an ID, the processes in that container",
                 "nsrun ps"};
    CommonFlags common;
    bool all = false;
    bool quiet = false;
    std::string id;
    std::string format = "table";
    add_common_options(app, common);
    app.add_flag("-a,--all", all, "show all containers (default: only running ones)");
    app.add_flag("-q,--quiet", quiet, "only display container ids");
    app.add_option("-f,--format", format, "with ID: table or json (a list of pids)")
        ->check(CLI::IsMember({"table", "json"}));
    app.add_option("ID", id, "a container: list its processes (as runc ps does)");
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        if (!id.empty()) {
            return processes_of(store, id, format);
        }
        if (!quiet) {
            std::printf("%-14s %-16s %-28s %-22s %-24s %s\n", "CONTAINER ID", "NAME", "STATUS", "CREATED", "COMMAND",
                        "PORTS");
        }
        const auto show_unreadable = [&](const std::string& unreadable) {
            if (all && !quiet) {
                std::printf("%-14s %-16s %-28s %-22s %-24s %s\n", unreadable.c_str(), "", "Unreadable", "", "",
                            "(nsrun rm -f to reclaim)");
            } else if (all) {
                std::printf("%s\n", unreadable.c_str());
            }
        };
        // A container whose first record is being written has no state yet:
        // its maker holds its lock until then (the record comes after clone).
        const auto being_created = [](const Loaded& c) {
            try {
                return !nsrun::fs::exists(c.dir + "/state.json") &&
                       !nsrun::fs::FileLock::try_acquire(c.dir + "/lock").has_value();
            } catch (const nsrun::SysError&) {
                return false; // removed meanwhile
            }
        };
        for (const auto& c : store.list_heads()) { // the spec read only for the rows shown
            if (!c.record && being_created(c)) {
                if (all && quiet) {
                    std::printf("%s\n", c.id.c_str());
                } else if (all) {
                    std::printf("%-14s %-16s %s\n", c.id.c_str(), "", "Creating");
                }
                continue;
            }
            if (!c.record) {
                show_unreadable(c.id);
                continue;
            }
            const Record& r = *c.record;
            if (!all && r.state() != "running") {
                continue;
            }
            if (quiet) {
                std::printf("%s\n", r.id.c_str());
                continue;
            }
            // COMMAND and PORTS are the spec's: read, of it, only those.
            auto listed = store.load_listing(r.id);
            if (!listed) {
                listed = store.load(r.id).record; // another layout
            }
            if (!listed) { // garbled past its head
                show_unreadable(r.id);
                continue;
            }
            const Record& shown = *listed;
            std::printf("%-14s %-16s %-28s %-22s %-24s %s\n", shown.id.c_str(), shown.name.c_str(),
                        status_text(shown).c_str(), shown.created.substr(0, 19).c_str(), command_of(shown).c_str(),
                        ports_of(shown).c_str());
        }
        return 0;
    });
}
