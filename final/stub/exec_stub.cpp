// nsrun's exec step: the last program nsrun runs inside a container before
// COMMAND (exec_step.hpp says why it exists).  It is freestanding — no C
// library, no loader, no relocations, a few hundred bytes of code — so that
// nsrun can carry it in its own image and copy it into a sealed memfd for
// every container at almost no cost.
//
//   argv: nsrun-exec --report-fd=N PATH ARGV0 ARGS...     (nsrun run)
//         nsrun-exec --start-fifo=N PATH ARGV0 ARGS...    (nsrun create)
//
// --report-fd: it marks N (the child's end of the setup handshake)
// close-on-exec again, then execve(PATH, [ARGV0, ARGS...], envp).  Success
// closes N, which tells nsrun that COMMAND runs; a failure is reported on N
// as a handshake `failed` packet ("F126\nmessage\nhint"), exit status 126.
// --start-fifo: N is the exec fifo (O_PATH); it waits for `nsrun start` by
// opening /proc/self/fd/N for writing, answers "0" (go) and execs PATH; a
// failure goes to stderr (the container's log), exit status 127 or 126.
//
// Only system calls, through the raw syscall instruction (x86-64 ABI).
#include <asm/unistd.h>

namespace {

long syscall3(long number, long a, long b, long c) {
    long result;
    asm volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return result;
}

[[noreturn]] void exit_group(int status) {
    for (;;) {
        syscall3(__NR_exit_group, status, 0, 0);
    }
}

unsigned long length(const char* text) {
    unsigned long n = 0;
    while (text[n] != '\0') {
        ++n;
    }
    return n;
}

bool starts_with(const char* text, const char* prefix) {
    for (; *prefix != '\0'; ++text, ++prefix) {
        if (*text != *prefix) {
            return false;
        }
    }
    return true;
}

/// A small buffer that text is appended to (silently cut at its end).
struct Buffer {
    char bytes[1024];
    unsigned long used = 0;
    void add(const char* text) {
        for (; *text != '\0' && used < sizeof bytes; ++text) {
            bytes[used++] = *text;
        }
    }
    void add_number(long value) {
        char digits[24];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value > 0 && n < 24);
        while (n > 0 && used < sizeof bytes) {
            bytes[used++] = digits[--n];
        }
    }
};

/// errno as nsrun's messages show it (errno_text: "EACCES (Permission denied)"), for
/// the errors execve gives.
const char* errno_name(long err) {
    switch (err) {
    case 1: return "EPERM (Operation not permitted)";
    case 2: return "ENOENT (No such file or directory)";
    case 7: return "E2BIG (Argument list too long)";
    case 8: return "ENOEXEC (Exec format error)";
    case 12: return "ENOMEM (Cannot allocate memory)";
    case 13: return "EACCES (Permission denied)";
    case 20: return "ENOTDIR (Not a directory)";
    case 21: return "EISDIR (Is a directory)";
    case 26: return "ETXTBSY (Text file busy)";
    case 36: return "ENAMETOOLONG (File name too long)";
    case 40: return "ELOOP (Too many levels of symbolic links)";
    default: return nullptr;
    }
}

[[noreturn]] void refuse_to_run_alone() {
    // Run any other way than by nsrun — e.g. by a script starting
    // "#!/proc/self/exe", which makes the kernel exec this very image.
    const char text[] = "nsrun-exec: this is nsrun's exec step, run only by nsrun inside a container\n";
    syscall3(__NR_write, 2, reinterpret_cast<long>(text), sizeof text - 1);
    exit_group(126);
}

/// The decimal number after `prefix` in `arg`, or -1.
long number_after(const char* arg, const char* prefix) {
    if (!starts_with(arg, prefix)) {
        return -1;
    }
    long value = 0;
    const char* digit = arg + length(prefix);
    if (*digit == '\0') {
        return -1;
    }
    for (; *digit != '\0'; ++digit) {
        if (*digit < '0' || *digit > '9' || value > 1000000) {
            return -1;
        }
        value = value * 10 + (*digit - '0');
    }
    return value;
}

void write_all(long fd, const Buffer& text) {
    syscall3(__NR_write, fd, reinterpret_cast<long>(text.bytes), static_cast<long>(text.used));
}

/// The error's text after "COMMAND: cannot execute: ", and its hint line.
void describe(Buffer& text, long err, const char* hint_prefix) {
    if (const char* name = errno_name(err)) {
        text.add(name);
    } else {
        text.add("errno ");
        text.add_number(err);
    }
    text.add("\n");
    const char* hint = err == 8    ? "is it a program for this machine, or a script without a #! line?"
                       : err == 13 ? "is the file executable (chmod +x) and on a filesystem mounted without noexec?"
                                   : nullptr;
    if (hint) {
        text.add(hint_prefix);
        text.add(hint);
        if (hint_prefix[0] != '\0') {
            text.add("\n");
        }
    }
}

/// nsrun create: block until `nsrun start` opens the fifo, then say "go".
void wait_for_start(long fifo) {
    Buffer path;
    path.add("/proc/self/fd/");
    path.add_number(fifo);
    path.bytes[path.used < sizeof path.bytes ? path.used : sizeof path.bytes - 1] = '\0';
    constexpr long o_wronly_cloexec = 01 | 02000000;
    const long start = syscall3(__NR_open, reinterpret_cast<long>(path.bytes), o_wronly_cloexec, 0);
    const char go = '0';
    if (start < 0 || syscall3(__NR_write, start, reinterpret_cast<long>(&go), 1) != 1) {
        Buffer text;
        text.add("nsrun: error: the init could not wait for start on ");
        text.add(path.bytes);
        text.add(": ");
        describe(text, start < 0 ? -start : 5, "nsrun: hint: ");
        write_all(2, text);
        exit_group(125);
    }
    syscall3(__NR_close, start, 0, 0);
    syscall3(__NR_close, fifo, 0, 0); // a host path: COMMAND must not inherit it
}

} // namespace

extern "C" [[noreturn]] void stub_main(long* stack) {
    const long argc = stack[0];
    char** argv = reinterpret_cast<char**>(stack + 1);
    char** envp = argv + argc + 1;
    if (argc < 4) {
        refuse_to_run_alone();
    }
    const long report = number_after(argv[1], "--report-fd=");
    const long fifo = number_after(argv[1], "--start-fifo=");
    if (report < 0 && fifo < 0) {
        refuse_to_run_alone();
    }
    if (fifo >= 0) {
        wait_for_start(fifo);
    } else {
        constexpr long f_setfd = 2;
        constexpr long fd_cloexec = 1;
        syscall3(__NR_fcntl, report, f_setfd, fd_cloexec);
    }
    const long err = -syscall3(__NR_execve, reinterpret_cast<long>(argv[2]), reinterpret_cast<long>(argv + 3),
                               reinterpret_cast<long>(envp));
    // execve returned: COMMAND could not be run.  Report it as nsrun would.
    Buffer text;
    if (report >= 0) {
        text.add("F126\n");
        text.add(argv[3]);
        text.add(": cannot execute: ");
        describe(text, err, "");
        write_all(report, text);
        exit_group(126);
    }
    // create: nobody reads the handshake any more; the container's stderr is its log.
    text.add("nsrun: error: exec ");
    text.add(argv[3]);
    text.add(": ");
    describe(text, err, "nsrun: hint: ");
    write_all(2, text);
    exit_group(err == 2 ? 127 : 126);
}

// The entry point: the kernel starts here with the stack holding argc,
// argv, NULL, envp, NULL, auxv; align it as the ABI requires and call C++.
asm(R"(
    .text
    .global _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call stub_main
    hlt
)");
