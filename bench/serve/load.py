"""Drives `switchyard serve` with streamed completions at a given concurrency and reports aggregate tokens/s, time
to first token and inter-token latency (p50/p99). Standard library only. Used by bench/serve.sh.
Usage: load.py PORT CONCURRENCY REQUESTS MAX_TOKENS PROMPT_WORDS"""
import concurrent.futures
import http.client
import json
import sys
import time

port, concurrency, n_requests, max_tokens, words = (int(a) for a in sys.argv[1:6])
vocab = ("river stone light garden window market evening letter mountain silver quiet harbour paper winter "
         "morning forest station engine signal copper").split()


def prompt(i):
    return " ".join(vocab[(i * 7 + j * 3) % len(vocab)] for j in range(words)) + f" {i}"


def one(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt(i), "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
                       "stream": True, "return_tokens": True})
    start = time.perf_counter()
    conn.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    times, tokens = [], 0
    buffer = b""
    while True:
        part = r.read1(65536)
        if not part:
            break
        buffer += part
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            if not event.startswith(b"data: {"):
                continue
            chunk = json.loads(event[6:])
            n = len(chunk.get("tokens", []))  # return_tokens: the ids this chunk carries
            if n:
                times.append(time.perf_counter())
                tokens += n
    conn.close()
    return start, times, tokens


def quantile(v, q):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


wall0 = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
    results = list(pool.map(one, range(n_requests)))
wall = time.perf_counter() - wall0
ttft = [t[0] - s for s, t, _ in results if t]
itl = [b - a for _, t, _ in results for a, b in zip(t, t[1:])]
tokens = sum(n for _, _, n in results)
# Decode speed, the figure `switchyard bench`'s tg measures (no prompt in it): each stream's tokens after its
# first over the time they took, summed over the streams that run together.
rates = [(len(t) - 1) / (t[-1] - t[0]) for _, t, _ in results if len(t) > 1 and t[-1] > t[0]]
decode = concurrency * sum(rates) / len(rates) if rates else float("nan")
print(json.dumps({"concurrency": concurrency, "requests": n_requests, "tokens": tokens, "seconds": wall,
                  "tokens_per_second": tokens / wall, "decode_tokens_per_second": decode,
                  "ttft_p50_ms": 1000 * quantile(ttft, 0.5), "ttft_p99_ms": 1000 * quantile(ttft, 0.99),
                  "itl_p50_ms": 1000 * quantile(itl, 0.5), "itl_p99_ms": 1000 * quantile(itl, 0.99)}))
