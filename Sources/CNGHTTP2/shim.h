#pragma once
#include <nghttp2/nghttp2.h>

// nghttp2 1.52 defines these as expressions, which the Clang importer drops.
static inline int32_t CNGHTTP2_INITIAL_WINDOW_SIZE(void) { return NGHTTP2_INITIAL_WINDOW_SIZE; }
static inline int32_t CNGHTTP2_MAX_WINDOW_SIZE(void) { return NGHTTP2_MAX_WINDOW_SIZE; }
static inline uint32_t CNGHTTP2_DEFAULT_HEADER_TABLE_SIZE(void) { return NGHTTP2_DEFAULT_HEADER_TABLE_SIZE; }
