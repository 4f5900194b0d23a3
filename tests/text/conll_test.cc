// The CoNLL reader, IOB normalisation, entity spans and the CoNLL entity scores, on small
// texts and on the Broad Twitter Corpus shipped in corpora/btc.
#include "nabla/text/conll.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "nabla/core/tensor.h"
#include "nabla/data/idx.h"
#include "nabla/text/entity_score.h"
#include "test_util.h"

namespace nabla {
namespace {

using Tags = std::vector<std::string>;

std::vector<TaggedSentence> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_conll(in, "mem.conll");
}

std::string error_of(const std::string& text) {
  return testing_util::error_of<DataError>([&] { parse(text); });
}

TEST(Conll, ReadsTabAndSpaceColumnsAndSentenceBreaks) {
  auto s = parse(
      "-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
      "#Paris\tB-LOC\nis\tO\n \t\nnice\tO\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].tokens, (Tags{"EU", "rejects"}));
  EXPECT_EQ(s[0].tags, (Tags{"B-ORG", "O"}));      // the last column is the tag
  EXPECT_EQ(s[1].tokens, (Tags{"#Paris", "is"}));  // a hashtag is a token
  EXPECT_EQ(s[2].tokens, (Tags{"nice"}));          // a whitespace-only line ends a sentence
}

TEST(Conll, NormalisesIob1AndBioesToIob2) {
  // IOB1: I- starts an entity unless it continues one of its type; B- only between two.
  EXPECT_EQ(to_iob2({"I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"}),
            (Tags{"B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG"}));
  // BIOES: S- is a one-token entity, E- ends one.
  EXPECT_EQ(to_iob2({"S-LOC", "B-PER", "I-PER", "E-PER", "S-LOC", "E-ORG"}),
            (Tags{"B-LOC", "B-PER", "I-PER", "I-PER", "B-LOC", "B-ORG"}));
  EXPECT_EQ(to_iob2({"B-LOC", "I-LOC", "O"}), (Tags{"B-LOC", "I-LOC", "O"}));  // IOB2 stays
  auto s = parse("a\tS-LOC\nb\tI-PER\n");
  EXPECT_EQ(s[0].tags, (Tags{"B-LOC", "B-PER"}));
}

TEST(Conll, EntitySpansAsCoNLLReadsThem) {
  auto spans = entity_spans({"B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG", "I-ORG"});
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0], (EntitySpan{0, 2, "PER"}));
  EXPECT_EQ(spans[1], (EntitySpan{3, 4, "LOC"}));  // I- after O starts an entity
  EXPECT_EQ(spans[2], (EntitySpan{4, 5, "LOC"}));  // B- starts another
  EXPECT_EQ(spans[3], (EntitySpan{5, 7, "ORG"}));
}

TEST(Conll, BadInputNamesFileAndLine) {
  EXPECT_EQ(error_of("a\tO\nlonely\n"),
            "mem.conll:2: expected a token and a tag, found 1 column: 'lonely'");
  EXPECT_EQ(error_of("a\tO\nb\tX-PER\n"),
            "mem.conll:2: tag 'X-PER': expected O or B-, I-, E-, S- followed by a type");
  EXPECT_EQ(error_of("a\tO\nb\tB-\n"),
            "mem.conll:2: tag 'B-': expected O or B-, I-, E-, S- followed by a type");
  EXPECT_EQ(error_of(""), "mem.conll: no tagged tokens (empty file?)");
  EXPECT_EQ(error_of("\n \n-DOCSTART- O\n"), "mem.conll: no tagged tokens (empty file?)");
  EXPECT_THROW(read_conll("/nonexistent/btc.train"), DataError);
  // A device has no end (/dev/zero has not even a line's end): only regular files are read.
  EXPECT_EQ(testing_util::error_of<DataError>([] { read_conll("/dev/zero"); }),
            "/dev/zero: is a device, not a CoNLL file");
  EXPECT_EQ(testing_util::error_of<DataError>([] { read_conll(""); }),
            "empty path where a CoNLL file was expected");
}

// Tokens and tags end up in the model file's metadata, which must be UTF-8: text that is
// not is refused when it is read, with the line and the byte, not after training.
TEST(Conll, TextThatIsNotUtf8IsRefusedWithItsLine) {
  EXPECT_EQ(error_of("I\tO\nlo\xFFve\tO\n"),
            "mem.conll:2: not valid UTF-8 at byte 3 of the line (0xFF); the tokens and tags "
            "must be UTF-8 text");
  EXPECT_EQ(error_of("caf\xE9\tO\n"),  // Latin-1, not UTF-8
            "mem.conll:1: not valid UTF-8 at byte 4 of the line (0xE9); the tokens and tags "
            "must be UTF-8 text");
  EXPECT_EQ(error_of("a\tO\nb\tB-\xC0\xAF\n").substr(0, 37),  // overlong '/'
            "mem.conll:2: not valid UTF-8 at byte ");
  for (const char* bad :
       {"\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\x80", "\xF8\x88\x80\x80\x80"}) {
    EXPECT_THAT(error_of(std::string("x") + bad + "\tO\n"),
                ::testing::StartsWith("mem.conll:1: not valid UTF-8 at byte 2 "))
        << bad;
  }
  // Two-, three- and four-byte characters are text like any other.
  auto s = parse("Z\u00FCrich\tB-LOC\n\u20AC5\tO\n\U0001F600\tO\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tokens, (Tags{"Z\u00FCrich", "\u20AC5", "\U0001F600"}));
}

TEST(Conll, WriteThenReadGivesTheSameSentences) {
  auto s = parse("I\tO\nlove\tO\nNew\tB-LOC\nYork\tI-LOC\n\n@bob\tB-PER\n");
  std::ostringstream out;
  write_conll(out, s);
  auto again = parse(out.str());
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].tokens, s[0].tokens);
  EXPECT_EQ(again[0].tags, s[0].tags);
  EXPECT_EQ(again[1].tags, (Tags{"B-PER"}));
}

TEST(EntityScore, SpanAndTypeMustBothMatch) {
  std::vector<Tags> gold = {{"B-LOC", "O", "B-PER", "I-PER"}, {"B-ORG", "I-ORG", "O"}};
  std::vector<Tags> pred = {{"B-LOC", "O", "B-PER", "O"},  // LOC right; PER span short
                            {"B-PER", "I-PER", "B-LOC"}};  // wrong type; a false LOC
  EntityScores s = score_entities(gold, pred);
  EXPECT_EQ(s.overall.gold, 3);
  EXPECT_EQ(s.overall.predicted, 4);
  EXPECT_EQ(s.overall.correct, 1);
  EXPECT_DOUBLE_EQ(s.overall.precision(), 0.25);
  EXPECT_DOUBLE_EQ(s.overall.recall(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.overall.f1(), 2 * 0.25 / 3 / (0.25 + 1.0 / 3));
  EXPECT_EQ(s.by_type.at("LOC").correct, 1);
  EXPECT_EQ(s.by_type.at("LOC").predicted, 2);
  EXPECT_DOUBLE_EQ(s.by_type.at("LOC").f1(), 2 * 0.5 * 1.0 / 1.5);
  EXPECT_EQ(s.by_type.at("ORG").predicted, 0);
  EXPECT_DOUBLE_EQ(s.by_type.at("ORG").f1(), 0.0);
  EXPECT_DOUBLE_EQ(s.by_type.at("PER").f1(), 0.0);
}

TEST(EntityScore, PerfectAndEmpty) {
  std::vector<Tags> gold = {{"B-LOC", "I-LOC"}, {"O"}};
  EXPECT_DOUBLE_EQ(score_entities(gold, gold).overall.f1(), 1.0);
  EXPECT_DOUBLE_EQ(score_entities({{"O"}}, {{"O"}}).overall.f1(), 0.0);
  EXPECT_THROW(score_entities(gold, {{"O", "O"}}), ValueError);
  EXPECT_THROW(score_entities(gold, {{"O"}, {"O", "O"}}), ValueError);
}

// ---- the Broad Twitter Corpus ------------------------------------------------------

std::string btc(const std::string& split) {
  return std::string(NABLA_SOURCE_DIR) + "/corpora/btc/btc." + split;
}

std::int64_t tokens_of(const std::vector<TaggedSentence>& s) {
  std::int64_t n = 0;
  for (const auto& x : s) n += static_cast<std::int64_t>(x.tokens.size());
  return n;
}

TEST(Btc, SplitsHaveTheirPublishedSizes) {
  auto train = read_conll(btc("train")), dev = read_conll(btc("dev")),
       test = read_conll(btc("test"));
  EXPECT_EQ(train.size(), 6338u);
  EXPECT_EQ(tokens_of(train), 99933);
  EXPECT_EQ(dev.size(), 1001u);
  EXPECT_EQ(tokens_of(dev), 15027);
  EXPECT_EQ(test.size(), 2001u);
  EXPECT_EQ(tokens_of(test), 35428);
}

// Tags each token with the tag it had most often in training ("O" if unseen); of tags seen
// equally often, the one seen first.
std::vector<Tags> most_frequent_tags(const std::vector<TaggedSentence>& train,
                                     const std::vector<TaggedSentence>& data) {
  std::map<std::string, std::vector<std::pair<std::string, int>>> counts;  // in order seen
  for (const auto& s : train) {
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
      auto& seen = counts[s.tokens[i]];
      auto it = std::find_if(seen.begin(), seen.end(),
                             [&](const auto& entry) { return entry.first == s.tags[i]; });
      if (it == seen.end()) it = seen.insert(seen.end(), {s.tags[i], 0});
      ++it->second;
    }
  }
  std::vector<Tags> out;
  for (const auto& s : data) {
    Tags tags;
    for (const auto& token : s.tokens) {
      std::string best = "O";
      int best_count = 0;
      auto it = counts.find(token);
      if (it != counts.end()) {
        for (const auto& [tag, n] : it->second) {
          if (n > best_count) best = tag, best_count = n;
        }
      }
      tags.push_back(best);
    }
    out.push_back(tags);
  }
  return out;
}

std::vector<Tags> gold_tags(const std::vector<TaggedSentence>& data) {
  std::vector<Tags> out;
  for (const auto& s : data) out.push_back(s.tags);
  return out;
}

TEST(Btc, MostFrequentTagBaselineReachesThePublishedF1) {
  auto train = read_conll(btc("train")), dev = read_conll(btc("dev")),
       test = read_conll(btc("test"));
  double dev_f1 = score_entities(gold_tags(dev), most_frequent_tags(train, dev)).overall.f1();
  double test_f1 = score_entities(gold_tags(test), most_frequent_tags(train, test)).overall.f1();
  // published: 48.1 on dev, 43.6 on test (entity F1 in percent)
  EXPECT_NEAR(dev_f1, 0.4806, 0.0001);
  EXPECT_NEAR(test_f1, 0.4362, 0.0001);
}

}  // namespace
}  // namespace nabla
