#include "nsrun/fs.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"
#include "nsrun/sys.hpp"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
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

std::optional<std::uint64_t> keyed_value_in(std::string_view text, std::string_view key) {
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        const auto space = line.find(' ');
        if (space == std::string_view::npos || line.substr(0, space) != key) {
            continue;
        }
        const std::string_view number = line.substr(space + 1);
        std::uint64_t value = 0;
        const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
        if (ec == std::errc{}) {
            return value;
        }
    }
    return std::nullopt;
}

std::uint64_t keyed_value(const std::string& path, const std::string& key) {
    return keyed_value_in(sys::read_file(path), key).value_or(0);
}

void make_dirs(const std::string& path, mode_t mode) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        if (slash + 1 < path.size() && path[slash - 1] != '/') {
            sys::mkdir(path.substr(0, slash), mode);
        }
    }
    sys::mkdir(path, mode);
}

void write_file_atomic(const std::string& path, std::string_view content, mode_t mode, Durability durability) {
    const std::string temporary = fmt::format("{}.tmp.{}", path, ::getpid());
    try {
        {
            const UniqueFd fd = sys::open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode);
            if (explain::enabled()) {
                explain::note("open({}, O_WRONLY|O_CREAT|O_TRUNC, {:#o}) = {}", explain::quote(temporary), mode, fd.get());
            }
            std::string_view rest = content;
            while (!rest.empty()) {
                const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw SysError(fmt::format("write({})", explain::quote(temporary)), errno);
                }
                rest.remove_prefix(static_cast<std::size_t>(n));
            }
            if (explain::enabled()) { // quoting a whole state record costs more than writing it
                explain::note("write({}, {}{}) = {}", explain::quote(temporary), explain::quote(content.substr(0, 64)),
                              content.size() > 64 ? "..." : "", content.size());
            }
            if (durability == Durability::power_loss) {
                sys::fsync(fd.get(), temporary);
            }
        }
        sys::rename(temporary, path);
    } catch (...) {
        ::unlink(temporary.c_str());
        throw;
    }
    if (durability != Durability::power_loss) {
        return;
    }
    // The rename itself is durable only once the directory is on disk.
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const UniqueFd dir_fd = sys::open(dir, O_RDONLY | O_DIRECTORY);
    sys::fsync(dir_fd.get(), dir);
}

FileLock::FileLock(const std::string& path)
    : path_(path), fd_(sys::open(path, O_RDWR | O_CREAT, 0644)) {
    sys::flock(fd_.get(), LOCK_EX, path_);
}

void FileLock::release() {
    if (fd_) {
        sys::flock(fd_.get(), LOCK_UN, path_);
        fd_.reset();
    }
}

std::optional<FileLock> FileLock::try_acquire(const std::string& path) {
    UniqueFd fd = sys::open(path, O_RDWR | O_CREAT, 0644);
    if (!sys::flock(fd.get(), LOCK_EX | LOCK_NB, path)) {
        return std::nullopt;
    }
    return FileLock{path, std::move(fd)};
}

} // namespace nsrun::fs
