// Slow and dead clients cannot pin connections: the server closes a
// connection that sends nothing (idle timeout) and one that never finishes its
// request (read timeout), over real loopback sockets. The timeouts are shortened
// here; the test checks that the server closes, not how fast.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "evsed/http/server.hpp"

namespace evsed::http {
namespace {

using namespace std::chrono_literals;

class Client {
 public:
  explicit Client(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  bool send(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }

  // Reads what arrives until nothing has come for `wait` (or `until` was
  // seen); sets `closed` on end of stream or reset.
  std::string read_for(std::chrono::milliseconds wait, bool& closed, const std::string& until = "") {
    std::string got;
    closed = false;
    pollfd p{fd_, POLLIN, 0};
    while ((until.empty() || got.find(until) == std::string::npos) &&
           ::poll(&p, 1, static_cast<int>(wait.count())) > 0) {
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class HttpTimeouts : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerLimits limits;
    limits.idle_timeout = 1s;
    limits.read_timeout = 1s;
    server_ = std::make_unique<HttpServer>(io_, [](const HttpRequest&, Respond respond) { respond(HttpResponse{200, "text/plain", "ok", nullptr, {}, false, {}}); },
                                           limits);
    ASSERT_FALSE(server_->listen("127.0.0.1:0").has_value());
    const std::string ep = server_->local_endpoints().at(0);
    port_ = std::stoi(ep.substr(ep.rfind(':') + 1));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpTimeouts, AConnectionThatSendsNothingIsClosed) {
  Client c(port_);
  ASSERT_TRUE(c.connected());
  bool closed = false;
  c.read_for(10s, closed);  // 10 s only guards against a hang
  EXPECT_TRUE(closed);
}

TEST_F(HttpTimeouts, AKeptAliveConnectionIsClosedWhenIdle) {
  Client c(port_);
  ASSERT_TRUE(c.send("GET /settings HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string reply = c.read_for(5s, closed, "\r\n\r\nok");
  EXPECT_NE(reply.find("200 OK"), std::string::npos) << reply;
  EXPECT_FALSE(closed);  // keep-alive
  c.read_for(10s, closed);
  EXPECT_TRUE(closed);
}

TEST_F(HttpTimeouts, ARequestDribbledByteByByteIsCutOff) {
  Client c(port_);
  ASSERT_TRUE(c.send("GET /settings HTTP/1.1\r\nHost: x\r\n"));
  // A header byte every 100 ms keeps the connection busy but never completes
  // the request: the read timeout covers the whole request, not each byte.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    if (!c.send("X")) {
      closed = true;
      break;
    }
    c.read_for(100ms, closed);
  }
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace evsed::http
