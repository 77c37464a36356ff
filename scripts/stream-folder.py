#!/usr/bin/env python3
"""A folder of colour 256 x 256 PNGs for timing `plateau spectrum` on a large folder.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy pillow
    /tmp/v/bin/python scripts/stream-folder.py /tmp/photos 10000      # about 1.6 GB, a few minutes
    /usr/bin/time -v target/release/plateau spectrum --data folder:/tmp/photos \
        --image-size 16 --color rgb --noise-std 0.0980392 --out /tmp/spectrum-folder

Each image is a Gaussian field with a 1/f amplitude spectrum (the decay of natural images),
channels correlated 0.8-0.9, a random contrast and brightness, clipped to 8 bits: not
photographs, but files of the size, format and count that the timing needs. Seeded: the same
files every time. Numbers measured with it: theory/gaussian.md, "Cost".
"""
import os
import sys

import numpy as np
from PIL import Image


def main(out: str, count: int, side: int = 256) -> None:
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / side)
    mix = np.linalg.cholesky(np.array([[1, 0.9, 0.8], [0.9, 1, 0.9], [0.8, 0.9, 1]]))
    shape = (3, side, side // 2 + 1)
    for i in range(count):
        z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        planes = np.einsum("ij,jhw->ihw", mix, np.fft.irfft2(z * amplitude, s=(side, side)))
        planes = (planes - planes.mean()) / planes.std()
        img = 128 + 40 * rng.uniform(0.3, 1.5) * planes + rng.uniform(-40, 40)
        img = np.clip(img, 0, 255).astype(np.uint8).transpose(1, 2, 0)
        Image.fromarray(img).save(os.path.join(out, f"img{i:05d}.png"), compress_level=1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: stream-folder.py OUT_DIR COUNT")
    main(sys.argv[1], int(sys.argv[2]))
