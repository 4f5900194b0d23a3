"""Data parallelism's benchmark (issue 26): one epoch of the textbook's SimpleConvNet (600
Adam steps of batch 100) and the MLP recipe (TwoLayerNet, 10,000 SGD steps of batch 100),
each as

    1x1      one process, one thread
    1x2      one process, two threads
    2x1      mpirun -np 2, one thread each
    shards2  one process, one thread, --shards 2 (the arithmetic of 2x1, one slice after
             the other)
    ceiling  two independent one-thread processes at once, each training on half the batch
             (--batch 50) without any exchange: what two ranks could reach on this machine
             if communication cost nothing (they still share its caches and memory)

in alternating rounds, from `nabla train --timing`: the training loop's seconds (train_s,
evaluations left out), the whole run's (wall_s, with the evaluations, split among the
ranks), and for the ranks the seconds in communication and the bytes rank 0 sent per step.
Prints each run, then the medians, and ends with one line per model

    RESULT_MPI model=cnn train_1x1_s=... train_2x1_s=... speedup_train=... speedup_wall=...
               speedup_ceiling=... speedup_1x2=... comm_s=... bytes_per_step=... rounds=...

    /usr/bin/python3 bench/mpi_bench.py [--only cnn|mlp] [--rounds N] [--build DIR] [--data DIR]
(scripts/bench.sh --task mpi runs it after fetching MNIST and building.)
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY_VALUE_RE = re.compile(r"(\w+)=(\S+)")

MODELS = {
    "cnn": (["--model", "simple-convnet", "--epochs", "1"], 600),
    "mlp": (["--model", "two-layer-net", "--iters", "10000"], 10000),
}
CONFIGS = ["1x1", "1x2", "2x1", "shards2", "ceiling"]


def log(message):
    print(f"mpi_bench: {message}", flush=True)


def timing_of(output):
    """The key=value pairs of the TIMING and TIMING_COMM lines of a run's output."""
    values = {}
    for line in output.splitlines():
        if line.startswith("TIMING"):
            values.update(dict(KEY_VALUE_RE.findall(line)))
    return values


def run_config(nabla, mpirun, data, model, config, out):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    model_args, steps = MODELS[model]

    def command(name, extra, args=model_args):
        return ([nabla, "train"] + args + ["--data", data, "--timing", "--overwrite", "--out",
                                           os.path.join(out, name)] + extra)

    if config == "ceiling":
        # Each of the two does one rank's work: the same steps on half the batch.
        half = model_args[:2] + ["--iters", str(steps), "--batch", "50"]
        procs = [subprocess.Popen(command(f"ceiling{i}", ["--threads", "1"], half),
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for i in range(2)]
        outputs = [p.communicate()[0] for p in procs]
        if any(p.returncode != 0 for p in procs):
            sys.exit(f"mpi_bench: the ceiling runs failed:\n{outputs[0][-500:]}")
        timings = [timing_of(o) for o in outputs]
        # The slower of the two bounds the step, as the slower rank does.
        return max(timings, key=lambda t: float(t["train_s"]))
    if config == "1x1":
        cmd = command(config, ["--threads", "1"])
    elif config == "1x2":
        cmd = command(config, ["--threads", "2"])
    elif config == "shards2":
        cmd = command(config, ["--threads", "1", "--shards", "2"])
    else:
        cmd = [mpirun, "--oversubscribe", "-np", "2"] + command(config, ["--threads", "1"])
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        sys.exit(f"mpi_bench: {config} failed (exit {proc.returncode}):\n{proc.stdout[-500:]}")
    return timing_of(proc.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(MODELS), default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--task", default=None, help=argparse.SUPPRESS)  # (scripts/bench.sh's)
    args = parser.parse_args()
    nabla = os.path.join(args.build, "nabla")
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        sys.exit("mpi_bench: mpirun not found (apt-get install openmpi-bin)")
    if not os.access(nabla, os.X_OK):
        sys.exit(f"mpi_bench: {nabla} not found: build first (scripts/build.sh)")
    cpu = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
    model_name = re.search(r"Model name:\s*(.*)", cpu)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    log(f"CPU: {model_name.group(1) if model_name else '?'}, {os.cpu_count()} cores; "
        f"load average {load}; {args.rounds} alternating round(s)")

    models = [args.only] if args.only else list(MODELS)
    with tempfile.TemporaryDirectory() as out:
        for model in models:
            steps = MODELS[model][1]
            runs = {c: [] for c in CONFIGS}
            for r in range(args.rounds):
                for config in CONFIGS:
                    t = run_config(nabla, mpirun, args.data, model, config, out)
                    runs[config].append(t)
                    comm = f" comm_s={t['comm_s']}" if config == "2x1" else ""
                    log(f"{model} round {r + 1} {config}: train_s={t['train_s']} "
                        f"wall_s={t['wall_s']}{comm} test_acc={t.get('test_acc', '?')}")

            def median(config, key):
                return statistics.median(float(t[key]) for t in runs[config])

            print(f"{model}: medians of {args.rounds} round(s)")
            print(f"  {'config':8} {'train_s':>8} {'wall_s':>8}")
            for config in CONFIGS:
                print(f"  {config:8} {median(config, 'train_s'):8.3f} {median(config, 'wall_s'):8.3f}")
            one = median("1x1", "train_s")
            bytes_per_step = statistics.median(int(t["bytes_sent"]) for t in runs["2x1"]) // steps
            print(f"RESULT_MPI model={model} train_1x1_s={one:.3f} "
                  f"train_2x1_s={median('2x1', 'train_s'):.3f} "
                  f"speedup_train={one / median('2x1', 'train_s'):.3f} "
                  f"speedup_wall={median('1x1', 'wall_s') / median('2x1', 'wall_s'):.3f} "
                  f"speedup_ceiling={one / median('ceiling', 'train_s'):.3f} "
                  f"speedup_1x2={one / median('1x2', 'train_s'):.3f} "
                  f"shards2_cost={median('shards2', 'train_s') / one:.3f} "
                  f"comm_s={median('2x1', 'comm_s'):.3f} bytes_per_step={bytes_per_step} "
                  f"rounds={args.rounds}", flush=True)


if __name__ == "__main__":
    main()
