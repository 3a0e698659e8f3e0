// The audit log in the C2SP formats, so that standard transparency-log tools can check it:
// checkpoints as tlog-checkpoint signed notes (C2SP signed-note, Ed25519), witness
// cosignatures (tlog-cosignature), and the tree as tlog-tiles (tile paths, hash tiles, entry
// bundles). docs/AUDIT.md shows the bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace brug::crypto {
class SigningKey;
class VerifyKey;
}  // namespace brug::crypto

namespace brug::gateway {

// A tlog-tiles tile is 256 hashes (or entries) wide; a partial tile has a width 1..255.
inline constexpr unsigned kTileWidth = 256;
inline constexpr unsigned kTileHeight = 8;

// A key name is non-empty, printable ASCII without spaces and without '+'.
bool valid_note_key_name(std::string_view name);

// SHA-256(name || "\n" || alg || public key)[:4]: alg 0x01 is an Ed25519 note signature, 0x04
// an Ed25519 cosignature (tlog-cosignature).
inline constexpr std::uint8_t kNoteEd25519 = 0x01;
inline constexpr std::uint8_t kNoteCosignature = 0x04;
std::array<std::uint8_t, 4> note_key_hash(std::string_view name, std::uint8_t alg,
                                          const crypto::VerifyKey& key);

// The verifier key text of golang.org/x/mod/sumdb/note: NAME+HEX(key hash)+BASE64(alg||key).
std::string note_verifier_key(std::string_view name, std::uint8_t alg,
                              const crypto::VerifyKey& key);

// The checkpoint body: ORIGIN "\n" SIZE "\n" BASE64(root) "\n".
std::string checkpoint_body(std::string_view origin, std::uint64_t size,
                            const crypto::Sha256Digest& root);

// One signature line: "— NAME BASE64(key hash || signature)\n" over `body`.
std::string note_signature_line(std::string_view body, std::string_view name,
                                const crypto::SigningKey& key);

// The message a witness signs: "cosignature/v1\ntime T\n" followed by the checkpoint body.
std::string cosignature_message(std::uint64_t time, std::string_view body);
// A cosignature line: "— NAME BASE64(key hash || time (8 bytes, big-endian) || signature)\n".
std::string cosignature_line(std::string_view body, std::string_view name, std::uint64_t time,
                             const crypto::SigningKey& key);

// A signed note split in its body and signature lines ("— NAME BASE64\n" each).
struct SignedNote {
  std::string body;
  struct Line {
    std::string name;
    std::vector<std::uint8_t> bytes;  // key hash then signature (and time, for a cosignature)
  };
  std::vector<Line> signatures;
};
Result<SignedNote> parse_note(std::string_view text);

// A checkpoint body read back: origin, size and root, no extension lines.
struct CheckpointBody {
  std::string origin;
  std::uint64_t size = 0;
  crypto::Sha256Digest root{};
};
Result<CheckpointBody> parse_checkpoint_body(std::string_view body);

// Ok if one of the note's lines is `name`'s valid signature with `key` (alg 0x01).
Status verify_note(const SignedNote& note, std::string_view name, const crypto::VerifyKey& key);
// The time of `name`'s valid cosignature with `key` (alg 0x04), else an error.
Result<std::uint64_t> verify_cosignature(const SignedNote& note, std::string_view name,
                                         const crypto::VerifyKey& key);

// A tile as its path names it: "L/N[.p/W]" or "entries/N[.p/W]" (after ".../tile/").
struct TileRef {
  bool entries = false;  // an entry bundle (leaves) instead of a hash tile
  unsigned level = 0;    // hash tiles: 0..7
  std::uint64_t index = 0;
  unsigned width = kTileWidth;  // 1..256; below 256 a partial tile
};
std::optional<TileRef> parse_tile_path(std::string_view path);
// How many tiles of `level` a tree of `size` leaves has (full ones, then a partial one), and
// the k-th of them (k < tile_count; entry bundles with `entries`, level 0). One at a time,
// never listed: a checkpoint's size is outside input to whoever fetches or verifies its tiles.
std::uint64_t tile_count(std::uint64_t size, unsigned level);
TileRef tile_at(std::uint64_t size, bool entries, unsigned level, std::uint64_t k);
std::string tile_path(const TileRef& tile);

// The entry bundle of `leaves`: each a big-endian 16-bit length then its bytes.
Result<std::string> entry_bundle(const std::vector<std::string>& leaves);
Result<std::vector<std::string>> parse_entry_bundle(std::string_view bundle);

}  // namespace brug::gateway
