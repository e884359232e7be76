#pragma once
// Plain request and response values: the REST API is written against these,
// so it never sees Beast and can be tested and fuzzed without sockets.

#include <string>
#include <utility>
#include <vector>

namespace evsed::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string content_type;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response
};

}  // namespace evsed::http
