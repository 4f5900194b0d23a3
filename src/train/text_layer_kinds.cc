// The layer kind of text models: window_embedding, the window tagger's first layer.
#include <memory>

#include "nabla/nn/crf.h"
#include "nabla/nn/window_embedding.h"
#include "nabla/train/model_spec.h"
#include "train/layer_kinds.h"

namespace nabla {

void add_text_layer_kinds(LayerRegistry& registry) {
  LayerKind k;
  k.name = "window_embedding";
  k.help =
      "the word and shape vectors of a window of WIDTH tokens, side by side; its input is "
      "2 * WIDTH int64 ids (word ids, then shape ids): window_embedding:WIDTHxVOCABxDIM";
  const auto most = static_cast<double>(ModelSpec::kMaxWidth);
  k.options = {{"width", 0, true, 1, 101, true, "tokens in a window (2 * window + 1)"},
               {"vocab", 0, true, 2, most, true, "words in the vocabulary"},
               {"dim", 0, true, 1, 10000, true, "size of a word vector"},
               {"shapes", 10, false, 1, 1000, true, "word shapes (padding included)"},
               {"shape_dim", 5, false, 0, 1000, true, "size of a shape vector (0: none)"},
               {"affixes", 0, false, 0, most, true, "prefixes and suffixes in their table"},
               {"affix_dim", 0, false, 0, 1000, true,
                "size of a prefix or suffix vector (0: none; then the input is 4 * WIDTH ids)"}};
  k.positional = 3;
  k.plan = [](const LayerOptions& o, const Shape& in) {
    const std::int64_t width = whole(o, "width"), d = whole(o, "dim");
    const std::int64_t s = whole(o, "shape_dim"), a = whole(o, "affix_dim");
    const std::int64_t ids = (a > 0 ? 4 : 2) * width;
    if (in != Shape{ids}) {
      throw ValueError("window_embedding: input " + shape_str(in) + ", expected (" +
                       std::to_string(ids) + ") ids: " + std::to_string(width) +
                       " word ids, then as many shape ids" +
                       (a > 0 ? ", prefix ids and suffix ids" : ""));
    }
    if (a > 0 && whole(o, "affixes") < 1) {
      throw ValueError("window_embedding: affix vectors of size " + std::to_string(a) +
                       " need an affix table of 1 or more rows (affixes)");
    }
    LayerPlan plan{{width * (d + s + 2 * a)},
                   {{"words.W", {whole(o, "vocab"), d}}, {"shapes.W", {whole(o, "shapes"), s}}},
                   {}};
    if (a > 0) plan.parameters.push_back({"affixes.W", {whole(o, "affixes"), a}});
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
    return std::make_unique<WindowEmbedding>(std::move(words), std::move(shapes),
                                             whole(o, "width"), std::move(affixes));
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
