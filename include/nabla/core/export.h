// nabla/core/export.h — what a shared libnabla.so exports: the public API, nothing else.
//
// The library is compiled with hidden visibility (CMakeLists.txt: CXX_VISIBILITY_PRESET
// hidden), so a symbol leaves libnabla.so only when a public header declares it between
// NABLA_API_BEGIN and NABLA_API_END. Every header of include/nabla/ wraps its namespace so:
//
//   NABLA_API_BEGIN
//   namespace nabla {
//   ...
//   }  // namespace nabla
//   NABLA_API_END
//
// The library's own helpers (src/), the libraries it uses (OpenBLAS, libpng, zlib,
// nlohmann-json) and inline functions stay inside. One mark a header rather than one a
// function: a declaration added to a public header is exported without a second edit. A
// static libnabla.a is unaffected (hidden symbols still link into the program).
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define NABLA_API_BEGIN _Pragma("GCC visibility push(default)")
#define NABLA_API_END _Pragma("GCC visibility pop")
#else
#define NABLA_API_BEGIN
#define NABLA_API_END
#endif
