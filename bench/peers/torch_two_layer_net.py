"""The textbook recipe in PyTorch on the CPU, float32: the PyTorch peers of scripts/bench.sh.

Same recipe as numpy_two_layer_net.py: TwoLayerNet 784-50-10 (weights 0.01 * N(0, 1),
biases 0), 10,000 SGD steps (lr 0.1) on batches of 100 drawn with replacement, accuracy
on the full training and test sets after iterations 0, 600, ..., 9600.

  --mode default   idiomatic PyTorch: nn.Linear, F.cross_entropy, torch.optim.SGD,
                   autograd, default thread count, both sets held as float32.
  --mode tuned     by hand for a small CPU: --threads N threads (default 1; OpenBLAS
                   and ATen; scripts/bench.sh measures 1 and 2 and keeps the better), AVX-512 kernels where the CPU
                   has AVX-512 (OPENBLAS_CORETYPE=SKYLAKEX, ATEN_CPU_CAPABILITY=avx512;
                   elsewhere the libraries' own choice; with --isa avx2, the AVX2 kernels
                   on any CPU, as an AVX2-only machine runs them), no autograd
                   (the gradient written out with preallocated tensors and out= products,
                   SGD folded into addmm_), images kept as uint8 and converted per batch
                   and per evaluation block of 2000, inference_mode.

    /usr/bin/python3 bench/peers/torch_two_layer_net.py data/mnist --mode tuned [--iters 200]

Ends with one line
    PEER name=torch_<mode> wall_s=... train_s=... eval_s=... test_acc=...
"""
import os
import sys
import time

START = time.perf_counter()


def _option_from_argv(name, default):
    for i, arg in enumerate(sys.argv):
        if arg == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def _cpu_has_avx512():
    """Whether the CPU has the AVX-512 subsets OpenBLAS's SKYLAKEX kernels use."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"} <= flags
    except OSError:
        pass
    return False


# Read when the libraries load, so they must be set before torch (and numpy) import.
# --isa avx2 (any mode): the libraries' AVX2 kernels (OpenBLAS, ATen, oneDNN), as a CPU
# without AVX-512 runs them.
AVX2_ONLY = {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             "DNNL_MAX_CPU_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
if _option_from_argv("--mode", "default") == "tuned":
    # They replace what the environment says (e.g. an OPENBLAS_CORETYPE=Haswell). The
    # AVX-512 kernels only where the CPU has AVX-512 (elsewhere they stop with SIGILL):
    # there the libraries' own choice (AVX2 on Haswell and Zen) stands.
    threads = _option_from_argv("--threads", "1")
    tuned = {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
             "MKL_NUM_THREADS": threads}
    if _cpu_has_avx512():
        tuned.update({"OPENBLAS_CORETYPE": "SKYLAKEX", "ATEN_CPU_CAPABILITY": "avx512"})
    else:
        os.environ.pop("OPENBLAS_CORETYPE", None)
        os.environ.pop("ATEN_CPU_CAPABILITY", None)
    os.environ.update(tuned)
if _option_from_argv("--isa", "auto") == "avx2":
    os.environ.update(AVX2_ONLY)

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_mnist  # noqa: E402

INPUTS, HIDDEN, CLASSES = 784, 50, 10


def textbook_init(weight_shape, generator):
    """0.01 * N(0, 1) weights, zero biases."""
    return 0.01 * torch.randn(weight_shape, generator=generator)


def run_default(data, args, generator):
    """Idiomatic PyTorch. Returns (train_s, eval_s, final test accuracy)."""
    x_train = torch.from_numpy(data["train"][0].astype(np.float32) / 255.0)
    t_train = torch.from_numpy(data["train"][1].astype(np.int64))
    x_test = torch.from_numpy(data["test"][0].astype(np.float32) / 255.0)
    t_test = torch.from_numpy(data["test"][1].astype(np.int64))

    model = nn.Sequential(nn.Linear(INPUTS, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            # nn.Linear keeps W as (out, in): the transpose of the textbook's (in, out).
            layer.weight.copy_(textbook_init((layer.in_features, layer.out_features), generator).T)
            layer.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    def accuracy(x, t):
        with torch.no_grad():
            return (model(x).argmax(dim=1) == t).float().mean().item()

    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // args.batch, 1)
    train_s = eval_s = 0.0
    test_acc = float("nan")
    for i in range(args.iters):
        start = time.perf_counter()
        batch = torch.randint(0, train_size, (args.batch,), generator=generator)
        loss = F.cross_entropy(model(x_train[batch]), t_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        train_s += time.perf_counter() - start

        if i % iter_per_epoch == 0:
            start = time.perf_counter()
            train_acc = accuracy(x_train, t_train)
            test_acc = accuracy(x_test, t_test)
            eval_s += time.perf_counter() - start
            print(f"train acc, test acc | {train_acc:.4f}, {test_acc:.4f}", flush=True)
    return train_s, eval_s, test_acc


def run_tuned(data, args, generator):
    """No autograd, no allocation of large tensors in the loop. Returns as run_default."""
    torch.set_num_threads(args.threads)
    x_train_u8 = torch.from_numpy(np.ascontiguousarray(data["train"][0]))
    t_train = torch.from_numpy(data["train"][1].astype(np.int64))
    x_test_u8 = torch.from_numpy(np.ascontiguousarray(data["test"][0]))
    t_test = torch.from_numpy(data["test"][1].astype(np.int64))

    W1 = textbook_init((INPUTS, HIDDEN), generator)
    b1 = torch.zeros(HIDDEN)
    W2 = textbook_init((HIDDEN, CLASSES), generator)
    b2 = torch.zeros(CLASSES)

    n, lr = args.batch, args.lr
    xb_u8 = torch.empty((n, INPUTS), dtype=torch.uint8)
    xb = torch.empty((n, INPUTS))
    tb = torch.empty(n, dtype=torch.int64)
    h = torch.empty((n, HIDDEN))          # hidden activations (after ReLU)
    s = torch.empty((n, CLASSES))         # scores, then softmax, then dL/dscores
    row_max = torch.empty((n, 1))
    row_sum = torch.empty((n, 1))
    dh = torch.empty((n, HIDDEN))
    dW2 = torch.empty((HIDDEN, CLASSES))
    db = torch.empty(HIDDEN)
    rows = torch.arange(n)
    inv_255 = 1.0 / 255.0

    block = args.eval_block
    xe = torch.empty((block, INPUTS))
    he = torch.empty((block, HIDDEN))
    se = torch.empty((block, CLASSES))

    def accuracy(x_u8, t):
        correct = 0
        for begin in range(0, x_u8.shape[0], block):
            count = min(block, x_u8.shape[0] - begin)
            x = xe[:count]
            x.copy_(x_u8[begin:begin + count]).mul_(inv_255)
            torch.addmm(b1, x, W1, out=he[:count]).clamp_(min=0)
            torch.addmm(b2, he[:count], W2, out=se[:count])
            correct += int((se[:count].argmax(dim=1) == t[begin:begin + count]).sum())
        return correct / x_u8.shape[0]

    train_size = x_train_u8.shape[0]
    iter_per_epoch = max(train_size // n, 1)
    train_s = eval_s = 0.0
    test_acc = float("nan")
    with torch.inference_mode():
        for i in range(args.iters):
            start = time.perf_counter()
            batch = torch.randint(0, train_size, (n,), generator=generator)
            torch.index_select(x_train_u8, 0, batch, out=xb_u8)
            torch.index_select(t_train, 0, batch, out=tb)
            xb.copy_(xb_u8).mul_(inv_255)
            # forward: h = relu(x . W1 + b1), s = h . W2 + b2
            torch.addmm(b1, xb, W1, out=h).clamp_(min=0)
            torch.addmm(b2, h, W2, out=s)
            # softmax with loss, backward: ds = (softmax(s) - onehot(t)) / n
            torch.amax(s, dim=1, keepdim=True, out=row_max)
            s.sub_(row_max).exp_()
            torch.sum(s, dim=1, keepdim=True, out=row_sum)
            s.div_(row_sum)
            s[rows, tb] -= 1.0
            s.mul_(1.0 / n)
            # backward through Affine2 and Relu (dh is zero where h was clamped)
            torch.mm(h.T, s, out=dW2)
            torch.mm(s, W2.T, out=dh)
            dh.masked_fill_(h <= 0, 0.0)
            # SGD, with dW1 = x^T . dh folded into W1 -= lr * x^T . dh; no dX for the input
            W2.sub_(dW2, alpha=lr)
            b2.sub_(s.sum(dim=0), alpha=lr)
            W1.addmm_(xb.T, dh, alpha=-lr)
            torch.sum(dh, dim=0, out=db)
            b1.sub_(db, alpha=lr)
            train_s += time.perf_counter() - start

            if i % iter_per_epoch == 0:
                start = time.perf_counter()
                train_acc = accuracy(x_train_u8, t_train)
                test_acc = accuracy(x_test_u8, t_test)
                eval_s += time.perf_counter() - start
                print(f"train acc, test acc | {train_acc:.4f}, {test_acc:.4f}", flush=True)
    return train_s, eval_s, test_acc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="directory with the four MNIST IDX files")
    parser.add_argument("--mode", choices=("default", "tuned"), default="default")
    parser.add_argument("--iters", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="tuned mode's thread count")
    parser.add_argument("--isa", choices=("auto", "avx2"), default="auto",
                        help="avx2: the libraries' AVX2 kernels even on an AVX-512 CPU")
    parser.add_argument("--eval-block", type=int, default=2000,
                        help="tuned mode's evaluation block (images per product)")
    args = parser.parse_args()

    generator = torch.Generator().manual_seed(args.seed)
    data = load_mnist(args.data_dir)
    run = run_tuned if args.mode == "tuned" else run_default
    train_s, eval_s, test_acc = run(data, args, generator)

    wall_s = time.perf_counter() - START
    print(f"PEER name=torch_{args.mode} wall_s={wall_s:.3f} train_s={train_s:.3f} "
          f"eval_s={eval_s:.3f} test_acc={test_acc:.4f}")


if __name__ == "__main__":
    main()
