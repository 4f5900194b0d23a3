// Sentence-level tagging (ops/crf.h) on a sentence small enough to check by hand: three
// words, two tags, the 8 tag paths scored one by one, the forward recursion that sums
// them in 3 x 2 x 2 steps, the loss and its gradient, and Viterbi's best path.
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "examples.h"
#include "nabla/ops/crf.h"
#include "nabla/ops/ops.h"

namespace nabla::cli {

namespace {

// The same loss as a graph of scalar nodes (what --dot draws): the forward recursion's
// log-sum-exps and the gold path's sum, each score a leaf whose gradient backward fills;
// it must agree with crf_loss_gradient's, and the example says so.
Var loss_graph(const Tensor& e, const Tensor& a, const std::vector<std::int64_t>& gold,
               const std::vector<std::string>& words, const std::vector<std::string>& tags,
               std::ostream& out) {
  std::vector<std::vector<Var>> em(3), tr(4);
  const std::vector<std::string> from = {"O", "PER", "start", "end"};
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < 2; ++j) {
      em[t].push_back(scalar(e.get(static_cast<std::int64_t>(2 * t + j)),
                             "E[" + words[t] + "][" + tags[j] + "]"));
    }
  }
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      tr[i].push_back(scalar(a.get(static_cast<std::int64_t>(2 * i + j)),
                             "A[" + from[i] + "][" + tags[j] + "]"));
    }
  }
  auto logsumexp2 = [](const Var& x, const Var& y) { return log(exp(x) + exp(y)); };
  std::vector<Var> alpha = {tr[2][0] + em[0][0], tr[2][1] + em[0][1]};
  for (std::size_t t = 1; t < 3; ++t) {
    std::vector<Var> next;
    for (std::size_t j = 0; j < 2; ++j) {
      next.push_back((em[t][j] + logsumexp2(alpha[0] + tr[0][j], alpha[1] + tr[1][j]))
                         .set_name("alpha_" + std::to_string(t) + "[" + tags[j] + "]"));
    }
    alpha = next;
  }
  Var log_z = logsumexp2(alpha[0] + tr[3][0], alpha[1] + tr[3][1]).set_name("log Z");
  const auto g = [&](std::size_t t) { return static_cast<std::size_t>(gold[t]); };
  Var gold_score = (tr[2][g(0)] + em[0][g(0)] + tr[g(0)][g(1)] + em[1][g(1)] + tr[g(1)][g(2)] +
                    em[2][g(2)] + tr[3][g(2)])
                       .set_name("s(gold)");
  Var loss = (log_z - gold_score).set_name("loss");
  loss.backward();
  out << "the same loss as a graph of scalar nodes (--dot draws it): " << format_number(loss.item())
      << "; its dloss/dE[Alice][O] = " << format_number(em[0][0].grad().item())
      << ", dloss/dA[O][PER] = " << format_number(tr[0][1].grad().item()) << "\n";
  return loss;
}

Var sentence_crf(std::ostream& out) {
  const std::vector<std::string> words = {"Alice", "met", "Bob"}, tags = {"O", "PER"};
  // Emissions E (3 words, 2 tags): the network's score of each tag at each word.
  const Tensor e = Tensor::from({3, 2},
                                {1, 3,  //   Alice: O 1, PER 3
                                 2, 0,  //   met:   O 2, PER 0
                                 0, 2},
                                DType::f64);  // Bob: O 0, PER 2
  // Transitions A (2 + 2, 2): rows from O, from PER, start, end; columns to O, to PER.
  const Tensor a = Tensor::from({4, 2},
                                {0.5, 0,  // O -> O 0.5, O -> PER 0
                                 1, -1,   // PER -> O 1, PER -> PER -1
                                 0, 0,    // start
                                 0, 0},
                                DType::f64);  // end
  print(out, "E (rows Alice, met, Bob; columns O, PER)", e);
  print(out, "A (rows from O, from PER, start, end; columns to O, to PER)", a);
  out << "s(y) = A[start][y0] + E[0][y0] + A[y0][y1] + E[1][y1] + A[y1][y2] + E[2][y2] + "
         "A[y2][end]\n";
  double sum = 0;
  for (int p = 0; p < 8; ++p) {
    const std::vector<std::int64_t> y = {(p >> 2) & 1, (p >> 1) & 1, p & 1};
    const double s = crf_path_scores(e, a, y, {3})[0];
    sum += std::exp(s);
    out << "s(" << tags[y[0]] << " " << tags[y[1]] << " " << tags[y[2]]
        << ") = " << format_number(s) << "\n";
  }
  out << "log Z by enumeration = log sum exp s(y) over the 8 paths = "
      << format_number(sum > 0 ? std::log(sum) : 0, 6) << "\n";
  // The forward recursion: alpha_t[j] = E[t][j] + logsumexp_i(alpha_{t-1}[i] + A[i][j]).
  double alpha[3][2];
  for (int j = 0; j < 2; ++j) alpha[0][j] = a.get(4 + j) + e.get(j);
  for (int t = 1; t < 3; ++t) {
    for (int j = 0; j < 2; ++j) {
      const double x0 = alpha[t - 1][0] + a.get(0 * 2 + j), x1 = alpha[t - 1][1] + a.get(2 + j);
      alpha[t][j] = e.get(2 * t + j) + std::log(std::exp(x0) + std::exp(x1));
    }
  }
  for (int t = 0; t < 3; ++t) {
    out << "alpha_" << t << " (" << words[static_cast<std::size_t>(t)] << ") = ["
        << format_number(alpha[t][0]) << ", " << format_number(alpha[t][1]) << "]\n";
  }
  const double log_z = crf_log_partition(e, a, {3})[0];
  out << "log Z by the forward recursion = logsumexp(alpha_2 + A[end]) = " << format_number(log_z)
      << "\n";
  const std::vector<std::int64_t> gold = {1, 0, 1};
  out << "loss of the gold path PER O PER = log Z - s(gold) = "
      << format_number(crf_loss(e, a, gold, {3})) << "\n";
  Tensor de, da;
  crf_loss_gradient(e, a, gold, {3}, 1.0, de, da);
  print(out, "dloss/dE = p(y_t = j) - [gold y_t = j]", de);
  print(out, "dloss/dA = expected transition counts - the gold path's", da);
  // Viterbi: the same recursion with max for logsumexp, and where each max came from.
  double delta[3][2];
  int from[3][2] = {{0, 0}, {0, 0}, {0, 0}};
  for (int j = 0; j < 2; ++j) delta[0][j] = a.get(4 + j) + e.get(j);
  for (int t = 1; t < 3; ++t) {
    for (int j = 0; j < 2; ++j) {
      const double x0 = delta[t - 1][0] + a.get(j), x1 = delta[t - 1][1] + a.get(2 + j);
      from[t][j] = x1 > x0 ? 1 : 0;
      delta[t][j] = e.get(2 * t + j) + (x1 > x0 ? x1 : x0);
    }
  }
  for (int t = 0; t < 3; ++t) {
    out << "delta_" << t << " (" << words[static_cast<std::size_t>(t)] << ") = ["
        << format_number(delta[t][0]) << ", " << format_number(delta[t][1]) << "]";
    if (t > 0) {
      out << ", best previous tag: O <- " << tags[static_cast<std::size_t>(from[t][0])]
          << ", PER <- " << tags[static_cast<std::size_t>(from[t][1])];
    }
    out << "\n";
  }
  const std::vector<std::int64_t> best = viterbi_decode(e, a, {3});
  out << "Viterbi: the best path = " << tags[static_cast<std::size_t>(best[0])] << " "
      << tags[static_cast<std::size_t>(best[1])] << " " << tags[static_cast<std::size_t>(best[2])]
      << " (score " << format_number(crf_path_scores(e, a, best, {3})[0]) << ")\n";
  return loss_graph(e, a, gold, words, tags, out);
}

}  // namespace

void add_sequence_examples(ExampleTable& table) {
  table["sentence-crf"] = {sentence_crf,
                           "Alice met Bob: tag paths, the forward recursion and Viterbi by hand"};
}

}  // namespace nabla::cli
