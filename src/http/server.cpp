// The only translation unit that includes Beast: it is the expensive one.

#include "evsed/http/server.hpp"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <deque>
#include <map>
#include <optional>
#include <variant>

namespace evsed::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::optional<tcp::endpoint> parse_endpoint(const std::string& s, std::string& error) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) {
    error = "expected ADDRESS:PORT";
    return std::nullopt;
  }
  std::string host = s.substr(0, colon);
  const std::string port = s.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "'" + host + "' is not an IP address";
    return std::nullopt;
  }
  unsigned long p = 0;
  try {
    p = std::stoul(port);
  } catch (const std::exception&) {
    p = 70000;
  }
  if (p > 65535) {
    error = "the port must be 0..65535";
    return std::nullopt;
  }
  return tcp::endpoint{address, static_cast<unsigned short>(p)};
}

// Only "chunked" is a coding evsed decodes (RFC 9112 §7: others are 501).
bool only_chunked(std::string_view te) {
  std::string v;
  for (char c : te) {
    if (c != ' ' && c != '\t') v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return v == "chunked";
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  asio::io_context& io;
  Handler handler;
  ServerLimits limits;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::vector<std::shared_ptr<tcp::acceptor>> tls_acceptors;
  std::shared_ptr<asio::ssl::context> tls;  // new TLS connections take the one in force
  std::vector<std::string> addresses;  // as given, for a reload
  std::size_t connections = 0;
  std::map<asio::ip::address, std::size_t> per_client;
  bool stopped = false;

  Impl(asio::io_context& i, Handler h, ServerLimits l) : io(i), handler(std::move(h)), limits(l) {}

  void accept(std::shared_ptr<tcp::acceptor> acceptor, bool tls);
};

namespace {

// One connection, over plain TCP or TLS (Stream: beast::tcp_stream or an ssl_stream of one).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Session<Stream>>::weak_from_this;

 public:
  template <class... StreamArgs>
  Session(asio::ip::address peer, std::shared_ptr<HttpServer::Impl> server, StreamArgs&&... args)
      : stream_(std::forward<StreamArgs>(args)...), peer_(std::move(peer)), server_(std::move(server)) {
    ++server_->connections;
    ++server_->per_client[peer_];
  }
  ~Session() {
    --server_->connections;
    if (auto it = server_->per_client.find(peer_); it != server_->per_client.end() && --it->second == 0) {
      server_->per_client.erase(it);
    }
  }

  void hold(std::shared_ptr<asio::ssl::context> ctx) { tls_context_ = std::move(ctx); }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(server_->limits.read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();  // not TLS, an old protocol, a client that gave up
        self->read_request();
      });
    } else {
      read_request();
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.header_limit));
    parser_->body_limit(server_->limits.body_limit);
    if (buffer_.size() > 0) return read_rest();  // the next request is already here (pipelined)
    // Idle until the first byte; from then on the whole request has read_timeout.
    lowest().expires_after(server_->limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_rest();
    });
  }

  void read_rest() {
    lowest().expires_after(server_->limits.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_request(e); });
  }

  void on_request(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == bhttp::error::header_limit) return reject(431, "Request header fields too large\n");
    if (ec == bhttp::error::body_limit) return reject(413, "Payload too large\n");
    if (ec) {
      // What the parser refused is a 400; socket errors and cut-off messages just end.
      const bool parse_error = ec.category() == beast::error_code{bhttp::error::bad_method}.category() &&
                               ec != bhttp::error::partial_message && ec != bhttp::error::short_read;
      return parse_error ? reject(400, "Bad request\n") : close();
    }
    const auto& req = parser_->get();
    if (const auto field = req[bhttp::field::transfer_encoding]; !field.empty()) {
      const std::string te{field.data(), field.size()};
      if (!only_chunked(te)) {
        return reject(501, "Transfer-Encoding '" + te.substr(0, 60) + "' is not supported; send chunked or a Content-Length\n");
      }
    }
    HttpRequest in;
    in.method = std::string{req.method_string()};
    in.target = std::string{req.target()};
    in.content_type = std::string{req[bhttp::field::content_type]};
    in.body = req.body();
    const auto host = req.find(bhttp::field::host);
    in.has_host = host != req.end();
    if (in.has_host) in.host = std::string{host->value()};
    in.origin = std::string{req[bhttp::field::origin]};
    in.referer = std::string{req[bhttp::field::referer]};
    in.accept_encoding = std::string{req[bhttp::field::accept_encoding]};
    in.if_none_match = std::string{req[bhttp::field::if_none_match]};
    in.authorization = std::string{req[bhttp::field::authorization]};
    in.cookie = std::string{req[bhttp::field::cookie]};
    in.csrf_token = std::string{req["X-CSRF-Token"]};
    in.from_page = req["X-Requested-With"] == "evsed";
    in.tls = kTls;
    in.peer = peer_.is_v6() && peer_.to_v6().is_v4_mapped()
                  ? asio::ip::make_address_v4(asio::ip::v4_mapped, peer_.to_v6()).to_string()
                  : peer_.to_string();
    const bool head = req.method() == bhttp::verb::head;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    // One request at a time per connection: its number makes a second answer harmless.
    // The session keeps itself alive until the answer: the Respond then holds
    // only a pointer and a number, small enough to need no allocation.
    const std::uint64_t id = ++request_id_;
    pending_keep_alive_ = keep_alive;
    pending_version_ = version;
    pending_head_ = head;
    self_ = shared_from_this();
    Respond respond = [session = this, id](HttpResponse out) { session->answer(id, std::move(out)); };
    try {
      server_->handler(in, respond);
    } catch (const std::exception& e) {
      respond(HttpResponse{500, "text/plain", std::string{"Internal error: "} + e.what() + "\n", nullptr, {}, true, {}});
    }
  }

  void answer(std::uint64_t id, HttpResponse out) {
    if (answered_ == id || !self_) return;
    answered_ = id;
    const auto keep_me = std::move(self_);  // the writes below hold the session from now on
    send(std::move(out), pending_keep_alive_ && !out.close, pending_version_, pending_head_);
  }

  void reject(int status, std::string body) {
    send(HttpResponse{status, "text/plain", std::move(body), nullptr, {}, true, {}}, false, 11, false);
  }

  template <class Body>
  void write(std::shared_ptr<bhttp::response<Body>> res, bool keep_alive) {
    lowest().expires_after(server_->limits.write_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->close();
      self->read_request();
    });
  }

  template <class Body>
  void prepare(bhttp::response<Body>& res, const HttpResponse& out, bool keep_alive) {
    res.set(bhttp::field::server, "evsed");
    res.set(bhttp::field::content_type, std::string{out.content_type});
    for (const auto& [name, value] : out.headers) res.set(name, value);
    res.keep_alive(keep_alive);
  }

  void send(HttpResponse out, bool keep_alive, unsigned version, bool head) {
    if (out.stream && !head) return send_stream(std::move(out), version);
    if (out.shared_body) return send_shared(std::move(out), keep_alive, version, head);
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(out.status), version);
    prepare(*res, out, keep_alive);
    const auto size = out.body.size();
    if (!head) res->body() = std::move(out.body);
    res->content_length(size);
    write(std::move(res), keep_alive);
  }

  // The status line and the response's own headers, written by hand into head_.
  void start_head(const HttpResponse& out, unsigned version) {
    head_.clear();
    head_ += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head_ += std::to_string(out.status);
    head_ += ' ';
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(out.status));
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: evsed\r\nContent-Type: ";
    head_ += out.content_type;
    for (const auto& [name, value] : out.headers) head_ += "\r\n" + name + ": " + value;
  }

  // Shared bytes (a cached GET /settings) go out as they are, behind a header
  // written into this session's own buffer: no allocation per reply.
  void send_shared(HttpResponse out, bool keep_alive, unsigned version, bool head) {
    start_head(out, version);
    head_ += "\r\nContent-Length: ";
    head_ += std::to_string(out.shared_body->size());
    if (!keep_alive) head_ += "\r\nConnection: close";
    if (keep_alive && version == 10) head_ += "\r\nConnection: keep-alive";
    head_ += "\r\n\r\n";
    body_ = std::move(out.shared_body);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                                    head ? asio::const_buffer{} : asio::buffer(*body_)};
    lowest().expires_after(server_->limits.write_timeout);
    asio::async_write(stream_, buffers, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      self->body_.reset();
      if (ec || !keep_alive) return self->close();
      self->read_request();
    });
  }

  // --- a stream (Server-Sent Events) -----------------------------------------

  // The sink a source pushes into; it holds the session weakly.
  class Sink final : public StreamSink {
   public:
    explicit Sink(std::weak_ptr<Session> s) : session_(std::move(s)) {}
    void push(std::shared_ptr<const std::string> chunk) override {
      if (auto s = session_.lock()) s->queue(std::move(chunk));
    }
    [[nodiscard]] bool open() const override {
      auto s = session_.lock();
      return s && !s->stream_closed_;
    }
    void close() override {
      if (auto s = session_.lock()) s->end_stream();
    }

   private:
    std::weak_ptr<Session> session_;
  };

  // Delimited by closing the connection (HTTP/1.1 §6.3): no length, no chunks.
  void send_stream(HttpResponse out, unsigned version) {
    start_head(out, version);
    head_ += "\r\nConnection: close\r\n\r\n";
    queue(std::make_shared<const std::string>(std::move(head_)));
    watch_for_close();
    out.stream(std::make_shared<Sink>(weak_from_this()));
  }

  void queue(std::shared_ptr<const std::string> chunk) {
    if (stream_closed_ || !chunk) return;
    queued_bytes_ += chunk->size();
    if (queued_bytes_ > kMaxStreamBacklog) return end_stream();  // it does not read: drop it
    out_queue_.push_back(std::move(chunk));
    if (!writing_) write_next();
  }

  void write_next() {
    if (out_queue_.empty() || stream_closed_) {
      writing_ = false;
      if (!stream_closed_) lowest().expires_never();
      return;
    }
    writing_ = true;
    in_flight_ = std::move(out_queue_.front());  // held here until written, whatever happens to the queue
    out_queue_.pop_front();
    lowest().expires_after(server_->limits.write_timeout);
    asio::async_write(stream_, asio::buffer(*in_flight_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->queued_bytes_ -= std::min(self->queued_bytes_, self->in_flight_->size());
      self->in_flight_.reset();
      if (ec) return self->end_stream();
      self->write_next();
    });
  }

  // A client of a stream sends nothing more: a read ends when it goes away.
  void watch_for_close() {
    stream_.async_read_some(asio::buffer(sink_buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end_stream();
      self->watch_for_close();
    });
  }

  void end_stream() {
    if (stream_closed_) return;
    stream_closed_ = true;
    out_queue_.clear();
    queued_bytes_ = 0;
    close();
  }

  static constexpr std::size_t kMaxStreamBacklog = 1024 * 1024;

  void close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().close();
  }

  // Before the stream: destroyed after it (the TLS stream uses it to the end).
  std::shared_ptr<asio::ssl::context> tls_context_;
  Stream stream_;
  asio::ip::address peer_;
  std::uint64_t request_id_ = 0;
  std::uint64_t answered_ = 0;
  std::shared_ptr<Session<Stream>> self_;  // while a request waits for its answer
  bool pending_keep_alive_ = false;
  unsigned pending_version_ = 11;
  bool pending_head_ = false;
  std::string head_;
  std::shared_ptr<const std::string> body_;
  std::shared_ptr<const std::string> in_flight_;
  bool stream_closed_ = false;
  bool writing_ = false;
  std::size_t queued_bytes_ = 0;
  std::deque<std::shared_ptr<const std::string>> out_queue_;
  std::array<char, 256> sink_buffer_{};
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
};

}  // namespace

void HttpServer::Impl::accept(std::shared_ptr<tcp::acceptor> acceptor, bool tls_listener) {
  acceptor->async_accept([self = shared_from_this(), acceptor, tls_listener](beast::error_code ec, tcp::socket socket) {
    // Stopped, or closed by a reload.
    if (self->stopped || ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Out of descriptors or similar: try again shortly rather than spin.
      auto timer = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
      timer->async_wait([self, timer, acceptor, tls_listener](beast::error_code) {
        if (!self->stopped && acceptor->is_open()) self->accept(acceptor, tls_listener);
      });
      return;
    }
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec && self->connections < self->limits.max_connections &&
        self->per_client[peer.address()] < self->limits.max_connections_per_client) {
      if (tls_listener && self->tls) {
        // The session keeps the context it started with: a reload changes only later ones.
        using TlsStream = beast::ssl_stream<beast::tcp_stream>;
        auto ctx = self->tls;
        auto session = std::make_shared<Session<TlsStream>>(peer.address(), self, beast::tcp_stream(std::move(socket)), *ctx);
        session->hold(std::move(ctx));
        session->start();
      } else if (!tls_listener) {
        std::make_shared<Session<beast::tcp_stream>>(peer.address(), self, std::move(socket))->start();
      }
    } else {
      if (!peer_ec && self->per_client[peer.address()] == 0) self->per_client.erase(peer.address());
      beast::error_code ignored;
      socket.close(ignored);  // over a limit: closed at once, costs nothing
    }
    self->accept(acceptor, tls_listener);
  });
}

HttpServer::HttpServer(asio::io_context& io, Handler handler, ServerLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

namespace {

// A listening socket (IPv6 ones take IPv4 too), or why there is none.
std::variant<std::shared_ptr<tcp::acceptor>, std::string> open_acceptor(asio::io_context& io, const std::string& address_port) {
  std::string error;
  const auto endpoint = parse_endpoint(address_port, error);
  if (!endpoint) return address_port + ": " + error;
  auto acceptor = std::make_shared<tcp::acceptor>(io);
  beast::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && endpoint->address().is_v6()) acceptor->set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + address_port + ": " + ec.message();
  return acceptor;
}

}  // namespace

std::optional<std::string> HttpServer::listen(const std::string& address_port) {
  auto acceptor = open_acceptor(impl_->io, address_port);
  if (auto* e = std::get_if<std::string>(&acceptor)) return *e;
  auto& a = std::get<std::shared_ptr<tcp::acceptor>>(acceptor);
  impl_->accept(a, false);
  impl_->acceptors.push_back(std::move(a));
  impl_->addresses.push_back(address_port);
  return std::nullopt;
}

// The floor (documented in docs/security.md): TLS 1.2, ECDHE key exchange,
// AEAD ciphers only; TLS 1.3's suites are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::optional<std::string> HttpServer::set_tls(const std::string& cert_pem, const std::string& key_pem) {
  try {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                     asio::ssl::context::no_compression | asio::ssl::context::single_dh_use);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) return std::string{"no usable TLS 1.2 cipher"};
    ctx->use_certificate_chain(asio::buffer(cert_pem));
    ctx->use_private_key(asio::buffer(key_pem), asio::ssl::context::pem);
    if (SSL_CTX_check_private_key(native) != 1) return std::string{"the key does not belong to the certificate"};
    impl_->tls = std::move(ctx);
    return std::nullopt;
  } catch (const boost::system::system_error& e) {
    return std::string{"the certificate or key cannot be used: "} + e.code().message();
  }
}

std::optional<std::string> HttpServer::listen_tls(const std::string& address_port) {
  if (!impl_->tls) return std::string{"no certificate"};
  auto acceptor = open_acceptor(impl_->io, address_port);
  if (auto* e = std::get_if<std::string>(&acceptor)) return *e;
  auto& a = std::get<std::shared_ptr<tcp::acceptor>>(acceptor);
  impl_->accept(a, true);
  impl_->tls_acceptors.push_back(std::move(a));
  return std::nullopt;
}

std::optional<std::string> HttpServer::relisten(const std::vector<std::string>& addresses) {
  std::vector<std::string> before;
  for (const auto& a : impl_->addresses) before.push_back(a);
  if (before == addresses) return std::nullopt;
  // The old listeners go first: the same port cannot be bound twice.
  for (auto& a : impl_->acceptors) {
    beast::error_code ignored;
    a->close(ignored);
  }
  impl_->acceptors.clear();
  impl_->addresses.clear();
  for (const auto& a : addresses) {
    if (auto e = listen(a)) {
      for (auto& acc : impl_->acceptors) {
        beast::error_code ignored;
        acc->close(ignored);
      }
      impl_->acceptors.clear();
      impl_->addresses.clear();
      for (const auto& old : before) (void)listen(old);
      return e;
    }
  }
  return std::nullopt;
}

void HttpServer::set_max_connections_per_client(std::size_t n) { impl_->limits.max_connections_per_client = n; }

std::vector<std::string> HttpServer::local_endpoints() const {
  std::vector<std::string> out;
  for (const auto& a : impl_->acceptors) {
    beast::error_code ec;
    const auto ep = a->local_endpoint(ec);
    if (ec) continue;
    const auto addr = ep.address();
    out.push_back((addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" + std::to_string(ep.port()));
  }
  return out;
}

std::size_t HttpServer::open_connections() const { return impl_->connections; }

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto* list : {&impl_->acceptors, &impl_->tls_acceptors}) {
    for (auto& a : *list) {
      beast::error_code ignored;
      a->close(ignored);
    }
  }
}

void raise_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace evsed::http
