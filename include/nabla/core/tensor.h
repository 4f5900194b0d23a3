// nabla/tensor.h — N-dimensional, row-major, contiguous tensors in float32 or float64,
// and integer tensors (int64, int32) for ids and labels.
//
// A Tensor is a value: copying it copies its elements (use std::move to hand one over
// cheaply). Element type is chosen at run time (DType) so one graph engine serves both
// the float32 training path and the float64 gradient checks. Integer tensors hold data
// (token ids, class labels): they are stored, copied, converted (to()), saved and
// loaded, read with data<std::int64_t>(); the arithmetic ops refuse them with a
// ValueError naming the op and the dtype.
//
//   nabla::Tensor x = nabla::Tensor::from({2, 2}, {1.0, -0.5, -2.0, 3.0});
//   x.at({1, 1});                       // 3.0
//   nabla::Tensor y = nabla::relu(x);   // [[1, 0], [0, 3]]   (see ops.h)
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

enum class DType { f32, f64, i64, i32 };

const char* dtype_name(DType dtype);  // "float32", "float64", "int64", "int32"
std::size_t dtype_size(DType dtype);
constexpr bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<std::int64_t>() {
  return DType::i64;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::i32;
}

using Shape = std::vector<std::int64_t>;

// "(100,784)"; a scalar (rank 0) prints as "()".
std::string shape_str(const Shape& shape);
// The number of elements; throws ShapeError for a negative dimension or a count that does
// not fit in int64 (shapes read from files).
std::int64_t shape_numel(const Shape& shape);

// a * b for sizes and counts from files and options: false (and *out untouched) when the
// product does not fit in int64.
inline bool checked_mul(std::int64_t a, std::int64_t b, std::int64_t* out) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return false;
  *out = r;
  return true;
}

// Thrown when an op gets operands of the wrong shape. The message names the op and the
// shapes, e.g. "matmul: (100,784) x (50,10): inner dimensions differ".
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Thrown for other bad arguments (wrong dtype, index out of range, bad labels...).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Thrown for bad input files (data sets, models): the message names the file, what is
// wrong and where, e.g. "data/train-images-idx3-ubyte: truncated: expected 47040016
// bytes, got 1000".
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The random number generator is always passed explicitly: nabla has no global state.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 42) : engine_(seed) {}
  double normal() { return normal_(engine_); }
  double uniform() { return uniform_(engine_); }  // [0, 1)
  // The engine draw at which uniform() reaches p: uniform() < p exactly when the one draw
  // of engine() it takes is below uniform_cut(p) (p < 1). For many draws against one p
  // (dropout's masks), the same stream without the conversion to double each time.
  std::uint64_t uniform_cut(double p) const;
  // A uniform integer in [0, n).
  std::int64_t below(std::int64_t n);
  std::mt19937_64& engine() { return engine_; }
  // The complete state as text, for checkpoints; restore() reads it back.
  std::string state() const;
  void restore(const std::string& state);

 private:
  std::mt19937_64 engine_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

class Tensor {
 public:
  // An undefined tensor (defined() is false): the "no gradient yet" value.
  Tensor() = default;
  // Zeros of the given shape.
  explicit Tensor(Shape shape, DType dtype = DType::f32);

  static Tensor zeros(Shape shape, DType dtype = DType::f32);
  // Unspecified contents, for an output that is written whole before it is read (skips
  // zeroing it).
  static Tensor empty(Shape shape, DType dtype = DType::f32);
  static Tensor ones(Shape shape, DType dtype = DType::f32);
  static Tensor full(Shape shape, double value, DType dtype = DType::f32);
  static Tensor scalar(double value, DType dtype = DType::f64);
  // Row-major values; their count must match the shape.
  static Tensor from(Shape shape, const std::vector<double>& values, DType dtype = DType::f64);
  static Tensor randn(Shape shape, Rng& rng, double stddev = 1.0, DType dtype = DType::f32);
  static Tensor uniform(Shape shape, Rng& rng, double low, double high, DType dtype = DType::f32);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept = default;
  Tensor& operator=(Tensor&& other) noexcept = default;
  ~Tensor() = default;

  bool defined() const { return defined_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t rank() const { return static_cast<std::int64_t>(shape_.size()); }
  // Size of one axis; negative axes count from the end.
  std::int64_t size(std::int64_t axis) const;
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }

  // Typed access; throws ValueError if T does not match dtype().
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }

  // Element access by flat (row-major) index, converting to/from double (integers of
  // magnitude above 2^53 lose precision: read them with data<std::int64_t>()).
  double get(std::int64_t flat) const;
  void set(std::int64_t flat, double value);
  // Element access by multi-index, e.g. t.at({1, 2}).
  double at(std::initializer_list<std::int64_t> index) const;
  // The single element of a one-element tensor.
  double item() const;
  std::vector<double> to_vector() const;

  // A copy with another shape of the same element count.
  Tensor reshape(Shape shape) const&;
  // The same elements with another shape (no copy).
  Tensor reshape(Shape shape) &&;
  // A copy converted to another element type (float to integer truncates toward zero).
  Tensor to(DType dtype) const;
  void fill(double value);
  // True if shape and dtype match.
  bool same_layout(const Tensor& other) const {
    return dtype_ == other.dtype_ && shape_ == other.shape_;
  }
  // Reuses this tensor's storage when the element count already matches; otherwise
  // allocates. Contents are unspecified afterwards. Used by hot loops to avoid allocation.
  void resize(Shape shape, DType dtype);

 private:
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };
  void allocate();

  Shape shape_;
  DType dtype_ = DType::f32;
  std::int64_t numel_ = 0;
  std::size_t capacity_ = 0;  // bytes allocated
  bool defined_ = false;
  std::unique_ptr<std::byte, AlignedFree> data_;
};

// Nested brackets with 6 significant digits: "[[1, 0], [0, 3]]"; a scalar as "2.2".
std::string to_string(const Tensor& t);

// Throws ValueError "<op>: expects a float32 or float64 tensor, got int64 (5,3)" unless
// t is a floating-point tensor: what every arithmetic op checks first.
void check_floating(const Tensor& t, const char* op);

// Calls f(T{}) with T the C++ type of a floating-point dtype: the one place where
// run-time dtype becomes a compile-time type for arithmetic. An integer dtype throws
// ValueError (ops call check_floating first, so that the message names them).
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  if (dtype == DType::f32) return f(float{});
  if (dtype == DType::f64) return f(double{});
  throw ValueError(std::string("arithmetic on an integer tensor (") + dtype_name(dtype) +
                   "): only float32 and float64 are supported");
}

// The same over every dtype, integers included: for copies, conversions and printing.
template <class F>
decltype(auto) visit_any_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
    case DType::i64:
      return f(std::int64_t{});
    case DType::i32:
      break;
  }
  return f(std::int32_t{});
}

template <class T>
T* Tensor::data() {
  if (dtype_of<T>() != dtype_) {
    throw ValueError(std::string("Tensor::data: tensor holds ") + dtype_name(dtype_) +
                     ", asked for " + dtype_name(dtype_of<T>()));
  }
  return reinterpret_cast<T*>(data_.get());
}

template <class T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}

}  // namespace nabla
NABLA_API_END
