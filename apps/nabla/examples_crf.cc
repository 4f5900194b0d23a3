// Sentence-level tagging (ops/crf.h) on a sentence small enough to check by hand: three
// words, two tags, the 8 tag paths scored one by one, the forward recursion that sums
// them in 3 x 2 x 2 steps, the loss and its gradient, and Viterbi's best path.
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "examples.h"
#include "nabla/ops/crf.h"

namespace nabla::cli {

namespace {

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
  return Var();
}

}  // namespace

void add_sequence_examples(ExampleTable& table) {
  table["sentence-crf"] = {sentence_crf,
                           "Alice met Bob: tag paths, the forward recursion and Viterbi by hand"};
}

}  // namespace nabla::cli
