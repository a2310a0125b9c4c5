// Unit tests of nsrun's container names and ids (final/names.cpp): pure logic.
#include "names.hpp"

#include <nsrun/container_id.hpp>

#include <nsrun/error.hpp>

#include <gtest/gtest.h>

#include <set>

TEST(FinalNames, AcceptsDockerStyleNames) {
    for (const char* name : {"web", "a", "Web-1", "db_2.prod", "0start", "x.y-z_w"}) {
        EXPECT_EQ(name_problem(name), "") << name;
        EXPECT_NO_THROW(check_name(name)) << name;
    }
}

TEST(FinalNames, RefusesPathsAndOddCharacters) {
    for (const char* name : {"", "a/b", "..", "../etc", ".hidden", "-dash", "_under", "a b", "semi;colon", "ä"}) {
        EXPECT_NE(name_problem(name), "") << '"' << name << '"';
        try {
            check_name(name);
            ADD_FAILURE() << name << " was accepted";
        } catch (const nsrun::Error& e) {
            EXPECT_EQ(e.exit_status(), 125);
        }
    }
}

TEST(FinalNames, AtMostSixtyFourCharacters) {
    EXPECT_EQ(name_problem(std::string(64, 'a')), "");
    EXPECT_NE(name_problem(std::string(65, 'a')), "");
}

TEST(FinalNames, IdsAreTwelveHexDigitsAndDistinct) {
    std::set<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        const std::string id = nsrun::make_container_id();
        EXPECT_EQ(id.size(), 12u);
        EXPECT_TRUE(is_hex(id)) << id;
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 100u);
    EXPECT_FALSE(is_hex("web"));
    EXPECT_FALSE(is_hex(""));
}
