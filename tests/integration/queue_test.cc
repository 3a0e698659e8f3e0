// A gateway with one worker: a connection that stalls in its request head holds no worker, and
// a connection beyond the cap per client address is closed at once and counted.
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

TEST(ServerQueue, AStalledRequestHoldsNoWorkerAndConnectionsBeyondTheCapAreRefusedAndCounted) {
  Poco::Net::initializeSSL();
  TempDir dir;
  ASSERT_EQ(run_brug({"init", dir.file("dev")}).exit_code, 0);
  auto config = gateway::load_config(dir.file("dev/brug.json"));
  ASSERT_TRUE(config);
  config->port = 0;
  config->threads = 1;
  config->max_queued = 1;
  config->timeout_s = 30;
  config->head_timeout_s = 30;
  config->max_connections_per_address = 3;
  std::ofstream log(dir.file("gateway.log"));
  auto gw = gateway::Gateway::start(*config, log);
  ASSERT_TRUE(gw) << gw.message();
  const Poco::Net::SocketAddress addr("127.0.0.1", (*gw)->port());
  const std::string ca = dir.file("dev/pki/ca.pem");
  const Identity laborijn{dir.file("dev/pki/laborijn.pem"), dir.file("dev/pki/laborijn.key")};

  // A TLS client that sends half a request and stalls: it holds a connection, not the worker.
  Poco::Net::Context::Params p;
  p.caLocation = ca;
  p.certificateFile = laborijn.cert_file;
  p.privateKeyFile = laborijn.key_file;
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
  // The only worker is free: another request is served at once.
  {
    HttpsClient c((*gw)->port(), ca, laborijn);
    EXPECT_EQ(c.get("/healthz").status, 200);
  }
  // The cap of 3 connections from this address: two more fit, the next is closed at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the client above has gone
  Poco::Net::StreamSocket second(addr), third(addr), beyond(addr);
  beyond.setReceiveTimeout(Poco::Timespan(10, 0));
  char byte = 0;
  int got = -1;
  try {
    got = beyond.receiveBytes(&byte, 1);
  } catch (const Poco::TimeoutException&) {
    got = -2;  // left waiting: not refused
  } catch (const Poco::Exception&) {
    got = 0;  // reset by peer: refused as well
  }
  EXPECT_EQ(got, 0) << "the connection beyond the cap should have been closed by the server";
  stalled.close();
  second.close();
  third.close();
  beyond.close();

  // The operator (brug init names its auditor) sees the refusal counted.
  const Identity operator_id{dir.file("dev/pki/fg-oude-ijsselstreek.pem"),
                             dir.file("dev/pki/fg-oude-ijsselstreek.key")};
  Reply metrics;
  for (int attempt = 0; attempt < 50 && metrics.status != 200; ++attempt) {
    try {
      metrics = HttpsClient((*gw)->port(), ca, operator_id).get("/metrics");
    } catch (const Poco::Exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body.find("brug_connections_refused_total 0"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("brug_connections_refused_total"), std::string::npos);
}

}  // namespace
}  // namespace brug::testing
