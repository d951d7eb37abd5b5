#!/usr/bin/env python3
"""PyTorch timing reference for one pix2pix training step, the step that
train/pix2pix.cpp's Pix2Pix::train_step runs (GAN + L1 + masked MSE, no landmark term):

  fake = G(a)
  D:  loss_D = 0.5 * (BCEWithLogits(D(cat(a, fake.detach())), 0) + BCEWithLogits(D(cat(a, b)), 1))
      backward, Adam step of D
  G:  D's parameters stop requiring grad
      loss_G = BCEWithLogits(D(cat(a, fake)), 1) + 100 * L1(fake, b) + 100 * masked_mse(fake, b, mask)
      backward, Adam step of G; D's parameters require grad again

The networks are scripts/golden/pix2pix_ref.py's U-Net generator (log2(resolution) levels,
batch norm, dropout 0.5 in the inner decoder blocks) and PatchGAN discriminator (n_layers 3),
both in training mode, with pix2pix's 'normal' initialisation. Adam: lr 2e-4, betas
(0.5, 0.999), eps 1e-8, PyTorch's default implementation.

Configurations (--configs):
  eager_fp32       eager, float32, TF32 off, cudnn.benchmark off
  eager_tf32       eager, float32 storage, TF32 allowed, cudnn.benchmark on
  amp_bf16_cl      autocast bfloat16 around forward + losses, channels_last models and inputs,
                   TF32 allowed, cudnn.benchmark on, float32 parameters and Adam state
  compile_bf16_cl  amp_bf16_cl with G and D wrapped by torch.compile (default mode)
On the CPU the default is eager_fp32 only (TF32 and cudnn do not apply there); the others run
when named.

Timing: inputs are made once per (configuration, batch) and reused every step. Compile
configurations first run one step alone, timed as first_step_s (compilation included). Then
--warmup untimed steps and --steps timed ones, each bracketed by a pair of CUDA events (one
synchronisation after the last step) or by time.perf_counter on the CPU.

Usage: python3 bench/reference/pix2pix_step.py [--out FILE] [--configs a,b] [--batch 1,16]
       [--resolution 256] [--ngf 64] [--ndf 64] [--warmup 20] [--steps 100] [--device cuda|cpu]
"""
import argparse
import gc
import json
import os
import platform
import sys
import time
import traceback

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "golden"))
import pix2pix_ref  # noqa: E402

LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8
LAMBDA_L1, LAMBDA_MASK = 100.0, 100.0
N_LAYERS_D = 3

CONFIGS = {
    "eager_fp32": dict(tf32=False, benchmark=False, autocast=False, channels_last=False, compile=False),
    "eager_tf32": dict(tf32=True, benchmark=True, autocast=False, channels_last=False, compile=False),
    "amp_bf16_cl": dict(tf32=True, benchmark=True, autocast=True, channels_last=True, compile=False),
    "compile_bf16_cl": dict(tf32=True, benchmark=True, autocast=True, channels_last=True, compile=True),
}
CPU_DEFAULT_CONFIGS = ["eager_fp32"]
LOSS_NAMES = ["d_real", "d_fake", "g_gan", "g_l1", "g_mask"]


def masked_mse(pred, target, mask):
    """scripts/golden/make_train_step_golden.py's masked_mse (the engine's masked_mse_loss):
    sum(mask * (pred - target)^2) / sum(mask broadcast to pred's shape)."""
    return (mask * (pred - target) ** 2).sum() / mask.expand_as(pred).sum()


def num_downs_for(resolution):
    if resolution < 32 or resolution & (resolution - 1):
        raise ValueError("resolution %d must be a power of two >= 32" % resolution)
    return resolution.bit_length() - 1


def make_inputs(batch, resolution, seed, device, channels_last):
    """a: the masked face, b: the real face, both in [-1, 1]; mask: 1 on a rectangle over the
    lower centre of each image (shifted per sample), 0 elsewhere; a equals b outside the mask
    and holds other values inside it."""
    gen = torch.Generator().manual_seed(seed)
    r = resolution
    b = torch.rand(batch, 3, r, r, generator=gen) * 2 - 1
    cover = torch.rand(batch, 3, r, r, generator=gen) * 2 - 1
    mask = torch.zeros(batch, 1, r, r)
    for n in range(batch):
        dy, dx = (n % 3) * r // 32, (n % 5) * r // 32
        mask[n, 0, r // 2 + dy:r * 7 // 8, r // 4 + dx:r * 3 // 4 + dx // 2] = 1.0
    a = b * (1 - mask) + cover * mask
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return [t.to(device).contiguous(memory_format=fmt) for t in (a, b, mask)]


class Trainer:
    """The networks, their optimisers and one training step."""

    def __init__(self, args, cfg, device):
        torch.manual_seed(args.seed)
        self.g = pix2pix_ref.UNetGenerator(num_downs=num_downs_for(args.resolution), ngf=args.ngf,
                                           dropout=True)
        self.d = pix2pix_ref.PatchGANDiscriminator(in_channels=6, ndf=args.ndf, n_layers=N_LAYERS_D)
        pix2pix_ref.init_pix2pix_weights(self.g)
        pix2pix_ref.init_pix2pix_weights(self.d)
        fmt = torch.channels_last if cfg["channels_last"] else torch.contiguous_format
        self.g.to(device=device, memory_format=fmt).train()
        self.d.to(device=device, memory_format=fmt).train()
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.g_fwd, self.d_fwd = self.g, self.d
        if cfg["compile"]:
            self.g_fwd, self.d_fwd = torch.compile(self.g), torch.compile(self.d)
        self.autocast = cfg["autocast"]
        self.device_type = torch.device(device).type

    def _ac(self):
        return torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.autocast)

    @staticmethod
    def _bce(logits, real):
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def step(self, a, b, mask):
        """One training step; returns the loss terms as detached tensors (no synchronisation)."""
        with self._ac():
            fake = self.g_fwd(a)

        self.opt_d.zero_grad(set_to_none=True)
        with self._ac():
            d_fake = self._bce(self.d_fwd(torch.cat([a, fake.detach()], 1)), False)
            d_real = self._bce(self.d_fwd(torch.cat([a, b], 1)), True)
            loss_d = 0.5 * (d_fake + d_real)
        loss_d.backward()
        self.opt_d.step()

        self.d.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self._ac():
            g_gan = self._bce(self.d_fwd(torch.cat([a, fake], 1)), True)
            g_l1 = F.l1_loss(fake, b)
            g_mask = masked_mse(fake, b, mask)
            loss_g = g_gan + LAMBDA_L1 * g_l1 + LAMBDA_MASK * g_mask
        loss_g.backward()
        self.opt_g.step()
        self.d.requires_grad_(True)
        return [t.detach() for t in (d_real, d_fake, g_gan, g_l1, g_mask)]


def set_backends(cfg):
    torch.backends.cuda.matmul.allow_tf32 = cfg["tf32"]
    torch.backends.cudnn.allow_tf32 = cfg["tf32"]
    torch.backends.cudnn.benchmark = cfg["benchmark"]


def quantile(sorted_xs, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = q * (len(sorted_xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def timed_steps(trainer, inputs, steps, cuda):
    """Runs `steps` steps; returns the ms of each and the last step's losses."""
    losses = None
    if cuda:
        pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                 for _ in range(steps)]
        for start, end in pairs:
            start.record()
            losses = trainer.step(*inputs)
            end.record()
        torch.cuda.synchronize()
        ms = [start.elapsed_time(end) for start, end in pairs]
    else:
        ms = []
        for _ in range(steps):
            t0 = time.perf_counter()
            losses = trainer.step(*inputs)
            ms.append((time.perf_counter() - t0) * 1e3)
    return ms, losses


def run_one(args, name, batch, device):
    cfg = CONFIGS[name]
    cuda = torch.device(device).type == "cuda"
    res = {"config": name, "batch": batch, "resolution": args.resolution, "ngf": args.ngf,
           "ndf": args.ndf, "warmup": args.warmup, "steps": args.steps, "settings": dict(cfg)}
    trainer = inputs = None
    try:
        set_backends(cfg)
        if cfg["compile"]:
            torch._dynamo.reset()
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        trainer = Trainer(args, cfg, device)
        inputs = make_inputs(batch, args.resolution, args.seed, device, cfg["channels_last"])
        if cfg["compile"]:
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            trainer.step(*inputs)
            if cuda:
                torch.cuda.synchronize()
            res["first_step_s"] = time.perf_counter() - t0
        for _ in range(args.warmup):
            trainer.step(*inputs)
        if cuda:
            torch.cuda.synchronize()
        ms, losses = timed_steps(trainer, inputs, args.steps, cuda)
        s = sorted(ms)
        median = quantile(s, 0.5)
        res["ms_per_step"] = {"median": median, "p10": quantile(s, 0.1), "p90": quantile(s, 0.9),
                              "mean": sum(ms) / len(ms)}
        res["images_per_s"] = batch * 1000.0 / median
        if cuda:
            res["peak_mem_bytes"] = torch.cuda.max_memory_allocated()
        res["losses"] = {k: float(v.float().item()) for k, v in zip(LOSS_NAMES, losses)}
    except Exception as e:  # a failed configuration (compile error, out of memory) is recorded
        msg = str(e).strip()
        res["error"] = "%s: %s" % (type(e).__name__, msg.splitlines()[0][:500] if msg else "")
        if args.verbose:
            traceback.print_exc()
    finally:
        del trainer, inputs
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
    return res


def device_name(device):
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return "cpu: " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu: " + (platform.processor() or platform.machine())


def print_table(results):
    head = ("config", "batch", "median ms", "p10 ms", "p90 ms", "mean ms", "images/s",
            "peak MiB", "first step s")
    rows = []
    for r in results:
        if "error" in r:
            rows.append((r["config"], str(r["batch"]), "error: " + r["error"][:100]))
            continue
        m = r["ms_per_step"]
        rows.append((r["config"], str(r["batch"]), "%.2f" % m["median"], "%.2f" % m["p10"],
                     "%.2f" % m["p90"], "%.2f" % m["mean"], "%.2f" % r["images_per_s"],
                     "%.0f" % (r["peak_mem_bytes"] / 2 ** 20) if "peak_mem_bytes" in r else "-",
                     "%.1f" % r["first_step_s"] if "first_step_s" in r else "-"))
    full = [row for row in rows if len(row) == len(head)]
    widths = [max([len(head[i])] + [len(row[i]) for row in full]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


def main():
    ap = argparse.ArgumentParser(description="PyTorch timing reference for one pix2pix training step")
    ap.add_argument("--configs", default=None,
                    help="comma list of %s (default: all on CUDA, eager_fp32 on the CPU)"
                    % ",".join(CONFIGS))
    ap.add_argument("--batch", default="1,16", help="comma list of batch sizes")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--resolution", type=int, default=256)
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the results as JSON to this file")
    ap.add_argument("--verbose", action="store_true", help="print the traceback of a failed configuration")
    args = ap.parse_args()

    device = args.device
    cuda = torch.device(device).type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit("--device %s: CUDA is not available" % device)
    if args.steps < 1 or args.warmup < 0:
        sys.exit("--steps must be >= 1 and --warmup >= 0")
    num_downs_for(args.resolution)
    if args.configs:
        names = [c for c in args.configs.split(",") if c]
        unknown = [c for c in names if c not in CONFIGS]
        if unknown:
            sys.exit("unknown configuration(s) %s (known: %s)" % (", ".join(unknown), ", ".join(CONFIGS)))
    else:
        names = list(CONFIGS) if cuda else CPU_DEFAULT_CONFIGS
    batches = [int(x) for x in args.batch.split(",") if x]
    if not batches or min(batches) < 1:
        sys.exit("--batch needs batch sizes >= 1")
    if cuda:
        torch.cuda.set_device(torch.device(device))

    out = {
        "implementation": "pytorch",
        "device": device_name(device),
        "versions": {"torch": torch.__version__, "cuda": torch.version.cuda,
                     "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
                     "python": platform.python_version()},
        "command": sys.argv,
        "results": [],
    }
    print("pix2pix training step, PyTorch %s on %s; resolution %d, ngf %d, ndf %d, warmup %d, steps %d"
          % (torch.__version__, out["device"], args.resolution, args.ngf, args.ndf, args.warmup, args.steps),
          flush=True)
    for name in names:
        for batch in batches:
            r = run_one(args, name, batch, device)
            out["results"].append(r)
            status = r.get("error") or "%.2f ms/step" % r["ms_per_step"]["median"]
            print("  done %s batch %d: %s" % (name, batch, status), flush=True)
    print()
    print_table(out["results"])
    if args.out:
        d = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(d, exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
