#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""express_peer.py: the two ends of one TCP pair for tests/e2e/test_express.sh, for what
sgflow does not do: a reset from either side, the backend half-closing first, a pair left
idle that sends again later.

  express_peer.py server IP PORT HELLO_LEN
  express_peer.py client IP PORT HELLO_FILE SRV_ACTION SRV_ARG PAD CLI_ACTION CLI_ARG

The client sends HELLO_FILE, the line "SRV_ACTION SRV_ARG PAD\\n" and PAD bytes; the
server reads them all and answers one byte "R", so that the pair is promoted (PAD over
--promote-bytes) and quiet. Then each side does its action:
  rst S      wait S seconds, then close with SO_LINGER 0 (a reset)
  wait S     read for at most S seconds: prints reset, eof or timeout
  idle S     read for S seconds; unless the pair ended meanwhile (prints "idle RESULT"),
             send one byte, then as wait 5 (prints "idle RESULT" too)
  fin S      (server) wait S seconds, shut the write side, then read the client's
             stream to its end, checking the pattern: prints "got=N ok|bad"
  after-fin N (client) read until the server's FIN, then send N pattern bytes and
             shut the write side, then wait for the server's close
Each side prints one line "server|client RESULT"; exit 0 unless a usage error.
"""
import socket
import struct
import sys
import threading
import time

PATTERN_BLOCK = bytes(range(251))


def pattern(off, n):
    """n bytes of the pattern (byte i is i % 251) starting at stream offset off."""
    k = off % 251
    reps = (k + n) // 251 + 1
    return (PATTERN_BLOCK * reps)[k:k + n]


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait_result(s, seconds):
    s.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return "eof"
            if time.monotonic() > deadline:
                return "timeout"
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%d" % e.errno


def idle(s, seconds, byte):
    """Quiet for seconds (what ends the pair meanwhile is the result), then one
    byte and what follows it."""
    r = wait_result(s, seconds)
    if r != "timeout":
        return r
    try:
        s.send(byte)
    except OSError as e:
        return "reset" if e.errno in (104, 32) else "error:%d" % e.errno
    return wait_result(s, 5)


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(65536, n - len(buf)))
        if not d:
            raise EOFError("eof after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def read_line(s):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        d = s.recv(1)
        if not d:
            raise EOFError("eof in the command line")
        buf += d
        if len(buf) > 200:
            raise ValueError("command line too long")
    return buf.decode().split()


def common_action(s, who, action, arg, byte):
    """The actions both sides take alike (rst, wait, idle); False for another."""
    if action == "rst":
        time.sleep(arg)
        rst_close(s)
        out(who + " rst-sent")
    elif action == "wait":
        out(who + " " + wait_result(s, arg))
    elif action == "idle":
        out(who + " idle " + idle(s, arg, byte))
    else:
        return False
    return True


def serve_one(s, hello_len):
    try:
        s.settimeout(30)
        recv_exact(s, hello_len)
        action, arg, pad = read_line(s)
        recv_exact(s, int(pad))
        s.sendall(b"R")
        arg = float(arg)
        if common_action(s, "server", action, arg, b"x"):
            pass
        elif action == "fin":
            time.sleep(arg)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(60)
            got, good = 0, True
            while True:
                d = s.recv(65536)
                if not d:
                    break
                if d != pattern(got, len(d)):
                    good = False
                got += len(d)
            s.close()
            out("server fin-first got=%d %s" % (got, "ok" if good else "bad"))
        else:
            out("server bad-action " + action)
    except Exception as e:  # one line per connection, whatever happened
        out("server error %s" % e)


def server(ip, port, hello_len):
    ls = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(64)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_one, args=(s, hello_len), daemon=True).start()


def client(ip, port, hello_file, srv_action, srv_arg, pad, cli_action, cli_arg):
    with open(hello_file, "rb") as f:
        hello = f.read()
    s = socket.create_connection((ip, port), timeout=10)
    s.sendall(hello + ("%s %s %d\n" % (srv_action, srv_arg, pad)).encode() + b"p" * pad)
    if recv_exact(s, 1) != b"R":
        out("client bad-ready")
        return
    arg = float(cli_arg)
    try:
        if common_action(s, "client", cli_action, arg, b"y"):
            pass
        elif cli_action == "after-fin":
            s.settimeout(30)
            if s.recv(1) != b"":
                out("client data-before-fin")
                return
            n = int(arg)
            s.sendall(pattern(0, n))
            s.shutdown(socket.SHUT_WR)
            out("client sent=%d after-fin then %s" % (n, wait_result(s, 30)))
        else:
            out("client bad-action " + cli_action)
    except OSError as e:
        out("client error %s" % e)


def main(argv):
    if len(argv) == 5 and argv[1] == "server":
        server(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 10 and argv[1] == "client":
        client(argv[2], int(argv[3]), argv[4], argv[5], argv[6], int(argv[7]), argv[8],
               argv[9])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
