// The layer kinds of text models: window_embedding, the window tagger's first layer, and
// tag_transitions, its sentence-level last.
#include <cmath>
#include <memory>

#include "nabla/nn/crf.h"
#include "nabla/nn/window_embedding.h"
#include "nabla/train/model_spec.h"
#include "nabla/train/optim.h"  // init_std
#include "train/layer_kinds.h"

namespace nabla {

void add_text_layer_kinds(LayerRegistry& registry) {
  LayerKind k;
  k.name = "window_embedding";
  k.help =
      "the word and shape vectors of a window of WIDTH tokens, side by side; its input is "
      "2 * WIDTH int64 ids (word ids, then shape ids; then prefix and suffix ids with "
      "affix_dim, and WIDTH * word_length character ids with char_dim): "
      "window_embedding:WIDTHxVOCABxDIM";
  const auto most = static_cast<double>(ModelSpec::kMaxWidth);
  k.options = {{"width", 0, true, 1, 101, true, "tokens in a window (2 * window + 1)"},
               {"vocab", 0, true, 2, most, true, "words in the vocabulary"},
               {"dim", 0, true, 1, 10000, true, "size of a word vector"},
               {"shapes", 10, false, 1, 1000, true, "word shapes (padding included)"},
               {"shape_dim", 5, false, 0, 1000, true, "size of a shape vector (0: none)"},
               {"affixes", 0, false, 0, most, true, "prefixes and suffixes in their table"},
               {"affix_dim", 0, false, 0, 1000, true,
                "size of a prefix or suffix vector (0: none; then the input is 4 * WIDTH ids)"},
               {"chars", 0, false, 0, most, true, "characters in their table"},
               {"char_dim", 0, false, 0, 1000, true,
                "size of a character vector (0: none; then each token adds word_length "
                "character ids, char_convolution.h)"},
               {"char_filters", 30, false, 1, 10000, true, "filters of the character convolution"},
               {"char_width", 3, false, 1, 20, true, "characters each filter spans"},
               {"word_length", 20, false, 1, 1000, true, "character ids per token"}};
  k.positional = 3;
  k.plan = [](const LayerOptions& o, const Shape& in) {
    const std::int64_t width = whole(o, "width"), d = whole(o, "dim");
    const std::int64_t s = whole(o, "shape_dim"), a = whole(o, "affix_dim");
    const std::int64_t c = whole(o, "char_dim"), f = c > 0 ? whole(o, "char_filters") : 0;
    const std::int64_t length = c > 0 ? whole(o, "word_length") : 0;
    const std::int64_t ids = (a > 0 ? 4 : 2) * width + width * length;
    if (in != Shape{ids}) {
      throw ValueError("window_embedding: input " + shape_str(in) + ", expected (" +
                       std::to_string(ids) + ") ids: " + std::to_string(width) +
                       " word ids, then as many shape ids" +
                       (a > 0 ? ", prefix ids and suffix ids" : "") +
                       (c > 0 ? ", then " + std::to_string(length) + " character ids per token"
                              : ""));
    }
    if (a > 0 && whole(o, "affixes") < 1) {
      throw ValueError("window_embedding: affix vectors of size " + std::to_string(a) +
                       " need an affix table of 1 or more rows (affixes)");
    }
    if (c > 0 && (whole(o, "chars") < 1 || length < whole(o, "char_width"))) {
      throw ValueError("window_embedding: character vectors of size " + std::to_string(c) +
                       " need a table of 1 or more rows (chars) and words of char_width or "
                       "more characters (word_length)");
    }
    LayerPlan plan{{width * (d + s + 2 * a + f)},
                   {{"words.W", {whole(o, "vocab"), d}}, {"shapes.W", {whole(o, "shapes"), s}}},
                   {}};
    if (a > 0) plan.parameters.push_back({"affixes.W", {whole(o, "affixes"), a}});
    if (c > 0) {
      plan.parameters.push_back({"characters.W", {whole(o, "char_width") * c, f}});
      plan.parameters.push_back({"characters.b", {f}});
      plan.parameters.push_back({"characters.chars.W", {whole(o, "chars"), c}});
    }
    return plan;
  };
  k.build = [](const LayerOptions& o, const Shape&, const LayerInit& init) {
    // Vectors without a pretrained value start at U(-0.1, 0.1); the caller copies in the
    // pretrained ones (tasks/ner.h's make_window_tagger).
    Tensor words =
        Tensor::uniform({whole(o, "vocab"), whole(o, "dim")}, *init.rng, -0.1, 0.1, init.dtype);
    Tensor shapes = Tensor::uniform({whole(o, "shapes"), whole(o, "shape_dim")}, *init.rng, -0.1,
                                    0.1, init.dtype);
    Tensor affixes;
    if (whole(o, "affix_dim") > 0) {
      affixes = Tensor::uniform({whole(o, "affixes"), whole(o, "affix_dim")}, *init.rng, -0.1,
                                0.1, init.dtype);
    }
    const std::int64_t c = whole(o, "char_dim");
    if (c == 0) {
      return std::make_unique<WindowEmbedding>(std::move(words), std::move(shapes),
                                               whole(o, "width"), std::move(affixes));
    }
    // The convolution's weights as an affine layer's of fan-in char_width * c; character
    // vectors U(-r, r) with r = sqrt(3 / c) (variance 1 / c), its bias 0.
    const std::int64_t fan_in = whole(o, "char_width") * c, f = whole(o, "char_filters");
    Tensor W = Tensor::randn({fan_in, f}, *init.rng, init_std(init.init, fan_in, init.normal_std),
                             init.dtype);
    const double r = std::sqrt(3.0 / static_cast<double>(c));
    Tensor chars = Tensor::uniform({whole(o, "chars"), c}, *init.rng, -r, r, init.dtype);
    auto conv = std::make_unique<CharConvolution>(std::move(chars), std::move(W),
                                                  Tensor::zeros({f}, init.dtype));
    return std::make_unique<WindowEmbedding>(std::move(words), std::move(shapes),
                                             whole(o, "width"), std::move(affixes), std::move(conv),
                                             whole(o, "word_length"));
  };
  registry.add(std::move(k));

  LayerKind t;
  t.name = "tag_transitions";
  t.help =
      "the sentence-level tagger's transition scores (K + 2, K), appended below the K tag "
      "scores of the tokens (nn/crf.h); the loss must be crf";
  t.plan = [](const LayerOptions&, const Shape& in) {
    if (in.size() != 1 || in[0] < 1) {
      throw ValueError("tag_transitions: input " + shape_str(in) + ", expected (K) tag scores");
    }
    const std::int64_t tags = in[0];
    return LayerPlan{in, {{"transitions", {tags + 2, tags}}}, {{"allowed", {tags + 2, tags}}}};
  };
  t.build = [](const LayerOptions&, const Shape& in, const LayerInit& init) {
    // Transitions start at 0 (no preference) and all allowed; a tagger sets its
    // constraints (tasks/ner.h's bio_allowed).
    const std::int64_t tags = in[0];
    return std::make_unique<TagTransitions>(Tensor::zeros({tags + 2, tags}, init.dtype),
                                            Tensor::ones({tags + 2, tags}, init.dtype));
  };
  registry.add(std::move(t));
}

}  // namespace nabla
