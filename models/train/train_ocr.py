#!/usr/bin/env python3
"""Train the Gatehouse plate-OCR CNN on a synth.py dataset and export ONNX.

    python train_ocr.py --data DIR --epochs E --out ../plate_ocr.onnx [--threads 1]

Loss: CTC over 32 time steps for --head ctc (the exported graph decodes in ONNX into the usual
slots); otherwise the sum over the 10 slots of cross-entropy (mean over the batch).
AdamW + OneCycle. The last --val-frac of the dataset is held out as synthetic
validation. --bf16 runs the forward pass under bfloat16 autocast with channels-last tensors (the
weights, the optimiser and the loss stay float32): about 1.5x the samples per second of the whole
training loop on a CPU with AVX512-BF16. --ema D also keeps an exponential moving average of the
weights (decay D per step); at the end the one of the two with the better synthetic-validation
exact match is exported. After training the model is exported (opset 13, NHWC uint8 input,
softmax output) and onnxruntime's output is checked against torch's.
"""
import argparse
import hashlib
import os
import random
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ALPHABET, BLANK, SLOTS, PlateCTC, PlateOCR, ctc_greedy, decode, encode, macs  # noqa: E402


def load(dirs):
    xs, ys = [], []
    for d in dirs.split(","):
        xs.append(np.load(os.path.join(d, "images.npy")))
        with open(os.path.join(d, "labels.txt")) as f:
            labs = [l.strip() for l in f if l.strip() != "" or True][: len(xs[-1])]
        ys.extend(labs)
    x = np.concatenate(xs) if len(xs) > 1 else xs[0]
    y = np.array([encode(t) for t in ys], np.int64)
    assert len(x) == len(y), (len(x), len(y))
    return x, y


def augment(xb, g):
    """Light online augmentation on a float NCHW batch: shift + brightness/contrast."""
    n = xb.shape[0]
    dx, dy = int(torch.randint(-3, 4, (1,), generator=g)), int(torch.randint(-2, 3, (1,), generator=g))
    if dx or dy:
        xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
    a = 1 + (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 0.3
    b = (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 0.2
    inv = (torch.rand(n, 1, 1, 1, generator=g) < 0.03).float()  # rare negative images
    xb = xb * a + b
    xb = xb * (1 - inv) + (1 - xb) * inv
    return xb.clamp(0, 1)


def to_float(xu8):
    return torch.from_numpy(xu8).permute(0, 3, 1, 2).float().div_(255.0)


def evaluate(model, x, y, bs=512):
    """Exact-match rate and per-slot rate (slots compared left-aligned, pads included)."""
    model.eval()
    ok = chars = 0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            xb, t = to_float(x[i:i + bs]), y[i:i + bs]
            if model.head_kind == "ctc":
                texts = ctc_greedy(model.step_logits(xb).argmax(-1).numpy())
                p = np.array([encode(s) for s in texts], np.int64)
            else:
                p = model.logits(xb).argmax(-1).numpy()
            ok += int((p == t).all(1).sum())
            chars += int((p == t).sum())
    return ok / len(x), chars / (len(x) * SLOTS)


def loss_of(model, xb, yb, label_smoothing, bf16=False):
    """Training loss of one batch: CTC over the time steps, or cross-entropy summed over slots.
    With `bf16` the network runs under bfloat16 autocast; the loss is taken in float32."""
    if model.head_kind == "ctc":
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            steps_logits = model.step_logits(xb)
        logp = F.log_softmax(steps_logits.float(), dim=-1).transpose(0, 1)   # T, N, A
        steps = torch.full((xb.shape[0],), logp.shape[0], dtype=torch.long)
        lengths = (yb != BLANK).sum(1)
        return F.ctc_loss(logp, yb, steps, lengths, blank=BLANK, zero_infinity=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model.logits(xb).float()
    return F.cross_entropy(logits.reshape(-1, len(ALPHABET)), yb.reshape(-1),
                           label_smoothing=label_smoothing) * SLOTS


def check_decoder(model, sess, x):
    """The exported graph's slots must say what greedy CTC decoding of the steps says."""
    differ = 0
    with torch.no_grad():
        steps = ctc_greedy(model.step_logits(to_float(x)).argmax(-1).numpy())
    for xi, want in zip(x, steps):
        got = decode(sess.run(None, {"input": xi[None]})[0][0].argmax(-1))
        differ += got != want[:SLOTS]
    print(f"in-graph CTC decoder vs python greedy decoding: {len(x) - differ}/{len(x)} agree")
    assert differ == 0


def export(model, path, samples=None):
    """Exports to ONNX and checks onnxruntime against torch (and, for CTC, the in-graph decoder
    against python's on `samples`, real uint8 NHWC images)."""
    model.eval()
    dummy = torch.zeros(1, 64, 128, 3, dtype=torch.uint8)
    torch.onnx.export(model, dummy, path, input_names=["input"], output_names=["plate"],
                      opset_version=13, dynamo=False, do_constant_folding=True)
    import onnx
    import onnxruntime as ort
    g = onnx.load(path)
    onnx.checker.check_model(g)
    print("onnx ops:", sorted({n.op_type for n in g.graph.node}))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    maxdiff = 0.0
    for _ in range(8):
        xi = rng.integers(0, 256, (1, 64, 128, 3), dtype=np.uint8)
        o = sess.run(None, {"input": xi})[0]
        with torch.no_grad():
            t = model(torch.from_numpy(xi)).numpy()
        assert o.shape == (1, SLOTS, len(ALPHABET)), o.shape
        maxdiff = max(maxdiff, float(np.abs(o - t).max()))
    print(f"onnxruntime vs torch max |diff| = {maxdiff:.2e}")
    assert maxdiff < 1e-4
    if model.head_kind == "ctc" and samples is not None:
        check_decoder(model, sess, samples)
    xi = rng.integers(0, 256, (1, 64, 128, 3), dtype=np.uint8)
    for _ in range(20):
        sess.run(None, {"input": xi})
    n = 300
    t0 = time.perf_counter()
    for _ in range(n):
        sess.run(None, {"input": xi})
    print(f"onnxruntime single-thread: {(time.perf_counter() - t0) / n * 1000:.3f} ms/crop")
    h = hashlib.sha256(open(path, "rb").read()).hexdigest()
    print(f"wrote {path} sha256={h}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="dataset dir(s) from synth.py, comma separated")
    ap.add_argument("--epochs", type=int, default=10, help="0 with --init: export that checkpoint again")
    ap.add_argument("--out", default="../plate_ocr.onnx")
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--width", type=float, default=0.75)
    ap.add_argument("--head", default="fc", choices=["fc", "attn", "ctc"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--val-frac", type=float, default=0.02)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--ckpt", default=None, help="save state_dict here (default: OUT.pt next to /tmp)")
    ap.add_argument("--init", default=None, help="start from this state_dict (fine-tuning) instead of random weights")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast and channels-last for the forward pass")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="also keep an exponential moving average of the weights with this decay per step "
                         "(0: off); the better of the two on synthetic validation is exported")
    a = ap.parse_args()
    if a.epochs == 0 and not a.init:
        ap.error("--epochs 0 exports the --init checkpoint; give --init")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    random.seed(a.seed)

    t_start = time.time()
    x, y = load(a.data)
    nval = max(200, int(len(x) * a.val_frac))
    xtr, ytr, xva, yva = x[:-nval], y[:-nval], x[-nval:], y[-nval:]
    print(f"train {len(xtr)}  val {len(xva)}  (loaded in {time.time() - t_start:.0f}s)")

    model = PlateCTC(width=a.width) if a.head == "ctc" else PlateOCR(width=a.width, head=a.head)
    print(f"model MACs {macs(model) / 1e6:.1f}M params {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M")
    if a.init:
        model.load_state_dict(torch.load(a.init, map_location="cpu"))
        acc, cacc = evaluate(model, xva, yva)
        print(f"initial weights {a.init}: synth-val exact {acc * 100:.2f}% slot {cacc * 100:.2f}%", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    steps_per_epoch = len(xtr) // a.bs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=max(1, a.epochs * steps_per_epoch),
                                                pct_start=0.15, div_factor=20, final_div_factor=200)
    if a.bf16:
        model = model.to(memory_format=torch.channels_last)
    ema = None
    if a.ema > 0 and a.epochs > 0:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(a.ema), use_buffers=True)
    g = torch.Generator().manual_seed(a.seed)
    ytr_t = torch.from_numpy(ytr)
    for ep in range(a.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=g).numpy()
        tot = 0.0
        for s in range(steps_per_epoch):
            idx = np.sort(perm[s * a.bs:(s + 1) * a.bs])
            xb = augment(to_float(xtr[idx]), g)
            if a.bf16:
                xb = xb.contiguous(memory_format=torch.channels_last)
            yb = ytr_t[idx]
            loss = loss_of(model, xb, yb, a.label_smoothing, a.bf16)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            tot += loss.item()
            if s % 200 == 0 and s:
                print(f"  ep {ep + 1} step {s}/{steps_per_epoch} loss {tot / (s + 1):.3f} "
                      f"{(s + 1) * a.bs / (time.time() - t0):.0f} samples/s", flush=True)
        acc, cacc = evaluate(model, xva, yva)
        print(f"epoch {ep + 1}/{a.epochs} loss {tot / steps_per_epoch:.4f} synth-val exact {acc * 100:.2f}% "
              f"slot {cacc * 100:.2f}%  ({time.time() - t0:.0f}s)", flush=True)
        if ema is not None:
            ema_acc, ema_cacc = evaluate(ema.module, xva, yva)
            print(f"  ema weights: synth-val exact {ema_acc * 100:.2f}% slot {ema_cacc * 100:.2f}%", flush=True)
    model = model.to(memory_format=torch.contiguous_format)
    ckpt = a.ckpt or os.path.splitext(a.out)[0] + ".pt"
    if a.ckpt is None:
        ckpt = os.path.join("/tmp", os.path.basename(ckpt))
    if ema is not None:
        ema_model = ema.module.to(memory_format=torch.contiguous_format)
        ema_ckpt = os.path.splitext(ckpt)[0] + "_ema.pt"
        torch.save(model.state_dict(), os.path.splitext(ckpt)[0] + "_last.pt")
        torch.save(ema_model.state_dict(), ema_ckpt)
        if ema_acc > acc:
            print(f"exporting the ema weights: synth-val exact {ema_acc * 100:.2f}% > {acc * 100:.2f}% (last)")
            model = ema_model
        else:
            print(f"exporting the last weights: synth-val exact {acc * 100:.2f}% >= {ema_acc * 100:.2f}% (ema)")
    torch.save(model.state_dict(), ckpt)
    print("checkpoint", ckpt)
    export(model, a.out, samples=xva[:500])
    print(f"total training wall-clock {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
