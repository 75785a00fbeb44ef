"""Builds the bundled model's corpus: fortune databases per language and the Python standard library.

Every domain becomes a list of cleaned, de-duplicated items, split deterministically into train and valid
(by a hash of the item text, so the split does not depend on file order or on the machine). Output, per
domain D, in OUT_DIR:
    D.train.txt, D.valid.txt   items joined by ITEM_SEPARATOR (a blank line)
    stats.json                 item, character and byte counts per domain and split, plus the sources
The .valid.txt files are exactly the text `switchyard perplexity` is run on.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import unicodedata

ITEM_SEPARATOR = "\n\n"
FORTUNE_ROOT = "/usr/share/games/fortunes"
PYTHON_STDLIB = "/usr/lib/python3.11"

# Debian package(s) providing each natural-language domain. English is spread over two packages.
FORTUNE_DOMAINS = {
    "en": ["fortunes", "fortunes-min"],
    "de": ["fortunes-de"],
    "es": ["fortunes-es"],
    "it": ["fortunes-it"],
    "ru": ["fortunes-ru"],
    "zh": ["fortunes-zh"],
    "pl": ["fortunes-pl"],
    "cs": ["fortunes-cs"],
}
# Databases that are pictures or deliberately offensive (the "off" sets are often rot13): not language.
EXCLUDED_NAME = re.compile(r"(^|/)(off|ascii-?art|asciiart|banner|art)(/|$)|\.(dat|u8)$|-pre$")
# Standard-library parts that are data tables, generated files or test suites rather than ordinary code.
EXCLUDED_PY = re.compile(r"(^|/)(test|tests|idle_test|pydoc_data|site-packages|dist-packages|encodings|"
                         r"lib2to3|config-[^/]*)(/|$)|(^|/)_sysconfigdata")

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VALID_FRACTION = 0.03          # of each domain's items (by hash) ...
VALID_MAX_CHARS = 120_000      # ... capped, so per-domain perplexity stays quick to compute
VALID_MIN_ITEMS = 20


def package_files(package):
    """Regular files the package installed under the fortune root, from dpkg's own list."""
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"corpus: package {package} is not installed (run tools/train-model.sh)")
    files = []
    for path in out.stdout.splitlines():
        if not path.startswith(FORTUNE_ROOT + "/") or os.path.islink(path) or not os.path.isfile(path):
            continue
        if EXCLUDED_NAME.search(os.path.relpath(path, FORTUNE_ROOT)):
            continue
        files.append(path)
    return sorted(files)


def clean_fortune(text):
    """One fortune: ANSI colours removed, each line stripped with inner whitespace collapsed, blank-line
    runs collapsed to one. Returns None for items that are near-empty or mostly not letters (ASCII art)."""
    text = unicodedata.normalize("NFC", ANSI_ESCAPE.sub("", text))
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    if len(text) < 16:
        return None
    letters = sum(ch.isalpha() for ch in text)
    if letters < 0.5 * len(text.replace(" ", "").replace("\n", "")):
        return None
    return text


def read_fortunes(path):
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", errors="replace")
    if raw.count("\ufffd") > 10:  # a database in a legacy encoding: skip it rather than learn mojibake
        return []
    return re.split(r"^%[ \t]*$", raw, flags=re.M)


def clean_python(text):
    """A source file: line endings normalised, trailing spaces stripped, tabs expanded, blank-line runs
    collapsed to two (PEP 8's maximum)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip().expandtabs(4) for line in text.split("\n")]
    text = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).strip("\n")
    return text if len(text) >= 64 else None


def split_python_file(text, max_chars=6000):
    """Long modules become several items, cut before top-level statements, so no item dominates."""
    items, current = [], []
    size = 0
    for line in text.split("\n"):
        top_level = line and not line[0].isspace() and not line.startswith((")", "]", "}", "#"))
        if top_level and size >= max_chars:
            items.append("\n".join(current).strip("\n"))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    items.append("\n".join(current).strip("\n"))
    return [item for item in items if len(item) >= 64]


def python_items():
    items = []
    for root, dirs, files in os.walk(PYTHON_STDLIB):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, PYTHON_STDLIB)
            if not name.endswith(".py") or EXCLUDED_PY.search(rel) or os.path.islink(path):
                continue
            with open(path, "rb") as f:
                try:
                    text = f.read().decode("utf-8")
                except UnicodeDecodeError:
                    continue
            text = clean_python(text)
            if text:
                items.extend(split_python_file(text))
    return items


def dedup_key(text):
    """Near-duplicates (case, punctuation, spacing, the cs/cz copies) share a key."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def item_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_items(items):
    """Deterministic split: items ordered by content hash; the first ones (up to the fraction and cap)
    are validation. Training keeps the hash order too, which also shuffles it reproducibly."""
    ordered = sorted(items, key=item_hash)
    n_valid = max(VALID_MIN_ITEMS, int(len(ordered) * VALID_FRACTION))
    valid, chars = [], 0
    for item in ordered:
        if len(valid) >= n_valid or (chars >= VALID_MAX_CHARS and len(valid) >= VALID_MIN_ITEMS):
            break
        valid.append(item)
        chars += len(item)
    return ordered[len(valid):], valid


def build(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    seen = set()
    domains = {}
    sources = {}
    for domain, packages in FORTUNE_DOMAINS.items():
        items = []
        sources[domain] = []
        for package in packages:
            for path in package_files(package):
                sources[domain].append(os.path.relpath(path, FORTUNE_ROOT))
                for raw in read_fortunes(path):
                    item = clean_fortune(raw)
                    if item is None:
                        continue
                    key = dedup_key(item)
                    if key in seen:
                        continue
                    seen.add(key)
                    items.append(item)
        domains[domain] = items
    code = []
    for item in python_items():
        key = dedup_key(item)
        if key not in seen:
            seen.add(key)
            code.append(item)
    domains["code"] = code
    sources["code"] = [PYTHON_STDLIB + " (*.py, without tests, encodings, lib2to3, pydoc_data)"]

    stats = {"item_separator": ITEM_SEPARATOR, "domains": {}}
    for domain, items in domains.items():
        if len(items) < 2 * VALID_MIN_ITEMS:
            print(f"corpus: domain {domain} has only {len(items)} items, skipped", file=sys.stderr)
            continue
        train, valid = split_items(items)
        entry = {"sources": sources[domain]}
        for split, part in (("train", train), ("valid", valid)):
            text = ITEM_SEPARATOR.join(part) + "\n"
            with open(os.path.join(out_dir, f"{domain}.{split}.txt"), "w", encoding="utf-8") as f:
                f.write(text)
            entry[split] = {"items": len(part), "chars": len(text), "bytes": len(text.encode("utf-8"))}
        stats["domains"][domain] = entry
        print(f"corpus: {domain:5s} train {len(train):6d} items {entry['train']['chars']:9d} chars, "
              f"valid {len(valid):4d} items {entry['valid']['chars']:7d} chars")
    with open(os.path.join(out_dir, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1, ensure_ascii=False)
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output directory")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
