#pragma once
#include <git2.h>

// git_libgit2_opts is variadic, which Swift cannot call: fixed-arity wrappers for the options
// Sealant sets once at start-up.

/// Turn off re-hashing every object read from the object database (git cat-file does not either).
static inline int sealant_git_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/// Set the total size of the per-repository object cache (libgit2's default is 256 MiB).
static inline int sealant_git_set_cache_max_size(ssize_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, bytes);
}

/// Set the largest object of `type` the object cache keeps (0: never cache that type).
static inline int sealant_git_set_cache_object_limit(git_object_t type, size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, type, bytes);
}

/// Cap the bytes of pack files mapped at once (libgit2's default on 64-bit is 8 GiB, so a full-history
/// read of a large repository keeps the whole pack resident); least recently used windows are unmapped.
static inline int sealant_git_set_mwindow_mapped_limit(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, bytes);
}

/// Set the size of one pack window (libgit2's default on 64-bit is 1 GiB).
static inline int sealant_git_set_mwindow_size(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, bytes);
}
