#include "gateway/portal/audit_check.h"

#include <filesystem>
#include <fstream>

#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"
#include "gateway/audit/audit_log.h"

namespace brug::portal {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

Result<gateway::Checkpoint> fetch_checkpoint(gateway::GatewayClient& client) {
  auto answer = client.json_call("GET", "/v1/audit/checkpoint");
  if (!answer) return answer.status();
  const json& a = *answer;
  if (!a.is_object() || !a.contains("size") || !a["size"].is_number_unsigned()) {
    return Status::error(Code::kInternal, "the gateway's checkpoint has no size");
  }
  gateway::Checkpoint c;
  c.size = a["size"].get<std::uint64_t>();
  c.root = a.value("root", "");
  c.time = a.value("time", "");
  c.key_id = a.value("key_id", "");
  c.signature = a.value("signature", "");
  return c;
}

Status verify_signature(const gateway::Checkpoint& c, const std::string& public_key_hex) {
  auto key = crypto::VerifyKey::from_hex(public_key_hex);
  if (!key) return key.status();
  auto id = crypto::KeyId::parse(c.key_id);
  if (!id) return id.status();
  auto sig = crypto::Signature::from_hex(*id, c.signature);
  if (!sig) return sig.status();
  return key->verify(crypto::bytes_of(gateway::checkpoint_bytes(c)), *sig);
}

Result<crypto::Sha256Digest> digest(const std::string& hex) {
  return crypto::fixed_from_hex<32>(hex, "root");
}

}  // namespace

Result<json> check_log_state(gateway::GatewayClient& client, LocalStore& store,
                             const std::string& public_key_hex) {
  auto c = fetch_checkpoint(client);
  if (!c) return c.status();
  json out = {{"size", c->size},
              {"root", c->root},
              {"time", c->time},
              {"kept_size", nullptr},
              {"consistent", nullptr}};
  const Status signature = verify_signature(*c, public_key_hex);
  out["signature_valid"] = signature.is_ok();
  if (!signature.is_ok()) {
    out["verdict"] =
        "De handtekening onder het controlepunt klopt niet met de sleutel van de "
        "gateway. Vertrouw dit logboek niet en meld het.";
    return out;
  }
  const auto kept_text = store.meta("audit_checkpoint");
  const json kept = kept_text ? json::parse(*kept_text, nullptr, false) : json();
  bool consistent = true;
  if (kept.is_object() && kept.contains("size") && kept["size"].is_number_unsigned()) {
    const auto old_size = kept["size"].get<std::uint64_t>();
    out["kept_size"] = old_size;
    auto old_root = digest(kept.value("root", ""));
    auto new_root = digest(c->root);
    if (!old_root || !new_root || old_size > c->size) {
      consistent = false;
    } else if (old_size == c->size) {
      consistent = *old_root == *new_root;
    } else {
      auto proof =
          client.json_call("GET", "/v1/audit/proof/consistency?from=" + std::to_string(old_size) +
                                      "&to=" + std::to_string(c->size));
      if (!proof) return proof.status();
      std::vector<crypto::Sha256Digest> path;
      if (proof->contains("proof") && (*proof)["proof"].is_array()) {
        for (const json& h : (*proof)["proof"]) {
          auto d = h.is_string()
                       ? digest(h.get<std::string>())
                       : Result<crypto::Sha256Digest>(Status::error(Code::kCorrupt, "proof"));
          if (!d) {
            consistent = false;
            break;
          }
          path.push_back(*d);
        }
      }
      if (consistent) {
        consistent =
            crypto::verify_consistency(old_size, c->size, *old_root, *new_root, path).is_ok();
      }
    }
    out["consistent"] = consistent;
  }
  if (consistent) {
    BRUG_RETURN_IF_ERROR(
        store.set_meta("audit_checkpoint", json{{"size", c->size}, {"root", c->root}}.dump()));
    out["verdict"] = out["kept_size"].is_null()
                         ? "Controlepunt ondertekend door de gateway en bewaard voor de volgende "
                           "controle."
                         : "In orde: het logboek is alleen aangevuld sinds het vorige "
                           "controlepunt; niets is gewijzigd of verwijderd.";
  } else {
    out["verdict"] =
        "NIET in orde: het logboek past niet bij het controlepunt dat dit portaal "
        "eerder bewaarde. De geschiedenis is veranderd; meld dit.";
  }
  return out;
}

Result<json> export_and_verify(gateway::GatewayClient& client, const std::string& public_key_hex,
                               const std::string& work_dir) {
  auto c = fetch_checkpoint(client);
  if (!c) return c.status();
  std::error_code ec;
  fs::remove_all(work_dir, ec);
  fs::create_directories(work_dir, ec);
  if (ec) return Status::error(Code::kIo, work_dir + ": cannot create the export folder");
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{work_dir};
  {
    std::ofstream entries(fs::path(work_dir) / "entries.jsonl", std::ios::trunc);
    for (std::uint64_t start = 0; start < c->size; start += 1000) {
      const std::uint64_t end = std::min<std::uint64_t>(c->size, start + 1000);
      auto page = client.json_call("GET", "/v1/audit/entries?start=" + std::to_string(start) +
                                              "&end=" + std::to_string(end));
      if (!page) return page.status();
      if (!page->contains("entries") || !(*page)["entries"].is_array()) {
        return Status::error(Code::kInternal, "the gateway's entries page has no list");
      }
      for (const json& e : (*page)["entries"]) {
        if (!e.is_string()) return Status::error(Code::kCorrupt, "an entry is not text");
        auto leaf = crypto::from_base64url(e.get<std::string>(), "entry");
        if (!leaf) return leaf.status();
        entries.write(reinterpret_cast<const char*>(leaf->data()),
                      static_cast<std::streamsize>(leaf->size()));
        entries << "\n";
      }
    }
    std::ofstream(fs::path(work_dir) / "checkpoints.json", std::ios::trunc)
        << json::array({{{"size", c->size},
                         {"root", c->root},
                         {"time", c->time},
                         {"key_id", c->key_id},
                         {"signature", c->signature}}})
               .dump();
    if (!entries) return Status::error(Code::kIo, work_dir + ": cannot write the export");
  }
  const Status s = gateway::verify_audit_export(work_dir, public_key_hex);
  json out = {{"verified", s.is_ok()}, {"entries", c->size}, {"time", c->time}};
  out["verdict"] = s.is_ok() ? "In orde: alle " + std::to_string(c->size) +
                                   " gebeurtenissen staan op hun plaats, de handtekening van de "
                                   "gateway klopt en niets is gewijzigd."
                             : "NIET in orde: " + s.message();
  return out;
}

}  // namespace brug::portal
