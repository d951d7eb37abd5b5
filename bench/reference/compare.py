#!/usr/bin/env python3
"""Side-by-side table of one training step, from the JSON that bench/train_step_timing
(maskoff) and bench/reference/pix2pix_step.py (PyTorch) write on the same machine:

    python3 bench/reference/compare.py gpu_results/maskoff_step.json gpu_results/pytorch_step.json

Prints Markdown: every configuration's median ms/step and images/s at each batch size, the
ratios the targets are stated in (batch 1: our best against PyTorch eager FP32; batch 16:
our best against PyTorch AMP BF16 channels_last), and our achieved TFLOP/s against the
device's measured matmul peak. Refuses files from different resolutions or widths.
"""
import json
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if "results" not in doc or "implementation" not in doc:
        sys.exit(f"{path}: not a step-timing result (no 'implementation' or 'results')")
    return doc


def ok(results):
    return [r for r in results if "error" not in r and "ms_per_step" in r]


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    ours, ref = load(argv[1]), load(argv[2])
    if ours["implementation"] != "maskoff" or ref["implementation"] != "pytorch":
        sys.exit("give the maskoff file first, then the PyTorch one")
    shape = lambda r: (r["resolution"], r["ngf"], r["ndf"])
    shapes = {shape(r) for r in ok(ours["results"]) + ok(ref["results"])}
    if len(shapes) != 1:
        sys.exit(f"the files time different networks: {sorted(shapes)}")
    res, ngf, ndf = shapes.pop()
    print(f"Resolution {res}, ngf {ngf}, ndf {ndf}.")
    print(f"- maskoff: {ours.get('device', '?')}")
    print(f"- PyTorch: {ref.get('device', '?')}, versions {ref.get('versions', {})}\n")

    print("| implementation | config | batch | median ms/step | p10 | p90 | images/s | TFLOP/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for doc in (ours, ref):
        for r in doc["results"]:
            if "error" in r:
                print(f"| {doc['implementation']} | {r['config']} | {r['batch']} | error: {r['error'][:60]} | | | | |")
                continue
            m = r["ms_per_step"]
            tf = r.get("achieved_tflops")
            print(f"| {doc['implementation']} | {r['config']} | {r['batch']} | {m['median']:.2f} | {m['p10']:.2f} "
                  f"| {m['p90']:.2f} | {r['images_per_s']:.1f} | {'' if tf is None else f'{tf:.3g}'} |")

    def best(results, batch, configs=None):
        c = [r for r in ok(results) if r["batch"] == batch and (configs is None or r["config"] in configs)]
        return max(c, key=lambda r: r["images_per_s"]) if c else None

    print()
    for batch, ref_cfg, target in ((1, "eager_fp32", 3.0), (16, "amp_bf16_cl", 1.3)):
        a, b = best(ours["results"], batch), best(ref["results"], batch, {ref_cfg})
        if a is None or b is None:
            print(f"- batch {batch}: missing a result, no ratio")
            continue
        ratio = a["images_per_s"] / b["images_per_s"]
        verdict = "meets" if ratio >= target else "misses"
        print(f"- batch {batch}: maskoff {a['config']} {a['images_per_s']:.1f} images/s against PyTorch {ref_cfg} "
              f"{b['images_per_s']:.1f}: {ratio:.2f}x ({verdict} the {target}x target)")
    floors = ours.get("device_floors")
    if floors:
        for r in ok(ours["results"]):
            if "achieved_tflops" in r:
                peak = floors["sgemm_tf32_tflops"] if r["config"] != "fp32" else floors["sgemm_fp32_tflops"]
                print(f"- maskoff {r['config']} batch {r['batch']}: {r['achieved_tflops']:.1f} TFLOP/s, "
                      f"{100 * r['achieved_tflops'] / peak:.0f}% of the measured SGEMM peak ({peak:.1f})")


if __name__ == "__main__":
    main(sys.argv)
