"""Faults against a running `switchyard serve`: malformed and truncated JSON, wrong types, a 100 MB body, unknown
routes, 500 connections opened and dropped, a client that disconnects mid-stream, slow readers, a full queue.
Afterwards the server must still answer and every sequence slot must be free (/metrics). Every loop is bounded.
Usage: faults.py PORT MODE   (MODE: main | busy, the latter against a server with --parallel 1 --queue 0)"""
import concurrent.futures
import gzip
import http.client
import json
import socket
import sys
import time

port, mode = int(sys.argv[1]), sys.argv[2]
failures = 0
started = time.time()


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + f"[{time.time() - started:6.2f} s] " + what, flush=True)
    if not cond:
        failures += 1


def request(method, path, body=None, headers=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, type(None))) else body.encode()
        conn.request(method, path, body=data, headers=headers or {"Content-Type": "application/json"})
        r = conn.getresponse()
        raw = r.read()
        return r.status, dict(r.getheaders()), raw
    finally:
        conn.close()


def error_of(raw):
    try:
        e = json.loads(raw)["error"]
        return e if isinstance(e, dict) and isinstance(e.get("message"), str) and e.get("type") else None
    except (ValueError, KeyError, TypeError):
        return None


def metrics():
    _, _, raw = request("GET", "/metrics")
    out = {}
    for line in raw.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def wait_idle(limit=20.0):
    """True when no sequence is active and nothing is queued, within `limit` seconds."""
    end = time.time() + limit
    while time.time() < end:
        m = metrics()
        if m.get("switchyard_active_sequences") == 0 and m.get("switchyard_queue_depth") == 0:
            return True
        time.sleep(0.05)
    return False


def still_serves(what):
    status, _, raw = request("POST", "/v1/completions", json.dumps({"prompt": "Hello", "max_tokens": 4}))
    check(status == 200 and json.loads(raw)["choices"][0]["finish_reason"] in ("stop", "length"),
          f"still serves after {what}")


def open_stream(body, receive_buffer=0):
    """A raw socket that has sent a completion request (a small receive buffer makes the server's writes wait)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    data = json.dumps(body).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return s


def main():
    # Malformed and truncated JSON, bodies that are not objects: 400 with an error object.
    for body in ['{"prompt":', '{"prompt": "x"', '{"prompt": "x",}', 'not json', '', '[1, 2]', '"text"', 'null',
                 '{"prompt": "\\ud800"}', '[' * 100000, '{"a":' * 5000]:
        status, _, raw = request("POST", "/v1/completions", body)
        check(status == 400 and error_of(raw) is not None, f"malformed {body[:20]!r}: {status}")
    status, _, raw = request("POST", "/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}')
    check(status in (200, 400) and (status == 200 or error_of(raw)), f"invalid UTF-8 in a string: {status}")

    # Wrong types and values: 400 naming the field.
    cases = [
        ("/v1/chat/completions", {"messages": "hi"}, "messages"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ("/v1/chat/completions", {"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ("/v1/chat/completions", {"messages": [{"content": "x"}]}, "messages[0].role"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "max_tokens": "10"}, "max_tokens"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, "temperature"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "top_p": 1.5}, "top_p"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3}, "top_logprobs"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "seed": 1.5}, "seed"),
        ("/v1/completions", {"prompt": "x", "stop": 5}, "stop"),
        ("/v1/completions", {"prompt": "x", "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ("/v1/completions", {"prompt": "x", "logprobs": 99}, "logprobs"),
        ("/v1/completions", {"prompt": [99999999]}, "prompt[0]"),
        ("/v1/completions", {"prompt": [1, -2]}, "prompt[1]"),
        ("/v1/completions", {"prompt": {"text": "x"}}, "prompt"),
        ("/v1/completions", {}, "prompt"),
        ("/v1/completions", {"prompt": "x", "routing": 3}, "routing"),
        ("/v1/completions", {"prompt": "x", "routing": {"policy": 7}}, "routing.policy"),
        ("/v1/completions", {"prompt": "x", "routing": {"policy": "top-k:99"}}, "routing.policy"),
        ("/v1/completions", {"prompt": "x", "routing": {"expert_mask": {"x": [1]}}}, "routing.expert_mask.x"),
        ("/v1/completions", {"prompt": "x", "routing": {"expert_mask": {"0": [99]}}}, "routing.expert_mask"),
        ("/v1/completions", {"prompt": "x", "routing": {"return": "all"}}, "routing.return"),
        ("/v1/completions", {"prompt": "x " * 2000}, "prompt"),
        ("/tokenize", {"content": 5}, "content"),
        ("/detokenize", {"tokens": [1, "a"]}, "tokens[1]"),
        ("/detokenize", {"tokens": [10 ** 12]}, "tokens[0]"),
    ]
    for path, body, param in cases:
        status, _, raw = request("POST", path, json.dumps(body))
        e = error_of(raw)
        check(status == 400 and e is not None and e.get("param") == param,
              f"{path} {json.dumps(body)[:60]}: {status} param={e and e.get('param')!r}")

    # Unknown routes and methods: 404 in the error shape.
    for method, path in [("GET", "/nope"), ("POST", "/v1/nope"), ("GET", "/v1/chat/completions"),
                         ("DELETE", "/v1/models"), ("GET", "/v1/models/other")]:
        status, _, raw = request(method, path, b"" if method != "GET" else None)
        check(status == 404 and error_of(raw) is not None, f"{method} {path}: {status}")

    # A 100 MB body: 413 in the error shape, and the server lives on.
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    size = 100 * 1000 * 1000
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {size}\r\n\r\n".encode())
    chunk = b" " * (1 << 20)
    sent = 0
    try:
        while sent < size:
            s.sendall(chunk[: min(len(chunk), size - sent)])
            sent += min(len(chunk), size - sent)
    except OSError:
        pass  # the server may answer and close before it has read everything
    head = ""
    try:
        end = time.time() + 30
        while '"error"' not in head and time.time() < end:
            part = s.recv(4096)
            if not part:
                break
            head += part.decode(errors="replace")
    except OSError as e:
        head += str(e)
    s.close()
    check(head.startswith("HTTP/1.1 413") and '"error"' in head, f"100 MB body: {head.splitlines()[0] if head else '(nothing)'}")
    still_serves("a 100 MB body")

    # A compressed body (a gzip bomb would inflate past --max-body): 415 before the body is read.
    status, _, raw = request("POST", "/v1/completions", gzip.compress(b" " * (50 * 1000 * 1000)),
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    check(status == 415 and error_of(raw) is not None, f"gzip body: {status}")
    still_serves("a gzip body")

    # 500 connections opened and dropped: some at once, some after part of a request.
    def drop(i):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 3 == 1:
                c.sendall(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"pro")
            elif i % 3 == 2:
                c.sendall(b"GET /heal")
            c.close()
        except OSError:
            pass
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(drop, range(500)))
    still_serves("500 dropped connections")

    # A client that disconnects mid-stream: its sequence is freed and the generation ends as cancelled.
    before = metrics().get('switchyard_generations_total{reason="cancelled"}', 0)
    s = open_stream({"prompt": "Far away", "max_tokens": 200, "ignore_eos": True, "stream": True})
    got = b""
    while got.count(b"data: ") < 3:
        part = s.recv(4096)
        if not part:
            break
        got += part
    s.close()
    check(wait_idle(), "a stream dropped mid-way frees its slot")
    after = metrics().get('switchyard_generations_total{reason="cancelled"}', 0)
    check(after == before + 1, f"the dropped stream was cancelled ({before} -> {after})")

    # The same for a plain (not streamed) request whose client leaves while it waits for the reply.
    before = after
    s = open_stream({"prompt": "Far away", "max_tokens": 240, "ignore_eos": True})
    time.sleep(0.05)
    s.close()
    check(wait_idle(), "a plain request whose client left frees its slot")
    after = metrics().get('switchyard_generations_total{reason="cancelled"}', 0)
    check(after == before + 1, f"the plain request was cancelled ({before} -> {after})")

    # Slow readers: a stream read a few bytes at a time, and a plain reply read slowly, while others are served.
    body = {"prompt": "Slowly", "max_tokens": 60, "ignore_eos": True, "temperature": 0}
    s = open_stream(dict(body, stream=True), receive_buffer=2048)
    s.settimeout(30)
    slow = b""
    end = time.time() + 60
    quick = concurrent.futures.ThreadPoolExecutor(1).submit(
        request, "POST", "/v1/completions", json.dumps({"prompt": "Quick", "max_tokens": 8}))
    while not slow.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n") and time.time() < end:
        part = s.recv(16)
        if not part:
            break
        slow += part
        time.sleep(0.002)
    s.close()
    # Chunked transfer: the events are in the body; tokens that came while the reader lagged share an event.
    text, finish = "", None
    for line in slow.split(b"\n"):
        if line.startswith(b"data: {"):
            choice = json.loads(line[6:])["choices"][0]
            text += choice["text"]
            finish = choice["finish_reason"] or finish
    _, _, raw = request("POST", "/v1/completions", json.dumps(body))
    check(slow.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n") and finish == "length" and
          text == json.loads(raw)["choices"][0]["text"], "a slow stream reader gets the whole stream")
    check(quick.result(timeout=60)[0] == 200, "others are served while a reader is slow")

    still_serves("the faults")
    check(wait_idle(), "every sequence slot is free")
    m = metrics()
    check(m.get("switchyard_active_sequences") == 0 and m.get("switchyard_queue_depth") == 0,
          "metrics: 0 active sequences, 0 queued")


def busy():
    # One slot and no queue: a second request while the first runs gets 503 with Retry-After.
    s = open_stream({"prompt": "Long", "max_tokens": 200, "ignore_eos": True, "stream": True})
    got = b""
    while b"data: " not in got:
        part = s.recv(4096)
        if not part:
            break
        got += part
    status, headers, raw = request("POST", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": 2}))
    check(status == 503 and headers.get("Retry-After") and error_of(raw) is not None,
          f"queue full: {status} Retry-After={headers.get('Retry-After')}")
    s.close()
    check(wait_idle(), "slot free after the long stream left")
    still_serves("a full queue")


main() if mode == "main" else busy()
print(f"faults ({mode}): {'all passed' if failures == 0 else f'{failures} failed'}")
sys.exit(1 if failures else 0)
