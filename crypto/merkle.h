// Merkle tree hashing as in RFC 6962 / RFC 9162 (Certificate Transparency): leaf hash
// SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right), the tree hash of any size,
// inclusion and consistency proofs, and their verifiers.
//
// Proofs are computed from a MerkleHashSource, which answers the hash of a perfect subtree
// (2^level leaves, aligned). A store that keeps those hashes (an audit log) computes a proof for
// a tree of any size in O(log^2 n) reads without loading the leaves.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace brug::crypto {

Sha256Digest merkle_leaf_hash(std::span<const std::uint8_t> leaf);
Sha256Digest merkle_node_hash(const Sha256Digest& left, const Sha256Digest& right);
// The hash of the empty tree: SHA-256 of the empty string.
Sha256Digest merkle_empty_root();

class MerkleHashSource {
 public:
  virtual ~MerkleHashSource() = default;
  // Hash of the perfect subtree of 2^level leaves that starts at leaf (index << level);
  // level 0 is a leaf hash. Asked only for subtrees inside the tree size being proved.
  virtual Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const = 0;
};

// For stores that keep only leaf hashes: perfect subtrees are computed from the leaves
// (2^level reads each), so prefer storing subtree hashes for large trees.
class MerkleLeafHashSource : public MerkleHashSource {
 public:
  virtual Result<Sha256Digest> leaf_hash(std::uint64_t index) const = 0;
  Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const final;
};

// The tree hash MTH of the first `size` leaves.
Result<Sha256Digest> merkle_root(const MerkleHashSource& source, std::uint64_t size);
// RFC 6962 §2.1.1 PATH(index, D[size]); kInvalidArgument unless index < size.
Result<std::vector<Sha256Digest>> inclusion_proof(const MerkleHashSource& source,
                                                  std::uint64_t index, std::uint64_t size);
// RFC 6962 §2.1.2 PROOF(old_size, D[new_size]); empty when old_size is 0 or equals new_size.
Result<std::vector<Sha256Digest>> consistency_proof(const MerkleHashSource& source,
                                                    std::uint64_t old_size, std::uint64_t new_size);

// RFC 9162 §2.1.3.2. Ok only if `proof` shows leaf `index` with `leaf_hash` is in the tree of
// `size` leaves with hash `root`.
Status verify_inclusion(const Sha256Digest& leaf_hash, std::uint64_t index, std::uint64_t size,
                        std::span<const Sha256Digest> proof, const Sha256Digest& root);
// RFC 9162 §2.1.4.2. Ok only if the tree of new_size leaves with new_root extends the tree of
// old_size leaves with old_root.
Status verify_consistency(std::uint64_t old_size, std::uint64_t new_size,
                          const Sha256Digest& old_root, const Sha256Digest& new_root,
                          std::span<const Sha256Digest> proof);

// A tree held in memory with every perfect subtree hash, for tests, tools and small logs.
class MemoryMerkleTree : public MerkleHashSource {
 public:
  void append(std::span<const std::uint8_t> leaf) { append_leaf_hash(merkle_leaf_hash(leaf)); }
  void append_leaf_hash(const Sha256Digest& leaf_hash);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Sha256Digest root() const;
  Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const override;

 private:
  // levels_[l][i]: hash of the perfect subtree of 2^l leaves starting at leaf i << l.
  std::vector<std::vector<Sha256Digest>> levels_;
};

}  // namespace brug::crypto
