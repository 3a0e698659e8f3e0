#include "gateway/audit/tlog.h"

#include <algorithm>
#include <charconv>

#include "crypto/encoding.h"
#include "crypto/sign.h"

namespace brug::gateway {
namespace {

// U+2014 EM DASH and a space start every signature line.
constexpr std::string_view kDash = "\xE2\x80\x94 ";
constexpr std::size_t kKeyHashSize = 4;

std::span<const std::uint8_t> bytes(std::string_view s) { return crypto::bytes_of(s); }

Status bad(const std::string& what) { return Status::error(Code::kInvalidArgument, what); }

// A decimal without leading zeroes (unless it is "0"), at most `max`.
std::optional<std::uint64_t> decimal(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

bool three_digits(std::string_view s) {
  return s.size() == 3 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

const SignedNote::Line* line_for(const SignedNote& note, std::string_view name,
                                 const std::array<std::uint8_t, 4>& hash) {
  for (const auto& l : note.signatures) {
    if (l.name == name && l.bytes.size() >= kKeyHashSize &&
        std::equal(hash.begin(), hash.end(), l.bytes.begin())) {
      return &l;
    }
  }
  return nullptr;
}

}  // namespace

bool valid_note_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~' || c == '+') return false;
  }
  return true;
}

std::array<std::uint8_t, 4> note_key_hash(std::string_view name, std::uint8_t alg,
                                          const crypto::VerifyKey& key) {
  std::string input(name);
  input.push_back('\n');
  input.push_back(static_cast<char>(alg));
  input.append(reinterpret_cast<const char*>(key.bytes().data()), key.bytes().size());
  const auto digest = crypto::sha256(input);
  std::array<std::uint8_t, 4> out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

std::string note_verifier_key(std::string_view name, std::uint8_t alg,
                              const crypto::VerifyKey& key) {
  std::vector<std::uint8_t> material{alg};
  material.insert(material.end(), key.bytes().begin(), key.bytes().end());
  return std::string(name) + "+" + crypto::to_hex(note_key_hash(name, alg, key)) + "+" +
         crypto::to_base64(material);
}

std::string checkpoint_body(std::string_view origin, std::uint64_t size,
                            const crypto::Sha256Digest& root) {
  return std::string(origin) + "\n" + std::to_string(size) + "\n" + crypto::to_base64(root) + "\n";
}

std::string note_signature_line(std::string_view body, std::string_view name,
                                const crypto::SigningKey& key) {
  const auto hash = note_key_hash(name, kNoteEd25519, key.verify_key());
  const auto sig = key.sign(bytes(body));
  std::vector<std::uint8_t> b(hash.begin(), hash.end());
  b.insert(b.end(), sig.bytes().begin(), sig.bytes().end());
  return std::string(kDash) + std::string(name) + " " + crypto::to_base64(b) + "\n";
}

std::string cosignature_message(std::uint64_t time, std::string_view body) {
  return "cosignature/v1\ntime " + std::to_string(time) + "\n" + std::string(body);
}

std::string cosignature_line(std::string_view body, std::string_view name, std::uint64_t time,
                             const crypto::SigningKey& key) {
  const auto hash = note_key_hash(name, kNoteCosignature, key.verify_key());
  const auto sig = key.sign(bytes(cosignature_message(time, body)));
  std::vector<std::uint8_t> b(hash.begin(), hash.end());
  for (int shift = 56; shift >= 0; shift -= 8)
    b.push_back(static_cast<std::uint8_t>(time >> shift));
  b.insert(b.end(), sig.bytes().begin(), sig.bytes().end());
  return std::string(kDash) + std::string(name) + " " + crypto::to_base64(b) + "\n";
}

Result<SignedNote> parse_note(std::string_view text) {
  // The body ends at the first blank line; signature lines follow, each ending in "\n".
  const std::size_t split_at = text.find("\n\n");
  if (split_at == std::string_view::npos || text.empty() || text.back() != '\n') {
    return bad("not a signed note");
  }
  SignedNote note;
  note.body = std::string(text.substr(0, split_at + 1));
  std::string_view rest = text.substr(split_at + 2);
  if (rest.empty()) return bad("a signed note without signatures");
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (!line.starts_with(kDash)) return bad("a signature line must start with an em dash");
    line.remove_prefix(kDash.size());
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad("a signature line needs a name and a value");
    SignedNote::Line l;
    l.name = std::string(line.substr(0, space));
    if (!valid_note_key_name(l.name)) return bad("a signature line has a bad key name");
    auto b = crypto::from_base64(line.substr(space + 1), "signature");
    if (!b || b->size() < kKeyHashSize + 1) return bad("a signature line has a bad signature");
    l.bytes = std::move(b).value();
    note.signatures.push_back(std::move(l));
  }
  return note;
}

Result<CheckpointBody> parse_checkpoint_body(std::string_view body) {
  const auto lines = split(body, '\n');
  // "origin\nsize\nroot\n" splits into four parts, the last empty.
  if (lines.size() != 4 || !lines[3].empty()) return bad("a checkpoint has three lines");
  CheckpointBody c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return bad("a checkpoint needs an origin");
  auto size = decimal(lines[1], UINT64_MAX);
  if (!size) return bad("a checkpoint's size is not a decimal");
  c.size = *size;
  auto root = crypto::from_base64(lines[2], "root");
  if (!root || root->size() != c.root.size()) return bad("a checkpoint's root is not base64");
  std::copy(root->begin(), root->end(), c.root.begin());
  return c;
}

Status verify_note(const SignedNote& note, std::string_view name, const crypto::VerifyKey& key) {
  const auto* l = line_for(note, name, note_key_hash(name, kNoteEd25519, key));
  if (l == nullptr || l->bytes.size() != kKeyHashSize + crypto::Signature::kSize) {
    return Status::error(Code::kPermissionDenied, "no signature of " + std::string(name));
  }
  auto sig = crypto::Signature::from_bytes(key.key_id(), std::span(l->bytes).subspan(kKeyHashSize));
  if (!sig) return sig.status();
  if (!key.verify(bytes(note.body), *sig).is_ok()) {
    return Status::error(Code::kPermissionDenied,
                         "the signature of " + std::string(name) + " does not verify");
  }
  return Status::ok();
}

Result<std::uint64_t> verify_cosignature(const SignedNote& note, std::string_view name,
                                         const crypto::VerifyKey& key) {
  const auto* l = line_for(note, name, note_key_hash(name, kNoteCosignature, key));
  if (l == nullptr || l->bytes.size() != kKeyHashSize + 8 + crypto::Signature::kSize) {
    return Status::error(Code::kPermissionDenied, "no cosignature of " + std::string(name));
  }
  std::uint64_t time = 0;
  for (std::size_t i = 0; i < 8; ++i) time = time << 8 | l->bytes[kKeyHashSize + i];
  auto sig =
      crypto::Signature::from_bytes(key.key_id(), std::span(l->bytes).subspan(kKeyHashSize + 8));
  if (!sig) return sig.status();
  if (!key.verify(bytes(cosignature_message(time, note.body)), *sig).is_ok()) {
    return Status::error(Code::kPermissionDenied,
                         "the cosignature of " + std::string(name) + " does not verify");
  }
  return time;
}

std::optional<TileRef> parse_tile_path(std::string_view path) {
  auto parts = split(path, '/');
  if (parts.size() < 2) return std::nullopt;
  TileRef t;
  if (parts[0] == "entries") {
    t.entries = true;
  } else {
    // Levels above 7 would span more than 2^64 leaves: no such tile exists.
    auto level = decimal(parts[0], 7);
    if (!level) return std::nullopt;
    t.level = static_cast<unsigned>(*level);
  }
  parts.erase(parts.begin());
  // A partial tile ends in ".p/W": the last index element carries the ".p".
  if (parts.size() >= 2 && parts[parts.size() - 2].ends_with(".p")) {
    auto width = decimal(parts.back(), kTileWidth - 1);
    if (!width || *width == 0) return std::nullopt;
    t.width = static_cast<unsigned>(*width);
    parts.pop_back();
    parts.back().remove_suffix(2);
  }
  // Index: x-prefixed groups of three digits, then three digits; no leading "x000".
  if (parts.size() > 7) return std::nullopt;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view group = parts[i];
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (!group.starts_with('x')) return std::nullopt;
      group.remove_prefix(1);
      if (i == 0 && group == "000") return std::nullopt;
    }
    if (!three_digits(group)) return std::nullopt;
    const auto g = static_cast<std::uint64_t>(std::stoi(std::string(group)));
    if (t.index > (UINT64_MAX - g) / 1000) return std::nullopt;
    t.index = t.index * 1000 + g;
  }
  return t;
}

std::uint64_t tile_count(std::uint64_t size, unsigned level) {
  const std::uint64_t n = level * kTileHeight >= 64 ? 0 : size >> (level * kTileHeight);
  return n / kTileWidth + (n % kTileWidth != 0 ? 1 : 0);
}

TileRef tile_at(std::uint64_t size, bool entries, unsigned level, std::uint64_t k) {
  const std::uint64_t n = size >> (level * kTileHeight);
  const auto width = static_cast<unsigned>(std::min<std::uint64_t>(kTileWidth, n - k * kTileWidth));
  return {entries, level, k, width};
}

std::string tile_path(const TileRef& tile) {
  std::string n = std::to_string(tile.index % 1000);
  n.insert(0, 3 - n.size(), '0');
  for (std::uint64_t rest = tile.index / 1000; rest > 0; rest /= 1000) {
    std::string g = std::to_string(rest % 1000);
    g.insert(0, 3 - g.size(), '0');
    n = "x" + g + "/" + n;
  }
  std::string out = (tile.entries ? std::string("entries") : std::to_string(tile.level)) + "/" + n;
  if (tile.width < kTileWidth) out += ".p/" + std::to_string(tile.width);
  return out;
}

Result<std::string> entry_bundle(const std::vector<std::string>& leaves) {
  std::string out;
  for (const auto& leaf : leaves) {
    if (leaf.size() > 0xffff) return Status::error(Code::kInternal, "a leaf over 65535 bytes");
    out.push_back(static_cast<char>(leaf.size() >> 8));
    out.push_back(static_cast<char>(leaf.size() & 0xff));
    out += leaf;
  }
  return out;
}

Result<std::vector<std::string>> parse_entry_bundle(std::string_view bundle) {
  std::vector<std::string> out;
  while (!bundle.empty()) {
    if (bundle.size() < 2) return bad("an entry bundle ends inside a length");
    const std::size_t n =
        static_cast<std::uint8_t>(bundle[0]) << 8 | static_cast<std::uint8_t>(bundle[1]);
    bundle.remove_prefix(2);
    if (bundle.size() < n) return bad("an entry bundle ends inside an entry");
    out.emplace_back(bundle.substr(0, n));
    bundle.remove_prefix(n);
  }
  return out;
}

}  // namespace brug::gateway
