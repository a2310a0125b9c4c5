// The device cgroup (devices.hpp).  The kernel asks it on every open(2) of
// a device node and every mknod(2): type (char/block), major, minor and the
// access (read, write, mknod).  On v1 the devices controller keeps a list
// per cgroup; on v2 a small eBPF program returns 1 (allow) or 0 (EPERM).
// The program is built here instruction by instruction (no libbpf, no
// compiler): a few loads from its context and one block of compares per
// rule.
#include "devices.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fd.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
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

std::vector<DeviceRule> privileged_device_rules() { return {allow("a", std::nullopt, std::nullopt)}; }

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
