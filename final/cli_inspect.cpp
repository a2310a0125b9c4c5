// nsrun inspect CONTAINER…: the record as JSON — spec, state, pids, exit
// status, OOM flag, addresses, ports, mounts.
#include "cli.hpp"

#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>

int cli_inspect(int argc, char** argv) {
    CLI::App app{"Display detailed information on containers (a JSON array)", "nsrun inspect"};
    CommonFlags common;
    std::vector<std::string> names;
    add_common_options(app, common);
    app.add_option("CONTAINER", names, "names or ids")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        nlohmann::json all = nlohmann::json::array();
        int status = 0;
        for (const auto& name : names) {
            try {
                const Record r = find_container(store, name);
                nlohmann::json j = r;
                const bool running = r.state() == "running";
                j["State"] = {
                    {"Status", r.state()},
                    {"Running", running},
                    {"Dead", r.is_dead()},
                    {"Pid", running ? r.init.pid : 0},
                    {"ExitCode", r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr)},
                    {"OOMKilled", r.oom_killed},
                    {"StartedAt", r.started},
                    {"FinishedAt", r.finished},
                    {"Error", r.error},
                };
                j["Name"] = r.name;
                j["Id"] = r.id;
                j["NetworkSettings"] = {{"IPAddress", r.resources.address}, {"Bridge", r.spec.nsrun.bridge}};
                all.push_back(j);
            } catch (const nsrun::Error& e) {
                nsrun::cli_print_error(e);
                status = e.exit_status();
            }
        }
        std::printf("%s\n", all.dump(4).c_str());
        return status;
    });
}
