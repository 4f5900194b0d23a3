// Reading fields of JSON metadata with errors that name them (model descriptions and
// training options).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "nabla/core/tensor.h"

namespace nabla::json_fields {

using json = nlohmann::json;

// An integer JSON number that fits T: a fraction, a float (1e300) or an integer out of
// T's range is refused (their conversion would be undefined).
template <class T>
bool fits(const json& v) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) {
    return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  }
  return std::is_signed_v<T> || v.get<std::int64_t>() >= 0;
}

template <class T>
T value_of(const json& v, const char* key, const char* what) {
  if constexpr (std::is_integral_v<T>) {
    if (!v.is_number()) {
      throw ValueError(std::string(what) + ": field '" + key + "' has the wrong type");
    }
    if (!fits<T>(v)) {
      throw ValueError(std::string(what) + ": field '" + key + "' must be an integer from " +
                       std::to_string(std::numeric_limits<T>::min()) + " to " +
                       std::to_string(std::numeric_limits<T>::max()) + ", not " + v.dump());
    }
    return v.get<T>();
  } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
    if (!v.is_array()) {
      throw ValueError(std::string(what) + ": field '" + key + "' has the wrong type");
    }
    T out;
    for (const json& e : v) out.push_back(value_of<std::int64_t>(e, key, what));
    return out;
  } else {
    try {
      return v.get<T>();
    } catch (const json::exception&) {
      throw ValueError(std::string(what) + ": field '" + key + "' has the wrong type");
    }
  }
}

// Reads field `key` of `j`, naming it when it is missing or of the wrong type.
template <class T>
T field(const json& j, const char* key, const char* what) {
  if (!j.is_object() || !j.contains(key)) {
    throw ValueError(std::string(what) + ": missing field '" + key + "'");
  }
  return value_of<T>(j.at(key), key, what);
}

inline json parse(const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, out_of_range (a number too large)
    throw ValueError(std::string(what) + ": not valid JSON (" + e.what() + ")");
  }
}

}  // namespace nabla::json_fields
