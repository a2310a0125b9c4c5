/// @file process_start.hpp
/// The start of nsrun, before its C library: its writable pages made in
/// one system call, before it relocates itself.
///
/// nsrun is a static PIE (final/CMakeLists.txt): loaded at a random
/// address, it first adds that address to 6234 pointers of its own — its
/// C++ runtime's vtables, libc's tables — on 21 pages of its writable
/// segments.  Each of those pages is first read (a fault maps the file's
/// page read-only) and then written (a second fault copies it and flushes
/// the old mapping from the TLB).  On a VM such a copy-on-write fault costs
/// ~18 µs, most of it the TLB flush, which the hypervisor does.  So nsrun's
/// entry point is nsrun_entry, not the C library's _start: it asks the kernel
/// to make every page of its writable segments, copied and writable, with
/// one madvise(MADV_POPULATE_WRITE) each (Linux 5.14; on an older kernel
/// the call fails and the faults happen as before), then jumps to _start.
/// Made so, before anything mapped them, no old mapping needs flushing: a
/// `run` faults 33 times less and takes 0.6 ms less (faster in 111 of 150
/// starts in turns), and nsrun keeps its random address (ASLR) — linked at
/// a fixed one instead it would save 0.6–1.0 ms, and give an exploit its
/// code at known addresses.
///
/// What runs here runs before relocation and before thread-local storage
/// exists: no pointer stored in data (none is relocated yet), no stack
/// protector (its canary is thread-local), no C library call — one system
/// call, made directly.  Built only for a static PIE on x86-64.
#pragma once

extern "C" {
/// The ELF entry point (-Wl,-e,nsrun_entry): populate, then the C library's _start.
void nsrun_entry();
}
