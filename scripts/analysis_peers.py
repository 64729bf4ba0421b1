#!/usr/bin/env python3
"""Time independent peers on the matrices `bench_analysis --dump DIR` wrote, so xcert's
item analysis is measured beside them on the same data in the same run.

  python3 scripts/analysis_peers.py DIR

CTT: numpy (facility, item-rest correlation, upper-lower 27 % index, Cronbach's alpha).
2PL: girth's twopl_mml (marginal maximum likelihood). Needs `pip install numpy girth`.
"""
import sys
import time
from pathlib import Path

import numpy as np


def load(d, name):
    n, k = map(int, (d / f"{name}.shape").read_text().split())
    return np.fromfile(d / f"{name}.u8", dtype=np.uint8).reshape(n, k)


def ctt(x):
    x = x.astype(np.float64)
    n, k = x.shape
    total = x.sum(axis=1)
    p = x.mean(axis=0)
    var_items = x.var(axis=0, ddof=1)
    var_total = total.var(ddof=1)
    alpha = k / (k - 1) * (1 - var_items.sum() / var_total)
    rest = total[:, None] - x
    xc = x - p
    rc = rest - rest.mean(axis=0)
    r_rest = (xc * rc).sum(axis=0) / np.sqrt((xc**2).sum(axis=0) * (rc**2).sum(axis=0))
    g = int(round(0.27 * n))
    order = np.argsort(total, kind="stable")
    d_index = x[order[-g:]].mean(axis=0) - x[order[:g]].mean(axis=0)
    return alpha, p, r_rest, d_index


def main():
    d = Path(sys.argv[1])
    rows = []
    if (d / "ctt.u8").exists():
        x = load(d, "ctt")
        t = time.perf_counter()
        alpha, *_ = ctt(x)
        rows.append((f"numpy CTT {x.shape[0]} × {x.shape[1]}", time.perf_counter() - t, f"alpha {alpha:.4f}"))
    if (d / "irt.u8").exists():
        from girth import twopl_mml

        y = load(d, "irt")
        t = time.perf_counter()
        est = twopl_mml(y.T.astype(np.int64))
        a = est["Discrimination"]
        rows.append((f"girth twopl_mml {y.shape[0]} × {y.shape[1]}", time.perf_counter() - t, f"mean a {np.mean(a):.4f}"))
    for name, secs, note in rows:
        print(f"| {name:<44} | {secs:9.2f} s | {note}")


if __name__ == "__main__":
    main()
