#include "crypto/keydir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace brug::crypto {
namespace {

static_assert(kKeyBytes == crypto_kdf_KEYBYTES);
static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kKeyBytes >= crypto_generichash_KEYBYTES_MIN &&
              kKeyBytes <= crypto_generichash_KEYBYTES_MAX);

// Each purpose key has its own crypto_kdf context (8 bytes); the subkey id is 1 for all, so a
// second generation of a purpose key would take id 2 in the same context.
constexpr char kParticipantIndexContext[crypto_kdf_CONTEXTBYTES + 1] = "brugpidx";
constexpr char kPseudonymContext[crypto_kdf_CONTEXTBYTES + 1] = "brugpsdn";
constexpr char kAuditPseudonymContext[crypto_kdf_CONTEXTBYTES + 1] = "brugaudp";
constexpr char kReportNoiseContext[crypto_kdf_CONTEXTBYTES + 1] = "brugrepn";
constexpr std::uint64_t kSubkeyId = 1;

std::string join(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

std::string errno_text() { return std::strerror(errno); }

// Closes a file descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

template <class Key, const char* kContext>
Result<Key> derive(const RootKey& root) {
  auto sub = SecretBytes::zeroed(Key::kSize);
  if (!sub.is_ok()) return sub.status();
  if (crypto_kdf_derive_from_key(sub->expose_mutable().data(), Key::kSize, kSubkeyId, kContext,
                                 root.expose().data()) != 0) {
    return Status::error(Code::kInternal, "key derivation failed");
  }
  return Key::from_secret(std::move(sub).value());
}

Result<SecretBytes> read_key_file(const std::string& path, std::size_t size) {
  Fd f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ENOENT) return Status::error(Code::kNotFound, "key file " + path + " is missing");
    if (errno == ELOOP) {
      return Status::error(Code::kPermissionDenied, "key file " + path + " is a symbolic link");
    }
    return Status::error(Code::kIo, "cannot open key file " + path + ": " + errno_text());
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    return Status::error(Code::kIo, "cannot stat key file " + path + ": " + errno_text());
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::error(Code::kPermissionDenied, "key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::error(Code::kPermissionDenied, "key file " + path +
                                                      " is accessible by group or others (mode " +
                                                      mode + "); it must be 0600");
  }
  if (static_cast<std::uint64_t>(st.st_size) != size) {
    return Status::error(Code::kCorrupt, "key file " + path + " has " + std::to_string(st.st_size) +
                                             " bytes, expected " + std::to_string(size) +
                                             " (truncated or not a key)");
  }
  auto out = SecretBytes::zeroed(size);
  if (!out.is_ok()) return out.status();
  std::size_t done = 0;
  auto buf = out->expose_mutable();
  while (done < size) {
    ssize_t n = ::read(f.fd, buf.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(Code::kIo, "cannot read key file " + path);
    done += static_cast<std::size_t>(n);
  }
  return out;
}

Status write_key_file(const std::string& path, std::span<const std::uint8_t> bytes) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (f.fd < 0) {
    if (errno == EEXIST) {
      return Status::error(Code::kAlreadyExists, "key file " + path + " exists already");
    }
    return Status::error(Code::kIo, "cannot create key file " + path + ": " + errno_text());
  }
  if (::fchmod(f.fd, 0600) != 0) {
    return Status::error(Code::kIo, "cannot chmod key file " + path + ": " + errno_text());
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(Code::kIo, "cannot write key file " + path);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) {
    return Status::error(Code::kIo, "cannot sync key file " + path + ": " + errno_text());
  }
  return Status::ok();
}

// Where add_kek_version writes a new KEK before renaming it into place. Not "kek."-prefixed,
// so a leftover from a crash does not fail the load; the next add_kek_version replaces it.
constexpr const char* kNewKekFile = ".kek.new";

Status sync_dir(const std::string& dir) {
  Fd f{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (f.fd < 0 || ::fsync(f.fd) != 0) {
    return Status::error(Code::kIo, "cannot sync key dir " + dir + ": " + errno_text());
  }
  return Status::ok();
}

// The key dir must be a directory that only its owner can change.
Status check_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::error(Code::kNotFound, "key dir " + dir + " is missing");
    return Status::error(Code::kIo, "cannot stat key dir " + dir + ": " + errno_text());
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::error(Code::kFailedPrecondition, "key dir " + dir + " is not a directory");
  }
  if ((st.st_mode & 022) != 0) {
    return Status::error(Code::kPermissionDenied,
                         "key dir " + dir + " is writable by group or others; it must be 0700");
  }
  return Status::ok();
}

// Parses "kek.<N>" with N a canonical decimal in 1..2^32-1; 0 if the name is not one.
std::uint32_t kek_version_of(std::string_view name) {
  std::string_view prefix = KeyDir::kKekPrefix;
  if (name.substr(0, prefix.size()) != prefix) return 0;
  std::string_view digits = name.substr(prefix.size());
  if (digits.empty() || digits[0] == '0') return 0;
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return v;
}

Result<KekRing> load_keks(const std::string& dir) {
  std::vector<std::uint32_t> versions;
  {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      return Status::error(Code::kIo, "cannot list key dir " + dir + ": " + errno_text());
    }
    while (const dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name.substr(0, std::string_view(KeyDir::kKekPrefix).size()) != KeyDir::kKekPrefix) {
        continue;
      }
      std::uint32_t v = kek_version_of(name);
      if (v == 0) {
        // Build the message before closedir: `name` points into the DIR's buffer.
        Status bad =
            Status::error(Code::kCorrupt, "unexpected file " + join(dir, name) +
                                              " in key dir (KEK files are kek.1, kek.2, ...)");
        ::closedir(d);
        return bad;
      }
      versions.push_back(v);
    }
    ::closedir(d);
  }
  if (versions.empty()) {
    return Status::error(Code::kNotFound,
                         "key dir " + dir + " has no key-encryption key (kek.1 is missing)");
  }
  KekRing ring;
  for (std::uint32_t v : versions) {
    std::string path = join(dir, KeyDir::kKekPrefix + std::to_string(v));
    auto bytes = read_key_file(path, Kek::kSize);
    if (!bytes.is_ok()) return bytes.status();
    auto kek = Kek::from_secret(std::move(bytes).value());
    if (!kek.is_ok()) return kek.status();
    BRUG_RETURN_IF_ERROR(ring.add(v, std::move(kek).value()));
  }
  return ring;
}

// Creates `dir` 0700, or accepts an existing empty one (e.g. from mkdtemp) and makes it 0700.
Status make_empty_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return Status::ok();
  if (errno != EEXIST) {
    return Status::error(Code::kIo, "cannot create key dir " + dir + ": " + errno_text());
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Status::error(Code::kAlreadyExists, dir + " exists and is not a usable directory");
  }
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  if (!empty) {
    return Status::error(Code::kAlreadyExists,
                         "key dir " + dir + " exists and is not empty; refusing to overwrite keys");
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return Status::error(Code::kIo, "cannot chmod key dir " + dir + ": " + errno_text());
  }
  return Status::ok();
}

}  // namespace

Status KekRing::add(std::uint32_t version, Kek kek) {
  if (version == 0) return Status::error(Code::kInvalidArgument, "KEK versions start at 1");
  if (keks_.contains(version)) {
    return Status::error(Code::kAlreadyExists,
                         "KEK version " + std::to_string(version) + " exists already");
  }
  keks_.emplace(version, std::move(kek));
  return Status::ok();
}

const Kek* KekRing::find(std::uint32_t version) const {
  auto it = keks_.find(version);
  return it == keks_.end() ? nullptr : &it->second;
}

std::vector<std::uint32_t> KekRing::versions() const {
  std::vector<std::uint32_t> out;
  for (const auto& [v, _] : keks_) out.push_back(v);
  return out;
}

Result<KeyDir> KeyDir::from_material(const RootKey& root, KekRing keks, SigningKey signing) {
  auto pidx = derive<ParticipantIndexKey, kParticipantIndexContext>(root);
  if (!pidx.is_ok()) return pidx.status();
  auto pseudonym = derive<PseudonymKey, kPseudonymContext>(root);
  if (!pseudonym.is_ok()) return pseudonym.status();
  auto audit = derive<AuditPseudonymKey, kAuditPseudonymContext>(root);
  if (!audit.is_ok()) return audit.status();
  auto noise = derive<ReportNoiseKey, kReportNoiseContext>(root);
  if (!noise.is_ok()) return noise.status();
  return KeyDir(std::move(pidx).value(), std::move(pseudonym).value(), std::move(audit).value(),
                std::move(noise).value(), std::move(keks), std::move(signing));
}

Status KeyDir::create(const std::string& dir) {
  BRUG_RETURN_IF_ERROR(init());
  auto root = RootKey::generate();
  auto kek = Kek::generate();
  auto seed = SigningSeed::generate();
  if (!root.is_ok()) return root.status();
  if (!kek.is_ok()) return kek.status();
  if (!seed.is_ok()) return seed.status();
  BRUG_RETURN_IF_ERROR(make_empty_dir(dir));
  BRUG_RETURN_IF_ERROR(write_key_file(join(dir, kRootFile), root->expose()));
  BRUG_RETURN_IF_ERROR(write_key_file(join(dir, kSigningFile), seed->expose()));
  BRUG_RETURN_IF_ERROR(write_key_file(join(dir, std::string(kKekPrefix) + "1"), kek->expose()));
  return sync_dir(dir);
}

Result<KeyDir> KeyDir::load(const std::string& dir) {
  BRUG_RETURN_IF_ERROR(init());
  BRUG_RETURN_IF_ERROR(check_dir(dir));
  auto root_bytes = read_key_file(join(dir, kRootFile), RootKey::kSize);
  if (!root_bytes.is_ok()) return root_bytes.status();
  auto root = RootKey::from_secret(std::move(root_bytes).value());
  if (!root.is_ok()) return root.status();

  auto seed_bytes = read_key_file(join(dir, kSigningFile), SigningSeed::kSize);
  if (!seed_bytes.is_ok()) return seed_bytes.status();
  auto seed = SigningSeed::from_secret(std::move(seed_bytes).value());
  if (!seed.is_ok()) return seed.status();
  auto signing = SigningKey::from_seed(*seed);
  if (!signing.is_ok()) return signing.status();

  auto keks = load_keks(dir);
  if (!keks.is_ok()) return keks.status();
  return from_material(*root, std::move(keks).value(), std::move(signing).value());
}

Result<std::uint32_t> KeyDir::add_kek_version(const std::string& dir) {
  auto current = load(dir);  // checks the whole dir before adding to it
  if (!current.is_ok()) return current.status();
  std::uint32_t next = current->keks().current_version() + 1;
  if (next == 0) return Status::error(Code::kFailedPrecondition, "KEK versions exhausted");
  auto kek = Kek::generate();
  if (!kek.is_ok()) return kek.status();
  const std::string aside = join(dir, kNewKekFile);
  const std::string path = join(dir, std::string(kKekPrefix) + std::to_string(next));
  if (::unlink(aside.c_str()) != 0 && errno != ENOENT) {
    return Status::error(Code::kIo, "cannot remove " + aside + ": " + errno_text());
  }
  BRUG_RETURN_IF_ERROR(write_key_file(aside, kek->expose()));
  // link() (not rename) so that a kek.<next> that appeared meanwhile is never replaced.
  if (::link(aside.c_str(), path.c_str()) != 0) {
    return Status::error(errno == EEXIST ? Code::kAlreadyExists : Code::kIo,
                         "cannot create key file " + path + ": " + errno_text());
  }
  ::unlink(aside.c_str());
  BRUG_RETURN_IF_ERROR(sync_dir(dir));
  return next;
}

Status KeyDir::remove_kek_version(const std::string& dir, std::uint32_t version) {
  BRUG_RETURN_IF_ERROR(check_dir(dir));
  auto keks = load_keks(dir);
  if (!keks.is_ok()) return keks.status();
  const std::string path = join(dir, std::string(kKekPrefix) + std::to_string(version));
  if (keks->find(version) == nullptr) {
    return Status::error(Code::kNotFound, "key file " + path + " is missing");
  }
  if (version == keks->current_version()) {
    return Status::error(Code::kFailedPrecondition,
                         "key file " + path + " is the current KEK; it is never removed");
  }
  if (::unlink(path.c_str()) != 0) {
    return Status::error(Code::kIo, "cannot remove key file " + path + ": " + errno_text());
  }
  return sync_dir(dir);
}

Result<KeyDirLock> KeyDirLock::acquire(const std::string& dir, Mode mode) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::error(Code::kNotFound, "key dir " + dir + " is missing");
    return Status::error(Code::kIo, "cannot open key dir " + dir + ": " + errno_text());
  }
  KeyDirLock lock(fd);
  const int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return Status::error(
          Code::kFailedPrecondition,
          mode == Mode::kShared
              ? "key dir " + dir + " is locked by `brug keys rotate`; start after it finished"
              : "key dir " + dir +
                    " is in use by a running gateway (or another brug keys rotate); stop it first");
    }
    return Status::error(Code::kIo, "cannot lock key dir " + dir + ": " + errno_text());
  }
  return lock;
}

KeyDirLock& KeyDirLock::operator=(KeyDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

KeyDirLock::~KeyDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<KeyDir> KeyDir::ephemeral() {
  auto root = RootKey::generate();
  if (!root.is_ok()) return root.status();
  auto kek = Kek::generate();
  if (!kek.is_ok()) return kek.status();
  auto signing = SigningKey::generate();
  if (!signing.is_ok()) return signing.status();
  KekRing ring;
  BRUG_RETURN_IF_ERROR(ring.add(1, std::move(kek).value()));
  return from_material(*root, std::move(ring), std::move(signing).value());
}

}  // namespace brug::crypto
