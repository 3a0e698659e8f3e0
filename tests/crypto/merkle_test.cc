#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/encoding.h"

namespace brug::crypto {
namespace {

// Reference data from the Certificate Transparency / transparency-dev/merkle test suites
// (testonly/constants.go, proof/verify_test.go): the eight test leaves, the roots of the trees
// of sizes 1..8, and known inclusion and consistency proofs.
const char* const kLeavesHex[] = {"",
                                  "00",
                                  "10",
                                  "2021",
                                  "3031",
                                  "40414243",
                                  "5051525354555657",
                                  "606162636465666768696a6b6c6d6e6f"};
const char* const kRootsHex[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  // size 0
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",  // size 8
};

struct InclusionVector {
  std::uint64_t index;  // 0-based
  std::uint64_t size;
  std::vector<const char*> proof;
};
const InclusionVector kInclusion[] = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

struct ConsistencyVector {
  std::uint64_t old_size;
  std::uint64_t new_size;
  std::vector<const char*> proof;
};
const ConsistencyVector kConsistency[] = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

Sha256Digest digest(const char* hex) { return fixed_from_hex<32>(hex, "digest").value(); }

std::vector<Sha256Digest> digests(const std::vector<const char*>& hexes) {
  std::vector<Sha256Digest> out;
  for (const char* h : hexes) out.push_back(digest(h));
  return out;
}

MemoryMerkleTree test_tree(std::uint64_t size) {
  MemoryMerkleTree t;
  for (std::uint64_t i = 0; i < size; ++i) t.append(*from_hex(kLeavesHex[i], "leaf"));
  return t;
}

// A tree that keeps only leaf hashes, to check both kinds of source give the same answers.
class LeavesOnly : public MerkleLeafHashSource {
 public:
  explicit LeavesOnly(std::vector<Sha256Digest> leaves) : leaves_(std::move(leaves)) {}
  Result<Sha256Digest> leaf_hash(std::uint64_t index) const override {
    if (index >= leaves_.size()) return Status::error(Code::kNotFound, "no such leaf");
    return leaves_[index];
  }

 private:
  std::vector<Sha256Digest> leaves_;
};

// MTH straight from the RFC 6962 definition, independent of MerkleHashSource.
Sha256Digest reference_root(const std::vector<Sha256Digest>& leaves, std::size_t b, std::size_t e) {
  if (e - b == 1) return leaves[b];
  std::size_t k = 1;
  while (k * 2 < e - b) k *= 2;
  return merkle_node_hash(reference_root(leaves, b, b + k), reference_root(leaves, b + k, e));
}

std::vector<Sha256Digest> numbered_leaf_hashes(std::size_t n) {
  std::vector<Sha256Digest> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(merkle_leaf_hash(bytes_of(std::to_string(i))));
  return out;
}

TEST(Merkle, EmptyTreeHashIsTheHashOfNothing) {
  MemoryMerkleTree t;
  EXPECT_EQ(to_hex(t.root()), kRootsHex[0]);
  EXPECT_EQ(to_hex(merkle_empty_root()), kRootsHex[0]);
}

TEST(Merkle, RootsMatchTheCertificateTransparencyVectors) {
  MemoryMerkleTree t;
  for (std::size_t i = 0; i < 8; ++i) {
    t.append(*from_hex(kLeavesHex[i], "leaf"));
    EXPECT_EQ(to_hex(t.root()), kRootsHex[i + 1]) << "size " << i + 1;
  }
  // Roots of earlier sizes stay answerable from the grown tree.
  for (std::uint64_t n = 0; n <= 8; ++n) EXPECT_EQ(to_hex(*merkle_root(t, n)), kRootsHex[n]);
}

TEST(Merkle, LeafAndNodeHashesUseDomainSeparation) {
  // The leaf hash of the empty leaf is SHA-256(0x00), not SHA-256("").
  EXPECT_EQ(to_hex(merkle_leaf_hash({})), kRootsHex[1]);
  EXPECT_NE(merkle_leaf_hash({}), merkle_empty_root());
}

TEST(Merkle, InclusionProofsMatchTheReferenceVectors) {
  MemoryMerkleTree t = test_tree(8);
  for (const auto& v : kInclusion) {
    auto proof = inclusion_proof(t, v.index, v.size);
    ASSERT_TRUE(proof.is_ok()) << proof.message();
    EXPECT_EQ(*proof, digests(v.proof)) << v.index << "/" << v.size;
    auto leaf = merkle_leaf_hash(*from_hex(kLeavesHex[v.index], "leaf"));
    EXPECT_TRUE(verify_inclusion(leaf, v.index, v.size, *proof, digest(kRootsHex[v.size])).is_ok())
        << v.index << "/" << v.size;
  }
}

TEST(Merkle, ConsistencyProofsMatchTheReferenceVectors) {
  MemoryMerkleTree t = test_tree(8);
  for (const auto& v : kConsistency) {
    auto proof = consistency_proof(t, v.old_size, v.new_size);
    ASSERT_TRUE(proof.is_ok()) << proof.message();
    EXPECT_EQ(*proof, digests(v.proof)) << v.old_size << "->" << v.new_size;
    EXPECT_TRUE(verify_consistency(v.old_size, v.new_size, digest(kRootsHex[v.old_size]),
                                   digest(kRootsHex[v.new_size]), *proof)
                    .is_ok())
        << v.old_size << "->" << v.new_size;
  }
}

TEST(Merkle, ProofsForImpossibleRangesAreRefused) {
  MemoryMerkleTree t = test_tree(8);
  EXPECT_EQ(inclusion_proof(t, 0, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(inclusion_proof(t, 8, 8).code(), Code::kInvalidArgument);
  EXPECT_EQ(consistency_proof(t, 5, 4).code(), Code::kInvalidArgument);
  // Beyond what the source holds: the source's error comes through.
  EXPECT_FALSE(inclusion_proof(t, 0, 9).is_ok());
  EXPECT_FALSE(merkle_root(t, 9).is_ok());
}

TEST(Merkle, VerifiersRejectDegenerateInputs) {
  const Sha256Digest some = digest(kRootsHex[3]);
  const Sha256Digest empty = merkle_empty_root();
  // No leaf is in an empty tree; an index must be below the size.
  EXPECT_FALSE(verify_inclusion(some, 0, 0, {}, empty).is_ok());
  EXPECT_FALSE(verify_inclusion(some, 1, 1, {}, some).is_ok());
  EXPECT_FALSE(verify_inclusion(some, 2, 1, {}, some).is_ok());
  // A one-leaf tree: the root is the leaf hash and the proof is empty.
  EXPECT_TRUE(verify_inclusion(some, 0, 1, {}, some).is_ok());
  EXPECT_FALSE(verify_inclusion(some, 0, 1, {}, empty).is_ok());
  // Consistency of equal sizes needs equal roots and no proof; shrinking is never consistent.
  EXPECT_TRUE(verify_consistency(3, 3, some, some, {}).is_ok());
  EXPECT_FALSE(verify_consistency(3, 3, some, empty, {}).is_ok());
  std::vector<Sha256Digest> one = {empty};
  EXPECT_FALSE(verify_consistency(3, 3, some, some, one).is_ok());
  EXPECT_FALSE(verify_consistency(2, 1, some, some, {}).is_ok());
  EXPECT_TRUE(verify_consistency(0, 5, empty, some, {}).is_ok());
  EXPECT_FALSE(verify_consistency(0, 5, empty, some, one).is_ok());
  EXPECT_FALSE(verify_consistency(1, 2, some, empty, {}).is_ok());
}

TEST(Merkle, EveryInclusionProofUpTo64LeavesVerifies) {
  for (std::size_t n = 1; n <= 64; ++n) {
    auto leaves = numbered_leaf_hashes(n);
    MemoryMerkleTree t;
    for (const auto& l : leaves) t.append_leaf_hash(l);
    LeavesOnly only(leaves);
    const Sha256Digest root = reference_root(leaves, 0, n);
    ASSERT_EQ(t.root(), root) << n;
    ASSERT_EQ(*merkle_root(only, n), root) << n;
    for (std::size_t i = 0; i < n; ++i) {
      auto proof = inclusion_proof(t, i, n);
      ASSERT_TRUE(proof.is_ok());
      EXPECT_EQ(*proof, *inclusion_proof(only, i, n));
      EXPECT_TRUE(verify_inclusion(leaves[i], i, n, *proof, root).is_ok()) << i << "/" << n;
    }
  }
}

TEST(Merkle, TamperedInclusionProofsFail) {
  for (std::size_t n = 1; n <= 64; ++n) {
    auto leaves = numbered_leaf_hashes(n);
    MemoryMerkleTree t;
    for (const auto& l : leaves) t.append_leaf_hash(l);
    const Sha256Digest root = t.root();
    for (std::size_t i = 0; i < n; ++i) {
      const auto proof = *inclusion_proof(t, i, n);
      for (std::size_t j = 0; j < proof.size(); ++j) {
        for (std::size_t byte : {std::size_t{0}, std::size_t{17}, std::size_t{31}}) {
          auto bad = proof;
          bad[j][byte] ^= 0x01;
          EXPECT_FALSE(verify_inclusion(leaves[i], i, n, bad, root).is_ok());
        }
      }
      auto wrong_leaf = leaves[i];
      wrong_leaf[5] ^= 0x80;
      EXPECT_FALSE(verify_inclusion(wrong_leaf, i, n, proof, root).is_ok());
      // A tree twice the size puts every leaf one level deeper. (n + 1 may share the proof's
      // shape: the size is bound to the root by the signed checkpoint, not by the proof.)
      EXPECT_FALSE(verify_inclusion(leaves[i], i, 2 * n, proof, root).is_ok());
      if (n > 1) {
        EXPECT_FALSE(verify_inclusion(leaves[i], (i + 1) % n, n, proof, root).is_ok());
        EXPECT_FALSE(
            verify_inclusion(leaves[i], i, n, proof, reference_root(leaves, 0, n - 1)).is_ok());
      }
      if (!proof.empty()) {
        auto shorter = proof;
        shorter.pop_back();
        EXPECT_FALSE(verify_inclusion(leaves[i], i, n, shorter, root).is_ok());
      }
      auto longer = proof;
      longer.push_back(root);
      EXPECT_FALSE(verify_inclusion(leaves[i], i, n, longer, root).is_ok());
    }
  }
}

TEST(Merkle, EveryConsistencyProofUpTo64LeavesVerifies) {
  auto leaves = numbered_leaf_hashes(64);
  MemoryMerkleTree t;
  for (const auto& l : leaves) t.append_leaf_hash(l);
  LeavesOnly only(leaves);
  for (std::size_t n = 1; n <= 64; ++n) {
    const Sha256Digest new_root = reference_root(leaves, 0, n);
    for (std::size_t m = 1; m <= n; ++m) {
      const Sha256Digest old_root = reference_root(leaves, 0, m);
      auto proof = consistency_proof(t, m, n);
      ASSERT_TRUE(proof.is_ok());
      EXPECT_EQ(*proof, *consistency_proof(only, m, n));
      EXPECT_TRUE(verify_consistency(m, n, old_root, new_root, *proof).is_ok()) << m << "->" << n;
    }
  }
}

TEST(Merkle, TamperedConsistencyProofsFail) {
  auto leaves = numbered_leaf_hashes(64);
  MemoryMerkleTree t;
  for (const auto& l : leaves) t.append_leaf_hash(l);
  for (std::size_t n = 2; n <= 64; ++n) {
    const Sha256Digest new_root = reference_root(leaves, 0, n);
    for (std::size_t m = 1; m < n; ++m) {
      const Sha256Digest old_root = reference_root(leaves, 0, m);
      const auto proof = *consistency_proof(t, m, n);
      for (std::size_t j = 0; j < proof.size(); ++j) {
        auto bad = proof;
        bad[j][j % 32] ^= 0x10;
        EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, bad).is_ok())
            << m << "->" << n << " element " << j;
      }
      auto flipped_old = old_root;
      flipped_old[0] ^= 0x01;
      EXPECT_FALSE(verify_consistency(m, n, flipped_old, new_root, proof).is_ok());
      auto flipped_new = new_root;
      flipped_new[31] ^= 0x01;
      EXPECT_FALSE(verify_consistency(m, n, old_root, flipped_new, proof).is_ok());
      EXPECT_FALSE(verify_consistency(m, n, new_root, old_root, proof).is_ok());
      EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, {}).is_ok());
      auto shorter = proof;
      shorter.pop_back();
      EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, shorter).is_ok());
      auto longer = proof;
      longer.push_back(new_root);
      EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, longer).is_ok());
      if (m + 1 < n) {
        EXPECT_FALSE(verify_consistency(m + 1, n, old_root, new_root, proof).is_ok());
      }
      EXPECT_FALSE(verify_consistency(m, 2 * n, old_root, new_root, proof).is_ok());
    }
  }
}

TEST(Merkle, LargeTreeProofsNeedOnlyLogarithmicallyManySubtreeReads) {
  // Counts reads to show a proof over 2^20 leaves does not walk the leaves.
  class Counting : public MerkleHashSource {
   public:
    explicit Counting(const MemoryMerkleTree& t) : t_(t) {}
    Result<Sha256Digest> perfect_subtree_hash(unsigned level, std::uint64_t index) const override {
      ++reads;
      return t_.perfect_subtree_hash(level, index);
    }
    mutable int reads = 0;

   private:
    const MemoryMerkleTree& t_;
  };
  MemoryMerkleTree t;
  const std::uint64_t n = (1u << 20) - 3;
  for (std::uint64_t i = 0; i < n; ++i) {
    Sha256Digest d{};
    for (int b = 0; b < 8; ++b) d[b] = static_cast<std::uint8_t>(i >> (8 * b));
    t.append_leaf_hash(d);
  }
  Counting counting(t);
  auto proof = inclusion_proof(counting, 12345, n);
  ASSERT_TRUE(proof.is_ok());
  EXPECT_LE(counting.reads, 20 * 20);
  EXPECT_TRUE(
      verify_inclusion(*t.perfect_subtree_hash(0, 12345), 12345, n, *proof, t.root()).is_ok());
  counting.reads = 0;
  auto cproof = consistency_proof(counting, 1000003, n);
  ASSERT_TRUE(cproof.is_ok());
  EXPECT_LE(counting.reads, 20 * 20);
  EXPECT_TRUE(verify_consistency(1000003, n, *merkle_root(t, 1000003), t.root(), *cproof).is_ok());
}

}  // namespace
}  // namespace brug::crypto
