// Seccomp filters with libseccomp, from OCI-shaped profiles.  libseccomp
// turns names into each architecture's syscall numbers and writes the BPF:
// the program first checks seccomp_data.arch — so a 32-bit (int 0x80) or
// x32 call cannot slip past rules written for x86_64 numbers — then
// compares the syscall number and arguments.  An architecture the profile
// does not list is killed outright (but for x32 on a kernel that has it off:
// see architectures_to_compile).
#include "seccomp.hpp"

#include "sha256.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cerrno>
#include <map>
#include <elf.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <optional>
#include <string_view>
#include <seccomp.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace {

nsrun::Error bad_profile(const std::string& file, const std::string& what) {
    return nsrun::Error{fmt::format("--security-opt seccomp={}: {}", file, what),
                        "give a seccomp profile in docker's or OCI's JSON format (e.g. docker's default.json)"};
}

/// "SCMP_ACT_ERRNO" (+ errno) → libseccomp's action value; 0 if unknown.
std::optional<std::uint32_t> action_of(const std::string& name, std::optional<unsigned> errno_ret) {
    static const std::map<std::string, std::uint32_t> plain = {
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_KILL", SCMP_ACT_KILL},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    };
    if (name == "SCMP_ACT_ERRNO") {
        return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
    }
    if (name == "SCMP_ACT_TRACE") {
        return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
    }
    const auto it = plain.find(name);
    return it == plain.end() ? std::nullopt : std::optional{it->second};
}

std::optional<scmp_compare> op_of(const std::string& name) {
    static const std::map<std::string, scmp_compare> ops = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    const auto it = ops.find(name);
    return it == ops.end() ? std::nullopt : std::optional{it->second};
}

/// "SCMP_ARCH_X86_64" → libseccomp's token; 0 if unknown.
std::uint32_t arch_of(const std::string& name) {
    if (!name.starts_with("SCMP_ARCH_")) {
        return 0;
    }
    std::string lower = name.substr(10);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return ::seccomp_arch_resolve_name(lower.c_str());
}

// --- docker's profile format ---------------------------------------------------

/// The names by which docker's includes/excludes "arches" may mean this machine.
std::vector<std::string> native_arch_names() {
    utsname u{};
    ::uname(&u);
    const std::string machine = u.machine;
    if (machine == "x86_64") return {"amd64", "x86_64", "SCMP_ARCH_X86_64"};
    if (machine == "aarch64") return {"arm64", "aarch64", "SCMP_ARCH_AARCH64"};
    return {machine};
}

/// Kernel release "6.1.0-13-amd64" ≥ "4.8"?
bool kernel_at_least(const std::string& wanted) {
    utsname u{};
    ::uname(&u);
    unsigned have_major = 0, have_minor = 0, want_major = 0, want_minor = 0;
    std::sscanf(u.release, "%u.%u", &have_major, &have_minor);
    std::sscanf(wanted.c_str(), "%u.%u", &want_major, &want_minor);
    return have_major > want_major || (have_major == want_major && have_minor >= want_minor);
}

bool any_in(const json& list, const std::vector<std::string>& have) {
    for (const auto& item : list) {
        if (std::find(have.begin(), have.end(), item.get<std::string>()) != have.end()) {
            return true;
        }
    }
    return false;
}

bool all_in(const json& list, const std::vector<std::string>& have) {
    for (const auto& item : list) {
        if (std::find(have.begin(), have.end(), item.get<std::string>()) == have.end()) {
            return false;
        }
    }
    return true;
}

/// docker's rule filters: includes (all caps held, this arch, kernel new
/// enough) and excludes (any cap held, this arch).
bool rule_applies(const json& rule, const std::vector<std::string>& caps) {
    const auto arches = native_arch_names();
    if (const auto inc = rule.find("includes"); inc != rule.end()) {
        if (inc->contains("caps") && !all_in(inc->at("caps"), caps)) return false;
        if (inc->contains("arches") && !inc->at("arches").empty() && !any_in(inc->at("arches"), arches)) return false;
        if (inc->contains("minKernel") && !kernel_at_least(inc->at("minKernel").get<std::string>())) return false;
    }
    if (const auto exc = rule.find("excludes"); exc != rule.end()) {
        if (exc->contains("caps") && any_in(exc->at("caps"), caps)) return false;
        if (exc->contains("arches") && any_in(exc->at("arches"), arches)) return false;
    }
    return true;
}

std::optional<unsigned> optional_errno(const json& j, const char* key) {
    if (j.contains(key) && !j.at(key).is_null()) {
        return j.at(key).get<unsigned>();
    }
    return std::nullopt;
}

/// Whether an x32 system call would reach this kernel's x32 table.  Most
/// distributions build the x32 ABI but leave it off (Debian: syscall.x32=n),
/// and some kernels lack it: such a call then fails with ENOSYS before its
/// number means anything.  Asked only when no seccomp filter is on us yet
/// (prctl(PR_GET_SECCOMP) is 0): under a filter, an x32 call might be killed.
bool kernel_runs_x32() {
#if defined(__x86_64__)
    static const bool runs = [] {
        if (::prctl(PR_GET_SECCOMP) != 0) {
            return true; // cannot ask safely: keep the x32 section
        }
        const long rc = ::syscall(__X32_SYSCALL_BIT | __NR_getpid);
        return !(rc == -1 && errno == ENOSYS);
    }();
    return runs;
#else
    return false;
#endif
}

/// The architectures the filter is compiled for.  A profile listing x86_64
/// with both of its sub-architectures (docker's default) loses x32 on a
/// kernel that does not run x32 calls, and the filter answers a call of an
/// architecture it does not know with ENOSYS — x32 being the only one left
/// on x86_64, that is exactly what the kernel itself answers.  A third of
/// the program is gone: loading the filter (the kernel checks and compiles
/// every instruction) is that much cheaper on every start.
struct Architectures {
    std::vector<std::string> names;
    bool enosys_for_unknown = false;
};
Architectures architectures_to_compile(const std::vector<std::string>& listed) {
    const auto lists = [&](const char* name) { return std::find(listed.begin(), listed.end(), name) != listed.end(); };
    if (!(lists("SCMP_ARCH_X86_64") && lists("SCMP_ARCH_X86") && lists("SCMP_ARCH_X32")) || kernel_runs_x32()) {
        return {listed, false};
    }
    Architectures kept{{}, true};
    std::copy_if(listed.begin(), listed.end(), std::back_inserter(kept.names),
                 [](const std::string& name) { return name != "SCMP_ARCH_X32"; });
    return kept;
}

} // namespace

std::vector<std::string> native_architectures() {
    utsname u{};
    ::uname(&u);
    const std::string machine = u.machine;
    if (machine == "x86_64") return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    if (machine == "aarch64") return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
    return {};
}

Seccomp parse_seccomp_profile(const std::string& text, const std::string& file, const std::vector<std::string>& caps) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw bad_profile(file, fmt::format("not valid JSON: {}", e.what()));
    }
    try {
        if (!j.is_object() || !j.contains("defaultAction")) {
            throw bad_profile(file, "no \"defaultAction\"");
        }
        Seccomp profile;
        profile.default_action = j.at("defaultAction").get<std::string>();
        profile.default_errno_ret = optional_errno(j, "defaultErrnoRet");
        if (j.contains("architectures")) {
            profile.architectures = j.at("architectures").get<std::vector<std::string>>();
        }
        if (j.contains("archMap")) { // docker: this machine's entry and its sub-architectures
            const auto natives = native_arch_names();
            for (const auto& entry : j.at("archMap")) {
                const std::string arch = entry.at("architecture").get<std::string>();
                if (std::find(natives.begin(), natives.end(), arch) != natives.end()) {
                    profile.architectures.push_back(arch);
                    for (const auto& sub : entry.value("subArchitectures", json::array())) {
                        profile.architectures.push_back(sub.get<std::string>());
                    }
                }
            }
        }
        for (const auto& rule : j.value("syscalls", json::array())) {
            if (!rule_applies(rule, caps)) {
                continue;
            }
            SeccompSyscall s;
            if (rule.contains("names")) {
                s.names = rule.at("names").get<std::vector<std::string>>();
            }
            if (rule.contains("name")) { // docker's older single-name form
                s.names.push_back(rule.at("name").get<std::string>());
            }
            s.action = rule.at("action").get<std::string>();
            s.errno_ret = optional_errno(rule, "errnoRet");
            for (const auto& a : rule.value("args", json::array())) {
                s.args.push_back({a.at("index").get<unsigned>(), a.at("value").get<std::uint64_t>(),
                                  a.value("valueTwo", std::uint64_t{0}), a.at("op").get<std::string>()});
            }
            profile.syscalls.push_back(std::move(s));
        }
        return profile;
    } catch (const json::exception& e) {
        throw bad_profile(file, fmt::format("not a seccomp profile: {}", e.what()));
    }
}

SeccompFilter::SeccompFilter(const Seccomp& profile, bool strict) {
    const auto refuse = [](const std::string& what) {
        return nsrun::Error{fmt::format("seccomp profile: {}", what),
                            "check the profile against docker's or OCI's format"};
    };
    const auto default_action = action_of(profile.default_action, profile.default_errno_ret);
    if (!default_action) {
        throw refuse(fmt::format("unknown defaultAction \"{}\"", profile.default_action));
    }
    ctx_ = ::seccomp_init(*default_action);
    if (ctx_ == nullptr) {
        throw refuse("seccomp_init failed");
    }
    // no_new_privs is the runtime's decision (--security-opt), not libseccomp's.
    ::seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_NNP, 0);
    // The syscalls as a binary tree, not one compare after another (the
    // same decisions, libseccomp's choice of layout).  The kernel walks the
    // program for every syscall number when it loads it, to find the ones
    // always allowed: for docker's profile that walk took half of the
    // load's ~0.6 ms on the reference VM, and a tree makes each walk short.
    ::seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    const Architectures architectures = architectures_to_compile(profile.architectures);
    if (architectures.enosys_for_unknown) {
        ::seccomp_attr_set(ctx_, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
    }
    try {
        for (const auto& name : architectures.names) {
            const std::uint32_t arch = arch_of(name);
            if (arch == 0) {
                throw refuse(fmt::format("unknown architecture \"{}\"", name));
            }
            const int rc = ::seccomp_arch_add(ctx_, arch);
            if (rc != 0 && rc != -EEXIST) {
                throw refuse(fmt::format("seccomp_arch_add({}): {}", name, nsrun::errno_text(-rc)));
            }
        }
        std::size_t rules = 0;
        for (const auto& rule : profile.syscalls) {
            const auto action = action_of(rule.action, rule.errno_ret);
            if (!action) {
                throw refuse(fmt::format("unknown action \"{}\"", rule.action));
            }
            std::vector<scmp_arg_cmp> conditions;
            bool same_index_twice = false;
            for (const auto& a : rule.args) {
                const auto op = op_of(a.op);
                if (!op || a.index > 5) {
                    throw refuse(fmt::format("bad argument condition (index {}, op \"{}\")", a.index, a.op));
                }
                same_index_twice |= std::any_of(conditions.begin(), conditions.end(),
                                                [&](const scmp_arg_cmp& c) { return c.arg == a.index; });
                conditions.push_back({a.index, *op, a.value, a.value_two});
            }
            for (const auto& name : rule.names) {
                const int nr = ::seccomp_syscall_resolve_name(name.c_str());
                if (nr == __NR_SCMP_ERROR) {
                    if (strict) {
                        throw refuse(fmt::format("unknown system call \"{}\"", name));
                    }
                    continue;
                }
                if (*action == *default_action) {
                    continue; // libseccomp refuses a rule that only repeats the default
                }
                // Conditions on one argument are ORed as separate rules (runc
                // does the same): libseccomp ANDs only distinct arguments.
                const auto add = [&](const scmp_arg_cmp* c, unsigned n) {
                    const int rc = ::seccomp_rule_add_array(ctx_, *action, nr, n, c);
                    if (rc != 0) {
                        throw refuse(fmt::format("rule for {}: {}", name, nsrun::errno_text(-rc)));
                    }
                    ++rules;
                };
                if (same_index_twice) {
                    for (const auto& c : conditions) {
                        add(&c, 1);
                    }
                } else {
                    add(conditions.data(), static_cast<unsigned>(conditions.size()));
                }
            }
        }
        summary_ = fmt::format("{} rules, default {}, architectures {}{}", rules, profile.default_action,
                               architectures.names.empty() ? std::string("native") : fmt::format("{}", fmt::join(architectures.names, ",")),
                               architectures.enosys_for_unknown ? " (x32: ENOSYS, as this kernel)" : "");
    } catch (...) {
        ::seccomp_release(ctx_);
        throw;
    }
}

SeccompFilter::~SeccompFilter() { ::seccomp_release(ctx_); }

std::string SeccompFilter::bpf() const {
    const int fd = ::memfd_create("nsrun-seccomp-bpf", MFD_CLOEXEC);
    if (fd == -1) {
        throw nsrun::SysError("memfd_create(nsrun-seccomp-bpf)", errno);
    }
    std::string program;
    if (const int rc = ::seccomp_export_bpf(ctx_, fd); rc == 0) {
        char buffer[4096];
        ::lseek(fd, 0, SEEK_SET);
        for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
            program.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return program;
}

void SeccompFilter::load() const {
    const int rc = ::seccomp_load(ctx_);
    nsrun::explain::note("seccomp(SECCOMP_SET_MODE_FILTER, 0, {{{}}}) {}", summary_,
                         nsrun::explain::result(rc == 0 ? 0 : -1, -rc));
    if (rc != 0) {
        throw nsrun::SysError(fmt::format("seccomp(SECCOMP_SET_MODE_FILTER) [{}]", summary_), -rc);
    }
}

namespace {

/// Every field of the profile, for the cache file's name.
std::string profile_text(const Seccomp& profile) {
    const auto errno_text = [](const std::optional<unsigned>& e) { return e ? std::to_string(*e) : std::string("-"); };
    const Architectures architectures = architectures_to_compile(profile.architectures);
    std::string text = fmt::format("{} {} [{}]{}\n", profile.default_action, errno_text(profile.default_errno_ret),
                                   fmt::join(architectures.names, ","), architectures.enosys_for_unknown ? " badarch=ENOSYS" : "");
    for (const auto& rule : profile.syscalls) {
        text += fmt::format("{} {} [{}]", rule.action, errno_text(rule.errno_ret), fmt::join(rule.names, ","));
        for (const auto& a : rule.args) {
            text += fmt::format(" {}:{}:{}:{}", a.index, a.op, a.value, a.value_two);
        }
        text += '\n';
    }
    return text;
}

/// This nsrun binary's build id (hex; "" without one): it changes whenever
/// any of its code does, libseccomp's (linked in) and the default profile's
/// included.
std::string own_build_id() {
    std::string id;
    ::dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* out) {
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const auto& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_NOTE) {
                    continue;
                }
                const char* at = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
                const char* const end = at + ph.p_memsz;
                while (at + sizeof(ElfW(Nhdr)) <= end) {
                    const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(at);
                    const char* desc = at + sizeof(ElfW(Nhdr)) + ((note->n_namesz + 3) & ~3U);
                    const std::string_view name(at + sizeof(ElfW(Nhdr)), note->n_namesz);
                    if (note->n_type == NT_GNU_BUILD_ID && name == std::string_view("GNU", 4)) {
                        auto& hex = *static_cast<std::string*>(out);
                        for (unsigned k = 0; k < note->n_descsz && desc + k < end; ++k) {
                            hex += fmt::format("{:02x}", static_cast<unsigned char>(desc[k]));
                        }
                        return 1;
                    }
                    at = desc + ((note->n_descsz + 3) & ~3U);
                }
            }
            return 1; // the first object is the program itself
        },
        &id);
    return id;
}

/// What names a profile's program in the cache.  For any profile, its whole
/// text; for nsrun's default one, what it is made from: the capabilities,
/// this very nsrun (its build id) and the architectures as this kernel runs
/// them.  Hashing the ~8 KB of the default profile's text took a start
/// ~0.15 ms before clone.
std::string cache_key_text(const Seccomp& profile) {
    if (profile.default_for) {
        if (const std::string build = own_build_id(); !build.empty()) {
            const Architectures architectures = architectures_to_compile(profile.architectures);
            return fmt::format("nsrun's default profile, build {}, for [{}], architectures [{}]{}\n", build,
                               fmt::join(*profile.default_for, ","), fmt::join(architectures.names, ","),
                               architectures.enosys_for_unknown ? " badarch=ENOSYS" : "");
        }
    }
    return profile_text(profile);
}

/// The compiled program of one profile, made by the parent before clone.
struct Prepared {
    Seccomp profile;
    std::string program; ///< struct sock_filter instructions
    std::string summary;
};
std::optional<Prepared> prepared;

/// A cached program is used only if it can be one: whole instructions, and
/// no more than the kernel accepts.
bool plausible_program(const std::string& program) {
    return !program.empty() && program.size() % sizeof(sock_filter) == 0 &&
           program.size() / sizeof(sock_filter) <= BPF_MAXINSNS;
}

} // namespace

void prepare_seccomp(const Seccomp& profile, const std::string& cache_dir) {
    const scmp_version* version = ::seccomp_version();
    // The generation changes whenever nsrun compiles the same profile into a
    // different program (2: x32 left out where the kernel has it off), so a
    // program cached by an older nsrun is never loaded by a newer one.
    constexpr int generation = 3; // 3: the syscalls as a binary tree
    const std::string key = Sha256::of(fmt::format("libseccomp {}.{}.{}\nnsrun filter {}\n{}", version->major,
                                                   version->minor, version->micro, generation, cache_key_text(profile)));
    const std::string file = fmt::format("{}/{}.bpf", cache_dir, key);
    Prepared ready{profile, {}, {}};
    try {
        ready.program = nsrun::sys::read_file(file);
    } catch (const nsrun::Error&) {
        ready.program.clear(); // not cached yet
    }
    if (!plausible_program(ready.program)) {
        const SeccompFilter filter(profile, false);
        ready.program = filter.bpf();
        if (!plausible_program(ready.program)) {
            return; // load_seccomp() compiles and reports libseccomp's error
        }
        try {
            nsrun::fs::make_dirs(cache_dir, 0700);
            nsrun::fs::write_file_atomic(file, ready.program, 0600);
        } catch (const nsrun::Error&) {
            // a read-only or foreign state directory: compile each time
        }
    }
    ready.summary = fmt::format("{} BPF instructions, default {}, compiled once into {}",
                                ready.program.size() / sizeof(sock_filter), profile.default_action, file);
    prepared = std::move(ready);
}

void load_seccomp(const Seccomp& profile) {
    if (!prepared || !(prepared->profile == profile)) {
        SeccompFilter(profile, false).load();
        return;
    }
    sock_fprog program{};
    program.len = static_cast<unsigned short>(prepared->program.size() / sizeof(sock_filter));
    program.filter = reinterpret_cast<sock_filter*>(prepared->program.data());
    const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
    const int error = rc == 0 ? 0 : errno;
    nsrun::explain::note("seccomp(SECCOMP_SET_MODE_FILTER, 0, {{{}}}) {}", prepared->summary,
                         nsrun::explain::result(rc == 0 ? 0 : -1, error));
    if (rc != 0) {
        throw nsrun::SysError(fmt::format("seccomp(SECCOMP_SET_MODE_FILTER) [{}]", prepared->summary), error);
    }
}
