#include "evsed/http/static_site.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace evsed::http {

namespace {

struct Type {
  std::string_view extension;
  std::string_view content_type;
};
constexpr std::array<Type, 9> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
}};

// Files larger than this are not a dashboard's.
constexpr std::uintmax_t kMaxFileBytes = 4 * 1024 * 1024;

std::string hex(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// FNV-1a: an ETag only has to change when the bytes do.
std::uint64_t fingerprint(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool accepts_gzip(std::string_view header) {
  // "gzip" as a coding, not refused with q=0 (enough for every browser).
  const auto at = header.find("gzip");
  if (at == std::string_view::npos) return false;
  const auto rest = header.substr(at + 4);
  const auto comma = rest.find(',');
  const auto params = rest.substr(0, comma);
  return params.find("q=0") == std::string_view::npos || params.find("q=0.") != std::string_view::npos;
}

bool etag_matches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  return header.find(etag) != std::string_view::npos;
}

}  // namespace

std::string gzip(std::string_view data) {
  z_stream z{};
  // 15 + 16: a gzip wrapper; level 9, memory level 9.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const auto produced = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return {};
  out.resize(produced);
  return out;
}

std::variant<StaticSite, std::string> StaticSite::load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return dir + ": not a directory";
  StaticSite site;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    const fs::path& p = it->path();
    const std::string ext = p.extension().string();
    const auto* type = std::find_if(kTypes.begin(), kTypes.end(), [&](const Type& t) { return t.extension == ext; });
    if (type == kTypes.end()) continue;
    if (it->file_size(ec) > kMaxFileBytes) return p.string() + ": larger than a dashboard file may be";
    std::ifstream in(p, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    if (!in.good() && !in.eof()) return p.string() + ": cannot be read";
    File f;
    f.content_type = type->content_type;
    f.etag = hex(fingerprint(bytes));
    std::string z = gzip(bytes);
    if (!z.empty() && z.size() < bytes.size()) f.gzip = std::make_shared<const std::string>(std::move(z));
    f.plain = std::make_shared<const std::string>(std::move(bytes));
    std::string key = "/";
    key += fs::relative(p, dir).generic_string();
    site.files_[key] = std::move(f);
  }
  if (ec) return dir + ": " + ec.message();
  if (!site.files_.count("/index.html")) return dir + ": no index.html";
  return site;
}

std::size_t StaticSite::compressed_bytes() const {
  std::size_t n = 0;
  for (const auto& [_, f] : files_) n += f.gzip ? f.gzip->size() : f.plain->size();
  return n;
}

std::optional<HttpResponse> StaticSite::serve(const HttpRequest& req, std::string_view path) const {
  if (path == "/") path = "/index.html";
  const auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  const File& f = it->second;
  const bool zipped = f.gzip && accepts_gzip(req.accept_encoding);
  // The two encodings are two representations: each its own tag.
  std::string etag = "\"";
  etag += f.etag;
  etag += zipped ? "-gz\"" : "\"";
  HttpResponse r;
  r.content_type = f.content_type;
  // Revalidated on every load (a 304 costs a few bytes): an update shows at once.
  r.headers = {{"ETag", etag}, {"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
  if (f.gzip) r.headers.emplace_back("Vary", "Accept-Encoding");
  if (path.ends_with(".html")) {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    r.headers.emplace_back("Referrer-Policy", "same-origin");
  }
  if (!req.if_none_match.empty() && etag_matches(req.if_none_match, etag)) {
    r.status = 304;
    return r;
  }
  if (zipped) r.headers.emplace_back("Content-Encoding", "gzip");
  r.shared_body = zipped ? f.gzip : f.plain;
  return r;
}

}  // namespace evsed::http
