// Checks of `nabla train`'s command line that need more than one option: options the
// chosen model would ignore, and options that contradict the checkpoint of --resume.
// Each refusal is a UsageError (exit status 2) that names the options.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "nabla/train/train.h"

namespace nabla::cli {

// `given`: the long names of the options on the command line ("hidden", "lr", ...);
// `asked`: the configuration they make. Refuses --hidden and --activation for --model
// linear (it has no hidden layer) and --init-std with an --init other than std.
void check_model_options(const TrainConfig& asked, const std::set<std::string>& given);

// For --resume: the given options that differ from the checkpoint's configuration. --lr
// is meant to change and is not refused: the returned lines say what changes (the caller
// applies it). Any other difference is refused, naming each option with both values.
std::vector<std::string> check_resume_options(const std::string& checkpoint_path,
                                              const TrainConfig& checkpoint,
                                              const TrainConfig& asked,
                                              const std::set<std::string>& given);

// A model file for `nabla eval`, `nabla predict` and `nabla train --resume`: load_model's,
// with a DataError naming the file when it holds a window tagger (made by `nabla ner
// train`), which those commands cannot use, and the commands that take it.
LoadedModel load_network(const std::string& path);

}  // namespace nabla::cli
