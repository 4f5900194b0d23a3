"""`--task ner` of bench/run_bench.py: `nabla ner train` against two PyTorch peers on the
same data, side by side: the window classifier (bench/peers/torch_window_ner.py: nabla's
window model) and a BiLSTM-CRF (bench/peers/torch_bilstm_crf_ner.py: Lample et al. 2016).

    /usr/bin/python3 bench/run_bench.py --task ner [--rounds N] [--epochs 10] [--build DIR]
                                        [--coretype SKYLAKEX|asis]
                                        [--only nabla,nabla_window,torch,bilstm_crf]

Each round runs nabla with its default decoder (viterbi: "nabla") and with --decoder
window ("nabla_window"), then the window peer ("torch") and the BiLSTM-CRF peer
("bilstm_crf"), or those that --only names, each under /usr/bin/time (wall time, peak
RSS), all with one thread and the same OPENBLAS_CORETYPE (SKYLAKEX on a CPU with AVX-512,
as for the tuned MNIST peer, so that no side runs OpenBLAS's fallback kernels;
`--coretype asis` leaves the environment alone). The figure of the issue is the time of
the epochs plus the dev evaluations after each (data loading excluded on every side); the
fastest round counts. Ends with one line (NA for what did not run)

    RESULT_NER nabla_s=... torch_s=... nabla_vs_torch=... nabla_tokens_per_s=...
               torch_tokens_per_s=... nabla_rss_mb=... torch_rss_mb=... nabla_test_f1=...
               torch_test_f1=... nabla_wall_s=... nabla_window_s=... nabla_window_test_f1=...
               torch_wall_s=... nabla_dev_f1=... nabla_window_dev_f1=... torch_dev_f1=...
               bilstm_crf_s=... bilstm_crf_test_f1=... bilstm_crf_dev_f1=...
               nabla_vs_bilstm_crf=... bilstm_crf_tokens_per_s=... bilstm_crf_rss_mb=...
               bilstm_crf_wall_s=...
"""
import os
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = {"torch": os.path.join(ROOT, "bench", "peers", "torch_window_ner.py"),
         "bilstm_crf": os.path.join(ROOT, "bench", "peers", "torch_bilstm_crf_ner.py")}
# nabla's runs: the name, its --decoder
NABLA_RUNS = (("nabla", "viterbi"), ("nabla_window", "window"))
PROGRAMS = [name for name, _ in NABLA_RUNS] + list(PEERS)

NABLA_TIMES_RE = re.compile(r"([0-9.]+) s training, ([0-9.]+) s evaluation on its thread")
# (the training tokens: "data: 99933 / ... tokens", or with sentences as the examples
# "data: 6338 / ... sentences (99933 training tokens)")
NABLA_DATA_RE = re.compile(r"data: (?:\d+ / \d+ / \d+ sentences \()?(\d+)[ /]")
FINAL_RE = re.compile(r"final: dev F1, test F1 \| ([0-9.]+), ([0-9.]+)")
KEY_VALUE_RE = re.compile(r"(\w+)=(\S+)")


def log(message):
    print(f"bench: {message}", flush=True)


def run_timed(name, command, env):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as time_file:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", time_file.name] + command
        log(f"running {name}: {' '.join(command)}")
        proc = subprocess.run(full, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        time_lines = [line for line in time_file.read().split("\n") if line.strip()]
    for line in proc.stdout.splitlines():
        print(f"  [{name}] {line}", flush=True)
    if proc.returncode != 0:
        log(f"{name} failed (exit status {proc.returncode})")
        return None
    wall, rss_kb = time_lines[-1].split()
    return proc.stdout, float(wall), int(rss_kb) / 1024.0


def nabla_figures(out, wall, rss, epochs):
    times, data, final = NABLA_TIMES_RE.search(out), NABLA_DATA_RE.search(out), FINAL_RE.search(out)
    if not (times and data and final):
        return None
    train_s, eval_s = float(times.group(1)), float(times.group(2))
    return {"s": train_s + eval_s, "tokens_per_s": epochs * int(data.group(1)) / train_s,
            "rss_mb": rss, "test_f1": float(final.group(2)), "dev_f1": float(final.group(1)),
            "wall_s": wall}


def torch_figures(out, wall, rss):
    line = next((line for line in out.splitlines() if line.startswith("PEER ")), None)
    if line is None:
        return None
    f = dict(KEY_VALUE_RE.findall(line))
    return {"s": float(f["train_s"]) + float(f["eval_s"]),
            "tokens_per_s": float(f["tokens_per_s"]), "rss_mb": rss,
            "test_f1": float(f["test_f1"]), "dev_f1": float(f["dev_f1"]), "wall_s": wall}


def run(args, cpu_model, has_avx512):
    build = os.path.abspath(args.build)
    nabla = os.path.join(build, "nabla")
    only = args.only.split(",") if args.only else PROGRAMS
    unknown = [name for name in only if name not in PROGRAMS]
    if unknown:
        log(f"--only: unknown program(s) {','.join(unknown)} (--task ner runs "
            f"{','.join(PROGRAMS)})")
        return 2
    vectors = os.path.join(ROOT, "data", "glove", "glove.6B.100d.txt")
    if not os.path.exists(vectors):
        log(f"{vectors} is missing: run scripts/fetch_glove.sh")
        return 1
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if args.coretype != "asis":
        coretype = args.coretype or ("SKYLAKEX" if has_avx512 else "")
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        else:
            env.pop("OPENBLAS_CORETYPE", None)
    log(f"CPU: {cpu_model}; OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"one thread each; {args.epochs} epochs + a dev evaluation after each; "
        f"programs: {','.join(only)}")
    scratch = tempfile.TemporaryDirectory(prefix="nabla-ner-bench-")
    best = {}

    def keep(name, fig):
        if fig and (name not in best or fig["s"] < best[name]["s"]):
            best[name] = fig

    for round_number in range(1, args.rounds + 1):
        log(f"round {round_number} of {args.rounds}")
        for name, decoder in NABLA_RUNS:
            if name not in only:
                continue
            r = run_timed(name, [nabla, "ner", "train", "--decoder", decoder, "--epochs",
                                 str(args.epochs), "--threads", "1", "--out",
                                 os.path.join(scratch.name, f"{decoder}-{round_number}")], env)
            keep(name, r and nabla_figures(*r, args.epochs))
        for name, peer in PEERS.items():
            if name not in only:
                continue
            r = run_timed(name, ["/usr/bin/python3", peer, "--epochs", str(args.epochs),
                                 "--vectors", vectors, "--threads", "1"], env)
            keep(name, r and torch_figures(*r))

    def get(name, key, spec):
        value = best.get(name, {}).get(key)
        return "NA" if value is None else format(value, spec)

    def ratio(a, b):
        if a not in best or b not in best:
            return "NA"
        return f"{best[a]['s'] / best[b]['s']:.4f}"

    print()
    print(f"CPU: {cpu_model} ({os.cpu_count()} cores); BTC, {args.epochs} epochs + dev "
          f"evaluations, one thread; best of {args.rounds} round(s)")
    header = f"{'program':<12} {'train+dev_s':>11} {'tokens/s':>10} {'wall_s':>8} " \
             f"{'rss_mb':>8} {'dev_f1':>7} {'test_f1':>7}"
    print(header)
    print("-" * len(header))
    for name in only:
        print(f"{name:<12} {get(name, 's', '>11.2f')} {get(name, 'tokens_per_s', '>10.0f')} "
              f"{get(name, 'wall_s', '>8.2f')} {get(name, 'rss_mb', '>8.1f')} "
              f"{get(name, 'dev_f1', '>7.4f')} {get(name, 'test_f1', '>7.4f')}")
    for peer in PEERS:
        if ratio("nabla", peer) != "NA":
            print(f"nabla / {peer} (epochs + dev evaluations): {ratio('nabla', peer)}")
    print()
    fields = [("nabla_s", get("nabla", "s", ".3f")), ("torch_s", get("torch", "s", ".3f")),
              ("nabla_vs_torch", ratio("nabla", "torch")),
              ("nabla_tokens_per_s", get("nabla", "tokens_per_s", ".0f")),
              ("torch_tokens_per_s", get("torch", "tokens_per_s", ".0f")),
              ("nabla_rss_mb", get("nabla", "rss_mb", ".1f")),
              ("torch_rss_mb", get("torch", "rss_mb", ".1f")),
              ("nabla_test_f1", get("nabla", "test_f1", ".4f")),
              ("torch_test_f1", get("torch", "test_f1", ".4f")),
              ("nabla_wall_s", get("nabla", "wall_s", ".2f")),
              ("nabla_window_s", get("nabla_window", "s", ".3f")),
              ("nabla_window_test_f1", get("nabla_window", "test_f1", ".4f")),
              ("torch_wall_s", get("torch", "wall_s", ".2f")),
              ("nabla_dev_f1", get("nabla", "dev_f1", ".4f")),
              ("nabla_window_dev_f1", get("nabla_window", "dev_f1", ".4f")),
              ("torch_dev_f1", get("torch", "dev_f1", ".4f")),
              ("bilstm_crf_s", get("bilstm_crf", "s", ".3f")),
              ("bilstm_crf_test_f1", get("bilstm_crf", "test_f1", ".4f")),
              ("bilstm_crf_dev_f1", get("bilstm_crf", "dev_f1", ".4f")),
              ("nabla_vs_bilstm_crf", ratio("nabla", "bilstm_crf")),
              ("bilstm_crf_tokens_per_s", get("bilstm_crf", "tokens_per_s", ".0f")),
              ("bilstm_crf_rss_mb", get("bilstm_crf", "rss_mb", ".1f")),
              ("bilstm_crf_wall_s", get("bilstm_crf", "wall_s", ".2f"))]
    print("RESULT_NER " + " ".join(f"{k}={v}" for k, v in fields), flush=True)
    # (fails when a program that ran gave no figures)
    return 0 if all(name in best for name in only) else 1
