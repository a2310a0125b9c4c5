// Passing a descriptor over a unix socket (SCM_RIGHTS), for the tests' own
// tools: the OCI suite receives a container's pty master over the console
// socket, lab-fault hands its seccomp listener to its supervisor.  The tests
// keep their own copy rather than link common/'s (nsrun::sys::send_fd): the
// console-socket test checks nsrun's side of this very exchange, and a
// mistake shared by both sides could not show.
#pragma once

#include <cstring>
#include <sys/socket.h>

namespace lab {

/// One byte of data and room for one descriptor; it points into itself.
struct FdMessage {
    char byte = 'F';
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    FdMessage() {
        msg.msg_iov = &data;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;
};

/// sendmsg(2) one byte and `fd`; false if it could not be sent (errno says why).
inline bool send_fd(int socket, int fd) {
    FdMessage message;
    cmsghdr* rights = CMSG_FIRSTHDR(&message.msg);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &fd, sizeof(int));
    return ::sendmsg(socket, &message.msg, MSG_NOSIGNAL) == 1;
}

/// recvmsg(2) the descriptor that came with a message on `socket`
/// (close-on-exec), or -1.
inline int receive_fd(int socket) {
    FdMessage message;
    if (::recvmsg(socket, &message.msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
    const cmsghdr* rights = CMSG_FIRSTHDR(&message.msg);
    if (rights == nullptr || rights->cmsg_level != SOL_SOCKET || rights->cmsg_type != SCM_RIGHTS) return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(rights), sizeof fd);
    return fd;
}

} // namespace lab
