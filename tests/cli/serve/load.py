"""Load: 64 completion requests at concurrency 8, distinct prompts (many sharing prefixes, so prefix reuse is
exercised), greedy. Every reply must equal what `switchyard generate --greedy` gives for that prompt alone: none
lost, none mixed up, batching and prefix reuse change nothing.
Usage: load.py SWITCHYARD MODEL PORT"""
import concurrent.futures
import json
import subprocess
import sys
import time
import urllib.request

sy, model, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
N, CONCURRENCY, MAX_TOKENS = 64, 8, 16


def post(path, body, timeout=120):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


subjects = ["The river", "A quiet town", "Der alte Hafen", "El viento", "def parse(", "Once upon a time",
            "In the morning", "Il mare"]
prompts = [f"{subjects[i % len(subjects)]} number {i // len(subjects)} said" for i in range(N)]
assert len(set(prompts)) == N

# The prompt's tokens as the server tokenizes a completion prompt (BOS where the vocabulary asks for it).
ids = [post("/tokenize", {"content": p, "add_special": True, "parse_special": False})[1]["tokens"] for p in prompts]


def reference(i):
    out = subprocess.run([sy, "generate", "-m", model, "--tokens", ",".join(map(str, ids[i])), "-n", str(MAX_TOKENS),
                          "--greedy"], capture_output=True, text=True, timeout=120, check=True)
    return [int(t) for t in out.stdout.strip().split(",")]


def request(i):
    status, body = post("/v1/completions", {"prompt": prompts[i], "max_tokens": MAX_TOKENS, "temperature": 0,
                                            "return_tokens": True, "user": str(i)})
    return i, status, body


start = time.time()
with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
    replies = list(pool.map(request, range(N)))
elapsed = time.time() - start
ref_start = time.time()
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    refs = list(pool.map(reference, range(N)))
ref_elapsed = time.time() - ref_start

failures = 0
for i, status, body in replies:
    got = body.get("tokens")
    # A stop token may end a reply early: then it is a prefix of the reference, which ran the full count.
    n = body["usage"]["completion_tokens"]
    ok = status == 200 and got == refs[i][:n] and (n == MAX_TOKENS or body["choices"][0]["finish_reason"] == "stop")
    if not ok:
        failures += 1
        print(f"FAIL prompt {i} {prompts[i]!r}: status {status}, got {got}, alone {refs[i]}")
tokens = sum(b["usage"]["completion_tokens"] for _, _, b in replies)
reused = sum(b["usage"]["prompt_tokens_details"]["cached_tokens"] for _, _, b in replies)
print(f"load: {N} requests at concurrency {CONCURRENCY} in {elapsed:.2f} s, {tokens} tokens, {reused} prompt tokens "
      f"reused, {failures} differ from generate --greedy (references: {ref_elapsed:.1f} s)")
sys.exit(1 if failures else 0)
