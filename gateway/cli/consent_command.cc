#include "gateway/cli/consent_command.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/formats/fhir_consent.h"
#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/http/client.h"
#include "policies/vocabulary.h"

namespace brug::gateway {

const char* const kConsentUsage =
    "brug consent import --fhir FILE --config FILE [--as ORG] [--bsn BSN]\n"
    "  (a gemeente or participatiebedrijf names the person with --bsn; a project's\n"
    "   Consent.patient is Patient/<its own pseudonym>)";

namespace {

int import_fhir(const Args& args, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& why) {
    err << "brug: " << why << "\n";
    return 1;
  };
  std::ifstream in(args.get("fhir"), std::ios::binary);
  if (!in) return fail(args.get("fhir") + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  const auto resource = nlohmann::json::parse(text.str(), nullptr, false);
  if (resource.is_discarded()) return fail(args.get("fhir") + ": not JSON");
  auto parsed = adapters::from_fhir_consent(resource);
  if (!parsed) return fail(args.get("fhir") + ": " + parsed.message());
  if (!parsed->active || parsed->withdrawal) {
    return fail(args.get("fhir") + ": Consent.status: only an active consent can be recorded");
  }
  nlohmann::json subject;
  if (args.options.contains("bsn")) {
    subject = {{"bsn", args.get("bsn")}};
  } else {
    const std::string prefix = "Patient/";
    if (!parsed->patient_reference.starts_with(prefix)) {
      return fail("Consent.patient.reference: Patient/<pseudonym> expected, or give --bsn");
    }
    subject = {{"pseudonym", parsed->patient_reference.substr(prefix.size())}};
  }
  const consent::NewConsent& c = parsed->consent;
  const nlohmann::json body = {{"subject", subject},
                               {"grantee", c.grantee},
                               {"purpose", std::string(to_string(c.purpose))},
                               {"categories", c.categories},
                               {"valid_from", c.valid_from.to_string()},
                               {"valid_until", c.valid_until.to_string()},
                               {"evidence",
                                {{"method", std::string(consent::to_string(c.evidence.method))},
                                 {"reference", c.evidence.reference}}}};
  auto config = load_config(args.get("config"));
  if (!config) return fail(config.message());
  GatewayClient client(dev_identity(*config, args.get("as", "gemeente-oude-ijsselstreek")));
  auto stored = client.json_call("POST", "/v1/consents", &body);
  if (!stored) return fail(stored.message());
  out << "recorded consent " << (*stored)["id"].get<std::string>() << " for " << c.grantee << " ("
      << to_string(c.purpose) << ")\n";
  return 0;
}

}  // namespace

int run_consent(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& why) {
    err << "brug: " << why << "\nusage: " << kConsentUsage << "\n";
    return 2;
  };
  if (argv.empty() || argv[0] != "import") return usage("consent needs import");
  auto args = parse_args({argv.begin() + 1, argv.end()}, {"fhir", "config", "as", "bsn"}, {});
  if (!args) return usage(args.message());
  if (!args->options.contains("fhir") || !args->options.contains("config")) {
    return usage("consent import needs --fhir FILE --config FILE");
  }
  return import_fhir(*args, out, err);
}

}  // namespace brug::gateway
