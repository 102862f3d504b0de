#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""hello_client.py: clients of the hello-phase and admission tests, standard library only.
  make SIZE FILE [SNI]
      write a valid ClientHello of exactly SIZE stream bytes (records of at most 16 KiB,
      a padding extension, server_name SNI, default sample.aliyun.com) to FILE
  trickle HOST PORT FILE CONNS SEGMENT GAP_MS [HOLD_S]
      CONNS connections at once, each sending FILE in SEGMENT-byte writes (TCP_NODELAY)
      GAP_MS apart, printing "sent" once done, keeping them HOLD_S seconds (default 0),
      then waiting up to 10 s for the gateway to end the connection or to
      stay open (routed); prints "sent=N ended=E" (E: connections the gateway ended)
  hold HOST PORT CONNS SECONDS
      open CONNS connections (each bounded to 2 s to connect), send nothing, keep them
      SECONDS, then close; prints "connected=N" once they are open, then
      "held=H reset=R failed=F" (H: still open at the end; R: reset or ended by the
      gateway, during connect() or later; F: other connect errors)
Exit: 0, or 2 on bad usage."""

import select
import socket
import struct
import sys
import time

RECORD_MAX = 16384


def make_hello(size, sni):
    """A ClientHello whose stream (record headers included) is exactly size bytes."""
    host = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(host) + 5, len(host) + 3, 0, len(host)) + host

    def body(pad):
        exts = struct.pack("!HH", 0x0015, pad) + b"\0" * pad + sni_ext
        return (struct.pack("!H", 0x0303) + b"\x11" * 32 + b"\0" + struct.pack("!HH", 2, 0x1301)
                + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)

    def stream(pad):
        b = body(pad)
        hs = struct.pack("!B", 1) + struct.pack("!I", len(b))[1:] + b
        out = b""
        for i in range(0, len(hs), RECORD_MAX):
            part = hs[i:i + RECORD_MAX]
            out += struct.pack("!BHH", 0x16, 0x0301, len(part)) + part
        return out

    pad = 0
    while len(stream(pad)) < size:
        pad += size - len(stream(pad))
    s = stream(pad)
    while len(s) > size and pad > 0:  # a record header more than expected: step back
        pad -= 1
        s = stream(pad)
    if len(s) != size:
        sys.exit(f"make: cannot build a hello of exactly {size} bytes")
    return s


def trickle(host, port, data, conns, segment, gap_ms, hold_s=0.0):
    socks = []
    for _ in range(conns):
        s = socket.create_connection((host, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks.append(s)
    sent = 0
    for off in range(0, len(data), segment):
        for s in socks:
            try:
                s.send(data[off:off + segment])
            except (BlockingIOError, ConnectionError):
                pass
        sent += 1
        time.sleep(gap_ms / 1000.0)
    if hold_s:
        print("sent", flush=True)
        time.sleep(hold_s)
    ended = 0
    deadline = time.monotonic() + 10
    open_socks = list(socks)
    # The gateway either ends a connection (EOF, reset) or keeps it (routed): wait for
    # the ended ones a little, bounded.
    while open_socks and time.monotonic() < deadline:
        r, _, _ = select.select(open_socks, [], [], 1.0)
        if not r:
            break
        for s in r:
            try:
                if s.recv(65536) == b"":
                    ended += 1
                    open_socks.remove(s)
            except BlockingIOError:
                pass
            except ConnectionError:
                ended += 1
                open_socks.remove(s)
    for s in socks:
        s.close()
    print(f"sent={sent} ended={ended}")


def hold(host, port, conns, seconds):
    socks, failed, reset = [], 0, 0
    for _ in range(conns):
        try:
            socks.append(socket.create_connection((host, port), timeout=2))
        except ConnectionResetError:
            reset += 1  # the gateway accepted and reset it before connect() returned
        except OSError as e:
            failed += 1
            if failed == 1:
                print(f"first failure: {e}", flush=True)
    print(f"connected={len(socks)}", flush=True)
    time.sleep(seconds)
    held = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                reset += 1
            else:
                held += 1
        except BlockingIOError:
            held += 1
        except ConnectionError:
            reset += 1
        s.close()
    print(f"held={held} reset={reset} failed={failed}")


def main(argv):
    if len(argv) >= 3 and argv[0] == "make":
        with open(argv[2], "wb") as f:
            f.write(make_hello(int(argv[1]), argv[3] if len(argv) > 3 else "sample.aliyun.com"))
    elif len(argv) in (7, 8) and argv[0] == "trickle":
        with open(argv[3], "rb") as f:
            data = f.read()
        trickle(argv[1], int(argv[2]), data, int(argv[4]), int(argv[5]), float(argv[6]),
                float(argv[7]) if len(argv) == 8 else 0.0)
    elif len(argv) == 5 and argv[0] == "hold":
        hold(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
