#include "nabla/core/tensor.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>
#include <type_traits>

namespace nabla {

const char* dtype_name(DType dtype) {
  static constexpr const char* kNames[] = {"float32", "float64", "int64", "int32"};  // DType order
  return kNames[static_cast<int>(dtype)];
}

std::size_t dtype_size(DType dtype) { return dtype == DType::f32 || dtype == DType::i32 ? 4 : 8; }

void check_floating(const Tensor& t, const char* op) {
  if (!is_floating(t.dtype())) {
    throw ValueError(std::string(op) + ": expects a float32 or float64 tensor, got " +
                     dtype_name(t.dtype()) + " " + shape_str(t.shape()));
  }
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

std::int64_t shape_numel(const Shape& shape) {
  bool empty = false;
  for (std::int64_t d : shape) {
    if (d < 0) throw ShapeError("shape " + shape_str(shape) + ": negative dimension");
    empty = empty || d == 0;
  }
  if (empty) return 0;  // (whatever the other dimensions multiply to)
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (!checked_mul(n, d, &n)) {
      throw ShapeError("shape " + shape_str(shape) + ": more elements than can be counted");
    }
  }
  return n;
}

std::int64_t Rng::below(std::int64_t n) {
  std::uniform_int_distribution<std::int64_t> dist(0, n - 1);
  return dist(engine_);
}

std::uint64_t Rng::uniform_cut(double p) const {
  // uniform() is the distribution's map of one 64-bit draw, non-decreasing in the draw:
  // the draws that map below p are [0, cut). Found by bisection on that same map, fed
  // each candidate draw by an engine that returns it.
  struct Fixed {
    using result_type = std::uint64_t;
    std::uint64_t value;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~std::uint64_t{0}; }
    result_type operator()() const { return value; }
  };
  static_assert(Fixed::min() == std::mt19937_64::min() && Fixed::max() == std::mt19937_64::max());
  std::uniform_real_distribution<double> map = uniform_;
  auto below = [&](std::uint64_t draw) {
    Fixed engine{draw};
    return map(engine) < p;
  };
  if (!(p < 1)) throw ValueError("Rng::uniform_cut: p must be below 1, got " + std::to_string(p));
  std::uint64_t lo = 0, hi = Fixed::max();  // below(hi) is false: uniform() < 1 - 2^-53
  if (!below(lo)) return 0;
  while (hi - lo > 1) {  // below(lo), !below(hi)
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (below(mid) ? lo : hi) = mid;
  }
  return hi;
}

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_ << ' ' << normal_ << ' ' << uniform_;
  return out.str();
}

void Rng::restore(const std::string& state) {
  std::istringstream in(state);
  in >> engine_ >> normal_ >> uniform_;
  if (!in) throw ValueError("Rng::restore: malformed generator state");
}

void Tensor::AlignedFree::operator()(std::byte* p) const {
  ::operator delete[](p, std::align_val_t{64});
}

Tensor::Tensor(Shape shape, DType dtype) : shape_(std::move(shape)), dtype_(dtype) {
  numel_ = shape_numel(shape_);
  allocate();
  if (nbytes() > 0) std::memset(data_.get(), 0, nbytes());
}

void Tensor::allocate() {
  defined_ = true;
  std::size_t bytes = nbytes();
  if (bytes == 0) {
    data_.reset();
    capacity_ = 0;
    return;
  }
  data_.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{64})));
  capacity_ = bytes;
}

void Tensor::resize(Shape shape, DType dtype) {
  std::int64_t n = shape_numel(shape);
  std::size_t bytes = static_cast<std::size_t>(n) * dtype_size(dtype);
  shape_ = std::move(shape);
  dtype_ = dtype;
  numel_ = n;
  defined_ = true;
  if (bytes > capacity_) allocate();
}

Tensor::Tensor(const Tensor& other)
    : shape_(other.shape_), dtype_(other.dtype_), numel_(other.numel_) {
  if (!other.defined_) return;
  allocate();
  if (nbytes() > 0) std::memcpy(data_.get(), other.data_.get(), nbytes());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this == &other) return *this;
  if (!other.defined_) {
    *this = Tensor();
    return *this;
  }
  resize(other.shape_, other.dtype_);
  if (nbytes() > 0) std::memcpy(data_.get(), other.data_.get(), nbytes());
  return *this;
}

Tensor Tensor::zeros(Shape shape, DType dtype) { return Tensor(std::move(shape), dtype); }

Tensor Tensor::empty(Shape shape, DType dtype) {
  Tensor t;
  t.resize(std::move(shape), dtype);
  return t;
}

Tensor Tensor::ones(Shape shape, DType dtype) { return full(std::move(shape), 1.0, dtype); }

Tensor Tensor::full(Shape shape, double value, DType dtype) {
  Tensor t(std::move(shape), dtype);
  t.fill(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::from(Shape shape, const std::vector<double>& values, DType dtype) {
  Tensor t(std::move(shape), dtype);
  if (static_cast<std::int64_t>(values.size()) != t.numel()) {
    throw ShapeError("Tensor::from: shape " + shape_str(t.shape()) + " holds " +
                     std::to_string(t.numel()) + " elements, got " + std::to_string(values.size()) +
                     " values");
  }
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, values[static_cast<std::size_t>(i)]);
  return t;
}

Tensor Tensor::randn(Shape shape, Rng& rng, double stddev, DType dtype) {
  Tensor t(std::move(shape), dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, stddev * rng.normal());
  return t;
}

Tensor Tensor::uniform(Shape shape, Rng& rng, double low, double high, DType dtype) {
  Tensor t(std::move(shape), dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, low + (high - low) * rng.uniform());
  return t;
}

std::int64_t Tensor::size(std::int64_t axis) const {
  std::int64_t r = rank();
  std::int64_t a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) {
    throw ValueError("Tensor::size: axis " + std::to_string(axis) + " out of range for shape " +
                     shape_str(shape_));
  }
  return shape_[static_cast<std::size_t>(a)];
}

double Tensor::get(std::int64_t flat) const {
  return visit_any_dtype(dtype_, [&](auto type) {
    using T = decltype(type);
    return static_cast<double>(data<T>()[flat]);
  });
}

void Tensor::set(std::int64_t flat, double value) {
  visit_any_dtype(dtype_, [&](auto type) {
    using T = decltype(type);
    data<T>()[flat] = static_cast<T>(value);
  });
}

double Tensor::at(std::initializer_list<std::int64_t> index) const {
  if (static_cast<std::int64_t>(index.size()) != rank()) {
    throw ValueError("Tensor::at: " + std::to_string(index.size()) + " indices for shape " +
                     shape_str(shape_));
  }
  std::int64_t flat = 0;
  std::size_t axis = 0;
  for (std::int64_t i : index) {
    if (i < 0 || i >= shape_[axis]) {
      throw ValueError("Tensor::at: index " + std::to_string(i) + " out of range for axis " +
                       std::to_string(axis) + " of shape " + shape_str(shape_));
    }
    flat = flat * shape_[axis] + i;
    ++axis;
  }
  return get(flat);
}

double Tensor::item() const {
  if (numel_ != 1) {
    throw ShapeError("Tensor::item: shape " + shape_str(shape_) + " has " + std::to_string(numel_) +
                     " elements, expected 1");
  }
  return get(0);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(static_cast<std::size_t>(numel_));
  for (std::int64_t i = 0; i < numel_; ++i) v[static_cast<std::size_t>(i)] = get(i);
  return v;
}

Tensor Tensor::reshape(Shape shape) const& {
  Tensor copy(*this);
  return std::move(copy).reshape(std::move(shape));
}

Tensor Tensor::reshape(Shape shape) && {
  // One axis may be -1: inferred from the element count.
  std::int64_t known = 1;
  int inferred = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && inferred < 0) {
      inferred = static_cast<int>(i);
    } else {
      known *= shape[i];
    }
  }
  if (inferred >= 0) {
    if (known <= 0 || numel_ % known != 0) {
      throw ShapeError("reshape: " + shape_str(shape_) + " -> " + shape_str(shape) +
                       ": cannot infer the -1 axis");
    }
    shape[static_cast<std::size_t>(inferred)] = numel_ / known;
  }
  if (shape_numel(shape) != numel_) {
    throw ShapeError("reshape: " + shape_str(shape_) + " -> " + shape_str(shape) +
                     ": element counts differ");
  }
  shape_ = std::move(shape);
  return std::move(*this);
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor t(shape_, dtype);
  visit_any_dtype(dtype_, [&](auto src_type) {
    using S = decltype(src_type);
    visit_any_dtype(dtype, [&](auto dst_type) {
      using D = decltype(dst_type);
      const S* src = data<S>();
      D* dst = t.data<D>();
      if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
        // Only values the integer type holds convert (NaN or 1e30 would be undefined).
        constexpr auto lo = static_cast<S>(std::numeric_limits<D>::min());
        constexpr auto hi = static_cast<S>(std::numeric_limits<D>::max());
        for (std::int64_t i = 0; i < numel_; ++i) {
          if (!(src[i] >= lo && src[i] < hi)) {
            throw ValueError(std::string("Tensor::to: element ") + std::to_string(i) + " (" +
                             std::to_string(src[i]) + ") does not fit in " + dtype_name(dtype));
          }
          dst[i] = static_cast<D>(src[i]);
        }
      } else {
        for (std::int64_t i = 0; i < numel_; ++i) dst[i] = static_cast<D>(src[i]);
      }
    });
  });
  return t;
}

void Tensor::fill(double value) {
  visit_any_dtype(dtype_, [&](auto type) {
    using T = decltype(type);
    T* p = data<T>();
    for (std::int64_t i = 0; i < numel_; ++i) p[i] = static_cast<T>(value);
  });
}

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "undefined";
  auto number = [&](std::int64_t i) {
    if (!is_floating(t.dtype())) {
      return std::to_string(t.dtype() == DType::i64 ? t.data<std::int64_t>()[i]
                                                    : std::int64_t{t.data<std::int32_t>()[i]});
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", t.get(i));
    return std::string(buf);
  };
  if (t.rank() == 0) return number(0);
  // Walk the elements, opening and closing brackets where an axis starts or ends.
  std::string out;
  std::vector<std::int64_t> index(static_cast<std::size_t>(t.rank()), 0);
  out.append(index.size(), '[');
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    out += number(i);
    std::size_t closed = 0;
    for (std::size_t k = index.size(); k-- > 0;) {
      if (++index[k] < t.shape()[k]) break;
      index[k] = 0;
      ++closed;
    }
    out.append(closed, ']');
    if (i + 1 < t.numel()) out += ", " + std::string(closed, '[');
  }
  if (t.numel() == 0) out.append(index.size(), ']');
  return out;
}

}  // namespace nabla
