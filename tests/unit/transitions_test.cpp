// The transition table is proved by tests that exist, and covers every state
// the standalone controller enters.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "evsed/core/transitions.hpp"

namespace evsed::core {
namespace {

std::set<std::string> registered_tests() {
  std::set<std::string> names;
  const auto& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const auto& suite = *unit.GetTestSuite(i);
    for (int k = 0; k < suite.total_test_count(); ++k) {
      names.insert(std::string{suite.name()} + "." + suite.GetTestInfo(k)->name());
    }
  }
  return names;
}

TEST(Transitions, EveryRowNamesATestThatExists) {
  const auto tests = registered_tests();
  std::set<std::string_view> ids;
  for (const auto& t : kTransitions) {
    EXPECT_TRUE(ids.insert(t.id).second) << t.id << " is used twice";
    EXPECT_TRUE(tests.count(std::string{t.test})) << t.id << ": no test " << t.test;
    EXPECT_FALSE(t.condition.empty() || t.action.empty() || t.source.empty()) << t.id;
  }
}

TEST(Transitions, EveryStateTheControllerUsesHasItsWayOut) {
  for (auto s : {ChargeState::A, ChargeState::B, ChargeState::C, ChargeState::ActStart, ChargeState::B1,
                 ChargeState::C1}) {
    bool leaves = false;
    for (const auto& t : kTransitions) leaves |= t.from == s && t.to != s;
    EXPECT_TRUE(leaves) << short_name(s);
  }
}

}  // namespace
}  // namespace evsed::core
