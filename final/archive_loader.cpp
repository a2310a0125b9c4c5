// libarchive, opened when `nsrun image import` first calls it, not linked.
//
// Linked, libarchive.so.13 and what it pulls in (libxml2 and ICU, libnettle,
// liblzma, libzstd, liblz4, libbz2, libacl, libstdc++…) would be mapped and
// relocated by the dynamic loader at every start of nsrun, most of them
// `nsrun run`, which never reads an archive: the loader's work was most of
// the difference between nsrun and bwrap (docs/bench.md).  So nsrun starts
// with no shared library at all where it is linked as a static PIE, and with
// libc alone elsewhere (final/CMakeLists.txt, `ldd build/bin/nsrun`).
//
// This file defines the libarchive functions final/image_*.cpp and
// cli_export.cpp call, with
// libarchive's own signatures: each one looks its real function up once in
// libarchive.so.13 (dlopen on the first call, dlsym) and calls it.  The call
// sites read as plain libarchive.  Only the nsrun executable links this
// file; the unit tests link libarchive itself.
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <cstdarg>
#include <cstdio>
#include <dlfcn.h>

#include <fmt/format.h>

namespace {

constexpr const char* soname = "libarchive.so.13";

/// The library's handle, opened on first use and never closed (archives
/// may live until exit).  Throws (125) naming the library and its package.
void* library() {
    static void* const handle = [] {
        void* opened = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!opened) {
            throw nsrun::Error{fmt::format("dlopen({}): {}", soname, ::dlerror()),
                               "nsrun image reads archives with libarchive: install it (Debian: "
                               "libarchive13; Fedora: libarchive; Arch: libarchive), or sudo make deps"};
        }
        nsrun::explain::note("dlopen({}, RTLD_NOW|RTLD_LOCAL): libarchive loaded on first use",
                             nsrun::explain::quote(soname));
        return opened;
    }();
    return handle;
}

/// The real function `name` of libarchive, as a pointer of type Function.
template <typename Function>
Function resolve(const char* name) {
    void* symbol = ::dlsym(library(), name);
    if (!symbol) {
        throw nsrun::Error{fmt::format("dlsym({}, {}): {}", soname, name, ::dlerror()),
                           "the installed libarchive is older than the one nsrun was built with: sudo make deps"};
    }
    return reinterpret_cast<Function>(symbol);
}

} // namespace

// The real function, looked up once per function (a static per expansion).
#define NSRUN_REAL(name) ([] {                                                  \
    static const auto function = resolve<decltype(&::name)>(#name);            \
    return function;                                                           \
}())

extern "C" {

struct archive* archive_read_new(void) { return NSRUN_REAL(archive_read_new)(); }
int archive_read_free(struct archive* a) { return NSRUN_REAL(archive_read_free)(a); }
int archive_read_support_filter_all(struct archive* a) { return NSRUN_REAL(archive_read_support_filter_all)(a); }
int archive_read_support_format_raw(struct archive* a) { return NSRUN_REAL(archive_read_support_format_raw)(a); }
int archive_read_support_format_tar(struct archive* a) { return NSRUN_REAL(archive_read_support_format_tar)(a); }
int archive_read_set_read_callback(struct archive* a, archive_read_callback* callback) {
    return NSRUN_REAL(archive_read_set_read_callback)(a, callback);
}
int archive_read_set_callback_data(struct archive* a, void* data) {
    return NSRUN_REAL(archive_read_set_callback_data)(a, data);
}
int archive_read_open1(struct archive* a) { return NSRUN_REAL(archive_read_open1)(a); }
int archive_filter_code(struct archive* a, int n) { return NSRUN_REAL(archive_filter_code)(a, n); }
int archive_read_open_filename(struct archive* a, const char* filename, size_t block_size) {
    return NSRUN_REAL(archive_read_open_filename)(a, filename, block_size);
}
int archive_read_next_header(struct archive* a, struct archive_entry** entry) {
    return NSRUN_REAL(archive_read_next_header)(a, entry);
}
la_ssize_t archive_read_data(struct archive* a, void* buffer, size_t size) {
    return NSRUN_REAL(archive_read_data)(a, buffer, size);
}
int archive_read_data_block(struct archive* a, const void** buffer, size_t* size, la_int64_t* offset) {
    return NSRUN_REAL(archive_read_data_block)(a, buffer, size, offset);
}
const char* archive_error_string(struct archive* a) { return NSRUN_REAL(archive_error_string)(a); }

// Variadic: formatted here, handed on as one "%s" argument.
void archive_set_error(struct archive* a, int error, const char* format, ...) {
    char message[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(message, sizeof message, format, args);
    va_end(args);
    NSRUN_REAL(archive_set_error)(a, error, "%s", message);
}

struct archive* archive_write_disk_new(void) { return NSRUN_REAL(archive_write_disk_new)(); }
int archive_write_disk_set_options(struct archive* a, int flags) {
    return NSRUN_REAL(archive_write_disk_set_options)(a, flags);
}
int archive_write_header(struct archive* a, struct archive_entry* entry) {
    return NSRUN_REAL(archive_write_header)(a, entry);
}
la_ssize_t archive_write_data_block(struct archive* a, const void* buffer, size_t size, la_int64_t offset) {
    return NSRUN_REAL(archive_write_data_block)(a, buffer, size, offset);
}
int archive_write_finish_entry(struct archive* a) { return NSRUN_REAL(archive_write_finish_entry)(a); }
int archive_write_close(struct archive* a) { return NSRUN_REAL(archive_write_close)(a); }
int archive_write_free(struct archive* a) { return NSRUN_REAL(archive_write_free)(a); }

__LA_MODE_T archive_entry_filetype(struct archive_entry* e) { return NSRUN_REAL(archive_entry_filetype)(e); }
const char* archive_entry_pathname(struct archive_entry* e) { return NSRUN_REAL(archive_entry_pathname)(e); }
const char* archive_entry_hardlink(struct archive_entry* e) { return NSRUN_REAL(archive_entry_hardlink)(e); }
void archive_entry_set_pathname(struct archive_entry* e, const char* name) {
    NSRUN_REAL(archive_entry_set_pathname)(e, name);
}
void archive_entry_set_hardlink(struct archive_entry* e, const char* target) {
    NSRUN_REAL(archive_entry_set_hardlink)(e, target);
}
la_int64_t archive_entry_size(struct archive_entry* e) { return NSRUN_REAL(archive_entry_size)(e); }
dev_t archive_entry_rdevmajor(struct archive_entry* e) { return NSRUN_REAL(archive_entry_rdevmajor)(e); }
dev_t archive_entry_rdevminor(struct archive_entry* e) { return NSRUN_REAL(archive_entry_rdevminor)(e); }

// nsrun export: a directory tree read from disk, written as a tar.
struct archive* archive_read_disk_new(void) { return NSRUN_REAL(archive_read_disk_new)(); }
int archive_read_disk_set_symlink_physical(struct archive* a) {
    return NSRUN_REAL(archive_read_disk_set_symlink_physical)(a);
}
int archive_read_disk_set_behavior(struct archive* a, int flags) {
    return NSRUN_REAL(archive_read_disk_set_behavior)(a, flags);
}
int archive_read_disk_open(struct archive* a, const char* path) { return NSRUN_REAL(archive_read_disk_open)(a, path); }
int archive_read_disk_descend(struct archive* a) { return NSRUN_REAL(archive_read_disk_descend)(a); }
int archive_read_next_header2(struct archive* a, struct archive_entry* entry) {
    return NSRUN_REAL(archive_read_next_header2)(a, entry);
}
struct archive* archive_write_new(void) { return NSRUN_REAL(archive_write_new)(); }
int archive_write_set_format_pax_restricted(struct archive* a) {
    return NSRUN_REAL(archive_write_set_format_pax_restricted)(a);
}
int archive_write_open_fd(struct archive* a, int fd) { return NSRUN_REAL(archive_write_open_fd)(a, fd); }
la_ssize_t archive_write_data(struct archive* a, const void* buffer, size_t size) {
    return NSRUN_REAL(archive_write_data)(a, buffer, size);
}
struct archive_entry* archive_entry_new(void) { return NSRUN_REAL(archive_entry_new)(); }
void archive_entry_free(struct archive_entry* e) { NSRUN_REAL(archive_entry_free)(e); }
struct archive_entry* archive_entry_clear(struct archive_entry* e) { return NSRUN_REAL(archive_entry_clear)(e); }
la_int64_t archive_entry_uid(struct archive_entry* e) { return NSRUN_REAL(archive_entry_uid)(e); }
la_int64_t archive_entry_gid(struct archive_entry* e) { return NSRUN_REAL(archive_entry_gid)(e); }
void archive_entry_set_uid(struct archive_entry* e, la_int64_t id) { NSRUN_REAL(archive_entry_set_uid)(e, id); }
void archive_entry_set_gid(struct archive_entry* e, la_int64_t id) { NSRUN_REAL(archive_entry_set_gid)(e, id); }
void archive_entry_set_uname(struct archive_entry* e, const char* name) { NSRUN_REAL(archive_entry_set_uname)(e, name); }
void archive_entry_set_gname(struct archive_entry* e, const char* name) { NSRUN_REAL(archive_entry_set_gname)(e, name); }

} // extern "C"
