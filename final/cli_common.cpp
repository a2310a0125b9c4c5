// What every subcommand shares: --state-dir, --explain, error mapping.
#include "cli.hpp"
#include "state.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <string_view>
#include <cstdlib>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

GlobalFlags& global_flags() {
    static GlobalFlags flags;
    return flags;
}

namespace {

/// RFC 3339 in UTC, to the second: the time field runc's json log has.
std::string log_time() {
    const std::string now = now_rfc3339(); // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
    return now.substr(0, now.find('.')) + "Z";
}

} // namespace

void log_line(const char* level, const std::string& message) {
    const GlobalFlags& flags = global_flags();
    if (flags.log.empty()) {
        return;
    }
    const std::string line = flags.log_json
                                 ? fmt::format("{{\"level\":\"{}\",\"msg\":{},\"time\":\"{}\"}}\n", level,
                                               nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), log_time())
                                 : fmt::format("{} {}: {}\n", log_time(), level, message);
    const int fd = ::open(flags.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        (void)::write(fd, line.data(), line.size()); // one write: whole lines even if others log too
        ::close(fd);
    }
}

int parse_global_flags(int argc, char** argv) {
    GlobalFlags& flags = global_flags();
    int i = 1;
    const auto value_of = [&](std::string_view arg, std::string_view name) -> std::optional<std::string> {
        if (arg == name) {
            if (i + 1 >= argc) {
                throw nsrun::Error{fmt::format("{} needs a value", name), "see nsrun --help"};
            }
            return std::string(argv[++i]);
        }
        if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') {
            return std::string(arg.substr(name.size() + 1));
        }
        return std::nullopt;
    };
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (!arg.starts_with("--") || arg == "--help" || arg == "--version") {
            break;
        }
        if (auto root = value_of(arg, "--root")) {
            flags.root = *root;
        } else if (auto log = value_of(arg, "--log")) {
            flags.log = *log;
        } else if (auto format = value_of(arg, "--log-format")) {
            if (*format != "json" && *format != "text") {
                throw nsrun::Error{fmt::format("--log-format {}: not text or json", *format)};
            }
            flags.log_json = *format == "json";
        } else if (arg == "--debug") {
            flags.debug = true;
        } else if (value_of(arg, "--rootless")) {
            // runc's --rootless true|false|auto: nsrun decides from the euid, as "auto" does.
        } else if (arg == "--systemd-cgroup") {
            throw nsrun::Error{"--systemd-cgroup: nsrun drives cgroupfs itself and has no systemd cgroup manager",
                               "configure the caller for cgroupfs (podman: --cgroup-manager=cgroupfs; containerd: "
                               "SystemdCgroup = false)"};
        } else {
            throw nsrun::Error{fmt::format("unknown global option {}", arg),
                               "global options are --root, --log, --log-format, --debug; see nsrun --help"};
        }
    }
    return i - 1;
}

std::string default_state_dir() {
    if (!global_flags().root.empty()) {
        return global_flags().root;
    }
    if (::geteuid() == 0) {
        return "/run/nsrun";
    }
    if (const char* runtime = ::getenv("XDG_RUNTIME_DIR"); runtime && *runtime == '/') {
        return fmt::format("{}/nsrun", runtime);
    }
    return fmt::format("/tmp/nsrun-{}", ::geteuid());
}

void add_common_options(CLI::App& app, CommonFlags& flags) {
    app.add_option("--state-dir", flags.state_dir, "where the runtime keeps containers' state")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_flag("--explain", flags.explain, "narrate every kernel-level action on stderr");
}

int run_subcommand(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        nsrun::cli::print_error(e.what(), fmt::format("see {} --help", app.get_name()));
        log_line("error", fmt::format("{}: {}", app.get_name(), e.what()));
        return nsrun::exit_code::runtime_error;
    }
    if (global_flags().debug) {
        log_line("debug", fmt::format("{}: started", app.get_name()));
    }
    try {
        return body();
    } catch (const nsrun::Error& e) {
        nsrun::cli::print_error(e.what(), e.hint());
        // Last in the log: podman and the containerd shim show only that line.
        log_line("error", e.hint().empty() ? std::string(e.what()) : fmt::format("{} (hint: {})", e.what(), e.hint()));
        return e.exit_status();
    } catch (const std::exception& e) {
        nsrun::cli::print_error(e.what());
        log_line("error", e.what());
        return nsrun::exit_code::runtime_error;
    }
}

OneContainerCommand::OneContainerCommand(CLI::App& app) : app_(app) { add_common_options(app_, common_); }

int OneContainerCommand::run(int argc, char** argv,
                             const std::function<int(const Store&, const std::string&)>& body) {
    app_.add_option("ID", id_, "the container's id")->required();
    return run_subcommand(app_, argc, argv, [&] {
        nsrun::explain::enable(common_.explain);
        return body(Store(common_.state_dir), id_);
    });
}

Record find_container(const Store& store, const std::string& name_or_id) {
    const std::string id = store.resolve(name_or_id);
    Loaded loaded = store.load(id);
    if (!loaded.record) {
        throw nsrun::Error{fmt::format("container {}: {}", id, loaded.problem),
                           fmt::format("its state is unreadable; reclaim it with: nsrun rm -f {} (or nsrun gc)", id)};
    }
    return *loaded.record;
}

std::string display_name(const Record& record) { return record.name.empty() ? record.id : record.name; }

namespace {

std::chrono::system_clock::time_point parse_time(const std::string& text) {
    std::tm tm{};
    if (text.size() < 19 || !::strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) {
        return std::chrono::system_clock::now();
    }
    return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string ago(const std::string& when) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - parse_time(when)).count();
    if (seconds < 1) return "Less than a second";
    if (seconds < 60) return fmt::format("{} second{}", seconds, seconds == 1 ? "" : "s");
    if (seconds < 3600) return fmt::format("{} minute{}", seconds / 60, seconds / 60 == 1 ? "" : "s");
    if (seconds < 86400) return fmt::format("{} hour{}", seconds / 3600, seconds / 3600 == 1 ? "" : "s");
    return fmt::format("{} days", seconds / 86400);
}

} // namespace

std::string status_text(const Record& record) {
    const std::string state = record.state();
    if (state == "dead") return "Dead";
    if (state == "creating") return "Created";
    if (state == "running") return "Up " + ago(record.started);
    return fmt::format("Exited ({}) {} ago", record.exit_code.value_or(-1), ago(record.finished));
}

std::optional<Record> wait_until_ended(const Store& store, const std::string& id, int timeout_ms) {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(timeout_ms);
    nsrun::UniqueFd owner;
    for (bool first = true;; first = false) {
        const Loaded loaded = store.load(id);
        if (!loaded.record) {
            return std::nullopt; // removed (--rm), or its record is unreadable
        }
        const Record& r = *loaded.record;
        const auto now = steady_clock::now();
        if (r.status == Status::exited || now >= deadline) {
            return r;
        }
        if (r.is_dead()) {
            // The record was read before its owner was found gone: the
            // supervisor may have recorded the end and exited in between (a
            // busy machine made `wait` report a dead container 3 times in
            // 160).  It records the end before it exits, so what a second
            // read says now is final.
            const Loaded again = store.load(id);
            if (!again.record) {
                return std::nullopt;
            }
            return *again.record;
        }
        if (first) {
            owner = nsrun::open_pidfd(r.owner); // its supervisor, if it still is the recorded one
        }
        // The supervisor exits right after recording the end: sleep until
        // it does (its pidfd turns readable) rather than on a timer.  The
        // record is read again every 20 ms all the same, in case it ends
        // some other way.
        const int wait_ms = static_cast<int>(std::min<long long>(20, duration_cast<milliseconds>(deadline - now).count() + 1));
        if (owner) {
            pollfd exited{owner.get(), POLLIN, 0};
            (void)::poll(&exited, 1, wait_ms);
        } else {
            std::this_thread::sleep_for(milliseconds(wait_ms));
        }
    }
}

void nsrun::cli_print_error(const nsrun::Error& error) {
    nsrun::cli::print_error(error.what(), error.hint());
    log_line("error", error.what());
}
