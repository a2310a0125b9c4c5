// The runtime re-executes from a sealed copy of itself (sealed_exe.hpp).
// A memfd is an anonymous file in memory; its seals (fcntl F_ADD_SEALS) are
// one-way: once F_SEAL_WRITE is on, no write(2) or writable mmap of it can
// ever succeed again, for anyone, and F_SEAL_SEAL forbids removing a seal.
#include "sealed_exe.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fd.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <fmt/format.h>

extern char** environ;

namespace {

constexpr int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U // Linux 6.3: ask for an executable memfd where vm.memfd_noexec=1
#endif

[[noreturn]] void fail(const std::string& call, int err) { throw nsrun::SysError(call, err); }

/// How much of the ELF file `exe` execve needs: its headers and every
/// segment it loads.  What follows (debug information, symbol tables,
/// section headers: 95 % of a debug build) is never read by the kernel or
/// the loader, and is not copied.
off_t loaded_size(int exe) {
    Elf64_Ehdr header{};
    if (::pread(exe, &header, sizeof header, 0) != sizeof header || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr)) {
        fail("read(/proc/self/exe): not a 64-bit ELF file", ENOEXEC);
    }
    std::vector<Elf64_Phdr> segments(header.e_phnum);
    const auto bytes = static_cast<ssize_t>(segments.size() * sizeof(Elf64_Phdr));
    if (::pread(exe, segments.data(), static_cast<std::size_t>(bytes), static_cast<off_t>(header.e_phoff)) != bytes) {
        fail("read(/proc/self/exe): its program headers", ENOEXEC);
    }
    auto end = static_cast<off_t>(header.e_phoff) + bytes;
    for (const auto& segment : segments) {
        end = std::max(end, static_cast<off_t>(segment.p_offset + segment.p_filesz));
    }
    return end;
}

/// A sealed memfd holding what execve needs of `exe`.
nsrun::UniqueFd sealed_copy_of(int exe) {
    nsrun::UniqueFd copy = executable_memfd("nsrun");
    const off_t size = loaded_size(exe);
    for (off_t offset = 0; offset < size;) {
        const ssize_t n = ::sendfile(copy.get(), exe, &offset, static_cast<std::size_t>(size - offset));
        if (n <= 0) {
            fail(fmt::format("sendfile(memfd, /proc/self/exe, {})", size), n == 0 ? EIO : errno);
        }
    }
    // The section headers were left behind: say so in the copy's header.
    Elf64_Ehdr header{};
    if (::pread(copy.get(), &header, sizeof header, 0) != sizeof header) {
        fail("pread(memfd, ELF header)", errno);
    }
    header.e_shoff = 0;
    header.e_shnum = 0;
    header.e_shstrndx = SHN_UNDEF;
    if (::pwrite(copy.get(), &header, sizeof header, 0) != sizeof header) {
        fail("pwrite(memfd, ELF header)", errno);
    }
    nsrun::explain::note("sendfile({}, /proc/self/exe, {} bytes: the ELF header and loadable segments) = {}",
                         copy.get(), size, size);
    seal_memfd(copy.get());
    return copy;
}

} // namespace

nsrun::UniqueFd executable_memfd(const char* name) {
    nsrun::UniqueFd memfd{::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC)};
    if (!memfd && errno == EINVAL) { // before 6.3: no MFD_EXEC, and a memfd is executable anyway
        memfd = nsrun::UniqueFd{::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)};
    }
    if (!memfd) {
        fail(fmt::format("memfd_create(\"{}\", MFD_CLOEXEC|MFD_ALLOW_SEALING)", name), errno);
    }
    nsrun::explain::note("memfd_create(\"{}\", MFD_CLOEXEC|MFD_ALLOW_SEALING) = {}", name, memfd.get());
    return memfd;
}

void seal_memfd(int memfd) {
    if (::fcntl(memfd, F_ADD_SEALS, seals) == -1) {
        fail("fcntl(memfd, F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE)", errno);
    }
    nsrun::explain::note("fcntl({}, F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE) = 0", memfd);
}

void run_from_sealed_copy(char** argv, bool narrate) {
    nsrun::explain::enable(narrate);
    try {
        const nsrun::UniqueFd exe{::open("/proc/self/exe", O_RDONLY | O_CLOEXEC)};
        if (!exe) {
            fail("open(/proc/self/exe, O_RDONLY)", errno);
        }
        const int present = ::fcntl(exe.get(), F_GET_SEALS);
        if (present != -1 && (present & seals) == seals) {
            nsrun::explain::note("/proc/self/exe is a sealed memfd: running from the sealed copy");
            return;
        }
        const nsrun::UniqueFd copy = sealed_copy_of(exe.get());
        nsrun::explain::note("fexecve({}, {})", copy.get(), nsrun::explain::quote(std::vector<std::string>(argv, argv + 1)));
        ::fexecve(copy.get(), argv, environ);
        fail("fexecve(sealed copy of nsrun)", errno);
    } catch (const nsrun::Error& e) {
        nsrun::cli::print_warning(fmt::format("{}: nsrun runs from its own file, not a sealed copy; a container "
                                              "could reach the host's binary through /proc/PID/exe",
                                              e.what()));
    }
}

namespace {
char** remembered_argv = nullptr;
bool remembered_narrate = false;
} // namespace

void remember_command_line(char** argv, bool narrate) {
    remembered_argv = argv;
    remembered_narrate = narrate;
}

void run_from_sealed_copy() {
    if (remembered_argv) {
        run_from_sealed_copy(remembered_argv, remembered_narrate);
    }
}
