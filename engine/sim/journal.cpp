#include "engine/sim/journal.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fstream>

namespace rfq::sim {

namespace {

std::string_view string_at(const boost::json::object& entry, std::string_view key) {
  const auto* v = entry.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}

}  // namespace

Journal::Journal() = default;
Journal::~Journal() = default;

bool Journal::open_file(const std::string& path) {
  auto file = std::make_unique<std::ofstream>(path, std::ios::out | std::ios::trunc);
  if (!*file) return false;
  file_ = std::move(file);
  return true;
}

void Journal::append(boost::json::object entry) {
  // "seq" goes first so a journal line reads in order of importance.
  boost::json::object numbered;
  numbered.reserve(entry.size() + 1);
  numbered["seq"] = next_seq_++;
  for (auto& kv : entry) {
    if (kv.key() != "seq") numbered.emplace(kv.key(), std::move(kv.value()));
  }
  entry = std::move(numbered);
  if (file_) {
    *file_ << boost::json::serialize(entry) << '\n';
    file_->flush();
  }
  entries_.push_back(std::move(entry));
}

std::vector<boost::json::object> Journal::find(std::string_view venue,
                                               std::string_view endpoint) const {
  std::vector<boost::json::object> out;
  for (const auto& entry : entries_) {
    if (string_at(entry, "venue") != venue) continue;
    if (!endpoint.empty() && string_at(entry, "endpoint") != endpoint) continue;
    out.push_back(entry);
  }
  return out;
}

}  // namespace rfq::sim
