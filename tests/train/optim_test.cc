// Optimizers: each first (and second) update against values worked out by hand, each
// minimising the textbook's f(x, y) = x^2 / 20 + y^2 from (-7, 2), state round trips;
// and the weight initialisers.
#include "nabla/train/optim.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>

#include "nabla/ops/ops.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

// One parameter p = (1, -2) with gradient g = (0.5, -1) (set by hand).
struct Fixture {
  explicit Fixture(DType dtype = DType::f64) {
    params = {Var::parameter(Tensor::from({2}, {1.0, -2.0}, dtype), "p")};
    set_grad();
  }
  void set_grad() { params[0].grad() = Tensor::from({2}, {0.5, -1.0}, params[0].dtype()); }
  double p(int i) const { return params[0].value().get(i); }
  std::vector<Var> params;
};

// p after one step and after a second step with the same gradient.
struct TwoSteps {
  double first0, first1, second0;
};

TwoSteps run_two_steps(Optimizer& opt, DType dtype = DType::f64) {
  Fixture f(dtype);
  opt.step(f.params);
  TwoSteps r{f.p(0), f.p(1), 0.0};
  f.set_grad();
  opt.step(f.params);
  r.second0 = f.p(0);
  return r;
}

TEST(Optimizer, SgdFirstUpdate) {
  SGD opt(0.1);
  TwoSteps r = run_two_steps(opt);
  EXPECT_NEAR(r.first0, 1.0 - 0.1 * 0.5, 1e-15);   // 0.95
  EXPECT_NEAR(r.first1, -2.0 + 0.1 * 1.0, 1e-15);  // -1.9
  EXPECT_NEAR(r.second0, 0.9, 1e-15);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Optimizer, SgdWeightDecayAddsL2Gradient) {
  SGD opt(0.1, 0.1);
  TwoSteps r = run_two_steps(opt);
  EXPECT_NEAR(r.first0, 1.0 - 0.1 * (0.5 + 0.1 * 1.0), 1e-15);     // 0.94
  EXPECT_NEAR(r.first1, -2.0 - 0.1 * (-1.0 + 0.1 * -2.0), 1e-15);  // -1.88
}

TEST(Optimizer, MomentumFirstUpdates) {
  Momentum opt(0.1);  // momentum 0.9
  TwoSteps r = run_two_steps(opt);
  // v = -0.1 * 0.5 = -0.05; p = 0.95. Then v = 0.9 * -0.05 - 0.05 = -0.095; p = 0.855.
  EXPECT_NEAR(r.first0, 0.95, 1e-15);
  EXPECT_NEAR(r.first1, -1.9, 1e-15);
  EXPECT_NEAR(r.second0, 0.855, 1e-15);
}

TEST(Optimizer, NesterovFirstUpdates) {
  Nesterov opt(0.1);  // momentum 0.9
  TwoSteps r = run_two_steps(opt);
  // v = -0.05; p += 0.9 * -0.05 - 0.05 = -0.095 -> 0.905.
  // v = 0.9 * -0.05 - 0.05 = -0.095; p += 0.9 * -0.095 - 0.05 = -0.1355 -> 0.7695.
  EXPECT_NEAR(r.first0, 0.905, 1e-15);
  EXPECT_NEAR(r.first1, -2.0 + 0.19, 1e-15);
  EXPECT_NEAR(r.second0, 0.7695, 1e-15);
}

TEST(Optimizer, AdaGradFirstUpdates) {
  AdaGrad opt(0.1);  // eps 1e-7
  TwoSteps r = run_two_steps(opt);
  // h = 0.25; p -= 0.1 * 0.5 / (0.5 + 1e-7). Then h = 0.5; p -= 0.05 / (sqrt(0.5) + 1e-7).
  EXPECT_NEAR(r.first0, 1.0 - 0.05 / 0.5000001, 1e-15);  // 0.90000002
  EXPECT_NEAR(r.first1, -2.0 + 0.1 / 1.0000001, 1e-15);
  EXPECT_NEAR(r.second0, 0.90000002 - 0.05 / (0.7071067811865476 + 1e-7), 1e-12);
}

TEST(Optimizer, RmsPropFirstUpdates) {
  RMSProp opt(0.1);  // decay 0.99, eps 1e-7
  TwoSteps r = run_two_steps(opt);
  // h = 0.01 * 0.25 = 0.0025, sqrt 0.05: p -= 0.05 / 0.0500001.
  // h = 0.99 * 0.0025 + 0.0025 = 0.004975: p -= 0.05 / (sqrt(0.004975) + 1e-7).
  EXPECT_NEAR(r.first0, 1.0 - 0.05 / 0.0500001, 1e-14);  // 2.0e-6
  EXPECT_NEAR(r.first1, -2.0 + 0.1 / 0.1000001, 1e-14);
  EXPECT_NEAR(r.second0, (1.0 - 0.05 / 0.0500001) - 0.05 / (0.0705336798 + 1e-7), 1e-9);
}

TEST(Optimizer, AdamFirstUpdates) {
  Adam opt(0.1);  // betas 0.9, 0.999, eps 1e-8
  TwoSteps r = run_two_steps(opt);
  // t = 1: m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25: p -= 0.1 * 0.5 / (0.5 + 1e-8).
  // t = 2: m = 0.095, v = 0.00049975; m_hat = 0.095 / 0.19 = 0.5,
  //        v_hat = 0.00049975 / 0.001999 = 0.25: the same step again.
  EXPECT_NEAR(r.first0, 1.0 - 0.05 / 0.50000001, 1e-15);
  EXPECT_NEAR(r.first1, -2.0 + 0.1 / 1.00000001, 1e-15);
  EXPECT_NEAR(r.second0, 1.0 - 2 * 0.05 / 0.50000001, 1e-12);
}

TEST(Optimizer, AdamWDecaysBeforeTheAdamStep) {
  AdamW opt(0.1, 0.01);
  TwoSteps r = run_two_steps(opt);
  // p = 1 * (1 - 0.1 * 0.01) - 0.1 = 0.899; second: 0.899 * 0.999 - 0.1 = 0.798101.
  EXPECT_NEAR(r.first0, 0.999 - 0.05 / 0.50000001, 1e-15);
  EXPECT_NEAR(r.first1, -2.0 * 0.999 + 0.1 / 1.00000001, 1e-15);
  EXPECT_NEAR(r.second0, (0.999 - 0.05 / 0.50000001) * 0.999 - 0.05 / 0.50000001, 1e-12);
  // Coupled L2 in Adam is different: the decay goes through m and v.
  Adam coupled(0.1, 0.9, 0.999, 1e-8, 0.01);
  EXPECT_GT(std::abs(run_two_steps(coupled).first0 - r.first0), 1e-4);
}

TEST(Optimizer, Float32MatchesFloat64) {
  for (const std::string& name : optimizer_names()) {
    auto a = make_optimizer(name, 0.1);
    auto b = make_optimizer(name, 0.1);
    TwoSteps r64 = run_two_steps(*a, DType::f64);
    TwoSteps r32 = run_two_steps(*b, DType::f32);
    EXPECT_NEAR(r32.first0, r64.first0, 1e-6) << name;
    EXPECT_NEAR(r32.first1, r64.first1, 1e-6) << name;
    EXPECT_NEAR(r32.second0, r64.second0, 1e-6) << name;
  }
}

TEST(Optimizer, SkipsParametersWithoutGradient) {
  std::vector<Var> params = {Var::parameter(Tensor::from({1}, {3.0})),
                             Var::parameter(Tensor::from({1}, {4.0}))};
  params[1].grad() = Tensor::from({1}, {1.0});
  Momentum opt(0.5);
  opt.step(params);
  EXPECT_EQ(params[0].value().get(0), 3.0);
  EXPECT_FALSE(params[0].has_grad());
  EXPECT_EQ(params[1].value().get(0), 3.5);
}

// ---- f(x, y) = x^2 / 20 + y^2 ------------------------------------------------------------

// Runs `steps` updates from (-7, 2), gradients from the graph; returns (x, y).
std::pair<double, double> minimise(Optimizer& opt, int steps) {
  std::vector<Var> params = {Var::parameter(Tensor::scalar(-7.0), "x"),
                             Var::parameter(Tensor::scalar(2.0), "y")};
  for (int i = 0; i < steps; ++i) {
    for (Var& p : params) p.zero_grad();
    Var f = square(params[0]) * (1.0 / 20.0) + square(params[1]);
    f.backward();
    opt.step(params);
  }
  return {params[0].item(), params[1].item()};
}

TEST(Optimizer, GradientOfTheTestFunction) {
  Var x = Var::parameter(Tensor::scalar(-7.0)), y = Var::parameter(Tensor::scalar(2.0));
  Var f = square(x) * (1.0 / 20.0) + square(y);
  f.backward();
  EXPECT_NEAR(f.item(), 49.0 / 20.0 + 4.0, 1e-12);
  EXPECT_NEAR(x.grad().item(), -0.7, 1e-12);  // x / 10
  EXPECT_NEAR(y.grad().item(), 4.0, 1e-12);   // 2y
}

struct Case {
  const char* name;
  double lr;
};

// How GoogleTest shows a case (its test listing; by default the bytes of the struct, padding
// and pointer included, which change from build to build).
void PrintTo(const Case& c, std::ostream* os) { *os << c.name << " lr " << c.lr; }

TEST(Minimise, CasesPrintWithoutTheirBytes) {
  EXPECT_EQ(::testing::PrintToString(Case{"sgd", 0.95}), "sgd lr 0.95");
}

class Minimise : public ::testing::TestWithParam<Case> {};

TEST_P(Minimise, ReachesTheMinimumFromMinusSevenTwo) {
  const Case c = GetParam();
  auto opt = make_optimizer(c.name, c.lr);
  auto [x, y] = minimise(*opt, 200);
  EXPECT_LT(std::abs(x), 1e-3) << c.name << " ended at (" << x << ", " << y << ")";
  EXPECT_LT(std::abs(y), 1e-3) << c.name << " ended at (" << x << ", " << y << ")";
}

// Learning rates as in the textbook's optimizer comparison (SGD 0.95, Momentum 0.1,
// AdaGrad 1.5, Adam 0.3); 200 steps instead of its 30, to get close to (0, 0).
INSTANTIATE_TEST_SUITE_P(Textbook, Minimise,
                         ::testing::Values(Case{"sgd", 0.95}, Case{"momentum", 0.1},
                                           Case{"nesterov", 0.1}, Case{"adagrad", 1.5},
                                           Case{"rmsprop", 0.1}, Case{"adam", 0.3},
                                           Case{"adamw", 0.3}),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return std::string(param_info.param.name);
                         });

// ---- factory and state ------------------------------------------------------------------

TEST(Optimizer, FactoryNamesAndDefaults) {
  for (const std::string& name : optimizer_names()) {
    auto opt = make_optimizer(name, 0.05, 0.001);
    EXPECT_EQ(opt->name(), name);
    EXPECT_EQ(opt->learning_rate(), 0.05);
    EXPECT_EQ(opt->weight_decay(), 0.001);
  }
  // Textbook defaults: momentum 0.9.
  auto m = make_optimizer("momentum", 0.1);
  Momentum direct(0.1, 0.9);
  EXPECT_EQ(run_two_steps(*m).second0, run_two_steps(direct).second0);
  try {
    make_optimizer("adadelta", 0.1);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown optimizer 'adadelta'; valid optimizers: sgd, momentum, nesterov, "
              "adagrad, rmsprop, adam, adamw");
  }
  EXPECT_THROW(make_optimizer("sgd", -1.0), ValueError);
  EXPECT_THROW(make_optimizer("sgd", 0.1, -0.5), ValueError);
}

TEST(Optimizer, StateNamesAndRoundTrip) {
  Fixture f;
  Adam a(0.1);
  EXPECT_EQ(a.state({"fc.W"}).size(), 1u);  // before the first step: "step" only
  a.step(f.params);
  auto state = a.state({"fc.W"});
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].first, "step");
  EXPECT_EQ(state[0].second.item(), 1.0);
  EXPECT_EQ(state[1].first, "m.fc.W");
  EXPECT_EQ(state[2].first, "v.fc.W");
  EXPECT_NEAR(state[1].second.get(0), 0.05, 1e-15);
  EXPECT_NEAR(state[2].second.get(1), 0.001, 1e-15);

  // A resumed optimizer continues exactly like the original, whether its state is keyed
  // by name or, as states saved before names were used, by position ("m.0").
  Adam b(0.1), c(0.1);
  b.load_state(state, {"fc.W"});
  c.load_state({state[0], {"m.0", state[1].second}, {"v.0", state[2].second}}, {"fc.W"});
  EXPECT_EQ(b.steps(), 1);
  EXPECT_EQ(c.steps(), 1);
  Fixture g, h;
  g.params[0].value() = f.params[0].value();
  h.params[0].value() = f.params[0].value();
  f.set_grad();
  g.set_grad();
  h.set_grad();
  a.step(f.params);
  b.step(g.params);
  c.step(h.params);
  EXPECT_EQ(f.params[0].value().to_vector(), g.params[0].value().to_vector());
  EXPECT_EQ(f.params[0].value().to_vector(), h.params[0].value().to_vector());
}

TEST(Optimizer, StateFollowsNamesNotPositions) {
  // Two parameters saved in one order and loaded in the other: each keeps its own state.
  Var x = Var::parameter(Tensor::from({2}, {1.0, 2.0}), "x");
  Var y = Var::parameter(Tensor::from({3}, {1.0, 2.0, 3.0}), "y");
  x.grad() = Tensor::from({2}, {0.5, -1.0});
  y.grad() = Tensor::from({3}, {1.0, 1.0, 1.0});
  std::vector<Var> xy{x, y};
  Momentum m(0.1);
  m.step(xy);
  Momentum swapped(0.1);
  swapped.load_state(m.state({"x", "y"}), {"y", "x"});
  std::vector<Var> yx{y, x};
  swapped.step(yx);  // velocity.y is (3), velocity.x (2): a mix-up would fail here
  auto state = swapped.state({"y", "x"});
  ASSERT_EQ(state[1].first, "velocity.y");
  EXPECT_NEAR(state[1].second.get(0), 0.9 * -0.1 - 0.1, 1e-15);
  EXPECT_NEAR(state[2].second.get(0), 0.9 * -0.05 - 0.05, 1e-15);
}

TEST(Optimizer, LoadStateRejectsForeignOrBrokenState) {
  Fixture f;
  Momentum m(0.1);
  m.step(f.params);
  auto message = [](Optimizer& opt, const std::vector<std::pair<std::string, Tensor>>& state,
                    const std::vector<std::string>& names) {
    try {
      opt.load_state(state, names);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Adam adam(0.1);
  EXPECT_EQ(message(adam, m.state({"W1"}), {"W1"}),
            "adam optimizer state: unknown entry 'velocity.W1' (expects step, m.<parameter>, "
            "v.<parameter> for the parameters W1)");
  Momentum other(0.1);
  const Tensor step = Tensor::scalar(1), v = Tensor::zeros({2}, DType::f64);
  EXPECT_EQ(message(other, {{"step", step}, {"velocity.W9", v}}, {"W1", "b1"}),
            "momentum optimizer state: unknown entry 'velocity.W9': no parameter is named 'W9' "
            "(expects step, velocity.<parameter> for the parameters W1, b1)");
  EXPECT_EQ(message(other, {{"step", step}, {"velocity.2", v}}, {"W1", "b1"}),
            "momentum optimizer state: unknown entry 'velocity.2': position 2 is past the last "
            "parameter (expects step, velocity.<parameter> for the parameters W1, b1)");
  EXPECT_EQ(message(other, {{"step", step}, {"velocity.W1", v}, {"velocity.W1", v}}, {"W1"}),
            "momentum optimizer state: entry 'velocity.W1' appears twice");
  EXPECT_EQ(message(other, {{"step", step}, {"velocity.W1", v}, {"velocity.0", v}}, {"W1"}),
            "momentum optimizer state: entries 'velocity.W1' and 'velocity.0' are both the "
            "state velocity of parameter W1");
  EXPECT_EQ(message(other, {{"step", step}, {"step", step}}, {"W1"}),
            "momentum optimizer state: entry 'step' appears twice");
  EXPECT_EQ(message(other, {{"step", step}, {"velocity.b1", v}}, {"W1", "b1"}),
            "momentum optimizer state: missing entry 'velocity.W1' (expects step, "
            "velocity.<parameter> for the parameters W1, b1)");
  EXPECT_EQ(message(other, {{"velocity.W1", v}}, {"W1"}),
            "momentum optimizer state: no 'step' entry (expects step, velocity.<parameter> for "
            "the parameters W1)");
  EXPECT_EQ(message(other, {{"step", step}}, {"W1", "W1"}),
            "momentum optimizer state: two parameters are named 'W1' (0 and 1)");
  EXPECT_THROW(other.load_state({{"step", Tensor::scalar(-1)}}, {"W1"}), ValueError);
  EXPECT_EQ(other.steps(), 0);  // unchanged by the failed loads
  try {
    (void)m.state({"W1", "b1"});
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()), "momentum optimizer state: 2 names (W1, b1) for 1 parameters");
  }

  // A state of the wrong shape is found on the next step.
  Momentum wrong(0.1);
  wrong.load_state({{"step", step}, {"velocity.p", Tensor::zeros({3}, DType::f64)}}, {"p"});
  Fixture g;
  try {
    wrong.step(g.params);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()),
              "momentum: state velocity.0 is float64(3), parameter 0 is float64(2)");
  }
}

// ---- initialisers -----------------------------------------------------------------------

TEST(Init, StandardDeviations) {
  EXPECT_EQ(init_std(Init::normal, 784), 0.01);
  EXPECT_EQ(init_std(Init::normal, 784, 0.1), 0.1);
  EXPECT_NEAR(init_std(Init::xavier, 784), 1.0 / 28.0, 1e-15);
  EXPECT_NEAR(init_std(Init::he, 784), std::sqrt(2.0) / 28.0, 1e-15);  // 0.0505
  EXPECT_NEAR(init_std(Init::he, 50), 0.2, 1e-15);
  EXPECT_EQ(parse_init("std"), Init::normal);
  EXPECT_EQ(parse_init("normal"), Init::normal);
  EXPECT_EQ(parse_init("xavier"), Init::xavier);
  EXPECT_EQ(parse_init("he"), Init::he);
  EXPECT_STREQ(init_name(Init::he), "he");
  EXPECT_THROW(parse_init("glorot"), ValueError);
  EXPECT_THROW(init_std(Init::he, 0), ValueError);
}

TEST(Init, SampleStatistics) {
  Rng rng(42);
  for (Init init : {Init::normal, Init::xavier, Init::he}) {
    Tensor w = init_weight(init, 784, 50, rng);
    ASSERT_EQ(w.shape(), (Shape{784, 50}));
    EXPECT_EQ(w.dtype(), DType::f32);
    double sum = 0, sq = 0;
    for (double v : w.to_vector()) {
      sum += v;
      sq += v * v;
    }
    const double n = 784.0 * 50.0, expected = init_std(init, 784);
    EXPECT_NEAR(sum / n, 0.0, 0.02 * expected) << init_name(init);
    EXPECT_NEAR(std::sqrt(sq / n), expected, 0.02 * expected) << init_name(init);
  }
  // The same seed gives the same weights as Tensor::randn (the textbook's std * randn).
  Rng a(1), b(1);
  EXPECT_EQ(init_weight(Init::normal, 3, 2, a).to_vector(),
            Tensor::randn({3, 2}, b, 0.01).to_vector());
}

}  // namespace
}  // namespace nabla
