#pragma once
// The charging sessions behind the Station: the one running now (from memory,
// live) and the stored ones (read off the loop). Front-ends reach it through
// Station::history(); the session log implements it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evsed/station/session_record.hpp"

namespace evsed::station {

struct HistoryError {
  enum class Kind : std::uint8_t {
    Unavailable,  // no session log (disabled, or its database cannot be used)
    NotFound,     // no session with that id
    Invalid,      // the request itself is wrong (a note too long, ...): nothing changed
    Failed,       // the database refused (disk full, I/O error): nothing changed
  } kind = Kind::Failed;
  std::string message;
};

template <class T>
using HistoryResult = std::variant<T, HistoryError>;

struct SessionTotals {
  std::uint64_t sessions = 0;   // sessions ever started (retention does not lower it)
  std::int64_t energy_wh = 0;   // energy of every closed session ever
};

class History {
 public:
  virtual ~History() = default;

  // The session running now, with its values as of the last snapshot.
  [[nodiscard]] virtual std::optional<SessionRecord> current() const = 0;
  [[nodiscard]] virtual SessionTotals totals() const = 0;
  // The newest closed session on disk (from the last run too), if any.
  [[nodiscard]] virtual std::optional<SessionRecord> last_closed() const = 0;

  // Sessions matching `query`, newest first, turned into a reply by `render`
  // off the loop (it must be a pure function of its argument); `done` runs on
  // the loop. The running session appears with its live values.
  using Render = std::function<std::string(const std::vector<SessionRecord>&)>;
  virtual void list(const SessionQuery& query, Render render,
                    std::function<void(HistoryResult<std::string>)> done) = 0;
  virtual void get(std::uint64_t id, std::function<void(HistoryResult<SessionRecord>)> done) = 0;
  // Totals per month or year of the sessions in `query` (limit and offset unused), oldest first.
  virtual void summary(SummaryPeriod by, const SessionQuery& query,
                       std::function<void(HistoryResult<std::vector<SummaryRow>>)> done) = 0;
  // The user's note; answered once it is on disk.
  virtual void set_note(std::uint64_t id, std::string note, std::function<void(HistoryResult<SessionRecord>)> done) = 0;
};

// What the Station answers with when there is no session log.
class NoHistory final : public History {
 public:
  explicit NoHistory(std::string why) : why_(std::move(why)) {}
  [[nodiscard]] std::optional<SessionRecord> current() const override { return std::nullopt; }
  [[nodiscard]] SessionTotals totals() const override { return {}; }
  [[nodiscard]] std::optional<SessionRecord> last_closed() const override { return std::nullopt; }
  void list(const SessionQuery&, Render, std::function<void(HistoryResult<std::string>)> done) override {
    done(error());
  }
  void get(std::uint64_t, std::function<void(HistoryResult<SessionRecord>)> done) override { done(error()); }
  void summary(SummaryPeriod, const SessionQuery&,
               std::function<void(HistoryResult<std::vector<SummaryRow>>)> done) override {
    done(error());
  }
  void set_note(std::uint64_t, std::string, std::function<void(HistoryResult<SessionRecord>)> done) override {
    done(error());
  }

 private:
  [[nodiscard]] HistoryError error() const { return {HistoryError::Kind::Unavailable, why_}; }
  std::string why_;
};

}  // namespace evsed::station
