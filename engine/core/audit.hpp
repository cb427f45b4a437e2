#pragma once
// The audit log (DESIGN §5): one JSON line per cancel request the engine sends to a venue (and
// per request it decided not to send), with who asked (policy name and script hash), what was
// asked, the venue's answer and its latency. Appended and flushed line by line, so a crash of
// the process loses no line already written. Never holds a secret: requests are recorded by
// their ids, never as signed wire bytes.

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rfq {

// Who asked for a request. Policies: their name and "sha256:<hex>" of the script they loaded;
// the host itself (rfqd's cancel_on_exit): "rfqd" and "".
struct Origin {
  std::string policy;
  std::string script_hash;
};
// Shared, so that a request in flight keeps its origin after its policy is gone.
using OriginRef = std::shared_ptr<const Origin>;

// One line. Empty strings and unset optionals are written as null (or left out, where noted).
struct AuditEntry {
  std::int64_t ts_ms = 0;  // Unix ms when the outcome was known (the line is written then)
  OriginRef origin;        // null: a request made without one (policy and script_hash null)
  std::string venue;
  std::string request;  // "cancel" | "cancel_batch" | "cancel_all"
  std::uint64_t correlation = 0;
  std::vector<std::string> ids;         // venue RFQ ids requested (always written)
  std::vector<std::string> client_ids;  // client ids requested (left out when none)
  std::string spread_id;                // cancel_all on okx_spread (left out when empty)
  bool sent = true;        // false: decided but refused before the wire (pacing, no venue)
  bool dry_run = false;    // rfqd run --dry-run: never sent
  std::string outcome;     // "ok" | "failed" | "partial"
  std::string code;        // stable code (NOT_CANCELABLE, ...) or empty
  std::string venue_code;  // the venue's own code or empty
  std::string message;     // the venue's text or ours, when not ok (left out when empty)
  std::optional<std::int64_t> latency_us;
  std::optional<std::int64_t> canceled;        // batch requests and cancel_all
  std::map<std::string, std::int64_t> failed;  // batch requests: failed items per code
};

class AuditLog {
 public:
  AuditLog() = default;
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens (creates) path for appending. False with the reason when it cannot.
  bool open(const std::string& path, std::string& error);
  bool is_open() const { return out_.is_open(); }
  const std::string& path() const { return path_; }

  // Writes the entry as one line with one write, then flushes. False when the write failed
  // (logged at the first failure of a run of failures; the next write tries again).
  bool write(const AuditEntry& entry);

  // The line without its newline: {"ts":"2026-01-01T00:00:00.000Z","ts_ms":...,...}.
  static std::string format(const AuditEntry& entry);

 private:
  std::ofstream out_;
  std::string path_;
  bool failing_ = false;
};

// "2026-01-01T00:00:00.123Z": ISO-8601, UTC, milliseconds.
std::string iso8601_ms(std::int64_t unix_ms);

}  // namespace rfq
