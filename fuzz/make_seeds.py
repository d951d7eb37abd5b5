#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/TARGET/), small valid and
slightly broken inputs from which the fuzzer mutates. The files are committed, so this
only needs to run again when a seed is added. Needs Pillow and NumPy (pip install pillow
numpy); the engine itself never uses Python.

    python3 fuzz/make_seeds.py
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def image_seeds():
    rng = np.random.default_rng(1)
    rgb = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), "RGB")
    rgba = Image.fromarray(rng.integers(0, 256, (4, 3, 4), dtype=np.uint8), "RGBA")
    grey = Image.fromarray(rng.integers(0, 256, (6, 4), dtype=np.uint8), "L")
    put("image", "png_rgb", encode(rgb, "PNG"))
    put("image", "png_rgba", encode(rgba, "PNG"))
    put("image", "png_grey", encode(grey, "PNG"))
    put("image", "png_palette", encode(rgb.convert("P"), "PNG"))
    grey16 = Image.fromarray(rng.integers(0, 65536, (3, 5), dtype=np.uint16))
    put("image", "png_grey16", encode(grey16, "PNG"))
    put("image", "jpeg_baseline", encode(rgb, "JPEG", quality=90))
    put("image", "jpeg_progressive", encode(rgb, "JPEG", quality=80, progressive=True))
    put("image", "jpeg_grey", encode(grey, "JPEG"))
    put("image", "bmp", encode(rgb, "BMP"))
    put("image", "gif", encode(rgb.convert("P"), "GIF"))
    put("image", "tga", encode(rgb, "TGA"))
    put("image", "ppm", encode(rgb, "PPM"))
    put("image", "pgm", encode(grey, "PPM"))
    # Broken: cut short, and a header that claims 60000 x 60000 pixels with no data.
    put("image", "png_truncated", encode(rgb, "PNG")[:-20])
    put("image", "jpeg_truncated", encode(rgb, "JPEG")[:-40])
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    huge = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 16)) + png_chunk(b"IEND", b"")
    put("image", "png_claims_60000x60000", huge)


def npy(shape, data=None, descr="<f4", order=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if order else "False", "(" + "".join("%d, " % s for s in shape) + ")")
    magic_len = 10 if version == 1 else 12
    pad = (64 - (magic_len + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    if data is None:
        data = np.arange(int(np.prod(shape)), dtype=np.float32).tobytes()
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode("latin1") + data


def npy_seeds():
    put("npy", "vector", npy((5,)))
    put("npy", "matrix", npy((2, 3)))
    put("npy", "conv_weight", npy((2, 1, 3, 3)))
    put("npy", "scalar", npy(()))
    put("npy", "empty", npy((0, 4)))
    put("npy", "version2", npy((3,), version=2))
    put("npy", "float64", npy((2,), data=np.zeros(2).tobytes(), descr="<f8"))
    put("npy", "fortran", npy((2, 2), order=True))
    put("npy", "truncated", npy((4, 4))[:-7])
    put("npy", "huge_shape", npy((1 << 39, 1 << 39, 1 << 39), data=b""))


def manifest_seeds():
    header = "id,split,source,mask_type,masked,real,mask,landmarks\n"
    row = "000001,train,photo.jpg,surgical,masked/000001.png,real/000001.png,mask/000001.png,landmarks/000001.txt\n"
    quoted = '000002,test,"a, ""quoted"" name.jpg",cloth,masked/000002.png,real/000002.png,mask/000002.png,landmarks/000002.txt\r\n'
    put("manifest", "two_rows", (header + row + quoted).encode())
    put("manifest", "header_only", header.encode())
    put("manifest", "short_row", (header + "000003,train,x\n").encode())
    put("manifest", "wrong_header", b"id,split\n1,train\n")
    put("manifest", "unterminated_quote", (header + '000004,"train\n').encode())


def landmarks_seeds():
    pts = "".join("%.2f %.2f\n" % (10 + i * 1.5, 20 + (i % 17) * 2.25) for i in range(68))
    put("landmarks", "68_points", pts.encode())
    put("landmarks", "67_points", "".join(pts.splitlines(True)[:67]).encode())
    put("landmarks", "69_points", (pts + "1 2\n").encode())
    put("landmarks", "not_numbers", b"a b\n" * 68)


def checkpoint_seeds():
    def ckpt(tensors, extra=None, version=2):
        meta = dict(extra or {})
        index, data, offset = [], b"", 0
        for name, dtype, shape, raw in tensors:
            entry = {"name": name, "dtype": dtype, "shape": shape, "offset": offset, "nbytes": len(raw)}
            if version == 2:
                entry["crc32c"] = crc32c(raw)
            index.append(entry)
            data += raw
            offset += len(raw)
        meta["tensors"] = index
        js = json.dumps(meta, separators=(",", ":")).encode()
        if version == 1:
            return b"MASKOFF1" + struct.pack("<Q", len(js)) + js + data
        return b"MASKOFF2" + struct.pack("<QII", len(js), crc32c(js), 0) + js + data

    w = np.arange(12, dtype=np.float32).tobytes()
    b = np.array([0.25, -2.0]).tobytes()
    put("checkpoint", "two_tensors", ckpt([("w", "f32", [3, 4], w), ("b", "f64", [2], b)], {"step": 3}))
    put("checkpoint", "format1", ckpt([("w", "f32", [3, 4], w)], {"step": 1}, version=1))
    put("checkpoint", "empty_tensor", ckpt([("e", "f32", [0, 5], b"")]))
    put("checkpoint", "no_tensors", ckpt([]))
    good = ckpt([("w", "f32", [3, 4], w)])
    put("checkpoint", "flipped_data", good[:-3] + bytes([good[-3] ^ 1]) + good[-2:])
    put("checkpoint", "truncated", good[:-5])


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def cli_seeds():
    put("cli_lists", "paper", b"--data\nd\n--out\no")
    put("cli_lists", "crop", b"--landmark-crop\n0.1375,0.275,0.725\n--lambda-landmark\n10")
    put("cli_lists", "numbers", b"--epochs\n5\n--epochs-decay\n5\n--lr\n1e-3\n--batch-size\n4\n--resolution\n64")
    put("cli_lists", "words", b"--gan-mode\nlsgan\n--landmark-loss\ncnn\n--device\ncpu\n--on-nonfinite\nskip")
    put("cli_lists", "flags", b"--no-dropout\n--jitter\n--max-nonfinite-skips\n3")
    put("cli_lists", "bad_crop", b"--landmark-crop\n0.5,0.5")


if __name__ == "__main__":
    checkpoint_seeds()
    cli_seeds()
    image_seeds()
    npy_seeds()
    manifest_seeds()
    landmarks_seeds()
