// metrics.csv and its read-back (see nabla/train/metrics_log.h).
#include "nabla/train/metrics_log.h"

#include <cerrno>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "nabla/train/run_dir.h"

namespace nabla {

std::string MetricColumns::header() const {
  return "iteration,loss," + train + "," + (validation.empty() ? "" : validation + ",") + test +
         ",seconds\n";
}

MetricColumns metric_columns(const TrainingData& data) {
  MetricColumns c;
  const std::string key = data.metric_key();
  c.metric = data.metric();
  c.train = data.split_name(Split::train) + "_" + key;
  if (data.size(Split::validation) > 0) c.validation = data.split_name(Split::validation) + "_" + key;
  c.test = data.split_name(Split::test) + "_" + key;
  return c;
}

void Metrics::add_loss(std::int64_t iteration, double loss) {
  iters.push_back(static_cast<double>(iteration));
  losses.push_back(loss);
}

void Metrics::add_evaluation(const Evaluation& e) {
  eval_iters.push_back(static_cast<double>(e.iteration));
  train_acc.push_back(e.train_acc);
  test_acc.push_back(e.test_acc);
  if (e.validation_acc) validation_acc.push_back(*e.validation_acc);
}

std::uintmax_t read_metrics(const std::filesystem::path& path, std::int64_t last_iteration,
                            Metrics& m) {
  std::ifstream in(path);
  std::string line;
  std::uintmax_t kept = 0;
  if (!std::getline(in, line) || in.eof()) return 0;  // header (none: the file is remade)
  kept = line.size() + 1;
  while (std::getline(in, line) && !in.eof()) {
    std::vector<std::string> f;
    std::size_t start = 0;
    for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos;
         start = comma + 1) {
      f.push_back(line.substr(start, comma - start));
    }
    f.push_back(line.substr(start));
    const bool validation = m.columns.fields() == 6;
    if (f.size() == m.columns.fields() && !f[0].empty()) {
      try {
        double iteration = std::stod(f[0]);
        if (iteration > static_cast<double>(last_iteration)) break;
        double loss = std::stod(f[1]);
        m.iters.push_back(iteration);
        m.losses.push_back(loss);
        const std::string& test = f[validation ? 4 : 3];
        if (!f[2].empty() && !test.empty()) {
          double train_acc = std::stod(f[2]), test_acc = std::stod(test);
          double validation_acc = validation ? std::stod(f[3]) : 0;
          m.eval_iters.push_back(iteration);
          m.train_acc.push_back(train_acc);
          m.test_acc.push_back(test_acc);
          if (validation) m.validation_acc.push_back(validation_acc);
        }
      } catch (const std::exception&) {
        // not a row of ours: kept in the file, left out of the curves
      }
    }
    kept += line.size() + 1;
  }
  return kept;
}

namespace {

// The length of the part of a metrics.jsonl to keep: its whole lines of evaluations up to
// `last_iteration` (a line that is not one of ours ends it).
std::uintmax_t jsonl_to_keep(const std::filesystem::path& path, std::int64_t last_iteration) {
  std::ifstream in(path);
  std::uintmax_t kept = 0;
  std::string line;
  while (std::getline(in, line) && !in.eof()) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("iteration") || !j["iteration"].is_number_integer() ||
        j["iteration"].get<std::int64_t>() > last_iteration) {
      break;
    }
    kept += line.size() + 1;
  }
  return kept;
}

}  // namespace

std::filesystem::path MetricsLog::jsonl_path(const std::filesystem::path& csv) {
  return csv.parent_path() / "metrics.jsonl";
}

MetricsLog MetricsLog::create(const std::filesystem::path& path, MetricColumns columns) {
  return MetricsLog(path, 0, 0, std::move(columns));
}

MetricsLog MetricsLog::resume(const std::filesystem::path& path, std::int64_t iteration,
                              Metrics& kept, MetricColumns columns) {
  std::uintmax_t keep = 0, keep_jsonl = 0;
  kept.columns = columns;
  if (std::filesystem::exists(path)) keep = read_metrics(path, iteration, kept);
  const std::filesystem::path jsonl = jsonl_path(path);
  if (keep > 0 && std::filesystem::exists(jsonl)) keep_jsonl = jsonl_to_keep(jsonl, iteration);
  return MetricsLog(path, keep, keep_jsonl, std::move(columns));
}

// keep > 0: the file's first `keep` bytes stay and the rows go on after them; 0: a new file
// (the same for metrics.jsonl with keep_jsonl).
MetricsLog::MetricsLog(std::filesystem::path path, std::uintmax_t keep, std::uintmax_t keep_jsonl,
                       MetricColumns columns)
    : path_(std::move(path)), jsonl_path_(jsonl_path(path_)), columns_(std::move(columns)) {
  errno = 0;
  if (keep > 0) {
    std::filesystem::resize_file(path_, keep);
    out_.open(path_, std::ios::app);
  } else {
    out_.open(path_, std::ios::trunc);
    out_ << columns_.header();
  }
  if (keep_jsonl > 0) {
    std::filesystem::resize_file(jsonl_path_, keep_jsonl);
    jsonl_.open(jsonl_path_, std::ios::app);
  } else {
    jsonl_.open(jsonl_path_, std::ios::trunc);
  }
  flush();
}

void MetricsLog::write_loss(std::int64_t iteration, double loss) {
  out_ << iteration << "," << loss << (columns_.validation.empty() ? ",,,\n" : ",,,,\n");
}

void MetricsLog::write_evaluation(const Evaluation& e, double loss, double seconds) {
  out_ << e.iteration << "," << loss << "," << e.train_acc << ",";
  if (!columns_.validation.empty()) out_ << e.validation_acc.value_or(0) << ",";
  out_ << e.test_acc << "," << seconds << "\n";
  // (ordered as the columns: an ordered_json keeps the insertion order)
  nlohmann::ordered_json j;
  j["iteration"] = e.iteration;
  j["loss"] = loss;
  j[columns_.train] = e.train_acc;
  if (!columns_.validation.empty()) j[columns_.validation] = e.validation_acc.value_or(0);
  j[columns_.test] = e.test_acc;
  j["seconds"] = seconds;
  jsonl_ << j.dump() << "\n";
}

void MetricsLog::flush() {
  out_.flush();
  check_written(out_, path_);
  jsonl_.flush();
  check_written(jsonl_, jsonl_path_);
}

void MetricsLog::close() {
  out_.close();
  check_written(out_, path_);
  jsonl_.close();
  check_written(jsonl_, jsonl_path_);
}

}  // namespace nabla
