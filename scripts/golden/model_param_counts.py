#!/usr/bin/env python3
"""Prints the numbers tests/models_test.cpp checks: the parameter counts, parameter names and
shapes (in parameters() order), the number of dropout layers and the output shape on a
small input, for U-Net with num_downs 8/7/6/5 and ngf 64 and 8, and PatchGAN (in_channels 6,
n_layers 3) with ndf 64 and 8; then forward probes: tiny float64 networks whose parameters
and input are set by a formula (no fixture file), run in training mode (batch statistics),
summarised by a few output elements and sums.

Usage: python3 scripts/golden/model_param_counts.py [--shapes]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pix2pix_ref import PatchGANDiscriminator, UNetGenerator, num_dropout_layers  # noqa: E402


def report(title, net, x, show_shapes):
    params = list(net.named_parameters())
    total = sum(p.numel() for _, p in params)
    with torch.no_grad():
        out = net.eval()(x)
    print(f"{title}: {total} parameters in {len(params)} tensors, "
          f"{len(list(net.named_buffers()))} buffers (incl. num_batches_tracked), "
          f"{num_dropout_layers(net)} dropout layers, "
          f"{list(x.shape)} -> {list(out.shape)}")
    if show_shapes:
        for name, p in params:
            print(f"  {name} {list(p.shape)}")


def formula_fill(net):
    """Parameter k (in parameters() order), element i: 0.3 sin(0.7 i + 1.3 k + 0.1) for conv
    weights, 1 + 0.2 sin(...) for batch-norm weights, 0.1 sin(...) for biases."""
    with torch.no_grad():
        for k, (name, p) in enumerate(net.named_parameters()):
            i = torch.arange(p.numel(), dtype=torch.float64)
            v = torch.sin(0.7 * i + 1.3 * k + 0.1)
            if name.endswith("bias"):
                v = 0.1 * v
            elif p.dim() == 4:
                v = 0.3 * v
            else:
                v = 1.0 + 0.2 * v
            p.copy_(v.reshape(p.shape))


def probe(title, net, shape):
    net = net.double().train()
    formula_fill(net)
    n = 1
    for d in shape:
        n *= d
    x = torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + 0.5).reshape(shape)
    with torch.no_grad():
        y = net(x).flatten()
    picks = [0, 1, y.numel() // 3, y.numel() // 2, y.numel() - 1]
    print(f"{title}: input {list(shape)} -> {y.numel()} outputs; sum {y.sum().item():.15g}, "
          f"sum of squares {(y * y).sum().item():.15g}; "
          + ", ".join(f"y[{i}] {y[i].item():.15g}" for i in picks))


def main():
    show = "--shapes" in sys.argv
    for ngf in (64, 8):
        for downs in (8, 7, 6, 5):
            side = 2 ** downs
            report(f"unet num_downs {downs} ngf {ngf}", UNetGenerator(3, 3, downs, ngf),
                   torch.zeros(1, 3, side, side), show)
    for ndf in (64, 8):
        for side in (256, 64):
            report(f"patchgan ndf {ndf} n_layers 3 (input {side})",
                   PatchGANDiscriminator(6, ndf, 3), torch.zeros(1, 6, side, side), show)
    probe("forward probe unet num_downs 5 ngf 2 in 1 out 2", UNetGenerator(1, 2, 5, 2, False),
          (2, 1, 32, 32))
    probe("forward probe patchgan in 2 ndf 2 n_layers 2", PatchGANDiscriminator(2, 2, 2),
          (2, 2, 16, 16))


if __name__ == "__main__":
    main()
