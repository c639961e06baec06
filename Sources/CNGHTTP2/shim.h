#pragma once
#include <nghttp2/nghttp2.h>

// nghttp2 1.52 defines these as expressions, which the Clang importer drops.
static inline int32_t CNGHTTP2_INITIAL_WINDOW_SIZE(void) { return NGHTTP2_INITIAL_WINDOW_SIZE; }
static inline int32_t CNGHTTP2_MAX_WINDOW_SIZE(void) { return NGHTTP2_MAX_WINDOW_SIZE; }
static inline uint32_t CNGHTTP2_DEFAULT_HEADER_TABLE_SIZE(void) { return NGHTTP2_DEFAULT_HEADER_TABLE_SIZE; }

// glibc's malloc_trim, from <malloc.h>, which Swift's Glibc module does not import: the HTTP/2 server hands the
// memory of connections it closed back to the kernel (RPCHTTP2's ServerShared), which free() alone rarely does.
#include <malloc.h>
static inline int CNGHTTP2_malloc_trim(size_t pad) { return malloc_trim(pad); }
