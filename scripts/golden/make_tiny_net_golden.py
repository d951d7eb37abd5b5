#!/usr/bin/env python3
"""Writes tests/fixtures/tiny_net_golden.txt: one training step of a tiny conv net computed
by PyTorch in float64, the independent reference for tests/golden_test.cpp.

Net (nn.Sequential, so parameter names match maskoff's Sequential: "0.weight", ...):
  x [2,3,8,8] -> Conv2d(3,4,k4,s2,p1) -> BatchNorm2d(4) (training) -> LeakyReLU(0.2)
              -> ConvTranspose2d(4,3,k4,s2,p1) -> Tanh -> out [2,3,8,8]
Loss (every loss of losses/losses.h, with distinct weights so a swapped term shows):
  l1(out, target) + 2 mse(out, target) + bce_with_logits(out, 1)
  + 0.5 bce_with_logits(out, (target + 1) / 2) + 3 masked_mse(out, target, mask)
Then one Adam step (lr 2e-4, betas (0.5, 0.999), eps 1e-8).

Every starting value (inputs, weights) is drawn in float32 and widened, so the float32
engine starts from exactly the same numbers and only its arithmetic differs.

File format: '#' lines are comments; each tensor is a line "tensor NAME [d0,d1,...]"
followed by its values in row-major order, whitespace separated, at full double precision.

Usage: python3 scripts/golden/make_tiny_net_golden.py [output path]
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "tiny_net_golden.txt")
LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8


def f32(t):
    """Round to float32 and widen back: a value both engines hold exactly."""
    return t.float().double()


def masked_mse(pred, target, mask):
    w = mask.expand_as(pred).sum()
    return (mask * (pred - target) ** 2).sum() / w


def main():
    out_path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    torch.manual_seed(2022)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 4, 2, 1, bias=True),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(4, 3, 4, 2, 1, bias=True),
        nn.Tanh(),
    ).double()
    net.train()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(f32(p))
        # Batch-norm affine parameters away from (1, 0) so their gradients are generic.
        net[1].weight.copy_(f32(1.0 + 0.2 * torch.randn(4, dtype=torch.float64)))
        net[1].bias.copy_(f32(0.1 * torch.randn(4, dtype=torch.float64)))

    x = f32(torch.randn(2, 3, 8, 8, dtype=torch.float64)).requires_grad_(True)
    target = f32(torch.tanh(torch.randn(2, 3, 8, 8, dtype=torch.float64)))
    # A hard square per sample plus a soft border (quarter steps are exact in float32).
    mask = torch.zeros(2, 1, 8, 8, dtype=torch.float64)
    mask[0, 0, 2:6, 1:5] = 1.0
    mask[0, 0, 1, 1:5] = 0.5
    mask[1, 0, 4:8, 3:8] = 1.0
    mask[1, 0, 3, 3:8] = 0.25

    init = {n: p.detach().clone() for n, p in net.named_parameters()}
    out = net(x)
    losses = {
        "l1": F.l1_loss(out, target),
        "mse": F.mse_loss(out, target),
        "bce_real": F.binary_cross_entropy_with_logits(out, torch.ones_like(out)),
        "bce_target": F.binary_cross_entropy_with_logits(out, (target + 1) / 2),
        "masked_mse": masked_mse(out, target, mask),
    }
    total = (losses["l1"] + 2 * losses["mse"] + losses["bce_real"] + 0.5 * losses["bce_target"]
             + 3 * losses["masked_mse"])
    total.backward()
    grads = {n: p.grad.detach().clone() for n, p in net.named_parameters()}

    opt = torch.optim.Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt.step()

    lines = [
        "# maskoff golden fixture: one training step of a tiny conv net, float64 PyTorch "
        + torch.__version__,
        "# written by scripts/golden/make_tiny_net_golden.py; see that script for the net,",
        "# the loss and the file format. Adam: lr %g, betas (%g, %g), eps %g." % (LR, *BETAS, EPS),
    ]

    def put(name, t):
        t = t.detach().reshape(t.shape)
        lines.append("tensor %s [%s]" % (name, ",".join(str(d) for d in t.shape)))
        vals = [repr(float(v)) for v in t.flatten().tolist()]
        for i in range(0, len(vals), 8):
            lines.append(" ".join(vals[i:i + 8]))

    put("input/x", x)
    put("input/target", target)
    put("input/mask", mask)
    for n, p in init.items():
        put("init/" + n, p)
    put("output/out", out)
    for n, v in losses.items():
        put("loss/" + n, v)
    put("loss/total", total)
    put("grad/x", x.grad)
    for n, g in grads.items():
        put("grad/" + n, g)
    for n, b in net.named_buffers():
        if n.endswith("running_mean") or n.endswith("running_var"):
            put("buffer/" + n, b)
    for n, p in net.named_parameters():
        put("adam/" + n, p)

    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d bytes)" % (out_path, os.path.getsize(out_path)))


if __name__ == "__main__":
    main()
