"""PyTorch twin of models/landmark_net.h: the 68-point face landmark network described in
../shared/weights/face_landmark_68/README.md, its use on a square crop of a [-1, 1] image
(landmarks_on_image), and the landmark distance loss. Written from the README alone, so it is
an independent reference for the engine. Runs in float64 (weights are float32 .npy files).

The two TensorFlow details that differ from PyTorch's defaults are spelled out: 'same' padding
(for stride 2 on an even size, one zero row/column after the image and none before) and the
legacy bilinear resize (source = dst * in / out, no half-pixel offset).
"""
import math
import os
from collections import namedtuple

import numpy as np
import torch
import torch.nn.functional as F

MEAN_RGB = (122.782, 117.001, 104.298)
INPUT_SIZE = 112
WIDTHS = (32, 64, 128, 256)

# Square crop in fractions of the image side (x0, y0, size), as models::LandmarkCrop.
Crop = namedtuple("Crop", "x0 y0 size")
# Must equal models::default_landmark_crop(); the golden test checks that it does.
DEFAULT_CROP = Crop(0.1375, 0.275, 0.725)

# landmark_distance_loss: mean over points of sqrt(dx^2 + dy^2 + DIST_EPS).
DIST_EPS = 1e-12


def load(weights_dir):
    """{name: float64 tensor} from the folder's .npy files (names = file stems)."""
    params = {}
    for f in sorted(os.listdir(weights_dir)):
        if f.endswith(".npy"):
            a = np.load(os.path.join(weights_dir, f))
            assert a.dtype == np.float32, f
            params[f[:-4]] = torch.from_numpy(a.astype(np.float64))
    # dense0: a regular conv (2 files) and 3 separable ones (3 each); dense1..3: 4 separable
    # convs each; fc: 2.
    assert len(params) == 2 + 3 * 3 + 3 * 4 * 3 + 2, "expected 49 weight files in %s" % weights_dir
    return params


def same_pad(x, stride):
    """TensorFlow 'same' padding for a 3x3 window: total max((out-1)*s + 3 - in, 0), the
    smaller half before."""
    pads = []
    for size in (x.shape[3], x.shape[2]):  # F.pad wants (left, right, top, bottom)
        out = -(-size // stride)
        total = max((out - 1) * stride + 3 - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


def sep_conv(p, name, x, stride):
    dw = p[name + ".depthwise.weight"]
    x = F.conv2d(same_pad(x, stride), dw, stride=stride, groups=dw.shape[0])
    return F.conv2d(x, p[name + ".pointwise.weight"], p[name + ".bias"])


def dense_block(p, b, x):
    name = "dense%d" % b
    if b == 0:
        o1 = F.conv2d(same_pad(x, 2), p[name + ".conv0.weight"], p[name + ".conv0.bias"], stride=2)
    else:
        o1 = sep_conv(p, name + ".conv0", x, 2)
    o1 = F.relu(o1)
    o2 = sep_conv(p, name + ".conv1", o1, 1)
    o3 = sep_conv(p, name + ".conv2", F.relu(o1 + o2), 1)
    o4 = sep_conv(p, name + ".conv3", F.relu(o1 + o2 + o3), 1)
    return F.relu(o1 + o2 + o3 + o4)


def forward(p, x):
    """x: [N,3,112,112] already normalised, (0..255 - mean) / 255. Returns [N,136]."""
    for b in range(4):
        x = dense_block(p, b, x)
    f = x.mean(dim=(2, 3))
    return f @ p["fc.weight"].t() + p["fc.bias"]


def resize_bilinear_tf_legacy(x, out_h, out_w):
    """TensorFlow's resize_bilinear with align_corners and half_pixel_centers both false:
    source = dst * in / out, neighbours floor(source) and min(floor(source) + 1, in - 1);
    interpolates along x on both rows, then along y. Differentiable through indexing."""
    in_h, in_w = x.shape[2], x.shape[3]

    def axis(n_out, n_in):
        src = torch.arange(n_out, dtype=torch.float64) * (n_in / n_out)
        lo = torch.floor(src).long().clamp(max=n_in - 1)
        hi = torch.clamp(lo + 1, max=n_in - 1)
        return lo, hi, (src - lo.double())

    y0, y1, fy = axis(out_h, in_h)
    x0, x1, fx = axis(out_w, in_w)
    fx = fx.to(x.dtype).view(1, 1, 1, -1)
    fy = fy.to(x.dtype).view(1, 1, -1, 1)
    top = x[:, :, y0][:, :, :, x0] + (x[:, :, y0][:, :, :, x1] - x[:, :, y0][:, :, :, x0]) * fx
    bot = x[:, :, y1][:, :, :, x0] + (x[:, :, y1][:, :, :, x1] - x[:, :, y1][:, :, :, x0]) * fx
    return top + (bot - top) * fy


def crop_pixels(crop, side):
    """The crop in whole pixels: (x0, y0, size), each rounded to the nearest pixel, halves
    away from zero (C's llround; Python's round() would round halves to even)."""
    r = lambda v: int(math.floor(v * side + 0.5))
    return r(crop.x0), r(crop.y0), r(crop.size)


def landmarks_on_image(p, img, crop):
    """img [N,3,S,S] in [-1,1] -> [N,68,2] landmarks (x, y) in units of the image side."""
    side = img.shape[3]
    cx, cy, cs = crop_pixels(crop, side)
    x = img[:, :, cy:cy + cs, cx:cx + cs]
    if cs != INPUT_SIZE:
        x = resize_bilinear_tf_legacy(x, INPUT_SIZE, INPUT_SIZE)
    x = (x + 1.0) * 127.5
    mean = torch.tensor(MEAN_RGB, dtype=x.dtype).view(1, 3, 1, 1)
    x = (x - mean) / 255.0
    out = forward(p, x).view(-1, 68, 2)
    offset = torch.tensor([cx, cy], dtype=out.dtype)
    return (offset + out * cs) / side


def landmark_distance(pred, target):
    """Mean over every point of the Euclidean distance (eps inside the root)."""
    d = pred - target
    return torch.sqrt((d * d).sum(-1) + DIST_EPS).mean()


def check_reference_outputs(p, shared):
    """Runs the README's full-frame pipeline on FFHQ 00000..00004 and prints the largest
    difference from reference_outputs.tsv (pixels)."""
    from PIL import Image

    wdir = os.path.join(shared, "weights", "face_landmark_68")
    worst = 0.0
    for line in open(os.path.join(wdir, "reference_outputs.tsv")):
        if not line[0].isdigit():
            continue
        cols = line.rstrip("\n").split("\t")
        img = np.asarray(Image.open(os.path.join(shared, "data", "faces", "ffhq256", cols[0]))
                         .convert("RGB"), dtype=np.float64)
        x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0)
        x = resize_bilinear_tf_legacy(x, INPUT_SIZE, INPUT_SIZE)
        x = (x - torch.tensor(MEAN_RGB, dtype=torch.float64).view(1, 3, 1, 1)) / 255.0
        out = forward(p, x).view(68, 2).numpy() * img.shape[1]
        ref = np.array([float(v) for v in cols[1:]]).reshape(68, 2)
        err = np.abs(out - ref).max()
        worst = max(worst, err)
        print("%s: max |difference| %.3g px" % (cols[0], err))
    print("worst %.3g px" % worst)
    return worst
