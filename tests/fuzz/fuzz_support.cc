#include "tests/fuzz/fuzz_support.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace brug::fuzz {

const Catalogue& shipped_catalogue() {
  static const Catalogue catalogue = [] {
    auto c = Catalogue::load(BRUG_SOURCE_DIR "/policies/catalogue.json");
    if (!c) finding("cannot load the shipped catalogue");
    return std::move(c).value();
  }();
  return catalogue;
}

std::string scratch_file(std::string_view name, std::string_view bytes) {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp") +
                       std::string("/brug-fuzz-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) finding("cannot create a scratch folder");
    return std::filesystem::path(tmpl);
  }();
  const std::filesystem::path path = dir / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) finding("cannot write a scratch file");
  return path.string();
}

}  // namespace brug::fuzz
