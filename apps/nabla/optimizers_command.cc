// `nabla optimizers`: the descent paths of SGD, Momentum, AdaGrad and Adam on the
// textbook's f(x, y) = x^2 / 20 + y^2 from (-7, 2), drawn over f (optimizers.svg) with
// their points in paths.csv, in a run directory.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "nabla/ops/ops.h"
#include "nabla/train/figures.h"
#include "nabla/train/run_dir.h"

namespace nabla::cli {

Runner add_optimizers_command(CLI::App& app) {
  struct Options {
    std::optional<std::string> out;
    std::int64_t steps = 30;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "optimizers", "Descent paths of SGD, Momentum, AdaGrad and Adam on f = x^2/20 + y^2");
  sub->add_option("--steps", o->steps, "Steps of each optimizer")->check(whole_number(1, 10000));
  sub->add_option("--out", o->out,
                  "Directory for optimizers.svg and paths.csv (default: a new one under runs/)")
      ->check(non_empty_path());
  return [o]() -> int {
    // The textbook's learning rates (chapter 6): each optimizer at its own.
    std::vector<std::unique_ptr<Optimizer>> optimizers;
    optimizers.push_back(std::make_unique<SGD>(0.95));
    optimizers.push_back(std::make_unique<Momentum>(0.1));
    optimizers.push_back(std::make_unique<AdaGrad>(1.5));
    optimizers.push_back(std::make_unique<Adam>(0.3));
    const Tensor half_x = Tensor::from({2}, {1.0 / 20, 1.0});
    auto f = [&](const Var& p) { return sum(Var::constant(half_x) * p * p); };
    auto f_of = [](double x, double y) { return x * x / 20 + y * y; };

    const std::filesystem::path dir = o->out ? std::filesystem::path(*o->out) : make_run_dir();
    std::filesystem::create_directories(dir);
    std::ofstream csv(dir / "paths.csv");
    csv.precision(17);
    csv << "optimizer,lr,step,x,y,f\n";
    std::vector<Panel> panels;
    for (auto& opt : optimizers) {
      const DescentPath path = descent_path(*opt, f, -7.0, 2.0, o->steps);
      for (std::size_t i = 0; i < path.x.size(); ++i) {
        csv << path.optimizer << "," << opt->learning_rate() << "," << i << "," << path.x[i] << ","
            << path.y[i] << "," << f_of(path.x[i], path.y[i]) << "\n";
      }
      std::printf("%-9s lr %-4g after %lld steps: (x, y) = (%.4f, %.4f), f = %.6f\n",
                  path.optimizer.c_str(), opt->learning_rate(), static_cast<long long>(o->steps),
                  path.x.back(), path.y.back(), f_of(path.x.back(), path.y.back()));
      char title[64];
      std::snprintf(title, sizeof title, "%s (lr %g)", path.optimizer.c_str(),
                    opt->learning_rate());
      panels.push_back(descent_path_panel({path}, f_of, -10, 10, -5, 5, title));
    }
    csv.close();
    check_written(csv, dir / "paths.csv");
    write_chart(dir / "optimizers.svg", panels, 2);
    std::printf("descent paths written to %s (points: %s)\n",
                (dir / "optimizers.svg").string().c_str(), (dir / "paths.csv").string().c_str());
    return 0;
  };
}

}  // namespace nabla::cli
