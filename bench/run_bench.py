"""Times the textbook recipe in nabla and its peers, side by side: the body of scripts/bench.sh.

    /usr/bin/python3 bench/run_bench.py [--rounds N] [--iters N] [--data DIR] [--build DIR]
                                        [--isa scalar|avx2|avx512]
    /usr/bin/python3 bench/run_bench.py --task ner [--rounds N] [--epochs N]   (bench/ner_bench.py)

Each round runs nabla (`build/nabla train --timing`, its defaults; with --isa, at that
kernel level: NABLA_ISA), the NumPy peer (float64, with
OPENBLAS_NUM_THREADS=1 unless --numpy-threads default), and PyTorch idiomatic and tuned
(float32), one after the other, each under /usr/bin/time for wall time and peak RSS; over
the rounds it keeps each one's fastest run. Everything else runs in the environment as it
is (it logs the OPENBLAS_/OMP_/MKL_/ATEN_ variables it found). It measures the
machine's best sgemm rate (build/nabla_peak_gemm, trying OpenBLAS's kernel choices),
computes the floor = the recipe's matrix-product FLOPs / that rate, prints a table headed
by the CPU's model and the kernel level nabla ran at, and ends with one line:

    RESULT nabla_s=... torch_tuned_s=... torch_default_s=... numpy_s=... nabla_vs_torch_tuned=...
           nabla_vs_numpy=... nabla_vs_floor=... nabla_vs_sparse_floor=... sparse_floor_s=...
           nabla_rss_mb=... nabla_test_acc=... nabla_isa=...

The sparse-work floor (bench/sparse_floor.py) counts the work nabla does — W1's rows for
the nonzero pixels only — and the L2 traffic it needs, at one core's measured rates.

(one line; "NA" where a figure is missing, e.g. when nabla has no `train` command yet).

With --task cnn it times one epoch of the textbook's SimpleConvNet instead (600 Adam steps
of batch 100 and the test-set accuracy; issue 17): build/nabla_cnn_epoch against
bench/peers/torch_simple_convnet.py in its default and tuned modes. Where the CPU has
AVX-512, nabla runs with OPENBLAS_CORETYPE=SKYLAKEX, as tuned PyTorch does (OpenBLAS
0.3.21 takes its slow Prescott kernels on some of these CPUs otherwise). It ends with

    RESULT task=cnn nabla_s=... torch_tuned_s=... torch_default_s=... nabla_vs_torch_tuned=...
           nabla_vs_floor=... floor_s=... peak_gflops=... nabla_rss_mb=... ...
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import configurations  # bench/configurations.py
import sparse_floor  # bench/sparse_floor.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_DIR = os.path.join(ROOT, "bench", "peers")

# The recipe (TwoLayerNet 784-50-10, batches of 100, evaluation every 600 iterations on
# the 60,000 training and 10,000 test images).
INPUTS, HIDDEN, CLASSES = 784, 50, 10
BATCH, ITER_PER_EPOCH = 100, 600
TRAIN_SIZE, TEST_SIZE = 60000, 10000

ACC_RE = re.compile(r"train acc, test acc \|\s*([0-9.]+),\s*([0-9.]+)")
KEY_VALUE_RE = re.compile(r"(\w+)=(\S+)")



def cpu_info():
    """(the CPU's model name, its set of /proc/cpuinfo flags); ("unknown", set()) elsewhere."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


CPU_MODEL, CPU_FLAGS = cpu_info()
# OpenBLAS's SKYLAKEX kernels need AVX-512 F/BW/VL/DQ/CD; COOPERLAKE adds BF16. On a CPU
# without them, forcing them stops the program with SIGILL.
HAS_AVX512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"} <= CPU_FLAGS

# OpenBLAS kernel sets to try for the peak rate: its own choice (Debian's 0.3.21 takes
# Zen 4/5 for Haswell: 256-bit kernels) and, where the CPU has them, the AVX-512 ones.
CORETYPES = [""] + (["SKYLAKEX"] if HAS_AVX512 else []) + (
    ["COOPERLAKE"] if HAS_AVX512 and "avx512_bf16" in CPU_FLAGS else [])


def gemm_flops(m, n, k):
    return 2 * m * n * k


def recipe_flops(iters):
    """(training FLOPs, evaluation FLOPs, number of evaluations) of the matrix products.

    A training step: forward X.W1 and H.W2, backward dW1 = X^T.dY1, dW2 = H^T.dY2 and
    dH = dY2.W2^T; no dX for the input layer. An evaluation: X.W1 and H.W2 on all
    70,000 images. Element-wise work (bias, ReLU, softmax) is left out: it is < 1%.
    """
    step = (gemm_flops(BATCH, HIDDEN, INPUTS) + gemm_flops(INPUTS, HIDDEN, BATCH)
            + 3 * gemm_flops(BATCH, CLASSES, HIDDEN))
    evaluations = len(range(0, iters, ITER_PER_EPOCH))
    per_image = gemm_flops(1, HIDDEN, INPUTS) + gemm_flops(1, CLASSES, HIDDEN)
    return iters * step, evaluations * (TRAIN_SIZE + TEST_SIZE) * per_image, evaluations


def cnn_flops(steps):
    """(training FLOPs, evaluation FLOPs) of one SimpleConvNet epoch's matrix products.

    A step on a batch of 100: the convolution (30 filters of 1x5x5 over 24x24 positions)
    forward and its weight gradient; affine 4320-100 forward, dW and dX; affine 100-10
    the same. No dX for the convolution: its input is data. The evaluation: the forward
    products on the 10,000 test images. Element-wise work (im2col, ReLU, pooling, bias,
    softmax, Adam) is left out.
    """
    conv = gemm_flops(30, 24 * 24, 25)  # per image
    affine1, affine2 = gemm_flops(1, 100, 30 * 12 * 12), gemm_flops(1, 10, 100)  # per image
    step = BATCH * (2 * conv + 3 * affine1 + 3 * affine2)
    return steps * step, TEST_SIZE * (conv + affine1 + affine2)


def log(message):
    print(f"bench: {message}", flush=True)


def run_timed(name, command, env):
    """Runs command under /usr/bin/time; returns a dict of its figures, or None on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as time_file:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", time_file.name] + command
        changed = " ".join(f"{key}={value}" for key, value in sorted(env.items())
                           if os.environ.get(key) != value and key != "NABLA_DATA")
        log(f"running {name}: {changed + ' ' if changed else ''}{' '.join(command)}")
        proc = subprocess.run(full, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        time_lines = time_file.read().split("\n")
    out = proc.stdout
    for line in out.splitlines():
        print(f"  [{name}] {line}", flush=True)
    if proc.returncode != 0:
        log(f"{name} failed (exit status {proc.returncode}); its figures are left out")
        return None
    # /usr/bin/time writes "Command exited with non-zero status" first on failure;
    # the figures are on the last non-empty line.
    wall, rss_kb = [line for line in time_lines if line.strip()][-1].split()
    result = {"wall_s": float(wall), "rss_mb": int(rss_kb) / 1024.0,
              "train_s": None, "eval_s": None, "eval_beside_s": None, "test_acc": None,
              "isa": None}
    accuracies = ACC_RE.findall(out)
    if accuracies:
        result["test_acc"] = float(accuracies[-1][1])
    for line in out.splitlines():
        if line.startswith(("PEER ", "TIMING ", "RESULT ")):
            fields = dict(KEY_VALUE_RE.findall(line))
            for key in ("train_s", "eval_s", "eval_beside_s"):
                if key in fields:
                    result[key] = float(fields[key])
            if "test_acc" in fields:
                result["test_acc"] = float(fields["test_acc"])
            if "isa" in fields:
                result["isa"] = fields["isa"]
    log(f"{name}: wall {result['wall_s']:.2f} s, train {fmt(result['train_s'], '.2f')} s, "
        f"eval {fmt(result['eval_s'], '.2f')} s"
        + (f" (+ {result['eval_beside_s']:.2f} s beside training)"
           if result["eval_beside_s"] else "")
        + f", peak RSS {result['rss_mb']:.1f} MB, "
        f"test acc {fmt(result['test_acc'], '.4f')}")
    return result


def peak_gemm(program, coretypes):
    """(best GFLOP/s, the OPENBLAS_CORETYPE that gave it) from nabla_peak_gemm."""
    if not os.access(program, os.X_OK):
        log(f"{program} is missing: no peak rate, no floor")
        return None, None
    best, best_core = None, None
    for coretype in coretypes:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        proc = subprocess.run([program], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        match = re.search(r"PEAK gflops=([0-9.]+).*core=(\S+)", proc.stdout)
        label = coretype or "(OpenBLAS's choice)"
        if proc.returncode != 0 or not match:
            log(f"peak gemm with OPENBLAS_CORETYPE={label} failed: {proc.stdout.strip()}")
            continue
        gflops = float(match.group(1))
        log(f"peak sgemm 2048^3 with OPENBLAS_CORETYPE={label}: {gflops:.1f} GFLOP/s "
            f"(kernels: {match.group(2)})")
        if best is None or gflops > best:
            best, best_core = gflops, label
    return best, best_core


def nabla_train_help(program):
    """(the help text of `nabla train`, or None; why not)."""
    if not os.access(program, os.X_OK):
        return None, f"{program} is missing (build it with scripts/build.sh)"
    proc = subprocess.run([program, "train", "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        return None, f"`{program} train` does not exist yet"
    return proc.stdout, ""


def fmt(value, spec):
    return "NA" if value is None else format(value, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    parser = argparse.ArgumentParser(description="Times the textbook recipe in nabla, "
                                     "NumPy and PyTorch (see scripts/bench.sh).")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs of each configuration, alternating; the median counts")
    parser.add_argument("--iters", type=int, default=10000,
                        help="training iterations (fewer for a quick check of the script)")
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--build", default=os.path.join(ROOT, "build"),
                        help="where nabla and nabla_peak_gemm are (scripts/build.sh's)")
    parser.add_argument("--peak-gemm", default=None,
                        help="the peak-rate program (default: BUILD/nabla_peak_gemm)")
    parser.add_argument("--only", default=None,
                        help="comma-separated subset of the programs to run (mlp and cnn: "
                        "nabla,numpy,torch_default,torch_tuned; ner: "
                        "nabla,nabla_window,torch,bilstm_crf); default: all")
    parser.add_argument("--epochs", type=int, default=10, help="--task ner: epochs")
    parser.add_argument("--coretype", default=None,
                        help="--task ner: OPENBLAS_CORETYPE for both sides (default SKYLAKEX "
                        "on an AVX-512 CPU; 'asis' keeps the environment's)")
    parser.add_argument("--isa", default=None, choices=["scalar", "avx2", "avx512"],
                        help="run nabla's kernels at this level (NABLA_ISA), e.g. avx2 on an "
                        "AVX-512 machine to measure both; with avx2 the peers and OpenBLAS "
                        "run their AVX2 kernels too; default: the best the CPU runs")
    parser.add_argument("--task", default="mlp", choices=["mlp", "cnn", "ner"],
                        help="mlp: the TwoLayerNet recipe (issue 4); cnn: one epoch of "
                        "SimpleConvNet (issue 17) in nabla and PyTorch; ner: `nabla ner train` "
                        "against the PyTorch window and BiLSTM-CRF taggers (bench/ner_bench.py)")
    parser.add_argument("--steps", type=int, default=600,
                        help="--task cnn: training steps (600 = one epoch)")
    args = parser.parse_args()
    if args.task == "cnn":
        return run_cnn(args)
    if args.task == "ner":
        import ner_bench  # bench/ner_bench.py
        return ner_bench.run(args, CPU_MODEL, HAS_AVX512)
    data = os.path.abspath(args.data)
    build = os.path.abspath(args.build)
    only = (args.only or "nabla,numpy,torch_default,torch_tuned").split(",")
    scratch = tempfile.TemporaryDirectory(prefix="nabla-bench-")

    train_flops, eval_flops, evaluations = recipe_flops(args.iters)
    total_flops = train_flops + eval_flops
    log(f"recipe FLOPs (matrix products): training {train_flops / 1e9:.1f} G "
        f"({args.iters} steps x {train_flops / args.iters / 1e6:.2f} M), evaluation "
        f"{eval_flops / 1e9:.1f} G ({evaluations} x 70,000 images x "
        f"{eval_flops / evaluations / 70000 / 1e3:.1f} k), total {total_flops / 1e9:.1f} G")

    nabla = os.path.join(build, "nabla")
    nabla_out = nabla_timing = False
    if "nabla" in only:
        help_text, why = nabla_train_help(nabla)
        if help_text is None:
            log(f"skipping nabla: {why}")
            only.remove("nabla")
        else:
            nabla_out = "--out" in help_text
            nabla_timing = "--timing" in help_text  # (older builds print TIMING always)
    python = "/usr/bin/python3"
    iters = ["--iters", str(args.iters)]
    env = dict(os.environ, NABLA_DATA=data)
    env.pop("NABLA_ISA", None)
    nabla_env = dict(env)
    if args.isa:
        nabla_env["NABLA_ISA"] = args.isa
    # --isa avx2 measures every program as an AVX2-only CPU runs it: OpenBLAS's Haswell
    # kernels for all (and the peak rate), and the PyTorch peers at ATen's and oneDNN's AVX2.
    coretypes = CORETYPES
    if args.isa == "avx2":
        env["OPENBLAS_CORETYPE"] = nabla_env["OPENBLAS_CORETYPE"] = "Haswell"
        coretypes = ["Haswell"]

    configs = []
    for t in configurations.thread_counts():
        if "nabla" in only:
            extra = [] if args.iters == 10000 else list(iters)
            if nabla_timing:
                extra.append("--timing")
            configs.append(configurations.Config(
                "nabla", "", t, [nabla, "train", "--threads", str(t)] + extra, nabla_env))
        if "numpy" in only:
            configs.append(configurations.Config(
                "numpy", "", t,
                [python, os.path.join(PEERS_DIR, "numpy_two_layer_net.py"), data] + iters,
                dict(env, OPENBLAS_NUM_THREADS=str(t))))
        if "torch_tuned" in only:
            configs.append(configurations.Config(
                "torch", "tuned", t,
                [python, os.path.join(PEERS_DIR, "torch_two_layer_net.py"), data, "--mode",
                 "tuned", "--threads", str(t)] + iters
                + (["--isa", "avx2"] if args.isa == "avx2" else []), env))
    if "torch_default" in only:
        configs.append(configurations.Config(
            "torch", "default", os.cpu_count() or 1,
            [python, os.path.join(PEERS_DIR, "torch_two_layer_net.py"), data, "--mode",
             "default"] + iters + (["--isa", "avx2"] if args.isa == "avx2" else []), env))

    def run_one(config, round_number):
        command = list(config.command)
        if config.family == "nabla" and nabla_out:
            # Its run directory (model, log) goes to a temporary place, not runs/.
            command += ["--out", os.path.join(scratch.name, f"{config.label}-{round_number}")]
        return run_timed(config.label, command, config.env)

    log(f"CPU: {CPU_MODEL}; AVX-512: {'yes' if HAS_AVX512 else 'no'}, AVX2: "
        f"{'yes' if 'avx2' in CPU_FLAGS else 'no'}")
    threading = [f"{key}={value}" for key, value in sorted(os.environ.items())
                 if key.startswith(("OPENBLAS_", "OMP_", "MKL_", "ATEN_"))]
    log("environment: " + (" ".join(threading) or "no OPENBLAS_/OMP_/MKL_/ATEN_ variables"))

    peak, peak_core = None, None
    peak_program = args.peak_gemm or os.path.join(build, "nabla_peak_gemm")

    def measure_peak():
        # The rate drops by half when another process takes a core: keep the best seen.
        nonlocal peak, peak_core
        gflops, core = peak_gemm(peak_program, coretypes)
        if gflops and (peak is None or gflops > peak):
            peak, peak_core = gflops, core

    measure_peak()
    medians = configurations.run_rounds(configs, args.rounds, run_one, log, measure_peak)
    floor_s = total_flops / (peak * 1e9) if peak else None
    # The sparse-work floor, at nabla's default thread count (cores, at most 2).
    cores = max(configurations.thread_counts())
    l2_bytes, sparse_flops, nz_train = sparse_floor.recipe_sparse_work(
        data, args.iters, evaluations,
        (INPUTS, HIDDEN, CLASSES, BATCH, TRAIN_SIZE, TEST_SIZE))
    one_gflops, one_l2 = sparse_floor.one_core_rates(peak_program, env)
    sparse_floor_s = sparse_floor.floor_seconds(l2_bytes, sparse_flops, one_gflops, one_l2,
                                                cores)

    nabla_default = medians.get(f"nabla@{cores}t", {})
    nabla_isa = nabla_default.get("isa")
    print()
    print(f"CPU: {CPU_MODEL} ({os.cpu_count()} cores; AVX-512 {'yes' if HAS_AVX512 else 'no'}); "
          f"nabla kernels: {nabla_isa or 'NA'}"
          + (f" (forced: --isa {args.isa})" if args.isa else ""))
    print(f"Recipe: {total_flops / 1e9:.1f} GFLOP of matrix products "
          f"({train_flops / 1e9:.1f} training + {eval_flops / 1e9:.1f} evaluation); "
          f"median of {args.rounds} alternating round(s)")
    if peak:
        print(f"Peak sgemm: {peak:.1f} GFLOP/s (OPENBLAS_CORETYPE={peak_core}); "
              f"dense floor {floor_s:.3f} s")
    if sparse_floor_s:
        print(f"Sparse work: {nz_train:.1f} nonzero pixels per image; {sparse_flops / 1e9:.1f} "
              f"GFLOP and {l2_bytes / 1e9:.1f} GB of W1 rows from L2; one core: "
              f"{one_gflops:.1f} GFLOP/s, L2 read {one_l2:.1f} GB/s; {cores} core(s): "
              f"sparse floor {sparse_floor_s:.3f} s")
    print_table(configs, medians, floor_s, sparse_floor_s)

    fields = configurations.compare(configs, medians, ["torch", "numpy"], fmt, ratio)
    fields += [
        ("nabla_vs_floor", fmt(ratio(nabla_default.get("wall_s"), floor_s), ".3f")),
        ("nabla_vs_sparse_floor", fmt(ratio(nabla_default.get("wall_s"), sparse_floor_s),
                                      ".3f")),
        ("floor_s", fmt(floor_s, ".3f")),
        ("sparse_floor_s", fmt(sparse_floor_s, ".3f")),
        ("nabla_rss_mb", fmt(nabla_default.get("rss_mb"), ".1f")),
        ("nabla_test_acc", fmt(nabla_default.get("test_acc"), ".4f")),
        ("nabla_isa", nabla_isa or "NA"),
    ]
    print("RESULT " + " ".join(f"{key}={value}" for key, value in fields), flush=True)
    return 0


def print_table(configs, medians, floor_s, sparse_floor_s=None):
    """One row per configuration: its median run's figures and its ratios to the floors."""
    header = f"{'configuration':<18} {'wall_s':>8} {'train_s':>8} {'eval_s':>8} " \
             f"{'rss_mb':>8} {'test_acc':>8} {'x_floor':>8}" \
             + (f" {'x_sparse':>8}" if sparse_floor_s else "") + "  walls"
    print(header)
    print("-" * len(header))
    for c in configs:
        r = medians.get(c.label)
        if r is None:
            print(f"{c.label:<18} {'(failed)':>8}")
            continue
        print(f"{c.label:<18} {r['wall_s']:>8.2f} {fmt(r['train_s'], '>8.2f')} "
              f"{fmt(r['eval_s'], '>8.2f')} {r['rss_mb']:>8.1f} {fmt(r['test_acc'], '>8.4f')} "
              f"{fmt(ratio(r['wall_s'], floor_s), '>8.1f')}"
              + (f" {fmt(ratio(r['wall_s'], sparse_floor_s), '>8.1f')}" if sparse_floor_s
                 else "")
              + "  " + " ".join(f"{w:.2f}" for w in r["walls"]))
    print()


def run_cnn(args):
    """--task cnn: one epoch of SimpleConvNet, nabla against PyTorch default and tuned."""
    data = os.path.abspath(args.data)
    build = os.path.abspath(args.build)
    only = [name for name in (args.only or "nabla,torch_default,torch_tuned").split(",")
            if name != "numpy"]
    train_flops, eval_flops = cnn_flops(args.steps)
    total_flops = train_flops + eval_flops
    log(f"SimpleConvNet FLOPs (matrix products): training {train_flops / 1e9:.1f} G "
        f"({args.steps} steps x {train_flops / args.steps / 1e6:.1f} M), evaluation "
        f"{eval_flops / 1e9:.1f} G (10,000 test images), total {total_flops / 1e9:.1f} G")
    nabla = os.path.join(build, "nabla_cnn_epoch")
    if "nabla" in only and not os.access(nabla, os.X_OK):
        log(f"skipping nabla: {nabla} is missing (build it with scripts/build.sh)")
        only.remove("nabla")
    python = "/usr/bin/python3"
    env = dict(os.environ, NABLA_DATA=data)
    nabla_env = dict(env)
    if HAS_AVX512:
        nabla_env["OPENBLAS_CORETYPE"] = "SKYLAKEX"  # as the tuned peer sets for itself
    peer = [python, os.path.join(PEERS_DIR, "torch_simple_convnet.py"), data,
            "--steps", str(args.steps)]
    configs = []
    for t in configurations.thread_counts():
        if "nabla" in only:
            configs.append(configurations.Config(
                "nabla", "", t,
                [nabla, "--data", data, "--steps", str(args.steps), "--threads", str(t)],
                nabla_env))
        if "torch_tuned" in only:
            configs.append(configurations.Config(
                "torch", "tuned", t, peer + ["--mode", "tuned", "--threads", str(t)], env))
    if "torch_default" in only:
        configs.append(configurations.Config("torch", "default", os.cpu_count() or 1,
                                             peer + ["--mode", "default"], env))
    log(f"CPU: {CPU_MODEL}; AVX-512: {'yes' if HAS_AVX512 else 'no'}")
    threading = [f"{key}={value}" for key, value in sorted(os.environ.items())
                 if key.startswith(("OPENBLAS_", "OMP_", "MKL_", "ATEN_"))]
    log("environment: " + (" ".join(threading) or "no OPENBLAS_/OMP_/MKL_/ATEN_ variables"))
    peak_program = args.peak_gemm or os.path.join(build, "nabla_peak_gemm")
    peak, peak_core = None, None

    def measure_peak():
        nonlocal peak, peak_core
        gflops, core = peak_gemm(peak_program, CORETYPES)
        if gflops and (peak is None or gflops > peak):
            peak, peak_core = gflops, core

    medians = configurations.run_rounds(
        configs, args.rounds, lambda c, _round: run_timed(c.label, c.command, c.env), log,
        measure_peak)
    floor_s = total_flops / (peak * 1e9) if peak else None

    print()
    print(f"CPU: {CPU_MODEL} ({os.cpu_count()} cores; AVX-512 {'yes' if HAS_AVX512 else 'no'})")
    print(f"SimpleConvNet epoch: {total_flops / 1e9:.1f} GFLOP of matrix products "
          f"({train_flops / 1e9:.1f} training + {eval_flops / 1e9:.1f} evaluation); "
          f"median of {args.rounds} alternating round(s)")
    if peak:
        print(f"Peak sgemm: {peak:.1f} GFLOP/s (OPENBLAS_CORETYPE={peak_core}); "
              f"floor {floor_s:.3f} s")
    print_table(configs, medians, floor_s)

    cores = max(configurations.thread_counts())
    nabla_default = medians.get(f"nabla@{cores}t", {})
    _, tuned = configurations.best_of(configs, medians, "torch")
    fields = [("task", "cnn")]
    fields += configurations.compare(configs, medians, ["torch"], fmt, ratio)
    fields += [
        ("nabla_vs_floor", fmt(ratio(nabla_default.get("wall_s"), floor_s), ".3f")),
        ("floor_s", fmt(floor_s, ".3f")),
        ("peak_gflops", fmt(peak, ".1f")),
        ("nabla_rss_mb", fmt(nabla_default.get("rss_mb"), ".1f")),
        ("torch_best_rss_mb", fmt((tuned or {}).get("rss_mb"), ".1f")),
        ("nabla_test_acc", fmt(nabla_default.get("test_acc"), ".4f")),
        ("torch_best_test_acc", fmt((tuned or {}).get("test_acc"), ".4f")),
    ]
    print("RESULT " + " ".join(f"{key}={value}" for key, value in fields), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
