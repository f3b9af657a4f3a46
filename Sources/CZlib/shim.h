#pragma once
#include <zlib.h>

// inflateInit is a macro with arguments, which Swift cannot call: a fixed wrapper.
static inline int sealant_inflate_init(z_stream *stream) {
    return inflateInit(stream);
}
