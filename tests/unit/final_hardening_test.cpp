// Unit tests of hardening logic that needs no container: mount destinations
// resolved inside a root on a temp tree of hostile symlinks (openat2 is an
// ordinary system call, no privilege needed), --ulimit parsing, and the
// device cgroup's eBPF program run in a small interpreter of the handful of
// instructions it uses.
#include "devices.hpp"
#include "inroot.hpp"
#include "rlimits.hpp"

#include <nsrun/error.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

/// A temp directory holding root/ (the "container") and outside/ (the "host").
class HostileTree : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "nsrun-inroot.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        base_ = pattern;
        fs::create_directories(root() + "/etc");
        fs::create_directories(outside());
        fs::create_symlink(outside(), root() + "/abs");                         // absolute, to the "host"
        fs::create_symlink("../../../../../../../.." + outside(), root() + "/rel"); // climbing out
        fs::create_symlink("/proc/self/root", root() + "/magic");               // a magic link's way out
        root_fd_ = ::open(root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_GE(root_fd_, 0);
    }
    void TearDown() override {
        ::close(root_fd_);
        fs::remove_all(base_);
    }
    [[nodiscard]] std::string root() const { return base_ + "/root"; }
    [[nodiscard]] std::string outside() const { return base_ + "/outside"; }
    static std::string where(const nsrun::UniqueFd& fd) { return fs::read_symlink(fd_path(fd)).string(); }

    std::string base_;
    int root_fd_ = -1;
};

TEST_F(HostileTree, AbsoluteAndClimbingSymlinksResolveInsideTheRoot) {
    for (const std::string link : {"/abs", "/rel"}) {
        const auto fd = make_in_root(root_fd_, link + "/vol/sub", true);
        EXPECT_TRUE(where(fd).starts_with(root() + "/")) << link << " led to " << where(fd);
        EXPECT_TRUE(fs::is_empty(outside())) << link << ": nothing may be made outside the root";
    }
    const auto file = make_in_root(root_fd_, "/abs/hosts", false);
    EXPECT_TRUE(fs::is_regular_file(where(file)));
    EXPECT_TRUE(fs::is_empty(outside()));
}

TEST_F(HostileTree, DotDotStopsAtTheRoot) {
    const auto fd = open_in_root(root_fd_, "/../../../etc");
    EXPECT_EQ(where(fd), root() + "/etc");
}

TEST_F(HostileTree, AMagicLinkIsRefused) {
    EXPECT_THROW(open_in_root(root_fd_, "/magic/etc"), nsrun::SysError);
}

TEST(FinalHardening, KernelFilesystemPathsAreRecognised) {
    for (const char* path : {"/proc", "/proc/", "/proc/sys/kernel", "/sys", "/sys/fs/cgroup", "/x/../proc/1"}) {
        EXPECT_TRUE(is_kernel_filesystem_path(path)) << path;
    }
    for (const char* path : {"/processes", "/system", "/data/proc", "/srv"}) {
        EXPECT_FALSE(is_kernel_filesystem_path(path)) << path;
    }
}

TEST(FinalHardening, UlimitsParseLikeDockers) {
    EXPECT_EQ(parse_ulimit("nofile=1024:2048"), (Rlimit{"RLIMIT_NOFILE", 2048, 1024}));
    EXPECT_EQ(parse_ulimit("core=0"), (Rlimit{"RLIMIT_CORE", 0, 0}));
    EXPECT_EQ(parse_ulimit("NPROC=-1"), (Rlimit{"RLIMIT_NPROC", RLIM64_INFINITY, RLIM64_INFINITY}));
    EXPECT_EQ(parse_ulimit("stack=8192:unlimited"), (Rlimit{"RLIMIT_STACK", RLIM64_INFINITY, 8192}));
    for (const char* bad : {"nofile", "bogus=1", "nofile=2:1", "nofile=x", "nofile=1:", "=1"}) {
        EXPECT_THROW(parse_ulimit(bad), nsrun::Error) << bad;
    }
}

// --- the device program, interpreted ---------------------------------------------

/// Runs the few instructions device_program() emits on one request.
int run_device_program(const std::vector<bpf_insn>& program, int type, int access, unsigned major, unsigned minor) {
    const std::uint32_t ctx[3] = {static_cast<std::uint32_t>(access << 16 | type), major, minor};
    std::uint64_t r[11] = {};
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        const bpf_insn& i = program[pc];
        const auto imm = static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm));
        switch (i.code) {
        case BPF_LDX | BPF_MEM | BPF_W: r[i.dst_reg] = ctx[i.off / 4]; break;
        case BPF_ALU | BPF_AND | BPF_K: r[i.dst_reg] = static_cast<std::uint32_t>(r[i.dst_reg] & imm); break;
        case BPF_ALU | BPF_RSH | BPF_K: r[i.dst_reg] = static_cast<std::uint32_t>(r[i.dst_reg]) >> i.imm; break;
        case BPF_ALU | BPF_MOV | BPF_X: r[i.dst_reg] = static_cast<std::uint32_t>(r[i.src_reg]); break;
        case BPF_ALU64 | BPF_MOV | BPF_K: r[i.dst_reg] = imm; break;
        case BPF_JMP | BPF_JNE | BPF_K:
            if (r[i.dst_reg] != imm) pc += static_cast<std::size_t>(i.off);
            break;
        case BPF_JMP | BPF_EXIT: return static_cast<int>(r[0]);
        default: ADD_FAILURE() << "unexpected opcode " << int(i.code); return -1;
        }
    }
    ADD_FAILURE() << "the program ran off its end";
    return -1;
}

constexpr int chr = BPF_DEVCG_DEV_CHAR;
constexpr int blk = BPF_DEVCG_DEV_BLOCK;
constexpr int rd = BPF_DEVCG_ACC_READ;
constexpr int wr = BPF_DEVCG_ACC_WRITE;
constexpr int mk = BPF_DEVCG_ACC_MKNOD;

TEST(FinalDevices, DockersDefaultsAllowTheStandardNodesAndMknodOnly) {
    const auto program = device_program(default_device_rules(false));
    EXPECT_EQ(run_device_program(program, chr, rd | wr, 1, 3), 1) << "/dev/null";
    EXPECT_EQ(run_device_program(program, chr, rd, 1, 9), 1) << "/dev/urandom";
    EXPECT_EQ(run_device_program(program, chr, rd | wr, 136, 7), 1) << "/dev/pts/7";
    EXPECT_EQ(run_device_program(program, chr, rd | wr, 5, 2), 1) << "/dev/ptmx";
    EXPECT_EQ(run_device_program(program, blk, mk, 8, 0), 1) << "mknod of sda is allowed";
    EXPECT_EQ(run_device_program(program, blk, rd, 8, 0), 0) << "opening sda is not";
    EXPECT_EQ(run_device_program(program, blk, rd | wr, 8, 0), 0);
    EXPECT_EQ(run_device_program(program, chr, rd | wr, 1, 1), 0) << "/dev/mem";
    EXPECT_EQ(run_device_program(program, chr, rd | wr, 5, 1), 0) << "console without a terminal";
    EXPECT_EQ(run_device_program(device_program(default_device_rules(true)), chr, rd | wr, 5, 1), 1);
}

TEST(FinalDevices, TheLastMatchingRuleDecides) {
    std::vector<DeviceRule> rules = privileged_device_rules();
    EXPECT_EQ(run_device_program(device_program(rules), blk, rd | wr, 8, 0), 1);
    rules.push_back(DeviceRule{.allow = false, .type = "b", .major = 8, .minor = std::nullopt, .access = "w"});
    EXPECT_EQ(run_device_program(device_program(rules), blk, wr, 8, 3), 0) << "denied after";
    EXPECT_EQ(run_device_program(device_program(rules), blk, rd, 8, 3), 1) << "read is not in the deny";
    EXPECT_EQ(run_device_program(device_program({}), chr, rd, 1, 3), 0) << "no rule: deny";
    // The verifier refuses unreachable instructions: nothing may follow a rule for every device.
    EXPECT_EQ(device_program(privileged_device_rules()).size(), 8u);
    const auto rules_without_first = std::vector<DeviceRule>(default_device_rules(false)).size() - 1;
    std::vector<DeviceRule> rest = default_device_rules(false);
    rest.erase(rest.begin());
    EXPECT_EQ(rest.size(), rules_without_first);
    EXPECT_EQ(device_program(default_device_rules(false)).size(), device_program(rest).size())
        << "docker's first rule (deny a *:* rwm) takes the place of the final deny";
}

TEST(FinalDevices, V1RulesAreWrittenAsTheKernelReadsThem) {
    EXPECT_EQ(v1_device_rule(default_device_rules(false)[0]), "a *:* rwm");
    EXPECT_EQ(v1_device_rule(default_device_rules(false)[1]), "c *:* m");
    EXPECT_EQ(v1_device_rule(DeviceRule{.allow = true, .type = "c", .major = 136, .minor = std::nullopt, .access = "rwm"}),
              "c 136:* rwm");
}

TEST(FinalDevices, ListedNodesAreAllowedUnlessARuleNamesThem) {
    const DeviceNode fuse{.path = "/dev/fuse", .type = "c", .major = 10, .minor = 229};
    const DeviceNode disk{.path = "/dev/xvda", .type = "b", .major = 8, .minor = 0};
    const DeviceNode fifo{.path = "/dev/pipe", .type = "p"};
    const auto rules = with_device_nodes_allowed(default_device_rules(false), {fuse, disk, fifo});
    ASSERT_EQ(rules.size(), default_device_rules(false).size() + 2) << "a fifo is no device";
    EXPECT_EQ(v1_device_rule(rules[rules.size() - 2]), "c 10:229 rwm");
    EXPECT_EQ(v1_device_rule(rules.back()), "b 8:0 rwm");
    const auto program = device_program(rules);
    EXPECT_EQ(run_device_program(program, chr, rd | wr, 10, 229), 1);
    EXPECT_EQ(run_device_program(program, blk, rd, 8, 0), 1);
    EXPECT_EQ(run_device_program(program, blk, rd, 8, 1), 0) << "only that node";
    EXPECT_TRUE(with_device_nodes_allowed({}, {fuse}).empty()) << "no device cgroup: nothing to add";
    // A rule of the caller's own for the node (--device …:r) decides.
    auto own = default_device_rules(false);
    own.push_back(DeviceRule{.allow = true, .type = "c", .major = 10, .minor = 229, .access = "r"});
    const auto kept = with_device_nodes_allowed(own, {fuse});
    EXPECT_EQ(kept, own);
    EXPECT_EQ(run_device_program(device_program(kept), chr, wr, 10, 229), 0);
    EXPECT_EQ(run_device_program(device_program(kept), chr, rd, 10, 229), 1);
}

TEST(FinalDevices, DeviceFlagsParseLikeDockers) {
    const auto plain = parse_device_flag("/dev/null");
    EXPECT_EQ(plain.node.path, "/dev/null");
    EXPECT_EQ(plain.node.type, "c");
    EXPECT_EQ(plain.node.major, 1);
    EXPECT_EQ(plain.node.minor, 3);
    EXPECT_EQ(plain.node.file_mode, 0666u);
    EXPECT_EQ(v1_device_rule(plain.rule), "c 1:3 rwm");
    EXPECT_TRUE(plain.rule.allow);
    const auto renamed = parse_device_flag("/dev/null:/dev/nothing");
    EXPECT_EQ(renamed.node.path, "/dev/nothing");
    EXPECT_EQ(renamed.rule.access, "rwm");
    const auto perms_only = parse_device_flag("/dev/null:r");
    EXPECT_EQ(perms_only.node.path, "/dev/null") << "a second field of r, w, m is the permissions";
    EXPECT_EQ(perms_only.rule.access, "r");
    const auto all_three = parse_device_flag("/dev/null:/dev/n:mw");
    EXPECT_EQ(all_three.node.path, "/dev/n");
    EXPECT_EQ(all_three.rule.access, "mw");
    for (const char* bad : {"", "/etc/hostname", "/no/such/node", "/dev/null:n", "/dev/null:/dev/n:rwx",
                            "/dev/null:/dev/n:rr", "/dev/null:/a:r:x"}) {
        EXPECT_THROW((void)parse_device_flag(bad), nsrun::Error) << bad;
    }
}

} // namespace
