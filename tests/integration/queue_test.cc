// A gateway with one worker and a queue of one: a connection beyond that is closed at once and
// counted, rather than left waiting.
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "gateway/app/config.h"
#include "gateway/app/gateway.h"
#include "tests/support/https_client.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace brug::testing {
namespace {

TEST(ServerQueue, AConnectionBeyondAFullQueueIsRefusedAndCounted) {
  Poco::Net::initializeSSL();
  TempDir dir;
  ASSERT_EQ(run_brug({"init", dir.file("dev")}).exit_code, 0);
  auto config = gateway::load_config(dir.file("dev/brug.json"));
  ASSERT_TRUE(config);
  config->port = 0;
  config->threads = 1;
  config->max_queued = 1;
  config->timeout_s = 2;
  std::ofstream log(dir.file("gateway.log"));
  auto gw = gateway::Gateway::start(*config, log);
  ASSERT_TRUE(gw) << gw.message();
  const Poco::Net::SocketAddress addr("127.0.0.1", (*gw)->port());

  // 1: a TLS client that sends half a request and stalls, holding the only worker.
  Poco::Net::Context::Params p;
  p.caLocation = dir.file("dev/pki/ca.pem");
  p.certificateFile = dir.file("dev/pki/laborijn.pem");
  p.privateKeyFile = dir.file("dev/pki/laborijn.key");
  p.loadDefaultCAs = false;
  Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
  Poco::Net::SecureStreamSocket stalled;
  try {
    stalled = Poco::Net::SecureStreamSocket(addr, "localhost", ctx);
    const std::string half = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    stalled.sendBytes(half.data(), static_cast<int>(half.size()));
  } catch (const Poco::Exception& e) {
    FAIL() << "stalled client: " << e.displayText();
  }

  // 2: fills the queue.
  Poco::Net::StreamSocket queued(addr);
  // 3: beyond the queue: the server closes it without waiting for the worker.
  Poco::Net::StreamSocket refused(addr);
  refused.setReceiveTimeout(Poco::Timespan(10, 0));
  char byte = 0;
  int got = -1;
  try {
    got = refused.receiveBytes(&byte, 1);
  } catch (const Poco::TimeoutException&) {
    got = -2;  // left waiting: not refused
  } catch (const Poco::Exception&) {
    got = 0;  // reset by peer: refused as well
  }
  EXPECT_EQ(got, 0) << "the third connection should have been closed by the server";

  // After the stalled request times out, the gateway serves again and has counted the refusal.
  stalled.close();
  queued.close();
  // The metrics are for the operator (brug init names its auditor).
  const Identity operator_id{dir.file("dev/pki/fg-oude-ijsselstreek.pem"),
                             dir.file("dev/pki/fg-oude-ijsselstreek.key")};
  HttpsClient c((*gw)->port(), dir.file("dev/pki/ca.pem"), operator_id);
  // Until the worker has drained the closed connections this one may be refused too: retry.
  Reply metrics;
  for (int attempt = 0; attempt < 50 && metrics.status != 200; ++attempt) {
    try {
      metrics = c.get("/metrics");
    } catch (const Poco::Exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      c = HttpsClient((*gw)->port(), dir.file("dev/pki/ca.pem"), operator_id);
    }
  }
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body.find("brug_connections_refused_total 0"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("brug_connections_refused_total"), std::string::npos);
}

}  // namespace
}  // namespace brug::testing
