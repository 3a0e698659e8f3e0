// Status and Result<T>: how every module reports failure across its edge.
//
// Lives in crypto/ because crypto is the lowest module and every other module may depend on
// it (see docs/ARCHITECTURE.md). Exceptions stay inside a module or at the HTTP edge.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace brug {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the input is malformed or out of range
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // a unique thing exists already
  kPermissionDenied,    // the caller may not do this
  kFailedPrecondition,  // state does not allow it (e.g. withdrawn consent)
  kCorrupt,             // stored bytes fail an integrity check
  kIo,                  // the file system or database failed
  kInternal,            // a bug or an impossible state
  kUnavailable,         // try again later (busy, shutting down)
};

std::string_view code_name(Code code);

// The outcome of an operation that returns nothing. Must be looked at.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(Code code, std::string message) {
    assert(code != Code::kOk);
    return Status(code, std::move(message));
  }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  // Never contains a secret or personal data: safe to log.
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status saying why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok());
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  const T& value() const& {
    assert(is_ok());
    return std::get<0>(v_);
  }
  T& value() & {
    assert(is_ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(is_ok());
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return is_ok() ? Status::ok() : std::get<1>(v_); }
  Code code() const { return is_ok() ? Code::kOk : std::get<1>(v_).code(); }
  const std::string& message() const {
    static const std::string kEmpty;
    return is_ok() ? kEmpty : std::get<1>(v_).message();
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace brug

// Returns early with the Status of an expression that failed.
#define BRUG_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::brug::Status brug_status_ = (expr);           \
    if (!brug_status_.is_ok()) return brug_status_; \
  } while (0)
