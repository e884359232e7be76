// The dashboard's server side: files from memory with gzip and ETags (and
// nothing outside the directory), the SSE frames, and GET /events over the
// real Station.

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "evsed/http/events_api.hpp"
#include "evsed/http/rest_api.hpp"
#include "evsed/http/static_site.hpp"
#include "station_rig.hpp"

namespace evsed::http {
namespace {

namespace fs = std::filesystem;

std::string gunzip(const std::string& z) {
  z_stream s{};
  inflateInit2(&s, 15 + 16);
  std::string out(1 << 20, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
  s.avail_in = static_cast<uInt>(z.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&s, Z_FINISH);
  out.resize(s.total_out);
  inflateEnd(&s);
  return rc == Z_STREAM_END ? out : std::string{"(not gzip)"};
}

class Site : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("evsed-www-" + std::string{::testing::UnitTest::GetInstance()->current_test_info()->name()});
    fs::remove_all(dir);
    fs::create_directories(dir / "i18n");
    write("index.html", "<!doctype html><title>evsed</title>" + std::string(2000, ' ') + "\n");
    write("app.js", "export const x = 1;\n" + std::string(3000, '/') + "\n");
    write("i18n/en.json", "{\"a\": \"b\"}");
    write("notes.bak", "not a dashboard file");
    fs::create_symlink("/etc/hostname", dir / "outside.txt");
  }
  void TearDown() override { fs::remove_all(dir); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }

  StaticSite load() {
    auto s = StaticSite::load(dir.string());
    if (auto* e = std::get_if<std::string>(&s)) ADD_FAILURE() << *e;
    return std::holds_alternative<StaticSite>(s) ? std::get<StaticSite>(std::move(s)) : StaticSite{};
  }
  static std::string header(const HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }
  fs::path dir;
};

TEST_F(Site, ServesItsFilesCompressedWhenAskedWithTags) {
  const StaticSite site = load();
  EXPECT_EQ(site.files(), 3U) << "index.html, app.js, i18n/en.json: not the .bak, not the link";
  HttpRequest req;
  auto plain = site.serve(req, "/");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(plain->shared_body->substr(0, 15), "<!doctype html>");
  EXPECT_EQ(header(*plain, "Content-Encoding"), "");
  EXPECT_EQ(header(*plain, "Cache-Control"), "no-cache");
  EXPECT_NE(header(*plain, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);

  req.accept_encoding = "gzip, deflate, br";
  auto zipped = site.serve(req, "/app.js");
  ASSERT_TRUE(zipped);
  EXPECT_EQ(header(*zipped, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(*zipped, "Vary"), "Accept-Encoding");
  EXPECT_LT(zipped->shared_body->size(), 200U);
  EXPECT_EQ(gunzip(*zipped->shared_body), "export const x = 1;\n" + std::string(3000, '/') + "\n");
  const std::string etag = header(*zipped, "ETag");
  EXPECT_TRUE(etag.ends_with("-gz\"")) << etag;

  req.if_none_match = etag;
  auto again = site.serve(req, "/app.js");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_FALSE(again->shared_body);
  req.if_none_match = "\"0000000000000000-gz\"";
  EXPECT_EQ(site.serve(req, "/app.js")->status, 200);
  req.accept_encoding = "gzip;q=0";
  EXPECT_EQ(header(*site.serve(req, "/app.js"), "Content-Encoding"), "") << "gzip refused with q=0";
  EXPECT_EQ(site.serve(req, "/i18n/en.json")->content_type, "application/json");
}

TEST_F(Site, NothingOutsideItsFiles) {
  const StaticSite site = load();
  HttpRequest req;
  for (const char* path : {"/outside.txt", "/notes.bak", "/../etc/passwd", "/i18n/../../etc/passwd", "/i18n", "/index.html/",
                           "//index.html", "/INDEX.HTML", "/%2e%2e/etc/passwd"}) {
    EXPECT_FALSE(site.serve(req, path)) << path;
  }
}

TEST_F(Site, ADirectoryWithoutAnIndexIsRefused) {
  fs::remove(dir / "index.html");
  auto s = StaticSite::load(dir.string());
  ASSERT_TRUE(std::holds_alternative<std::string>(s));
  EXPECT_NE(std::get<std::string>(s).find("index.html"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<std::string>(StaticSite::load((dir / "missing").string())));
}

TEST(SseFrame, OneDataLinePerLine) {
  EXPECT_EQ(sse_frame("settings", "{\"a\":1}", "7"), "id: 7\nevent: settings\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(sse_frame("note", "one\ntwo"), "event: note\ndata: one\ndata: two\n\n");
}

struct RecordingSink final : StreamSink {
  void push(std::shared_ptr<const std::string> chunk) override { chunks.push_back(*chunk); }
  [[nodiscard]] bool open() const override { return is_open; }
  void close() override { is_open = false; }
  std::vector<std::string> chunks;
  bool is_open = true;
};

TEST(Events, TheSnapshotOnConnectThenEveryChange) {
  app::StationRig rig;
  RestApi api(rig.station, {});
  HttpRequest req;
  req.method = "GET";
  req.target = "/events";
  std::optional<HttpResponse> reply;
  api.handle(req, [&](HttpResponse r) { reply = std::move(r); });
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->stream);
  EXPECT_EQ(reply->content_type, "text/event-stream; charset=utf-8");
  auto sink = std::make_shared<RecordingSink>();
  auto other = std::make_shared<RecordingSink>();
  reply->stream(sink);
  reply->stream(other);
  EXPECT_EQ(api.event_clients(), 2U);
  ASSERT_EQ(sink->chunks.size(), 2U);
  EXPECT_EQ(sink->chunks[0], "retry: 2000\n\n");
  const std::string version = std::to_string(rig.station.snapshot()->version);
  EXPECT_TRUE(sink->chunks[1].starts_with("id: " + version + "\nevent: settings\ndata: {\"version\":")) << sink->chunks[1];

  rig.world.car().plug_in();
  rig.run_for(std::chrono::milliseconds{300});
  ASSERT_GT(sink->chunks.size(), 2U);
  const std::string& last = sink->chunks.back();
  EXPECT_NE(last.find("\"car_connected\":true"), std::string::npos);
  EXPECT_EQ(last, other->chunks.back()) << "the same bytes for every client";

  other->is_open = false;  // that browser went away
  rig.world.car().unplug();
  rig.run_for(std::chrono::milliseconds{300});
  EXPECT_EQ(api.event_clients(), 1U);
  EXPECT_NE(sink->chunks.back().find("\"car_connected\":false"), std::string::npos);
}

}  // namespace
}  // namespace evsed::http
