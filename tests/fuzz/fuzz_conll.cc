// libFuzzer harness: CoNLL files (token <tab> tag lines, sentences between blank lines),
// then their tags as IOB2 and entity spans. Bad input must end in DataError.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "nabla/data/idx.h"
#include "nabla/text/conll.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    std::vector<nabla::TaggedSentence> sentences = nabla::parse_conll(in, "input.conll");
    for (const nabla::TaggedSentence& s : sentences) {
      if (s.tokens.size() != s.tags.size()) __builtin_trap();
      std::vector<std::string> iob2 = nabla::to_iob2(s.tags);
      for (const nabla::EntitySpan& e : nabla::entity_spans(iob2)) {
        if (e.begin < 0 || e.begin >= e.end || e.end > static_cast<std::int64_t>(iob2.size())) {
          __builtin_trap();
        }
      }
    }
    std::ostringstream out;
    nabla::write_conll(out, sentences);
  } catch (const nabla::DataError&) {
  }
  return 0;
}
