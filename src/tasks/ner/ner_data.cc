// A tagged corpus as the Trainer's data: token windows in batches, scored by entity F1.
#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "nabla/nn/crf.h"
#include "nabla/ops/crf.h"
#include "nabla/ops/ops.h"
#include "nabla/tasks/ner.h"

namespace nabla {
namespace {

class NerData : public TrainingData {
 public:
  NerData(NerExamples train, NerExamples dev, NerExamples test, const WindowTagger& tagger,
          std::vector<std::vector<std::string>> dev_gold,
          std::vector<std::vector<std::string>> test_gold,
          std::vector<std::vector<std::string>> train_gold)
      : tags_(tagger.tags()), metadata_(tagger.metadata()), sentences_(tagger.sentence_level()) {
    parts_[0] = {std::move(train), std::move(train_gold), {}};
    parts_[1] = {std::move(dev), std::move(dev_gold), {}};
    parts_[2] = {std::move(test), std::move(test_gold), {}};
    if (parts_[0].examples.size() == 0) throw ValueError("ner_training_data: no training tokens");
    for (Part& p : parts_) {
      std::int64_t at = 0;
      for (std::int64_t len : p.examples.lengths) {
        p.starts.push_back(at);
        at += len;
      }
    }
  }

  // Tokens, or for a sentence-level tagger sentences.
  std::int64_t size(Split split) const override {
    return sentences_ ? part(split).examples.sentences() : part(split).examples.size();
  }
  std::int64_t features() const override { return part(Split::train).examples.ids.size(1); }
  Shape example_shape() const override { return {features()}; }
  std::int64_t classes() const override { return static_cast<std::int64_t>(tags_.size()); }
  std::string split_name(Split split) const override {
    return split == Split::validation ? "dev" : TrainingData::split_name(split);
  }
  std::string metric() const override { return "entity F1"; }
  std::string metric_key() const override { return "f1"; }
  std::map<std::string, std::string> model_metadata() const override { return metadata_; }

  const Batch& batch(const std::vector<std::int64_t>& rows, InputForm form,
                     const Shape& example) override {
    require_dense(form, example);
    const Part& train = part(Split::train);
    if (!sentences_) {
      gather(train.examples, rows.data(), static_cast<std::int64_t>(rows.size()), batch_);
      return batch_;
    }
    // The sentences' tokens, one sentence after another.
    token_rows_.clear();
    batch_lengths_.clear();
    for (std::int64_t s : rows) {
      const std::int64_t len = train.examples.lengths[static_cast<std::size_t>(s)];
      const std::int64_t start = train.starts[static_cast<std::size_t>(s)];
      for (std::int64_t t = 0; t < len; ++t) token_rows_.push_back(start + t);
      batch_lengths_.push_back(len);
    }
    gather(train.examples, token_rows_.data(), static_cast<std::int64_t>(token_rows_.size()),
           batch_);
    batch_.lengths = batch_lengths_;
    return batch_;
  }

  void for_each_block(Split split, InputForm form, const Shape& example,
                      const std::function<void(const Batch&)>& f) const override {
    require_dense(form, example);
    const NerExamples& x = part(split).examples;
    const std::int64_t n = x.size(), block = 4096;
    std::vector<std::int64_t> rows;
    Batch b;
    // Blocks of whole sentences, of `block` tokens or more (with their lengths).
    std::size_t next = 0;
    for (std::int64_t begin = 0; begin < n;) {
      std::int64_t count = 0;
      b.lengths.clear();
      while (next < x.lengths.size() && (count < block || b.lengths.empty())) {
        b.lengths.push_back(x.lengths[next]);
        count += x.lengths[next++];
      }
      rows.resize(static_cast<std::size_t>(count));
      for (std::int64_t i = 0; i < count; ++i) rows[static_cast<std::size_t>(i)] = begin + i;
      gather(x, rows.data(), count, b);
      f(b);
      begin += count;
    }
  }

  // Entity F1 over the split's sentences: the tokens' highest-scoring tags (or the
  // sentences' best paths, Viterbi), as names, against the gold ones.
  double score(Split split, InputForm form, const Shape& example,
               const std::function<Tensor(const Batch&)>& predict) const override {
    const Part& p = part(split);
    if (p.examples.size() == 0) return 0;
    std::vector<std::int64_t> ids;
    ids.reserve(static_cast<std::size_t>(p.examples.size()));
    for_each_block(split, form, example, [&](const Batch& b) {
      std::vector<std::int64_t> best;
      if (sentences_) {
        const SentenceScores s = sentence_scores(predict(b));
        best = viterbi_decode(s.emissions, s.transitions, b.lengths);
      } else {
        best = argmax_rows(predict(b));
      }
      ids.insert(ids.end(), best.begin(), best.end());
    });
    return score_entities(p.gold, tag_names(ids, p.examples.lengths, tags_)).overall.f1();
  }

 private:
  struct Part {
    NerExamples examples;
    std::vector<std::vector<std::string>> gold;  // each sentence's tags
    std::vector<std::int64_t> starts;            // each sentence's first token
  };

  const Part& part(Split split) const { return parts_[static_cast<std::size_t>(split)]; }

  void require_dense(InputForm form, const Shape& example) const {
    if (form != InputForm::dense || example != example_shape()) {
      throw ValueError("ner_training_data: batches are dense windows of ids " +
                       shape_str(example_shape()) + ", not " + input_form_name(form) + " " +
                       shape_str(example));
    }
  }

  static void gather(const NerExamples& x, const std::int64_t* rows, std::int64_t count,
                     Batch& b) {
    const std::int64_t cols = x.ids.size(1);
    b.form = InputForm::dense;
    b.dense.resize({count, cols}, DType::i64);
    b.labels.resize(static_cast<std::size_t>(count));
    const std::int64_t* src = x.ids.data<std::int64_t>();
    std::int64_t* dst = b.dense.data<std::int64_t>();
    for (std::int64_t i = 0; i < count; ++i) {
      std::memcpy(dst + i * cols, src + rows[i] * cols,
                  static_cast<std::size_t>(cols) * sizeof(std::int64_t));
      b.labels[static_cast<std::size_t>(i)] = x.labels[static_cast<std::size_t>(rows[i])];
    }
  }

  std::vector<std::string> tags_;
  std::map<std::string, std::string> metadata_;
  bool sentences_;  // examples are sentences (a sentence-level tagger)
  Part parts_[3];
  Batch batch_;  // reused every step
  std::vector<std::int64_t> token_rows_, batch_lengths_;
};

std::vector<std::vector<std::string>> gold_tags(const std::vector<TaggedSentence>& sentences) {
  std::vector<std::vector<std::string>> out;
  out.reserve(sentences.size());
  for (const TaggedSentence& s : sentences) out.push_back(s.tags);
  return out;
}

}  // namespace

std::shared_ptr<TrainingData> ner_training_data(const WindowTagger& tagger,
                                                const NerCorpus& corpus) {
  // (one after the other: a bad tag is reported from the first file that has one)
  NerExamples train = tagger.encode(corpus.train, corpus.train_path);
  NerExamples dev = tagger.encode(corpus.dev, corpus.dev_path);
  NerExamples test = tagger.encode(corpus.test, corpus.test_path);
  return std::make_shared<NerData>(std::move(train), std::move(dev), std::move(test), tagger,
                                   gold_tags(corpus.dev), gold_tags(corpus.test),
                                   gold_tags(corpus.train));
}

}  // namespace nabla
