#!/usr/bin/env python3
"""Writes tests/fixtures/metrics_reference.txt: MSE, PSNR and SSIM of a few image pairs as
computed by scikit-image, the independent reference for tests/metrics_test.cpp.

The images are not stored. Each one is made by a formula that the C++ test repeats bit for
bit: a sum of two sinusoids, rounded to an integer, plus integer noise from a 32-bit hash,
clamped to 0..255 and divided by 255 (see `image` below). The script checks that no
sinusoid value lies within 1e-6 of a rounding boundary, so a last-bit difference between
two sine implementations cannot change a pixel, and it stores checksums of the 8-bit
values so the test can confirm it rebuilt the same images.

Some pairs also carry an elliptic mask, given by integers (centre row, centre column,
radius in rows, radius in columns; pixel (y, x) is inside when
(y - cy)^2 rx^2 + (x - cx)^2 ry^2 <= rx^2 ry^2), with the MSE and PSNR over the masked
pixels (numpy) and the SSIM of the crop to the mask's bounding box (scikit-image).

Settings: structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1, channel_axis=0) on float64 [3, H, W] images;
peak_signal_noise_ratio(a, b, data_range=1); mean_squared_error(a, b).

File format (the one tests/golden_fixture.h reads): '#' lines are comments; each entry is
a line "tensor NAME [d0,...]" followed by its values, whitespace separated.

Usage: python3 scripts/golden/make_metrics_reference.py [output path]
"""
import math
import os
import sys

import numpy as np
import skimage
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "metrics_reference.txt")
M32 = 0xFFFFFFFF

# (H, W, phase_a, phase_b, noise_a, noise_b, seed_a, seed_b, mask cy, cx, ry, rx or None)
PAIRS = [
    (32, 32, 0.0, 0.0, 0, 12, 1, 2, None),            # a noisy copy
    (40, 53, 0.3, 0.9, 5, 90, 3, 4, None),            # other structure, heavy clamped noise
    (64, 48, 1.0, 1.15, 3, 3, 5, 6, (38, 22, 14, 17)),  # a small shift; a mask
    (27, 31, 2.0, 2.0, 0, 30, 7, 8, (13, 15, 9, 11)),   # odd sizes; a mask
]


def hash32(seed, i):
    h = (i * 0x9E3779B1 + seed * 0x85EBCA77 + 0x165667B1) & M32
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & M32
    h ^= h >> 12
    h = (h * 0x297A2D39) & M32
    h ^= h >> 15
    return h


def image(h, w, phase, noise, seed):
    """[3, h, w] uint8 values as int64."""
    out = np.zeros((3, h, w), dtype=np.int64)
    for c in range(3):
        for y in range(h):
            for x in range(w):
                s = (128.0 + 70.0 * math.sin(0.23 * x + 0.17 * y + 1.1 * c + phase)
                     + 40.0 * math.cos(0.31 * y - 0.07 * (c + 1) * x + 0.5 * phase))
                frac = s - math.floor(s)
                assert abs(frac - 0.5) > 1e-6, (h, w, phase, c, y, x, s)
                v = int(math.floor(s + 0.5))
                if noise:
                    i = (c * h + y) * w + x
                    v += int(hash32(seed, i) % (2 * noise + 1)) - noise
                out[c, y, x] = min(255, max(0, v))
    return out


def checksums(v):
    flat = v.reshape(-1)
    weights = np.arange(flat.size, dtype=np.int64) % 251 + 1
    return [int(flat.sum()), int((flat * weights).sum())]


def mask_of(h, w, cy, cx, ry, rx):
    y, x = np.mgrid[0:h, 0:w]
    return (y - cy) ** 2 * rx * rx + (x - cx) ** 2 * ry * ry <= rx * rx * ry * ry


def ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=1.0, channel_axis=0)


def entry(out, name, values):
    values = [float(v) for v in np.atleast_1d(values)]
    out.append(f"tensor {name} [{len(values)}]")
    out.append(" ".join(repr(v) for v in values))


def main():
    out_path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    out = [
        f"# maskoff metrics reference: scikit-image {skimage.__version__}, numpy {np.__version__}",
        "# written by scripts/golden/make_metrics_reference.py; see that script for the image",
        "# formula, the settings and the file format.",
    ]
    for k, (h, w, pa, pb, na, nb, sa, sb, mask) in enumerate(PAIRS):
        a8, b8 = image(h, w, pa, na, sa), image(h, w, pb, nb, sb)
        a, b = a8 / 255.0, b8 / 255.0
        p = f"pair{k}"
        entry(out, f"{p}/params", [h, w, pa, pb, na, nb, sa, sb])
        entry(out, f"{p}/checksums", checksums(a8) + checksums(b8))
        entry(out, f"{p}/mse", mean_squared_error(a, b))
        entry(out, f"{p}/psnr", peak_signal_noise_ratio(a, b, data_range=1.0))
        entry(out, f"{p}/ssim", ssim(a, b))
        if mask is not None:
            m = mask_of(h, w, *mask)
            rows, cols = np.nonzero(m)
            y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
            d2 = ((a - b) ** 2)[:, m]
            mse_m = d2.mean()
            entry(out, f"{p}/mask", list(mask))
            entry(out, f"{p}/box", [y0, x0, y1, x1])
            entry(out, f"{p}/mse_in_mask", mse_m)
            entry(out, f"{p}/psnr_in_mask", 10.0 * math.log10(1.0 / mse_m))
            entry(out, f"{p}/ssim_in_box", ssim(a[:, y0:y1, x0:x1], b[:, y0:y1, x0:x1]))
    with open(out_path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote", out_path)


if __name__ == "__main__":
    main()
