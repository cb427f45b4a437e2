#include "engine/core/audit.hpp"

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "engine/core/log.hpp"

namespace rfq {
namespace {

namespace json = boost::json;

json::value or_null(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(json::string(s));
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string iso8601_ms(std::int64_t unix_ms) {
  if (unix_ms < 0) unix_ms = 0;
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

bool AuditLog::open(const std::string& path, std::string& error) {
  path_ = path;
  out_.open(path, std::ios::out | std::ios::app | std::ios::binary);
  if (!out_) {
    error = "cannot open '" + path + "' for appending: " + std::strerror(errno);
    return false;
  }
  return true;
}

std::string AuditLog::format(const AuditEntry& e) {
  // Insertion order is the order on the line: time, who, what, outcome.
  json::object o;
  o["ts"] = iso8601_ms(e.ts_ms);
  o["ts_ms"] = e.ts_ms;
  o["policy"] = e.origin ? json::value(json::string(e.origin->policy)) : json::value(nullptr);
  o["script_hash"] =
      e.origin ? json::value(json::string(e.origin->script_hash)) : json::value(nullptr);
  o["venue"] = e.venue;
  o["request"] = e.request;
  o["corr"] = e.correlation;
  o["ids"] = to_array(e.ids);
  if (!e.client_ids.empty()) o["client_ids"] = to_array(e.client_ids);
  if (!e.spread_id.empty()) o["spread_id"] = e.spread_id;
  o["sent"] = e.sent;
  o["dry_run"] = e.dry_run;
  o["outcome"] = e.outcome;
  o["code"] = or_null(e.code);
  o["venue_code"] = or_null(e.venue_code);
  if (!e.message.empty()) o["err"] = e.message;
  o["latency_us"] = e.latency_us ? json::value(*e.latency_us) : json::value(nullptr);
  if (e.canceled) o["canceled"] = *e.canceled;
  if (!e.failed.empty()) {
    json::object f;
    for (const auto& [code, n] : e.failed) f[code] = n;
    o["failed"] = std::move(f);
  }
  return json::serialize(o);
}

bool AuditLog::write(const AuditEntry& entry) {
  std::string line = format(entry);
  line.push_back('\n');
  out_.clear();  // a failed write leaves failbit set; try again with this line
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  out_.flush();
  if (out_) {
    failing_ = false;
    return true;
  }
  if (!failing_) {
    log::get("engine")->error("stage=audit write to {} failed: {}", path_,
                              out_.is_open() ? std::strerror(errno) : "the file is not open");
  }
  failing_ = true;
  return false;
}

}  // namespace rfq
