#!/usr/bin/env python3
"""Writes corpora/wave: a small synthetic regression data set for `nabla train --task
regression`, made up here (no one else's data, so in the public domain).

    y = sin(2 x1) + 0.5 x2 - 0.25 x3^2 + e,   x1, x2, x3 ~ U(-2, 2),   e ~ N(0, 0.1^2)

wave.train.csv (600 rows) and wave.test.csv (200 rows), each "y,x1,x2,x3" then a row per
line with 5 decimals. On the test rows the true function's RMSE is 0.108 (the noise), the
least-squares straight line's 0.706 (it cannot bend). The same seed writes the same files
on every Python 3.

    python3 scripts/make_wave_csv.py [OUT_DIR]     (default: corpora/wave)
"""
import math
import os
import random
import sys


def rows(rng, n):
    out = []
    for _ in range(n):
        x = [rng.uniform(-2.0, 2.0) for _ in range(3)]
        y = math.sin(2 * x[0]) + 0.5 * x[1] - 0.25 * x[2] ** 2 + rng.gauss(0.0, 0.1)
        out.append([y] + x)
    return out


def write(path, data):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("y,x1,x2,x3\n")
        for row in data:
            f.write(",".join("%.5f" % v for v in row) + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "corpora", "wave")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2027)
    write(os.path.join(out, "wave.train.csv"), rows(rng, 600))
    write(os.path.join(out, "wave.test.csv"), rows(rng, 200))


if __name__ == "__main__":
    main()
