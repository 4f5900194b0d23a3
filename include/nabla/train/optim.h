// nabla/optim.h — optimizers that update parameters from their gradients, and weight
// initialisers.
//
//   std::vector<Var> params = net.parameters();          // W1, b1, W2, b2
//   std::unique_ptr<Optimizer> opt = make_optimizer("adam", 0.001);
//   for (...) {
//     net.zero_grad();
//     net.gradient(x, t);
//     opt->step(params);                                  // p -= update(p.grad())
//   }
//
// The update rules (g is the gradient, every operation elementwise):
//   SGD       p -= lr * g
//   Momentum  v = momentum * v - lr * g;  p += v
//   Nesterov  v = momentum * v - lr * g;  p += momentum * v - lr * g   (look-ahead form)
//   AdaGrad   h += g * g;  p -= lr * g / (sqrt(h) + eps)
//   RMSProp   h = decay * h + (1 - decay) * g * g;  p -= lr * g / (sqrt(h) + eps)
//   Adam      m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g * g;
//             p -= lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1^t),
//             v_hat = v / (1 - b2^t),  t = 1, 2, ...
//   AdamW     p -= lr * weight_decay * p, then the Adam update (decoupled decay).
// For all but AdamW, weight_decay adds weight_decay * p to g (an L2 penalty).
//
// Lazy (sparse) updates. A table whose gradient is a RowGradient (an Embedding's: only
// the rows a batch used) is stepped with step(params, row_grads): row_grads[i] names the
// rows of params[i] that have a gradient, and only those rows, and only their state, are
// updated; every other row keeps its value and its state (v, h, m) as they were. So:
//   SGD       the same numbers as the dense update of the same gradient (zero elsewhere),
//             without weight decay (the dense update would decay the untouched rows too);
//   Adam      a touched row gets m = b1 * m + (1 - b1) * g, v likewise, and the step
//             with the bias corrections of the global step t; an untouched row's m and v
//             are not decayed (the dense update would decay them, and keep moving the row
//             on its momentum). On a batch that touches every row the two are the same.
//   The others likewise: each touched row is updated exactly as the dense rule would
//   update it; untouched rows are left alone ("lazy", as TensorFlow's LazyAdam and
//   PyTorch's SparseAdam).
//
// Per-parameter state (v, h, m...) belongs to the position of the parameter in the
// vector passed to step(), which must therefore be the same vector (same order, shapes
// and dtypes) on every call. It is created on the first step; later steps do not
// allocate. A parameter without a gradient (has_grad() false) is skipped.
//
// Saved, the state is keyed by the parameters' names (a Module's named_parameters()),
// never by position, so that a checkpoint does not depend on the order of the parameters:
//   std::vector<std::string> names = {"W1", "b1", "W2", "b2"};  // of params, in order
//   auto state = opt->state(names);   // "step", "m.W1", "v.W1", "m.b1", ...
//   other->load_state(state, names);  // continues exactly where opt stands
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/row_gradient.h"

NABLA_API_BEGIN
namespace nabla {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // "sgd", "momentum", ... (the name make_optimizer accepts).
  virtual std::string name() const = 0;
  // One update of every parameter from its grad().
  void step(std::vector<Var>& params);
  // One update where row_grads[i], when not null, is params[i]'s gradient: a (V, d)
  // parameter updated in those rows only (lazy, see above); its grad() is not read.
  // Other parameters are updated from grad() as by step(params). row_grads has one entry
  // per parameter (or is empty).
  void step(std::vector<Var>& params, const std::vector<const RowGradient*>& row_grads);

  double learning_rate() const { return lr_; }
  void set_learning_rate(double lr) { lr_ = lr; }
  double weight_decay() const { return weight_decay_; }
  // Steps taken so far (Adam's t).
  std::int64_t steps() const { return steps_; }

  // The state for a checkpoint: "step" (a float64 scalar) and one tensor per slot and
  // parameter, named "<slot>.<parameter name>", where names[i] is the name of the i-th
  // parameter step() takes: "m.W1", "v.W1", "m.conv1.W", ... Before the first step there
  // is only "step".
  std::vector<std::pair<std::string, Tensor>> state(const std::vector<std::string>& names) const;
  // Restores state(names). Also reads the keys of states saved before names were used,
  // "<slot>.<position>" ("m.0" is the state m of names[0]). Throws ValueError naming the
  // entry and what was expected for an unknown, repeated, empty or missing entry (e.g. a
  // state written by another optimizer or for another model). Shapes are checked against
  // the parameters on the next step().
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state,
                  const std::vector<std::string>& names);

 protected:
  Optimizer(double lr, double weight_decay, std::vector<std::string> slot_names);

  // Updates one parameter: value p, gradient g, and slots[k] for each slot name, all of
  // numel n and C++ type T (one overload per type, so the loops are plain and fast).
  virtual void update(float* p, const float* g, float* const* slots, std::int64_t n) = 0;
  virtual void update(double* p, const double* g, double* const* slots, std::int64_t n) = 0;
  // Called once per step before the parameters are updated (Adam advances t here).
  virtual void begin_step() {}

  double lr_;
  double weight_decay_;
  std::int64_t steps_ = 0;

 private:
  void create_slots(const std::vector<Var>& params);
  void update_rows(Tensor& value, const RowGradient& rows, std::vector<Tensor>& slots,
                   std::size_t position);

  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;  // [parameter][slot]
};

class SGD : public Optimizer {
 public:
  explicit SGD(double lr = 0.01, double weight_decay = 0.0);
  std::string name() const override { return "sgd"; }

 private:
  void update(float* p, const float* g, float* const* slots, std::int64_t n) override;
  void update(double* p, const double* g, double* const* slots, std::int64_t n) override;
};

class Momentum : public Optimizer {
 public:
  explicit Momentum(double lr = 0.01, double momentum = 0.9, double weight_decay = 0.0);
  std::string name() const override { return "momentum"; }
  double momentum() const { return momentum_; }

 private:
  void update(float* p, const float* g, float* const* slots, std::int64_t n) override;
  void update(double* p, const double* g, double* const* slots, std::int64_t n) override;
  double momentum_;
};

// Nesterov's accelerated gradient in the form of Bengio et al. (2012): the same velocity
// as Momentum, but the step looks ahead along it. The first step moves p by
// -(1 + momentum) * lr * g.
class Nesterov : public Optimizer {
 public:
  explicit Nesterov(double lr = 0.01, double momentum = 0.9, double weight_decay = 0.0);
  std::string name() const override { return "nesterov"; }

 private:
  void update(float* p, const float* g, float* const* slots, std::int64_t n) override;
  void update(double* p, const double* g, double* const* slots, std::int64_t n) override;
  double momentum_;
};

class AdaGrad : public Optimizer {
 public:
  explicit AdaGrad(double lr = 0.01, double eps = 1e-7, double weight_decay = 0.0);
  std::string name() const override { return "adagrad"; }

 private:
  void update(float* p, const float* g, float* const* slots, std::int64_t n) override;
  void update(double* p, const double* g, double* const* slots, std::int64_t n) override;
  double eps_;
};

class RMSProp : public Optimizer {
 public:
  explicit RMSProp(double lr = 0.01, double decay = 0.99, double eps = 1e-7,
                   double weight_decay = 0.0);
  std::string name() const override { return "rmsprop"; }

 private:
  void update(float* p, const float* g, float* const* slots, std::int64_t n) override;
  void update(double* p, const double* g, double* const* slots, std::int64_t n) override;
  double decay_;
  double eps_;
};

class Adam : public Optimizer {
 public:
  explicit Adam(double lr = 0.001, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                double weight_decay = 0.0);
  std::string name() const override { return "adam"; }

 protected:
  // decoupled: weight decay shrinks p directly (AdamW) instead of adding to g.
  Adam(double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled);

 private:
  void update(float* p, const float* g, float* const* slots, std::int64_t n) override;
  void update(double* p, const double* g, double* const* slots, std::int64_t n) override;
  void begin_step() override;
  double beta1_, beta2_, eps_;
  bool decoupled_;
  // Per step: 1 / (1 - beta1^t) and 1 / (1 - beta2^t).
  double correction1_ = 1.0, correction2_ = 1.0;
};

// Adam with decoupled weight decay (Loshchilov & Hutter, 2019).
class AdamW : public Adam {
 public:
  explicit AdamW(double lr = 0.001, double weight_decay = 0.01, double beta1 = 0.9,
                 double beta2 = 0.999, double eps = 1e-8);
  std::string name() const override { return "adamw"; }
};

// The names make_optimizer accepts: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.
const std::vector<std::string>& optimizer_names();
// An optimizer with the given learning rate and weight decay and the textbook's other
// defaults (momentum 0.9, decay 0.99, betas 0.9 and 0.999). Throws ValueError listing
// the valid names for an unknown one.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double lr,
                                          double weight_decay = 0.0);

// ---- initialisers ---------------------------------------------------------------------

enum class Init {
  normal,  // N(0, std^2) with the given std (the textbook's weight_init_std = 0.01)
  xavier,  // N(0, 1 / fan_in): keeps sigmoid and tanh activations spread out
  he,      // N(0, 2 / fan_in): the same for ReLU
};

// "std" or "normal", "xavier", "he"; ValueError naming the valid ones otherwise.
Init parse_init(const std::string& name);
const char* init_name(Init init);
// The standard deviation the scheme uses for a layer with fan_in inputs.
double init_std(Init init, std::int64_t fan_in, double normal_std = 0.01);
// A (fan_in, fan_out) weight matrix drawn from N(0, init_std(...)^2).
Tensor init_weight(Init init, std::int64_t fan_in, std::int64_t fan_out, Rng& rng,
                   double normal_std = 0.01, DType dtype = DType::f32);

}  // namespace nabla
NABLA_API_END
