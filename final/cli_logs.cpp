// nsrun logs [-f] [--timestamps] CONTAINER: what a detached container printed.
#include "cli.hpp"

#include "monitor.hpp"
#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <fmt/format.h>

namespace {

/// One log record "<time> <stream> <F|P> <text>" → the text as printed.
void print_record(const std::string& line, bool timestamps) {
    const auto a = line.find(' ');
    const auto b = line.find(' ', a + 1);
    const auto c = line.find(' ', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos) {
        return;
    }
    const std::string stream = line.substr(a + 1, b - a - 1);
    const bool full = line.substr(b + 1, c - b - 1) == "F";
    std::string text = timestamps ? line.substr(0, a) + " " : "";
    text += line.substr(c + 1);
    if (full) {
        text += "\n";
    }
    std::FILE* out = stream == "stderr" ? stderr : stdout;
    std::fputs(text.c_str(), out);
    std::fflush(out);
}

} // namespace

int cli_logs(int argc, char** argv) {
    CLI::App app{"Fetch the logs of a container (what a detached one printed)", "nsrun logs"};
    CommonFlags common;
    bool follow = false;
    bool timestamps = false;
    std::string name;
    add_common_options(app, common);
    app.add_flag("-f,--follow", follow, "follow the log output until the container ends");
    app.add_flag("-t,--timestamps", timestamps, "show the time of each line (RFC 3339)");
    app.add_option("CONTAINER", name, "name or id")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Store store(common.state_dir);
        const Record record = find_container(store, name);
        const std::string path = log_path(common.state_dir, record.id);
        std::ifstream log(path);
        if (!log && !record.spec.nsrun.detach) {
            throw nsrun::Error{fmt::format("{} ran in the foreground: its output went to the terminal, not a log",
                                           display_name(record)),
                               "run it with -d to keep its output for nsrun logs"};
        }
        using namespace std::chrono_literals;
        std::string line;
        for (;;) {
            while (std::getline(log, line)) {
                if (log.eof()) { // a record still being written: wait for its end
                    log.clear();
                    log.seekg(-static_cast<std::streamoff>(line.size()), std::ios::cur);
                    break;
                }
                print_record(line, timestamps);
            }
            if (!follow) {
                return 0;
            }
            log.clear();
            const Loaded now = store.load(record.id);
            // Ended, and its monitor (which writes the log's last lines) is gone too.
            if (!now.record || ((now.record->status == Status::exited || now.record->is_dead()) &&
                                !nsrun::is_alive(now.record->owner))) {
                while (std::getline(log, line)) {
                    print_record(line, timestamps);
                }
                return 0;
            }
            if (!log.is_open()) {
                log.open(path);
            }
            std::this_thread::sleep_for(50ms);
        }
    });
}
