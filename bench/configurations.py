"""Each program of a benchmark in the configurations its users would pick, and the honest
comparison: every peer at its best, nabla at the same thread count (issue 29, item 1).

A configuration is one program at one thread count: nabla at 1 and 2 threads, the NumPy
peer with 1 and 2 OpenBLAS threads, PyTorch idiomatic (its default threads) and tuned
at 1 and 2 threads. run_rounds() runs them all, alternating, for several rounds and keeps
each one's median run; compare() finds each peer's best configuration and sets nabla at
that configuration's thread count against it, and also gives the ratio at 1 and at 2
threads against the best peer configuration with that many threads.
"""
import os


def thread_counts():
    """The thread counts measured: 1 and 2 (nabla's default is the cores, at most 2)."""
    return [1, 2] if (os.cpu_count() or 1) >= 2 else [1]


class Config:
    """One program in one configuration. family: "nabla", "numpy" or "torch"."""

    def __init__(self, family, variant, threads, command, env):
        self.family, self.variant, self.threads = family, variant, threads
        self.command, self.env = command, env

    @property
    def label(self):
        return f"{self.family}{'_' + self.variant if self.variant else ''}@{self.threads}t"


def median_run(results):
    """The run with the median wall time (the lower middle one of an even count)."""
    ordered = sorted(results, key=lambda r: r["wall_s"])
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def run_rounds(configs, rounds, run_one, log, between=None):
    """{label: median result} over `rounds` alternating rounds; run_one(config, round) gives
    a result dict with "wall_s" (or None when the program failed); between() runs after
    each round (e.g. the peak-rate measurement)."""
    runs = {c.label: [] for c in configs}
    for round_number in range(1, rounds + 1):
        log(f"round {round_number} of {rounds}")
        for c in configs:
            result = run_one(c, round_number)
            if result:
                runs[c.label].append(result)
        if between:
            between()
    medians = {}
    for label, results in runs.items():
        m = median_run(results)
        if m:
            medians[label] = dict(m, walls=[r["wall_s"] for r in results])
    return medians


def best_of(configs, medians, family, threads=None):
    """(config, result) of the fastest median of `family` (at `threads` when given)."""
    found = [(c, medians[c.label]) for c in configs
             if c.family == family and c.label in medians
             and (threads is None or c.threads == threads)]
    return min(found, key=lambda cr: cr[1]["wall_s"]) if found else (None, None)


def compare(configs, medians, peers, fmt, ratio):
    """RESULT fields: nabla at each thread count; per peer family its best configuration,
    nabla at that configuration's thread count against it, and the ratios at 1 and at 2
    threads against the peer's best configuration with that many threads."""
    fields = []
    nabla_at = {}
    for t in thread_counts():
        _, r = best_of(configs, medians, "nabla", t)
        nabla_at[t] = r["wall_s"] if r else None
        fields.append((f"nabla_{t}t_s", fmt(nabla_at[t], ".3f")))
    default_threads = max(thread_counts())
    fields.insert(0, ("nabla_s", fmt(nabla_at.get(default_threads), ".3f")))
    for family in peers:
        config, r = best_of(configs, medians, family)
        same = None
        if config:
            same = nabla_at.get(min(config.threads, default_threads))
        fields += [
            (f"{family}_best_s", fmt(r["wall_s"] if r else None, ".3f")),
            (f"{family}_best_config", config.label if config else "NA"),
            (f"nabla_vs_{family}_best", fmt(ratio(same, r["wall_s"] if r else None), ".4f")),
        ]
        for t in thread_counts():
            _, rt = best_of(configs, medians, family, t)
            fields.append((f"nabla_vs_{family}_{t}t",
                           fmt(ratio(nabla_at.get(t), rt["wall_s"] if rt else None), ".4f")))
    return fields
