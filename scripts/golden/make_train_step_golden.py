#!/usr/bin/env python3
"""Writes tests/fixtures/train_step_golden_{vanilla,landmark,lsgan}.txt: one pix2pix training
step computed by PyTorch in float64, the independent reference for
tests/train/golden_step_test.cpp (which runs train::Pix2Pix::train_step in float32).

Configuration: 32x32 images, batch 2, U-Net with num_downs 5 and ngf 8 (no dropout), PatchGAN
with ndf 8 and 3 layers (logits [2,1,2,2]), batch norm in training mode, Adam lr 2e-4, betas
(0.5, 0.999), eps 1e-8 for each network. The step, in the order train/pix2pix.cpp runs it:

  fake = G(A)
  D:  0.5 * (gan(D(cat(A, fake.detach())), fake) + gan(D(cat(A, B)), real)); Adam step of D
  G (D frozen, after its update):
      gan(D(cat(A, fake)), real) + 100 |fake - B|_mean + 100 masked_mse(fake, B, mask)
      [+ 100 landmark_distance(landmarks_on_image(fake), L)];  Adam step of G

gan() is BCE on logits ('vanilla') or MSE against 1/0 ('lsgan'). D's batch norms update their
running statistics three times per step, G's once. The cases:
  vanilla   vanilla GAN, no landmark term
  landmark  vanilla GAN with the landmark term through the 68-point network
            (scripts/golden/landmark_net_ref.py) and the crop of models::default_landmark_crop()
  lsgan     least-squares GAN, no landmark term
The script needs the shared data folder ($MASKOFF_SHARED, else ../shared beside the
repository) for the network's weights and for the target landmarks, which are the network's
own outputs on FFHQ faces 00000 and 00001 (weights/face_landmark_68/reference_outputs.tsv).

Sizes. G has 261,715 parameters and D 45,033, far too many to store in a small text file, so:
  * The initial weights are not stored but defined by a formula that C++ reproduces bit for bit
    (integer hashing and IEEE-rounded arithmetic only). Parameter k (0-based, in
    named_parameters() order) of network net (G = 0, D = 1), element i:
        c_j = (net << 56) + (k << 40) + 4 i + j,  j = 0..3
        u_j = splitmix64(c_j) >> 40                      (24-bit integers)
        s   = u_0 + u_1 + u_2 + u_3 - 2^25               (an integer, |s| < 2^25)
        z   = double(s) * (sqrt(3) / 2^24)               (mean 0, variance 1, one rounding)
        w   = float32(0.02 * z)                          conv / conv-transpose weights
        w   = float32(1) + float32(0.02 * z)             batch-norm weights (the sum in float32)
        w   = 0                                          biases
    That is pix2pix's 'normal' init (N(0, 0.02), BN weights N(1, 0.02), zero biases) with a sum
    of four uniforms standing in for the Gaussian. splitmix64(x): z = x + 0x9E3779B97F4A7C15,
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9, z = (z ^ (z >> 27)) * 0x94D049BB133111EB,
    return z ^ (z >> 31) (all mod 2^64). The fixture keeps, per parameter, the sum and sum of
    squares of the initial values and the values at the sampled positions, so the test can
    prove it rebuilt them.
  * Per parameter, gradients and updated values are stored at up to 48 sampled positions
    (every position for tensors of at most 64 elements), plus three whole-tensor reductions
    of the gradient g and of the update d = p_after - p_before:
        [sum x, sum |x|, sum r_i x_i],  r_i = +1 if splitmix64(0x5EED0000 + i) < 2^63 else -1
    A wrong element anywhere moves the signed projection by roughly its error; the test
    explains the tolerance it allows each reduction.
  * Buffers (running statistics) and the small inputs are stored whole; the 8-bit images as
    integers k, each meaning float32(float32(k) / 127.5f - 1), the engine's conversion.

Every starting value is a float32 value widened to float64, so the float32 engine starts from
exactly the same numbers and only its arithmetic differs.

File format (as tests/fixtures/tiny_net_golden.txt): '#' lines are comments; each tensor is a
line "tensor NAME [d0,d1,...]" followed by its values in row-major order. Names:
  config/*                     options of the run (scalars; landmark_crop: x0, y0, size)
  input/a_u8, input/b_u8       [2,3,32,32] 8-bit images: A (masked face) and B (real face)
  input/mask [2,1,32,32], input/landmarks [2,68,2]
  param/NET/NAME               [rank] the parameter's shape
  init_sums/NET/NAME           [2] sum and sum of squares of the initial values
  index/NET/NAME               [n] sampled flat positions
  init/NET/NAME, grad/NET/NAME, after/NET/NAME   [n] values at those positions
  grad_red/NET/NAME, step_red/NET/NAME           [3] the reductions above
  buffer0/NET/NAME, buffer/NET/NAME              running statistics before and after
  loss/NAME                    [] G_GAN, G_L1, G_mask, G_landmark, G_total, D_real, D_fake
Parameters and buffers appear in the networks' named_parameters() / named_buffers() order.

Usage: python3 scripts/golden/make_train_step_golden.py [--out-dir DIR] [--cases a,b,...]
       python3 scripts/golden/make_train_step_golden.py --check-landmark-net
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pix2pix_ref  # noqa: E402
import landmark_net_ref  # noqa: E402

DEFAULT_OUT_DIR = os.path.join(HERE, "..", "..", "tests", "fixtures")

RES, BATCH, NUM_DOWNS, NGF, NDF, N_LAYERS = 32, 2, 5, 8, 8, 3
LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8
LAMBDA_L1, LAMBDA_MASK, LAMBDA_LANDMARK = 100.0, 100.0, 100.0
SAMPLES, SMALL_TENSOR = 48, 64
PROJ_SALT = 0x5EED0000
CASES = {
    "vanilla": dict(gan_mode="vanilla", landmark_loss="none"),
    "landmark": dict(gan_mode="vanilla", landmark_loss="cnn"),
    "lsgan": dict(gan_mode="lsgan", landmark_loss="none"),
}


# ---- the integer hash and the weight formula -----------------------------------------------

def splitmix64(x):
    """splitmix64 of a uint64 numpy array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hashed_normal(net, k, n):
    """z of the formula in the module docstring: float64, mean 0, variance 1."""
    i = np.arange(n, dtype=np.uint64)
    base = np.uint64((net << 56) + (k << 40))
    s = np.zeros(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        for j in range(4):
            u = splitmix64(base + i * np.uint64(4) + np.uint64(j)) >> np.uint64(40)
            s += u.astype(np.int64)
    s -= 1 << 25
    return s.astype(np.float64) * (math.sqrt(3.0) / 16777216.0)


def init_weights(net, net_id):
    """Sets every parameter of `net` by the formula; the kind of a parameter follows from its
    module (pix2pix's init_weights decides the same way)."""
    kinds = {}
    for mname, m in net.named_modules():
        for pname, _ in m.named_parameters(recurse=False):
            full = (mname + "." if mname else "") + pname
            if pname == "bias":
                kinds[full] = "zero"
            elif isinstance(m, torch.nn.BatchNorm2d):
                kinds[full] = "bn"
            else:
                kinds[full] = "conv"
    with torch.no_grad():
        for k, (name, p) in enumerate(net.named_parameters()):
            if kinds[name] == "zero":
                w = np.zeros(p.numel(), dtype=np.float32)
            else:
                w = (0.02 * hashed_normal(net_id, k, p.numel())).astype(np.float32)
                if kinds[name] == "bn":
                    w = np.float32(1.0) + w
            p.copy_(torch.from_numpy(w.astype(np.float64)).reshape(p.shape))


def projection_signs(n):
    h = splitmix64(np.uint64(PROJ_SALT) + np.arange(n, dtype=np.uint64))
    return np.where(h < np.uint64(1 << 63), 1.0, -1.0)


def reductions(x):
    x = x.detach().reshape(-1).numpy()
    return torch.tensor([x.sum(), np.abs(x).sum(), (projection_signs(x.size) * x).sum()],
                        dtype=torch.float64)


def sample_positions(n, key):
    if n <= SMALL_TENSOR:
        return np.arange(n)
    rng = np.random.default_rng(key)
    return np.sort(rng.choice(n, SAMPLES, replace=False))


# ---- inputs --------------------------------------------------------------------------------

def to_float(u8):
    """The engine's conversion of 8-bit values: float32(k) / 127.5f - 1, all in float32."""
    return torch.from_numpy((u8.astype(np.float32) / np.float32(127.5) - np.float32(1.0))
                            .astype(np.float64))


def make_inputs(landmarks):
    """Smooth 'faces' (sums of low-frequency sinusoids), a rectangular mask over the lower
    centre, and a masked input whose masked region holds a fabric-like pattern."""
    yy, xx = np.meshgrid(np.arange(RES) / RES, np.arange(RES) / RES, indexing="ij")
    real = np.zeros((BATCH, 3, RES, RES))
    masked = np.zeros_like(real)
    mask = np.zeros((BATCH, 1, RES, RES))
    rects = [(17, 29, 7, 25), (18, 31, 5, 27)]  # y0, y1, x0, x1 (end exclusive)
    for n in range(BATCH):
        y0, y1, x0, x1 = rects[n]
        mask[n, 0, y0:y1, x0:x1] = 1.0
        for c in range(3):
            v = (0.15 + 0.1 * c - 0.2 * n
                 + 0.35 * np.sin(2 * np.pi * (1.0 + 0.5 * n) * xx + 0.7 * c + n)
                 * np.cos(2 * np.pi * (0.8 + 0.3 * c) * yy - 0.4 * n)
                 + 0.25 * np.sin(2 * np.pi * (2.0 * xx + 1.5 * yy) + 1.3 * c - 0.9 * n)
                 + 0.1 * np.cos(2 * np.pi * 5 * (xx - yy) + c))
            fabric = (0.55 - 0.25 * c + 0.1 * n) + 0.08 * np.sin(2 * np.pi * 8 * (xx + yy))
            real[n, c] = v
            masked[n, c] = np.where(mask[n, 0] > 0, fabric, v)
    to_u8 = lambda v: np.clip(np.round((v + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return to_u8(masked), to_u8(real), mask, landmarks


def reference_landmarks(shared):
    """Two plausible landmark sets: the 68-point network's own output on FFHQ faces 00000 and
    00001, stored in the weights folder's reference_outputs.tsv (pixels of 256x256)."""
    path = os.path.join(shared, "weights", "face_landmark_68", "reference_outputs.tsv")
    rows = [l.split("\t") for l in open(path) if l[0].isdigit()]
    pts = np.array([[float(v) for v in r[1:]] for r in rows[:BATCH]]).reshape(BATCH, 68, 2) / 256.0
    return pts.astype(np.float32).astype(np.float64)


# ---- the step ------------------------------------------------------------------------------

def masked_mse(pred, target, mask):
    """losses/losses.h: sum(mask * (pred - target)^2) / sum(mask broadcast to pred's shape)."""
    return (mask * (pred - target) ** 2).sum() / mask.expand_as(pred).sum()


def gan_loss(logits, real, mode):
    t = torch.full_like(logits, 1.0 if real else 0.0)
    if mode == "lsgan":
        return F.mse_loss(logits, t)
    return F.binary_cross_entropy_with_logits(logits, t)


def run_case(case, inputs, lm_net):
    mode, landmark = CASES[case]["gan_mode"], CASES[case]["landmark_loss"] == "cnn"
    a_u8, b_u8, mask_np, lms = inputs
    a, b = to_float(a_u8), to_float(b_u8)
    mask = torch.from_numpy(mask_np)
    target_lm = torch.from_numpy(lms)

    g = pix2pix_ref.UNetGenerator(num_downs=NUM_DOWNS, ngf=NGF, dropout=False).double().train()
    d = pix2pix_ref.PatchGANDiscriminator(in_channels=6, ndf=NDF, n_layers=N_LAYERS)
    d = d.double().train()
    init_weights(g, 0)
    init_weights(d, 1)
    nets = {"G": g, "D": d}
    before = {(nn_, n): p.detach().clone()
              for nn_, net in nets.items() for n, p in net.named_parameters()}
    buffers0 = {(nn_, n): b_.detach().clone() for nn_, net in nets.items()
                for n, b_ in pix2pix_ref.engine_buffers(net)}
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS, eps=EPS)

    fake = g(a)
    opt_d.zero_grad()
    d_fake = gan_loss(d(torch.cat([a, fake.detach()], 1)), False, mode)
    d_real = gan_loss(d(torch.cat([a, b], 1)), True, mode)
    (0.5 * (d_fake + d_real)).backward()
    opt_d.step()

    for p in d.parameters():
        p.requires_grad_(False)
    opt_g.zero_grad()
    g_gan = gan_loss(d(torch.cat([a, fake], 1)), True, mode)
    g_l1 = F.l1_loss(fake, b)
    g_mask = masked_mse(fake, b, mask)
    total = g_gan + LAMBDA_L1 * g_l1 + LAMBDA_MASK * g_mask
    g_lm = torch.zeros((), dtype=torch.float64)
    if landmark:
        pred = landmark_net_ref.landmarks_on_image(lm_net, fake, landmark_net_ref.DEFAULT_CROP)
        g_lm = landmark_net_ref.landmark_distance(pred, target_lm)
        total = total + LAMBDA_LANDMARK * g_lm
    total.backward()
    opt_g.step()
    for p in d.parameters():
        p.requires_grad_(True)

    losses = {"G_GAN": g_gan, "G_L1": g_l1, "G_mask": g_mask, "G_landmark": g_lm,
              "G_total": total, "D_real": d_real, "D_fake": d_fake}
    return nets, before, buffers0, losses


# ---- output --------------------------------------------------------------------------------

class Writer:
    def __init__(self):
        self.lines = []

    def comment(self, text):
        self.lines.append("# " + text)

    def put(self, name, t, fmt="double"):
        t = torch.as_tensor(t).detach()
        self.lines.append("tensor %s [%s]" % (name, ",".join(str(x) for x in t.shape)))
        flat = t.reshape(-1).tolist()
        if fmt == "int":
            vals = [str(int(v)) for v in flat]
        elif fmt == "float32":  # 9 significant digits round-trip a float32 exactly
            vals = ["%.9g" % v for v in flat]
        else:
            vals = [repr(float(v)) for v in flat]
        per = 16 if fmt == "int" else 8
        for i in range(0, len(vals), per):
            self.lines.append(" ".join(vals[i:i + per]))


def write_case(case, inputs, lm_net, out_dir):
    nets, before, buffers0, losses = run_case(case, inputs, lm_net)
    a_u8, b_u8, mask, lms = inputs
    w = Writer()
    w.comment("maskoff golden fixture: one pix2pix training step (case '%s'), float64 PyTorch %s"
              % (case, torch.__version__))
    w.comment("written by scripts/golden/make_train_step_golden.py; see that script for the")
    w.comment("configuration, the weight formula, the sampling and the file format.")
    cfg = CASES[case]
    w.comment("gan_mode %s, landmark_loss %s, lambda_l1 %g, lambda_mask %g, lambda_landmark %g"
              % (cfg["gan_mode"], cfg["landmark_loss"], LAMBDA_L1, LAMBDA_MASK, LAMBDA_LANDMARK))
    w.put("config/resolution", RES, "int")
    w.put("config/batch", BATCH, "int")
    w.put("config/ngf", NGF, "int")
    w.put("config/ndf", NDF, "int")
    w.put("config/n_layers_d", N_LAYERS, "int")
    w.put("config/lsgan", int(cfg["gan_mode"] == "lsgan"), "int")
    w.put("config/landmark_cnn", int(cfg["landmark_loss"] == "cnn"), "int")
    w.put("config/lambda_l1", LAMBDA_L1)
    w.put("config/lambda_mask", LAMBDA_MASK)
    w.put("config/lambda_landmark", LAMBDA_LANDMARK)
    if cfg["landmark_loss"] == "cnn":
        c = landmark_net_ref.DEFAULT_CROP
        w.put("config/landmark_crop", torch.tensor([c.x0, c.y0, c.size], dtype=torch.float64))
    w.put("input/a_u8", torch.from_numpy(a_u8.astype(np.int64)), "int")
    w.put("input/b_u8", torch.from_numpy(b_u8.astype(np.int64)), "int")
    w.put("input/mask", torch.from_numpy(mask.astype(np.int64)), "int")
    w.put("input/landmarks", torch.from_numpy(lms), "float32")
    for name, v in losses.items():
        w.put("loss/" + name, v)
    for net_name, net in nets.items():
        for k, (name, p) in enumerate(net.named_parameters()):
            key = net_name + "/" + name
            p0 = before[(net_name, name)].reshape(-1)
            idx = sample_positions(p.numel(), (0 if net_name == "G" else 1) * 1000 + k)
            idx_t = torch.from_numpy(idx)
            step = p.detach().reshape(-1) - p0
            w.put("param/" + key, torch.tensor(list(p.shape)), "int")
            w.put("init_sums/" + key, torch.stack([p0.sum(), (p0 * p0).sum()]))
            w.put("index/" + key, idx_t, "int")
            w.put("init/" + key, p0[idx_t], "float32")
            w.put("grad/" + key, p.grad.reshape(-1)[idx_t])
            w.put("after/" + key, p.detach().reshape(-1)[idx_t])
            w.put("grad_red/" + key, reductions(p.grad))
            w.put("step_red/" + key, reductions(step))
        for name, b_ in pix2pix_ref.engine_buffers(net):
            w.put("buffer0/%s/%s" % (net_name, name), buffers0[(net_name, name)], "float32")
            w.put("buffer/%s/%s" % (net_name, name), b_)
    path = os.path.abspath(os.path.join(out_dir, "train_step_golden_%s.txt" % case))
    os.makedirs(out_dir, exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(w.lines) + "\n")
    print("wrote %s (%d bytes); losses: %s" % (path, os.path.getsize(path),
          ", ".join("%s %.6g" % (k, v.item()) for k, v in losses.items())))


def shared_dir():
    env = os.environ.get("MASKOFF_SHARED")
    if env:
        return env
    return os.path.abspath(os.path.join(HERE, "..", "..", "..", "shared"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=DEFAULT_OUT_DIR)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--check-landmark-net", action="store_true",
                    help="compare the PyTorch 68-point network with the weights folder's "
                         "reference_outputs.tsv and exit")
    args = ap.parse_args()
    torch.set_num_threads(1)  # a fixed summation order; the result is float64 anyway
    shared = shared_dir()
    weights = os.path.join(shared, "weights", "face_landmark_68")
    if not os.path.isdir(weights):
        sys.exit("no %s: set MASKOFF_SHARED to the shared data folder" % weights)
    lm_net = landmark_net_ref.load(weights)
    if args.check_landmark_net:
        landmark_net_ref.check_reference_outputs(lm_net, shared)
        return
    inputs = make_inputs(reference_landmarks(shared))
    for case in args.cases.split(","):
        if case not in CASES:
            sys.exit("unknown case '%s' (known: %s)" % (case, ", ".join(CASES)))
        write_case(case, inputs, lm_net, args.out_dir)


if __name__ == "__main__":
    main()
