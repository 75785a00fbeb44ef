"""Summarises per-domain `switchyard routes report` outputs side by side (see tools/routing-by-domain.sh).
Usage: domain_routing.py WORK_DIR MODEL OUT_JSON OUT_SVG
WORK_DIR holds <domain>/report.json and <domain>.ppl.json per validation domain. Standard library only."""
import json
import math
import os
import sys


def entropy_bits(p):
    return -sum(x * math.log2(x) for x in p if x > 0)


def js_divergence_bits(p, q):
    m = [(a + b) / 2 for a, b in zip(p, q)]
    return entropy_bits(m) - (entropy_bits(p) + entropy_bits(q)) / 2


def load_domains(work):
    domains = {}
    for entry in sorted(os.listdir(work)):
        report = os.path.join(work, entry, "report.json")
        if not os.path.isfile(report):
            continue
        with open(report) as f:
            rep = json.load(f)
        with open(os.path.join(work, entry + ".ppl.json")) as f:
            ppl = json.load(f)
        domains[entry] = (rep, ppl)
    if not domains:
        sys.exit(f"domain_routing: no <domain>/report.json under {work}")
    return domains


def summarise(domains, model):
    first = next(iter(domains.values()))[0]
    n_layer = len(first["layers"])
    n_expert = first["layers"][0]["n_expert"]
    k = first["layers"][0]["k"]
    out = {"model": os.path.basename(model), "source": "switchyard perplexity --trace + switchyard routes report",
           "layers": n_layer, "experts": n_expert, "experts_per_token": k, "domains": {}, "per_layer": []}
    for name, (rep, ppl) in domains.items():
        d = {"tokens": ppl["tokens"], "ppl": ppl["ppl"], "share": [], "norm_entropy": [], "lru_hit_k": [],
             "lru_hit_2k": [], "dominant": []}
        for layer in rep["layers"]:
            total = sum(layer["load"])
            share = [c / total for c in layer["load"]]
            caps = layer["cache_stream"]["capacity"]
            d["share"].append(share)
            d["norm_entropy"].append(layer["balance"]["norm_entropy"])
            d["lru_hit_k"].append(layer["cache_stream"]["lru"][caps.index(k)])
            d["lru_hit_2k"].append(layer["cache_stream"]["lru"][caps.index(min(2 * k, caps[-1]))])
            d["dominant"].append(max(range(n_expert), key=lambda e: share[e]))
        out["domains"][name] = d
    names = list(out["domains"])
    for layer in range(n_layer):
        # Domains weighted equally, so the large code split does not set the marginal alone.
        rows = [out["domains"][n]["share"][layer] for n in names]
        marginal = [sum(r[e] for r in rows) / len(rows) for e in range(n_expert)]
        mi = entropy_bits(marginal) - sum(entropy_bits(r) for r in rows) / len(rows)
        out["per_layer"].append({"layer": layer, "mutual_information_bits": mi,
                                 "expert_entropy_bits": entropy_bits(marginal),
                                 "mi_share_of_expert_entropy": mi / entropy_bits(marginal)})
    out["js_divergence_bits"] = {
        a: {b: sum(js_divergence_bits(out["domains"][a]["share"][l], out["domains"][b]["share"][l])
                   for l in range(n_layer)) / n_layer for b in names} for a in names}
    return out


def heat_colour(ratio):
    """White at 0, the uniform share pale, three times uniform or more dark blue."""
    t = max(0.0, min(1.0, ratio / 3.0))
    r = int(255 - t * (255 - 16))
    g = int(255 - t * (255 - 64))
    b = int(255 - t * (255 - 160))
    return f"rgb({r},{g},{b})"


def write_svg(summary, path):
    names = list(summary["domains"])
    n_layer, n_expert = summary["layers"], summary["experts"]
    cell, label_w, top, gap = 22, 48, 40, 24
    block_w = label_w + n_expert * cell
    width = n_layer * block_w + (n_layer - 1) * gap + 10
    height = top + len(names) * cell + 40
    uniform = 1 / n_expert
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for layer in range(n_layer):
        x0 = layer * (block_w + gap)
        parts.append(f'<text x="{x0 + label_w}" y="14" font-weight="bold">layer {layer}</text>')
        for e in range(n_expert):
            parts.append(f'<text x="{x0 + label_w + e * cell + cell / 2}" y="{top - 6}" '
                         f'text-anchor="middle">e{e}</text>')
        for i, name in enumerate(names):
            y = top + i * cell
            parts.append(f'<text x="{x0 + label_w - 4}" y="{y + cell * 0.7}" text-anchor="end">{name}</text>')
            for e, share in enumerate(summary["domains"][name]["share"][layer]):
                parts.append(f'<rect x="{x0 + label_w + e * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                             f'fill="{heat_colour(share / uniform)}"><title>{name} layer {layer} expert {e}: '
                             f'{share:.3f}</title></rect>')
    parts.append(f'<text x="0" y="{height - 12}">share of a domain\'s token-slots per expert; white = 0, '
                 f'darkest = 3x the uniform share ({uniform:.3f}) or more</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    work, model, out_json, out_svg = sys.argv[1:]
    summary = summarise(load_domains(work), model)
    summary["svg"] = out_svg
    with open(out_json, "w") as f:
        json.dump(summary, f, indent=1)
    write_svg(summary, out_svg)


if __name__ == "__main__":
    main()
