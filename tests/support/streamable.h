// For static_asserts that a type holding a secret cannot be written to a stream by mistake.
#pragma once

#include <ostream>

namespace brug::testing {

template <class T>
concept Streamable = requires(std::ostream& os, const T& t) {
  os << t;
};

}  // namespace brug::testing
