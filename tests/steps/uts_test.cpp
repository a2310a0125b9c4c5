// Step 01 — the UTS namespace, plus the CLI contract every step keeps:
// exit statuses, bad input, --help, --explain.
#include "harness.hpp"

#include <csignal>
#include <unistd.h>

namespace lab {
namespace {

class Uts : public KernelTest {};

STEP_TEST(Uts, HostnameInsideIsTheRequestedOne,
          "--hostname NAME sets the hostname inside the container (sethostname(2) in a new UTS namespace), and "
          "the host keeps its own.") {
    const std::string before = host_hostname();
    const std::string name = unique("box");
    const Result r = run({"--hostname", name, "lab-probe", "hostname"});
    REQUIRE(expect_exit(r, 0, "lab-probe hostname runs and exits 0 in the container"));
    expect_value(r, "hostname", name, "the container's hostname is the one given with --hostname");
    expect_true(host_hostname() == before, "the host's hostname to stay " + before,
                "it is now " + host_hostname() + ": the runtime changed the host's name, not a new namespace's",
                &r);
}

STEP_TEST(Uts, DefaultHostnameIsContainer,
          "Without --hostname the container is called \"container\" (the contract's default), not the host's name.") {
    const Result r = run({"lab-probe", "hostname"});
    REQUIRE(expect_exit(r, 0, "lab-probe hostname runs and exits 0 in the container"));
    expect_value(r, "hostname", "container", "the default hostname is \"container\"");
}

STEP_TEST(Uts, HostKeepsItsNameWhileTheContainerRuns,
          "While the container runs, its process is in a UTS namespace of its own (seen from the host in "
          "/proc/PID/ns/uts) and the host's hostname is untouched.") {
    const std::string before = host_hostname();
    const std::string name = unique("live");
    Runtime rt({"--hostname", name, "sh", "-c", "lab-probe hostname; sleep 2"});
    REQUIRE(expect_output(rt, "hostname=", "the container runs lab-probe hostname first"));
    expect_true(host_hostname() == before, "the host's hostname to stay " + before + " while the container runs",
                "it is " + host_hostname());
    // The container's process lives in a UTS namespace other than ours.
    bool found_other_uts = false;
    for (const pid_t pid : descendants(rt.pid())) {
        const std::string ns = namespace_of(pid, "uts");
        found_other_uts |= !ns.empty() && ns != namespace_of(::getpid(), "uts");
    }
    const Result running = rt.record();
    expect_true(found_other_uts, "a process of the container in a new UTS namespace (clone(CLONE_NEWUTS))",
                "every process under the runtime is in the host's UTS namespace " + namespace_of(::getpid(), "uts"),
                &running);
    const Result r = rt.finish();
    expect_exit(r, 0, "the container's shell exits 0");
    expect_value(r, "hostname", name, "the container's hostname is the one given with --hostname");
}

STEP_TEST(Uts, LongestHostnameIsAccepted,
          "A hostname of 64 characters, the kernel's limit (HOST_NAME_MAX), is valid and must be accepted.") {
    const std::string name(64, 'h');
    const Result r = run({"--hostname", name, "lab-probe", "hostname"});
    REQUIRE(expect_exit(r, 0, "64 characters is the longest valid hostname"));
    expect_value(r, "hostname", name, "the whole 64-character name is set");
}

STEP_TEST(Uts, AChildThatDiesDuringSetupIsAFailureNotTheCommandsCrash,
          "The container's process dies during setup without a word (here: SIGKILL at its sethostname(2), "
          "injected with lab-fault, as when it is killed or crashes): the runtime reports a setup failure with "
          "125, never the exec as done and 137 as if COMMAND had been killed.") {
    Launch launch{{NSRUN_LAB_FAULT, "--inject", "sethostname:kill", "--"}, {}};
    launch.args.insert(launch.args.end(), config().bin.begin(), config().bin.end());
    launch.args.insert(launch.args.end(), {"sh", "-c", "echo command-ran"});
    launch.plain_command = true; // lab-fault, then the runtime under test
    launch.namespaces_of = config().throwaway_host ? shared_throwaway_host() : 0;
    const Result r = run(launch);
    if (r.status == 0) {
        GTEST_SKIP() << "the runtime never made the sethostname system call, so this check cannot inject its "
                        "fault there";
    }
    expect_exit(r, 125, "a child that died during setup is a runtime error (125)");
    expect_stdout_lacks(r, "command-ran", "COMMAND never ran");
}

STEP_TEST_ANY_USER(Uts, EmptyHostnameIsRefusedWith125,
                   "An empty --hostname is invalid: the runtime refuses it before doing anything (exit 125) and "
                   "its message names the option.") {
    const Result r = run({"--hostname", "", "true"});
    expect_exit(r, 125, "an empty hostname must be refused with 125 (a runtime error)");
    expect_stderr_contains(r, "hostname", "the error message names the option, --hostname");
}

STEP_TEST_ANY_USER(Uts, TooLongHostnameIsRefusedWith125,
                   "A hostname of 65 characters is one more than the kernel allows: refused with 125 before "
                   "anything starts, and the message names the option.") {
    const Result r = run({"--hostname", std::string(65, 'h'), "true"});
    expect_exit(r, 125, "a hostname longer than 64 characters must be refused with 125");
    expect_stderr_contains(r, "hostname", "the error message names the option, --hostname");
}

STEP_TEST(Uts, ExitStatusIsTheCommands,
          "The runtime exits with COMMAND's own exit status (0 for true, 3 for exit 3), like docker run.") {
    const Result t = run({"true"});
    expect_exit(t, 0, "`true` exits 0, so the runtime does too");
    const Result r = run({"sh", "-c", "exit 3"});
    expect_exit(r, 3, "COMMAND exited 3, so the runtime does too");
}

STEP_TEST(Uts, CommandNotFoundIs127,
          "A COMMAND that does not exist gives 127 (as in a shell and docker) and a message naming it.") {
    const std::string name = unique("no-such-command");
    const Result r = run({name});
    expect_exit(r, 127, "COMMAND was not found");
    expect_stderr_contains(r, name, "the message names the command that was not found");
}

STEP_TEST(Uts, CommandNotExecutableIs126,
          "A COMMAND that exists but cannot be executed (/etc/passwd) gives 126 and a message.") {
    // /etc/passwd exists on the host and in the lab rootfs, and is not executable.
    const Result r = run({"/etc/passwd"});
    expect_exit(r, 126, "/etc/passwd exists but is not executable");
    expect_true(!r.err.empty(), "a message on stderr saying why COMMAND could not run", "stderr is empty", &r);
}

STEP_TEST(Uts, KilledBySignalIs128PlusN,
          "When the container's process is killed by a signal N, the runtime exits 128+N (137 for SIGKILL); the "
          "container is a direct child of the runtime.") {
    // Killed from outside: from step 02 on COMMAND is PID 1 of its namespace,
    // and the kernel ignores a SIGKILL that PID 1 sends itself.
    Runtime rt({"sh", "-c", "echo ready; exec sleep 30"});
    REQUIRE(expect_output(rt, "ready", "the container's shell prints ready"));
    const std::vector<pid_t> children = children_of(rt.pid());
    const Result running = rt.record();
    REQUIRE(expect_true(children.size() == 1u, "the runtime to have one child process, the container",
                        "it has " + std::to_string(children.size()), &running));
    REQUIRE(expect_true(::kill(children.front(), SIGKILL) == 0, "to be able to SIGKILL the container's process",
                        "kill() failed", &running));
    const Result r = rt.finish();
    expect_exit(r, 128 + SIGKILL, "the container was killed by SIGKILL (9): 128+9");
}

STEP_TEST_ANY_USER(Uts, UnknownFlagIs125WithAMessage,
                   "An option the runtime does not know is a usage error: exit 125 and a message naming the "
                   "option.") {
    const Result r = run({"--no-such-flag", "true"});
    expect_exit(r, 125, "an unknown option is refused with 125");
    expect_stderr_contains(r, "--no-such-flag", "the message names the unknown option");
}

STEP_TEST_ANY_USER(Uts, MissingCommandIs125,
                   "Without a COMMAND there is nothing to run: exit 125 with a message.") {
    const Result r = run(std::vector<std::string>{});
    expect_exit(r, 125, "a missing COMMAND is a usage error");
    expect_true(!r.err.empty(), "a message on stderr saying that COMMAND is missing", "stderr is empty", &r);
}

STEP_TEST_ANY_USER(Uts, HelpDescribesTheOptions,
                   "--help prints the usage on stdout, naming the options (--hostname, --explain), and exits 0; "
                   "it needs no root.") {
    const Result r = run({"--help"});
    expect_exit(r, 0, "--help succeeds");
    expect_stdout_contains(r, "--hostname", "the help names the --hostname option");
    expect_stdout_contains(r, "--explain", "the help names the --explain option");
}

STEP_TEST(Uts, ExplainNarratesTheNamespaceAndTheHostname,
          "--explain narrates on stderr the new UTS namespace (clone or unshare with CLONE_NEWUTS) and the "
          "sethostname call with the name given.") {
    const Result r = run({"--explain", "--hostname", "told", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"((\bclone3?|\bunshare)\(.*CLONE_NEWUTS)", "the new UTS namespace",
                    "`clone(CLONE_NEWUTS|SIGCHLD) = 4242` or `unshare(CLONE_NEWUTS) = 0`");
    expect_narrated(r, R"(\bsethostname\("told")", "setting the hostname given with --hostname told",
                    "`sethostname(\"told\") = 0` or `sethostname(\"told\", 4) = 0`");
}

STEP_TEST_ANY_USER(Uts, UnprivilegedUserGetsIsolationOrAClear125,
                   "A caller who is not root gets either a clear 125 mentioning root (steps 01-05) or a working, "
                   "isolated container (rootless, step 06 on); never a crash, and the host keeps its name.") {
    // Before rootless mode (step 06) a non-root caller must get a clear
    // message and 125 — never a crash or a half-made container.  From step 06
    // on it gets a working container instead; either way the host is untouched.
    const std::string before = host_hostname();
    const Result r = run(Launch{{"--hostname", "nobodybox", "lab-probe", "hostname"}, unprivileged_user()});
    if (r.status == 125) {
        expect_stderr_contains(r, "root", "refused for lack of privileges: the message says root is needed");
    } else {
        expect_exit(r, 0, "not refused (125), so the container must work");
        expect_value(r, "hostname", "nobodybox", "the container's hostname is the one given with --hostname");
    }
    expect_true(host_hostname() == before, "the host's hostname to stay " + before, "it is now " + host_hostname(),
                &r);
}

} // namespace
} // namespace lab
