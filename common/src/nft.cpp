#include "nsrun/nft.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"

#include <nftables/libnftables.h>

#include <dlfcn.h>
#include <sstream>

#include <fmt/format.h>

namespace nsrun::nft {
namespace {

/// libnftables, opened on first use rather than linked.  Linked, it and the
/// five libraries it pulls in (libnftnl, libmnl, libxtables, libjansson,
/// libgmp) are mapped and relocated at every start of every runtime — about
/// a third of the dynamic loader's work, measured with LD_DEBUG=statistics
/// (docs/bench.md) — while only a start with -p needs them.
class Library {
public:
    static const Library& get() {
        static const Library library;
        return library;
    }
    decltype(&::nft_ctx_new) ctx_new = nullptr;
    decltype(&::nft_ctx_free) ctx_free = nullptr;
    decltype(&::nft_ctx_buffer_output) buffer_output = nullptr;
    decltype(&::nft_ctx_buffer_error) buffer_error = nullptr;
    decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer = nullptr;
    decltype(&::nft_ctx_get_output_buffer) get_output_buffer = nullptr;
    decltype(&::nft_ctx_get_error_buffer) get_error_buffer = nullptr;

private:
    static constexpr const char* soname = "libnftables.so.1";

    Library() {
        // Never closed: contexts may live until exit.
        void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            throw Error{fmt::format("dlopen({}): {}", soname, ::dlerror()),
                        "install nftables' library (Debian: libnftables1): sudo make deps"};
        }
        explain::note("dlopen({}, RTLD_NOW|RTLD_LOCAL): nftables loaded on first use", explain::quote(soname));
        resolve(handle, ctx_new, "nft_ctx_new");
        resolve(handle, ctx_free, "nft_ctx_free");
        resolve(handle, buffer_output, "nft_ctx_buffer_output");
        resolve(handle, buffer_error, "nft_ctx_buffer_error");
        resolve(handle, run_cmd_from_buffer, "nft_run_cmd_from_buffer");
        resolve(handle, get_output_buffer, "nft_ctx_get_output_buffer");
        resolve(handle, get_error_buffer, "nft_ctx_get_error_buffer");
    }

    template <typename Function>
    static void resolve(void* handle, Function& function, const char* name) {
        function = reinterpret_cast<Function>(::dlsym(handle, name));
        if (!function) {
            throw Error{fmt::format("dlsym({}, {}): {}", soname, name, ::dlerror()),
                        "the installed libnftables is not the one nsrun was built with: sudo make deps"};
        }
    }
};

/// nft's error text is several lines (message, the command, a ^^^ marker):
/// keep it whole but without the trailing newline.
std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

void narrate(const std::string& commands, const std::string& result) {
    if (!explain::enabled()) {
        return;
    }
    std::istringstream lines(commands);
    for (std::string line; std::getline(lines, line);) {
        if (line.find_first_not_of(" \t") != std::string::npos) {
            explain::say(fmt::format("nft: {}", line));
        }
    }
    explain::say(fmt::format("nft: (transaction) {}", result));
}

} // namespace

void Context::Free::operator()(nft_ctx* ctx) const noexcept { Library::get().ctx_free(ctx); }

Context::Context() : ctx_(Library::get().ctx_new(NFT_CTX_DEFAULT)) {
    if (!ctx_) {
        throw Error{"nft_ctx_new() failed: cannot set up libnftables", "is the nftables library installed (make deps)?"};
    }
    Library::get().buffer_output(ctx_.get());
    Library::get().buffer_error(ctx_.get());
}

Context::~Context() = default;

bool Context::try_run(const std::string& commands, std::string* error) {
    const int rc = Library::get().run_cmd_from_buffer(ctx_.get(), commands.c_str());
    const std::string errors = trimmed(Library::get().get_error_buffer(ctx_.get()));
    narrate(commands, rc == 0 ? "= 0" : fmt::format("= -1 ({})", errors.substr(0, errors.find('\n'))));
    if (error) {
        *error = errors;
    }
    return rc == 0;
}

std::string Context::run(const std::string& commands) {
    std::string errors;
    if (!try_run(commands, &errors)) {
        throw Error{fmt::format("nftables rejected the rules: {}", errors),
                    errors.find("Operation not permitted") != std::string::npos
                        ? "changing the firewall needs root (CAP_NET_ADMIN): run as root"
                        : "see the rules with --explain"};
    }
    return trimmed(Library::get().get_output_buffer(ctx_.get()));
}

} // namespace nsrun::nft
