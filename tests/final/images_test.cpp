// Images: `nsrun image import|ls|inspect|rm` and `nsrun run --image`.  The
// lab rootfs's OCI archive (make rootfs) is imported and run; the other
// images, and every malicious archive, are built here with libarchive's
// writer (archives.hpp), so each attack is exactly the bytes the test says.
// What is checked from the host: the store's files, the layers' whiteouts,
// that nothing appeared outside the store, and that no mount is left.
#include "archives.hpp"
#include "fixture.hpp"

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>
#include <fstream>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

namespace lab {
namespace {

namespace fs = std::filesystem;

class Images : public NsrunTest {
protected:
    void SetUp() override {
        NsrunTest::SetUp();
        fs::create_directories(outside());
        write_file(outside() + "/victim", "untouched\n");
    }
    std::string store() const { return base_.path() + "/store"; }
    std::string outside() const { return base_.path() + "/outside"; }
    std::string file(const std::string& name) const { return base_.path() + "/" + name; }

    /// `nsrun image SUB --image-root STORE ARGS…`
    Result image(const std::string& sub, std::vector<std::string> args = {}) {
        std::vector<std::string> all{"image", sub, "--image-root", store()};
        all.insert(all.end(), args.begin(), args.end());
        return nsrun(all);
    }
    /// `nsrun run --image-root STORE --network none ARGS…`
    Result run(std::vector<std::string> args) {
        std::vector<std::string> all{"run", "--image-root", store(), "--network", "none"};
        all.insert(all.end(), args.begin(), args.end());
        return nsrun(all);
    }
    std::string lab_archive() const { return config().rootfs + ".oci.tar"; }

    /// Names of the entries of a store directory ("layers", "images", "tmp").
    std::vector<std::string> in_store(const std::string& sub) const {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(store() + "/" + sub, ec)) {
            names.push_back(e.path().filename().string());
        }
        return names;
    }

    /// The archive was refused (125, `words` in the message) and left nothing:
    /// no image, no layer, no temporary directory, nothing outside the store.
    void expect_refused(const std::vector<std::string>& import_args, const std::string& words,
                        const std::string& what) {
        SCOPED_TRACE(what);
        const Result r = image("import", import_args);
        expect_exit(r, 125, what + " must be refused");
        expect_stderr_contains(r, words, "the error names what is wrong");
        EXPECT_TRUE(in_store("images").empty()) << "no image may be stored" << r;
        EXPECT_TRUE(in_store("layers").empty()) << "no layer may be stored" << r;
        EXPECT_TRUE(in_store("tmp").empty()) << "no half-unpacked layer may stay" << r;
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(outside())) {
            out.push_back(e.path().filename().string());
        }
        EXPECT_EQ(out, std::vector<std::string>{"victim"}) << "nothing may be written outside the store" << r;
        std::ifstream victim(outside() + "/victim");
        std::string content;
        std::getline(victim, content);
        EXPECT_EQ(content, "untouched") << "nothing outside the store may change" << r;
        EXPECT_FALSE(fs::exists(fs::path(base_.path()) / "x")) << r;
        EXPECT_FALSE(fs::exists(fs::path(base_.path()) / "escaped")) << r;
    }

    /// A plain rootfs tarball of `entries`, imported with --name.
    void expect_tarball_refused(const std::vector<TarEntry>& entries, const std::string& words, const std::string& what,
                                const std::string& filter = "none") {
        write_file(file("evil.tar"), make_tar(entries, filter));
        expect_refused({"--name", "evil", file("evil.tar")}, words, what);
    }

    /// A one-layer test image (busybox) with `process` as its config.
    TestImage small_image(const nlohmann::json& process, const std::string& filter = "gzip") {
        const auto entries = busybox_layer(config().rootfs);
        TestImage image;
        image.uncompressed.push_back(make_tar(entries));
        image.layers.push_back(make_tar(entries, filter));
        image.process = process;
        return image;
    }

    TempDir base_;
};

STEP_TEST(Images, ImportsTheLabArchiveAndListsIt,
          "image import of rootfs/lab.oci.tar stores one verified layer and the image lab:latest; ls and inspect show it") {
    const Result r = image("import", {lab_archive()});
    REQUIRE(expect_exit(r, 0, "the lab's OCI archive imports"));
    expect_stdout_contains(r, "Loaded image: lab:latest", "the image is named from its index.json");
    const Result ls = image("ls");
    expect_stdout_contains(ls, "NAME", "ls has a header");
    expect_stdout_contains(ls, "lab ", "ls lists the image");
    expect_stdout_contains(ls, "latest", "ls shows its tag");
    const Result inspect = image("inspect", {"lab"});
    REQUIRE(expect_exit(inspect, 0, "inspect finds the image by name"));
    const auto j = nlohmann::json::parse(inspect.out);
    ASSERT_EQ(j.size(), 1U);
    EXPECT_EQ(j[0]["RepoTags"], nlohmann::json::array({"lab:latest"}));
    ASSERT_EQ(j[0]["RootFS"]["Layers"].size(), 1U);
    const std::string layer = j[0]["LayerDirs"][0];
    EXPECT_TRUE(fs::exists(layer + "/bin/busybox")) << "the layer is unpacked once in the store: " << layer;
    EXPECT_TRUE(fs::is_symlink(layer + "/bin/sh"));
    struct stat st {};
    ASSERT_EQ(::stat(store().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700U) << "the store is root's alone: setuid files in layers stay out of reach";
    // A second import of the same archive stores nothing new.
    EXPECT_EQ(image("import", {lab_archive()}).status, 0);
    EXPECT_EQ(in_store("layers").size(), 1U);
    EXPECT_EQ(in_store("images").size(), 1U);
}

STEP_TEST(Images, RunImageStacksTheLayersUnderAnOverlay,
          "run --image lab runs COMMAND on the image's files; / is an overlay in the container only") {
    REQUIRE(expect_exit(image("import", {lab_archive()}), 0, "import"));
    const auto before = snapshot();
    const Result r = run({"--image", "lab", "--", "sh", "-c", "head -1 /etc/os-release; grep ' / ' /proc/mounts"});
    REQUIRE(expect_exit(r, 0, "the image runs"));
    expect_stdout_contains(r, "nsrun lab rootfs", "the image's /etc/os-release");
    expect_stdout_contains(r, "overlay", "the container's / is an overlay");
    expect_stdout_contains(r, "nodev", "the image's own device nodes are unusable");
    EXPECT_EQ(snapshot().mounts, before.mounts) << "the overlay was mounted in the container's namespace only";
    const Result userns = run({"--userns", "--image", "lab", "--", "sh", "-c", "head -1 /etc/os-release; echo x > /new && cat /new"});
    expect_exit(userns, 0, "with --userns the image runs too");
    expect_stdout_contains(userns, "nsrun lab rootfs", "in a user namespace / is the image's overlay as well");
    expect_stdout_contains(userns, "x", "and the container's root may write to it");
}

STEP_TEST(Images, ChangesStayInTheirContainer,
          "two containers of one image, at the same time: neither sees the other's changes, the image never does") {
    REQUIRE(expect_exit(image("import", {lab_archive()}), 0, "import"));
    const std::string layer = nlohmann::json::parse(image("inspect", {"lab"}).out)[0]["LayerDirs"][0];
    const std::vector<std::string> wait = {"sh", "-c", "echo changed > /srv/www/index.html; rm /etc/os-release; touch /mine; sleep 100"};
    std::vector<std::string> a{"run", "-d", "--name", "a", "--image-root", store(), "--network", "none", "--image", "lab", "--"};
    a.insert(a.end(), wait.begin(), wait.end());
    REQUIRE(expect_exit(nsrun(a), 0, "container a starts"));
    std::vector<std::string> b{"run", "-d", "--name", "b", "--image-root", store(), "--network", "none", "--image", "lab", "--", "sleep", "100"};
    REQUIRE(expect_exit(nsrun(b), 0, "container b starts"));
    Result seen;
    for (int i = 0; i < 50; ++i) { // until a has made its changes
        seen = nsrun({"exec", "a", "cat", "/srv/www/index.html"});
        if (seen.out.find("changed") != std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    expect_stdout_contains(seen, "changed", "a sees its own change");
    const Result other = nsrun({"exec", "b", "sh", "-c", "cat /srv/www/index.html; test -e /etc/os-release && echo os-release-here; test -e /mine || echo no-mine"});
    expect_stdout_contains(other, "Hello from", "b has the image's /srv/www/index.html");
    expect_stdout_contains(other, "os-release-here", "a's deletion is not b's");
    expect_stdout_contains(other, "no-mine", "a's new file is not b's");
    std::ifstream page(layer + "/srv/www/index.html");
    std::string line;
    std::getline(page, line);
    EXPECT_NE(line.find("Hello from"), std::string::npos) << "the layer in the store is unchanged: " << line;
    EXPECT_TRUE(fs::exists(layer + "/etc/os-release"));
    EXPECT_FALSE(fs::exists(layer + "/mine"));
    const Result fresh = run({"--image", "lab", "--", "cat", "/srv/www/index.html"});
    expect_stdout_contains(fresh, "Hello from", "a new container starts from the image, not from a's changes");
    // image rm refuses while containers use it; rm -f of the containers takes their upper layers away.
    const Result refused = image("rm", {"lab"});
    expect_exit(refused, 125, "an image in use is not removed");
    expect_stderr_contains(refused, "used by container", "the error names the user");
    EXPECT_EQ(nsrun({"rm", "-f", "a", "b"}).status, 0);
    EXPECT_TRUE(state_ids().empty()) << "the containers' directories (upper, work) are gone";
    const Result removed = image("rm", {"lab"});
    expect_exit(removed, 0, "once unused, the image is removed");
    EXPECT_TRUE(in_store("layers").empty()) << "with its last user gone, the layer goes too";
    EXPECT_TRUE(in_store("images").empty());
}

STEP_TEST(Images, ConfigDecidesTheProcessUnlessFlagsDo,
          "the image's Entrypoint, Cmd, Env, WorkingDir and User apply with no COMMAND; -e, -w, -u and COMMAND override them") {
    const nlohmann::json process = {{"Entrypoint", {"/bin/sh", "-c"}},
                                    {"Cmd", {"echo cmd-ran; pwd; id -u; id -g; echo $GREETING"}},
                                    {"Env", {"PATH=/bin", "GREETING=hello"}},
                                    {"WorkingDir", "/srv/www"},
                                    {"User", "www"}};
    write_file(file("small.tar"), make_oci(small_image(process, "zstd")));
    const Result imported = image("import", {file("small.tar")});
    REQUIRE(expect_exit(imported, 0, "an OCI image with a zstd layer imports"));
    const Result r = run({"--image", "test"});
    REQUIRE(expect_exit(r, 0, "with no COMMAND the image's Entrypoint and Cmd run"));
    EXPECT_EQ(r.out, "cmd-ran\n/srv/www\n33\n34\nhello\n") << "WorkingDir, User (from the image's /etc/passwd) and Env apply" << r;
    const Result o = run({"--image", "test", "-w", "/tmp", "-u", "0", "-e", "GREETING=bye", "--", "pwd; id -u; echo $GREETING"});
    EXPECT_EQ(o.out, "/tmp\n0\nbye\n") << "flags and COMMAND override the image (its Entrypoint stays)" << o;
    const Result e = run({"--image", "test", "--entrypoint", "/bin/echo", "--", "plain"});
    EXPECT_EQ(e.out, "plain\n") << "--entrypoint replaces the image's" << e;
}

STEP_TEST(Images, WhiteoutsHideLowerFiles,
          "a layer's .wh.NAME hides NAME and .wh..wh..opq hides a whole directory of the layers below: stored as overlayfs's 0:0 device and opaque xattr") {
    auto bottom = busybox_layer(config().rootfs);
    bottom.push_back({"etc/gone", 'f', "bottom\n"});
    bottom.push_back({"etc/kept", 'f', "bottom\n"});
    bottom.push_back({"data", 'd', "", "", 0755});
    bottom.push_back({"data/old", 'f', "bottom\n"});
    const std::vector<TarEntry> top = {{"etc", 'd', "", "", 0755}, {"etc/.wh.gone", 'f'}, {"data", 'd', "", "", 0755},
                                       {"data/.wh..wh..opq", 'f'}, {"data/new", 'f', "top\n"}};
    TestImage img;
    img.uncompressed = {make_tar(bottom), make_tar(top)};
    img.layers = {make_tar(bottom, "gzip"), make_tar(top)};
    img.process = {{"Env", {"PATH=/bin"}}};
    write_file(file("two.tar"), make_docker_save(img));
    REQUIRE(expect_exit(image("import", {file("two.tar")}), 0, "a docker-save archive with two layers imports"));
    const Result r = run({"--image", "test", "--", "sh", "-c", "ls /etc; echo --; ls /data"});
    REQUIRE(expect_exit(r, 0, "the image runs"));
    expect_stdout_contains(r, "kept", "files the top layer does not hide stay");
    expect_stdout_lacks(r, "gone", "the whiteout hides the bottom layer's file");
    expect_stdout_lacks(r, "old", "the opaque directory hides all the bottom layer had in it");
    expect_stdout_contains(r, "new", "the top layer's own file is there");
    const auto j = nlohmann::json::parse(image("inspect", {"test"}).out)[0];
    const std::string top_dir = j["LayerDirs"][1];
    struct stat st {};
    ASSERT_EQ(::lstat((top_dir + "/etc/gone").c_str(), &st), 0) << "the whiteout is in the top layer";
    EXPECT_TRUE(S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) << "overlayfs's whiteout: char 0:0";
    char value[8] = {};
    EXPECT_EQ(::getxattr((top_dir + "/data").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
    EXPECT_EQ(value[0], 'y') << "the opaque directory carries trusted.overlay.opaque=y";
    EXPECT_FALSE(fs::exists(top_dir + "/data/.wh..wh..opq"));
}

STEP_TEST(Images, PlainRootfsTarballBecomesAnImage,
          "import --name of a root filesystem tarball (gzip) makes a one-layer image that runs /bin/sh by default") {
    write_file(file("rootfs.tar.gz"), make_tar(busybox_layer(config().rootfs), "gzip"));
    const Result none = image("import", {file("rootfs.tar.gz")});
    expect_exit(none, 125, "without --name a plain tarball is refused");
    expect_stderr_contains(none, "--name", "the hint says how to import it");
    REQUIRE(expect_exit(image("import", {"--name", "mybase", file("rootfs.tar.gz")}), 0, "with --name it imports"));
    const Result r = run({"--image", "mybase:latest", "--", "cat", "/etc/group"});
    expect_stdout_contains(r, "www:x:34", "the tarball's files are the container's");
}

// --- archives that try to escape -------------------------------------------------

STEP_TEST(Images, EntriesNamedOutsideAreRefused,
          "entries named ../x, a/../../x or /abs are refused (125) and write nothing anywhere") {
    expect_tarball_refused({{"../x", 'f', "out"}}, "'..'", "../x");
    expect_tarball_refused({{"a", 'd'}, {"a/../../x", 'f', "out"}}, "'..'", "a/../../x");
    expect_tarball_refused({{base_.path() + "/escaped", 'f', "out"}}, "absolute", "an absolute path");
}

STEP_TEST(Images, SymlinksCannotBeWrittenThrough,
          "a symlink out of the layer (absolute, or a relative chain a/b -> ../..) followed by an entry through it is refused") {
    expect_tarball_refused({{"evil", 'l', "", outside()}, {"evil/x", 'f', "out"}}, "symlink", "a symlink to outside, then evil/x");
    expect_tarball_refused({{"a", 'd'}, {"a/b", 'l', "", "../.."}, {"a/b/escaped", 'f', "out"}}, "symlink",
                           "a relative chain a/b -> ../..");
    expect_tarball_refused({{"l", 'l', "", outside()}, {"l/.wh.victim", 'f'}}, "symlink", "a whiteout through a symlink");
}

STEP_TEST(Images, HardLinksStayInsideTheLayer,
          "hard links to paths outside the layer, absolute, or reachable only through a symlink are refused") {
    expect_tarball_refused({{"h", 'h', "", "../outside/victim"}}, "'..'", "a hard link to ../outside/victim");
    expect_tarball_refused({{"h", 'h', "", outside() + "/victim"}}, "absolute", "a hard link to an absolute path");
    expect_tarball_refused({{"l", 'l', "", outside()}, {"h", 'h', "", "l/victim"}}, "holds no file", "a hard link through a symlink");
    expect_tarball_refused({{"h", 'h', "", "nowhere"}}, "holds no file", "a hard link to a file the layer does not have");
}

STEP_TEST(Images, WhiteoutsMustNameAFile,
          ".wh. and .wh.. and ../.wh.x are refused") {
    expect_tarball_refused({{".wh.", 'f'}}, "whiteout", ".wh.");
    expect_tarball_refused({{".wh..", 'f'}}, "whiteout", ".wh..");
    expect_tarball_refused({{"../.wh.x", 'f'}}, "'..'", "../.wh.x");
}

STEP_TEST(Images, DevicesDuplicatesAndDamageAreRefused,
          "device nodes with absurd numbers, duplicate entries, a truncated archive and a gzip stream of garbage are refused") {
    expect_tarball_refused({{"dev", 'd'}, {"dev/disk", 'b', "", "", 0600, 4096, 0}}, "device", "a device 4096:0");
    expect_tarball_refused({{"f", 'f', "one"}, {"f", 'f', "two"}}, "second entry", "a duplicate entry");
    std::string whole = make_tar({{"big", 'f', std::string(100000, 'x')}});
    write_file(file("cut.tar"), whole.substr(0, 60000));
    expect_refused({"--name", "cut", file("cut.tar")}, "runcated", "a truncated archive");
    std::string garbage = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
    garbage += std::string(5000, '\x5a');
    write_file(file("garbage.tar.gz"), garbage);
    expect_refused({"--name", "garbage", file("garbage.tar.gz")}, "damaged", "a gzip stream of garbage");
    TestImage bad_layer; // digests right, content garbage: refused while unpacking
    bad_layer.layers = bad_layer.uncompressed = {garbage};
    write_file(file("badlayer.tar"), make_oci(bad_layer));
    expect_refused({file("badlayer.tar")}, "corrupt", "a layer whose gzip stream is garbage");
}

STEP_TEST(Images, DigestsAreVerifiedBeforeAnythingIsStored,
          "a digest like sha256:../../x, a layer whose content does not match its digest or diff_id, a manifest path with .. and a missing blob are refused") {
    const TestImage good = small_image({{"Cmd", {"/bin/sh"}}});
    write_file(file("a.tar"), make_oci(good, [](nlohmann::json& m) { m["config"]["digest"] = "sha256:../../x"; }));
    expect_refused({file("a.tar")}, "not a sha256 digest", "a digest sha256:../../x");
    TestImage tampered = good;
    tampered.uncompressed[0] = make_tar({{"other", 'f', "x"}}); // the config's diff_id is of another tar
    write_file(file("b.tar"), make_oci(tampered));
    expect_refused({file("b.tar")}, "the config says", "a layer whose diff_id does not match");
    write_file(file("c.tar"), make_oci(good, [](nlohmann::json& m) {
                   m["layers"][0]["digest"] = "sha256:" + std::string(64, 'a');
               }));
    expect_refused({file("c.tar")}, "missing blob", "a missing blob");
    write_file(file("d.tar"), make_docker_save(good, [](nlohmann::json& m) { m[0]["Layers"][0] = "../0/layer.tar"; }));
    expect_refused({file("d.tar")}, "not a path inside the archive", "a manifest layer path with ..");
    // A blob stored under a digest its content does not have (same size).
    TestImage forged = small_image({{"Cmd", {"/bin/sh"}}}, "none");
    forged.forged_layer = forged.layers[0];
    forged.forged_layer[forged.forged_layer.size() / 2] ^= 1;
    write_file(file("e.tar"), make_oci(forged));
    expect_refused({file("e.tar")}, "it is named by", "a layer blob whose content does not match its digest");
}

STEP_TEST(Images, ConcurrentImportsOfOneImageStoreItOnce,
          "three imports of the same archive at once all succeed and store its layer once") {
    std::vector<std::unique_ptr<Runtime>> imports;
    for (int i = 0; i < 3; ++i) {
        imports.push_back(start({"image", "import", "--image-root", store(), lab_archive()}));
    }
    for (auto& i : imports) {
        const Result r = i->finish(60s);
        expect_exit(r, 0, "each concurrent import succeeds");
    }
    EXPECT_EQ(in_store("layers").size(), 1U);
    EXPECT_EQ(in_store("images").size(), 1U);
    EXPECT_TRUE(in_store("tmp").empty());
}

/// Whether process `pid` waits for a flock(2) of the file open at `fd`: a
/// blocked request ("->") of /proc/locks with that pid and the file's
/// device and inode ("2: -> FLOCK  ADVISORY  WRITE 4242 00:2a:17 0 EOF").
bool waits_for_flock(pid_t pid, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return false;
    char file[64];
    std::snprintf(file, sizeof file, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    std::ifstream locks("/proc/locks");
    for (std::string line; std::getline(locks, line);) {
        std::istringstream words(line);
        std::string number, arrow, type, mode, access, owner, where;
        if (words >> number >> arrow >> type >> mode >> access >> owner >> where && arrow == "->" &&
            type == "FLOCK" && owner == std::to_string(pid) && where == file) {
            return true;
        }
    }
    return false;
}

STEP_TEST(Images, RemovedWhileARunStartsIsACleanError,
          "image rm -f between a run's look-up of the image and its record: the run fails with 125 naming the "
          "removal, and leaves no container, mount or state behind") {
    REQUIRE(expect_exit(image("import", {lab_archive()}), 0, "import"));
    const auto before = snapshot();
    // The run looks the image up, then records the container under the
    // state directory's names lock: holding that lock here stops it in
    // between, exactly where a concurrent image rm would slip in.
    const std::string run_dir = "/proc/" + std::to_string(host().pid()) + "/root/run/nsrun";
    fs::create_directories(run_dir);
    const int names = ::open((run_dir + "/containers.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(names, 0);
    ASSERT_EQ(::flock(names, LOCK_EX), 0);
    auto starting = start({"run", "--image-root", store(), "--network", "none", "--image", "lab", "--", "true"});
    // It has resolved the image once it waits for that lock: seen in
    // /proc/locks, not guessed from a fixed wait (a loaded machine may not
    // have run it that far yet).
    bool waiting = false;
    for (int i = 0; i < 600 && !waiting; ++i) {
        waiting = waits_for_flock(starting->pid(), names);
        if (!waiting) std::this_thread::sleep_for(50ms);
    }
    if (!waiting) ::close(names);
    ASSERT_TRUE(waiting) << "the run never waited for the state directory's names lock" << starting->record();
    const Result removed = image("rm", {"-f", "lab"});
    expect_exit(removed, 0, "nothing has recorded the image's use yet: rm -f removes it");
    EXPECT_TRUE(in_store("layers").empty()) << "and its layer";
    ::close(names);
    const Result r = starting->finish(30s);
    expect_exit(r, 125, "the run cannot use a removed image");
    expect_stderr_contains(r, "was removed", "the error says the image went away while the container started");
    EXPECT_TRUE(state_ids().empty()) << "no container is left" << r;
    EXPECT_EQ(snapshot().mounts, before.mounts) << "no overlay is left" << r;
}

STEP_TEST(Images, RootlessImportAndRunNeedNoRoot,
          "a user who is not root imports the lab archive into a store of its own and runs it: the layer is theirs, "
          "writes stay in the container, image rm empties the store, and no mount is left on the host") {
    // Everything the user touches is theirs: a 0755 directory with the
    // archive (a clone in a 0750 home would be unreadable to them), their
    // store and their state directory.
    const auto user = unprivileged_user();
    REQUIRE(user.has_value());
    const std::string home = base_.path() + "/home";
    fs::create_directories(home);
    ::chmod(base_.path().c_str(), 0755);
    fs::copy_file(lab_archive(), home + "/lab.oci.tar");
    ::chmod((home + "/lab.oci.tar").c_str(), 0644);
    ASSERT_EQ(::chown(home.c_str(), user->first, user->second), 0);
    const std::string own_store = home + "/store";
    const std::string own_state = home + "/state";
    const auto as_user = [&](std::vector<std::string> args) {
        Launch launch = host().runtime(std::move(args));
        launch.as_user = user;
        return lab::run(launch, 60s);
    };
    const auto before = snapshot();

    const Result imported = as_user({"image", "import", "--image-root", own_store, home + "/lab.oci.tar"});
    REQUIRE(expect_exit(imported, 0, "an unprivileged import works"));
    const Result inspected = as_user({"image", "inspect", "--image-root", own_store, "lab"});
    REQUIRE(expect_exit(inspected, 0, "the user's store has the image"));
    const std::string layer = nlohmann::json::parse(inspected.out)[0]["LayerDirs"][0];
    struct stat st {};
    ASSERT_EQ(::lstat((layer + "/bin/busybox").c_str(), &st), 0) << layer;
    EXPECT_EQ(st.st_uid, user->first) << "the layer's files belong to the user who imported it (the host's view)";

    const std::vector<std::string> run_args{"run", "--image-root", own_store, "--state-dir", own_state, "--image", "lab", "--"};
    auto with = [&](std::vector<std::string> command) {
        std::vector<std::string> all = run_args;
        all.insert(all.end(), command.begin(), command.end());
        return as_user(all);
    };
    const Result r = with({"sh", "-c", "head -1 /etc/os-release; id -u; echo mine > /etc/new; cat /etc/new"});
    REQUIRE(expect_exit(r, 0, "the user runs the image (a rootless overlay)"));
    expect_stdout_contains(r, "nsrun lab rootfs", "the image's files are the container's /");
    expect_stdout_contains(r, "\n0\n", "COMMAND is root of its user namespace");
    expect_stdout_contains(r, "mine", "the container may write to its /");
    EXPECT_FALSE(fs::exists(layer + "/etc/new")) << "the write went to the container's upper layer, not the image's";
    const Result fresh = with({"sh", "-c", "test -e /etc/new && echo leaked || echo clean"});
    expect_stdout_contains(fresh, "clean", "a new container does not see the previous one's write");
    EXPECT_EQ(snapshot().mounts, before.mounts) << "no overlay is left on the host";

    const Result removed = as_user({"image", "rm", "--image-root", own_store, "lab"});
    expect_exit(removed, 0, "the user removes their image");
    EXPECT_TRUE(fs::is_empty(own_store + "/layers")) << "its layer went with it";
}

STEP_TEST(Images, ExportWritesTheContainersFilesystemForImport,
          "nsrun export of a stopped image container (its changes and deletions) and of a running one (its mounts left "
          "out): tars that image import reads back into an image with the same files") {
    REQUIRE(expect_exit(image("import", {lab_archive()}), 0, "import"));
    const auto names = [&](const std::string& tar) {
        const Result listed = host().exec({"tar", "-tf", tar});
        EXPECT_EQ(listed.status, 0) << listed;
        std::set<std::string> entries;
        std::istringstream lines(listed.out);
        for (std::string line; std::getline(lines, line);) {
            entries.insert(line);
        }
        return entries;
    };
    // Stopped: the overlay is stacked again just for the export.
    REQUIRE(expect_exit(run({"--name", "changed", "--image", "lab", "--", "sh", "-c",
                             "echo made > /etc/new; rm /etc/os-release"}),
                        0, "the container makes its changes and stops"));
    const auto before = snapshot();
    const Result exported = nsrun({"export", "-o", file("changed.tar"), "changed"});
    REQUIRE(expect_exit(exported, 0, "a stopped container exports"));
    EXPECT_EQ(snapshot().mounts, before.mounts) << "the export's overlay was never on the host";
    const auto stopped = names(file("changed.tar"));
    EXPECT_TRUE(stopped.contains("etc/new")) << "the container's new file is in the export";
    EXPECT_FALSE(stopped.contains("etc/os-release")) << "and the file it deleted is not";
    EXPECT_TRUE(stopped.contains("bin/busybox")) << "the image's files are";
    REQUIRE(expect_exit(image("import", {"--name", "copy", file("changed.tar")}), 0, "the export imports as an image"));
    const Result copy = run({"--image", "copy", "--", "sh", "-c", "cat /etc/new; test -e /etc/os-release || echo gone"});
    EXPECT_EQ(copy.out, "made\ngone\n") << "the image made from the export has the container's files" << copy;

    // Running: its root as its init sees it, without what is mounted there.
    const std::string volume = base_.path() + "/volume";
    fs::create_directories(volume);
    write_file(volume + "/host-secret", "not the container's\n");
    const std::string id = detach({"--image-root", store(), "--network", "none", "--image", "lab", "-v",
                                   volume + ":/mnt/vol", "--", "sh", "-c", "echo live > /root/live; sleep 100"});
    Result live;
    for (int i = 0; i < 50; ++i) {
        live = nsrun({"exec", id, "cat", "/root/live"});
        if (live.out == "live\n") break;
        std::this_thread::sleep_for(100ms);
    }
    REQUIRE(expect_exit(nsrun({"export", "-o", file("running.tar"), id}), 0, "a running container exports"));
    const auto running = names(file("running.tar"));
    EXPECT_TRUE(running.contains("root/live")) << "a file the running container wrote is in the export";
    EXPECT_TRUE(running.contains("mnt/vol/")) << "the volume's mount point is";
    EXPECT_FALSE(running.contains("mnt/vol/host-secret")) << "but not the volume's content";
    EXPECT_FALSE(running.contains("proc/self")) << "nor /proc's";

    const Result missing = nsrun({"export", "-o", file("none.tar"), "no-such-container"});
    expect_exit(missing, 125, "an unknown container is an error");
    EXPECT_FALSE(fs::exists(file("none.tar")) || fs::exists(file("none.tar.partial"))) << "and writes no file";
}

STEP_TEST(Images, ImportShowsAProgressBarOnATerminalOnly,
          "on a terminal each layer gets a bar that fills to 100%, redrawn in place; to a pipe or a log, one line per layer") {
    // script(1) gives the import a terminal as its stderr.
    std::string command;
    for (const auto& word : config().bin) {
        command += shell_quote(word) + " ";
    }
    command += "image import --image-root " + shell_quote(store()) + " " + shell_quote(lab_archive());
    const Result tty = host().exec({"script", "-qec", command, "/dev/null"}, 60s);
    REQUIRE(expect_exit(tty, 0, "the import works on a terminal"));
    expect_stdout_contains(tty, "] 100%", "the bar reaches 100%");
    expect_stdout_contains(tty, "\r", "the bar is redrawn in place");
    expect_stdout_contains(tty, " files, ", "the layer's final line follows it");
    fs::remove_all(store());
    const Result piped = image("import", {lab_archive()});
    REQUIRE(expect_exit(piped, 0, "the import works to a pipe"));
    EXPECT_EQ(piped.err.find('\r'), std::string::npos) << "no bar where nobody watches" << piped;
    EXPECT_EQ(piped.err.find('%'), std::string::npos) << piped;
    expect_stderr_contains(piped, " files, ", "one line per layer");
}

STEP_TEST_ANY_USER(Images, HelpDescribesImages, "nsrun image --help lists import, ls, inspect and rm") {
    const Result r = lab::run({"image", "--help"});
    expect_exit(r, 0, "--help succeeds");
    for (const char* word : {"import", "ls", "inspect", "rm", "--image"}) {
        expect_stdout_contains(r, word, "the help names each subcommand");
    }
}

} // namespace
} // namespace lab
