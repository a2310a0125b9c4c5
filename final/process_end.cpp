// The replaceable global deallocation functions ([new.delete]): each frees
// as the default ones do, unless nothing_more_to_free() was called.
#include "process_end.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<bool> freeing{true};

void release(void* p) noexcept {
    if (freeing.load(std::memory_order_relaxed)) {
        std::free(p); // what libstdc++'s operator delete does (aligned new uses aligned_alloc: free() too)
    }
}

} // namespace

void nsrun::nothing_more_to_free() noexcept { freeing.store(false, std::memory_order_relaxed); }

void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
