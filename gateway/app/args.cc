#include "gateway/app/args.h"

namespace brug::gateway {

Result<Args> parse_args(const std::vector<std::string>& argv,
                        const std::set<std::string>& value_options,
                        const std::set<std::string>& flag_options) {
  Args a;
  bool only_positional = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (only_positional || arg.size() < 2 || arg.rfind("--", 0) != 0) {
      if (!only_positional && arg.size() > 1 && arg[0] == '-') {
        return Status::error(Code::kInvalidArgument, "unknown option " + arg);
      }
      a.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    const std::size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flag_options.contains(name)) {
      if (inline_value)
        return Status::error(Code::kInvalidArgument, "--" + name + " takes no value");
      a.flags.insert(name);
    } else if (value_options.contains(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) {
          return Status::error(Code::kInvalidArgument, "--" + name + " needs a value");
        }
        value = argv[++i];
      }
      a.options[name] = value;
    } else {
      return Status::error(Code::kInvalidArgument, "unknown option --" + name);
    }
  }
  return a;
}

}  // namespace brug::gateway
