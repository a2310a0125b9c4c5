// Unit tests of nsrun/flags.hpp: flags spelled as in the man pages.
#include <nsrun/flags.hpp>

#include <csignal>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>

TEST(CloneFlags, NamesNamespacesAndTheExitSignal) {
    EXPECT_EQ(nsrun::flags::clone_flags(CLONE_NEWUTS | CLONE_NEWPID | SIGCHLD),
              "CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD");
    EXPECT_EQ(nsrun::flags::clone_flags(0), "0");
}

TEST(MountFlags, NamesEachBit) {
    EXPECT_EQ(nsrun::flags::mount_flags(MS_NOSUID | MS_NODEV | MS_NOEXEC), "MS_NOSUID|MS_NODEV|MS_NOEXEC");
    EXPECT_EQ(nsrun::flags::mount_flags(MS_REC | MS_PRIVATE), "MS_REC|MS_PRIVATE");
    EXPECT_EQ(nsrun::flags::mount_flags(0), "0");
}

TEST(MountFlags, ShowsUnknownBitsInHex) {
    EXPECT_EQ(nsrun::flags::mount_flags(MS_BIND | (1UL << 40)), "MS_BIND|0x10000000000");
}

TEST(UmountFlags, NamesDetach) { EXPECT_EQ(nsrun::flags::umount_flags(MNT_DETACH), "MNT_DETACH"); }

TEST(SignalName, UsesTheSigPrefix) {
    EXPECT_EQ(nsrun::flags::signal_name(SIGTERM), "SIGTERM");
    EXPECT_EQ(nsrun::flags::signal_name(SIGKILL), "SIGKILL");
}

TEST(SignalSet, ListsTheMembersInOrder) {
    sigset_t set;
    sigemptyset(&set);
    EXPECT_EQ(nsrun::flags::signal_set(set), "[]");
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    EXPECT_EQ(nsrun::flags::signal_set(set), "[SIGINT SIGTERM]");
}

TEST(SigprocmaskHow, NamesEachOperation) {
    EXPECT_EQ(nsrun::flags::sigprocmask_how(SIG_BLOCK), "SIG_BLOCK");
    EXPECT_EQ(nsrun::flags::sigprocmask_how(SIG_SETMASK), "SIG_SETMASK");
}

TEST(FlockOperation, NamesEachBit) {
    EXPECT_EQ(nsrun::flags::flock_operation(LOCK_EX | LOCK_NB), "LOCK_EX|LOCK_NB");
    EXPECT_EQ(nsrun::flags::flock_operation(LOCK_UN), "LOCK_UN");
}

TEST(NamespaceType, NamesTheNamespaceWithoutASignal) {
    EXPECT_EQ(nsrun::flags::namespace_type(CLONE_NEWNET), "CLONE_NEWNET");
    EXPECT_EQ(nsrun::flags::namespace_type(0), "0");
}
