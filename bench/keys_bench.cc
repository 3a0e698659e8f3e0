// KEK rotation (`brug keys rotate`) over a real SQLite file: re-wrapped keys per second in
// batches of 1000, and the count by KEK version that a gateway's start and the rotation ask.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "adapters/stores.h"
#include "crypto/bsn.h"
#include "crypto/envelope.h"
#include "crypto/keydir.h"
#include "gateway/app/config.h"
#include "gateway/cli/keys_command.h"

namespace {

namespace fs = std::filesystem;

// A database of `n` participants with keys wrapped under the key directory's KEK.
struct Setup {
  fs::path dir;
  std::unique_ptr<brug::adapters::Database> db;

  explicit Setup(std::int64_t n)
      : dir(fs::temp_directory_path() / ("brug-keys-bench-" + std::to_string(n))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (!brug::crypto::KeyDir::create(keys()).is_ok()) std::abort();
    auto keydir = brug::crypto::KeyDir::load(keys()).value();
    db = std::move(
        brug::adapters::open_sqlite({.path = (dir / "b.db").string(), .synchronous_full = false})
            .value());
    const std::int64_t kChunk = 10000;
    for (std::int64_t first = 0; first < n; first += kChunk) {
      const brug::Status s = db->write([&](brug::adapters::Stores& st) -> brug::Status {
        for (std::int64_t i = first; i < std::min(n, first + kChunk); ++i) {
          std::array<std::uint8_t, 32> raw{};
          for (int b = 0; b < 8; ++b) raw[b] = static_cast<std::uint8_t>(i >> (8 * b));
          auto index = brug::crypto::ParticipantIndex::from_bytes(raw).value();
          auto key = brug::crypto::DataKey::generate().value();
          auto wrapped = brug::crypto::wrap_data_key(keydir.keks(), index, key).value();
          const auto& bytes = wrapped.bytes();
          BRUG_RETURN_IF_ERROR(st.exchange.put_participant(
              {index.to_hex(), brug::adapters::Blob(bytes.begin(), bytes.end()),
               brug::adapters::Blob(64, 0x5a)},
              "2026-12-01T00:00:00Z"));
        }
        return brug::Status::ok();
      });
      if (!s.is_ok()) std::abort();
    }
  }
  ~Setup() { fs::remove_all(dir); }
  std::string keys() const { return (dir / "keys").string(); }
};

void BM_RotateKeks(benchmark::State& state) {
  Setup setup(state.range(0));
  for (auto _ : state) {
    auto report = brug::gateway::rotate_keks(*setup.db, setup.keys(), 1000);
    if (!report || report->rewrapped != state.range(0)) {
      state.SkipWithError("rotation failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RotateKeks)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_KekVersionsInUse(benchmark::State& state) {
  Setup setup(state.range(0));
  for (auto _ : state) {
    auto versions = brug::gateway::kek_versions_in_use(*setup.db);
    if (!versions || versions->size() != 1) {
      state.SkipWithError("count failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_KekVersionsInUse)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
