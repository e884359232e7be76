// The docs say what the code takes: every configuration key is in
// docs/configuration.md (from which evsed.toml(5) is made) and in the
// annotated reference configuration; every settings field is in the REST docs.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "evsed/app/config.hpp"
#include "evsed/core/settings_fields.hpp"
#include "evsed/http/rest_api.hpp"

namespace evsed::app {
namespace {

std::string read_source(const std::string& rel) {
  std::ifstream in(std::string{EVSED_SOURCE_DIR} + "/" + rel);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Built up: GCC 12 warns falsely on "x" + std::string&&.
std::string wrapped(char open, const std::string& s, char close) {
  std::string out(1, open);
  out += s;
  out += close;
  return out;
}

TEST(Docs, EveryConfigurationKeyIsDocumentedAndInTheReference) {
  const std::string doc = read_source("docs/configuration.md");
  const std::string reference = read_source("config/evsed.reference.toml");
  ASSERT_FALSE(doc.empty());
  ASSERT_FALSE(reference.empty());
  for (const auto& key : config_keys()) {
    const auto dot = key.rfind('.');
    const std::string name = dot == std::string::npos ? key : key.substr(dot + 1);
    const std::string section = dot == std::string::npos ? "" : key.substr(0, dot);
    EXPECT_NE(doc.find(wrapped('`', name, '`')), std::string::npos) << key << " is not in docs/configuration.md";
    EXPECT_NE(reference.find(name), std::string::npos) << key << " is not in config/evsed.reference.toml";
    if (!section.empty()) {
      EXPECT_NE(doc.find(wrapped('[', section, ']')), std::string::npos) << section;
    }
  }
}

TEST(Docs, TheReferenceAndTheShortConfigurationAreValid) {
  for (const char* file : {"config/evsed.toml", "config/evsed.reference.toml"}) {
    const auto r = parse_config(read_source(file), file);
    EXPECT_TRUE(std::holds_alternative<Config>(r)) << file << ": " << std::get<std::string>(r);
  }
}

TEST(Docs, EverySettingsFieldHasItsRestParameterDocumented) {
  const std::string doc = read_source("docs/rest-api.md");
  for (const auto& f : core::kFields) {
    EXPECT_NE(doc.find(wrapped('`', std::string{http::rest_param(f.field)}, '`')), std::string::npos) << f.name;
  }
}

}  // namespace
}  // namespace evsed::app
