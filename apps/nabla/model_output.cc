// What `nabla eval` and `nabla predict` print (model_output.h).
#include "model_output.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace nabla::cli {

void print_eval(const EvalReport& r, bool json) {
  if (json) {
    nlohmann::json j = {{"model", r.model}, {"iterations", nullptr}};
    if (r.test_rmse) {
      j["test_rmse"] = *r.test_rmse;
      j["test_mae"] = r.test_mae.value_or(0);
    } else {
      j["test_acc"] = r.test_acc;
    }
    j["test_size"] = r.test_size;
    if (r.iterations) j["iterations"] = *r.iterations;
    if (r.train_acc) {
      j["train_acc"] = *r.train_acc;
      j["train_size"] = r.train_size;
    }
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("model %s (%s iterations)\n", r.model.c_str(),
              r.iterations ? std::to_string(*r.iterations).c_str() : "?");
  if (r.train_acc) std::printf("train acc | %.4f\n", *r.train_acc);
  if (r.test_rmse) {
    std::printf("test rmse, mae | %.6g, %.6g (%lld rows)\n", *r.test_rmse, r.test_mae.value_or(0),
                static_cast<long long>(r.test_size));
  } else {
    std::printf("test acc | %.4f\n", r.test_acc);
  }
}

void print_predictions(const std::string& model, const std::vector<Prediction>& predictions,
                       bool json) {
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Prediction& p : predictions) {
      nlohmann::json j = {{"input", p.input}};
      if (p.value) {
        j["value"] = *p.value;
        if (p.target) j["target"] = *p.target;
        list.push_back(std::move(j));
        continue;
      }
      if (p.index) j["index"] = *p.index;
      j["class"] = p.predicted;
      if (p.label) j["label"] = *p.label;
      j["probabilities"] = p.probabilities;
      list.push_back(std::move(j));
    }
    std::cout << nlohmann::json{{"model", model}, {"predictions", list}}.dump() << "\n";
    return;
  }
  for (const Prediction& p : predictions) {
    if (p.value) {
      std::printf("%s: %.6g", p.input.c_str(), *p.value);
      if (p.target) std::printf(" (target %.6g)", *p.target);
      std::printf("\n");
      continue;
    }
    std::printf("%s: class %lld", p.input.c_str(), static_cast<long long>(p.predicted));
    if (p.label) std::printf(" (label %d)", *p.label);
    std::printf("\n  probabilities:");
    for (std::size_t c = 0; c < p.probabilities.size(); ++c) {
      std::printf(" %zu:%.4f", c, p.probabilities[c]);
    }
    std::printf("\n");
  }
}

}  // namespace nabla::cli
