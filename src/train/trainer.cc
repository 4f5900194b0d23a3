// The Trainer: one training step (batch, forward, backward, penalty, update), and the
// checks that stop a run that diverges.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "nabla/ops/ops.h"
#include "nabla/train/train.h"

namespace nabla {

// ---- Trainer --------------------------------------------------------------------------

Trainer::Trainer(TrainConfig config, std::shared_ptr<TrainingData> data)
    : Trainer(std::move(config), std::move(data), true) {}

// (the data of these hold out config.validation of the training examples, with its seed)
Trainer::Trainer(TrainConfig config, SparseMnist data)
    : Trainer(config,
              mnist_training_data(std::move(data), HoldOut{config.validation, config.seed}),
              true) {}

Trainer::Trainer(TrainConfig config, const Mnist& data)
    : Trainer(std::move(config), SparseMnist::from(data)) {}

Trainer::Trainer(TrainConfig config, DenseData data)
    : Trainer(config, dense_training_data(std::move(data), HoldOut{config.validation, config.seed}),
              true) {}

Trainer::Trainer(TrainConfig config, std::shared_ptr<TrainingData> data, Sequential net)
    : Trainer(std::move(config), std::move(data), false) {
  const auto expected = config_.model.parameter_shapes();
  const NamedVars given = net.named_parameters();
  bool same = expected.size() == given.size();
  for (std::size_t i = 0; same && i < given.size(); ++i) {
    same = expected[i].first == given[i].first && expected[i].second == given[i].second.shape();
  }
  if (!same) {
    std::string names;
    for (const auto& [name, p] : given) names += " " + name + shape_str(p.shape());
    throw ValueError("Trainer: the network's parameters (" + names.substr(names.empty() ? 0 : 1) +
                     ") are not those of " + config_.model.describe());
  }
  net_ = std::move(net);
  bind_parameters();
}

Trainer::Trainer(TrainConfig config, std::shared_ptr<TrainingData> data, bool initialise)
    : config_(std::move(config)),
      data_(std::move(data)),
      rng_(config_.seed),
      sampler_(data_->size(Split::train), config_.batch, config_.sampling) {
  const std::int64_t train_size = data_->size(Split::train);
  // (shuffled epochs take a batch larger than the data as the whole data each step, as
  // a tagger's 64 tokens on a corpus of 44; drawn with replacement, a batch is at most
  // the data's size)
  const bool whole = config_.sampling == Sampling::shuffled_epochs;
  if (config_.batch < 1 || (!whole && config_.batch > train_size) || train_size < 1) {
    throw ValueError("batch size " + std::to_string(config_.batch) + " must be in [1, " +
                     std::to_string(train_size) + "]");
  }
  if (config_.shards < 1 || config_.shards > std::min(config_.batch, train_size)) {
    throw ValueError("shards " + std::to_string(config_.shards) + " must be in [1, " +
                     std::to_string(std::min(config_.batch, train_size)) +
                     "] (the batch size): each slice of a batch needs an example");
  }
  if (!(config_.lr > 0) || !std::isfinite(config_.lr)) {
    throw ValueError("learning rate must be a positive number");
  }
  if (!(config_.reg >= 0) || !std::isfinite(config_.reg)) {
    throw ValueError("regularization strength must be a finite number, not negative");
  }
  if (!(config_.weight_decay >= 0) || !std::isfinite(config_.weight_decay)) {
    throw ValueError("weight decay must be a finite number, not negative");
  }
  if (config_.model.inputs != data_->features() || config_.model.classes != data_->classes()) {
    throw ValueError("model " + config_.model.describe() + " does not fit the data (" +
                     std::to_string(data_->features()) + " features, " +
                     std::to_string(data_->classes()) + " classes)");
  }
  if ((config_.model.loss == "mse") != data_->regression()) {
    throw ValueError(data_->regression()
                         ? "the data has real-valued targets (a regression): the model needs "
                           "the mse loss, not " +
                               config_.model.loss
                         : "the mse loss is a regression's: the data has class labels");
  }
  example_ = config_.model.example_shape();

  // The textbook: iter_per_epoch = max(train_size / batch_size, 1); shuffled, every batch
  // of the epoch (the last one smaller).
  per_epoch_ = sampler_.batches_per_epoch();
  total_iters_ = config_.iters;
  if (config_.epochs > 0 && !checked_mul(config_.epochs, per_epoch_, &total_iters_)) {
    throw ValueError(std::to_string(config_.epochs) + " epochs of " + std::to_string(per_epoch_) +
                     " iterations are more iterations than can be counted");
  }
  if (total_iters_ < 0) throw ValueError("the number of iterations must not be negative");
  if (initialise) {
    net_ = build_model(config_.model, rng_, DType::f32);
    bind_parameters();
  }
  // One L2 mechanism (TrainConfig): weight_decay is a spelling of the penalty, except for
  // AdamW, whose decoupled decay is the optimizer's own.
  schedule_ = parse_lr_schedule(config_.lr_schedule, config_.warmup);
  augment_ = parse_augmentation(config_.augment);
  if (augment_.any()) {
    // The images moved: the model's examples when it takes images (C, H, W), else the
    // data's own when its examples are images given to the model flat (MNIST's rows to
    // an MLP, dense or as sparse pixel rows).
    const Shape own = data_->example_shape();
    image_ = example_.size() == 3 ? example_ : own;
    if (image_.size() != 3) {
      throw ValueError("augmentation " + augment_.text() + " moves images: the model " +
                       config_.model.describe() + " takes examples " + shape_str(example_) +
                       " and the data's are " + shape_str(own) + ", not images (C, H, W)");
    }
    augment_rng_ = Rng(config_.seed ^ 0x9E3779B97F4A7C15ULL);  // (a stream of its own)
  }
  if (schedule_follows_validation()) {
    if (data_->size(Split::validation) == 0) {
      throw ValueError("the learning-rate schedule " + schedule_.text() +
                       " goes by the validation metric: it needs a validation split "
                       "(--validation FRACTION)");
    }
    plateau_ = Plateau(schedule_.patience, schedule_.factor, data_->higher_is_better());
  }
  if (!(config_.clip_norm >= 0) || !std::isfinite(config_.clip_norm)) {
    throw ValueError("the gradient clipping norm must be a finite number, not negative");
  }
  const bool decoupled = config_.optimizer == "adamw";
  lambda_ = config_.reg + (decoupled ? 0.0 : config_.weight_decay / 2);
  optimizer_ =
      make_optimizer(config_.optimizer, config_.lr, decoupled ? config_.weight_decay : 0.0);
}

void Trainer::bind_parameters() {
  // The form the model takes its input in, decided once, when the model is set: sparse
  // pixel rows when its first layer multiplies them (a SparseAffine) and the data has
  // them, else dense.
  const bool sparse =
      net_.takes_sparse_rows() && example_.size() == 1 && data_->offers(InputForm::sparse_rows);
  form_ = sparse ? InputForm::sparse_rows : InputForm::dense;
  params_.clear();
  param_names_.clear();
  for (auto& [name, p] : net_.named_parameters()) {
    param_names_.push_back(name);
    params_.push_back(p);
  }
  row_grads_ = net_.row_gradients();
  has_row_grads_ = std::any_of(row_grads_.begin(), row_grads_.end(),
                               [](const RowGradient* g) { return g != nullptr; });
  penalised_.clear();
  // The L2 penalty (--reg) falls on the weights, of any rank (an Affine's (D, M), a
  // convolution's (F, C, KH, KW)), never on a bias (rank 1) nor on a table updated by rows.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    penalised_.push_back(params_[i].value().rank() >= 2 && row_grads_[i] == nullptr);
  }
}

void Trainer::set_threads(int threads) {
  // (a sliced step draws its slices' batches itself: none made ahead)
  prefetch_ = threads > 1 && config_.shards == 1;
  data_->stop_ahead();
  ahead_ = false;
  net_.set_threads(threads);
}

double Trainer::step() {
  double loss = batch_gradient();
  const double data_loss = loss;
  double penalty = 0;
  if (lambda_ > 0) {
    // L = data loss + lambda * sum(W^2), so dL/dW gains 2 * lambda * W.
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!penalised_[i]) continue;
      Tensor& w = params_[i].value();
      Tensor& g = params_[i].grad();
      visit_dtype(w.dtype(), [&](auto type) {
        using T = decltype(type);
        const T* pw = w.data<T>();
        T* pg = g.data<T>();
        double squares = 0;
        for (std::int64_t k = 0; k < w.numel(); ++k) {
          squares += static_cast<double>(pw[k]) * static_cast<double>(pw[k]);
          pg[k] += static_cast<T>(2 * lambda_) * pw[k];
        }
        loss += lambda_ * squares;  // (summed as before: the same loss to the last bit)
        penalty += lambda_ * squares;
      });
    }
  }
  if (!std::isfinite(loss)) {
    diverged(std::string("the loss is ") + (std::isnan(loss) ? "NaN" : "infinite"), data_loss,
             penalty);
  }
  if (!stepped_) {
    first_loss_ = loss;
    stepped_ = true;
  } else if (loss > kDivergence * std::max(std::abs(first_loss_), 1.0)) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "the loss diverged: %g is over %g times its first value %g (at least 1)", loss,
                  kDivergence, first_loss_);
    diverged(text, data_loss, penalty);
  }
  if (config_.clip_norm > 0) clip_gradients();
  optimizer_->set_learning_rate(learning_rate());
  if (has_row_grads_) {
    optimizer_->step(params_, row_step_grads_);  // lazy in the tables: the batch's rows only
  } else {
    optimizer_->step(params_);
  }
  ++iteration_;
  last_loss_ = loss;
  if (eval_due() || done()) {
    std::string bad = non_finite_parameter();
    if (!bad.empty()) {
      throw TrainingError("iteration " + std::to_string(iteration_ - 1) + ": parameter " + bad +
                          " holds values that are not finite after the update; training stopped");
    }
  }
  return loss;
}

double Trainer::learning_rate() const {
  return schedule_.rate(config_.lr, iteration_, per_epoch_, total_iters_, plateau_.scale());
}

void Trainer::observe_validation(double metric) {
  if (schedule_follows_validation()) plateau_.update(metric);
}

namespace {

double sum_of_squares(const Tensor& t) {
  double squares = 0;
  visit_dtype(t.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* g = t.data<T>();
    for (std::int64_t k = 0; k < t.numel(); ++k) {
      squares += static_cast<double>(g[k]) * static_cast<double>(g[k]);
    }
  });
  return squares;
}

}  // namespace

void Trainer::clip_gradients() {
  // The norm of the whole gradient: every parameter's grad(), and a table's rows (its
  // gradient is zero elsewhere, and its grad() untouched).
  double squares = 0;
  for (const Var& p : params_) {
    if (p.has_grad()) squares += sum_of_squares(p.grad());
  }
  for (const RowGradient* rows : row_step_grads_) {
    if (rows != nullptr && !rows->empty()) squares += sum_of_squares(rows->values);
  }
  const double norm = std::sqrt(squares);
  if (!(norm > config_.clip_norm)) return;  // (a NaN norm is the divergence checks')
  const double factor = config_.clip_norm / norm;
  for (Var& p : params_) {
    if (!p.has_grad()) continue;
    visit_dtype(p.grad().dtype(), [&](auto type) {
      using T = decltype(type);
      T* g = p.grad().data<T>();
      for (std::int64_t k = 0; k < p.grad().numel(); ++k) g[k] = static_cast<T>(g[k] * factor);
    });
  }
  // The tables' rows are the layers' (or the slices' sum): scaled copies are stepped with.
  if (!has_row_grads_) return;
  clipped_rows_.resize(row_step_grads_.size());
  for (std::size_t i = 0; i < row_step_grads_.size(); ++i) {
    const RowGradient* rows = row_step_grads_[i];
    if (rows == nullptr || rows->empty()) continue;
    clipped_rows_[i].rows = rows->rows;
    clipped_rows_[i].values = scale(rows->values, factor);
    row_step_grads_[i] = &clipped_rows_[i];
  }
}

double Trainer::batch_gradient() {
  if (config_.shards > 1) return sliced_gradient();
  // Batches made ahead, for the steps of the plan (none past it).
  const bool ahead = prefetch_ && iteration_ < total_iters_;
  if (ahead && !ahead_) {
    data_->draw_ahead(form_, sampler_, rng_, total_iters_ - iteration_);
  } else if (!ahead && ahead_) {
    data_->stop_ahead();
  }
  ahead_ = ahead;
  // The batch's rows. (Drawn here also when they were drawn ahead, for the state that
  // checkpoints save.)
  sampler_.next(rng_, rows_);
  for (Var& p : params_) {
    if (p.has_grad()) p.grad().fill(0.0);
  }
  if (has_row_grads_) net_.clear_row_gradients();
  row_step_grads_ = row_grads_;
  draw_shifts();
  const Batch& batch = augmented(data_->batch(rows_, form_, example_), 0);
  return form_ == InputForm::sparse_rows ? net_.gradient(batch.sparse, batch.loss_targets())
                                         : net_.gradient(batch.dense, batch.loss_targets());
}

void Trainer::draw_shifts() {
  // (the same draws on every rank: each has drawn the same batch)
  if (augment_.any())
    shifts_ = augment_.draw(static_cast<std::int64_t>(rows_.size()), augment_rng_);
}

const Batch& Trainer::augmented(const Batch& batch, std::int64_t first) {
  if (!augment_.any()) return batch;
  const bool sparse = batch.form == InputForm::sparse_rows;
  const std::int64_t n = sparse ? batch.sparse.size() : batch.dense.size(0);
  const std::vector<PixelShift> shifts(shifts_.begin() + first, shifts_.begin() + first + n);
  augmented_.form = batch.form;
  if (sparse) {
    shift_images(batch.sparse, image_, shifts, augmented_pixels_);
    augmented_.sparse.pixels = &augmented_pixels_;
    augmented_.sparse.rows.resize(static_cast<std::size_t>(n));
    std::iota(augmented_.sparse.rows.begin(), augmented_.sparse.rows.end(), 0);
    augmented_.sparse.columns = nullptr;  // (a prefetched batch's columns are of its pixels)
  } else if (batch.dense.rank() == 4) {
    shift_images(batch.dense, shifts, augmented_.dense);
  } else {  // images given to the model flat, (B, C*H*W): moved as (B, C, H, W)
    Shape images{n};
    images.insert(images.end(), image_.begin(), image_.end());
    shift_images(batch.dense.reshape(images), shifts, augmented_.dense);
    augmented_.dense = std::move(augmented_.dense).reshape(batch.dense.shape());
  }
  augmented_.labels = batch.labels;
  augmented_.targets = batch.targets;
  augmented_.lengths = batch.lengths;
  return augmented_;
}

std::string Trainer::non_finite_parameter() const {
  for (const Var& p : params_) {
    bool finite = true;
    visit_dtype(p.value().dtype(), [&](auto type) {
      using T = decltype(type);
      const T* v = p.value().data<T>();
      for (std::int64_t k = 0; k < p.value().numel() && finite; ++k) finite = std::isfinite(v[k]);
    });
    if (!finite) return p.name();
  }
  return "";
}

void Trainer::diverged(const std::string& what, double data_loss, double penalty) const {
  char text[256];
  std::string message = "iteration " + std::to_string(iteration_) + ": " + what;
  if (lambda_ > 0) {
    if (lambda_ == config_.reg) {
      std::snprintf(text, sizeof text, " (data loss %g, L2 penalty %g with reg %g)", data_loss,
                    penalty, config_.reg);
    } else {
      std::snprintf(text, sizeof text,
                    " (data loss %g, L2 penalty %g with lambda %g = reg + weight_decay / 2)",
                    data_loss, penalty, lambda_);
    }
    message += text;
  }
  message += "; training stopped. ";
  std::string bad = non_finite_parameter();
  if (!stepped_) {
    // No update of this run came before: the cause is in the starting point, not the steps.
    message += "This is the run's first step, before any update; ";
    message += bad.empty() ? "the parameters are finite"
                           : "parameter " + bad + " holds values that are not finite";
    if (config_.model.init == Init::normal) {
      std::snprintf(text, sizeof text, " (init std %g)", config_.model.init_std);
      message += text;
    }
  } else {
    // The previous step's loss was finite and in range: the last updates made it diverge.
    std::snprintf(text, sizeof text,
                  "The loss was %g at the previous iteration and %g at this run's first; ",
                  last_loss_, first_loss_);
    message += text;
    if (!bad.empty()) message += "parameter " + bad + " holds values that are not finite; ";
    std::snprintf(text, sizeof text, "%g", config_.lr);
    message += std::string("the updates diverged. Try a lower learning rate (now ") + text + ")";
  }
  throw TrainingError(message);
}

void Trainer::set_learning_rate(double lr) {
  if (!(lr > 0) || !std::isfinite(lr)) throw ValueError("learning rate must be a positive number");
  config_.lr = lr;
  optimizer_->set_learning_rate(lr);
}

void Trainer::set_total_iters(std::int64_t total) {
  if (total < 0) throw ValueError("the number of iterations must not be negative");
  total_iters_ = total;
  data_->stop_ahead();  // made again for the new count
  ahead_ = false;
}

}  // namespace nabla
