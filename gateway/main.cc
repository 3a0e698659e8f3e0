// The `brug` command: one binary, one subcommand per job. Exit codes: 0 success, 1 the work
// failed (the message says why, naming the file), 2 the command line was wrong.
#include <signal.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>

#include "gateway/args.h"
#include "gateway/config.h"
#include "gateway/init.h"
#include "gateway/server.h"

namespace brug::gateway {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Command {
  const char* summary;
  const char* usage;
  std::function<int(const std::vector<std::string>&)> run;
};

int usage_error(const std::string& message, const char* usage) {
  std::cerr << "brug: " << message << "\nusage: " << usage << "\n";
  return kUsage;
}

int failed(const Status& s) {
  std::cerr << "brug: " << s.message() << "\n";
  return kFailed;
}

int cmd_init(const std::vector<std::string>& argv, const char* usage) {
  auto args = parse_args(argv, {"host", "port"}, {});
  if (!args) return usage_error(args.message(), usage);
  if (args->positional.size() != 1) return usage_error("init takes one folder", usage);
  InitOptions o{.dir = args->positional[0]};
  o.host = args->get("host", o.host);
  if (args->options.contains("port")) {
    try {
      const int port = std::stoi(args->get("port"));
      if (port < 1 || port > 65535) throw std::out_of_range("port");
      o.port = static_cast<std::uint16_t>(port);
    } catch (const std::exception&) {
      return usage_error("--port must be a number from 1 to 65535", usage);
    }
  }
  Status s = init_dev_setup(o, std::cout);
  return s.is_ok() ? kOk : failed(s);
}

int cmd_serve(const std::vector<std::string>& argv, const char* usage) {
  auto args = parse_args(argv, {"config"}, {});
  if (!args) return usage_error(args.message(), usage);
  if (!args->positional.empty() || !args->options.contains("config")) {
    return usage_error("serve needs --config FILE", usage);
  }
  auto config = load_config(args->get("config"));
  if (!config) return failed(config.status());

  std::ofstream log_file;
  std::ostream* log = &std::cerr;
  if (!config->log_file.empty()) {
    log_file.open(config->log_file, std::ios::app);
    if (!log_file) return failed(Status::error(Code::kIo, config->log_file + ": cannot open log"));
    log = &log_file;
  }
  // Block the stop signals in every thread; this one waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto gateway = Gateway::start(*config, *log);
  if (!gateway) return failed(gateway.status());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  (*gateway)->stop();
  return kOk;
}

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> kCommands = {
      {"init",
       {"create a local development setup (PKI, keys, registry, config)",
        "brug init DIR [--host HOST] [--port PORT]",
        [](const auto& a) { return cmd_init(a, "brug init DIR [--host HOST] [--port PORT]"); }}},
      {"serve",
       {"run the HTTPS gateway until SIGTERM or SIGINT", "brug serve --config FILE",
        [](const auto& a) { return cmd_serve(a, "brug serve --config FILE"); }}},
  };
  return kCommands;
}

void print_help(std::ostream& out) {
  out << "brug " << BRUG_VERSION
      << ": a privacy-preserving data exchange gateway\n\nusage: brug COMMAND [OPTIONS]\n"
         "       brug COMMAND --help\n       brug --version\n\ncommands:\n";
  for (const auto& [name, c] : commands()) {
    out << "  " << name << std::string(10 - std::min<std::size_t>(name.size(), 9), ' ') << c.summary
        << "\n";
  }
  out << "\nexit codes: 0 success, 1 failure, 2 wrong usage\n";
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help(std::cerr);
    return kUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(std::cout);
    return kOk;
  }
  if (first == "--version") {
    std::cout << "brug " << BRUG_VERSION << "\n";
    return kOk;
  }
  auto it = commands().find(first);
  if (it == commands().end()) {
    std::cerr << "brug: unknown command '" << first << "'\n";
    print_help(std::cerr);
    return kUsage;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      std::cout << "usage: " << it->second.usage << "\n" << it->second.summary << "\n";
      return kOk;
    }
  }
  return it->second.run(rest);
}

}  // namespace brug::gateway

int main(int argc, char** argv) { return brug::gateway::run(argc, argv); }
