#!/usr/bin/env python3
# make-seeds.py - write the hand-made seeds of the binary fuzz targets
#
# Usage: tests/fuzz/make-seeds.py
#
# The input formats are those the targets read (see each fuzz-*.c); each
# seed is one honest or hostile scenario a driver could play, so that
# libFuzzer starts from inputs that reach deep. The text targets (state,
# mgmt) have their seeds written by hand in corpus/. Reproducers of bugs
# found (corpus/*/crash-*) are kept as libFuzzer wrote them, not made here.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz-virtq ---------------------------------------------------------
def vq_header(asid=0, event_idx=False, log2num=3, desc=0, avail=128,
              used=4096, last_avail=0):
    b = asid | (2 if event_idx else 0) | (log2num << 2)
    return struct.pack("<BHHHH", b, desc, avail, used, last_avail)


def vq_desc(idx, addr_off, length, flags=0, nxt=0, mem=0):
    # op 0, ring descriptor idx, buffer at GUEST_IOVA + addr_off
    return struct.pack("<BBBHHBB", 0, mem, idx, addr_off, length, flags, nxt)


def vq_desc_at(off, addr_off, length, flags=0, nxt=0, mem=0):
    # op 0 with an absolute offset (indirect tables)
    return struct.pack("<BBHHHBB", 0, mem | 16, off, addr_off, length, flags,
                       nxt)


def vq_avail(head, other_asid=False):
    return struct.pack("<BBB", 1, 1 if other_asid else 0, head)


POP = lambda n=1: bytes([4, n - 1])
PUSH = lambda n=1, written=0: struct.pack("<BBH", 5, n - 1, written)
FLUSH = bytes([6])
NOTIFY = lambda on=1: bytes([7, on])
UNPOP = lambda n=1: bytes([8, n - 1])
RESTART = bytes([9])
SET_ASID = bytes([10])
REMAP = lambda b: bytes([11, b])
NEXT, WRITE, INDIRECT = 1, 2, 4

write("virtq", "chain", vq_header() +
      vq_desc(0, 0x2000, 12, NEXT, 1) + vq_desc(1, 0x2100, 50, NEXT, 2) +
      vq_desc(2, 0x3000, 1500, WRITE) + vq_avail(0) + POP() + PUSH(1, 1500) +
      FLUSH + NOTIFY())
write("virtq", "indirect", vq_header(event_idx=True) +
      vq_desc_at(0x5000, 0x2000, 12, NEXT, 1) +
      vq_desc_at(0x5010, 0x3000, 2000, WRITE) +
      vq_desc(0, 0x5000, 32, INDIRECT) + vq_avail(0) + POP() + PUSH() +
      FLUSH + NOTIFY())
write("virtq", "asid1-switch", vq_header(asid=1, log2num=2) +
      vq_desc(0, 0x2000, 64, WRITE, mem=1) + vq_desc(0, 0x2000, 64, 0) +
      vq_avail(0) + vq_avail(0, other_asid=True) + POP() + PUSH() + FLUSH +
      SET_ASID + POP() + PUSH() + FLUSH)
write("virtq", "loop", vq_header() + vq_desc(0, 0x2000, 8, NEXT, 1) +
      vq_desc(1, 0x2000, 8, NEXT, 0) + vq_avail(0) + POP() + POP())
write("virtq", "readonly-write", vq_header() +
      vq_desc(0, 0xc100, 64, WRITE) + vq_avail(0) + POP())
write("virtq", "span-regions", vq_header() +
      vq_desc(0, 0xbff0, 64, 0) + vq_avail(0) + POP() + PUSH() + FLUSH)
write("virtq", "reuse-heads", vq_header(log2num=1) +
      vq_desc(0, 0x2000, 8, WRITE) + vq_avail(0) + vq_avail(0) +
      vq_avail(0) + POP(3) + PUSH(3) + FLUSH)
write("virtq", "unpop-restart", vq_header(event_idx=True) +
      vq_desc(0, 0x2000, 8, WRITE) + vq_desc(1, 0x2000, 8, WRITE) +
      vq_avail(0) + vq_avail(1) + POP(2) + UNPOP(1) + PUSH() + FLUSH +
      RESTART + POP(2) + PUSH(2) + FLUSH)
write("virtq", "remap-readonly", vq_header() + vq_desc(0, 0x2000, 8, WRITE) +
      vq_avail(0) + REMAP(2) + POP() + REMAP(4) + POP())
write("virtq", "max-size", vq_header(log2num=8, avail=4096, used=8192,
                                     last_avail=65535) +
      vq_desc(255, 0x4000, 100, WRITE) + vq_avail(255) + POP() + PUSH() +
      FLUSH)


# Packed rings (bit 7 of the header): the ring at 0, the driver area at
# 4096, the device area at 4100; positions with the wrap counter in bit 15.
def vq_pheader(event_idx=False, log2num=3, start=0x8000):
    b = 0x80 | (2 if event_idx else 0) | (log2num << 2)
    return struct.pack("<BHHHH", b, 0, 4096, 4100, start)


PWRAP, PLIE = 8, 16


def vq_pdesc(slot, addr_off, length, buf_id, fl, mem=0):
    # op 14: packed descriptor at ring slot, flags NEXT/WRITE/INDIRECT (fl
    # bits 0-2), wrap counter (PWRAP), USED equal to AVAIL (PLIE)
    return struct.pack("<BBBHHBB", 14, mem, slot, addr_off, length, buf_id,
                       fl)


def vq_pdesc_at(off, addr_off, length, fl=0, mem=0):
    return struct.pack("<BBHHHBB", 14, mem | 16, off, addr_off, length, 0, fl)


write("virtq", "packed-chain", vq_pheader() +
      vq_pdesc(1, 0x2100, 50, 5, NEXT | PWRAP) +
      vq_pdesc(2, 0x3000, 1500, 5, WRITE | PWRAP) +
      vq_pdesc(0, 0x2000, 12, 5, NEXT | PWRAP) + POP() + PUSH(1, 1500) +
      FLUSH + NOTIFY())
write("virtq", "packed-indirect", vq_pheader(event_idx=True) +
      vq_pdesc_at(0x5000, 0x2000, 12) + vq_pdesc_at(0x5010, 0x3000, 2000,
                                                    WRITE) +
      vq_pdesc(0, 0x5000, 32, 3, INDIRECT | PWRAP) + POP() + PUSH() +
      FLUSH + NOTIFY())
write("virtq", "packed-wrap", vq_pheader(event_idx=True, log2num=1) +
      vq_pdesc(0, 0x2000, 8, 0, WRITE | PWRAP) +
      vq_pdesc(1, 0x2000, 8, 1, WRITE | PWRAP) + POP(2) + PUSH(2) + FLUSH +
      NOTIFY() + vq_pdesc(0, 0x2000, 8, 0, WRITE) +
      vq_pdesc(1, 0x2000, 8, 1, WRITE) + POP(2) + PUSH(2) + FLUSH +
      NOTIFY() + vq_pdesc(0, 0x2000, 8, 1, WRITE | PWRAP) + POP() + PUSH() +
      FLUSH)
write("virtq", "packed-loop", vq_pheader(log2num=2) +
      b"".join(vq_pdesc(i, 0x2000, 8, 0, NEXT | PWRAP) for i in range(4)) +
      POP() + POP())
write("virtq", "packed-reuse-id", vq_pheader() +
      vq_pdesc(0, 0x2000, 8, 1, WRITE | PWRAP) +
      vq_pdesc(1, 0x2000, 8, 1, WRITE | PWRAP) + POP(2) + PUSH(2) + FLUSH)
write("virtq", "packed-unpop-restart", vq_pheader(event_idx=True) +
      vq_pdesc(0, 0x2000, 8, 0, WRITE | PWRAP) +
      vq_pdesc(1, 0x2000, 8, 1, WRITE | PWRAP) + POP(2) + UNPOP(1) +
      PUSH() + FLUSH + RESTART + POP(2) + PUSH(2) + FLUSH)
write("virtq", "packed-wrap-lies", vq_pheader(log2num=1, start=0x8001) +
      vq_pdesc(0, 0x2000, 8, 0, WRITE | PWRAP) +
      vq_pdesc(1, 0x2000, 8, 0, NEXT | PWRAP) + POP())

# ---- fuzz-ctrlvq --------------------------------------------------------
F = {"CSUM": 0, "GUEST_CSUM": 1, "CTRL_GUEST_OFFLOADS": 2, "GUEST_TSO4": 7,
     "GUEST_TSO6": 8, "GUEST_ECN": 9, "CTRL_VQ": 17, "CTRL_RX": 18,
     "CTRL_VLAN": 19, "CTRL_RX_EXTRA": 20, "GUEST_ANNOUNCE": 21, "MQ": 22,
     "CTRL_MAC_ADDR": 23}
ALL = sum(1 << b for b in F.values())


def cvq_header(features=ALL, pairs=4):
    return struct.pack("<QB", features, pairs - 1)


def cmd(cls, c, payload=b""):
    data = bytes([cls, c]) + payload
    return struct.pack("<BH", 0, len(data)) + data


def cmd_reply(cls, c, payload=b"", room=0):
    # op 6: a command with room for a result (STATS) after its status
    data = bytes([cls, c]) + payload
    return struct.pack("<BH", 6, len(data)) + data + struct.pack("<H", room)


def stats_req(vq, types, reserved=0):
    return struct.pack("<HHHHQ", vq, reserved, 0, 0, types)


RX_BASIC, TX_BASIC, CVQ_STATS = 1 << 0, 1 << 16, 1 << 32
DEVICE_STATS = 1 << 50


def mac_table(uni, multi):
    t = struct.pack("<I", len(uni)) + b"".join(uni)
    return t + struct.pack("<I", len(multi)) + b"".join(multi)


UNI = bytes([2, 0, 0, 0, 0, 1])
MULTI = bytes([1, 0, 0x5e, 0, 0, 1])
REFUSE = lambda pairs, offloads: bytes([3, (1 if pairs else 0) |
                                        (2 if offloads else 0)])
RESET = lambda f=ALL: struct.pack("<BQ", 4, f)


def restore(pairs=None, offloads=None, features=None, coal=None):
    # coal: (vq, max_packets, max_usecs) written into the shadow restored
    b = (1 if pairs is not None else 0) | (2 if offloads is not None else 0) \
        | (4 if features is not None else 0) | (8 if coal is not None else 0)
    out = struct.pack("<BB", 5, b)
    if pairs is not None:
        out += struct.pack("<H", pairs)
    if offloads is not None:
        out += struct.pack("<Q", offloads)
    if features is not None:
        out += struct.pack("<Q", features)
    if coal is not None:
        out += struct.pack("<BII", *coal)
    return out


write("ctrlvq", "rx-modes", cvq_header() +
      b"".join(cmd(0, c, bytes([c & 1])) for c in range(6)) + cmd(0, 0, b"\2"))
write("ctrlvq", "mac-tables", cvq_header() +
      cmd(1, 0, mac_table([UNI] * 3, [MULTI] * 2)) +
      cmd(1, 0, mac_table([UNI] * 65, [MULTI] * 65)) +
      cmd(1, 0, mac_table([UNI], [UNI])) + cmd(1, 0, b"\1\0\0\0"))
write("ctrlvq", "mac-addr", cvq_header() + cmd(1, 1, UNI) +
      cmd(1, 1, MULTI) + cmd(1, 1, bytes(6)) + cmd(1, 1, UNI[:5]))
write("ctrlvq", "vlans", cvq_header() + cmd(2, 0, struct.pack("<H", 5)) +
      cmd(2, 0, struct.pack("<H", 4095)) + cmd(2, 0, struct.pack("<H", 4096)) +
      cmd(2, 1, struct.pack("<H", 5)))
write("ctrlvq", "announce", cvq_header() + cmd(3, 0) + cmd(3, 0, b"x"))
write("ctrlvq", "queue-pairs", cvq_header() +
      cmd(4, 0, struct.pack("<H", 4)) + cmd(4, 0, struct.pack("<H", 5)) +
      cmd(4, 0, struct.pack("<H", 0)) + REFUSE(True, False) +
      cmd(4, 0, struct.pack("<H", 2)))
write("ctrlvq", "offloads", cvq_header() +
      cmd(5, 0, struct.pack("<Q", 1 << 1)) +
      cmd(5, 0, struct.pack("<Q", 1 << 10)) + REFUSE(False, True) +
      cmd(5, 0, struct.pack("<Q", 0)))
write("ctrlvq", "stats", cvq_header(ALL | DEVICE_STATS) +
      cmd_reply(8, 0, room=8) +
      cmd_reply(8, 0, room=7) + cmd_reply(8, 0, b"x", room=8) +
      cmd_reply(8, 1, stats_req(0, RX_BASIC) + stats_req(7, TX_BASIC) +
                stats_req(8, CVQ_STATS), room=136) +
      cmd_reply(8, 1, stats_req(0, RX_BASIC), room=55) +
      cmd_reply(8, 1, stats_req(1, RX_BASIC), room=512) +
      cmd_reply(8, 1, stats_req(9, RX_BASIC), room=512) +
      cmd_reply(8, 1, stats_req(0, RX_BASIC, reserved=1), room=512) +
      cmd_reply(8, 1, stats_req(0, RX_BASIC)[:15], room=512) +
      cmd(8, 0) + RESET((ALL | DEVICE_STATS) & ~(1 << F["MQ"])) +
      cmd_reply(8, 1, stats_req(2, CVQ_STATS), room=24))
RSS, HASH_REPORT = 1 << 60, 1 << 57
MS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcb"
                       "ae7b30b477cb2da38030f20c6a42b73bbeac01fa")


def rss_config(types, table, unclassified=0, max_tx_vq=1, key=MS_KEY,
               mask=None):
    mask = len(table) - 1 if mask is None else mask
    return (struct.pack("<IHH", types, mask, unclassified) +
            b"".join(struct.pack("<H", q) for q in table) +
            struct.pack("<HB", max_tx_vq, len(key)) + key)


def hash_config(types, key=MS_KEY, reserved=0):
    return struct.pack("<IQB", types, reserved, len(key)) + key


write("ctrlvq", "rss", cvq_header(ALL | RSS | HASH_REPORT) +
      cmd(4, 1, rss_config(0x3f, [0, 1, 2, 3], max_tx_vq=4)) +
      cmd(4, 1, rss_config(0x3f, [0, 1, 2], max_tx_vq=3)) +
      cmd(4, 1, rss_config(0x7f, [0, 1])) +
      cmd(4, 1, rss_config(0x3f, [0, 4])) +
      cmd(4, 1, rss_config(0x3f, [1], max_tx_vq=0)) +
      cmd(4, 1, rss_config(0x3f, [0, 1], key=MS_KEY + b"x")) +
      cmd(4, 1, rss_config(0x3f, [0, 1])[:-1]) +
      REFUSE(False, False) + bytes([3, 4]) +
      cmd(4, 1, rss_config(0x3, [1, 0], max_tx_vq=2)) + bytes([3, 0]) +
      cmd(4, 1, rss_config(0x3, [1, 0], max_tx_vq=2)) +
      restore() + cmd(4, 0, struct.pack("<H", 3)) +
      cmd(4, 2, hash_config(0x12)) + cmd(4, 2, hash_config(0x12, reserved=1)) +
      cmd(4, 2, hash_config(0x40)) + restore() +
      cmd(4, 1, rss_config(0x3f, [0] * 128, unclassified=1, max_tx_vq=1)) +
      restore(pairs=1) + RESET(ALL | RSS))
write("ctrlvq", "no-features", cvq_header(0, 1) + cmd(0, 0, b"\0") +
      cmd(4, 0, struct.pack("<H", 1)) + cmd(9, 9) + cmd(0, 0))
write("ctrlvq", "restore", cvq_header() + cmd(4, 0, struct.pack("<H", 3)) +
      cmd(1, 1, UNI) + restore() + restore(pairs=2, offloads=0) +
      restore(features=ALL & ~(1 << F["MQ"])) + RESET())
NOTF_COAL, VQ_NOTF_COAL = 1 << 53, 1 << 52


def coal(packets, usecs):
    return struct.pack("<II", packets, usecs)


def coal_vq(vq, packets, usecs, reserved=0):
    return struct.pack("<HH", vq, reserved) + coal(packets, usecs)


# ethtool -C, per-queue settings, every refusal the spec names, VQ_GET with
# and without room, pairs disabled and enabled again, restores of settings
# the features cannot hold.
write("ctrlvq", "notf-coal", cvq_header(ALL | NOTF_COAL | VQ_NOTF_COAL) +
      cmd(4, 0, struct.pack("<H", 2)) +
      cmd(6, 0, coal(8, 0)) + cmd(6, 1, coal(16, 50)) +
      cmd(6, 0, coal(8, 0) + b"x") + cmd(6, 1, coal(16, 50)[:7]) +
      cmd(6, 2, coal_vq(0, 32, 100)) + cmd(6, 2, coal_vq(3, 1, 1, 0xffff)) +
      cmd(6, 2, coal_vq(4, 1, 1)) + cmd(6, 2, coal_vq(8, 1, 1)) +
      cmd(6, 2, coal_vq(9, 1, 1)) + cmd(6, 2, coal_vq(0, 1, 1)[:11]) +
      cmd_reply(6, 3, struct.pack("<HH", 0, 0), room=8) +
      cmd_reply(6, 3, struct.pack("<HH", 3, 0), room=7) +
      cmd_reply(6, 3, struct.pack("<HH", 8, 0), room=8) +
      cmd_reply(6, 3, struct.pack("<HH", 0, 0) + b"x", room=8) +
      cmd(6, 3, struct.pack("<HH", 0, 0)) +
      cmd(4, 0, struct.pack("<H", 1)) + cmd(4, 0, struct.pack("<H", 2)) +
      restore() + restore(coal=(6, 1, 1)) + restore(coal=(1, 2, 2)) +
      restore(features=ALL | VQ_NOTF_COAL) +
      restore(features=ALL | NOTF_COAL) + RESET(ALL | NOTF_COAL) +
      cmd(6, 2, coal_vq(0, 1, 1)) + cmd(6, 0, coal(0xffffffff, 0xffffffff)))
# Issue 17, item 11: the queue pairs were left applied when the device
# then refused the offloads (fixed by ffbe83e; a reproducer until then).
write("ctrlvq", "restore-partial-refused",
      cvq_header((1 << F["MQ"]) | (1 << F["GUEST_CSUM"]) |
                 (1 << F["CTRL_GUEST_OFFLOADS"])) +
      REFUSE(False, True) + restore(pairs=2, offloads=0))

# ---- fuzz-datapath ------------------------------------------------------
DP = {"MRG": 0, "CSUM": 1, "TSO4": 2, "TSO6": 3, "ECN": 4, "USO4": 5,
      "USO6": 6, "CTRL_RX": 7, "CTRL_VLAN": 8, "RX_EXTRA": 9, "MAC_ADDR": 10,
      "CTRL_OFFLOADS": 11, "EVENT_IDX": 12, "HASH": 13}


def dp_header(feats, log2num=7, hostile=False, start=0, mtu=1500):
    bits = sum(1 << DP[n] for n in feats)
    b = (log2num - 1) | (0x80 if hostile else 0)
    return struct.pack("<HBHH", bits, b, start, mtu - 68)


def rx_bufs(n, lens=None, nbufs=1, readable=False):
    out = bytes([0, n - 1])
    for _ in range(n):
        b = (nbufs - 1) | (4 if lens else 0) | (8 if readable else 0)
        out += bytes([b])
        if lens:
            out += b"".join(struct.pack("<H", l) for l in lens[:nbufs])
    return out


def tx_frame(body, hdr=bytes(12), split=True):
    return bytes([1, 1 if split else 0]) + struct.pack("<H", body) + hdr


def tap_frame(dst=3, body=100, flags=0, gso=0, gso_size=0, vid=None,
              raw=False, raw_body=False, ip=None):
    b = dst | (4 if vid is not None else 0) | (0x20 if raw_body else 0) | \
        (0x40 if gso else 0) | (0x80 if raw else 0) | \
        (0x08 if ip else 0) | (0x10 if ip and ip[0] >> 4 == 6 else 0)
    out = struct.pack("<BBBBHHH", 2, b, flags, gso, 0, gso_size, body)
    if vid is not None:
        out += struct.pack("<H", vid)
    if ip:
        out += ip.ljust(44, b"\0")
    return out


# An IPv4 TCP header's start (the RSS suite's first flow) and an IPv6 UDP
# one, for the hash reports.
IP4_TCP = bytes([0x45, 0, 0, 60, 0, 0, 0, 0, 64, 6, 0, 0, 66, 9, 149, 187,
                 161, 142, 100, 80]) + struct.pack(">HH", 2794, 1766)
IP6_UDP = bytes([0x60, 0, 0, 0, 0, 8, 17, 64]) + bytes(range(32)) + \
    struct.pack(">HH", 53, 5353)


STEP = lambda pause=0: bytes([3, pause])


def dp_cmd(data):
    return bytes([5, len(data)]) + data


def dp_poke(off, data):
    return struct.pack("<BHB", 6, off, len(data)) + data


write("datapath", "basic", dp_header(["MRG", "CSUM", "EVENT_IDX"]) +
      rx_bufs(8) + tap_frame(3, 100) + tap_frame(0, 1400) + STEP() +
      tx_frame(60) + tx_frame(1500, split=False) + STEP(1))
write("datapath", "filter",
      dp_header(["MRG", "CTRL_RX", "CTRL_VLAN", "RX_EXTRA", "MAC_ADDR"]) +
      rx_bufs(8) + dp_cmd(bytes([0, 0, 0])) +
      dp_cmd(bytes([2, 0]) + struct.pack("<H", 5)) +
      dp_cmd(bytes([1, 0]) + mac_table([UNI], [MULTI])) +
      tap_frame(0) + tap_frame(1) + tap_frame(2) + tap_frame(3, vid=5) +
      tap_frame(3, vid=6) + STEP() + dp_cmd(bytes([0, 5, 1])) +
      tap_frame(0) + STEP() + rx_bufs(4) + STEP())
write("datapath", "gso", dp_header(["MRG", "CSUM", "TSO4", "TSO6", "ECN",
                                    "CTRL_OFFLOADS"]) +
      rx_bufs(8) + rx_bufs(8) + rx_bufs(8) + rx_bufs(8) + rx_bufs(8) +
      tap_frame(3, 60000, flags=1, gso=1, gso_size=1448, raw_body=True) +
      tap_frame(3, 3000, gso=5, raw_body=True) + STEP() + rx_bufs(8) +
      rx_bufs(8) + rx_bufs(8) + rx_bufs(8) + STEP() +
      dp_cmd(bytes([5, 0]) + struct.pack("<Q", 0)) +
      tap_frame(3, 200, flags=2) + tap_frame(3, 9000, gso=0x81,
                                             raw_body=True) + STEP())
write("datapath", "small-buffers", dp_header(["CSUM"], log2num=2, mtu=9000) +
      rx_bufs(3, lens=[100]) + rx_bufs(1, lens=[8]) +
      tap_frame(3, 50, flags=2) + tap_frame(3, 500) + STEP() +
      rx_bufs(2, lens=[9100, 9100, 9100], nbufs=3) + tap_frame(3, 8000) +
      STEP(1) + STEP())
write("datapath", "held-chains", dp_header(["MRG", "EVENT_IDX"], log2num=4,
                                           start=65530) +
      rx_bufs(4, lens=[600]) + tap_frame(3, 100) + STEP() +
      tap_frame(3, 1400) + STEP() + STEP(1) + rx_bufs(8, lens=[600]) +
      tap_frame(3, 1500) + STEP())
write("datapath", "tx-burst", dp_header(["MRG"], log2num=5) +
      b"".join(tx_frame(100 + i, split=(i % 2 == 0)) for i in range(24)) +
      STEP() + STEP() + STEP() + tx_frame(0) + STEP())
# Hash reports: 20-byte headers both ways, HASH_CONFIG (all six types,
# a 40-byte key, Linux's one byte more), frames of each kind.
write("datapath", "hash-report",
      dp_header(["MRG", "CSUM", "TSO4", "CTRL_OFFLOADS", "HASH"]) +
      rx_bufs(8) + tap_frame(3, 100, ip=IP4_TCP) + STEP() +
      dp_cmd(bytes([4, 2]) + struct.pack("<I", 0x3f) + bytes(8) +
             bytes([40]) + bytes(range(1, 41)) + bytes(1)) +
      tap_frame(3, 100, ip=IP4_TCP) + tap_frame(3, 200, ip=IP6_UDP) +
      tap_frame(3, 60) + rx_bufs(8) + rx_bufs(8) + rx_bufs(8) + rx_bufs(8) +
      tap_frame(3, 30000, flags=1, gso=1, gso_size=1448, ip=IP4_TCP) +
      STEP() + tx_frame(60) + tx_frame(1500, split=False) + STEP(1))
write("datapath", "hostile", dp_header(["MRG", "EVENT_IDX"], log2num=3,
                                       hostile=True) +
      rx_bufs(4, readable=True) + rx_bufs(4) + tap_frame(3, 100) + STEP() +
      dp_poke(0, struct.pack("<QIHH", 0x7000000000, 100, 1, 0)) +
      dp_poke(0x4000 + 16 * 8 + 2, struct.pack("<H", 40)) + tx_frame(50) +
      tap_frame(3, 100) + STEP() + STEP(1))
