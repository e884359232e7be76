#pragma once
// HTTP/1.1 server on the daemon's Asio loop (Boost.Beast behind this header):
// keep-alive, header and body limits, idle/read/write timeouts (the request's
// deadline runs from its first byte), a connection cap per client address,
// IPv4 and IPv6. Only the chunked transfer coding is decoded; others get 501.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evsed/http/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace evsed::http {

struct ServerLimits {
  std::size_t header_limit = 8 * 1024;  // larger: 431
  std::size_t body_limit = 64 * 1024;   // larger: 413
  std::chrono::seconds idle_timeout{30};   // keep-alive connection waiting for a request
  std::chrono::seconds read_timeout{10};   // a started request must be complete by then
  std::chrono::seconds write_timeout{10};  // the client must take the response by then
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_client = 64;  // per source address: one client cannot starve the rest
};

class HttpServer {
 public:
  // Answers a request through `respond`, at once or later (after a disk write).
  using Handler = std::function<void(const HttpRequest&, Respond)>;

  HttpServer(boost::asio::io_context& io, Handler handler, ServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "ADDR:PORT" or "[V6ADDR]:PORT"; "[::]" also takes IPv4. Empty on success.
  std::optional<std::string> listen(const std::string& address_port);
  // Listens on these instead (a reload): open connections go on; on a failure
  // the addresses in force before are taken again and the reason returned.
  std::optional<std::string> relisten(const std::vector<std::string>& addresses);
  void set_max_connections_per_client(std::size_t n);
  // HTTPS: the certificate chain and key (PEM) new TLS connections get; TLS
  // 1.2 and 1.3 only, forward-secret AEAD ciphers. Empty on success; on an
  // error the context in force stays.
  std::optional<std::string> set_tls(const std::string& cert_pem, const std::string& key_pem);
  // A TLS listener (needs set_tls first); kept apart from relisten().
  std::optional<std::string> listen_tls(const std::string& address_port);
  // Bound addresses, e.g. to learn the port after listening on port 0.
  [[nodiscard]] std::vector<std::string> local_endpoints() const;
  [[nodiscard]] std::size_t open_connections() const;
  void stop();

  struct Impl;  // defined with the sessions in server.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

// Lets the process hold as many sockets as the hard limit allows.
void raise_file_limit();

}  // namespace evsed::http
