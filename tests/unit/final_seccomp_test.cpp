// Unit tests of the seccomp profiles (final/seccomp.cpp, seccomp_profile.cpp):
// profiles parsed from JSON, compiled by libseccomp and exported as BPF with
// seccomp_export_bpf — never loaded.  A small classic-BPF interpreter runs
// the exported program on a made-up struct seccomp_data, so each test reads
// what the kernel would answer for one system call on one architecture.
#include "caps.hpp"
#include "seccomp.hpp"

#include <nsrun/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

/// Run the classic BPF `program` on `data` (what seccomp's interpreter does).
std::uint32_t run_bpf(const std::string& program, const seccomp_data& data) {
    std::vector<sock_filter> code(program.size() / sizeof(sock_filter));
    std::memcpy(code.data(), program.data(), code.size() * sizeof(sock_filter));
    std::uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
    const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
    for (std::size_t pc = 0; pc < code.size(); ++pc) {
        const sock_filter& i = code[pc];
        switch (BPF_CLASS(i.code)) {
        case BPF_LD:
            if (BPF_MODE(i.code) == BPF_ABS) {
                std::memcpy(&a, bytes + i.k, 4);
            } else if (BPF_MODE(i.code) == BPF_MEM) {
                a = mem[i.k];
            } else if (BPF_MODE(i.code) == BPF_IMM) {
                a = i.k;
            } else {
                ADD_FAILURE() << "unsupported ld mode";
                return 0;
            }
            break;
        case BPF_LDX:
            x = BPF_MODE(i.code) == BPF_MEM ? mem[i.k] : i.k;
            break;
        case BPF_ST: mem[i.k] = a; break;
        case BPF_STX: mem[i.k] = x; break;
        case BPF_ALU: {
            const std::uint32_t operand = BPF_SRC(i.code) == BPF_X ? x : i.k;
            switch (BPF_OP(i.code)) {
            case BPF_AND: a &= operand; break;
            case BPF_OR: a |= operand; break;
            case BPF_ADD: a += operand; break;
            case BPF_SUB: a -= operand; break;
            case BPF_RSH: a >>= operand; break;
            case BPF_LSH: a <<= operand; break;
            default: ADD_FAILURE() << "unsupported alu op"; return 0;
            }
            break;
        }
        case BPF_JMP: {
            if (BPF_OP(i.code) == BPF_JA) {
                pc += i.k;
                break;
            }
            const std::uint32_t operand = BPF_SRC(i.code) == BPF_X ? x : i.k;
            bool taken = false;
            switch (BPF_OP(i.code)) {
            case BPF_JEQ: taken = a == operand; break;
            case BPF_JGT: taken = a > operand; break;
            case BPF_JGE: taken = a >= operand; break;
            case BPF_JSET: taken = (a & operand) != 0; break;
            default: ADD_FAILURE() << "unsupported jmp op"; return 0;
            }
            pc += taken ? i.jt : i.jf;
            break;
        }
        case BPF_RET: return BPF_RVAL(i.code) == BPF_A ? a : i.k;
        case BPF_MISC:
            if (BPF_MISCOP(i.code) == BPF_TAX) x = a; else a = x;
            break;
        default: ADD_FAILURE() << "unsupported class"; return 0;
        }
    }
    ADD_FAILURE() << "the program ran off its end";
    return 0;
}

/// The kernel's answer for syscall `name` (resolved for `arch`) with `args`.
std::uint32_t verdict(const std::string& program, const char* name, std::vector<std::uint64_t> args = {},
                      std::uint32_t arch = AUDIT_ARCH_X86_64) {
    seccomp_data data{};
    data.arch = arch;
    const std::uint32_t token = arch == AUDIT_ARCH_X86_64 ? SCMP_ARCH_X86_64
                                : arch == AUDIT_ARCH_I386 ? SCMP_ARCH_X86
                                                          : arch;
    data.nr = ::seccomp_syscall_resolve_name_arch(token, name);
    for (std::size_t i = 0; i < args.size(); ++i) {
        data.args[i] = args[i];
    }
    return run_bpf(program, data);
}

constexpr std::uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t allow = SECCOMP_RET_ALLOW;

std::string default_bpf(const std::vector<std::string>& caps) {
    return SeccompFilter(default_seccomp_profile(caps), true).bpf();
}

std::vector<std::string> with(std::vector<std::string> caps, const std::string& cap) {
    caps.push_back(cap);
    return caps;
}

} // namespace

TEST(FinalSeccomp, TheDefaultAllowsOrdinaryCallsAndRefusesTheDangerousOnes) {
    const std::string bpf = default_bpf(default_capabilities());
    ASSERT_FALSE(bpf.empty());
    for (const char* ok : {"read", "write", "openat", "execve", "exit_group", "mmap", "futex", "socketpair"}) {
        EXPECT_EQ(verdict(bpf, ok), allow) << ok;
    }
    for (const char* refused : {"mount", "umount2", "unshare", "setns", "keyctl", "add_key", "bpf", "ptrace",
                                "kexec_load", "init_module", "open_by_handle_at", "userfaultfd", "perf_event_open",
                                "pivot_root", "reboot", "swapon", "io_uring_setup"}) {
        EXPECT_EQ(verdict(bpf, refused), eperm) << refused;
    }
}

TEST(FinalSeccomp, CloneMayNotMakeNamespacesAndClone3FallsBack) {
    const std::string bpf = default_bpf(default_capabilities());
    EXPECT_EQ(verdict(bpf, "clone", {SIGCHLD}), allow) << "a plain fork";
    EXPECT_EQ(verdict(bpf, "clone", {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD}), allow)
        << "a thread";
    for (const std::uint64_t ns : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWCGROUP}) {
        EXPECT_EQ(verdict(bpf, "clone", {ns | SIGCHLD}), eperm) << std::hex << ns;
    }
    EXPECT_EQ(verdict(bpf, "clone3"), SECCOMP_RET_ERRNO | ENOSYS) << "libc falls back to clone";
}

TEST(FinalSeccomp, CapabilitiesUnlockTheCallsDockerGatesOnThem) {
    const std::string admin = default_bpf(with(default_capabilities(), "CAP_SYS_ADMIN"));
    EXPECT_EQ(verdict(admin, "mount"), allow);
    EXPECT_EQ(verdict(admin, "unshare"), allow);
    EXPECT_EQ(verdict(admin, "clone", {CLONE_NEWUSER | SIGCHLD}), allow);
    const std::string ptrace = default_bpf(with(default_capabilities(), "CAP_SYS_PTRACE"));
    EXPECT_EQ(verdict(ptrace, "ptrace"), allow);
    EXPECT_EQ(verdict(ptrace, "mount"), eperm);
    EXPECT_EQ(verdict(default_bpf({}), "chroot"), eperm) << "without SYS_CHROOT";
    EXPECT_EQ(verdict(default_bpf(default_capabilities()), "chroot"), allow) << "SYS_CHROOT is a default capability";
}

TEST(FinalSeccomp, ArgumentRulesOnPersonalityAndSocket) {
    const std::string bpf = default_bpf(default_capabilities());
    EXPECT_EQ(verdict(bpf, "personality", {0}), allow);
    EXPECT_EQ(verdict(bpf, "personality", {0xffffffff}), allow) << "the query";
    EXPECT_EQ(verdict(bpf, "personality", {0x0400000}), eperm) << "READ_IMPLIES_EXEC";
    EXPECT_EQ(verdict(bpf, "socket", {AF_INET}), allow);
    EXPECT_EQ(verdict(bpf, "socket", {AF_VSOCK}), eperm);
}

namespace {

/// Whether this machine's kernel runs x32 system calls (the test process has
/// no seccomp filter, so asking cannot get it killed).
bool kernel_runs_x32() {
    const long rc = ::syscall(0x40000000 | SYS_getpid);
    return !(rc == -1 && errno == ENOSYS);
}

} // namespace

TEST(FinalSeccomp, The32BitAndX32AbisAreFilteredAndOthersKilled) {
    const std::string bpf = default_bpf(default_capabilities());
    EXPECT_EQ(verdict(bpf, "mount", {}, AUDIT_ARCH_I386), eperm) << "int 0x80 mount";
    EXPECT_EQ(verdict(bpf, "read", {}, AUDIT_ARCH_I386), allow);
    seccomp_data x32{};
    x32.arch = AUDIT_ARCH_X86_64;
    x32.nr = ::seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "mount");
    const std::uint32_t other = run_bpf(bpf, seccomp_data{0, AUDIT_ARCH_AARCH64, 0, {}});
    if (kernel_runs_x32()) {
        EXPECT_EQ(run_bpf(bpf, x32), eperm) << "x32 mount (nr | __X32_SYSCALL_BIT)";
        x32.nr = ::seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "read");
        EXPECT_EQ(run_bpf(bpf, x32), allow) << "x32 read";
        EXPECT_TRUE((other & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_THREAD ||
                    (other & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_PROCESS)
            << "an architecture the filter does not know is killed: " << std::hex << other;
    } else {
        // The kernel refuses x32 calls itself (ENOSYS): the filter has no x32
        // section and gives the same answer for every x32 call — and for any
        // other architecture it does not know, which on x86_64 is only x32.
        const std::uint32_t enosys = SECCOMP_RET_ERRNO | ENOSYS;
        EXPECT_EQ(run_bpf(bpf, x32), enosys) << "x32 mount, as the kernel answers it";
        x32.nr = ::seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "read");
        EXPECT_EQ(run_bpf(bpf, x32), enosys) << "x32 read, as the kernel answers it";
        EXPECT_EQ(other, enosys) << std::hex << other;
        const Seccomp x86_64_only{"SCMP_ACT_ERRNO", std::nullopt, {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}, {}};
        const std::uint32_t killed = run_bpf(SeccompFilter(x86_64_only, true).bpf(), x32);
        EXPECT_TRUE((killed & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_THREAD ||
                    (killed & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_PROCESS)
            << "a profile that does not list x32 still has it killed: " << std::hex << killed;
    }
}

TEST(FinalSeccomp, ADockerProfileIsEvaluatedForTheContainersCapabilities) {
    const std::string text = R"({
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
        "syscalls": [
            {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_KILL"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}
        ]})";
    const Seccomp plain = parse_seccomp_profile(text, "p.json", {"CAP_CHOWN"});
    EXPECT_EQ(plain.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    const std::string bpf = SeccompFilter(plain, true).bpf();
    EXPECT_EQ(verdict(bpf, "read"), allow);
    EXPECT_EQ(verdict(bpf, "mount"), eperm);
    EXPECT_EQ(verdict(bpf, "getpid"), SECCOMP_RET_ERRNO | 38);
    EXPECT_EQ(verdict(bpf, "ptrace"), eperm) << "no kernel 99 here";
    const std::string admin = SeccompFilter(parse_seccomp_profile(text, "p.json", {"CAP_SYS_ADMIN", "CAP_KILL"}), true).bpf();
    EXPECT_EQ(verdict(admin, "mount"), allow);
    EXPECT_EQ(verdict(admin, "getpid"), eperm) << "excluded for a holder of CAP_KILL";
}

TEST(FinalSeccomp, AnOciProfileWithArgumentConditions) {
    const Seccomp oci = parse_seccomp_profile(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                      "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}]})",
                                              "oci.json", {});
    const std::string bpf = SeccompFilter(oci, true).bpf();
    EXPECT_EQ(verdict(bpf, "kill", {1, 9}), SECCOMP_RET_ERRNO | 13);
    EXPECT_EQ(verdict(bpf, "kill", {1, 15}), allow);
    EXPECT_EQ(verdict(bpf, "mount"), allow);
}

TEST(FinalSeccomp, MalformedProfilesAreRefused) {
    EXPECT_THROW((void)parse_seccomp_profile("{not json", "bad.json", {}), nsrun::Error);
    EXPECT_THROW((void)parse_seccomp_profile("[]", "bad.json", {}), nsrun::Error);
    EXPECT_THROW((void)parse_seccomp_profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]})",
                                             "bad.json", {}),
                 nsrun::Error)
        << "a rule without an action";
    const auto build = [](const char* text) { return SeccompFilter(parse_seccomp_profile(text, "x.json", {}), true); };
    EXPECT_THROW(build(R"({"defaultAction": "SCMP_ACT_NOPE"})"), nsrun::Error);
    EXPECT_THROW(build(R"({"defaultAction": "SCMP_ACT_ERRNO",
                           "syscalls": [{"names": ["no_such_syscall"], "action": "SCMP_ACT_ALLOW"}]})"),
                 nsrun::Error);
    EXPECT_THROW(build(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]})"), nsrun::Error);
    EXPECT_THROW(build(R"({"defaultAction": "SCMP_ACT_ERRNO",
                           "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]}]})"),
                 nsrun::Error);
}

TEST(FinalSeccomp, EveryNameOfTheDefaultProfileIsKnownToLibseccomp) {
    for (const auto& rule : default_seccomp_profile(all_capabilities()).syscalls) {
        for (const auto& name : rule.names) {
            EXPECT_NE(::seccomp_syscall_resolve_name(name.c_str()), __NR_SCMP_ERROR) << name;
        }
    }
}

TEST(FinalSeccomp, EachProfileIsCompiledOnceIntoTheCacheAndLoadedFromIt) {
    char pattern[] = "/tmp/nsrun-seccomp-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const std::string dir = pattern;
    const auto files = [&] {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            names.push_back(entry.path().string());
        }
        return names;
    };
    const auto read = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    };
    const Seccomp profile = default_seccomp_profile(default_capabilities());
    prepare_seccomp(profile, dir);
    ASSERT_EQ(files().size(), 1u);
    const std::string cached = files()[0];
    EXPECT_EQ(read(cached), default_bpf(default_capabilities())) << "the file is libseccomp's program";

    prepare_seccomp(default_seccomp_profile(with(default_capabilities(), "CAP_SYS_ADMIN")), dir);
    EXPECT_EQ(files().size(), 2u) << "another profile, another file";

    { std::ofstream(cached, std::ios::trunc) << "xyz"; } // not whole instructions: compiled again
    prepare_seccomp(profile, dir);
    EXPECT_EQ(read(cached), default_bpf(default_capabilities()));

    // The default profile is cached under what it is made from (its
    // capabilities, this binary's build id); the same rules given as a
    // profile of their own under their text: another file, the same program.
    Seccomp same_rules = profile;
    same_rules.default_for.reset();
    prepare_seccomp(same_rules, dir);
    const std::vector<std::string> now = files();
    ASSERT_EQ(now.size(), 3u) << "another key";
    EXPECT_EQ(std::count_if(now.begin(), now.end(), [&](const std::string& f) { return read(f) == read(cached); }), 2)
        << "the two names hold the same program";

    // The child loads the prepared program: unshare is refused, getpid is not.
    const pid_t child = ::fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        load_seccomp(profile);
        const bool refused = ::unshare(CLONE_NEWUTS) == -1 && errno == EPERM;
        ::_exit(refused && ::getpid() > 0 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    std::filesystem::remove_all(dir);
}
