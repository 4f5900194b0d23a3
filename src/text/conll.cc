#include "nabla/text/conll.h"

#include <cstdio>
#include <fstream>
#include <ostream>
#include <string_view>

#include "core/input_file.h"
#include "nabla/core/tensor.h"  // ValueError
#include "nabla/data/idx.h"     // DataError

namespace nabla {

namespace {

// A tag split into its prefix ('O', 'B', 'I', 'E', 'S') and type ("" for O).
struct Tag {
  char prefix = 'O';
  std::string type;
};

Tag parse_tag(const std::string& tag) {
  if (tag == "O") return {};
  const bool prefixed = tag.size() >= 3 && tag[1] == '-' &&
                        (tag[0] == 'B' || tag[0] == 'I' || tag[0] == 'E' || tag[0] == 'S');
  if (!prefixed) {
    throw ValueError("tag '" + tag + "': expected O or B-, I-, E-, S- followed by a type");
  }
  return {tag[0], tag.substr(2)};
}

// The offset of the first byte of `text` that does not start a well-formed UTF-8
// character (Unicode's table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF), or npos if there is none.
std::size_t invalid_utf8_at(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The character's length, and the range of its second byte (the others: 80..BF).
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // (below: overlong)
      if (lead == 0xED) high = 0x9F;  // (above: surrogates)
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // (below: overlong)
      if (lead == 0xF4) high = 0x8F;  // (above: beyond U+10FFFF)
    } else {
      return i;  // a continuation byte, C0, C1 or F5..FF
    }
    if (text.size() - i < length) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n\v\f") == std::string::npos;
}

// The line's columns: split at tabs if it has any, else at runs of spaces.
std::vector<std::string> columns_of(const std::string& line) {
  std::vector<std::string> columns;
  if (line.find('\t') != std::string::npos) {
    std::string::size_type start = 0;
    while (true) {
      std::string::size_type tab = line.find('\t', start);
      columns.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    // Trailing empty columns (a line ending in a tab) carry nothing.
    while (!columns.empty() && columns.back().empty()) columns.pop_back();
    return columns;
  }
  std::string::size_type start = line.find_first_not_of(' ');
  while (start != std::string::npos) {
    std::string::size_type end = line.find(' ', start);
    columns.push_back(line.substr(start, end - start));
    start = end == std::string::npos ? end : line.find_first_not_of(' ', end);
  }
  return columns;
}

}  // namespace

std::vector<std::string> to_iob2(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  out.reserve(tags.size());
  std::string open;  // the type of the entity the previous tag is inside, "" if none
  for (const std::string& text : tags) {
    Tag tag = parse_tag(text);
    switch (tag.prefix) {
      case 'O':
        out.push_back("O");
        open.clear();
        break;
      case 'B':
      case 'S':
        out.push_back("B-" + tag.type);
        open = tag.type;
        break;
      default:  // 'I', 'E': goes on with an open entity of its type, or starts one
        out.push_back((open == tag.type ? "I-" : "B-") + tag.type);
        open = tag.type;
        break;
    }
    // S- and E- close their entity: what follows starts a new one.
    if (tag.prefix == 'S' || tag.prefix == 'E') open.clear();
  }
  return out;
}

std::vector<EntitySpan> entity_spans(const std::vector<std::string>& tags) {
  // In IOB2 an entity starts at B-X and goes on over the I-X tags that follow.
  std::vector<EntitySpan> spans;
  const std::vector<std::string> iob2 = to_iob2(tags);
  for (std::size_t i = 0; i < iob2.size(); ++i) {
    const auto at = static_cast<std::int64_t>(i);
    if (iob2[i][0] == 'B') spans.push_back({at, at + 1, iob2[i].substr(2)});
    if (iob2[i][0] == 'I') spans.back().end = at + 1;
  }
  return spans;
}

std::vector<TaggedSentence> parse_conll(std::istream& in, const std::string& name) {
  std::vector<TaggedSentence> sentences;
  TaggedSentence current;
  std::vector<std::int64_t> tag_lines;  // line of each tag of `current`, for messages
  auto finish = [&] {
    if (current.tokens.empty()) return;
    try {
      current.tags = to_iob2(current.tags);
    } catch (const ValueError&) {
      // Name the line of the first tag that does not parse.
      for (std::size_t i = 0; i < current.tags.size(); ++i) {
        try {
          parse_tag(current.tags[i]);
        } catch (const ValueError& e) {
          throw DataError(name + ":" + std::to_string(tag_lines[i]) + ": " + e.what());
        }
      }
      throw;
    }
    sentences.push_back(std::move(current));
    current = TaggedSentence();
    tag_lines.clear();
  };
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Tokens and tags go into the model file, whose metadata is UTF-8 text: a line that is
    // not is refused here, not when the trained model is saved.
    if (const std::size_t bad = invalid_utf8_at(line); bad != std::string_view::npos) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(line[bad]));
      throw DataError(name + ":" + std::to_string(number) + ": not valid UTF-8 at byte " +
                      std::to_string(bad + 1) + " of the line (" + byte +
                      "); the tokens and tags must be UTF-8 text");
    }
    if (is_blank(line)) {
      finish();
      continue;
    }
    std::vector<std::string> columns = columns_of(line);
    if (!columns.empty() && columns.front() == "-DOCSTART-") {
      finish();
      continue;
    }
    // (A tab-separated token may be empty: tweets hold odd whitespace that was stripped.)
    if (columns.size() < 2) {
      throw DataError(name + ":" + std::to_string(number) +
                      ": expected a token and a tag, found 1 column: '" + line + "'");
    }
    current.tokens.push_back(columns.front());
    current.tags.push_back(columns.back());
    tag_lines.push_back(number);
  }
  if (in.bad()) throw DataError(name + ": read error after line " + std::to_string(number));
  finish();
  if (sentences.empty()) throw DataError(name + ": no tagged tokens (empty file?)");
  return sentences;
}

std::vector<TaggedSentence> read_conll(const std::string& path) {
  check_regular_file(path, "a CoNLL file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  return parse_conll(in, path);
}

void write_conll(std::ostream& out, const std::vector<TaggedSentence>& sentences) {
  for (const TaggedSentence& s : sentences) {
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
      out << s.tokens[i] << '\t' << (i < s.tags.size() ? s.tags[i] : "O") << '\n';
    }
    out << '\n';
  }
}

}  // namespace nabla
