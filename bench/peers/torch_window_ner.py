"""The lecture's window classifier for named-entity recognition, in PyTorch on the CPU:
the peer of nabla's `nabla ner train` in scripts/bench.sh.

Each token is tagged from the window of 2 * window + 1 tokens around it (padding beyond a
sentence's edges): their word vectors concatenated, h = tanh(W x + b), a softmax over the
IOB2 tags. Words are looked up lower-cased; vectors start from GloVe (words of the
corpus found in it; training words not in it start random, other words share <unk>) and
are trained with the rest. Adam, cross-entropy, batches of shuffled tokens; after every
epoch the dev set is tagged and scored (entity F1, the CoNLL way), and the epoch with the
best dev F1 tags the test set.

    /usr/bin/python3 bench/peers/torch_window_ner.py [--vectors data/glove/glove.6B.100d.txt]
        [--epochs 10] [--threads 1]

Ends with one line
    PEER name=torch_ner wall_s=... train_s=... eval_s=... tokens_per_s=... dev_f1=... test_f1=...
"""
import argparse
import os
import sys
import time

START = time.perf_counter()


def _threads_from_argv():
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


# Read when the libraries load: set before torch imports.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = _threads_from_argv()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def read_conll(path):
    """Sentences as lists of (token, tag): last column the tag, blank lines end one."""
    sentences, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if line.strip() == "":
                if current:
                    sentences.append(current)
                current = []
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            if cols[0] == "-DOCSTART-":
                continue
            current.append((cols[0], cols[-1]))
    if current:
        sentences.append(current)
    return sentences


def entity_spans(tags):
    """Entities (begin, end, type) as CoNLL's evaluation reads IOB tags."""
    spans, open_type = [], None
    for i, tag in enumerate(tags):
        if tag == "O":
            open_type = None
            continue
        prefix, kind = tag[0], tag[2:]
        if prefix == "I" and open_type == kind:
            spans[-1][1] = i + 1
            continue
        spans.append([i, i + 1, kind])
        open_type = kind
    return {tuple(s) for s in spans}


def entity_f1(gold, predicted):
    g = p = c = 0
    for gs, ps in zip(gold, predicted):
        a, b = entity_spans(gs), entity_spans(ps)
        g, p, c = g + len(a), p + len(b), c + len(a & b)
    precision = c / p if p else 0.0
    recall = c / g if g else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def read_vectors(path, wanted):
    vectors = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, rest = line.rstrip("\n").split(" ", 1)
            if word in wanted:
                vectors[word] = [float(x) for x in rest.split(" ")]
    return vectors


def word_table(train, dev, test, vectors_path):
    """The lower-cased words and their starting vectors: GloVe's for the corpus's words
    found in it, uniform(-0.1, 0.1) for training words not in it, zeros for <pad> (0) and
    <unk> (1), which the other words share. Returns (index: word -> row, table)."""
    corpus_words = {w.lower() for data in (train, dev, test) for s in data for w, _ in s}
    pretrained = read_vectors(vectors_path, corpus_words)
    dim = len(next(iter(pretrained.values())))
    train_words = {w.lower() for s in train for w, _ in s}
    vocab = ["<pad>", "<unk>"] + sorted(pretrained) + sorted(train_words - set(pretrained))
    index = {w: i for i, w in enumerate(vocab)}
    table = torch.empty(len(vocab), dim).uniform_(-0.1, 0.1)
    table[0].zero_()
    table[1].zero_()
    for w, v in pretrained.items():
        table[index[w]] = torch.tensor(v)
    return index, table


def windows(ids, window):
    """For each token, the ids of the window around it (0 = padding)."""
    padded = [0] * window + ids + [0] * window
    return [padded[i:i + 2 * window + 1] for i in range(len(ids))]


def default_paths():
    """BTC's splits and the GloVe file (the full one, or else the shared subset)."""
    btc = os.path.join(ROOT, "corpora", "btc")
    full = os.path.join(ROOT, "data", "glove", "glove.6B.100d.txt")
    subset = os.path.join(ROOT, "..", "shared", "data", "glove", "glove.6B.100d.subset.txt")
    return {"train": os.path.join(btc, "btc.train"), "dev": os.path.join(btc, "btc.dev"),
            "test": os.path.join(btc, "btc.test"),
            "vectors": full if os.path.exists(full) else subset}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = default_paths()
    parser.add_argument("--train", default=defaults["train"])
    parser.add_argument("--dev", default=defaults["dev"])
    parser.add_argument("--test", default=defaults["test"])
    parser.add_argument("--vectors", default=defaults["vectors"])
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    train, dev, test = read_conll(args.train), read_conll(args.dev), read_conll(args.test)
    index, table = word_table(train, dev, test, args.vectors)
    dim = table.shape[1]
    tags = sorted({t for s in train for _, t in s})
    tag_index = {t: i for i, t in enumerate(tags)}

    def encode(data):
        xs, ys = [], []
        for s in data:
            ids = [index.get(w.lower(), 1) for w, _ in s]
            xs += windows(ids, args.window)
            ys += [tag_index.get(t, tag_index["O"]) for _, t in s]
        return torch.tensor(xs), torch.tensor(ys)

    x_train, y_train = encode(train)
    x_dev, _ = encode(dev)
    x_test, _ = encode(test)
    width = 2 * args.window + 1

    model = nn.Sequential(
        nn.Embedding.from_pretrained(table, freeze=False, padding_idx=None),
        nn.Flatten(),
        nn.Linear(width * dim, args.hidden),
        nn.Tanh(),
        nn.Linear(args.hidden, len(tags)),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    def tag(data, x):
        model.eval()
        with torch.inference_mode():
            predicted = model(x).argmax(1).tolist()
        model.train()
        out, k = [], 0
        for s in data:
            out.append([tags[i] for i in predicted[k:k + len(s)]])
            k += len(s)
        return out

    gold_dev = [[t for _, t in s] for s in dev]
    gold_test = [[t for _, t in s] for s in test]
    train_s = eval_s = 0.0
    best_f1, best_state = -1.0, None
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order = torch.randperm(len(y_train), generator=generator)
        total = 0.0
        for i in range(0, len(order), args.batch):
            batch = order[i:i + args.batch]
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        t1 = time.perf_counter()
        dev_f1 = entity_f1(gold_dev, tag(dev, x_dev))
        t2 = time.perf_counter()
        train_s, eval_s = train_s + t1 - t0, eval_s + t2 - t1
        if dev_f1 > best_f1:
            best_f1 = dev_f1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        print(f"epoch {epoch}: loss {total / len(y_train):.4f}, dev F1 {dev_f1:.4f}, "
              f"{t1 - t0:.1f} s", flush=True)
    model.load_state_dict(best_state)
    test_f1 = entity_f1(gold_test, tag(test, x_test))
    wall = time.perf_counter() - START
    tokens_per_s = args.epochs * len(y_train) / train_s
    print(f"PEER name=torch_ner wall_s={wall:.2f} train_s={train_s:.2f} eval_s={eval_s:.2f} "
          f"tokens_per_s={tokens_per_s:.0f} dev_f1={best_f1:.4f} test_f1={test_f1:.4f}")


if __name__ == "__main__":
    main()
