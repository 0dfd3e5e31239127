#!/usr/bin/env python3
"""Evaluate a plate-OCR ONNX model (fast-plate-ocr convention) on real plate crops.

    python eval_crops.py --model ../plate_ocr.onnx --dir /work/shared/data/plates/us-crops

Reads DIR/groundtruth.csv (file,state,plate; header line optional); every listed crop is scored (none dropped).
Preprocessing: RGB, resize to 128x64 (no aspect keeping, bilinear), uint8 NHWC.
Decoding: argmax per slot, pad chars '_' dropped.

Metrics:
  exact     - predicted string == ground truth
  per-char  - 1 - (sum of Levenshtein distances / sum of ground-truth lengths),
              i.e. an edit-distance based character accuracy (clipped at 0 per plate is
              NOT applied; insertions count as errors)
  slot-char - position-wise: matches over max(len(truth), len(pred)) positions, summed
  ms/crop   - onnxruntime, 1 intra-op thread, batch 1, preprocessing excluded
"""
import argparse
import collections
import csv
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from PIL import Image  # noqa: E402

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"


def lev(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def load_img(path):
    im = Image.open(path).convert("RGB").resize((128, 64), Image.BILINEAR)
    return np.asarray(im, np.uint8)[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="../plate_ocr.onnx")
    ap.add_argument("--dir", default="/work/shared/data/plates/us-crops")
    ap.add_argument("--failures", help="write a contact sheet PNG of failures here")
    ap.add_argument("--list", action="store_true", help="print every failure")
    a = ap.parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    rows = []
    for rec in csv.reader(open(os.path.join(a.dir, "groundtruth.csv"))):
        if not rec or rec[0].strip().lower() == "file":  # optional header line
            continue
        rows.append({"file": rec[0].strip(), "state": rec[1].strip(), "plate": rec[2].strip()})
    n = len(rows)
    exact = 0
    ed_sum = len_sum = 0
    slot_ok = slot_tot = 0
    conf = collections.Counter()
    fails = []
    t_inf = 0.0
    per_state = collections.defaultdict(lambda: [0, 0])
    for r in rows:
        x = load_img(os.path.join(a.dir, r["file"]))
        t0 = time.perf_counter()
        p = sess.run(None, {"input": x})[0][0]
        t_inf += time.perf_counter() - t0
        pred = "".join(ALPHABET[i] for i in p.argmax(-1) if ALPHABET[i] != "_")
        gt = r["plate"].strip().upper()
        per_state[r["state"]][1] += 1
        if pred == gt:
            exact += 1
            per_state[r["state"]][0] += 1
        else:
            fails.append((r["file"], gt, pred))
        ed_sum += lev(gt, pred)
        len_sum += len(gt)
        m = max(len(gt), len(pred))
        slot_tot += m
        for i in range(m):
            tc = gt[i] if i < len(gt) else "_"
            pc = pred[i] if i < len(pred) else "_"
            if tc == pc:
                slot_ok += 1
            else:
                conf[(tc, pc)] += 1
    # speed: repeated runs on one crop after warm-up
    x = load_img(os.path.join(a.dir, rows[0]["file"]))
    for _ in range(20):
        sess.run(None, {"input": x})
    k = 500
    t0 = time.perf_counter()
    for _ in range(k):
        sess.run(None, {"input": x})
    ms = (time.perf_counter() - t0) / k * 1000

    print(f"crops evaluated: {n}")
    print(f"exact match: {exact}/{n} = {exact / n * 100:.2f}%")
    print(f"per-char accuracy (1 - edit distance / truth length): {(1 - ed_sum / len_sum) * 100:.2f}%")
    print(f"per-char accuracy (position-wise over max(len) slots): {slot_ok / slot_tot * 100:.2f}%")
    o0 = sum(1 for _, g, p in fails if g.replace("O", "0") == p.replace("O", "0"))
    print(f"(info) failures that differ only by O/0: {o0}")
    print(f"onnxruntime single-thread: {ms:.3f} ms/crop (mean over the dataset pass: {t_inf / n * 1000:.3f})")
    print("20 most frequent position-wise confusions (truth -> pred, '_' = missing/extra):")
    for (tc, pc), c in conf.most_common(20):
        print(f"  {tc} -> {pc}: {c}")
    worst = sorted(per_state.items(), key=lambda kv: kv[1][0] / kv[1][1])[:10]
    print("worst states:", ", ".join(f"{s} {ok}/{tot}" for s, (ok, tot) in worst))
    if a.list:
        for f, g, p in fails:
            print(f"  FAIL {f}: {g} -> {p}")
    if a.failures and fails:
        from PIL import ImageDraw
        cols, W, H = 6, 256, 128
        sel = fails[:72]
        sh = Image.new("RGB", (cols * W, ((len(sel) + cols - 1) // cols) * (H + 14)), "white")
        d = ImageDraw.Draw(sh)
        for i, (f, g, p) in enumerate(sel):
            im = Image.open(os.path.join(a.dir, f)).convert("RGB").resize((W, H))
            x0, y0 = (i % cols) * W, (i // cols) * (H + 14)
            sh.paste(im, (x0, y0))
            d.text((x0 + 2, y0 + H), f"{g} -> {p}", fill="black")
        sh.save(a.failures)
        print("failure sheet:", a.failures)


if __name__ == "__main__":
    main()
