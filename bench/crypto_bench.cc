// Per-operation cost of the crypto module. Build and run:
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBRUG_BENCH=ON
//   ninja -C build-bench crypto_bench && build-bench/bench/crypto_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "crypto/bsn.h"
#include "crypto/envelope.h"
#include "crypto/keydir.h"
#include "crypto/merkle.h"
#include "crypto/pseudonym.h"
#include "crypto/sign.h"

namespace brug::crypto {
namespace {

const KeyDir& keys() {
  static const KeyDir k = KeyDir::ephemeral().value();
  return k;
}

ParticipantIndex some_participant() {
  return participant_index(keys().participant_index_key(), Bsn::parse("111222333").value());
}

void BM_ParticipantIndex(benchmark::State& state) {
  const Bsn bsn = Bsn::parse("111222333").value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(participant_index(keys().participant_index_key(), bsn));
  }
}
BENCHMARK(BM_ParticipantIndex);

void BM_Pseudonym(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  for (auto _ : state) {
    benchmark::DoNotOptimize(pseudonym(keys().pseudonym_key(), "project-werkfit", p));
  }
}
BENCHMARK(BM_Pseudonym);

void BM_PseudonymInOpenDomain(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  const auto domain = PseudonymDomain::open(keys().pseudonym_key(), "project-werkfit").value();
  for (auto _ : state) benchmark::DoNotOptimize(domain.pseudonym(p));
}
BENCHMARK(BM_PseudonymInOpenDomain);

void BM_ResolvePseudonym(benchmark::State& state) {
  const Pseudonym ps =
      pseudonym(keys().pseudonym_key(), "project-werkfit", some_participant()).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(resolve(keys().pseudonym_key(), "project-werkfit", ps));
  }
}
BENCHMARK(BM_ResolvePseudonym);

void BM_AuditPseudonym(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  for (auto _ : state) benchmark::DoNotOptimize(audit_pseudonym(keys().audit_pseudonym_key(), p));
}
BENCHMARK(BM_AuditPseudonym);

void BM_SealRecord1KiB(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  const DataKey key = DataKey::generate().value();
  const std::vector<std::uint8_t> record(1024, 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(seal_record(key, {"rec-123456", p, "referral"}, record));
  }
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_SealRecord1KiB);

void BM_OpenRecord1KiB(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  const DataKey key = DataKey::generate().value();
  const auto sealed =
      seal_record(key, {"rec-123456", p, "referral"}, std::vector<std::uint8_t>(1024, 'x')).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(open_record(key, {"rec-123456", p, "referral"}, sealed));
  }
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_OpenRecord1KiB);

// The per-record crypto of a disclosure of a 1 KiB record: open it, pseudonymise its
// participant for the receiving organisation (whose domain is opened once per batch).
void BM_DisclosureOpenPlusPseudonym(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  const DataKey key = DataKey::generate().value();
  const auto domain = PseudonymDomain::open(keys().pseudonym_key(), "project-werkfit").value();
  const auto sealed =
      seal_record(key, {"rec-123456", p, "referral"}, std::vector<std::uint8_t>(1024, 'x')).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(open_record(key, {"rec-123456", p, "referral"}, sealed));
    benchmark::DoNotOptimize(domain.pseudonym(p));
  }
}
BENCHMARK(BM_DisclosureOpenPlusPseudonym);

void BM_UnwrapDataKey(benchmark::State& state) {
  const ParticipantIndex p = some_participant();
  const auto wrapped = wrap_data_key(keys().keks(), p, DataKey::generate().value()).value();
  for (auto _ : state) benchmark::DoNotOptimize(unwrap_data_key(keys().keks(), p, wrapped));
}
BENCHMARK(BM_UnwrapDataKey);

void BM_Sign(benchmark::State& state) {
  const std::string checkpoint =
      "brug.example/log\n1000000\nq83vEjRFZ4mrze8SNFZ4mrze8SNFZ4mrze8SNFZ4mg=\n";
  for (auto _ : state) benchmark::DoNotOptimize(keys().signing_key().sign(bytes_of(checkpoint)));
}
BENCHMARK(BM_Sign);

void BM_Verify(benchmark::State& state) {
  const std::string checkpoint =
      "brug.example/log\n1000000\nq83vEjRFZ4mrze8SNFZ4mrze8SNFZ4mrze8SNFZ4mg=\n";
  const Signature sig = keys().signing_key().sign(bytes_of(checkpoint));
  for (auto _ : state) {
    benchmark::DoNotOptimize(keys().signing_key().verify_key().verify(bytes_of(checkpoint), sig));
  }
}
BENCHMARK(BM_Verify);

// The audit log hashes every leaf (about 450 bytes of JSON) with SHA-256: through OpenSSL,
// which uses the CPU's SHA extensions where there are any.
void BM_MerkleLeafHash450(benchmark::State& state) {
  const std::vector<std::uint8_t> leaf(450, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(brug::crypto::merkle_leaf_hash(leaf));
}
BENCHMARK(BM_MerkleLeafHash450);

void BM_MerkleAppendAndRoot(benchmark::State& state) {
  MemoryMerkleTree tree;
  const std::string event = "{\"type\":\"disclosure\",\"record\":\"rec-123456\"}";
  for (auto _ : state) {
    tree.append(bytes_of(event));
    benchmark::DoNotOptimize(tree.root());
  }
}
BENCHMARK(BM_MerkleAppendAndRoot);

const MemoryMerkleTree& million_leaf_tree() {
  static const MemoryMerkleTree tree = [] {
    MemoryMerkleTree t;
    for (std::uint64_t i = 0; i < 1'000'000; ++i) t.append(bytes_of(std::to_string(i)));
    return t;
  }();
  return tree;
}

void BM_MerkleInclusionProof1M(benchmark::State& state) {
  const MemoryMerkleTree& t = million_leaf_tree();
  std::uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(inclusion_proof(t, i, t.size()));
    i = (i + 7919) % t.size();
  }
}
BENCHMARK(BM_MerkleInclusionProof1M);

void BM_MerkleVerifyInclusion1M(benchmark::State& state) {
  const MemoryMerkleTree& t = million_leaf_tree();
  const auto proof = inclusion_proof(t, 123457, t.size()).value();
  const Sha256Digest leaf = t.perfect_subtree_hash(0, 123457).value();
  const Sha256Digest root = t.root();
  for (auto _ : state) {
    benchmark::DoNotOptimize(verify_inclusion(leaf, 123457, t.size(), proof, root));
  }
}
BENCHMARK(BM_MerkleVerifyInclusion1M);

void BM_MerkleConsistencyProof1M(benchmark::State& state) {
  const MemoryMerkleTree& t = million_leaf_tree();
  for (auto _ : state) benchmark::DoNotOptimize(consistency_proof(t, 654321, t.size()));
}
BENCHMARK(BM_MerkleConsistencyProof1M);

}  // namespace
}  // namespace brug::crypto
