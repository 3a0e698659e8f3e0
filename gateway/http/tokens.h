// The RFC 9110 lexical pieces that header and media-type parsers share.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace brug::gateway::http_tokens {

// Without leading and trailing optional whitespace (spaces and tabs).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool is_token_char(unsigned char c) {
  return std::isalnum(c) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A token (RFC 9110 5.6.2): one or more token characters.
inline bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return is_token_char(static_cast<unsigned char>(c));
  });
}

}  // namespace brug::gateway::http_tokens
