/// @file tty.hpp
/// -t: a pseudo-terminal.  The container's side (the pty's "slave",
/// /dev/pts/0 of the container's own devpts) becomes COMMAND's controlling
/// terminal; the runtime keeps the "master" and relays bytes between it and
/// the user's terminal, which it puts in raw mode — so Ctrl-C travels as a
/// byte to the container's line discipline, which turns it into SIGINT there.
/// Window-size changes (SIGWINCH) are copied onto the pty.
#pragma once

#include "pid.hpp"

#include <nsrun/fd.hpp>
#include <nsrun/process.hpp>

#include <optional>
#include <string>
#include <termios.h>
#include <unistd.h>

/// The channel over which the child hands the pty master to the parent
/// (SCM_RIGHTS on a socketpair, as runc's --console-socket does).
class TerminalChannel {
public:
    TerminalChannel();
    /// In the child, after /dev/pts is mounted: open a pty of the
    /// container's devpts, make it the controlling terminal and stdin,
    /// stdout, stderr, and send the master to the parent.
    void become_controlling_terminal();
    /// In the parent, after releasing the child: the master, or an invalid
    /// descriptor when the child failed before sending it.
    nsrun::UniqueFd receive_master();

private:
    nsrun::UniqueFd parent_end_;
    nsrun::UniqueFd child_end_;
};

/// OCI --console-socket: connect to the unix socket at `socket_path` and
/// send `master` over it (SCM_RIGHTS), as runc does; the caller (conmon, the
/// containerd shim) then owns the container's terminal.  An invalid `master`
/// is not sent (the child failed first).
void send_console(const std::string& socket_path, nsrun::UniqueFd master);

/// A terminal's size in characters; 0x0 when unknown.
struct WindowSize {
    unsigned short rows = 0;
    unsigned short cols = 0;
};

/// The user's side of the terminal while the container runs.
class TerminalSession {
public:
    /// `interactive` (-i): the user's stdin is relayed too.  What the pty
    /// shows is copied to `out`.  `fallback`: the pty's size when neither
    /// stdin nor stdout is a terminal to copy it from (a detached container).
    TerminalSession(nsrun::UniqueFd master, bool interactive, int out = STDOUT_FILENO, WindowSize fallback = {});
    TerminalSession(const TerminalSession&) = delete;
    TerminalSession& operator=(const TerminalSession&) = delete;
    ~TerminalSession(); ///< restores the user's terminal mode

    /// Relay until `child` ends (forwarding signals as wait_forwarding
    /// does); returns its wait status.
    int relay(nsrun::Child& child, const SignalForwarder& signals);

private:
    void copy_window_size() const;
    nsrun::UniqueFd master_;
    bool interactive_;
    int out_;
    WindowSize fallback_;
    std::optional<termios> saved_;
};
