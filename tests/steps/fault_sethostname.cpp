// A fault to inject with LD_PRELOAD (Uts.AChildThatDiesDuringSetupIsAFailure):
// the container's process dies of SIGABRT at its sethostname(2), silently —
// as a child does after a C++ exception nobody caught (std::terminate).
#include <cstddef>
#include <cstdlib>

extern "C" int sethostname(const char* /*name*/, std::size_t /*length*/) { std::abort(); }
