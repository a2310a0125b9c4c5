// The device cgroup (devices.hpp).  The kernel asks it on every open(2) of
// a device node and every mknod(2): type (char/block), major, minor and the
// access (read, write, mknod).  On v1 the devices controller keeps a list
// per cgroup; on v2 a small eBPF program returns 1 (allow) or 0 (EPERM).
// The program is built here instruction by instruction (no libbpf, no
// compiler): a few loads from its context and one block of compares per
// rule.
#include "devices.hpp"

#include "inroot.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fd.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

DeviceRule allow(const char* type, std::optional<std::int64_t> major, std::optional<std::int64_t> minor,
                 const char* access = "rwm") {
    return DeviceRule{.allow = true, .type = type, .major = major, .minor = minor, .access = access};
}

// --- eBPF instructions (linux/bpf.h's encoding) ---------------------------

bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
/// dst = *(u32 *)(src + off)
bpf_insn load_word(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn alu_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov_reg(std::uint8_t dst, std::uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov_imm(std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
/// if (dst != imm) goto +off
bpf_insn jump_not_equal(std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

/// The access bits of "rwm" (BPF_DEVCG_ACC_*).
std::int32_t access_bits(const std::string& access) {
    std::int32_t bits = 0;
    for (const char c : access) {
        bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    }
    return bits;
}

constexpr std::int32_t all_access = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

// Registers: r2 = device type, r3 = requested access, r4 = major, r5 = minor.
/// One rule: compares that jump past the block when they fail, then r0 = allow and exit.
std::vector<bpf_insn> rule_block(const DeviceRule& rule) {
    std::vector<bpf_insn> checks;
    if (rule.type == "c" || rule.type == "b") {
        checks.push_back(jump_not_equal(2, rule.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
    }
    if (const std::int32_t bits = access_bits(rule.access); bits != all_access) {
        // The request must be a subset of the rule's access: (r3 & ~bits) == 0.
        checks.push_back(mov_reg(1, 3));
        checks.push_back(alu_imm(BPF_AND, 1, ~bits));
        checks.push_back(jump_not_equal(1, 0, 0));
    }
    if (rule.major && *rule.major >= 0) {
        checks.push_back(jump_not_equal(4, static_cast<std::int32_t>(*rule.major), 0));
    }
    if (rule.minor && *rule.minor >= 0) {
        checks.push_back(jump_not_equal(5, static_cast<std::int32_t>(*rule.minor), 0));
    }
    // Each failing compare jumps to just past this block's two last instructions.
    const auto size = static_cast<std::int16_t>(checks.size());
    for (std::int16_t i = 0; i < size; ++i) {
        if (checks[static_cast<std::size_t>(i)].code == (BPF_JMP | BPF_JNE | BPF_K)) {
            checks[static_cast<std::size_t>(i)].off = static_cast<std::int16_t>(size - i - 1 + 2);
        }
    }
    checks.push_back(mov_imm(0, rule.allow ? 1 : 0));
    checks.push_back(exit_insn());
    return checks;
}

/// The device cgroup's type of a node: "u" (unbuffered char) is a char
/// device to it; a fifo ("p") is no device at all ("").
std::string cgroup_type(const DeviceNode& node) {
    return node.type == "b" ? "b" : node.type == "c" || node.type == "u" ? "c" : "";
}

mode_t file_type(const DeviceNode& node) {
    return node.type == "b" ? S_IFBLK : node.type == "p" ? S_IFIFO : S_IFCHR;
}

/// A node the caller named that cannot be made: the path, what went wrong, the fix.
nsrun::Error node_error(const DeviceNode& node, const std::string& what, const std::string& hint) {
    return nsrun::Error{fmt::format("device node {} ({} {}:{}): {}", node.path, node.type, node.major, node.minor, what),
                        hint};
}

/// mknodat(2) in the resolved parent; an entry already there is fine only
/// when it is this very node (e.g. /dev/null listed again).
void make_node(int parent, const std::string& name, const DeviceNode& node, mode_t mode) {
    const dev_t dev = makedev(static_cast<unsigned>(node.major), static_cast<unsigned>(node.minor));
    const int rc = ::mknodat(parent, name.c_str(), file_type(node) | mode, dev);
    const int err = errno;
    nsrun::explain::note("mknodat(<{}>, {}, {}|{:#o}, makedev({}, {})) {}", nsrun::explain::quote(node.path),
                         nsrun::explain::quote(name), node.type == "b" ? "S_IFBLK" : node.type == "p" ? "S_IFIFO" : "S_IFCHR",
                         mode, node.major, node.minor, nsrun::explain::result(rc, err));
    if (rc == 0) {
        return;
    }
    struct stat st {};
    if (err == EEXIST && ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (st.st_mode & S_IFMT) == file_type(node) && (node.type == "p" || st.st_rdev == dev)) {
        return;
    }
    if (err == EEXIST) {
        throw node_error(node, "the container already has something else at that path",
                         "give the node a path of its own (e.g. under /dev)");
    }
    throw node_error(node, fmt::format("mknodat: {}", nsrun::errno_text(err)),
                     "device nodes need CAP_MKNOD in the runtime's user namespace (run as root)");
}

/// A user namespace may not mknod (the kernel refuses a device node to
/// anyone but init_user_ns's CAP_MKNOD): the host's own node — --device's
/// HOST, or the node at the same path — is bind-mounted onto an empty file
/// made at the node's path inside the root, as runc and podman do rootless.
/// The host's node is opened once and checked (type and numbers) on that
/// descriptor, and the bind is made from it: no path is looked up twice.
void bind_host_node(int root, const DeviceNode& node) {
    const std::string& host = node.host_path.empty() ? node.path : node.host_path;
    const dev_t dev = makedev(static_cast<unsigned>(node.major), static_cast<unsigned>(node.minor));
    const int fd = ::open(host.c_str(), O_PATH | O_CLOEXEC);
    const int err = errno;
    nsrun::explain::note("open({}, O_PATH) {}", nsrun::explain::quote(host), nsrun::explain::result(fd, err));
    if (fd == -1) {
        throw node_error(node,
                         fmt::format("in a user namespace mknod(2) is refused, so the host's node {} is bound "
                                     "instead, but open({}, O_PATH) failed: {}",
                                     host, host, nsrun::errno_text(err)),
                         node.host_path.empty() ? "run as root (no --userns), or give it with --device HOST:CONTAINER"
                                                : "name a device node of this machine");
    }
    const nsrun::UniqueFd source{fd};
    struct stat st {};
    if (::fstat(source.get(), &st) == -1 || (st.st_mode & S_IFMT) != file_type(node) || st.st_rdev != dev) {
        throw node_error(node,
                         fmt::format("in a user namespace mknod(2) is refused, and the host's {} is not that node "
                                     "to bind",
                                     host),
                         "run as root (no --userns), or give the host's node with --device HOST:CONTAINER");
    }
    const nsrun::UniqueFd target = make_in_root(root, node.path, false);
    nsrun::sys::mount(fd_path(source).c_str(), fd_path(target), nullptr, MS_BIND);
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

} // namespace

std::vector<DeviceRule> default_device_rules(bool terminal) {
    std::vector<DeviceRule> rules = {
        DeviceRule{.allow = false, .type = "a", .major = std::nullopt, .minor = std::nullopt, .access = "rwm"},
        allow("c", std::nullopt, std::nullopt, "m"), // mknod of any node: opening it is another question
        allow("b", std::nullopt, std::nullopt, "m"),
        allow("c", 1, 3),  // null
        allow("c", 1, 5),  // zero
        allow("c", 1, 7),  // full
        allow("c", 1, 8),  // random
        allow("c", 1, 9),  // urandom
        allow("c", 5, 0),  // tty
        allow("c", 5, 2),  // ptmx
        allow("c", 136, std::nullopt), // /dev/pts/*
    };
    if (terminal) {
        rules.push_back(allow("c", 5, 1)); // console
    }
    return rules;
}

void allow_runtime_devices(Linux& linux) {
    const std::vector<DeviceRule> defaults = default_device_rules(false);
    auto& rules = linux.resources.devices;
    for (const auto& rule : defaults) {
        if (rule.allow) {
            rules.push_back(rule);
        }
    }
}

std::vector<DeviceRule> privileged_device_rules() { return {allow("a", std::nullopt, std::nullopt)}; }

std::vector<DeviceRule> with_device_nodes_allowed(std::vector<DeviceRule> rules, const std::vector<DeviceNode>& nodes) {
    if (rules.empty()) {
        return rules;
    }
    for (const auto& node : nodes) {
        const std::string type = cgroup_type(node);
        const auto names_it = [&](const DeviceRule& rule) {
            return rule.type == type && rule.major == node.major && rule.minor == node.minor;
        };
        if (!type.empty() && std::none_of(rules.begin(), rules.end(), names_it)) {
            rules.push_back(allow(type.c_str(), node.major, node.minor));
        }
    }
    return rules;
}

void make_device_nodes(const std::string& root, const std::vector<DeviceNode>& nodes, bool bind_from_host) {
    if (nodes.empty()) {
        return;
    }
    const nsrun::UniqueFd top = nsrun::sys::open(root.empty() ? "/" : root, O_PATH | O_DIRECTORY);
    for (const auto& node : nodes) {
        const std::filesystem::path path{node.path};
        if (!path.is_absolute() || !path.has_filename() || path.filename() == "..") {
            throw node_error(node, "not an absolute path to a file", "give the node's full path, e.g. /dev/fuse");
        }
        if (bind_from_host) {
            bind_host_node(top.get(), node);
            continue;
        }
        // The parent is resolved inside the root: a symlinked directory in
        // the image cannot place the node on the host.
        const nsrun::UniqueFd parent = make_in_root(top.get(), path.parent_path().string(), true);
        const std::string name = path.filename().string();
        const mode_t mode = node.file_mode.value_or(0666) & 07777;
        make_node(parent.get(), name, node, mode);
        // mknod's mode went through the umask; chown may clear set-id bits: owner first, then the mode.
        const uid_t uid = node.uid.value_or(0);
        const gid_t gid = node.gid.value_or(0);
        if (::fchownat(parent.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
            throw nsrun::SysError(fmt::format("fchownat({}, {}, {})", nsrun::explain::quote(node.path), uid, gid), errno);
        }
        if (::fchmodat(parent.get(), name.c_str(), mode, 0) == -1) {
            throw nsrun::SysError(fmt::format("fchmodat({}, {:#o})", nsrun::explain::quote(node.path), mode), errno);
        }
        nsrun::explain::note("fchownat({}, {}, {}) = 0; fchmodat({}, {:#o}) = 0", nsrun::explain::quote(node.path), uid,
                             gid, nsrun::explain::quote(node.path), mode);
    }
}

namespace {

/// docker's validDeviceMode: one to three of r, w, m, none twice.
bool is_device_access(const std::string& text) {
    if (text.empty() || text.size() > 3) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (std::string_view("rwm").find(text[i]) == std::string_view::npos ||
            text.find(text[i], i + 1) != std::string::npos) {
            return false;
        }
    }
    return true;
}

std::vector<std::string> split_colons(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1) {
        parts.push_back(text.substr(start, colon - start));
    }
    parts.push_back(text.substr(start));
    return parts;
}

} // namespace

DeviceRequest parse_device_flag(const std::string& text) {
    const auto refuse = [&](const std::string& why, const std::string& hint) {
        return nsrun::Error{fmt::format("--device {}: {}", text, why), hint};
    };
    const std::string syntax = "give HOST[:CONTAINER][:PERMS], e.g. /dev/fuse or /dev/sdb:/dev/xvdb:r";
    const auto parts = split_colons(text);
    if (parts.size() > 3 || parts.front().empty()) {
        throw refuse("not HOST[:CONTAINER][:PERMS]", syntax);
    }
    std::string host = parts[0];
    std::string inside = host;
    std::string access = "rwm";
    if (parts.size() == 3) {
        inside = parts[1];
        access = parts[2];
    } else if (parts.size() == 2) {
        (is_device_access(parts[1]) ? access : inside) = parts[1];
    }
    if (!is_device_access(access)) {
        throw refuse(fmt::format("\"{}\" is not a subset of rwm", access), syntax);
    }
    if (inside.empty() || inside.front() != '/') {
        throw refuse(fmt::format("\"{}\" is not an absolute path in the container", inside), syntax);
    }
    struct stat st {};
    if (::stat(host.c_str(), &st) == -1) {
        throw refuse(fmt::format("stat {}: {}", host, nsrun::errno_text(errno)), "name a device node of this machine");
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
        throw refuse(fmt::format("{} is not a character or block device", host), "name a device node of this machine");
    }
    const std::string type = S_ISBLK(st.st_mode) ? "b" : "c";
    DeviceRequest request;
    request.node = DeviceNode{.path = inside,
                              .type = type,
                              .major = major(st.st_rdev),
                              .minor = minor(st.st_rdev),
                              .file_mode = st.st_mode & 07777,
                              .uid = st.st_uid,
                              .gid = st.st_gid,
                              .host_path = host};
    request.rule = allow(type.c_str(), request.node.major, request.node.minor, access.c_str());
    return request;
}

std::string v1_device_rule(const DeviceRule& rule) {
    const auto number = [](const std::optional<std::int64_t>& n) {
        return n && *n >= 0 ? std::to_string(*n) : std::string("*");
    };
    return fmt::format("{} {}:{} {}", rule.type, number(rule.major), number(rule.minor), rule.access);
}

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
    std::vector<bpf_insn> program = {
        // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, in r1;
        // access_type = (access << 16) | type.
        load_word(2, 1, 0), alu_imm(BPF_AND, 2, 0xffff),
        load_word(3, 1, 0), alu_imm(BPF_RSH, 3, 16),
        load_word(4, 1, 4), load_word(5, 1, 8),
    };
    // The last matching rule decides: emitted last-first, the first match returns.
    for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) {
        const auto block = rule_block(*rule);
        program.insert(program.end(), block.begin(), block.end());
        if (block.size() == 2) {
            // A rule for every device ("a *:* rwm") always returns: the
            // verifier refuses code that can never run after it.
            return program;
        }
    }
    program.push_back(mov_imm(0, 0)); // nothing matched: EPERM
    program.push_back(exit_insn());
    return program;
}

void attach_device_program(const std::string& dir, const std::vector<DeviceRule>& rules) {
    const auto program = device_program(rules);
    std::string log(64 * 1024, '\0');
    static const char license[] = "Apache-2.0";
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<std::uintptr_t>(program.data());
    load.insn_cnt = static_cast<std::uint32_t>(program.size());
    load.license = reinterpret_cast<std::uintptr_t>(license);
    load.log_buf = reinterpret_cast<std::uintptr_t>(log.data());
    load.log_size = static_cast<std::uint32_t>(log.size());
    load.log_level = 1;
    const nsrun::UniqueFd prog{static_cast<int>(bpf(BPF_PROG_LOAD, load))};
    const int load_err = errno;
    nsrun::explain::note("bpf(BPF_PROG_LOAD, {{prog_type=BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt={} ({} rules)}}) {}",
                         program.size(), rules.size(), nsrun::explain::result(prog ? prog.get() : -1, load_err));
    if (!prog) {
        log.resize(std::strlen(log.c_str()));
        throw nsrun::Error{fmt::format("bpf(BPF_PROG_LOAD) of the device cgroup program: {}{}",
                                       nsrun::errno_text(load_err), log.empty() ? "" : "\nverifier: " + log),
                           "the kernel needs CONFIG_CGROUP_BPF and the runtime CAP_SYS_ADMIN (or CAP_BPF)"};
    }
    const nsrun::UniqueFd cgroup = nsrun::sys::open(dir, O_RDONLY | O_DIRECTORY);
    bpf_attr attach{};
    attach.target_fd = static_cast<std::uint32_t>(cgroup.get());
    attach.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    const long rc = bpf(BPF_PROG_ATTACH, attach);
    const int err = errno;
    nsrun::explain::note("bpf(BPF_PROG_ATTACH, {{target_fd={} <{}>, attach_type=BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI}}) {}",
                         cgroup.get(), dir, nsrun::explain::result(rc, err));
    if (rc == -1) {
        throw nsrun::Error{fmt::format("bpf(BPF_PROG_ATTACH) of the device program to {}: {}", dir,
                                       nsrun::errno_text(err)),
                           "the kernel needs CONFIG_CGROUP_BPF (cgroup v2 device control)"};
    }
}
