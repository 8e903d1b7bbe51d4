/* slab.h — fixed-size objects packed into blocks of their own, for what a
 * connection keeps as long as it lives (the connection, its feed, its
 * channel name).
 *
 * Why not malloc: 10 000 connections opening at once interleave their
 * long-lived pieces with the handshake's temporaries (request buffers,
 * output chunks, segment arrays).  When the temporaries are freed, the heap
 * pages stay resident because a live connection sits on each of them: the
 * server's resident size per idle connection drifts 20-40 % above what is
 * in use, by how the burst happened to fall.  Here the long-lived objects
 * share 64 KiB blocks (mmap'd, off the heap) with each other only, so the
 * heap's temporaries consolidate and go back, and a block that empties is
 * unmapped (one is kept as a spare).
 *
 * One slab per thread (a server worker's own): no locking.  Under
 * AddressSanitizer every object is its own calloc, so use-after-free and
 * leaks are still caught per object. */
#ifndef PW_SLAB_H
#define PW_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define PW_SLAB_BLOCK (64 * 1024) /* a block; mapped aligned to its size */

/* Defined when objects are plain calloc/free (AddressSanitizer builds):
 * no blocks then. */
#if defined(__SANITIZE_ADDRESS__)
#define PW_SLAB_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PW_SLAB_MALLOC 1
#endif
#endif

struct pw_slab_blk;

struct pw_slab {
    uint32_t size;                /* object size, a multiple of 8 */
    uint32_t per_blk;             /* objects per block */
    struct pw_slab_blk *partial;  /* blocks with room (live < per_blk), linked */
    struct pw_slab_blk *full;     /* blocks without */
    struct pw_slab_blk *spare;    /* an empty block kept for the next burst */
    size_t nblk;                  /* blocks mapped, the spare included */
    size_t live;                  /* objects handed out */
};

/* size > 0 and at most PW_SLAB_BLOCK / 8. */
void pw_slab_init(struct pw_slab *s, size_t size);
/* A zeroed object, or NULL (out of memory). */
void *pw_slab_alloc(struct pw_slab *s);
/* p from pw_slab_alloc of the same slab, or NULL. */
void pw_slab_free(struct pw_slab *s, void *p);
/* Unmaps every block; objects still out are gone with them. */
void pw_slab_fini(struct pw_slab *s);
/* Bytes of the objects out (not the blocks' free room). */
static inline size_t pw_slab_bytes(const struct pw_slab *s)
{
    return s->live * s->size;
}

/* Strings (a channel name): a slab per size class (16, 32, 64 bytes with
 * the NUL); a longer one is malloc'd. */
#define PW_STRSLAB_CLASSES 3
struct pw_strslab {
    struct pw_slab cls[PW_STRSLAB_CLASSES];
};
void pw_strslab_init(struct pw_strslab *ss);
/* A copy of s[0..len) with a NUL, or NULL (out of memory). */
char *pw_strslab_dup(struct pw_strslab *ss, const char *s, size_t len);
/* p from pw_strslab_dup of the same set, unchanged since (its length picks
 * the class), or NULL. */
void pw_strslab_free(struct pw_strslab *ss, char *p);
void pw_strslab_fini(struct pw_strslab *ss);
/* Bytes of the strings out in the slabs (the malloc'd long ones not). */
size_t pw_strslab_bytes(const struct pw_strslab *ss);

#endif
