// Unit tests of the state files (final/state.cpp): round trips, liveness by
// pid *and* start time, and garbled files that are reported, never a crash.
// They use a private temporary state directory, never /run/nsrun.
#include "state.hpp"

#include <nsrun/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <unistd.h>

namespace {

class FinalState : public ::testing::Test {
protected:
    void SetUp() override {
        char templ[] = "/tmp/nsrun-state-test.XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Record sample(const std::string& id, const std::string& name) {
        Record r;
        r.id = id;
        r.name = name;
        r.spec.process.args = {"sh"};
        r.spec.nsrun.name = name;
        r.status = Status::running;
        r.created = now_rfc3339();
        r.owner = ProcessId::self();
        r.init = ProcessId::self();
        r.resources.cgroups = {"/sys/fs/cgroup/memory/nsrun/" + id};
        r.resources.veth = "nsr-" + id.substr(0, 8);
        r.resources.nft_elements = {"ip nsrun publish_any { tcp . 8080 }"};
        return r;
    }

    void write(const std::string& id, const std::string& text) {
        std::ofstream(dir_ + "/containers/" + id + "/state.json") << text;
    }

    std::string dir_;
};

} // namespace

TEST_F(FinalState, RecordRoundTrip) {
    Store store(dir_);
    Record r = sample("0123456789ab", "web");
    r.exit_code = 137;
    r.oom_killed = true;
    { auto lock = store.create(r.id); store.save(r); }
    const Loaded loaded = store.load(r.id);
    ASSERT_TRUE(loaded.record) << loaded.problem;
    EXPECT_EQ(*loaded.record, r);
}

TEST_F(FinalState, SavesSpliceTheSpecTextYetEachFileIsTheWholeRecord) {
    // Store::save serializes the spec once and reuses its text while it is
    // unchanged: every file written must still be exactly the record, and a
    // changed spec must be written as changed.
    Store store(dir_);
    Record r = sample("0123456789ab", "web");
    auto lock = store.create(r.id);
    store.save(r);
    r.status = Status::exited;
    r.exit_code = 3;
    store.save(r);
    Loaded loaded = store.load(r.id);
    ASSERT_TRUE(loaded.record) << loaded.problem;
    EXPECT_EQ(*loaded.record, r);
    r.spec.root.path = "/var/lib/elsewhere";
    r.spec.process.args = {"sh", "-c", "echo \"quoted\"\n"};
    store.save(r);
    loaded = store.load(r.id);
    ASSERT_TRUE(loaded.record) << loaded.problem;
    EXPECT_EQ(*loaded.record, r);
    std::ifstream in(dir_ + "/containers/" + r.id + "/state.json");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(nlohmann::json::parse(text), nlohmann::json(r)) << text;
}

TEST_F(FinalState, ALifecycleLoadKeepsTheSpecTextAndSavesTheWholeRecord) {
    // OCI start and delete read the record with load_lifecycle: the spec is
    // left as text but for ociVersion, annotations and hooks, and a save of
    // what was read writes the whole record back, its spec unchanged.
    Store store(dir_);
    Record r = sample("oci-lifecycle.1", "");
    r.oci = true;
    r.bundle = "/bundles/b";
    r.status = Status::created;
    r.spec.oci_version = "1.0.2-dev";
    r.spec.annotations = {{"io.example/a", "1"}};
    r.spec.hooks.poststop = {{.path = "/bin/hook", .args = {"hook", "x"}, .env = {}, .timeout = 5}};
    r.spec.process.args = {"sh", "-c", "echo \"  \\\"spec\\\": \"\n"}; // looks like the marker, escaped
    auto lock = store.create(r.id);
    store.save(r);

    LoadedLifecycle loaded = store.load_lifecycle(r.id);
    ASSERT_TRUE(loaded.lifecycle) << loaded.problem;
    Record expected = r;
    expected.spec = ContainerSpec{};
    expected.spec.oci_version = r.spec.oci_version;
    expected.spec.annotations = r.spec.annotations;
    expected.spec.hooks = r.spec.hooks;
    EXPECT_EQ(loaded.lifecycle->record, expected) << "the lifecycle, and only those members of the spec";

    loaded.lifecycle->record.status = Status::running;
    loaded.lifecycle->record.started = now_rfc3339();
    store.save(*loaded.lifecycle);
    r.status = Status::running;
    r.started = loaded.lifecycle->record.started;
    const Loaded whole = store.load(r.id);
    ASSERT_TRUE(whole.record) << whole.problem;
    EXPECT_EQ(*whole.record, r) << "the spec written back as it was";
}

TEST_F(FinalState, ALifecycleLoadReadsRecordsOfAnotherLayoutAndReportsGarbledOnes) {
    // A record laid out otherwise (one json dump, its members sorted: the
    // spec is not last) is read whole; a garbled one is reported as load does.
    Store store(dir_);
    Record r = sample("oci-other-layout", "");
    r.spec.hooks.poststart = {{.path = "/bin/true", .args = {}, .env = {}, .timeout = std::nullopt}};
    { auto lock = store.create(r.id); store.save(r); }
    write(r.id, nlohmann::json(r).dump(2));
    LoadedLifecycle loaded = store.load_lifecycle(r.id);
    ASSERT_TRUE(loaded.lifecycle) << loaded.problem;
    EXPECT_EQ(loaded.lifecycle->record.status, r.status);
    EXPECT_EQ(loaded.lifecycle->record.spec, r.spec) << "read whole";
    store.save(*loaded.lifecycle);
    const Loaded whole = store.load(r.id);
    ASSERT_TRUE(whole.record) << whole.problem;
    EXPECT_EQ(*whole.record, r);

    const std::string full = nlohmann::json(r).dump();
    for (const std::string& text : {full.substr(0, full.size() / 2), std::string("not json at all"), std::string("")}) {
        write(r.id, text);
        LoadedLifecycle garbled;
        ASSERT_NO_THROW(garbled = store.load_lifecycle(r.id));
        EXPECT_FALSE(garbled.lifecycle);
        EXPECT_NE(garbled.problem, "") << "the problem must be named";
    }
}

TEST_F(FinalState, OnlyAContainerThatExitedWithNothingLeftIsSkippedBySweeps) {
    // The sweep each run starts with reads only records whose container may
    // still own something; one recorded exited with no resource is skipped.
    Store store(dir_);
    Record r = sample("0123456789ab", "web");
    auto lock = store.create(r.id);
    EXPECT_TRUE(store.may_own_resources(r.id)) << "from its first instant, before any record";
    store.save(r);
    EXPECT_TRUE(store.may_own_resources(r.id)) << "running";
    r.status = Status::exited;
    store.save(r);
    EXPECT_TRUE(store.may_own_resources(r.id)) << "exited, but its resources are not torn down yet";
    r.resources = {};
    store.save(r);
    EXPECT_FALSE(store.may_own_resources(r.id)) << "exited with nothing left";
    EXPECT_EQ(store.ids(), std::vector<std::string>{r.id});
}

TEST_F(FinalState, ResolvesNamesIdsAndUniquePrefixes) {
    Store store(dir_);
    for (const auto& [id, name] : {std::pair{"aaaa11112222", "web"}, std::pair{"aaaa33334444", "db"}}) {
        auto lock = store.create(id);
        store.save(sample(id, name));
    }
    EXPECT_EQ(store.resolve("web"), "aaaa11112222");
    EXPECT_EQ(store.resolve("aaaa33334444"), "aaaa33334444");
    EXPECT_EQ(store.resolve("aaaa3"), "aaaa33334444");
    EXPECT_THROW((void)store.resolve("aaaa"), nsrun::Error) << "ambiguous prefix";
    EXPECT_THROW((void)store.resolve("nope"), nsrun::Error);
}

TEST_F(FinalState, ListHeadsReadsEachRecordsLifecycleWhateverItsLayoutAndReportsGarbledOnes) {
    // list_heads() parses only the lifecycle at the head of a record: a
    // record of another layout is read whole, a garbled or foreign one is
    // reported as list() reports it.
    Store store(dir_);
    const std::vector<std::pair<std::string, std::string>> made = {
        {"cccc11112222", "web"}, {"cccc33334444", ""}, {"cccc55556666", "other-layout"},
        {"cccc77778888", "garbled"}, {"cccc99990000", "foreign"}};
    for (const auto& [id, name] : made) {
        auto lock = store.create(id);
        store.save(sample(id, name));
    }
    write("cccc55556666", nlohmann::json(sample("cccc55556666", "other-layout")).dump(2));
    write("cccc77778888", "{\"id\": \"cccc77778888\", \"name\": \"garb");
    {
        // Cut short inside its spec: the head is whole, the record is not.
        Record cut = sample("cccc13131313", "cut-short");
        { auto lock = store.create(cut.id); store.save(cut); }
        std::ifstream cut_in(dir_ + "/containers/cccc13131313/state.json");
        const std::string cut_text{std::istreambuf_iterator<char>(cut_in), std::istreambuf_iterator<char>()};
        ASSERT_GT(cut_text.size(), 200u);
        write("cccc13131313", cut_text.substr(0, cut_text.size() - 40));
        EXPECT_FALSE(store.load_head("cccc13131313")) << "a head whose record is cut short is not taken";
    }
    Record foreign = sample("dddd11112222", "foreign");
    { auto lock = store.create(foreign.id); store.save(foreign); }
    write("cccc99990000", nlohmann::json(foreign).dump(2)); // a copy of another container's record

    std::map<std::string, std::string> names;
    for (const auto& c : store.list_heads()) {
        names[c.id] = c.record ? c.record->name : "";
        EXPECT_EQ(c.record.has_value(), c.problem.empty()) << c.id;
        if (c.record && c.id != "cccc55556666") {
            EXPECT_TRUE(c.record->spec.process.args.empty()) << "the spec is not read";
        }
    }
    EXPECT_EQ(names, (std::map<std::string, std::string>{{"cccc11112222", "web"},
                                                         {"cccc33334444", ""},
                                                         {"cccc55556666", "other-layout"},
                                                         {"cccc77778888", ""},
                                                         {"cccc13131313", ""},
                                                         {"cccc99990000", ""},
                                                         {"dddd11112222", "foreign"}}));
    EXPECT_EQ(store.resolve("other-layout"), "cccc55556666");
    EXPECT_EQ(store.resolve("foreign"), "dddd11112222") << "the copy is not taken for it";
    EXPECT_THROW((void)store.resolve("garbled"), nsrun::Error);
    EXPECT_EQ(store.resolve("cccc7"), "cccc77778888") << "a garbled record keeps its id";
}

TEST_F(FinalState, ALoadForListingReadsOnlyTheCommandAndThePortsOfTheSpec) {
    Store store(dir_);
    Record r = sample("eeee11112222", "web");
    r.spec.process.args = {"httpd", "-f", "-p", "80"};
    r.spec.process.env = {"PATH=/bin"};
    r.spec.nsrun.publish = {{"127.0.0.1", 8080, 80, "tcp"}, {"", 5353, 53, "udp"}};
    r.spec.hostname = "web-host";
    { auto lock = store.create(r.id); store.save(r); }
    const auto listed = store.load_listing(r.id);
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->name, "web");
    EXPECT_EQ(listed->status, r.status);
    EXPECT_EQ(listed->spec.process.args, r.spec.process.args);
    EXPECT_EQ(listed->spec.nsrun.publish, r.spec.nsrun.publish);
    EXPECT_TRUE(listed->spec.process.env.empty()) << "not read";
    EXPECT_EQ(listed->spec.hostname, ContainerSpec{}.hostname) << "not read";
    write(r.id, nlohmann::json(r).dump(2));
    EXPECT_FALSE(store.load_listing(r.id)) << "another layout: the caller reads it whole";
    EXPECT_FALSE(store.load_listing("eeee99999999")) << "no such container";
}

TEST_F(FinalState, GarbledAndTruncatedFilesAreReportedNotFatal) {
    Store store(dir_);
    const Record good = sample("bbbb11112222", "good");
    { auto lock = store.create(good.id); store.save(good); }
    const std::string full = nlohmann::json(good).dump();
    for (const std::string& text : {full.substr(0, full.size() / 2), std::string("not json at all"), std::string(""),
                                    std::string("{\"id\": 3}")}) {
        write(good.id, text);
        Loaded loaded;
        ASSERT_NO_THROW(loaded = store.load(good.id));
        EXPECT_FALSE(loaded.record);
        EXPECT_NE(loaded.problem, "") << "the problem must be named";
        EXPECT_NO_THROW((void)store.list());
        EXPECT_EQ(store.list().size(), 1u) << "a garbled container is still listed, so it can be reclaimed";
    }
    store.remove(good.id);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + good.id));
}

TEST_F(FinalState, LivenessNeedsPidAndStartTime) {
    const ProcessId self = ProcessId::self();
    EXPECT_GT(self.start_time, 0u);
    EXPECT_TRUE(nsrun::is_alive(self));
    ProcessId reused = self;
    reused.start_time += 1; // same pid, another process
    EXPECT_FALSE(nsrun::is_alive(reused));
    EXPECT_FALSE(nsrun::is_alive(ProcessId{0, 0}));
}

TEST_F(FinalState, ADeadOwnerMakesARunningContainerDead) {
    Record r = sample("cccc11112222", "x");
    EXPECT_EQ(r.state(), "running");
    r.owner.start_time += 1;
    EXPECT_EQ(r.state(), "dead");
    r.status = Status::exited;
    EXPECT_EQ(r.state(), "exited");
}
