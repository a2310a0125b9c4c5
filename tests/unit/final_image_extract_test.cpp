// Unit tests of the image code's logic, on temporary trees (no namespaces,
// no mounts): entry names → components, whiteout names, LayerWriter on an
// in-memory archive (whiteouts in overlayfs's form, symlinks never followed),
// digests and image names, SHA-256 against known vectors.
#include "image_extract.hpp"
#include "image_store.hpp"
#include "sha256.hpp"
#include "tree.hpp"

#include <nsrun/error.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

using Parts = std::vector<std::string>;

TEST(ImageLogic, EntryNamesBecomeComponents) {
    EXPECT_EQ(entry_components("./usr//bin/"), (Parts{"usr", "bin"}));
    EXPECT_EQ(entry_components("a/./b"), (Parts{"a", "b"}));
    EXPECT_EQ(entry_components("./"), Parts{});
    EXPECT_EQ(entry_components("..foo/x..y"), (Parts{"..foo", "x..y"})) << "only a whole '..' component climbs";
}

TEST(ImageLogic, EntryNamesThatClimbOrAreAbsoluteAreRefused) {
    for (const char* bad : {"../x", "a/../../x", "a/..", "/etc/passwd", "", "..", "./../x"}) {
        EXPECT_THROW((void)entry_components(bad), nsrun::Error) << bad;
    }
}

TEST(ImageLogic, WhiteoutNames) {
    EXPECT_EQ(classify_whiteout("file").kind, Whiteout::none);
    EXPECT_EQ(classify_whiteout(".whx").kind, Whiteout::none);
    const Whiteout w = classify_whiteout(".wh.passwd");
    EXPECT_EQ(w.kind, Whiteout::file);
    EXPECT_EQ(w.target, "passwd");
    EXPECT_EQ(classify_whiteout(".wh..wh..opq").kind, Whiteout::opaque);
    for (const char* bad : {".wh.", ".wh..", ".wh...", ".wh..wh.x"}) {
        EXPECT_THROW((void)classify_whiteout(bad), nsrun::Error) << bad;
    }
}

TEST(ImageLogic, DigestsAndNamesAreChecked) {
    const std::string hex(64, 'a');
    EXPECT_EQ(digest_hex("sha256:" + hex, "t"), hex);
    for (const std::string& bad : std::vector<std::string>{"sha256:../../x", "sha256:" + std::string(63, 'a'), "sha512:" + hex,
                                  "sha256:" + std::string(64, 'A'), "sha256:" + hex + "/"}) {
        EXPECT_THROW((void)digest_hex(bad, "t"), nsrun::Error) << bad;
    }
    EXPECT_EQ(normalize_ref("alpine"), "alpine:latest");
    EXPECT_EQ(normalize_ref("alpine:3.19"), "alpine:3.19");
    EXPECT_EQ(normalize_ref("localhost:5000/team/app"), "localhost:5000/team/app:latest");
    for (const char* bad : {"Alpine", "a b", "../x", "x:", ":tag", "x:../y"}) {
        EXPECT_THROW((void)normalize_ref(bad), nsrun::Error) << bad;
    }
}

TEST(ImageLogic, Sha256MatchesKnownVectors) {
    EXPECT_EQ(Sha256::of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256::of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256::of(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    Sha256 pieces; // the same bytes in odd-sized pieces
    const std::string text(1000, 'q');
    for (std::size_t i = 0; i < text.size(); i += 7) {
        pieces.update(text.substr(i, 7));
    }
    EXPECT_EQ(pieces.hex(), Sha256::of(text));
}

/// A temporary directory for a layer, removed afterwards.
class LayerTree : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "nsrun-layer-unit.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        base_ = pattern;
        fs::create_directories(base_ + "/layer");
        fs::create_directories(base_ + "/outside");
    }
    void TearDown() override { remove_tree(base_); }

    struct Item {
        std::string name{};
        char type = 'f';
        std::string link{};
    };
    /// Write `items` through a LayerWriter, reading them back from a tar in memory.
    void unpack(const std::vector<Item>& items) {
        std::string tar;
        archive* w = archive_write_new();
        archive_write_set_format_pax_restricted(w);
        archive_write_open(
            w, &tar, nullptr,
            [](archive*, void* out, const void* buf, size_t n) -> la_ssize_t {
                static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
                return static_cast<la_ssize_t>(n);
            },
            nullptr);
        for (const auto& item : items) {
            archive_entry* e = archive_entry_new();
            archive_entry_set_pathname(e, item.name.c_str());
            archive_entry_set_perm(e, item.type == 'd' ? 0755 : 0644);
            if (item.type == 'd') {
                archive_entry_set_filetype(e, AE_IFDIR);
            } else if (item.type == 'l') {
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_symlink(e, item.link.c_str());
            } else {
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, 2);
            }
            archive_write_header(w, e);
            if (item.type == 'f') {
                archive_write_data(w, "x\n", 2);
            }
            archive_entry_free(e);
        }
        archive_write_close(w);
        archive_write_free(w);

        archive* r = archive_read_new();
        archive_read_support_format_tar(r);
        archive_read_open_memory(r, tar.data(), tar.size());
        LayerOptions options;
        options.privileged = ::geteuid() == 0;
        options.opaque_xattr = options.privileged ? "trusted.overlay.opaque" : "user.overlay.opaque";
        try {
            LayerWriter writer(base_ + "/layer", options);
            archive_entry* entry = nullptr;
            while (archive_read_next_header(r, &entry) == ARCHIVE_OK) {
                writer.add(r, entry);
            }
            writer.finish();
        } catch (...) {
            archive_read_free(r);
            throw;
        }
        archive_read_free(r);
    }
    std::string base_;
};

TEST_F(LayerTree, WhiteoutsBecomeOverlayfsWhiteouts) {
    unpack({{"etc", 'd'}, {"etc/.wh.passwd"}, {"data", 'd'}, {"data/.wh..wh..opq"}, {"data/new"}});
    struct stat st {};
    ASSERT_EQ(::lstat((base_ + "/layer/etc/passwd").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, ::makedev(0, 0));
    EXPECT_FALSE(fs::exists(base_ + "/layer/etc/.wh.passwd"));
    char value[4] = {};
    const char* xattr = ::geteuid() == 0 ? "trusted.overlay.opaque" : "user.overlay.opaque";
    EXPECT_EQ(::getxattr((base_ + "/layer/data").c_str(), xattr, value, sizeof value), 1);
    EXPECT_EQ(value[0], 'y');
    EXPECT_TRUE(fs::exists(base_ + "/layer/data/new"));
}

TEST_F(LayerTree, MissingParentsAreMadeAndFilesWritten) {
    unpack({{"a/b/c/file"}, {"./a/link", 'l', "b/c/file"}});
    EXPECT_TRUE(fs::is_regular_file(base_ + "/layer/a/b/c/file"));
    EXPECT_TRUE(fs::is_symlink(base_ + "/layer/a/link"));
}

TEST_F(LayerTree, SymlinksAreNeverWrittenThrough) {
    EXPECT_THROW(unpack({{"out", 'l', base_ + "/outside"}, {"out/x"}}), nsrun::Error);
    EXPECT_TRUE(fs::is_empty(base_ + "/outside"));
    remove_tree(base_ + "/layer");
    fs::create_directories(base_ + "/layer");
    EXPECT_THROW(unpack({{"a", 'd'}, {"a/b", 'l', "../.."}, {"a/b/x"}}), nsrun::Error);
    EXPECT_FALSE(fs::exists(base_ + "/x"));
    remove_tree(base_ + "/layer");
    fs::create_directories(base_ + "/layer");
    EXPECT_THROW(unpack({{"w", 'l', base_ + "/outside"}, {"w/.wh.x"}}), nsrun::Error);
    EXPECT_TRUE(fs::is_empty(base_ + "/outside"));
}

TEST_F(LayerTree, DuplicatesAreRefused) {
    EXPECT_THROW(unpack({{"f"}, {"f"}}), nsrun::Error);
    remove_tree(base_ + "/layer");
    fs::create_directories(base_ + "/layer");
    EXPECT_THROW(unpack({{"d/.wh.f"}, {"d/f"}}), nsrun::Error) << "a whiteout and a file of the same name";
}

TEST_F(LayerTree, RemoveTreeDoesNotFollowSymlinks) {
    std::ofstream(base_ + "/outside/keep") << "x";
    fs::create_directories(base_ + "/layer/d");
    fs::create_directory_symlink(base_ + "/outside", base_ + "/layer/d/link");
    ::chmod((base_ + "/layer/d").c_str(), 0);
    EXPECT_TRUE(remove_tree(base_ + "/layer"));
    EXPECT_TRUE(fs::exists(base_ + "/outside/keep"));
}

} // namespace
