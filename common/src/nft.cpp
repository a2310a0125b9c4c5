#include "nsrun/nft.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"

#include <nftables/libnftables.h>

#include <sstream>

#include <fmt/format.h>

namespace nsrun::nft {
namespace {

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

void Context::Free::operator()(nft_ctx* ctx) const noexcept { ::nft_ctx_free(ctx); }

Context::Context() : ctx_(::nft_ctx_new(NFT_CTX_DEFAULT)) {
    if (!ctx_) {
        throw Error{"nft_ctx_new() failed: cannot set up libnftables", "is the nftables library installed (make deps)?"};
    }
    ::nft_ctx_buffer_output(ctx_.get());
    ::nft_ctx_buffer_error(ctx_.get());
}

Context::~Context() = default;

bool Context::try_run(const std::string& commands, std::string* error) {
    const int rc = ::nft_run_cmd_from_buffer(ctx_.get(), commands.c_str());
    const std::string errors = trimmed(::nft_ctx_get_error_buffer(ctx_.get()));
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
    return trimmed(::nft_ctx_get_output_buffer(ctx_.get()));
}

} // namespace nsrun::nft
