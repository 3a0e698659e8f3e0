#include "gateway/cli/serve.h"

#include <fstream>
#include <iostream>

#include "gateway/app/args.h"
#include "gateway/app/config.h"
#include "gateway/app/gateway.h"
#include "gateway/app/stop_signals.h"

namespace brug::gateway {

int serve_command(const std::vector<std::string>& argv, const char* usage) {
  auto args = parse_args(argv, {"config"}, {});
  if (!args || !args->positional.empty() || !args->options.contains("config")) {
    std::cerr << "brug: " << (args ? "serve needs --config FILE" : args.message())
              << "\nusage: " << usage << "\n";
    return 2;
  }
  auto config = load_config(args->get("config"));
  if (!config) {
    std::cerr << "brug: " << config.message() << "\n";
    return 1;
  }
  std::ofstream log_file;
  std::ostream* log = &std::cerr;
  if (!config->log_file.empty()) {
    log_file.open(config->log_file, std::ios::app);
    if (!log_file) {
      std::cerr << "brug: " << config->log_file << ": cannot open log\n";
      return 1;
    }
    log = &log_file;
  }
  StopSignals stop_signals;  // before the gateway starts its threads

  auto gateway = Gateway::start(*config, *log);
  if (!gateway) {
    std::cerr << "brug: " << gateway.message() << "\n";
    return 1;
  }
  stop_signals.wait();
  (*gateway)->stop();
  return 0;
}

}  // namespace brug::gateway
