#pragma once
// Plain request and response values: the REST API is written against these,
// so it never sees Beast and can be tested and fuzzed without sockets.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evsed::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string content_type;
  std::string body;
  // Headers the request checks look at; empty when absent.
  std::string host;
  std::string origin;
  std::string referer;
  std::string accept_encoding;  // for precompressed files
  std::string if_none_match;    // for ETags
  std::string authorization;    // "Basic ..." / "Bearer ..."
  std::string cookie;
  std::string csrf_token;       // X-CSRF-Token
  bool from_page = false;       // X-Requested-With: evsed (the dashboard: no browser login prompt)
  std::string peer;             // the client's IP address
  bool has_host = false;
  bool tls = false;  // it came over HTTPS
};

// A response that stays open (Server-Sent Events): the server writes the head,
// then every chunk pushed, in order, until the client goes away or the source
// closes it. A client that does not keep up is dropped, not buffered forever.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void push(std::shared_ptr<const std::string> chunk) = 0;
  [[nodiscard]] virtual bool open() const = 0;
  virtual void close() = 0;
};
using StreamStart = std::function<void(std::shared_ptr<StreamSink>)>;

struct HttpResponse {
  int status = 200;
  std::string_view content_type = "application/json";  // always a literal
  std::string body;
  // Bytes shared between responses (a cached GET /settings); used instead of `body` when set.
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response
  // Set: a stream (the head is written with status and headers, then `stream`
  // is given the sink; `body` is not sent).
  StreamStart stream;
};

inline HttpResponse text_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

inline HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Called once with the response, now or later (after a write reached the disk).
using Respond = std::function<void(HttpResponse)>;

}  // namespace evsed::http
