#include "crypto/merkle.h"

#include <bit>

namespace brug::crypto {
namespace {

// The largest power of two strictly less than n (n >= 2): RFC 6962's split point k.
std::uint64_t split_point(std::uint64_t n) { return std::bit_floor(n - 1); }

// MTH of leaves [begin, end), end > begin, from perfect subtrees.
Result<Sha256Digest> range_hash(const MerkleHashSource& src, std::uint64_t begin,
                                std::uint64_t end) {
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    return src.perfect_subtree_hash(static_cast<unsigned>(std::countr_zero(n)), begin / n);
  }
  const std::uint64_t k = split_point(n);
  auto left = range_hash(src, begin, begin + k);
  if (!left.is_ok()) return left;
  auto right = range_hash(src, begin + k, end);
  if (!right.is_ok()) return right;
  return merkle_node_hash(*left, *right);
}

// PATH(m, D[begin:end]) appended to `out`.
Status path(const MerkleHashSource& src, std::uint64_t m, std::uint64_t begin, std::uint64_t end,
            std::vector<Sha256Digest>& out) {
  const std::uint64_t n = end - begin;
  if (n == 1) return Status::ok();
  const std::uint64_t k = split_point(n);
  Result<Sha256Digest> sibling = Status::error(Code::kInternal, "unset");
  if (m < k) {
    BRUG_RETURN_IF_ERROR(path(src, m, begin, begin + k, out));
    sibling = range_hash(src, begin + k, end);
  } else {
    BRUG_RETURN_IF_ERROR(path(src, m - k, begin + k, end, out));
    sibling = range_hash(src, begin, begin + k);
  }
  if (!sibling.is_ok()) return sibling.status();
  out.push_back(*sibling);
  return Status::ok();
}

// SUBPROOF(m, D[begin:end], complete) appended to `out`.
Status subproof(const MerkleHashSource& src, std::uint64_t m, std::uint64_t begin,
                std::uint64_t end, bool complete, std::vector<Sha256Digest>& out) {
  const std::uint64_t n = end - begin;
  Result<Sha256Digest> next = Status::error(Code::kInternal, "unset");
  if (m == n) {
    if (complete) return Status::ok();
    next = range_hash(src, begin, end);
  } else {
    const std::uint64_t k = split_point(n);
    if (m <= k) {
      BRUG_RETURN_IF_ERROR(subproof(src, m, begin, begin + k, complete, out));
      next = range_hash(src, begin + k, end);
    } else {
      BRUG_RETURN_IF_ERROR(subproof(src, m - k, begin + k, end, false, out));
      next = range_hash(src, begin, begin + k);
    }
  }
  if (!next.is_ok()) return next.status();
  out.push_back(*next);
  return Status::ok();
}

Status proof_fails(const char* what) {
  return Status::error(Code::kCorrupt, std::string(what) + " does not verify");
}

// The RFC 9162 step "right-shift fn and sn until LSB(fn) is set or fn is 0".
void shift_while_even(std::uint64_t& fn, std::uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Sha256Digest merkle_leaf_hash(std::span<const std::uint8_t> leaf) {
  const std::uint8_t prefix = 0x00;
  return sha256_of_parts({std::span<const std::uint8_t>(&prefix, 1), leaf});
}

Sha256Digest merkle_node_hash(const Sha256Digest& left, const Sha256Digest& right) {
  std::uint8_t buf[1 + 2 * 32];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 1 + 32);
  return sha256(std::span<const std::uint8_t>(buf, sizeof buf));
}

Sha256Digest merkle_empty_root() { return sha256(std::span<const std::uint8_t>()); }

Result<Sha256Digest> MerkleLeafHashSource::perfect_subtree_hash(unsigned level,
                                                                std::uint64_t index) const {
  if (level == 0) return leaf_hash(index);
  auto left = perfect_subtree_hash(level - 1, 2 * index);
  if (!left.is_ok()) return left;
  auto right = perfect_subtree_hash(level - 1, 2 * index + 1);
  if (!right.is_ok()) return right;
  return merkle_node_hash(*left, *right);
}

Result<Sha256Digest> merkle_root(const MerkleHashSource& source, std::uint64_t size) {
  if (size == 0) return merkle_empty_root();
  return range_hash(source, 0, size);
}

Result<std::vector<Sha256Digest>> inclusion_proof(const MerkleHashSource& source,
                                                  std::uint64_t index, std::uint64_t size) {
  if (index >= size) {
    return Status::error(Code::kInvalidArgument, "leaf " + std::to_string(index) +
                                                     " is not in a tree of " +
                                                     std::to_string(size) + " leaves");
  }
  std::vector<Sha256Digest> out;
  BRUG_RETURN_IF_ERROR(path(source, index, 0, size, out));
  return out;
}

Result<std::vector<Sha256Digest>> consistency_proof(const MerkleHashSource& source,
                                                    std::uint64_t old_size,
                                                    std::uint64_t new_size) {
  if (old_size > new_size) {
    return Status::error(Code::kInvalidArgument, "old tree size " + std::to_string(old_size) +
                                                     " exceeds new size " +
                                                     std::to_string(new_size));
  }
  std::vector<Sha256Digest> out;
  if (old_size == 0 || old_size == new_size) return out;
  BRUG_RETURN_IF_ERROR(subproof(source, old_size, 0, new_size, true, out));
  return out;
}

Status verify_inclusion(const Sha256Digest& leaf_hash, std::uint64_t index, std::uint64_t size,
                        std::span<const Sha256Digest> proof, const Sha256Digest& root) {
  if (index >= size) {
    return Status::error(Code::kInvalidArgument, "leaf index is not below the tree size");
  }
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Sha256Digest r = leaf_hash;
  for (const Sha256Digest& p : proof) {
    if (sn == 0) return proof_fails("inclusion proof (too long)");
    if ((fn & 1) == 1 || fn == sn) {
      r = merkle_node_hash(p, r);
      shift_while_even(fn, sn);
    } else {
      r = merkle_node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || r != root) return proof_fails("inclusion proof");
  return Status::ok();
}

Status verify_consistency(std::uint64_t old_size, std::uint64_t new_size,
                          const Sha256Digest& old_root, const Sha256Digest& new_root,
                          std::span<const Sha256Digest> proof) {
  if (old_size > new_size) {
    return Status::error(Code::kInvalidArgument, "old tree size exceeds new tree size");
  }
  if (old_size == new_size) {
    if (!proof.empty() || old_root != new_root) return proof_fails("consistency proof");
    return Status::ok();
  }
  if (old_size == 0) {
    // Every tree extends the empty tree; there is nothing to prove.
    if (!proof.empty()) return proof_fails("consistency proof");
    return Status::ok();
  }
  if (proof.empty()) return proof_fails("consistency proof (empty)");

  // When old_size is a power of two the old root is itself a node of the new tree and is not
  // sent: the proof starts with it implicitly.
  const bool starts_with_old_root = std::has_single_bit(old_size);
  std::size_t next = 0;
  const Sha256Digest& first = starts_with_old_root ? old_root : proof[next++];
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Sha256Digest fr = first;
  Sha256Digest sr = first;
  for (; next < proof.size(); ++next) {
    const Sha256Digest& c = proof[next];
    if (sn == 0) return proof_fails("consistency proof (too long)");
    if ((fn & 1) == 1 || fn == sn) {
      fr = merkle_node_hash(c, fr);
      sr = merkle_node_hash(c, sr);
      shift_while_even(fn, sn);
    } else {
      sr = merkle_node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || fr != old_root || sr != new_root) return proof_fails("consistency proof");
  return Status::ok();
}

void MemoryMerkleTree::append_leaf_hash(const Sha256Digest& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Complete every perfect subtree the new leaf closes.
  for (std::size_t level = 0; levels_[level].size() % 2 == 0; ++level) {
    if (level + 1 == levels_.size()) levels_.emplace_back();
    const auto& below = levels_[level];
    levels_[level + 1].push_back(merkle_node_hash(below[below.size() - 2], below.back()));
  }
}

Sha256Digest MemoryMerkleTree::root() const {
  // Cannot fail: every perfect subtree inside size() is stored.
  return merkle_root(*this, size()).value();
}

Result<Sha256Digest> MemoryMerkleTree::perfect_subtree_hash(unsigned level,
                                                            std::uint64_t index) const {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return Status::error(
        Code::kInvalidArgument,
        "no perfect subtree at level " + std::to_string(level) + " index " + std::to_string(index));
  }
  return levels_[level][index];
}

}  // namespace brug::crypto
