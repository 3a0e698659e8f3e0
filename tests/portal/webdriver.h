// A small W3C WebDriver client for the browser tests: starts Debian's chromedriver on a free
// loopback port and drives a real headless Chromium through it (no framework, no network).
#pragma once

#include <Poco/Base64Decoder.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace brug::testing {

class WebDriver {
 public:
  static constexpr const char* kElement = "element-6066-11e4-a52e-4f735466cecf";

  // Starts chromedriver and a headless Chromium session; throws when either cannot start.
  explicit WebDriver(const std::string& profile_dir) {
    {
      Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
      port_ = probe.address().port();
    }
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = "--port=" + std::to_string(port_);
      execlp("chromedriver", "chromedriver", port.c_str(), "--allowed-ips=127.0.0.1",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    try {
      start_session(profile_dir);
    } catch (...) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      throw;
    }
  }

 private:
  void start_session(const std::string& profile_dir) {
    for (int i = 0; i < 100; ++i) {
      try {
        if (call("GET", "/status").value("value", nlohmann::json::object()).value("ready", false))
          break;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const nlohmann::json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions",
             {{"binary", "/usr/bin/chromium"},
              {"args",
               {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000", "--lang=nl", "--no-first-run",
                "--user-data-dir=" + profile_dir}}}}}}}}};
    const auto answer = call("POST", "/session", caps);
    session_ = answer["value"].value("sessionId", "");
    if (session_.empty()) throw std::runtime_error("no WebDriver session: " + answer.dump());
  }

 public:
  ~WebDriver() {
    try {
      if (!session_.empty()) call("DELETE", "/session/" + session_);
    } catch (const std::exception&) {
    }
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  void go(const std::string& url) { session("POST", "/url", {{"url", url}}); }
  std::string url() { return session("GET", "/url")["value"].get<std::string>(); }

  // Runs `script` (a function body; arguments in `arguments`) in the page; returns its value.
  nlohmann::json run(const std::string& script,
                     const nlohmann::json& args = nlohmann::json::array()) {
    return session("POST", "/execute/sync", {{"script", script}, {"args", args}})["value"];
  }
  // The same for a script that returns a promise (its value is awaited).
  nlohmann::json run_async(const std::string& expression) {
    return session("POST", "/execute/async",
                   {{"script", "const done = arguments[arguments.length - 1]; Promise.resolve(" +
                                   expression + ").then(done, e => done('ERROR ' + e));"},
                    {"args", nlohmann::json::array()}})["value"];
  }

  std::string find(const std::string& css) {
    const auto v = session("POST", "/element", {{"using", "css selector"}, {"value", css}});
    if (!v["value"].contains(kElement)) throw std::runtime_error("no element " + css);
    return v["value"][kElement].get<std::string>();
  }
  void click(const std::string& css) {
    session("POST", "/element/" + find(css) + "/click", nlohmann::json::object());
  }
  void type(const std::string& css, const std::string& text) {
    const std::string el = find(css);
    session("POST", "/element/" + el + "/clear", nlohmann::json::object());
    session("POST", "/element/" + el + "/value", {{"text", text}});
  }
  // Focuses the element and presses Enter on it, as a keyboard user does.
  void press_enter(const std::string& css) {
    run("document.querySelector(arguments[0]).focus();", {css});
    session("POST", "/element/" + find(css) + "/value", {{"text", "\uE007"}});
  }
  // Waits until `condition` (a JavaScript expression) is true; false after `seconds`.
  bool wait_for(const std::string& condition, double seconds = 10) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (run("return !!(" + condition + ");") == true) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::string text(const std::string& css) {
    return run("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
               {css})
        .get<std::string>();
  }
  void screenshot(const std::string& file) {
    const std::string b64 = session("GET", "/screenshot")["value"].get<std::string>();
    std::istringstream in(b64);
    Poco::Base64Decoder decoder(in);
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream out(file, std::ios::binary);
    Poco::StreamCopier::copyStream(decoder, out);
  }

 private:
  nlohmann::json session(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr) {
    auto answer = call(method, "/session/" + session_ + path, body);
    if (answer.contains("value") && answer["value"].is_object() &&
        answer["value"].contains("error")) {
      throw std::runtime_error(path + ": " + answer["value"].value("message", ""));
    }
    return answer;
  }
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr) {
    Poco::Net::HTTPClientSession s("127.0.0.1", port_);
    s.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    const std::string text = body.is_null() ? "" : body.dump();
    if (method == "POST") {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(text.size()));
    }
    s.sendRequest(req) << text;
    Poco::Net::HTTPResponse resp;
    std::string out;
    Poco::StreamCopier::copyToString(s.receiveResponse(resp), out);
    return nlohmann::json::parse(out, nullptr, false);
  }

  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string session_;
};

}  // namespace brug::testing
