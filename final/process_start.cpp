// The start of nsrun before its C library (process_start.hpp): its writable
// segments made, copied and writable, by the kernel in one call each,
// before the static PIE relocates itself.
#include "process_start.hpp"

#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 // Linux 5.14
#endif

extern "C" {

/// The ELF header at the start of nsrun's first segment (the linker defines
/// the symbol): hidden, so that it is reached relative to the code, not
/// through a pointer that still waits for its relocation.
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/// madvise(MADV_POPULATE_WRITE) of every writable PT_LOAD segment (its
/// .bss too).  The result is not looked at: failing, the pages fault in
/// one by one, as without it.
__attribute__((used, visibility("hidden"), no_stack_protector)) void nsrun_populate_writable_segments() {
    const char* const base = reinterpret_cast<const char*>(&__ehdr_start);
    const auto* const headers = reinterpret_cast<const ElfW(Phdr)*>(base + __ehdr_start.e_phoff);
    constexpr unsigned long page = 4096;
    for (unsigned i = 0; i < __ehdr_start.e_phnum; ++i) {
        const ElfW(Phdr)& segment = headers[i];
        if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) == 0) {
            continue;
        }
        const auto first = reinterpret_cast<unsigned long>(base + segment.p_vaddr) & ~(page - 1);
        const auto end = (reinterpret_cast<unsigned long>(base + segment.p_vaddr + segment.p_memsz) + page - 1) &
                         ~(page - 1);
        long result = SYS_madvise;
        asm volatile("syscall"
                     : "+a"(result)
                     : "D"(first), "S"(end - first), "d"(long{MADV_POPULATE_WRITE})
                     : "rcx", "r11", "memory");
    }
}

/// The kernel starts nsrun here, with the stack _start expects (argc, argv,
/// the environment, the auxiliary vector) and %rdx (a function for atexit,
/// 0 for a static program): both handed on as they came.
__attribute__((naked, visibility("hidden"))) void nsrun_entry() {
    asm volatile("push %rdx\n\t"        // kept for _start; the stack is 16-byte aligned again below
                 "sub $8, %rsp\n\t"
                 "call nsrun_populate_writable_segments\n\t"
                 "add $8, %rsp\n\t"
                 "pop %rdx\n\t"
                 "jmp _start\n\t");
}

} // extern "C"
