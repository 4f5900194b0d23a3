"""A BiLSTM-CRF tagger for named-entity recognition as in Lample et al. 2016 ("Neural
Architectures for Named Entity Recognition"), in PyTorch on the CPU: the strong peer of
`nabla ner train` in scripts/bench.sh --task ner (issue 28).

Each word is the concatenation of its word vector (looked up lower-cased, starting from
the same GloVe file and vocabulary as the window peer, bench/peers/torch_window_ner.py,
and trained with the rest) and a character representation: the last states of a
bidirectional LSTM over its characters (case kept), 25 units each way, as in the paper.
Dropout 0.5 on that concatenation; a bidirectional LSTM over the sentence (100 units
each way); a linear map to each tag's emission score; a CRF over the IOB2 tags of the
sentence: a learned matrix of tag-to-tag transition scores with start and end scores,
trained on the sentence's log-likelihood (the forward algorithm in log space) and
decoded by Viterbi. The CRF is written here; no BIO constraint is imposed, the
transitions learn it. Training: the paper's is SGD, learning rate 0.01, one sentence a
step, gradients clipped at norm 5.0 (`--optimizer sgd --batch 1`); within the benchmark's
10 epochs that learns too slowly (on the first 2,000 training tweets, batches of 8: dev F1
0.05 after 3 epochs, against 0.37 after one with Adam), so the default is Adam, learning
rate 0.001, the losses of 8 sentences summed a step, gradients clipped at norm 5.0.
After every epoch the dev set is tagged and scored (entity F1, the CoNLL way, the window
peer's scorer), and the epoch with the best dev F1 tags the test set.

    /usr/bin/python3 bench/peers/torch_bilstm_crf_ner.py [--vectors data/glove/glove.6B.100d.txt]
        [--epochs 10] [--threads 1] [--batch 8] [--optimizer adam|sgd] [--lr 0.001]
    /usr/bin/python3 bench/peers/torch_bilstm_crf_ner.py --self-test

--self-test checks the CRF against brute force on small random problems (float64): the
log-partition of the forward algorithm against the log of the sum over every tag path,
its gradient with respect to the emissions against the tags' marginal probabilities, the
gold path's score against the path's sum of scores, and Viterbi against the best of every
path; it prints one line per check and exits 1 on a mismatch.

Ends with one line (times: the epochs' training and the dev evaluations, data loading
excluded)
    PEER name=torch_bilstm_crf wall_s=... train_s=... eval_s=... tokens_per_s=... dev_f1=... test_f1=...
         train_eval_cpu_s=...
"""
import argparse
import itertools
import math
import sys
import time

# (sets the thread variables from --threads before torch loads, and starts the clock)
import torch_window_ner as window_peer  # bench/peers/torch_window_ner.py: data and scorer

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402


class CRF(nn.Module):
    """Linear-chain CRF over T tags. Scores of a tag path y_1..y_n of a sentence with
    emissions e (n x T): start[y_1] + sum_t e[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_n].
    Batches are padded: emissions (B, L, T), mask (B, L) true on a sentence's tokens, which
    come first (every sentence has at least one)."""

    def __init__(self, tags):
        super().__init__()
        self.trans = nn.Parameter(torch.zeros(tags, tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(tags))
        self.end = nn.Parameter(torch.zeros(tags))

    def path_score(self, emissions, tags, mask):
        """The score of the given tag paths (B, L): (B,)."""
        b, length, _ = emissions.shape
        rows = torch.arange(b)
        mask_f = mask.to(emissions.dtype)
        score = self.start[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
        for t in range(1, length):
            step = self.trans[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]
            score = score + step * mask_f[:, t]
        last = tags[rows, mask.sum(1) - 1]
        return score + self.end[last]

    def log_partition(self, emissions, mask):
        """log sum over every tag path of exp(score), by the forward recursion: (B,).
        alpha[b, j] = log-sum of the scores of the paths of the first t tokens ending in j."""
        length = emissions.shape[1]
        alpha = self.start + emissions[:, 0]  # (B, T)
        for t in range(1, length):
            # (B, T_from, 1) + (T_from, T_to) + (B, 1, T_to), summed out over T_from
            nxt = torch.logsumexp(alpha.unsqueeze(2) + self.trans + emissions[:, t].unsqueeze(1),
                                  dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def neg_log_likelihood(self, emissions, tags, mask):
        """Summed over the batch: sum_b log Z_b - score(gold_b)."""
        return (self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)).sum()

    def viterbi(self, emissions, mask):
        """The best path of each sentence, as lists of its tokens' tags, and their scores."""
        length = emissions.shape[1]
        best = self.start + emissions[:, 0]  # (B, T): the best score of a path ending in j
        back = []
        for t in range(1, length):
            candidates = best.unsqueeze(2) + self.trans  # (B, T_from, T_to)
            value, arg = candidates.max(dim=1)
            back.append(arg)
            best = torch.where(mask[:, t].unsqueeze(1), value + emissions[:, t], best)
        final = best + self.end
        scores, last = final.max(dim=1)
        lengths = mask.sum(1).tolist()
        back = [a.tolist() for a in back]
        paths = []
        for b, n in enumerate(lengths):
            tag = int(last[b])
            path = [tag]
            for t in range(n - 1, 0, -1):
                tag = back[t - 1][b][tag]
                path.append(tag)
            paths.append(path[::-1])
        return paths, scores


class BiLstmCrfTagger(nn.Module):
    """Word vector + character BiLSTM -> dropout -> word BiLSTM -> emissions -> CRF."""

    def __init__(self, word_table, chars, tags, char_dim=25, char_hidden=25, hidden=100,
                 dropout=0.5):
        super().__init__()
        self.words = nn.Embedding.from_pretrained(word_table, freeze=False)
        self.chars = nn.Embedding(chars, char_dim, padding_idx=0)
        self.char_lstm = nn.LSTM(char_dim, char_hidden, bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(word_table.shape[1] + 2 * char_hidden, hidden, bidirectional=True,
                            batch_first=True)
        self.emit = nn.Linear(2 * hidden, tags)
        self.crf = CRF(tags)

    def emissions(self, batch):
        words, chars, char_lengths, lengths = batch
        b, length = words.shape
        # characters: the batch's words one after another (N = the sum of the lengths)
        packed = pack_padded_sequence(self.chars(chars), char_lengths, batch_first=True,
                                      enforce_sorted=False)
        _, (h, _) = self.char_lstm(packed)  # h: (2, N, char_hidden)
        mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
        char_repr = h.new_zeros(b, length, 2 * h.shape[2])
        char_repr[mask] = torch.cat([h[0], h[1]], dim=1)  # (row-major: sentence by sentence)
        x = self.dropout(torch.cat([self.words(words), char_repr], dim=2))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=length)
        return self.emit(out)  # (B, L, T)


def encode(sentences, index, char_index, tag_index):
    """Each sentence as (word ids, per-word char ids, tag ids). (BTC's dev and test sets
    hold a few empty tokens: one padding character stands for their characters.)"""
    out = []
    for s in sentences:
        words = [index.get(w.lower(), 1) for w, _ in s]
        chars = [[char_index.get(c, 1) for c in w] or [0] for w, _ in s]
        tags = [tag_index.get(t, tag_index["O"]) for _, t in s]
        out.append((words, chars, tags))
    return out


def make_batch(examples):
    """Padded tensors of a list of encoded sentences: words (B, L), the characters of the
    N words one sentence after another (N, W), their lengths (N), sentence lengths (B),
    tags (B, L), mask (B, L)."""
    lengths = [len(w) for w, _, _ in examples]
    length = max(lengths)
    all_chars = [c for _, cs, _ in examples for c in cs]
    width = max(len(c) for c in all_chars)
    b = len(examples)
    words = torch.zeros(b, length, dtype=torch.long)
    tags = torch.zeros(b, length, dtype=torch.long)
    chars = torch.zeros(len(all_chars), width, dtype=torch.long)
    for i, (w, _, t) in enumerate(examples):
        words[i, :len(w)] = torch.tensor(w)
        tags[i, :len(t)] = torch.tensor(t)
    for k, c in enumerate(all_chars):
        chars[k, :len(c)] = torch.tensor(c)
    char_lengths = torch.tensor([len(c) for c in all_chars])
    mask = torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    return (words, chars, char_lengths, torch.tensor(lengths)), tags, mask


def self_test():
    """The CRF against brute force over every path (float64); True when all agree."""
    torch.manual_seed(0)
    ok = True
    for tags_n, lengths in ((3, [4, 1, 3]), (4, [2, 5]), (2, [6])):
        crf = CRF(tags_n).double()
        with torch.no_grad():
            for p in crf.parameters():
                p.normal_()
        length = max(lengths)
        emissions = torch.randn(len(lengths), length, tags_n, dtype=torch.float64)
        mask = torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
        emissions.requires_grad_(True)
        log_z = crf.log_partition(emissions, mask)
        # d log Z / d emission[t, j] is the probability that token t has tag j
        marginals, = torch.autograd.grad(log_z.sum(), emissions)
        log_z = log_z.detach()
        emissions = emissions.detach()
        with torch.no_grad():
            paths, best_scores = crf.viterbi(emissions, mask)
        for b, n in enumerate(lengths):
            # every path, scored term by term
            scores = {}
            for path in itertools.product(range(tags_n), repeat=n):
                s = float(crf.start[path[0]]) + float(crf.end[path[-1]])
                s += sum(float(emissions[b, t, path[t]]) for t in range(n))
                s += sum(float(crf.trans[path[t - 1], path[t]]) for t in range(1, n))
                scores[path] = s
            top = max(scores.values())
            brute_log_z = top + math.log(sum(math.exp(v - top) for v in scores.values()))
            brute_best = max(scores, key=scores.get)
            some = list(scores)[len(scores) // 2]  # a path to score as "gold"
            gold = torch.zeros(1, length, dtype=torch.long)
            gold[0, :n] = torch.tensor(some)
            with torch.no_grad():
                gold_score = float(crf.path_score(emissions[b:b + 1], gold, mask[b:b + 1]))
            checks = [
                ("log-partition", float(log_z[b]), brute_log_z),
                ("path score", gold_score, scores[some]),
                ("viterbi score", float(best_scores[b]), scores[brute_best]),
            ]
            for name, got, want in checks:
                good = abs(got - want) <= 1e-9 * max(1.0, abs(want))
                ok &= good
                print(f"self-test T={tags_n} n={n} ({tags_n ** n} paths): {name} {got:.12f} "
                      f"brute force {want:.12f} {'ok' if good else 'MISMATCH'}")
            brute_marginals = torch.zeros(length, tags_n, dtype=torch.float64)
            for path, v in scores.items():
                for t in range(n):
                    brute_marginals[t, path[t]] += math.exp(v - brute_log_z)
            error = float((marginals[b] - brute_marginals).abs().max())
            good = error <= 1e-9
            ok &= good
            print(f"self-test T={tags_n} n={n}: gradient of log-partition vs tag marginals, "
                  f"largest difference {error:.1e} {'ok' if good else 'MISMATCH'}")
            good = tuple(paths[b]) == brute_best
            ok &= good
            print(f"self-test T={tags_n} n={n}: viterbi path {paths[b]} brute force "
                  f"{list(brute_best)} {'ok' if good else 'MISMATCH'}")
    print("self-test: " + ("passed" if ok else "FAILED"))
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = window_peer.default_paths()
    parser.add_argument("--train", default=defaults["train"])
    parser.add_argument("--dev", default=defaults["dev"])
    parser.add_argument("--test", default=defaults["test"])
    parser.add_argument("--vectors", default=defaults["vectors"])
    parser.add_argument("--hidden", type=int, default=100, help="word LSTM units each way")
    parser.add_argument("--char-dim", type=int, default=25)
    parser.add_argument("--char-hidden", type=int, default=25, help="char LSTM units each way")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8, help="sentences per step")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default 0.01 for sgd, 0.001 for adam)")
    parser.add_argument("--clip", type=float, default=5.0, help="gradient norm clipping")
    parser.add_argument("--limit", type=int, default=0,
                        help="train on the first N sentences only (0: all; for a quick check)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--self-test", action="store_true",
                        help="check the CRF against brute force and exit")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.self_test:
        return 0 if self_test() else 1
    torch.manual_seed(args.seed)

    read = window_peer.read_conll
    train, dev, test = read(args.train), read(args.dev), read(args.test)
    if args.limit:
        train = train[:args.limit]
    index, table = window_peer.word_table(train, dev, test, args.vectors)
    tags = sorted({t for s in train for _, t in s})
    tag_index = {t: i for i, t in enumerate(tags)}
    # characters of the training words (0 padding, 1 unknown)
    char_index = {c: i + 2 for i, c in enumerate(sorted({c for s in train for w, _ in s
                                                          for c in w}))}
    train_x = encode(train, index, char_index, tag_index)
    dev_x, test_x = encode(dev, index, char_index, tag_index), encode(test, index, char_index,
                                                                       tag_index)

    model = BiLstmCrfTagger(table, len(char_index) + 2, len(tags), args.char_dim,
                            args.char_hidden, args.hidden, args.dropout)
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr or 0.01)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr or 0.001)
    print(f"data: {len(train)} / {len(dev)} / {len(test)} sentences, {len(index)} words, "
          f"{len(char_index)} characters, {len(tags)} tags; {args.optimizer} lr "
          f"{optimizer.param_groups[0]['lr']}, batch {args.batch} sentences, clip {args.clip}, "
          f"{args.epochs} epochs", flush=True)

    def tag(examples, batch=64):
        model.eval()
        out = []
        with torch.inference_mode():
            for i in range(0, len(examples), batch):
                inputs, _, mask = make_batch(examples[i:i + batch])
                paths, _ = model.crf.viterbi(model.emissions(inputs), mask)
                out += [[tags[k] for k in p] for p in paths]
        model.train()
        return out

    gold_dev = [[t for _, t in s] for s in dev]
    gold_test = [[t for _, t in s] for s in test]
    train_tokens = sum(len(s) for s in train)
    train_s = eval_s = 0.0
    cpu0 = time.process_time()  # (CPU time too: on a loaded machine, wall time waits)
    best_f1, best_state = -1.0, None
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        order = torch.randperm(len(train_x), generator=generator).tolist()
        total = 0.0
        for i in range(0, len(order), args.batch):
            inputs, gold, mask = make_batch([train_x[k] for k in order[i:i + args.batch]])
            loss = model.crf.neg_log_likelihood(model.emissions(inputs), gold, mask)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            total += loss.item()
        t1, c1 = time.perf_counter(), time.process_time()
        dev_f1 = window_peer.entity_f1(gold_dev, tag(dev_x))
        t2 = time.perf_counter()
        train_s, eval_s = train_s + t1 - t0, eval_s + t2 - t1
        if dev_f1 > best_f1:
            best_f1 = dev_f1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        print(f"epoch {epoch}: loss {total / len(train_x):.4f} per sentence, dev F1 "
              f"{dev_f1:.4f}, {t1 - t0:.1f} s training ({c1 - c0:.1f} s CPU), "
              f"{t2 - t1:.1f} s dev", flush=True)
    cpu_s = time.process_time() - cpu0
    model.load_state_dict(best_state)
    test_f1 = window_peer.entity_f1(gold_test, tag(test_x))
    wall = time.perf_counter() - window_peer.START
    tokens_per_s = args.epochs * train_tokens / train_s
    print(f"PEER name=torch_bilstm_crf wall_s={wall:.2f} train_s={train_s:.2f} "
          f"eval_s={eval_s:.2f} tokens_per_s={tokens_per_s:.0f} dev_f1={best_f1:.4f} "
          f"test_f1={test_f1:.4f} train_eval_cpu_s={cpu_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
