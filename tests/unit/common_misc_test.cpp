// Unit tests of nsrun/container_id.hpp and nsrun/sysctl.hpp (pure logic).
#include <nsrun/container_id.hpp>
#include <nsrun/sysctl.hpp>

#include <gtest/gtest.h>

TEST(ContainerId, IsTwelveHexDigitsAndDiffers) {
    const std::string a = nsrun::make_container_id();
    const std::string b = nsrun::make_container_id();
    EXPECT_TRUE(nsrun::is_container_id(a)) << a;
    EXPECT_NE(a, b);
}

TEST(ContainerId, RefusesAnythingThatIsNotAnId) {
    for (const char* text : {"", "abc", "0123456789ab0", "0123456789aB", "../../etc/x", "0123456789a/"}) {
        EXPECT_FALSE(nsrun::is_container_id(text)) << "'" << text << "'";
    }
}

TEST(Sysctl, KeysBecomeProcSysPaths) {
    EXPECT_EQ(nsrun::sysctl::path_of("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
    EXPECT_EQ(nsrun::sysctl::path_of("net.ipv4.conf.all.route_localnet"),
              "/proc/sys/net/ipv4/conf/all/route_localnet");
}

TEST(Sysctl, ReadsWithoutTheTrailingNewline) {
    const std::string value = nsrun::sysctl::read("kernel.ostype");
    EXPECT_EQ(value, "Linux");
}
