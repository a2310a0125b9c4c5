// nsrun rm [-f] CONTAINER… and nsrun gc: everything of a container gone —
// by the same teardown, from the record, as after a normal end.
#include "cli.hpp"

#include "engine.hpp"
#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cerrno>
#include <csignal>
#include <optional>
#include <cstdio>

#include <fmt/format.h>

namespace {

void remove_container(const Store& store, const std::string& name, bool force) {
    const std::string id = store.resolve(name);
    Loaded loaded = store.load(id);
    if (loaded.record && loaded.record->state() == "running") {
        if (!force) {
            throw nsrun::Error{fmt::format("cannot remove container {}: it is running", name),
                               fmt::format("stop it first (nsrun stop {}), or force it with nsrun rm -f {}", name, name)};
        }
        if (nsrun::is_alive(loaded.record->init)) {
            ::kill(loaded.record->init.pid, SIGKILL);
        }
        // Its supervisor records the end and tears down; give it a moment.
        wait_until_ended(store, id, 10000);
    }
    std::optional<nsrun::fs::FileLock> lock;
    try {
        lock.emplace(store.lock(id));
    } catch (const nsrun::SysError& e) {
        if (e.error_number() == ENOENT) { // removed meanwhile (two rm at once)
            throw nsrun::Error{fmt::format("no such container: {}", name)};
        }
        throw;
    }
    loaded = store.load(id);
    if (!nsrun::fs::is_directory(loaded.dir) || (!loaded.record && !nsrun::fs::exists(loaded.dir + "/state.json") &&
                                                 !nsrun::fs::exists(loaded.dir + "/lock"))) {
        throw nsrun::Error{fmt::format("no such container: {}", name)};
    }
    if (!loaded.record && !force) {
        throw nsrun::Error{fmt::format("container {}: {}", id, loaded.problem),
                           fmt::format("remove what is left of it with: nsrun rm -f {}", id)};
    }
    if (loaded.record) {
        if (loaded.record->state() == "running" && nsrun::is_alive(loaded.record->owner)) {
            throw nsrun::Error{fmt::format("container {} did not stop", name)};
        }
        teardown(*loaded.record);
    }
    store.remove(id);
}

} // namespace

int cli_rm(int argc, char** argv) {
    CLI::App app{"Remove containers: cgroups, veth, lease, nft entries, state", "nsrun rm"};
    CommonFlags common;
    bool force = false;
    std::vector<std::string> names;
    add_common_options(app, common);
    app.add_flag("-f,--force", force, "kill a running container first; remove an unreadable one");
    app.add_option("CONTAINER", names, "names or ids")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        int status = 0;
        for (const auto& name : names) {
            try {
                remove_container(store, name, force);
                std::printf("%s\n", name.c_str());
            } catch (const nsrun::Error& e) {
                nsrun::cli_print_error(e);
                status = e.exit_status();
            }
        }
        return status;
    });
}

int cli_gc(int argc, char** argv) {
    CLI::App app{"Reclaim what crashed runtimes or monitors left: cgroups, veths, leases,\n"
                 "nft entries and state of containers whose supervisor is gone",
                 "nsrun gc"};
    CommonFlags common;
    add_common_options(app, common);
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        for (const auto& id : collect_garbage(common.state_dir, true)) {
            std::printf("%s\n", id.c_str());
        }
        return 0;
    });
}
