#pragma once
// Waiting for a venue's state feed to report RFQs in a final state: the `confirm = true` of
// cancels (an accepted cancel, OKX sCode "0", is not yet a canceled RFQ). A group of RFQs (one
// cancel, the accepted items of a batch, what a cancel-all covered) waits under one deadline;
// its completion runs once: when every member was reported, at the deadline, or when the feed
// is lost. Single-threaded: use it on the loop that owns the venue.

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/unique_function.hpp"

namespace rfq {

class FeedConfirmations {
 public:
  struct Key {
    std::string id;         // the venue's RFQ id; used when set
    std::string client_id;  // otherwise the client id
  };
  // states[i] is the final state the feed reported for keys[i], "" when none arrived in time.
  // `incomplete` is empty when every key was reported, else TIMEOUT (deadline) or the error
  // fail_all() was given (the feed was lost).
  using Done = UniqueFunction<void(std::vector<std::string> states,
                                   boost::system::error_code incomplete)>;

  explicit FeedConfirmations(Clock& clock) : clock_(clock) {}
  ~FeedConfirmations();  // pending groups are dropped without completing
  FeedConfirmations(const FeedConfirmations&) = delete;
  FeedConfirmations& operator=(const FeedConfirmations&) = delete;

  // Waits for each key's final state until `deadline`. An empty key list completes at once
  // (inside this call).
  void wait(std::vector<Key> keys, SteadyTime deadline, Done done);
  // The feed reported this RFQ in `state`; a final state (canceled, expired, filled, failed)
  // settles every member waiting for it. Completions run inside this call.
  void report(std::string_view id, std::string_view client_id, std::string_view state);
  // Completes every group now with `why` for the members not yet reported.
  void fail_all(boost::system::error_code why);

  std::size_t waiting() const { return by_id_.size() + by_client_id_.size(); }

  static bool is_final(std::string_view state);

 private:
  struct Group {
    std::vector<Key> keys;
    std::vector<std::string> states;
    std::size_t left = 0;
    TimerHandle timer;
    Done done;
  };
  struct Member {
    std::uint64_t group;
    std::size_t index;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_multimap<std::string, Member, Hash, std::equal_to<>>;

  void settle(Index& index, std::string_view key, std::string_view state,
              std::vector<std::uint64_t>& finished);
  void expire(std::uint64_t group);
  void complete(std::uint64_t group, boost::system::error_code why);

  Clock& clock_;
  std::unordered_map<std::uint64_t, Group> groups_;
  Index by_id_;
  Index by_client_id_;
  std::uint64_t next_group_ = 1;
};

}  // namespace rfq
