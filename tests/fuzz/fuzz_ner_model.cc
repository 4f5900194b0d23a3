// libFuzzer harness: window-tagger files as `nabla ner eval`, `ner tag` read them: load,
// tag a sentence, train one epoch on a tiny tagged sentence (the one Trainer), save and
// load again. Bad input must end in DataError (or, for a run the file makes diverge,
// TrainingError), nothing
// else; what loads must tag every token with one of its tags and save to a file that
// loads back to the same predictions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "nabla/data/idx.h"
#include "nabla/tasks/ner.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nabla::fuzz::InputFile file("tagger.safetensors", data, size);
  std::optional<nabla::WindowTagger> loaded;
  try {
    loaded.emplace(nabla::load_window_tagger(file.path()));
  } catch (const nabla::DataError&) {
    return 0;
  }
  nabla::WindowTagger& model = *loaded;

  const std::vector<std::vector<std::string>> text = {{"Paris", "is", "in", "FRANCE", "1999"}};
  const auto n_tags = static_cast<std::int64_t>(model.tags().size());
  std::vector<std::int64_t> ids = model.predict(model.encode_untagged(text));
  if (ids.size() != text[0].size()) __builtin_trap();
  for (std::int64_t id : ids) {
    if (id < 0 || id >= n_tags) __builtin_trap();
  }

  nabla::TaggedSentence s{text[0], std::vector<std::string>(text[0].size(), model.tags()[0])};
  s.tags[0] = model.tags().back();
  nabla::NerCorpus corpus;
  corpus.train = corpus.dev = corpus.test = {s};
  corpus.train_path = corpus.dev_path = corpus.test_path = "sentence";
  nabla::fuzz::InputFile out("saved.safetensors", "", 0);
  try {
    nabla::Trainer trainer(nabla::ner_train_config(model, 1, 2, "adam", 1e-3, 1),
                           nabla::ner_training_data(model, corpus), model.net());
    while (!trainer.done()) trainer.step();
    trainer.save(out.path());
  } catch (const nabla::TrainingError&) {  // a loss that is not finite
    return 0;
  }
  nabla::WindowTagger again = nabla::load_window_tagger(out.path());
  if (again.predict(again.encode_untagged(text)) != model.predict(model.encode_untagged(text))) {
    __builtin_trap();
  }
  return 0;
}
