// nsrun: the complete runtime.  `nsrun SUBCOMMAND [OPTIONS] …`; each
// subcommand is its own CLI11 app in its own file (cli_*.cpp).
#include "cli.hpp"
#include "exec_step.hpp"
#include "sealed_exe.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string_view>
#include <unistd.h>

namespace {

struct Subcommand {
    const char* name;
    const char* summary;
    int (*main)(int, char**);
};

constexpr Subcommand subcommands[] = {
    {"run", "Create and run a new container", cli_run},
    {"ps", "List containers", cli_ps},
    {"logs", "Fetch the logs of a container", cli_logs},
    {"exec", "Run a command in a running container", cli_exec},
    {"stop", "Stop a running container (SIGTERM, then SIGKILL)", cli_stop},
    {"kill", "Send a signal to a running container", cli_kill},
    {"wait", "Block until a container stops, then print its exit code", cli_wait},
    {"inspect", "Display detailed information on a container (JSON)", cli_inspect},
    {"rm", "Remove one or more containers", cli_rm},
    {"gc", "Reclaim what crashed runtimes or monitors left behind", cli_gc},
    {"export", "Export a container's filesystem as a tar archive", cli_export},
    {"image", "Manage images: import, ls, inspect, rm", cli_image},
    // The OCI runtime interface: runc's commands, as podman and containerd call them.
    {"create", "OCI: create a container from a bundle; its init waits for start", cli_create},
    {"start", "OCI: start a created container (its init execs process.args)", cli_start},
    {"state", "OCI: print a container's state as JSON", cli_state},
    {"delete", "OCI: delete a stopped container and all it had (--force: any)", cli_delete},
    {"list", "OCI: list containers with their status and bundle", cli_list},
    {"pause", "OCI: freeze every process of a container", cli_pause},
    {"resume", "OCI: thaw a paused container", cli_resume},
    {"update", "OCI: change a running container's limits", cli_update},
    {"spec", "Write a starting config.json for an OCI bundle (--rootless)", cli_spec},
    {"features", "Print what nsrun supports of the OCI runtime spec (JSON)", cli_features},
};

void usage(std::FILE* out) {
    std::fputs("Usage: nsrun COMMAND [OPTIONS] [ARGS...]\n\n"
               "A container runtime built from first principles: namespaces, cgroups,\n"
               "a root filesystem, a network — and a docker-style lifecycle.\n\nCommands:\n",
               out);
    for (const auto& s : subcommands) {
        std::fprintf(out, "  %-9s %s\n", s.name, s.summary);
    }
    std::fputs("\nGlobal options (before COMMAND, as runc has them):\n"
               "  --root DIR          the state directory (default /run/nsrun for root)\n"
               "  --log FILE          append errors (and --debug notes) to FILE too\n"
               "  --log-format FMT    text (default) or json: {\"level\",\"msg\",\"time\"} per line\n"
               "  --debug             debug notes in the log\n"
               "  --systemd-cgroup    refused: nsrun drives cgroupfs itself\n",
               out);
    std::fputs("\nRun 'nsrun COMMAND --help' for more information on a command.\n"
               "Exit status: 125 when nsrun fails, 126 when COMMAND cannot be executed,\n"
               "127 when it is not found, else COMMAND's own (128+N: killed by signal N).\n",
               out);
}

} // namespace

namespace {

/// End the process with a subcommand's status: its streams flushed, then
/// _exit, without the destructors of static objects and the atexit handlers
/// a return from main runs.  They only hand memory back, which the exit
/// does at once; and after a `run` every page they write to was shared with
/// the container's process at clone, so each is a copy-on-write fault
/// (process_end.hpp).  Nothing nsrun makes is released by one of them.
[[noreturn]] void exit_with(int status) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(status);
}

} // namespace

int main(int argc, char** argv) {
    char** const whole_argv = argv; // with the global flags: what a re-exec must repeat
    try {
        const int globals = parse_global_flags(argc, argv);
        argv += globals;
        argc -= globals;
    } catch (const nsrun::Error& e) {
        nsrun::cli::print_error(e.what(), e.hint());
        log_line("error", e.what());
        return nsrun::exit_code::runtime_error;
    }
    if (argc < 2) {
        usage(stderr);
        return 125;
    }
    const std::string_view first = argv[1];
    if (first == "--help" || first == "-h" || first == "help") {
        usage(stdout);
        return 0;
    }
    if (first == "--version" || first == "-v" || first == "version") {
        std::puts("nsrun version " NSRUN_VERSION "\nspec: 1.0.2");
        return 0;
    }
    if ((first == "run" || first == "exec" || first == "create") && ::geteuid() == 0) {
        // Before anything enters a container: run from a sealed copy (CVE-2019-5736)
        // when nsrun's code stays reachable inside — `exec` (it joins processes),
        // `run --init` (PID 1 is nsrun), and a `create` whose init runs hooks or
        // joins a PID namespace (create_container decides).  Otherwise COMMAND is
        // exec'd through a sealed stub (exec_step.hpp): no 3 MB copy, no second exec.
        bool narrate = false;
        bool init = false;
        for (int i = 2; i < argc && std::string_view(argv[i]) != "--"; ++i) {
            const std::string_view arg = argv[i];
            narrate = narrate || arg == "--explain";
            init = init || arg == "--init" || arg.starts_with("--init=");
        }
        if (first == "exec" || init || (first == "run" && !ExecStep::available())) {
            run_from_sealed_copy(whole_argv, narrate);
        } else if (first == "create") {
            remember_command_line(whole_argv, narrate); // create_container decides, once config.json is read
        }
    }
    for (const auto& s : subcommands) {
        if (first == s.name) {
            exit_with(s.main(argc - 1, argv + 1));
        }
    }
    std::fprintf(stderr, "nsrun: error: unknown command '%s'\nnsrun: hint: see nsrun --help\n", argv[1]);
    log_line("error", std::string("unknown command ") + argv[1]);
    return 125;
}
