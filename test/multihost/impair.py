#!/usr/bin/env python3
"""A userspace link emulator for kernels without tc netem (sch_netem).

Each node's network namespace has a persistent TUN device `tun0` (10.77.0.<i>/24). This switch opens
them all (entering each namespace with setns), reads every IPv4 packet, drops it with probability
LOSS, and delivers it to the namespace of its destination address after a delay drawn from
Normal(DELAY_MS, JITTER_MS) (never below 0) -- what `tc netem delay 50ms 10ms loss 2%` does on one
hop. Usage: impair.py <delay_ms> <jitter_ms> <loss> <seed> <ns>=<last octet> ...
It prints "ready" once every device is open, and per-second counters on stderr.
"""
import ctypes
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

libc = ctypes.CDLL(None, use_errno=True)


def open_tun(namespace: str) -> int:
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {namespace}")
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tun0", IFF_TUN | IFF_NO_PI))
        return fd
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(target)
        os.close(home)


def main() -> None:
    delay, jitter, loss, seed = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    by_octet = {}
    fds = []
    for spec in sys.argv[5:]:
        namespace, octet = spec.split("=")
        fd = open_tun(namespace)
        by_octet[int(octet)] = fd
        fds.append(fd)
    print("ready", flush=True)
    queue = []  # (due, seq, fd, packet)
    seq = 0
    counts = {"in": 0, "dropped": 0, "out": 0}
    last_report = time.monotonic()
    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 1.0
        readable, _, _ = select.select(fds, [], [], min(timeout, 1.0))
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if len(packet) < 20 or packet[0] >> 4 != 4:
                    continue  # IPv4 only
                counts["in"] += 1
                dest = by_octet.get(packet[19])
                if dest is None or rng.random() < loss:
                    counts["dropped"] += 1
                    continue
                wait = max(0.0, rng.gauss(delay, jitter)) / 1000.0
                seq += 1
                heapq.heappush(queue, (time.monotonic() + wait, seq, dest, packet))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, dest, packet = heapq.heappop(queue)
            try:
                os.write(dest, packet)
                counts["out"] += 1
            except OSError:
                counts["dropped"] += 1
        if now - last_report >= 1.0:
            print(f"impair: {counts}", file=sys.stderr, flush=True)
            last_report = now


if __name__ == "__main__":
    main()
