// Passing a descriptor over a unix socket (SCM_RIGHTS), for the tests' own
// tools: the OCI suite receives a container's pty master over the console
// socket, lab-fault hands its seccomp listener to its supervisor.  The tests
// keep their own copy, not common/'s (nsrun::sys::send_fd): they check the
// runtime, so they share none of its code.
#pragma once

#include <cstring>
#include <sys/socket.h>

namespace lab {

/// sendmsg(2) one byte and `fd`; false if it could not be sent (errno says why).
inline bool send_fd(int socket, int fd) {
    char byte = 'F';
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &data;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* rights = CMSG_FIRSTHDR(&msg);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &fd, sizeof(int));
    return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == 1;
}

/// recvmsg(2) the descriptor that came with a message on `socket`
/// (close-on-exec), or -1.
inline int receive_fd(int socket) {
    char byte[64];
    iovec data{byte, sizeof byte};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &data;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
    const cmsghdr* rights = CMSG_FIRSTHDR(&msg);
    if (rights == nullptr || rights->cmsg_level != SOL_SOCKET || rights->cmsg_type != SCM_RIGHTS) return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(rights), sizeof fd);
    return fd;
}

} // namespace lab
