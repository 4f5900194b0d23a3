// nabla/conll.h — tagged sentences in the CoNLL column format, and entity spans.
//
// One token a line: the token in the first column, its tag in the last; columns are
// separated by tabs (or, on a line without tabs, by spaces). A blank or whitespace-only
// line ends a sentence; "-DOCSTART-" lines are skipped. Tokens are data as they stand
// ("#hashtag" is a token, not a comment).
//
//   btc.train:            I	O
//                         love	O
//                         Paris	B-LOC
//
//   std::vector<TaggedSentence> train = read_conll("corpora/btc/btc.train");
//
// Tags may be written in IOB1, IOB2 or BIOES; reading normalises them to IOB2 (an entity
// starts with B-TYPE and goes on with I-TYPE). The text must be UTF-8. Bad input throws
// DataError naming the file and line: a line that is not UTF-8 (and the byte), a line
// with one column, a malformed tag, a file with no tokens.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"  // DataError

NABLA_API_BEGIN
namespace nabla {

struct TaggedSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;  // IOB2, one per token
};

// Reads a CoNLL file (see above). `name` in messages is the path.
std::vector<TaggedSentence> read_conll(const std::string& path);
// The same from a stream; `name` is used in error messages.
std::vector<TaggedSentence> parse_conll(std::istream& in, const std::string& name);

// Writes sentences as "token<TAB>tag" lines, a blank line after each sentence.
void write_conll(std::ostream& out, const std::vector<TaggedSentence>& sentences);

// Tags of one sentence in IOB1, IOB2 or BIOES, rewritten as IOB2: S-X -> B-X, E-X -> I-X,
// and an I-X that does not continue an X entity starts one (B-X). Throws ValueError for a
// tag that is neither "O" nor "B-", "I-", "E-", "S-" followed by a type.
std::vector<std::string> to_iob2(const std::vector<std::string>& tags);

// An entity: tokens [begin, end) of a sentence, of one type ("PER", "LOC", ...).
struct EntitySpan {
  std::int64_t begin = 0, end = 0;
  std::string type;
  bool operator==(const EntitySpan&) const = default;
};

// The entities of one sentence's tags, read the way CoNLL's evaluation reads them: an
// entity starts at B-X, or at an I-X that does not continue an X entity, and runs over
// the I-X tags that follow.
std::vector<EntitySpan> entity_spans(const std::vector<std::string>& tags);

}  // namespace nabla
NABLA_API_END
