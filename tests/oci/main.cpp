// The OCI client tests' runner: GoogleTest plus the runtime under test.
//
//   oci-client-tests --bin=/usr/sbin/runc [--rootfs=DIR] [gtest flags]
//   oci-client-tests --bin=build/bin/nsrun --gtest_filter='Podman.*'
//
// Unlike the step suites' runner it is not a child subreaper: containerd's
// shims and podman's conmon daemonize and must be re-parented as on any
// machine; the suites stop what their engines started themselves.
#include "clients.hpp"

#include <cstdio>
#include <filesystem>
#include <string_view>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    auto& config = lab::config();
    config.probe_dir = NSRUN_PROBE_DIR;
    config.rootfs = NSRUN_LAB_ROOTFS;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with("--bin=")) {
            std::string bin(arg.substr(6));
            for (std::size_t at = 0; at <= bin.size();) {
                const std::size_t space = std::min(bin.find(' ', at), bin.size());
                if (space > at) config.bin.push_back(bin.substr(at, space - at));
                at = space + 1;
            }
            if (!config.bin.empty() && config.bin[0].find('/') != std::string::npos) {
                config.bin[0] = std::filesystem::absolute(config.bin[0]).string();
            }
        } else if (arg.starts_with("--rootfs=")) {
            config.rootfs = arg.substr(9);
        } else {
            std::fprintf(stderr, "oci-client-tests: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (config.bin.empty() && !::testing::GTEST_FLAG(list_tests)) {
        std::fprintf(stderr, "oci-client-tests: give the OCI runtime under test: --bin=PATH (runc, build/bin/nsrun)\n");
        return 2;
    }
    return RUN_ALL_TESTS();
}
