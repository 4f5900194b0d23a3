// nabla/tasks/ner.h — the lecture's window classifier for named-entity recognition.
//
// Each token is tagged from the 2 * window + 1 tokens around it (padding beyond the
// sentence's edges). Each of them is read as two learned vectors side by side: its
// lower-cased word's vector (from GloVe, fine-tuned) and a small vector for its shape
// (capitalised, all caps, @mention, #hashtag, ... : what lower-casing loses; the "caps
// feature" of Collobert & Weston 2011). The network is a Sequential like any other:
//
//   ids (N, 2k) -> window_embedding -> affine -> tanh -> affine -> SoftmaxWithLoss (IOB2 tags)
//
// and it trains through the one Trainer (train/train.h), on the corpus as TrainingData
// whose validation split is the dev set and whose metric is entity F1:
//
//   NerCorpus c = read_ner_corpus("btc.train", "btc.dev", "btc.test");
//   auto words = c.lower_case_words();
//   WordVectors glove = read_glove("glove.6B.100d.txt", &words);   // only the rows needed
//   WindowTagger tagger = make_window_tagger(c, glove, NerOptions{}, /*seed=*/1);
//   Trainer trainer(ner_train_config(tagger, 10, 64, "adam", 1e-3, 1),
//                   ner_training_data(tagger, c), tagger.net());
//   RunResult r = run_training(trainer, {}, observer);   // best.safetensors: best dev F1
//   WindowTagger best = load_window_tagger(r.best_model.string());
//   EntityScores test = best.score(c.test, c.test_path);  // entity P / R / F1, the CoNLL way
//
// A model file is a Trainer checkpoint (model kind "window-tagger") whose metadata also
// holds the vocabulary, the tag set and the window (WindowTagger::metadata).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nabla/autograd/gradcheck.h"
#include "nabla/core/export.h"
#include "nabla/nn/network.h"
#include "nabla/nn/window_embedding.h"
#include "nabla/text/conll.h"
#include "nabla/text/entity_score.h"
#include "nabla/text/glove.h"
#include "nabla/text/word_windows.h"
#include "nabla/train/model_spec.h"
#include "nabla/train/train.h"
#include "nabla/train/train_data.h"

NABLA_API_BEGIN
namespace nabla {

// The tagger's architecture (its training is the Trainer's: TrainConfig).
struct NerOptions {
  int window = 2;                   // tokens each side of the centre
  std::int64_t hidden = 100;        // hidden units
  std::string activation = "tanh";  // tanh, relu or sigmoid
  std::int64_t shape_dim = 5;       // size of the word-shape vectors (0: none)
  // How a sentence's tags are chosen: "window", each token's highest-scoring tag alone
  // (SoftmaxWithLoss over tokens); "viterbi", the best path of the whole sentence under
  // learned tag-transition scores (tag_transitions + the crf loss over sentences,
  // nn/crf.h). With viterbi, IOB2's constraints are imposed (bio_allowed).
  std::string decoder = "window";
  // Size of the learned vectors of each token's prefix and suffix (its lower-cased
  // spelling's first and last kAffixLength bytes; one table for both, of the training
  // tokens' affixes; 0: none): spelling that GloVe's vector and the shape do not carry.
  std::int64_t affix_dim = 0;
  // Size of the learned vectors of characters (0: none): each token's spelling (case kept,
  // its first kWordLength - 2 characters) goes through a convolution of char_filters
  // filters over kCharWidth characters and each filter's maximum over the word
  // (nn/char_convolution.h); one table of the training tokens' characters, the others
  // unknown. What a word's spelling says even when GloVe does not have it.
  std::int64_t char_dim = 0;
  std::int64_t char_filters = 30;
  // Dropout on the window's vectors (the hidden layer's input) while training (0: none).
  double dropout = 0;
};

constexpr std::size_t kAffixLength = 3;
// "<par" and ">ris" for Paris: the affixes' entries in a tagger's affix vocabulary.
std::string prefix_of(const std::string& token);
std::string suffix_of(const std::string& token);

// A token's character ids: padding (0), its characters' ids in `chars` (UTF-8: whole
// characters; case kept; those after the first kWordLength - 2 cut), then padding up to
// kWordLength ids, so that the convolution sees where the word begins and ends.
constexpr std::int64_t kWordLength = 20;
constexpr std::int64_t kCharWidth = 3;
std::vector<std::string> characters_of(const std::string& token);
void spell(const std::string& token, const Vocabulary& chars, std::int64_t* ids);

// The three parts of a corpus, read with read_conll (DataError names file and line).
struct NerCorpus {
  std::vector<TaggedSentence> train, dev, test;
  std::string train_path, dev_path, test_path;
  // Every token of the three parts, lower-cased (to pick GloVe's rows).
  std::unordered_map<std::string, std::int64_t> lower_case_words() const;
};
NerCorpus read_ner_corpus(const std::string& train, const std::string& dev,
                          const std::string& test);

// A corpus as the model reads it: one row per token.
struct NerExamples {
  // int64 (N, 2k): the word ids of each token's window, then its shape ids (0 padding,
  // 1 + WordShape), and with affixes (N, 4k) then its prefix ids and suffix ids, and with
  // characters then each window token's kWordLength character ids (spell; all 0 beyond
  // the sentence): window_embedding's input.
  Tensor ids;
  std::vector<std::int64_t> labels;   // (N): tag ids (empty for untagged text)
  std::vector<std::int64_t> lengths;  // tokens per sentence
  std::int64_t size() const { return ids.numel() == 0 ? 0 : ids.size(0); }
  std::int64_t sentences() const { return static_cast<std::int64_t>(lengths.size()); }
};

// Which tag may follow which under IOB2, as TagTransitions' `allowed` (K + 2, K) (rows:
// the previous tag, then start, then end; ones and zeros): I-X only after B-X or I-X,
// and never first. Tags of other forms (O, B-X, plain names) are allowed anywhere.
// `also`: sentences whose transitions are allowed whatever IOB2 says (a corpus that
// breaks it trains without an impossible gold path).
Tensor bio_allowed(const std::vector<std::string>& tags, DType dtype,
                   const std::vector<std::vector<std::string>>& also = {});
// The sentences whose tags break IOB2 (an I-X that is first or follows neither B-X nor I-X).
std::int64_t count_invalid_bio(const std::vector<std::vector<std::string>>& tagged);

// The window tagger's ModelSpec (kind "window-tagger"): window_embedding over `vocab`
// words of `dim` values, affine:hidden, the activation, affine:tags; Xavier weights. With
// the viterbi decoder also tag_transitions, and the crf loss.
// `affixes`: the rows of the affix table (with options.affix_dim > 0); `chars`: of the
// character table (with options.char_dim > 0).
ModelSpec window_tagger_spec(std::int64_t vocab, std::int64_t dim, std::int64_t tags,
                             const NerOptions& options, std::int64_t affixes = 0,
                             std::int64_t chars = 0);

// A window tagger's network with what turns text into its input and its output into tags.
class WindowTagger {
 public:
  // words: the vocabulary (ids 0 and 1: padding and unknown); tags: the tag set (IOB2);
  // net: a network of `spec` (window_tagger_spec's for them); affixes: the prefixes and
  // suffixes (prefix_of, suffix_of) when the network has affix vectors; chars: the
  // characters when it has character features. ValueError when they do not fit.
  WindowTagger(Vocabulary words, std::vector<std::string> tags, ModelSpec spec, Sequential net,
               Vocabulary affixes = Vocabulary(), Vocabulary chars = Vocabulary());

  const Vocabulary& vocabulary() const { return vocabulary_; }
  const Vocabulary& affixes() const { return affixes_; }
  const Vocabulary& chars() const { return chars_; }
  const std::vector<std::string>& tags() const { return tags_; }
  const ModelSpec& spec() const { return spec_; }
  std::int64_t width() const { return width_; }
  int window() const { return static_cast<int>((width_ - 1) / 2); }
  Sequential& net() { return net_; }
  // Whether the model scores sentences (decoder viterbi: tag_transitions, crf loss).
  bool sentence_level() const { return spec_.loss == "crf"; }
  std::string decoder() const { return sentence_level() ? "viterbi" : "window"; }
  WindowEmbedding& embedding() { return static_cast<WindowEmbedding&>(net_.layer(0)); }

  // Sentences as windows of ids. Tags must be in the tag set: DataError names `source`
  // and the tag's line in it (counting token lines and the blank line after each
  // sentence, as read_conll's input has them).
  NerExamples encode(const std::vector<TaggedSentence>& sentences, const std::string& source) const;
  NerExamples encode_untagged(const std::vector<std::vector<std::string>>& sentences) const;

  // Tag ids of every token (evaluation mode, in blocks of whole sentences): the model's
  // decoder's; per_token: each token's highest-scoring tag alone, whatever the model (a
  // sentence-level model's emissions, without the transitions).
  std::vector<std::int64_t> predict(const NerExamples& examples, bool per_token = false);
  std::vector<std::vector<std::string>> tag(const NerExamples& examples);
  // Entity scores of the model's tags against the sentences' own.
  EntityScores score(const std::vector<TaggedSentence>& sentences, const std::string& source);

  // What a model file keeps beside the tensors: "ner.vocabulary", "ner.tags" (one a
  // line), "ner.window", with affix vectors "ner.affixes" and with character features
  // "ner.chars" (one a line).
  std::map<std::string, std::string> metadata() const;

 private:
  Vocabulary vocabulary_;
  Vocabulary affixes_;
  Vocabulary chars_;
  bool has_affixes_ = false;
  bool has_chars_ = false;
  std::vector<std::string> tags_;
  std::unordered_map<std::string, std::int64_t> tag_ids_;
  ModelSpec spec_;
  std::int64_t width_ = 1;
  Sequential net_;
};

// Tag ids of consecutive sentences (`lengths` tokens each) as their tags' names.
std::vector<std::vector<std::string>> tag_names(const std::vector<std::int64_t>& ids,
                                                const std::vector<std::int64_t>& lengths,
                                                const std::vector<std::string>& tags);

// The vocabulary of the peer (bench/peers/torch_window_ner.py): padding, unknown, the
// corpus's lower-cased words that GloVe has (sorted; their GloVe vectors), then the
// training words it lacks (sorted; U(-0.1, 0.1) from Rng(seed), as the shape vectors);
// padding and unknown start at zero. Tags are the training set's, sorted.
WindowTagger make_window_tagger(const NerCorpus& corpus, const WordVectors& vectors,
                                const NerOptions& options, std::uint64_t seed);

// The TrainConfig of a tagger: its spec, shuffled epochs of `batch` tokens (each token
// once an epoch; the last batch smaller), or for a sentence-level tagger of `batch`
// sentences.
TrainConfig ner_train_config(const WindowTagger& tagger, std::int64_t epochs, std::int64_t batch,
                             const std::string& optimizer, double lr, std::uint64_t seed);
// The corpus's tokens as the Trainer's data: training windows, the dev set as the
// validation split, the test set; evaluations measure entity F1 over the sentences
// (split names train, dev, test). Tags unknown to the tagger are a DataError (encode).
// For a sentence-level tagger an example is a sentence: a batch is its tokens' windows,
// their tags and the sentences' lengths (Batch::lengths), and the evaluations decode
// with Viterbi.
std::shared_ptr<TrainingData> ner_training_data(const WindowTagger& tagger,
                                                const NerCorpus& corpus);

// A model file of `nabla ner train` (a checkpoint, or best.safetensors). DataError naming
// the file for one that is not a window tagger (a network of `nabla train` is named as
// such), whose vocabulary or tags do not fit its tensors, or that load_model refuses.
WindowTagger load_window_tagger(const std::string& path);

// The model's whole gradient as training computes it (backprop; the tables' row
// gradients made dense) against central differences of the loss on `batch`, parameter by
// parameter (gradcheck.h). Meant for a float64 model (make_check_tagger).
GradCheckReport gradient_check(WindowTagger& model, const NerExamples& batch, double h = 1e-5,
                               double abs_floor = 1e-6);
// A float64 tagger for gradient checks: the sentences' lower-cased words with random
// vectors of size dim (N(0, 0.25)), the given tags (two or more, or the loss is 0 and so
// is every gradient) and options.
WindowTagger make_check_tagger(const std::vector<TaggedSentence>& sentences,
                               std::vector<std::string> tags, std::int64_t dim,
                               const NerOptions& options, Rng& rng);

}  // namespace nabla
NABLA_API_END
