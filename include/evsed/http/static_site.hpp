#pragma once
// The dashboard's files, served from memory: read once at start (or reload)
// from a directory, each kept with a gzip copy made then, an ETag and a
// content type. Only files found there are ever served, so no request path
// can reach anything else on disk.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "evsed/http/http_types.hpp"

namespace evsed::http {

class StaticSite {
 public:
  // Reads every regular file under `dir` (not following links out of it).
  static std::variant<StaticSite, std::string> load(const std::string& dir);
  StaticSite() = default;

  // The response for GET/HEAD of `path` ("/" is /index.html), if it is one of the files.
  [[nodiscard]] std::optional<HttpResponse> serve(const HttpRequest& req, std::string_view path) const;
  [[nodiscard]] std::size_t files() const { return files_.size(); }
  [[nodiscard]] bool has(std::string_view path) const { return path == "/" || files_.count(path) > 0; }
  [[nodiscard]] std::size_t compressed_bytes() const;

 private:
  struct File {
    std::string_view content_type;
    std::shared_ptr<const std::string> plain;
    std::shared_ptr<const std::string> gzip;  // empty when it would not be smaller
    std::string etag;  // of the plain bytes, without the quotes
  };
  std::map<std::string, File, std::less<>> files_;
};

// gzip (RFC 1952) of `data` at the best compression; empty on failure.
std::string gzip(std::string_view data);

}  // namespace evsed::http
