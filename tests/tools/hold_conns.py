#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Connections that stay open, for the idle-timeout test and its experiment.

  hold_conns.py sink HOST PORT
      accepts every connection and reads (and drops) whatever arrives, never
      writing and never closing first: a backend that waits for more.
  hold_conns.py client HOST PORT HELLO --conns N --hold S [--drip MS] [--tag T]
      opens N connections, sends the HELLO file on each, then either nothing
      or (--drip) one byte every MS milliseconds on each; after S seconds (or
      once all were closed by the other end) prints one line:
        T open=K eof=E reset=R last_close_s=X
      and closes what is left. Every wait is bounded by S.
"""
import argparse
import selectors
import socket
import sys
import time


def sink(host, port):
    sel = selectors.DefaultSelector()
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1024)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()


def client(a):
    hello = open(a.hello, "rb").read()
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    socks = []
    for _ in range(a.conns):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((a.host, a.port))
        s.sendall(hello)
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    deadline = start + a.hold
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    open_ = set(socks)
    eof = reset = 0
    last_close = 0.0
    next_drip = start + a.drip / 1000.0 if a.drip else None
    while open_:
        now = time.monotonic()
        if now >= deadline:
            break
        wake = deadline if next_drip is None else min(deadline, next_drip)
        for key, _ in sel.select(max(0.0, wake - now)):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                data, kind = None, "reset"
            else:
                kind = "eof"
            if data:
                continue  # the backend may answer; anything but an end is fine
            sel.unregister(s)
            open_.discard(s)
            s.close()
            if kind == "reset":
                reset += 1
            else:
                eof += 1
            last_close = time.monotonic() - start
        if next_drip is not None and time.monotonic() >= next_drip:
            for s in list(open_):
                try:
                    s.send(b"x")
                except OSError:
                    pass
            next_drip += a.drip / 1000.0
    print("%s open=%d eof=%d reset=%d last_close_s=%.1f"
          % (a.tag, len(open_), eof, reset, last_close))
    sys.stdout.flush()
    for s in open_:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sink", "client"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("hello", nargs="?")
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--hold", type=float, default=10)
    p.add_argument("--drip", type=int, default=0)
    p.add_argument("--tag", default="client:")
    a = p.parse_args()
    if a.mode == "sink":
        sink(a.host, a.port)
    else:
        client(a)


if __name__ == "__main__":
    main()
