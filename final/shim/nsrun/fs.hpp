// TEMPORARY shim: the API of common's nsrun/fs.hpp (landing from another
// branch); deleted when it lands.
#pragma once

#include "nsrun/fd.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace nsrun::fs {
[[nodiscard]] bool exists(const std::string& path);
[[nodiscard]] bool is_directory(const std::string& path);
[[nodiscard]] std::uint64_t keyed_value(const std::string& path, const std::string& key);
void make_dirs(const std::string& path, mode_t mode = 0755);
void write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644);
class FileLock {
public:
    explicit FileLock(const std::string& path);
    [[nodiscard]] static std::optional<FileLock> try_acquire(const std::string& path);
    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
private:
    FileLock(std::string path, UniqueFd fd) noexcept : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    UniqueFd fd_;
};
} // namespace nsrun::fs
