#!/usr/bin/python3
"""Pretrains the shipped byte model of issue 22 ("bytemlp") on the corpus of make_corpus.py, then
fine-tunes it at its integer precision (QAT) and writes the integer model for the exporter.

  /usr/bin/python3 python/pretrain.py --corpus runs/corpus --out runs/pretrain --minutes 40 [--resume]

The model predicts byte t from the N previous bytes (PAD before a document's start):
  x   = concat(E[b(t-1)], ..., E[b(t-N)])          E: (256, D) int8 levels / 2^SE
  h1  = q(relu(W1 x + b1))                         q: floor to 1/2^SH, clamp to [0, 255/2^SH]
  h2  = q(h1 + relu(W2 h1 + b2))
  z   = W3 h2 + b3                                 logits in nats, rounded to 1/256 on export
Weights are int8 levels / 2^SW (one power-of-two scale per matrix), so the integer path (TypeScript
and WGSL) computes every value exactly; see src/codec/pretrained/bytemlp.ts.
Resumable: runs/pretrain/ckpt.pt holds the model, the optimiser, the step and the time spent.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD = 0  # before a document's start: the NUL byte's embedding (the file's layout has 256 rows)
SH = 4  # activations: 8-bit unsigned, steps of 1/16


def ste_round(x):
    return x + (torch.round(x) - x).detach()


def ste_floor(x):
    return x + (torch.floor(x) - x).detach()


def weight_shift(w):
    m = float(w.detach().abs().max())
    return max(0, min(14, int(math.floor(math.log2(127.0 / max(m, 1e-6))))))


def fq_weight(w, s):
    return torch.clamp(ste_round(w * 2 ** s), -127, 127) / 2 ** s


def fq_act(h):
    return torch.clamp(ste_floor(h * 2 ** SH), 0, 255) / 2 ** SH


class ByteMLP(nn.Module):
    def __init__(self, ctx=16, dim=16, hidden=192):
        super().__init__()
        self.ctx, self.dim, self.hidden = ctx, dim, hidden
        self.emb = nn.Embedding(256, dim)
        self.l1 = nn.Linear(ctx * dim, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.l3 = nn.Linear(hidden, 256)
        nn.init.normal_(self.emb.weight, std=0.5)
        self.qat = False
        self.shifts = None

    def forward(self, ctxb):  # ctxb: (B, N) int64, column 0 = the previous byte
        if not self.qat:
            x = self.emb(ctxb).reshape(ctxb.shape[0], -1)
            h1 = F.relu(self.l1(x))
            h2 = h1 + F.relu(self.l2(h1))
            return self.l3(h2)
        s = self.shifts
        e = fq_weight(self.emb.weight, s['emb'])
        x = F.embedding(ctxb, e).reshape(ctxb.shape[0], -1)
        h1 = fq_act(F.relu(F.linear(x, fq_weight(self.l1.weight, s['l1']), self.l1.bias)))
        h2 = fq_act(h1 + F.relu(F.linear(h1, fq_weight(self.l2.weight, s['l2']), self.l2.bias)))
        return F.linear(h2, fq_weight(self.l3.weight, s['l3']), self.l3.bias)

    def freeze_shifts(self):
        self.shifts = {'emb': weight_shift(self.emb.weight), 'l1': weight_shift(self.l1.weight),
                       'l2': weight_shift(self.l2.weight), 'l3': weight_shift(self.l3.weight)}
        self.qat = True


class Corpus:
    def __init__(self, path, ctx, seed):
        self.data = np.fromfile(os.path.join(path, 'train.bin'), dtype=np.uint8)
        self.starts = np.load(os.path.join(path, 'starts.npy'))
        self.ctx = ctx
        self.rng = np.random.default_rng(seed)
        n = len(self.data)
        # the last 1% of every 100 KB block is the validation split
        self.valid = (np.arange(n) % 100_000) >= 99_000

    def batch(self, b, valid=False):
        n = len(self.data)
        t = self.rng.integers(1, n, size=b * 2)
        t = t[self.valid[t] == valid][:b]
        start = self.starts[np.searchsorted(self.starts, t, side='right') - 1]
        offs = t[:, None] - 1 - np.arange(self.ctx)[None, :]
        ctx = np.where(offs >= start[:, None], self.data[np.maximum(offs, 0)], PAD).astype(np.int64)
        return torch.from_numpy(ctx), torch.from_numpy(self.data[t].astype(np.int64))


def evaluate(model, corpus, batches=20, b=2048):
    model.eval()
    rng_state = corpus.rng.bit_generator.state
    corpus.rng = np.random.default_rng(12345)
    tot = 0.0
    with torch.no_grad():
        for _ in range(batches):
            x, y = corpus.batch(b, valid=True)
            tot += float(F.cross_entropy(model(x), y))
    corpus.rng.bit_generator.state = rng_state
    model.train()
    return tot / batches / math.log(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--corpus', default='runs/corpus')
    ap.add_argument('--out', default='runs/pretrain')
    ap.add_argument('--minutes', type=float, default=40.0, help='total training time (float + QAT)')
    ap.add_argument('--qat-fraction', type=float, default=0.2)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--ctx', type=int, default=16)
    ap.add_argument('--dim', type=int, default=16)
    ap.add_argument('--hidden', type=int, default=192)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--init-int', metavar='JSON', help='start from an integer model (scripts/dump-pretrained.ts of a shipped file)')
    ap.add_argument('--export-only', metavar='JSON', help='write the integer model of the checkpoint to JSON and stop')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, 'ckpt.pt')
    model = ByteMLP(a.ctx, a.dim, a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    step, spent, log = 0, 0.0, []
    if a.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        model.load_state_dict(st['model'])
        opt.load_state_dict(st['opt'])
        step, spent, log = st['step'], st['spent'], st['log']
        if st['shifts'] is not None:
            model.shifts, model.qat = st['shifts'], True
        print(f'resumed at step {step}, {spent / 60:.1f} min', flush=True)
    elif a.init_int:
        load_int(model, a.init_int)
        print(f'initialised from {a.init_int}', flush=True)
    if a.export_only:
        export(model, a.export_only, {'steps': step, 'minutes': spent / 60, 'qat': model.qat})
        return
    corpus = Corpus(a.corpus, a.ctx, seed=step + 7)
    budget = a.minutes * 60
    t0, last_save = time.time() - spent, time.time()
    while True:
        spent = time.time() - t0
        frac = spent / budget
        if frac >= 1:
            break
        if not model.qat and frac >= 1 - a.qat_fraction:
            model.freeze_shifts()
            print(f'QAT from step {step}: shifts {model.shifts}', flush=True)
        lr = a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        for g in opt.param_groups:
            g['lr'] = lr
        x, y = corpus.batch(a.batch)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0:
            log.append({'step': step, 'min': spent / 60, 'train_bpb': float(loss) / math.log(2), 'lr': lr})
            print(json.dumps(log[-1]), flush=True)
        if time.time() - last_save > 120:
            save(ckpt, model, opt, step, time.time() - t0, log)
            last_save = time.time()
    save(ckpt, model, opt, step, time.time() - t0, log)
    bpb = evaluate(model, corpus)
    print(f'done: {step} steps, {spent / 60:.1f} min, validation {bpb:.3f} bits/byte', flush=True)
    export(model, os.path.join(a.out, 'int-model.json'), {'steps': step, 'minutes': spent / 60, 'valid_bpb_qat': bpb,
                                                          'batch': a.batch, 'log': log[-5:]})


def load_int(model, path):
    """Float weights from an integer model (the inverse of export): levels / 2^shift, biases / their scale."""
    with open(path) as f:
        j = json.load(f)
    if (j['ctx'], j['dim'], j['hidden'], j['sh']) != (model.ctx, model.dim, model.hidden, SH):
        raise SystemExit(f"--init-int: {path} has ctx {j['ctx']} dim {j['dim']} hidden {j['hidden']} sh {j['sh']}")
    s = j['shifts']
    t = lambda k, shape, sc: torch.tensor(j[k], dtype=torch.float32).reshape(shape) / 2 ** sc
    h, n = model.hidden, model.ctx * model.dim
    with torch.no_grad():
        model.emb.weight.copy_(t('emb', (256, model.dim), s['emb']))
        model.l1.weight.copy_(t('w1', (h, n), s['l1']))
        model.l1.bias.copy_(t('b1', (h,), s['emb'] + s['l1']))
        model.l2.weight.copy_(t('w2', (h, h), s['l2']))
        model.l2.bias.copy_(t('b2', (h,), SH + s['l2']))
        model.l3.weight.copy_(t('w3', (256, h), s['l3']))
        model.l3.bias.copy_(t('b3', (256,), SH + s['l3']))


def save(path, model, opt, step, spent, log):
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'spent': spent, 'log': log,
                'shifts': model.shifts}, path + '.tmp')
    os.replace(path + '.tmp', path)


def export(model, path, info):
    """Integer levels and shifts: what the TypeScript exporter turns into the .slim.safetensors."""
    if model.shifts is None:
        model.freeze_shifts()
    s = model.shifts
    q = lambda w, k: torch.clamp(torch.round(w.detach() * 2 ** k), -127, 127).to(torch.int32).flatten().tolist()
    se, s1, s2, s3 = s['emb'], s['l1'], s['l2'], s['l3']
    # biases at the scale of their accumulators: l1 sums E·W1 (2^-(se+s1)), l2/l3 sum h·W (2^-(SH+s))
    qb = lambda b, k: torch.clamp(torch.round(b.detach() * 2 ** k), -(2 ** 24), 2 ** 24).to(torch.int32).tolist()
    out = {
        'ctx': model.ctx, 'dim': model.dim, 'hidden': model.hidden, 'sh': SH, 'shifts': s, 'info': info,
        'emb': q(model.emb.weight, se), 'w1': q(model.l1.weight, s1), 'b1': qb(model.l1.bias, se + s1),
        'w2': q(model.l2.weight, s2), 'b2': qb(model.l2.bias, SH + s2),
        'w3': q(model.l3.weight, s3), 'b3': qb(model.l3.bias, SH + s3),
    }
    with open(path + '.tmp', 'w') as f:
        json.dump(out, f)
    os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
