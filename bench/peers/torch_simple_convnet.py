"""One epoch of the textbook's SimpleConvNet in PyTorch on the CPU, float32: the PyTorch
peers of `scripts/bench.sh --task cnn`.

The recipe of build/nabla_cnn_epoch: conv 30 filters 5x5 (stride 1, pad 0) -> ReLU ->
max-pool 2x2 -> affine 100 -> ReLU -> affine 10, softmax cross-entropy; weights
0.01 * N(0, 1), biases 0; Adam lr 0.001; 600 steps of batch 100 over a shuffled epoch,
then the accuracy on the 10,000 test images (blocks of 100).

  --mode default   idiomatic PyTorch: nn.Conv2d, nn.MaxPool2d, nn.Linear,
                   F.cross_entropy, torch.optim.Adam, autograd, the default thread count,
                   both sets held as float32.
  --mode tuned     for a small CPU: --threads N threads (default 1; OpenBLAS, ATen and
                   oneDNN; scripts/bench.sh measures 1 and 2 and keeps the better), AVX-512 kernels where the CPU has
                   AVX-512 (OPENBLAS_CORETYPE=SKYLAKEX, ATEN_CPU_CAPABILITY=avx512;
                   elsewhere the libraries' own choice), the convolution through oneDNN
                   (mkldnn, PyTorch's CPU default), Adam's multi-tensor (foreach) update,
                   the batch gathered into preallocated tensors, inference_mode for the
                   evaluation. The gradient stays autograd's: a convolution's backward by
                   hand would be a second implementation, not a tuning.

    /usr/bin/python3 bench/peers/torch_simple_convnet.py data/mnist --mode tuned [--steps 100]

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


if _option_from_argv("--mode", "default") == "tuned":
    # Read when the libraries load, so they are set before torch imports (as in
    # torch_two_layer_net.py).
    threads = _option_from_argv("--threads", "1")
    tuned = {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
             "MKL_NUM_THREADS": threads}
    if _cpu_has_avx512():
        tuned.update({"OPENBLAS_CORETYPE": "SKYLAKEX", "ATEN_CPU_CAPABILITY": "avx512"})
    else:
        os.environ.pop("OPENBLAS_CORETYPE", None)
        os.environ.pop("ATEN_CPU_CAPABILITY", None)
    for name, value in tuned.items():
        os.environ[name] = value

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_mnist  # noqa: E402

FILTERS, KERNEL, HIDDEN, CLASSES = 30, 5, 100, 10
EVAL_BLOCK = 100  # test images per forward: the batch size, as build/nabla_cnn_epoch


def simple_convnet(generator):
    """The network with the textbook's initialisation: 0.01 * N(0, 1), zero biases."""
    model = nn.Sequential(
        nn.Conv2d(1, FILTERS, KERNEL), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(FILTERS * 12 * 12, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                layer.weight.copy_(0.01 * torch.randn(layer.weight.shape, generator=generator))
                layer.bias.zero_()
    return model


def images(split):
    """(N, 1, 28, 28) uint8 images and int64 labels of one split."""
    x, t = split
    return (torch.from_numpy(np.ascontiguousarray(x)).reshape(-1, 1, 28, 28),
            torch.from_numpy(t.astype(np.int64)))


def test_accuracy(model, x_u8, t, block):
    correct = 0
    with torch.inference_mode():
        for begin in range(0, x_u8.shape[0], block):
            x = x_u8[begin:begin + block].float().div_(255.0)
            correct += int((model(x).argmax(dim=1) == t[begin:begin + block]).sum())
    return correct / x_u8.shape[0]


def run_default(data, args, generator):
    """Idiomatic PyTorch. Returns (train_s, eval_s, test accuracy)."""
    x_train_u8, t_train = images(data["train"])
    x_test_u8, t_test = images(data["test"])
    x_train = x_train_u8.float() / 255.0
    model = simple_convnet(generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    order = torch.randperm(x_train.shape[0], generator=generator)
    start = time.perf_counter()
    for step in range(args.steps):
        batch = order[step * args.batch:(step + 1) * args.batch]
        loss = F.cross_entropy(model(x_train[batch]), t_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    model.eval()
    test_acc = test_accuracy(model, x_test_u8, t_test, args.eval_block)
    return train_s, time.perf_counter() - start, test_acc


def run_tuned(data, args, generator):
    """--threads threads, preallocated batches, foreach Adam. Returns as run_default."""
    torch.set_num_threads(args.threads)
    x_train_u8, t_train = images(data["train"])
    x_test_u8, t_test = images(data["test"])
    model = simple_convnet(generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, foreach=True)
    n = args.batch
    xb_u8 = torch.empty((n, 1, 28, 28), dtype=torch.uint8)
    xb = torch.empty((n, 1, 28, 28))
    tb = torch.empty(n, dtype=torch.int64)
    order = torch.randperm(x_train_u8.shape[0], generator=generator)
    start = time.perf_counter()
    for step in range(args.steps):
        batch = order[step * n:(step + 1) * n]
        torch.index_select(x_train_u8, 0, batch, out=xb_u8)
        torch.index_select(t_train, 0, batch, out=tb)
        xb.copy_(xb_u8).mul_(1.0 / 255.0)
        loss = F.cross_entropy(model(xb), tb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    model.eval()
    test_acc = test_accuracy(model, x_test_u8, t_test, args.eval_block)
    return train_s, time.perf_counter() - start, test_acc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="directory with the four MNIST IDX files")
    parser.add_argument("--mode", choices=("default", "tuned"), default="default")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="tuned mode's thread count")
    parser.add_argument("--eval-block", type=int, default=EVAL_BLOCK,
                        help="test images per forward in the evaluation")
    args = parser.parse_args()
    if args.steps * args.batch > 60000:
        parser.error("--steps x --batch must fit one epoch of 60,000 images")

    generator = torch.Generator().manual_seed(args.seed)
    data = load_mnist(args.data_dir)
    run = run_tuned if args.mode == "tuned" else run_default
    train_s, eval_s, test_acc = run(data, args, generator)

    wall_s = time.perf_counter() - START
    print(f"PEER name=torch_{args.mode} wall_s={wall_s:.3f} train_s={train_s:.3f} "
          f"eval_s={eval_s:.3f} test_acc={test_acc:.4f}")


if __name__ == "__main__":
    main()
