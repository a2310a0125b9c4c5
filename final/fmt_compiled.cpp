// fmt's compiled part (Debian's libfmt.so.9), built into nsrun itself.
//
// With libfmt.so linked, nsrun would load libstdc++.so, libgcc_s and libm
// at every start through it, even though the C++ runtime is linked in
// statically (CMakeLists.txt): the dynamic loader's work for those is most
// of what a start of nsrun costs before its first system call of its own
// (LD_DEBUG=statistics, docs/bench.md).  This file is what fmt's own
// src/format.cc is: the out-of-line definitions of format-inl.h and the
// explicit instantiations the headers declare extern.  The unit tests keep
// the shared library; only the nsrun executable links this file.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;
template FMT_API void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);

} // namespace detail
FMT_END_NAMESPACE
