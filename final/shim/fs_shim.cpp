// TEMPORARY shim (see shim/nsrun/fs.hpp).
#include "nsrun/fs.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun::fs {
bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }
bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
std::uint64_t keyed_value(const std::string& path, const std::string& key) {
    std::istringstream lines(sys::read_file(path));
    std::string name;
    std::uint64_t value = 0;
    while (lines >> name >> value) {
        if (name == key) return value;
    }
    return 0;
}
void make_dirs(const std::string& path, mode_t mode) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        if (!is_directory(path.substr(0, slash))) sys::mkdir(path.substr(0, slash), mode);
    }
    sys::mkdir(path, mode);
}
void write_file_atomic(const std::string& path, std::string_view content, mode_t mode) {
    const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    {
        UniqueFd fd = sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
            throw SysError(fmt::format("write({})", tmp), errno);
        }
        ::fsync(fd.get());
    }
    if (::rename(tmp.c_str(), path.c_str()) == -1) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw SysError(fmt::format("rename({}, {})", tmp, path), err);
    }
    explain::note("rename({}, {}) = 0 (atomic write)", explain::quote(tmp), explain::quote(path));
}
FileLock::FileLock(const std::string& path) : path_(path), fd_(sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    while (::flock(fd_.get(), LOCK_EX) == -1) {
        if (errno != EINTR) throw SysError(fmt::format("flock({}, LOCK_EX)", explain::quote(path)), errno);
    }
    explain::note("flock({}, LOCK_EX) = 0", explain::quote(path));
}
std::optional<FileLock> FileLock::try_acquire(const std::string& path) {
    UniqueFd fd = sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == -1) return std::nullopt;
    return FileLock{path, std::move(fd)};
}
} // namespace nsrun::fs
