#!/usr/bin/env python3
"""PyTorch (Python API) side of the `plateau bench-train` speed comparison.

Times training steps (forward, backward, Adam) of the same fastMRI U-Net as
plateau-experiments' `UNet::forward` (conv 3x3 no bias, InstanceNorm2d without affine,
LeakyReLU 0.2, 2x2 max-pool, 2x2 transposed conv, skip concatenation, 1x1 output conv) on
random grayscale data (on --device), after a warm-up, and prints `images_per_s=<value>` as its last line.

--precision bf16 / fp16 is PyTorch's own mixed precision, the idiomatic equivalent of
`plateau bench-train --precision`: fp32 weights and Adam, the forward under
`torch.autocast(dtype=bfloat16 / float16)`, the loss in fp32, and for fp16 a `torch.amp.GradScaler`.
(autocast chooses per op which run reduced; plateau casts every layer, so the two are
comparable in cost, not bit for bit.)

Run it with scripts/bench-pytorch.sh, which puts the project's LibTorch wheel
(.deps/libtorch-2.11.0) and torch's pure-Python dependencies (.deps/py-bench) on PYTHONPATH.
"""
import argparse
import time

import torch
from torch import nn
import torch.nn.functional as F


def conv_block(cin, cout):
    """Two 3x3 convolutions (no bias), each followed by InstanceNorm2d and LeakyReLU 0.2."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.InstanceNorm2d(cout),
        nn.LeakyReLU(0.2),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.InstanceNorm2d(cout),
        nn.LeakyReLU(0.2),
    )


def transpose_block(cin, cout):
    """A 2x2 stride-2 transposed convolution (no bias), InstanceNorm2d and LeakyReLU 0.2."""
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 2, stride=2, bias=False),
        nn.InstanceNorm2d(cout),
        nn.LeakyReLU(0.2),
    )


class Unet(nn.Module):
    def __init__(self, chans, pools):
        super().__init__()
        self.down = nn.ModuleList([conv_block(1, chans)])
        ch = chans
        for _ in range(pools - 1):
            self.down.append(conv_block(ch, ch * 2))
            ch *= 2
        self.bottom = conv_block(ch, ch * 2)
        self.up_t = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(pools):
            self.up_t.append(transpose_block(ch * 2, ch))
            self.up.append(conv_block(ch * 2, ch))
            if i + 1 < pools:
                ch //= 2
        self.last = nn.Conv2d(ch, 1, 1)

    def forward(self, x):
        stack = []
        for layer in self.down:
            x = layer(x)
            stack.append(x)
            x = F.max_pool2d(x, 2, 2)
        x = self.bottom(x)
        for t, layer in zip(self.up_t, self.up):
            x = layer(torch.cat([t(x), stack.pop()], dim=1))
        return self.last(x)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--pools", type=int, default=2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    a = p.parse_args()
    torch.manual_seed(0)
    dev = torch.device(a.device)
    net = Unet(a.channels, a.pools).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(a.batch_size, 1, a.image_size, a.image_size, device=dev)
    y = x + 0.1 * torch.randn_like(x)

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.precision)
    scaler = torch.amp.GradScaler(dev.type, enabled=a.precision == "fp16")

    def step():
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            out = net(y)
        loss = F.mse_loss(out.float(), x)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.item()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        last = step()
    seconds = time.perf_counter() - start
    params = sum(t.numel() for t in net.parameters())
    print(f"torch={torch.__version__} params={params} threads={torch.get_num_threads()} "
          f"precision={a.precision} seconds={seconds:.3f} loss={last:.4g}")
    print(f"images_per_s={a.steps * a.batch_size / seconds:.2f}")


if __name__ == "__main__":
    main()
