"""Trains slimgpu's learned image codec (issue 19) with PyTorch on the CPU and exports it for
src/image (the synthesis transform runs on the GPU through slimgpu's kernels at decode time).

Model (Ballé et al. 2017, ReLU instead of GDN, one latent scale):
  analysis  g_a: conv5x5/2 (C->N) relu, conv5x5/2 (N->N) relu, conv5x5/2 (N->M)
  synthesis g_s: convT5x5/2 (M->N) relu, convT5x5/2 (N->N) relu, convT5x5/2 (N->C)
  latent: uniform noise in training, rounding at test; a factorised entropy model per channel
  (Ballé et al. 2018's monotone cumulative MLP, 1-3-3-3-1); loss = bpp + lambda * 255^2 * MSE.
Export: safetensors with the f32 weights (torch layouts: conv (OC, C, K, K), convT (C_in, C_out, K, K))
and, per latent channel, an integer offset and 256 integer frequencies summing to 2^16 (symbols
0..254 = offset-127..offset+127, 255 = escape): the tables the range coder uses, computed once here.

Usage: /usr/bin/python3 python/image_codec.py --data rgb|fashion --lmbda 0.01 --steps 3000
         --out models/img/rgb-3.safetensors [--init other.safetensors] [--n 48 --m 48]
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np  # noqa: E402

PATCH_DIR = "results/cache/image-patches"
FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
FREQ_TOTAL = 1 << 16
HALF = 127  # symbols cover offset-127..offset+127; 255 is the escape


class Factorized(nn.Module):
    """Ballé et al. 2018 factorised density: a monotone MLP per channel gives the CDF logits."""

    def __init__(self, channels, filters=(3, 3, 3), init_scale=10.0):
        super().__init__()
        f = (1,) + filters + (1,)
        scale = init_scale ** (1 / (len(filters) + 1))
        self.mats, self.biases, self.factors = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1 / scale / f[i + 1]))
            self.mats.append(nn.Parameter(torch.full((channels, f[i + 1], f[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, f[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, f[i + 1], 1)))

    def logits_cdf(self, x):  # x: (C, 1, K)
        for i in range(len(self.mats)):
            x = torch.matmul(F.softplus(self.mats[i]), x) + self.biases[i]
            if i < len(self.factors):
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def likelihood(self, y):  # y: (B, C, H, W)
        c = y.shape[1]
        v = y.transpose(0, 1).reshape(c, 1, -1)
        lo, up = self.logits_cdf(v - 0.5), self.logits_cdf(v + 0.5)
        sign = -torch.sign(lo + up).detach()
        lik = torch.abs(torch.sigmoid(sign * up) - torch.sigmoid(sign * lo))
        return lik.clamp_min(1e-9).reshape(c, y.shape[0], *y.shape[2:]).transpose(0, 1)


def phase_weight(w):
    """A 5x5 stride-2 transposed conv (padding 2, output padding 1; torch layout (Cin, Cout, 5, 5)) as
    one 3x3 conv (padding 1) with 4*Cout outputs + pixel_shuffle(2): the same function (checked in
    --selftest), ~7x faster on the CPU than torch 1.13's conv_transpose2d with its backward."""
    cin, cout = w.shape[:2]
    wt = w.permute(1, 0, 2, 3)
    rows = []
    for py in (0, 1):
        for px in (0, 1):
            k = w.new_zeros(cout, cin, 3, 3)
            for ky, dy in TAPS[py]:
                for kx, dx in TAPS[px]:
                    k[:, :, dy, dx] = wt[:, :, ky, kx]
            rows.append(k)
    return torch.stack(rows, 1).reshape(cout * 4, cin, 3, 3)


# output phase -> (kernel tap, 3x3 window index): even outputs take taps 0,2,4, odd ones 1,3
TAPS = {0: [(0, 2), (2, 1), (4, 0)], 1: [(1, 2), (3, 1)]}


def conv_t(layer, x):
    return F.pixel_shuffle(F.conv2d(x, phase_weight(layer.weight), padding=1), 2) + layer.bias.view(1, -1, 1, 1)


class GDN(nn.Module):
    """Ballé's generalised divisive normalisation (inverse=True: IGDN), reparametrised beta/gamma >= 0."""

    def __init__(self, ch, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.beta = nn.Parameter(torch.ones(ch))
        self.gamma = nn.Parameter(0.1 * torch.eye(ch))

    def forward(self, x):
        beta, gamma = self.beta.abs() + 1e-6, self.gamma.abs()
        norm = torch.sqrt(F.conv2d(x * x, gamma.view(*gamma.shape, 1, 1), beta))
        return x * norm if self.inverse else x / norm


class Codec(nn.Module):
    def __init__(self, c, n, m, nonlin="relu"):
        super().__init__()
        self.a = nn.ModuleList([nn.Conv2d(c, n, 5, 2, 2), nn.Conv2d(n, n, 5, 2, 2), nn.Conv2d(n, m, 5, 2, 2)])
        self.s = nn.ModuleList([nn.ConvTranspose2d(m, n, 5, 2, 2, 1), nn.ConvTranspose2d(n, n, 5, 2, 2, 1),
                                nn.ConvTranspose2d(n, c, 5, 2, 2, 1)])
        self.nonlin = nonlin
        if nonlin == "gdn":
            self.ga = nn.ModuleList([GDN(n), GDN(n)])
            self.gs = nn.ModuleList([GDN(n, True), GDN(n, True)])
        self.ent = Factorized(m)
        self.masks = {}  # Deep Compression: parameter name -> 0/1 mask kept at zero while fine-tuning

    def act(self, x, i, side):
        return getattr(self, side)[i](x) if self.nonlin == "gdn" else F.relu(x)

    def analysis(self, x):
        for i, l in enumerate(self.a):
            x = l(x)
            if i < len(self.a) - 1:
                x = self.act(x, i, "ga")
        return x

    def synthesis(self, y):
        for i, l in enumerate(self.s):
            y = conv_t(l, y)
            if i < len(self.s) - 1:
                y = self.act(y, i, "gs")
        return y

    def forward(self, x, noise=True):
        y = self.analysis(x)
        yq = y + torch.empty_like(y).uniform_(-0.5, 0.5) if noise else torch.round(y)
        return self.synthesis(yq), self.ent.likelihood(yq)


def load_data(kind, split="train"):
    if kind == "rgb":
        raw = np.fromfile(os.path.join(PATCH_DIR, f"photo-rgb64-{split}.u8"), dtype=np.uint8)
        return torch.from_numpy(raw.reshape(-1, 64, 64, 3).transpose(0, 3, 1, 2).copy())
    with gzip.open(FASHION if split == "train" else FASHION.replace("train-", "t10k-")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    # the codec pads to a multiple of 8 by repeating the last row/column: train on the same
    return torch.from_numpy(np.pad(raw, ((0, 0), (0, 0), (0, 4), (0, 4)), mode="edge").copy())


def batch_of(data, bs, gen, crop):
    idx = torch.randint(0, data.shape[0], (bs,), generator=gen)
    x = data[idx].float() / 255
    if crop and crop < x.shape[2]:
        oy, ox = torch.randint(0, x.shape[2] - crop + 1, (2,), generator=gen).tolist()
        x = x[:, :, oy:oy + crop, ox:ox + crop]
    if torch.rand(1, generator=gen).item() < 0.5:
        x = x.flip(3)
    return x


STEPS = [0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0]  # latent quantisation steps: qualities 8 (best) .. 1


@torch.no_grad()
def tables(model, step):
    """Per channel, for latents quantised as round(y / step): an integer offset (the rounded median)
    and 256 frequencies summing to 2^16 (symbol k <-> value offset + k - 127; 255 = escape)."""
    m = model.ent.mats[0].shape[0]
    grid = torch.arange(-2000, 2001, dtype=torch.float32) * 0.05
    cdf = torch.sigmoid(model.ent.logits_cdf(grid.view(1, 1, -1).expand(m, 1, -1))).squeeze(1)
    median = grid[torch.argmin((cdf - 0.5).abs(), dim=1)]
    offsets = torch.round(median / step).to(torch.int64)
    freqs = np.zeros((m, 256), dtype=np.int64)
    for c in range(m):
        v = (torch.arange(-HALF, HALF + 1, dtype=torch.float32) + offsets[c]) * step
        lo = torch.sigmoid(model.ent.logits_cdf((v - step / 2).view(1, 1, -1).expand(m, 1, -1))[c, 0])
        up = torch.sigmoid(model.ent.logits_cdf((v + step / 2).view(1, 1, -1).expand(m, 1, -1))[c, 0])
        p = (up - lo).clamp_min(0).double().numpy()
        p = np.append(p, max(1.0 - p.sum(), 0.0))  # escape mass
        f = np.maximum(1, np.floor(p * (FREQ_TOTAL - 256)).astype(np.int64))
        f[np.argmax(f)] += FREQ_TOTAL - f.sum()
        assert f.min() >= 1 and f.sum() == FREQ_TOTAL
        freqs[c] = f
    return offsets.numpy().astype(np.int32), freqs.astype(np.uint16)


def export(model, path, meta):
    t = {}
    for i, l in enumerate(model.a):
        t[f"a{i}.w"], t[f"a{i}.b"] = l.weight.detach().numpy(), l.bias.detach().numpy()
    for i, l in enumerate(model.s):
        t[f"s{i}.w"], t[f"s{i}.b"] = l.weight.detach().numpy(), l.bias.detach().numpy()
    if model.nonlin == "gdn":
        for side in ("ga", "gs"):
            for i, g in enumerate(getattr(model, side)):
                t[f"{side}{i}.beta"], t[f"{side}{i}.gamma"] = g.beta.detach().numpy(), g.gamma.detach().numpy()
    t["ent.steps"] = np.array(STEPS, dtype=np.float32)
    for q, step in enumerate(STEPS):
        t[f"ent.offset.{q}"], t[f"ent.freq.{q}"] = tables(model, step)
    sd = {k: v.detach().numpy() for k, v in model.ent.state_dict().items()}
    for k, v in sd.items():
        t["entf." + k] = v  # the float density (for training resumption only; decoding uses ent.*)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    safetensors_np.write(path, {k: np.ascontiguousarray(v.astype(v.dtype)) for k, v in t.items()},
                         {k: str(v) for k, v in meta.items()})


def load_init(model, path):
    t, _ = safetensors_np.read(path)
    for i, l in enumerate(model.a):
        l.weight.data, l.bias.data = torch.from_numpy(t[f"a{i}.w"]), torch.from_numpy(t[f"a{i}.b"])
    for i, l in enumerate(model.s):
        l.weight.data, l.bias.data = torch.from_numpy(t[f"s{i}.w"]), torch.from_numpy(t[f"s{i}.b"])
    model.ent.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in t.items() if k.startswith("entf.")})
    if model.nonlin == "gdn":
        for side in ("ga", "gs"):
            for i, g in enumerate(getattr(model, side)):
                g.beta.data, g.gamma.data = torch.from_numpy(t[f"{side}{i}.beta"]), torch.from_numpy(t[f"{side}{i}.gamma"])


@torch.no_grad()
def evaluate(model, data, crop_to, step=1.0, limit=500):
    """Held-out R-D with real rounding at a quantisation step: (bpp, mean PSNR over images), bpp =
    the ideal code length under the float density (the integer tables add <0.5%) per real pixel."""
    x = data[:limit].float() / 255
    y = model.analysis(x)
    q = torch.round(y / step)
    xh = model.synthesis(q * step).clamp(0, 1)
    v = q * step
    c = v.shape[1]
    vv = v.transpose(0, 1).reshape(c, 1, -1)
    lo, up = model.ent.logits_cdf(vv - step / 2), model.ent.logits_cdf(vv + step / 2)
    sign = -torch.sign(lo + up)
    lik = torch.abs(torch.sigmoid(sign * up) - torch.sigmoid(sign * lo)).clamp_min(1e-9)
    bits = -torch.log2(lik).sum().item()
    h, w = crop_to
    xr = torch.round(xh[:, :, :h, :w] * 255)
    mse = ((xr - torch.round(x[:, :, :h, :w] * 255)) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-3)
    psnr = (10 * torch.log10(255 ** 2 / mse)).mean().item()
    return bits / (x.shape[0] * h * w), psnr


def deep_compress_synthesis(model, prune, bits):
    """Han et al.: magnitude-prune each synthesis weight tensor to `prune` sparsity (mask kept while
    fine-tuning) and, when bits > 0, share the survivors among 2^bits k-means centroids (then frozen)."""
    for i, l in enumerate(model.s):
        w = l.weight.data
        k = int(prune * w.numel())
        if k > 0:
            thr = w.abs().flatten().kthvalue(k).values
            model.masks[f"s{i}"] = (w.abs() > thr).float()
            w.mul_(model.masks[f"s{i}"])
        if bits > 0:
            nz = w[w != 0]
            cent = torch.linspace(nz.min().item(), nz.max().item(), 2 ** bits)  # linear init (Han et al.)
            for _ in range(30):
                idx = torch.argmin((nz.view(-1, 1) - cent.view(1, -1)).abs(), dim=1)
                for j in range(cent.numel()):
                    sel = nz[idx == j]
                    if sel.numel():
                        cent[j] = sel.mean()
            idx = torch.argmin((w.view(-1, 1) - cent.view(1, -1)).abs(), dim=1)
            shared = cent[idx].view_as(w) * (w != 0)
            l.weight.data.copy_(shared)
            l.weight.requires_grad_(False)


def apply_masks(model):
    for i, l in enumerate(model.s):
        if f"s{i}" in model.masks and l.weight.requires_grad:
            l.weight.data.mul_(model.masks[f"s{i}"])


def selftest():
    """Prints JSON for tests/image-trainer-twin.test.ts: the phase-conv synthesis against torch's
    conv_transpose2d, and the factorised density's bits for given values (the kernels' twin)."""
    import json
    torch.manual_seed(3)
    err = 0.0
    for cin, cout, h, w in [(3, 5, 4, 6), (32, 1, 3, 3)]:
        layer = nn.ConvTranspose2d(cin, cout, 5, 2, 2, 1)
        x = torch.randn(2, cin, h, w)
        err = max(err, (conv_t(layer, x) - layer(x)).abs().max().item())
    ent = Factorized(3)
    with torch.no_grad():
        for prm in ent.parameters():
            prm.add_(torch.rand_like(prm) - 0.5)
    y = torch.tensor([[-7.3, -1.2, 0.0, 0.4, 2.6, 15.0]]).repeat(2, 3, 1).view(2, 3, 2, 3) * torch.tensor([1.0, 0.5, 2.0]).view(1, 3, 1, 1)
    bits = -torch.log2(ent.likelihood(y))
    sd = {"entf." + k: {"shape": list(v.shape), "data": v.detach().flatten().tolist()} for k, v in ent.state_dict().items()}
    print(json.dumps({"convtMaxErr": err, "y": y.flatten().tolist(), "bits": bits.detach().flatten().tolist(), "entf": sd}))


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", choices=["rgb", "fashion"], required=True)
    ap.add_argument("--lmbda", type=float, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--m", type=int, default=48)
    ap.add_argument("--nonlin", choices=["relu", "gdn"], default="relu", help="gdn: measured only (src/image runs ReLU)")
    ap.add_argument("--crop", type=int, default=0, help="train on random crops of this size")
    ap.add_argument("--minutes", type=float, default=1e9, help="stop (and export) after this wall time")
    ap.add_argument("--save-every", type=float, default=5.0, help="minutes between checkpoints (to --out)")
    ap.add_argument("--resume", action="store_true", help="continue from --out (its weights and step count) if it exists")
    ap.add_argument("--prune", type=float, default=0.0, help="Deep Compression: prune the synthesis to this sparsity")
    ap.add_argument("--share-bits", type=int, default=0, help="...and share its weights among 2^bits centroids")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--init")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


def save(model, args, c, step, path):
    meta = {"kind": "slimgpu-image-codec", "data": args.data, "lambda": args.lmbda, "steps": step, "channels": c,
            "n": args.n, "m": args.m, "arch": f"balle17-{args.nonlin}-3x5x5s2", "prune": args.prune,
            "share_bits": args.share_bits}
    export(model, path, meta)


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    data = load_data(args.data)
    test = load_data(args.data, "heldout" if args.data == "rgb" else "test")
    crop_to = (64, 64) if args.data == "rgb" else (28, 28)
    c = data.shape[1]
    model = Codec(c, args.n, args.m, args.nonlin)
    done = 0
    if args.resume and os.path.exists(args.out):
        load_init(model, args.out)
        done = int(safetensors_np.read(args.out)[1].get("steps", "0"))
        print(f"resuming {args.out} at step {done}")
    elif args.init:
        load_init(model, args.init)
    if args.eval_only:
        for st in STEPS:
            print("eval step %.2f: bpp %.3f psnr %.2f" % ((st,) + evaluate(model, test, crop_to, st)), flush=True)
        return
    if args.prune > 0 or args.share_bits > 0:
        deep_compress_synthesis(model, args.prune, 0)
    train(model, args, data, test, crop_to, c, done)


def train(model, args, data, test, crop_to, c, done):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed + done)
    t0, avg, saved = time.time(), None, time.time()
    decayed, shared = False, False
    step = done
    for step in range(done + 1, args.steps + 1):
        spent = time.time() - t0
        if spent > args.minutes * 60:
            step -= 1
            break
        if args.share_bits > 0 and not shared and (step >= done + (args.steps - done) // 2 or spent > args.minutes * 30):
            shared = True  # share the pruned synthesis, freeze it, fine-tune the encoder + entropy model
            deep_compress_synthesis(model, 0.0, args.share_bits)
            opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
        if not decayed and (step >= args.steps * 0.8 or spent > args.minutes * 48):
            decayed = True
            for g in opt.param_groups:
                g["lr"] = args.lr / 10
        x = batch_of(data, args.batch, gen, args.crop)
        xh, lik = model(x)
        bpp = -torch.log2(lik).sum() / (x.shape[0] * x.shape[2] * x.shape[3])
        mse = F.mse_loss(xh, x)
        loss = bpp + args.lmbda * 255 ** 2 * mse
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        apply_masks(model)
        cur = np.array([loss.item(), bpp.item(), 10 * math.log10(1 / max(mse.item(), 1e-10))])
        avg = cur if avg is None else 0.98 * avg + 0.02 * cur
        if step % 100 == 0:
            print(f"step {step} loss {avg[0]:.3f} bpp {avg[1]:.3f} psnr {avg[2]:.2f} ({time.time() - t0:.0f}s)", flush=True)
        if time.time() - saved > args.save_every * 60:
            save(model, args, c, step, args.out)
            saved = time.time()
    save(model, args, c, step, args.out)
    print("held-out at step 1: bpp %.3f psnr %.2f" % evaluate(model, test, crop_to), flush=True)
    print(f"wrote {args.out} (step {step})")


if __name__ == "__main__":
    main()
