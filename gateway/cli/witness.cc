#include "gateway/cli/witness.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/audit/tlog.h"
#include "gateway/http/client.h"

namespace brug::gateway {

const char* const kWitnessUsage =
    "brug audit witness-key --out FILE\n"
    "       brug audit witness --config FILE [--as ORG] --key FILE --name NAME --log-key HEX "
    "--state FILE";

namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(Code::kNotFound, path + ": cannot read");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<crypto::SigningKey> load_key(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.status();
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto bytes = crypto::from_hex(hex, "witness key");
  if (!bytes || bytes->size() != crypto::SigningSeed::kSize) {
    return Status::error(Code::kInvalidArgument, path + ": not a witness key (64 hex digits)");
  }
  auto secret = crypto::SecretBytes::copy_of(*bytes);
  if (!secret) return secret.status();
  auto seed = crypto::SigningSeed::from_secret(std::move(secret).value());
  if (!seed) return seed.status();
  return crypto::SigningKey::from_seed(*seed);
}

int new_key(const Args& args, std::ostream& out, std::ostream& err) {
  auto seed = crypto::SigningSeed::generate();
  if (!seed) {
    err << "brug: " << seed.message() << "\n";
    return 1;
  }
  auto key = crypto::SigningKey::from_seed(*seed);
  const std::string path = args.get("out");
  {
    std::ofstream f(path, std::ios::trunc);
    f << crypto::to_hex(seed->expose()) << "\n";
    if (!f) {
      err << "brug: " << path << ": cannot write\n";
      return 1;
    }
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  out << key->verify_key().to_hex() << "  (the witness's public key, for audit.witnesses)\n";
  return 0;
}

struct Seen {
  std::string origin;
  CheckpointBody body;
};

// Refuses unless `now` extends `before`: not smaller, the same root at the same size, and a
// consistency proof from the gateway that verifies.
Status check_consistency(GatewayClient& client, const CheckpointBody& before,
                         const CheckpointBody& now) {
  if (now.origin != before.origin) return Status::error(Code::kCorrupt, "the origin changed");
  if (now.size < before.size) {
    return Status::error(Code::kCorrupt, "the log shrank from " + std::to_string(before.size) +
                                             " to " + std::to_string(now.size));
  }
  if (now.size == before.size) {
    if (now.root != before.root) {
      return Status::error(Code::kCorrupt, "another root for size " + std::to_string(now.size));
    }
    return Status::ok();
  }
  auto reply =
      client.json_call("GET", "/v1/audit/proof/consistency?from=" + std::to_string(before.size) +
                                  "&to=" + std::to_string(now.size));
  if (!reply) return reply.status();
  std::vector<crypto::Sha256Digest> proof;
  for (const auto& h : (*reply)["proof"]) {
    auto d = crypto::fixed_from_hex<32>(h.get<std::string>(), "proof hash");
    if (!d) return d.status();
    proof.push_back(*d);
  }
  if (!crypto::verify_consistency(before.size, now.size, before.root, now.root, proof).is_ok()) {
    return Status::error(Code::kCorrupt,
                         "checkpoint " + std::to_string(now.size) + " is not consistent with " +
                             std::to_string(before.size) + ": the history was rewritten");
  }
  return Status::ok();
}

int witness(const Args& args, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& why, int code = 1) {
    err << "brug: " << why << "\n";
    return code;
  };
  auto config = load_config(args.get("config"));
  if (!config) return fail(config.message());
  auto key = load_key(args.get("key"));
  if (!key) return fail(key.message());
  auto log_key = crypto::VerifyKey::from_hex(args.get("log-key"));
  if (!log_key) return fail("--log-key: " + log_key.message(), 2);
  const std::string name = args.get("name");
  if (!valid_note_key_name(name)) return fail("--name: printable ASCII without spaces or '+'", 2);

  GatewayClient client(dev_identity(*config, args.get("as", "fg-oude-ijsselstreek")));
  auto reply = client.call("GET", "/v1/audit/log/checkpoint");
  if (!reply) return fail(reply.message());
  if (reply->status != 200) return fail("the checkpoint: status " + std::to_string(reply->status));
  auto note = parse_note(reply->body);
  if (!note) return fail("the checkpoint: " + note.message());
  auto body = parse_checkpoint_body(note->body);
  if (!body) return fail("the checkpoint: " + body.message());
  if (auto s = verify_note(*note, body->origin, *log_key); !s.is_ok()) {
    return fail("witness refuses: the checkpoint is not signed by the log's key: " + s.message());
  }
  const std::string state = args.get("state");
  if (std::filesystem::exists(state)) {
    auto kept = read_file(state);
    if (!kept) return fail(kept.message());
    auto kept_note = parse_note(*kept);
    auto kept_body = kept_note ? parse_checkpoint_body(kept_note->body)
                               : Result<CheckpointBody>(kept_note.status());
    if (!kept_body) return fail(state + ": " + kept_body.message());
    if (auto s = check_consistency(client, *kept_body, *body); !s.is_ok()) {
      return fail("witness refuses: " + s.message());
    }
  }
  const auto now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const std::string line = cosignature_line(note->body, name, now, *key);
  const nlohmann::json post = {{"size", body->size}, {"cosignature", line}};
  auto stored = client.json_call("POST", "/v1/audit/log/cosignature", &post);
  if (!stored) return fail("the gateway did not take the cosignature: " + stored.message());
  {
    std::ofstream f(state + ".new", std::ios::trunc);
    f << reply->body;
    if (!f) return fail(state + ": cannot write");
  }
  std::filesystem::rename(state + ".new", state);
  out << "cosigned checkpoint " << body->size << " of " << body->origin << " as " << name << "\n";
  return 0;
}

}  // namespace

int run_witness(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& why) {
    err << "brug: " << why << "\nusage: " << kWitnessUsage << "\n";
    return 2;
  };
  auto args = parse_args({argv.begin() + 1, argv.end()},
                         {"config", "as", "key", "name", "log-key", "state", "out"}, {});
  if (!args) return usage(args.message());
  if (argv[0] == "witness-key") {
    if (!args->options.contains("out")) return usage("witness-key needs --out FILE");
    return new_key(*args, out, err);
  }
  for (const char* o : {"config", "key", "name", "log-key", "state"}) {
    if (!args->options.contains(o)) return usage(std::string("witness needs --") + o);
  }
  return witness(*args, out, err);
}

}  // namespace brug::gateway
