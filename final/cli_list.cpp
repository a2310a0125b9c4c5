// nsrun list [--format table|json] [-q]: the containers, as runc list shows them.
#include "cli.hpp"

#include "oci.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

int cli_list(int argc, char** argv) {
    CLI::App app{"List containers with their OCI status, init pid and bundle (nsrun ps shows docker's view)",
                 "nsrun list"};
    CommonFlags common;
    std::string format = "table";
    bool quiet = false;
    add_common_options(app, common);
    app.add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
    app.add_flag("-q,--quiet", quiet, "only the ids");
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        nlohmann::json all = nlohmann::json::array();
        if (format == "table" && !quiet) {
            std::printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
        }
        for (const auto& c : store.list()) {
            if (!c.record) {
                continue;
            }
            const nlohmann::json state = oci_state(*c.record);
            if (quiet) {
                std::printf("%s\n", c.id.c_str());
            } else if (format == "json") {
                nlohmann::json entry = state;
                entry["pid"] = state.value("pid", 0);
                entry["created"] = c.record->created;
                all.push_back(entry);
            } else {
                std::printf("%-20s %-8d %-10s %-40s %s\n", c.id.c_str(), state.value("pid", 0),
                            state.at("status").get<std::string>().c_str(), c.record->bundle.c_str(),
                            c.record->created.c_str());
            }
        }
        if (format == "json" && !quiet) {
            std::puts(all.dump().c_str());
        }
        return 0;
    });
}
