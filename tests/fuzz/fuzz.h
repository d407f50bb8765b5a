/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry point, a
 * reader that turns the input into small integers, and the log policy
 *
 * Each target is one LLVMFuzzerTestOneInput(). Built with -Dfuzzing=true
 * (clang), libFuzzer drives it; otherwise replay.c's main() runs it over
 * files and directories, so `meson test --suite fuzz` replays the corpus
 * in every build (gcc, ASan/UBSan, clang).
 *
 * Log policy, as G_DEBUG=fatal-warnings in the unit tests: a warning or a
 * critical from anyone aborts (a guest's mistake must be one g_message and
 * a contained failure, never a GLib critical); messages and debug output
 * are dropped, since every hostile input logs one.
 */
#ifndef VDUSE_NET_FUZZ_H
#define VDUSE_NET_FUZZ_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * struct FuzzIn - the input, consumed from the front
 * @data:	next byte
 * @left:	bytes left
 *
 * Past the end every reader returns zeros: an input is never "too short".
 */
typedef struct FuzzIn {
    const uint8_t *data;
    size_t left;
} FuzzIn;

/* fuzz_u8() - the next byte, or 0. */
static inline uint8_t fuzz_u8(FuzzIn *in)
{
    if (!in->left) {
        return 0;
    }
    in->left--;
    return *in->data++;
}

/* fuzz_u16() - the next two bytes, little endian. */
static inline uint16_t fuzz_u16(FuzzIn *in)
{
    uint16_t lo = fuzz_u8(in);

    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

/* fuzz_u32() - the next four bytes, little endian. */
static inline uint32_t fuzz_u32(FuzzIn *in)
{
    uint32_t lo = fuzz_u16(in);

    return lo | (uint32_t)fuzz_u16(in) << 16;
}

/* fuzz_u64() - the next eight bytes, little endian. */
static inline uint64_t fuzz_u64(FuzzIn *in)
{
    uint64_t lo = fuzz_u32(in);

    return lo | (uint64_t)fuzz_u32(in) << 32;
}

/**
 * fuzz_bytes() - the next @len bytes, as many as are left
 * @in:		the input
 * @len:	bytes wanted
 * @got:	receives how many there are (at most @len)
 *
 * Return: a pointer into the input (valid for the whole call).
 */
static inline const uint8_t *fuzz_bytes(FuzzIn *in, size_t len, size_t *got)
{
    const uint8_t *p = in->data;

    *got = len < in->left ? len : in->left;
    in->data += *got;
    in->left -= *got;
    return p;
}

/* fuzz_fail() - an invariant broke: say which and abort (a crash). */
#define fuzz_fail(...)                                                         \
    do {                                                                       \
        fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);                  \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        abort();                                                               \
    } while (0)

/* fuzz_check() - fuzz_fail() unless @cond holds. */
#define fuzz_check(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fuzz_fail("%s", #cond);                                            \
        }                                                                      \
    } while (0)

/**
 * fuzz_log_init() - the log policy above; call once (repeats are harmless)
 */
void fuzz_log_init(void);

#endif /* VDUSE_NET_FUZZ_H */
