/// @file fs.hpp
/// @brief Small filesystem helpers the runtime needs again and again.
///
/// Whatever changes the filesystem goes through nsrun::sys, so `--explain`
/// narrates it; the read-only questions (exists, is_directory) are silent.
#pragma once

#include "nsrun/fd.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace nsrun::fs {

/// Whether anything exists at `path` (a dangling symlink counts as absent).
[[nodiscard]] bool exists(const std::string& path);
/// Whether `path` is a directory (following symlinks).
[[nodiscard]] bool is_directory(const std::string& path);

/// The value N of a "key N" line in a flat-keyed text such as cgroupfs's
/// memory.events ("oom_kill 3"); nullopt when no line has that key.
[[nodiscard]] std::optional<std::uint64_t> keyed_value_in(std::string_view text, std::string_view key);
/// keyed_value_in() of the file at `path` (read with sys::read_file, which
/// throws SysError if it cannot be read); 0 when the key is absent.
[[nodiscard]] std::uint64_t keyed_value(const std::string& path, const std::string& key);

/// mkdir -p: make `path` and every missing parent with `mode`, narrated.
void make_dirs(const std::string& path, mode_t mode = 0755);

/// How long a file written by write_file_atomic() must last.
enum class Durability {
    /// Through a power loss: fsync the file and its directory (an image's
    /// metadata on disk).
    power_loss,
    /// Through any process's crash, not the machine's: no fsync.  For state
    /// that dies with the boot anyway (a runtime's records under /run, a
    /// tmpfs on most machines), where a disk flush per write would be most
    /// of a container start where /run is on disk.
    process_crash,
};

/// Write `content` to `path` so that a reader sees either the old file or
/// the whole new one, never a part: write a temporary file beside it,
/// (fsync it,) rename(2) it over `path`, (fsync the directory).  A crash in
/// the middle leaves at most a "PATH.tmp.PID" behind, never a truncated PATH.
void write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644,
                       Durability durability = Durability::power_loss);

/// An exclusive flock(2) on a lock file, held for the object's lifetime
/// (the kernel also drops it when the process dies, even by SIGKILL, so a
/// crashed runtime never leaves a lock held).
class FileLock {
public:
    /// Open (create) `path` and wait for the lock.
    explicit FileLock(const std::string& path);
    /// Take the lock only if nobody holds it: nullopt otherwise.
    [[nodiscard]] static std::optional<FileLock> try_acquire(const std::string& path);

    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock() = default; // closing the descriptor releases the lock

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    /// Release the lock now (flock LOCK_UN), before the object ends.  Unlike
    /// closing, this releases it for every process sharing the descriptor:
    /// a child cloned while the lock was held keeps a copy until it execs.
    void release();

private:
    FileLock(std::string path, UniqueFd fd) noexcept : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    UniqueFd fd_;
};

} // namespace nsrun::fs
