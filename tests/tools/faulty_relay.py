#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""faulty_relay.py: a deliberately broken TCP relay, to prove that sockgate-bench
notices what a broken gateway does to a stream. It relays each accepted connection to
the backend, one at a time, and damages one direction of each once OFFSET bytes of that
direction have passed:
  pass      nothing (the control case)
  flip      byte OFFSET has its low bit flipped
  drop      byte OFFSET is not forwarded
  dup       byte OFFSET is forwarded twice
  swap      the 1000 bytes from OFFSET and the 1000 after them change places
  truncate  nothing from OFFSET on is forwarded; that direction is then ended with a
            clean FIN, as a relay that shuts down too early would do
When either side resets or fails, the other side is reset too.
usage: faulty_relay.py LISTEN_IP LISTEN_PORT BACKEND_IP BACKEND_PORT MODE up|down OFFSET"""

import selectors
import socket
import struct
import sys

SWAP = 1000


class Damage:
    """Applies the fault to one direction's byte stream, once."""

    def __init__(self, mode, offset):
        self.mode, self.offset, self.seen, self.held, self.done = mode, offset, 0, b"", False

    def __call__(self, data):
        """Returns the bytes to forward and whether the direction must end here."""
        start, self.seen = self.seen, self.seen + len(data)
        if self.done or self.mode == "pass":
            return data, False
        if self.mode == "swap":
            return self.swap(start, data)
        if self.seen <= self.offset:
            return data, False
        i = self.offset - start
        self.done = True
        if self.mode == "flip":
            return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:], False
        if self.mode == "drop":
            return data[:i] + data[i + 1:], False
        if self.mode == "dup":
            return data[:i + 1] + data[i:], False
        return data[:i], True  # truncate

    def swap(self, start, data):
        lo, hi = self.offset, self.offset + 2 * SWAP
        if self.seen <= lo:
            return data, False
        # Hold back the two blocks until both are in, then send them swapped.
        i = max(lo - start, 0)
        head, rest = data[:i], data[i:]
        need = hi - max(start, lo) - len(self.held)
        self.held += rest[:need]
        rest = rest[need:]
        if len(self.held) < 2 * SWAP:
            return head, False
        self.done = True
        return head + self.held[SWAP:] + self.held[:SWAP] + rest, False


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def relay(client, backend, damage_up, damage_down):
    """Relays one pair until both directions ended; blocking sends keep it simple."""
    sel = selectors.DefaultSelector()
    peers = {client: (backend, damage_up), backend: (client, damage_down)}
    for s in peers:
        sel.register(s, selectors.EVENT_READ)
    open_dirs = 2
    while open_dirs:
        for key, _ in sel.select(timeout=60):
            src = key.fileobj
            dst, damage = peers[src]
            try:
                data = src.recv(65536)
            except OSError:
                reset(client)
                reset(backend)
                return
            out, end = damage(data) if data else (b"", True)
            try:
                if out:
                    dst.sendall(out)
                if end:
                    sel.unregister(src)
                    dst.shutdown(socket.SHUT_WR)
                    open_dirs -= 1
            except OSError:
                reset(client)
                reset(backend)
                return
    client.close()
    backend.close()


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    lip, lport, bip, bport, mode, direction, offset = sys.argv[1:]
    fam = socket.AF_INET6 if ":" in lip else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lip, int(lport)))
    ls.listen(64)
    while True:
        client, _ = ls.accept()
        backend = socket.create_connection((bip, int(bport)))
        for s in (client, backend):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        hurt, ok = Damage(mode, int(offset)), Damage("pass", 0)
        relay(client, backend, hurt if direction == "up" else ok, hurt if direction == "down" else ok)


if __name__ == "__main__":
    main()
