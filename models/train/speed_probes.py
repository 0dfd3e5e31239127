#!/usr/bin/env python3
"""Models for timing tract against onnxruntime with `gatehouse anpr bench --model`, not for reading.

Each probe is written as OUT/NAME.onnx with the shipped plate_ocr.yaml beside it, so that

    target/release/gatehouse anpr bench --model OUT/NAME.onnx --crops DIR --reads 800 --frames 2

times tract and onnxruntime on it in turns and prints their ratio. Three kinds:

- trunks (random weights; the shipped graph's head and decoder, another trunk): `base` (the
  shipped trunk), `dw` (depthwise-separable), `pw` (few-channel 3x3 convolutions, each followed
  by a wide 1x1), `s2d` (2x2 stride-2 patch convolutions and 1x1s, no overlapping windows);
- int8 (the shipped weights, onnxruntime's static quantisation of the convolutions, calibrated
  on 400 crops of the version-8 training set, not its validation tail): `int8_qdq`
  (QuantizeLinear/DequantizeLinear around float convolutions) and `int8_qop` (QLinearConv);
- rewrites (the shipped weights, the same numbers out): `collapse_1x1` (the 4x1 convolution
  that collapses the height becomes a reshape and a 1x1), `pad_u8` (the first convolution's
  padding is done on the uint8 input, top and left only), `pad_tl` (the first convolution pads
  top and left only: its stride never reads the bottom row or the right column).

    python speed_probes.py --out /tmp/probes [--only base,dw,...]
"""
import argparse
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import PlateCTC, cbr  # noqa: E402
from train_ocr import export  # noqa: E402

SHIPPED = os.path.join(HERE, "..", "plate_ocr.onnx")
CONFIG = os.path.join(HERE, "..", "plate_ocr.yaml")
CALIBRATION = "/root/.cache/gatehouse/anpr/synth-v8-60k/images.npy"
VALIDATION_TAIL = 7600  # train_ocr.py validates on the version-8 set's last 7 600


def separable(cin, cout, s=1):
    return [nn.Conv2d(cin, cin, 3, s, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True), *cbr(cin, cout, k=1)]


TRUNKS = {
    "base": None,
    "dw": lambda: [*cbr(3, 32, s=2), *separable(32, 64, s=2), *separable(64, 128),
                   *separable(128, 160, s=(2, 1)), *separable(160, 192, s=(2, 1)),
                   *cbr(192, 192, k=(4, 1), pad=0)],
    "pw": lambda: [*cbr(3, 24, s=2), *cbr(24, 48, s=2), *cbr(48, 32), *cbr(32, 96, k=1),
                   *cbr(96, 48, s=(2, 1)), *cbr(48, 128, k=1), *cbr(128, 64, s=(2, 1)),
                   *cbr(64, 192, k=1), *cbr(192, 192, k=(4, 1), pad=0)],
    "s2d": lambda: [*cbr(3, 32, k=2, s=2, pad=0), *cbr(32, 64, k=2, s=2, pad=0), *cbr(64, 96, k=1),
                    *cbr(96, 128, k=(2, 1), s=(2, 1), pad=0),
                    *cbr(128, 160, k=(2, 1), s=(2, 1), pad=0), *cbr(160, 192, k=(4, 1), pad=0)],
}


def trunk_probe(name, path):
    torch.manual_seed(0)
    model = PlateCTC()
    if TRUNKS[name] is not None:
        model.features = nn.Sequential(*TRUNKS[name]())
    for m in model.modules():  # statistics that fold into something other than the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    export(model, path)


def int8_probe(name, path):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    images = np.load(CALIBRATION, mmap_mode="r")
    picks = np.random.default_rng(0).choice(len(images) - VALIDATION_TAIL, 400, replace=False)

    class Crops(CalibrationDataReader):
        def __init__(self):
            self.it = iter(picks)

        def get_next(self):
            i = next(self.it, None)
            return None if i is None else {"input": np.ascontiguousarray(images[i:i + 1])}

    prepared = path + ".pre.onnx"
    quant_pre_process(SHIPPED, prepared)
    fmt = QuantFormat.QDQ if name == "int8_qdq" else QuantFormat.QOperator
    quantize_static(prepared, path, Crops(), quant_format=fmt, op_types_to_quantize=["Conv"],
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    os.remove(prepared)


def rewrite_probe(name, path):
    m = onnx.load(SHIPPED)
    g = m.graph
    weights = {i.name: i for i in g.initializer}
    node = {n.name: n for n in g.node}

    def set_attr(n, key, value):
        for a in n.attribute:
            if a.name == key:
                n.attribute.remove(a)
                break
        n.attribute.append(helper.make_attribute(key, value))

    if name == "collapse_1x1":
        conv = node["/features/features.15/Conv"]
        w = numpy_helper.to_array(weights[conv.input[1]])                 # 192, 128, 4, 1
        weights[conv.input[1]].CopyFrom(
            numpy_helper.from_array(w.reshape(w.shape[0], -1, 1, 1), conv.input[1]))
        g.initializer.append(numpy_helper.from_array(np.array([1, -1, 1, 32], np.int64), "flat_shape"))
        g.node.insert(list(g.node).index(conv),
                      helper.make_node("Reshape", [conv.input[0], "flat_shape"], ["flat"], name="flat"))
        conv.input[0] = "flat"
        set_attr(conv, "kernel_shape", [1, 1])
    elif name == "pad_u8":
        g.initializer.append(numpy_helper.from_array(np.array([0, 1, 1, 0, 0, 0, 0, 0], np.int64), "u8_pads"))
        g.node.insert(0, helper.make_node("Pad", ["input", "u8_pads"], ["padded"], name="pad_u8"))
        node["/Cast"].input[0] = "padded"
        set_attr(node["/features/features.0/Conv"], "pads", [0, 0, 0, 0])
    elif name == "pad_tl":
        set_attr(node["/features/features.0/Conv"], "pads", [1, 1, 0, 0])
    onnx.checker.check_model(m)
    onnx.save(m, path)
    same_reads(path)


def same_reads(path):
    """A rewrite must give the shipped model's output on every input."""
    import onnxruntime as ort
    a = ort.InferenceSession(SHIPPED, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(16):
        x = rng.integers(0, 256, (1, 64, 128, 3), dtype=np.uint8)
        worst = max(worst, float(np.abs(a.run(None, {"input": x})[0] - b.run(None, {"input": x})[0]).max()))
    print(f"{os.path.basename(path)}: max |difference| from the shipped model {worst:.2e}")
    assert worst < 1e-4, worst


PROBES = {**{n: trunk_probe for n in TRUNKS}, "int8_qdq": int8_probe, "int8_qop": int8_probe,
          "collapse_1x1": rewrite_probe, "pad_u8": rewrite_probe, "pad_tl": rewrite_probe}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default=",".join(PROBES), help="comma-separated: " + ", ".join(PROBES))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only.split(","):
        if name not in PROBES:
            sys.exit(f"unknown probe {name!r}: choose from {', '.join(PROBES)}")
        path = os.path.join(args.out, name + ".onnx")
        PROBES[name](name, path)
        shutil.copy(CONFIG, os.path.join(args.out, name + ".yaml"))
        print("wrote", path)


if __name__ == "__main__":
    main()
