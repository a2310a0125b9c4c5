// nsrun stop / kill / wait: signals to a running container, and its end.
#include "cli.hpp"

#include "oci.hpp"

#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/flags.hpp>
#include <nsrun/sys.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace {

/// The running container's PID 1, or a clear error.
ProcessId running_init(const Record& r, const char* verb) {
    if (r.state() != "running" || !nsrun::is_alive(r.init)) {
        throw nsrun::Error{fmt::format("cannot {} container {}: it is not running ({})", verb, display_name(r), r.state()),
                           "see the running containers with: nsrun ps"};
    }
    return r.init;
}

} // namespace

int cli_stop(int argc, char** argv) {
    CLI::App app{"Stop running containers: SIGTERM, then SIGKILL after the timeout", "nsrun stop"};
    CommonFlags common;
    std::optional<unsigned> timeout;
    std::vector<std::string> names;
    add_common_options(app, common);
    app.add_option("-t,--time", timeout, "seconds to wait before killing (default: the container's --stop-timeout)")
        ->type_name("SECONDS");
    app.add_option("CONTAINER", names, "names or ids")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        int status = 0;
        for (const auto& name : names) {
            try {
                const Record r = find_container(store, name);
                if (r.state() == "running" && nsrun::is_alive(r.init)) {
                    const unsigned seconds = timeout.value_or(r.spec.nsrun.stop_timeout);
                    nsrun::sys::kill(r.init.pid, SIGTERM);
                    const auto after = wait_until_ended(store, r.id, static_cast<int>(seconds) * 1000);
                    if (after && after->status != Status::exited && nsrun::is_alive(r.init)) {
                        nsrun::explain::note("still running after {} s: SIGKILL", seconds);
                        ::kill(r.init.pid, SIGKILL);
                        wait_until_ended(store, r.id, 10000);
                    }
                }
                std::printf("%s\n", name.c_str());
            } catch (const nsrun::Error& e) {
                nsrun::cli_print_error(e);
                status = e.exit_status();
            }
        }
        return status;
    });
}

namespace {

/// `kill [--all] ID [SIGNAL]` on an OCI container: created, running or
/// paused (a frozen process gets the signal when thawed; SIGKILL kills it).
void kill_oci(const Record& r, int sig, bool all) {
    const std::string status = oci_status(r);
    if (status == "stopped" || status == "creating") {
        throw nsrun::Error{fmt::format("cannot kill container {}: it is {}", r.id, status),
                           fmt::format("delete it with: nsrun delete {}", r.id)};
    }
    if (!all) {
        nsrun::sys::kill(r.init.pid, sig);
        return;
    }
    for (const pid_t pid : container_pids(r)) {
        ::kill(pid, sig); // one may have ended meanwhile
    }
}

} // namespace

int cli_kill(int argc, char** argv) {
    CLI::App app{"Send a signal to containers: docker's kill [-s SIG] NAME..., or the OCI kill [--all] ID [SIGNAL]",
                 "nsrun kill"};
    CommonFlags common;
    std::string signal = "KILL";
    bool all = false;
    std::vector<std::string> names;
    add_common_options(app, common);
    app.add_option("-s,--signal", signal, "the signal: a name (TERM, SIGTERM) or a number")->capture_default_str();
    app.add_flag("-a,--all", all, "OCI: send the signal to every process in the container's cgroup");
    app.add_option("CONTAINER", names, "names or ids; an OCI container's id may be followed by a SIGNAL (default TERM)")
        ->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        // runc's form: kill ID [SIGNAL], the signal defaulting to SIGTERM.
        const bool oci_form = names.size() == 2 && app.count("--signal") == 0 && [&] {
            try {
                (void)parse_signal(names[1]);
                return !container_exists(store, names[1]);
            } catch (const nsrun::Error&) {
                return false;
            }
        }();
        if (oci_form && !container_exists(store, names.front())) {
            (void)load_container(store, names.front()); // "container ID does not exist"
        }
        if (names.size() <= 2 && container_exists(store, names.front())) {
            const Record r = load_container(store, names.front());
            if (r.oci) {
                const bool given = app.count("--signal") > 0;
                const std::string text = names.size() == 2 ? names[1] : (given ? signal : "TERM");
                kill_oci(r, parse_signal(text), all);
                return 0;
            }
        }
        const int sig = parse_signal(signal);
        int status = 0;
        for (const auto& name : names) {
            try {
                const Record r = find_container(store, name);
                if (r.oci) {
                    kill_oci(r, sig, all);
                    continue;
                }
                nsrun::sys::kill(running_init(r, "kill").pid, sig);
                std::printf("%s\n", name.c_str());
            } catch (const nsrun::Error& e) {
                nsrun::cli_print_error(e);
                status = e.exit_status();
            }
        }
        return status;
    });
}

int cli_wait(int argc, char** argv) {
    CLI::App app{"Block until containers stop, then print their exit codes", "nsrun wait"};
    CommonFlags common;
    std::vector<std::string> names;
    add_common_options(app, common);
    app.add_option("CONTAINER", names, "names or ids")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        for (const auto& name : names) {
            const Record r = find_container(store, name);
            const auto end = wait_until_ended(store, r.id, 1 << 30);
            if (!end) {
                throw nsrun::Error{fmt::format("container {} was removed before its exit code was read", name)};
            }
            if (end->is_dead()) {
                throw nsrun::Error{fmt::format("container {} died with its supervisor: no exit code was recorded", name),
                                   fmt::format("reclaim it with: nsrun rm {}", name)};
            }
            std::printf("%d\n", end->exit_code.value_or(-1));
        }
        return 0;
    });
}
