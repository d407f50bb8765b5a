/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-iov.c - iov_cut(): bytes removed from the middle of an iovec array
 * (the 8 hash bytes between a 20-byte virtio-net header and the frame)
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "util.h"

/**
 * flat() - the bytes @iov covers, in order
 * @out:	receives them
 * Return: how many.
 */
static size_t flat(const struct iovec *iov, int n, uint8_t *out)
{
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    return len;
}

/*
 * Every way 64 bytes can be split into segments of 20, 1, 7 and 36 bytes
 * (and one segment of 64), every cut of 0 to 12 bytes at every offset:
 * what remains is the bytes before and after the cut, and the number of
 * segments grows by at most one, only when the cut is inside a segment.
 */
static void test_cut(void)
{
    static const size_t layouts[][4] = {
        {64, 0, 0, 0}, {20, 44, 0, 0}, {12, 8, 44, 0}, {1, 7, 20, 36}};
    uint8_t data[64], got[64], want[64];

    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 5 + 1);
    }
    for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
        for (size_t off = 0; off <= 64; off++) {
            for (size_t len = 0; len <= 12; len++) {
                struct iovec iov[5];
                unsigned int n = 0;
                size_t at = 0;
                int m;

                for (int k = 0; k < 4 && layouts[l][k]; k++) {
                    iov[n++] = (struct iovec){data + at, layouts[l][k]};
                    at += layouts[l][k];
                }
                m = iov_cut(iov, n, G_N_ELEMENTS(iov), off, len);
                if (off + len > 64) {
                    g_assert_cmpint(m, ==, -1);
                    continue;
                }
                g_assert_cmpint(m, >=, (int)n);
                g_assert_cmpint(m, <=, (int)n + 1);
                memcpy(want, data, off);
                memcpy(want + off, data + off + len, 64 - off - len);
                g_assert_cmpuint(flat(iov, m, got), ==, 64 - len);
                g_assert_cmpmem(got, 64 - len, want, 64 - len);
            }
        }
    }
}

/* A cut inside a segment with no room to split it is refused. */
static void test_no_room(void)
{
    uint8_t data[40];
    struct iovec iov[2] = {{data, 30}, {data + 30, 10}};

    g_assert_cmpint(iov_cut(iov, 2, 2, 12, 8), ==, -1);
    iov[0].iov_len = 20;
    iov[1] = (struct iovec){data + 20, 20};
    /* The same cut at a segment's end needs no split. */
    g_assert_cmpint(iov_cut(iov, 2, 2, 12, 8), ==, 2);
    g_assert_cmpuint(iov[0].iov_len, ==, 12);
    g_assert_true(iov[1].iov_base == data + 20);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iov/cut", test_cut);
    g_test_add_func("/iov/cut-no-room", test_no_room);
    return g_test_run();
}
