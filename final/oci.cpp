// The OCI lifecycle's commands on a record (see oci.hpp).
#include "oci.hpp"

#include "cgroups.hpp"
#include "engine.hpp"
#include "hooks.hpp"
#include "log_line.hpp"

#include <nsrun/cli.hpp>

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/flags.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using json = nlohmann::json;

std::string oci_status(const Record& record) {
    switch (record.status) {
    case Status::creating: return nsrun::is_alive(record.owner) ? "creating" : "stopped";
    case Status::created: return nsrun::is_alive(record.init) ? "created" : "stopped";
    case Status::running: return nsrun::is_alive(record.init) ? "running" : "stopped";
    case Status::paused: return nsrun::is_alive(record.init) ? "paused" : "stopped";
    case Status::exited: return "stopped";
    }
    return "stopped";
}

json oci_state(const Record& record) {
    const std::string status = oci_status(record);
    json state = {
        {"ociVersion", record.spec.oci_version},
        {"id", record.id},
        {"status", status},
        {"bundle", record.bundle},
        {"annotations", record.spec.annotations},
    };
    if (status != "stopped" && record.init.pid > 0) {
        state["pid"] = record.init.pid; // runtime.md: REQUIRED when created or running
    }
    return state;
}

bool container_exists(const Store& store, const std::string& id) {
    return is_store_id(id) && nsrun::fs::is_directory(store.dir_of(id));
}

namespace {

/// 125 "container ID does not exist" unless the store has it.
void require_container(const Store& store, const std::string& id) {
    if (!container_exists(store, id)) {
        throw nsrun::Error{fmt::format("container {} does not exist", id),
                           "see the containers with: nsrun list (and check --root)"};
    }
}

/// 125 for a container whose state.json cannot be read or parsed.
nsrun::Error unreadable_state(const std::string& id, const std::string& problem) {
    return nsrun::Error{fmt::format("container {}: {}", id, problem),
                        fmt::format("its state is unreadable; remove it with: nsrun delete --force {}", id)};
}

} // namespace

Record load_container(const Store& store, const std::string& id) {
    require_container(store, id);
    Loaded loaded = store.load(id);
    if (!loaded.record) {
        throw unreadable_state(id, loaded.problem);
    }
    return *loaded.record;
}

LifecycleRecord load_container_lifecycle(const Store& store, const std::string& id) {
    require_container(store, id);
    LoadedLifecycle loaded = store.load_lifecycle(id);
    if (!loaded.lifecycle) {
        throw unreadable_state(id, loaded.problem);
    }
    return std::move(*loaded.lifecycle);
}

std::vector<pid_t> container_pids(const Record& record) {
    std::vector<pid_t> pids;
    if (!record.resources.cgroups.empty()) {
        try {
            std::istringstream in(nsrun::sys::read_file(record.resources.cgroups.front() + "/cgroup.procs"));
            for (pid_t pid; in >> pid;) {
                pids.push_back(pid);
            }
            return pids;
        } catch (const std::exception&) {
            // the cgroup is gone: fall back to the init
        }
    }
    if (nsrun::is_alive(record.init)) {
        pids.push_back(record.init.pid);
    }
    return pids;
}

void start_container(const Store& store, const std::string& id) {
    require_container(store, id); // "container ID does not exist", before its lock is looked for
    const auto lock = store.lock(id);
    // Read once, the spec left as text: start changes only the lifecycle.
    LifecycleRecord loaded = load_container_lifecycle(store, id);
    Record& record = loaded.record;
    const std::string status = oci_status(record);
    if (status != "created") {
        throw nsrun::Error{fmt::format("cannot start container {}: it is {}, not created", id, status),
                           status == "stopped" ? fmt::format("delete it (nsrun delete {}) and create it again", id)
                                               : "start runs once, on a container made by nsrun create"};
    }
    const std::string fifo = exec_fifo_path(store, id);
    // O_NONBLOCK: the open never waits, even if the init died meanwhile;
    // the init's blocked open(O_WRONLY) returns as soon as we have it open.
    const nsrun::UniqueFd reader = nsrun::sys::open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    // The init's answer, once its startContainer hooks ran: "0", or "1" and
    // the error (container.cpp, wait_for_start_then_exec), in one write.
    std::string answer;
    for (;;) {
        pollfd readable{reader.get(), POLLIN, 0};
        const int n = ::poll(&readable, 1, 100);
        if (n > 0 && (readable.revents & POLLIN)) {
            char buf[PIPE_BUF];
            const ssize_t got = ::read(reader.get(), buf, sizeof buf);
            if (got > 0) {
                answer.assign(buf, static_cast<std::size_t>(got));
                break;
            }
        }
        if (n < 0 && errno != EINTR) {
            throw nsrun::SysError(fmt::format("poll({})", fifo), errno);
        }
        if (!nsrun::is_alive(record.init)) {
            throw nsrun::Error{fmt::format("cannot start container {}: its init (pid {}) ended before start",
                                           id, record.init.pid),
                               fmt::format("delete it (nsrun delete {}); its exit status went to its parent", id)};
        }
    }
    ::unlink(fifo.c_str());
    if (answer.front() != '0') {
        const std::size_t nul = answer.find('\0');
        throw nsrun::Error{fmt::format("cannot start container {}: {}", id, answer.substr(1, nul - 1)),
                           nul == std::string::npos ? "" : answer.substr(nul + 1)};
    }
    nsrun::explain::note("read({}) = 1: the init execs process.args now", fifo);
    record.status = Status::running;
    record.started = now_rfc3339();
    store.save(loaded);
    if (record.spec.hooks.poststart.empty()) {
        return;
    }
    try {
        run_hooks(record.spec.hooks.poststart, "poststart", oci_state(record).dump());
    } catch (const nsrun::Error& e) {
        nsrun::cli::print_warning(e.what()); // runtime.md: a failed poststart hook is only logged
        log_line("warning", e.what());
    }
}

namespace {

/// The directory whose freezer pauses the container: the v1 freezer
/// hierarchy's, or a v2 cgroup (cgroup.freeze).  A hybrid layout has both
/// (the container is in the unified hierarchy too): v1's, as runc.
std::string freezer_of(const Record& record) {
    for (const char* file : {"/freezer.state", "/cgroup.freeze"}) {
        for (const auto& dir : record.resources.cgroups) {
            if (nsrun::fs::exists(dir + file)) {
                return dir;
            }
        }
    }
    throw nsrun::Error{fmt::format("container {} has no freezer cgroup", record.id),
                       "pause needs cgroup v2 or the v1 freezer hierarchy at /sys/fs/cgroup/freezer"};
}

void freeze(const std::string& dir, bool frozen) {
    if (nsrun::fs::exists(dir + "/cgroup.freeze")) {
        nsrun::sys::write_file(dir + "/cgroup.freeze", frozen ? "1" : "0");
        return;
    }
    nsrun::sys::write_file(dir + "/freezer.state", frozen ? "FROZEN" : "THAWED");
    // v1 freezes in steps: FREEZING until every task is stopped.
    for (int i = 0; i < 500; ++i) {
        std::string now = nsrun::sys::read_file(dir + "/freezer.state");
        now.erase(now.find_last_not_of(" \n") + 1);
        if (now == (frozen ? "FROZEN" : "THAWED")) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    throw nsrun::Error{fmt::format("{}/freezer.state did not turn {}", dir, frozen ? "FROZEN" : "THAWED")};
}

} // namespace

void set_paused(const Store& store, const std::string& id, bool paused) {
    require_container(store, id); // "container ID does not exist", before its lock is looked for
    const auto lock = store.lock(id);
    Record record = load_container(store, id);
    const std::string status = oci_status(record);
    const std::string wanted = paused ? "running" : "paused";
    if (status != wanted) {
        throw nsrun::Error{fmt::format("cannot {} container {}: it is {}, not {}", paused ? "pause" : "resume", id,
                                       status, wanted)};
    }
    freeze(freezer_of(record), paused);
    record.status = paused ? Status::paused : Status::running;
    store.save(record);
}

void delete_container(const Store& store, const std::string& id, bool force) {
    require_container(store, id); // "container ID does not exist", before its lock is looked for
    const auto lock = store.lock(id);
    // The lifecycle and the resources are what delete reads, and the spec's hooks.
    const LoadedLifecycle loaded = store.load_lifecycle(id);
    if (!loaded.lifecycle) {
        if (!force) {
            throw nsrun::Error{fmt::format("container {}: {}", id, loaded.problem),
                               fmt::format("remove what is left with: nsrun delete --force {}", id)};
        }
        store.remove(id);
        return;
    }
    const Record& record = loaded.lifecycle->record;
    const std::string status = oci_status(record);
    if ((status == "running" || status == "paused" || status == "creating") && !force) {
        throw nsrun::Error{fmt::format("cannot delete container {}: it is {}", id, status),
                           fmt::format("stop it first (nsrun kill {} KILL), or: nsrun delete --force {}", id, id)};
    }
    if (status != "stopped") {
        if (status == "paused") {
            try {
                freeze(freezer_of(record), false); // a frozen task does not die until thawed
            } catch (const std::exception&) {
                // teardown kills what is left all the same
            }
        }
        for (const pid_t pid : container_pids(record)) {
            ::kill(pid, SIGKILL);
        }
    }
    teardown(record); // kills the init if alive, empties and removes the cgroups
    store.remove(id);
    if (record.spec.hooks.poststop.empty()) {
        return;
    }
    try {
        nlohmann::json state = oci_state(record);
        state["status"] = "stopped";
        state.erase("pid");
        run_hooks(record.spec.hooks.poststop, "poststop", state.dump());
    } catch (const nsrun::Error& e) {
        nsrun::cli::print_warning(e.what()); // runtime.md: a failed poststop hook is only logged
        log_line("warning", e.what());
    }
}

void update_resources(const Record& record, const Resources& resources) {
    if (record.resources.cgroups.empty()) {
        throw nsrun::Error{fmt::format("container {} has no cgroup to update", record.id)};
    }
    const auto write_if = [](const std::string& dir, const char* file, const std::string& value) {
        if (nsrun::fs::exists(dir + "/" + file)) {
            nsrun::sys::write_file(dir + "/" + file, value);
            return true;
        }
        return false;
    };
    for (const auto& dir : record.resources.cgroups) {
        if (resources.memory) {
            const std::string bytes = std::to_string(*resources.memory);
            if (!write_if(dir, "memory.max", bytes)) {
                write_if(dir, "memory.limit_in_bytes", bytes);
            }
        }
        if (resources.pids_limit) {
            write_if(dir, "pids.max", std::to_string(*resources.pids_limit));
        }
        if (resources.cpus) {
            const auto quota = cpu_quota_us(*resources.cpus);
            if (!write_if(dir, "cpu.max", fmt::format("{} {}", quota, cpu_period_us))) {
                write_if(dir, "cpu.cfs_period_us", std::to_string(cpu_period_us));
                write_if(dir, "cpu.cfs_quota_us", std::to_string(quota));
            }
        }
        if (resources.cpu_weight) {
            if (!write_if(dir, "cpu.weight", std::to_string(*resources.cpu_weight))) {
                write_if(dir, "cpu.shares", std::to_string(cpu_shares_of_weight(*resources.cpu_weight)));
            }
        }
    }
}

int parse_signal(const std::string& text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        const int sig = std::stoi(text.substr(0, 3));
        if (sig >= 1 && sig <= SIGRTMAX) {
            return sig;
        }
    }
    std::string name = text;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    if (!name.starts_with("SIG")) {
        name = "SIG" + name;
    }
    for (int sig = 1; sig < NSIG; ++sig) {
        if (nsrun::flags::signal_name(sig) == name) {
            return sig;
        }
    }
    throw nsrun::Error{fmt::format("invalid signal: {}", text), "give a name (TERM, SIGKILL) or a number (1-64)"};
}
