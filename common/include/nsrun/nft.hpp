/// @file nft.hpp
/// @brief nftables through Debian's libnftables: run nft commands, narrated.
///
/// libnftables is the library behind the `nft` command: it parses the same
/// language and sends the resulting batch to the kernel over netlink
/// (NETLINK_NETFILTER) as one *transaction* — every command of a batch is
/// applied, or none is.  The runtime hands it text such as
///
///     add element ip nsrun publish_any { tcp . 8080 : 10.203.0.2 . 80 }
///
/// and `--explain` prints exactly that text.  Rules apply to the network
/// namespace of the calling process (like every netlink socket).
#pragma once

#include <memory>
#include <string>

struct nft_ctx;

namespace nsrun::nft {

/// One libnftables context (nft_ctx_new … nft_ctx_free), with output and
/// errors captured in buffers instead of printed.
class Context {
public:
    Context();
    Context(Context&&) noexcept = default;
    Context& operator=(Context&&) noexcept = default;
    ~Context();

    /// Run `commands` (one or more lines of the nft language) as one
    /// transaction.  Narrated line by line as "nft: <command>"; on failure
    /// throws nsrun::Error carrying nft's own error text.  Returns the output
    /// (for `list …` commands).
    std::string run(const std::string& commands);

    /// Like run(), but a failure returns false (error text in `error`)
    /// instead of throwing — for cleanup paths and "create if absent".
    bool try_run(const std::string& commands, std::string* error = nullptr);

private:
    struct Free {
        void operator()(nft_ctx* ctx) const noexcept;
    };
    std::unique_ptr<nft_ctx, Free> ctx_;
};

} // namespace nsrun::nft
