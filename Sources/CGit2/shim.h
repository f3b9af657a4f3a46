#pragma once
#include <git2.h>

// git_libgit2_opts is variadic, which Swift cannot call: fixed-arity wrappers for the options
// Sealant sets once at start-up.

/// Turn off re-hashing every object read from the object database (git cat-file does not either).
static inline int sealant_git_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/// Set the per-repository object cache limit in bytes (commits and trees looked up by the walk).
static inline int sealant_git_set_cache_max_size(ssize_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, bytes);
}
