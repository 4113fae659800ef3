#!/usr/bin/env python3
"""Compares distilled circuits written by different backends (plain Python, no numpy).

Usage: compare-circuits.py DIR [DIR ...]
Prints, for every circuit against the first: whether the grids (latents) are the same set and in
the same order, and the largest absolute difference of each leaf-parameter tensor.
"""
import json
import struct
import sys

FORMATS = {"F32": ("f", 4), "F64": ("d", 8), "I32": ("i", 4), "I64": ("q", 8)}


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        code, size = FORMATS[e["dtype"]]
        lo, hi = e["data_offsets"]
        count = (hi - lo) // size
        out[name] = (e["shape"], struct.unpack("<%d%s" % (count, code), data[lo:hi]))
    return out


def grids(t):
    shape, values = t["latents"]
    width = shape[1]
    return [tuple(values[i * width:(i + 1) * width]) for i in range(shape[0])]


def main(dirs):
    first = read(dirs[0] + "/circuit.safetensors")
    g0 = grids(first)
    for d in dirs[1:]:
        other = read(d + "/circuit.safetensors")
        g = grids(other)
        print("%s vs %s: %d grids; same set: %s; same order: %s" % (d, dirs[0], len(g), set(g) == set(g0), g == g0))
        for name, (shape, values) in first.items():
            if name in ("latents", "classes") or name not in other:
                continue
            diff = max(abs(a - b) for a, b in zip(values, other[name][1]))
            print("  %-12s %-14s max |difference| %.3g" % (name, shape, diff))


if __name__ == "__main__":
    main(sys.argv[1:])
