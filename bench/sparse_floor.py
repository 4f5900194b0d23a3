"""The recipe's sparse-work floor: the least time the work nabla actually does could take.

The dense floor (run_bench.py) divides the recipe's matrix-product FLOPs, done densely, by
the machine's peak sgemm rate. nabla does not do that work: 81% of MNIST's pixels are 0,
and it touches W1's rows for the nonzero pixels only. Its floor counts that work and the
memory it must move (docs/performance.md, "The two floors"):

- per nonzero pixel of a training image, the forward pass reads that pixel's row of W1
  (HIDDEN floats) and multiplies-adds it (2 * HIDDEN FLOPs); W1 (157 KB) does not fit in
  any L1, so the row comes from L2;
- the backward pass adds the pixel's value times the image's dY1 row into dW1's row
  (2 * HIDDEN FLOPs); dY1 (a batch's rows, 20 KB) stays in L1;
- the second layer (50 -> 10) is small and dense: 3 products per step, forward and
  backward, and the forward in each evaluation;
- each evaluation reads W1's row for every nonzero pixel of the 70,000 images.

Element-wise work, the SGD update of the touched rows and the softmax are left out, so
this is a lower bound. A 2-core program can at best share the work evenly, so

    floor = max(L2 bytes / (cores x one core's L2 read rate),
                FLOPs / (cores x one core's sgemm rate))

with both rates measured on the machine in the same run (`nabla_peak_gemm --one-core`).
"""
import gzip
import os
import re
import subprocess

FLOAT_BYTES = 4


def mean_nonzero_pixels(path):
    """Mean count of nonzero pixels per image of an IDX image file (or its .gz), or None."""
    for candidate, opener in ((path, open), (path + ".gz", gzip.open)):
        if os.path.exists(candidate):
            with opener(candidate, "rb") as f:
                data = f.read()
            images = int.from_bytes(data[4:8], "big")
            pixels = len(data) - 16
            if images == 0 or pixels <= 0:
                return None
            return (pixels - data.count(0, 16)) / images
    return None


def one_core_rates(program, env):
    """(one thread's sgemm GFLOP/s, its L2 read GB/s) from `nabla_peak_gemm --one-core`."""
    if not os.access(program, os.X_OK):
        return None, None
    proc = subprocess.run([program, "--one-core"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    match = re.search(r"ONECORE gflops=([0-9.]+) l2_read_gbytes=([0-9.]+)", proc.stdout)
    if proc.returncode != 0 or not match:
        return None, None
    return float(match.group(1)), float(match.group(2))


def recipe_sparse_work(data_dir, iters, evaluations, shape):
    """(L2 bytes, FLOPs, mean nonzeros per training image) of the recipe's sparse work, or
    (None, None, None) without the data. `shape`: (inputs, hidden, classes, batch,
    train_size, test_size)."""
    _inputs, hidden, classes, batch, train_size, test_size = shape
    nz_train = mean_nonzero_pixels(os.path.join(data_dir, "train-images-idx3-ubyte"))
    nz_test = mean_nonzero_pixels(os.path.join(data_dir, "t10k-images-idx3-ubyte"))
    if nz_train is None or nz_test is None:
        return None, None, None
    row_bytes = hidden * FLOAT_BYTES
    step_pairs = batch * nz_train  # (image, nonzero pixel) pairs in a batch
    step_flops = 2 * (2 * hidden * step_pairs) + 3 * (2 * batch * hidden * classes)
    eval_pairs = train_size * nz_train + test_size * nz_test
    eval_flops = 2 * hidden * eval_pairs + 2 * (train_size + test_size) * hidden * classes
    l2_bytes = iters * step_pairs * row_bytes + evaluations * eval_pairs * row_bytes
    flops = iters * step_flops + evaluations * eval_flops
    return l2_bytes, flops, nz_train


def floor_seconds(l2_bytes, flops, gflops_one_core, l2_gbytes_one_core, cores):
    """The sparse-work floor in seconds (see the module's docstring), or None."""
    if None in (l2_bytes, flops, gflops_one_core, l2_gbytes_one_core) or cores < 1:
        return None
    return max(l2_bytes / (cores * l2_gbytes_one_core * 1e9),
               flops / (cores * gflops_one_core * 1e9))
