"""Times a plate model under onnxruntime on one thread, for `gatehouse anpr bench`.

Prints one JSON object: p50/p99/mean milliseconds of the model alone on one fixed input, and
each run's milliseconds (times_ms) for gatehouse to pool with its other rounds.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--runs", type=int, default=500)
    args = ap.parse_args()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    x = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    for _ in range(20):
        sess.run(None, {inp.name: x})
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        sess.run(None, {inp.name: x})
        times.append(time.perf_counter() - t)
    times.sort()
    ms = lambda s: round(s * 1000, 3)
    print(json.dumps({
        "p50_ms": ms(times[len(times) // 2]),
        "p99_ms": ms(times[min(len(times) - 1, int(len(times) * 0.99))]),
        "mean_ms": ms(sum(times) / len(times)),
        "n": len(times),
        "times_ms": [t * 1000 for t in times],
        "onnxruntime": ort.__version__,
    }))


if __name__ == "__main__":
    main()
