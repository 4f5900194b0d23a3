#include "nabla/train/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace nabla {
namespace {

constexpr std::size_t kMaxSlots = 2;

// Each update below reads g_i = g + wd * p (the L2 penalty's gradient; wd is 0 unless
// weight decay was asked for).

template <class T>
void sgd_update(T* p, const T* g, std::int64_t n, T lr, T wd) {
  for (std::int64_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
}

template <class T>
void momentum_update(T* p, const T* g, T* v, std::int64_t n, T lr, T momentum, T wd) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = momentum * v[i] - lr * (g[i] + wd * p[i]);
    p[i] += v[i];
  }
}

template <class T>
void nesterov_update(T* p, const T* g, T* v, std::int64_t n, T lr, T momentum, T wd) {
  for (std::int64_t i = 0; i < n; ++i) {
    T step = lr * (g[i] + wd * p[i]);
    v[i] = momentum * v[i] - step;
    p[i] += momentum * v[i] - step;
  }
}

template <class T>
void adagrad_update(T* p, const T* g, T* h, std::int64_t n, T lr, T eps, T wd) {
  for (std::int64_t i = 0; i < n; ++i) {
    T gi = g[i] + wd * p[i];
    h[i] += gi * gi;
    p[i] -= lr * gi / (std::sqrt(h[i]) + eps);
  }
}

template <class T>
void rmsprop_update(T* p, const T* g, T* h, std::int64_t n, T lr, T decay, T one_minus_decay, T eps,
                    T wd) {
  for (std::int64_t i = 0; i < n; ++i) {
    T gi = g[i] + wd * p[i];
    h[i] = decay * h[i] + one_minus_decay * gi * gi;
    p[i] -= lr * gi / (std::sqrt(h[i]) + eps);
  }
}

struct AdamConstants {
  double lr, beta1, beta2, eps, weight_decay, correction1, correction2;
  bool decoupled;
};

template <class T>
void adam_update(T* p, const T* g, T* m, T* v, std::int64_t n, const AdamConstants& c) {
  const auto lr = static_cast<T>(c.lr);
  const auto b1 = static_cast<T>(c.beta1);
  const auto b2 = static_cast<T>(c.beta2);
  // 1 - beta in double: in float32, 1 - 0.999f is off by 1e-5 relative, which would no
  // longer match the bias corrections (computed in double).
  const auto one_minus_b1 = static_cast<T>(1.0 - c.beta1);
  const auto one_minus_b2 = static_cast<T>(1.0 - c.beta2);
  const auto eps = static_cast<T>(c.eps);
  const auto c1 = static_cast<T>(c.correction1);
  const auto c2 = static_cast<T>(c.correction2);
  const auto l2 = static_cast<T>(c.decoupled ? 0.0 : c.weight_decay);
  const auto shrink = static_cast<T>(c.decoupled ? 1.0 - c.lr * c.weight_decay : 1.0);
  for (std::int64_t i = 0; i < n; ++i) {
    T gi = g[i] + l2 * p[i];
    m[i] = b1 * m[i] + one_minus_b1 * gi;
    v[i] = b2 * v[i] + one_minus_b2 * gi * gi;
    p[i] = shrink * p[i] - lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
  }
}

void check_hyper(const char* opt, const char* what, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi)) {
    throw ValueError(std::string(opt) + ": " + what + " must be in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got " + std::to_string(value));
  }
}

// "W1, b1, W2, b2": the parameters' names for error messages.
std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// Whether a key's parameter part is a position ("0" in "m.0"), small enough for stoul.
bool is_position(const std::string& parameter) {
  return !parameter.empty() && parameter.size() < 9 &&
         parameter.find_first_not_of("0123456789") == std::string::npos;
}

// Throws unless names holds one distinct, non-empty name per parameter.
void check_names(const std::string& where, const std::vector<std::string>& names,
                 std::size_t parameters) {
  if (names.size() != parameters) {
    throw ValueError(where + std::to_string(names.size()) + " names (" + name_list(names) +
                     ") for " + std::to_string(parameters) + " parameters");
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      throw ValueError(where + "parameter " + std::to_string(i) + " has no name");
    for (std::size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        throw ValueError(where + "two parameters are named '" + names[i] + "' (" +
                         std::to_string(j) + " and " + std::to_string(i) + ")");
      }
    }
  }
}

}  // namespace

// ---- Optimizer -----------------------------------------------------------------------

Optimizer::Optimizer(double lr, double weight_decay, std::vector<std::string> slot_names)
    : lr_(lr), weight_decay_(weight_decay), slot_names_(std::move(slot_names)) {
  if (!(lr > 0.0) || !std::isfinite(lr)) {
    throw ValueError("optimizer: learning rate must be positive, got " + std::to_string(lr));
  }
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
    throw ValueError("optimizer: weight decay must be >= 0, got " + std::to_string(weight_decay));
  }
}

void Optimizer::create_slots(const std::vector<Var>& params) {
  slots_.assign(params.size(), {});
  for (std::size_t i = 0; i < params.size(); ++i) {
    for (std::size_t k = 0; k < slot_names_.size(); ++k) {
      slots_[i].push_back(Tensor::zeros(params[i].shape(), params[i].dtype()));
    }
  }
}

void Optimizer::step(std::vector<Var>& params) { step(params, {}); }

void Optimizer::step(std::vector<Var>& params, const std::vector<const RowGradient*>& row_grads) {
  if (!row_grads.empty() && row_grads.size() != params.size()) {
    throw ValueError(name() + ": " + std::to_string(row_grads.size()) + " row gradients for " +
                     std::to_string(params.size()) + " parameters");
  }
  if (slots_.empty()) create_slots(params);
  if (slots_.size() != params.size()) {
    throw ValueError(name() + ": the optimizer's state is for " + std::to_string(slots_.size()) +
                     " parameters, step() got " + std::to_string(params.size()));
  }
  ++steps_;
  begin_step();
  for (std::size_t i = 0; i < params.size(); ++i) {
    Var& param = params[i];
    const RowGradient* rows = row_grads.empty() ? nullptr : row_grads[i];
    if (rows == nullptr && !param.has_grad()) continue;
    Tensor& value = param.value();
    std::vector<Tensor>& slots = slots_[i];
    for (std::size_t k = 0; k < slots.size(); ++k) {
      if (!slots[k].same_layout(value)) {
        throw ValueError(name() + ": state " + slot_names_[k] + "." + std::to_string(i) + " is " +
                         dtype_name(slots[k].dtype()) + shape_str(slots[k].shape()) +
                         ", parameter " + std::to_string(i) + " is " + dtype_name(value.dtype()) +
                         shape_str(value.shape()));
      }
    }
    if (rows != nullptr) {
      update_rows(value, *rows, slots, i);
      continue;
    }
    const Tensor& grad = param.grad();
    visit_dtype(value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      T* slot_data[kMaxSlots] = {};
      for (std::size_t k = 0; k < slots.size(); ++k) slot_data[k] = slots[k].data<T>();
      update(value.data<T>(), grad.data<T>(), slot_data, value.numel());
    });
  }
}

void Optimizer::update_rows(Tensor& value, const RowGradient& rows, std::vector<Tensor>& slots,
                            std::size_t position) {
  if (rows.empty()) return;
  const std::string where = name() + ": row gradient of parameter " + std::to_string(position);
  if (value.rank() != 2) {
    throw ShapeError(where + ": the parameter is " + shape_str(value.shape()) +
                     ", expected a table (V, d)");
  }
  const std::int64_t v = value.size(0), d = value.size(1);
  const auto n = static_cast<std::int64_t>(rows.rows.size());
  if (!rows.values.defined() || rows.values.dtype() != value.dtype() ||
      rows.values.shape() != Shape{n, d}) {
    throw ShapeError(where + ": values " +
                     (rows.values.defined() ? std::string(dtype_name(rows.values.dtype())) +
                                                  shape_str(rows.values.shape())
                                            : std::string("undefined")) +
                     ", expected " + dtype_name(value.dtype()) + shape_str({n, d}));
  }
  for (std::int64_t r : rows.rows) {
    if (r < 0 || r >= v) {
      throw ValueError(where + ": row " + std::to_string(r) + " is outside [0, " +
                       std::to_string(v) + ")");
    }
  }
  visit_dtype(value.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* p = value.data<T>();
    const T* g = rows.values.data<T>();
    T* slot_data[kMaxSlots] = {};
    for (std::size_t i = 0; i < rows.rows.size(); ++i) {
      const std::int64_t at = rows.rows[i] * d;
      for (std::size_t k = 0; k < slots.size(); ++k) slot_data[k] = slots[k].data<T>() + at;
      update(p + at, g + static_cast<std::int64_t>(i) * d, slot_data, d);
    }
  });
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state(
    const std::vector<std::string>& names) const {
  std::vector<std::pair<std::string, Tensor>> out;
  out.emplace_back("step", Tensor::scalar(static_cast<double>(steps_), DType::f64));
  if (slots_.empty()) return out;  // no step yet
  check_names(name() + " optimizer state: ", names, slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    for (std::size_t k = 0; k < slot_names_.size(); ++k) {
      out.emplace_back(slot_names_[k] + "." + names[i], slots_[i][k]);
    }
  }
  return out;
}

void Optimizer::load_state(const std::vector<std::pair<std::string, Tensor>>& state,
                           const std::vector<std::string>& names) {
  const std::string where = name() + " optimizer state: ";
  check_names(where, names, names.size());
  std::string expects = "step";
  for (const std::string& slot : slot_names_) expects += ", " + slot + ".<parameter>";
  expects += " for the parameters " + name_list(names);

  bool have_step = false;
  std::int64_t steps = 0;
  // slots[i][k] is read from the entry keys[i][k].
  std::vector<std::vector<Tensor>> slots(names.size(), std::vector<Tensor>(slot_names_.size()));
  std::vector<std::vector<std::string>> keys(names.size(),
                                             std::vector<std::string>(slot_names_.size()));
  bool any_slot = false;
  for (const auto& [key, tensor] : state) {
    if (key == "step") {
      if (have_step) throw ValueError(where + "entry 'step' appears twice");
      double s = tensor.defined() && tensor.numel() == 1 ? tensor.item() : -1.0;
      if (!(s >= 0.0) || s != std::floor(s) || s > 9e15) {
        throw ValueError(where + "'step' must be a non-negative whole number");
      }
      have_step = true;
      steps = static_cast<std::int64_t>(s);
      continue;
    }
    // "<slot>.<parameter>": slot names have no dot, parameter names may ("conv1.W").
    const std::size_t dot = key.find('.');
    std::size_t k = slot_names_.size();
    for (std::size_t j = 0; j < slot_names_.size() && dot != std::string::npos; ++j) {
      if (key.compare(0, dot, slot_names_[j]) == 0) k = j;
    }
    if (k == slot_names_.size()) {
      throw ValueError(where + "unknown entry '" + key + "' (expects " + expects + ")");
    }
    // The parameter by name, or by position as states were saved before names were used
    // (a name that is a number is read as a name first).
    const std::string parameter = key.substr(dot + 1);
    auto i =
        static_cast<std::size_t>(std::find(names.begin(), names.end(), parameter) - names.begin());
    if (i == names.size() && is_position(parameter)) {
      i = std::stoul(parameter);
      if (i >= names.size()) {
        throw ValueError(where + "unknown entry '" + key + "': position " + parameter +
                         " is past the last parameter (expects " + expects + ")");
      }
    }
    if (i == names.size()) {
      throw ValueError(where + "unknown entry '" + key + "': no parameter is named '" + parameter +
                       "' (expects " + expects + ")");
    }
    if (keys[i][k] == key) throw ValueError(where + "entry '" + key + "' appears twice");
    if (!keys[i][k].empty()) {
      throw ValueError(where + "entries '" + keys[i][k] + "' and '" + key +
                       "' are both the state " + slot_names_[k] + " of parameter " + names[i]);
    }
    if (!tensor.defined()) throw ValueError(where + "entry '" + key + "' is empty");
    keys[i][k] = key;
    slots[i][k] = tensor;
    any_slot = true;
  }
  if (!have_step) throw ValueError(where + "no 'step' entry (expects " + expects + ")");
  if (!any_slot) slots.clear();  // saved before the first step: created on the next one
  for (std::size_t i = 0; i < slots.size(); ++i) {
    for (std::size_t k = 0; k < slot_names_.size(); ++k) {
      if (!slots[i][k].defined()) {
        throw ValueError(where + "missing entry '" + slot_names_[k] + "." + names[i] +
                         "' (expects " + expects + ")");
      }
    }
  }
  steps_ = steps;
  slots_ = std::move(slots);
}

// ---- the optimizers --------------------------------------------------------------------

SGD::SGD(double lr, double weight_decay) : Optimizer(lr, weight_decay, {}) {}

void SGD::update(float* p, const float* g, float* const*, std::int64_t n) {
  sgd_update(p, g, n, static_cast<float>(lr_), static_cast<float>(weight_decay_));
}
void SGD::update(double* p, const double* g, double* const*, std::int64_t n) {
  sgd_update(p, g, n, lr_, weight_decay_);
}

Momentum::Momentum(double lr, double momentum, double weight_decay)
    : Optimizer(lr, weight_decay, {"velocity"}), momentum_(momentum) {
  check_hyper("momentum", "momentum", momentum, 0.0, 1.0);
}

void Momentum::update(float* p, const float* g, float* const* slots, std::int64_t n) {
  momentum_update(p, g, slots[0], n, static_cast<float>(lr_), static_cast<float>(momentum_),
                  static_cast<float>(weight_decay_));
}
void Momentum::update(double* p, const double* g, double* const* slots, std::int64_t n) {
  momentum_update(p, g, slots[0], n, lr_, momentum_, weight_decay_);
}

Nesterov::Nesterov(double lr, double momentum, double weight_decay)
    : Optimizer(lr, weight_decay, {"velocity"}), momentum_(momentum) {
  check_hyper("nesterov", "momentum", momentum, 0.0, 1.0);
}

void Nesterov::update(float* p, const float* g, float* const* slots, std::int64_t n) {
  nesterov_update(p, g, slots[0], n, static_cast<float>(lr_), static_cast<float>(momentum_),
                  static_cast<float>(weight_decay_));
}
void Nesterov::update(double* p, const double* g, double* const* slots, std::int64_t n) {
  nesterov_update(p, g, slots[0], n, lr_, momentum_, weight_decay_);
}

AdaGrad::AdaGrad(double lr, double eps, double weight_decay)
    : Optimizer(lr, weight_decay, {"h"}), eps_(eps) {
  check_hyper("adagrad", "eps", eps, 0.0, 1.0);
}

void AdaGrad::update(float* p, const float* g, float* const* slots, std::int64_t n) {
  adagrad_update(p, g, slots[0], n, static_cast<float>(lr_), static_cast<float>(eps_),
                 static_cast<float>(weight_decay_));
}
void AdaGrad::update(double* p, const double* g, double* const* slots, std::int64_t n) {
  adagrad_update(p, g, slots[0], n, lr_, eps_, weight_decay_);
}

RMSProp::RMSProp(double lr, double decay, double eps, double weight_decay)
    : Optimizer(lr, weight_decay, {"h"}), decay_(decay), eps_(eps) {
  check_hyper("rmsprop", "decay", decay, 0.0, 1.0);
  check_hyper("rmsprop", "eps", eps, 0.0, 1.0);
}

void RMSProp::update(float* p, const float* g, float* const* slots, std::int64_t n) {
  rmsprop_update(p, g, slots[0], n, static_cast<float>(lr_), static_cast<float>(decay_),
                 static_cast<float>(1.0 - decay_), static_cast<float>(eps_),
                 static_cast<float>(weight_decay_));
}
void RMSProp::update(double* p, const double* g, double* const* slots, std::int64_t n) {
  rmsprop_update(p, g, slots[0], n, lr_, decay_, 1.0 - decay_, eps_, weight_decay_);
}

Adam::Adam(double lr, double beta1, double beta2, double eps, double weight_decay)
    : Adam(lr, beta1, beta2, eps, weight_decay, false) {}

Adam::Adam(double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled)
    : Optimizer(lr, weight_decay, {"m", "v"}),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      decoupled_(decoupled) {
  const char* opt = decoupled ? "adamw" : "adam";
  check_hyper(opt, "beta1", beta1, 0.0, 0.999999);
  check_hyper(opt, "beta2", beta2, 0.0, 0.999999);
  check_hyper(opt, "eps", eps, 0.0, 1.0);
}

void Adam::begin_step() {
  const auto t = static_cast<double>(steps_);
  correction1_ = 1.0 / (1.0 - std::pow(beta1_, t));
  correction2_ = 1.0 / (1.0 - std::pow(beta2_, t));
}

void Adam::update(float* p, const float* g, float* const* slots, std::int64_t n) {
  adam_update(p, g, slots[0], slots[1], n,
              {lr_, beta1_, beta2_, eps_, weight_decay_, correction1_, correction2_, decoupled_});
}
void Adam::update(double* p, const double* g, double* const* slots, std::int64_t n) {
  adam_update(p, g, slots[0], slots[1], n,
              {lr_, beta1_, beta2_, eps_, weight_decay_, correction1_, correction2_, decoupled_});
}

AdamW::AdamW(double lr, double weight_decay, double beta1, double beta2, double eps)
    : Adam(lr, beta1, beta2, eps, weight_decay, true) {}

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"sgd",     "momentum", "nesterov", "adagrad",
                                                 "rmsprop", "adam",     "adamw"};
  return names;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double lr, double weight_decay) {
  if (name == "sgd") return std::make_unique<SGD>(lr, weight_decay);
  if (name == "momentum") return std::make_unique<Momentum>(lr, 0.9, weight_decay);
  if (name == "nesterov") return std::make_unique<Nesterov>(lr, 0.9, weight_decay);
  if (name == "adagrad") return std::make_unique<AdaGrad>(lr, 1e-7, weight_decay);
  if (name == "rmsprop") return std::make_unique<RMSProp>(lr, 0.99, 1e-7, weight_decay);
  if (name == "adam") return std::make_unique<Adam>(lr, 0.9, 0.999, 1e-8, weight_decay);
  if (name == "adamw") return std::make_unique<AdamW>(lr, weight_decay);
  std::string valid;
  for (const std::string& n : optimizer_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw ValueError("unknown optimizer '" + name + "'; valid optimizers: " + valid);
}

// ---- initialisers ----------------------------------------------------------------------

Init parse_init(const std::string& name) {
  if (name == "std" || name == "normal") return Init::normal;
  if (name == "xavier") return Init::xavier;
  if (name == "he") return Init::he;
  throw ValueError("unknown initialiser '" + name + "'; valid initialisers: std, xavier, he");
}

const char* init_name(Init init) {
  static constexpr const char* kNames[] = {"std", "xavier", "he"};  // Init order
  return kNames[static_cast<int>(init)];
}

double init_std(Init init, std::int64_t fan_in, double normal_std) {
  if (fan_in <= 0)
    throw ValueError("init_std: fan_in must be positive, got " + std::to_string(fan_in));
  const auto n = static_cast<double>(fan_in);
  switch (init) {
    case Init::normal:
      return normal_std;
    case Init::xavier:
      return std::sqrt(1.0 / n);
    case Init::he:
      return std::sqrt(2.0 / n);
  }
  return normal_std;
}

Tensor init_weight(Init init, std::int64_t fan_in, std::int64_t fan_out, Rng& rng,
                   double normal_std, DType dtype) {
  return Tensor::randn({fan_in, fan_out}, rng, init_std(init, fan_in, normal_std), dtype);
}

}  // namespace nabla
