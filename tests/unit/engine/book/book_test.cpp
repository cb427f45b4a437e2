// The RFQ book: open RFQs per venue with an expiry index (DESIGN §4 rfq.open).
#include "engine/book/book.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

using rfq::Book;
using rfq::OpenQuery;
using rfq::Rfq;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

Rfq make(std::string venue, std::string id, std::int64_t expires_ms, std::string state = "active",
         std::string client_id = "", std::int64_t created_ms = kNow - 1000) {
  Rfq r;
  r.venue = std::move(venue);
  r.id = std::move(id);
  r.client_id = std::move(client_id);
  r.state = std::move(state);
  r.raw_state = r.state;
  r.created_ms = created_ms;
  r.expires_ms = expires_ms;
  r.legs.push_back({"BTC-USDT-SWAP", "buy", "1"});
  return r;
}

std::vector<std::string> ids(const std::vector<const Rfq*>& v) {
  std::vector<std::string> out;
  for (const Rfq* r : v) out.push_back(r->venue + ":" + r->id);
  return out;
}

}  // namespace

TEST_CASE("book: upsert, find and find_by_client_id", "[book]") {
  Book book;
  CHECK(book.upsert(make("okx", "1", kNow + 5000, "active", "c1")).empty());
  CHECK(book.size() == 1);
  CHECK(book.active_count() == 1);

  const Rfq* r = book.find("okx", "1");
  REQUIRE(r);
  CHECK(r->client_id == "c1");
  CHECK(book.find_by_client_id("okx", "c1") == r);
  CHECK(book.find("deribit", "1") == nullptr);  // ids are per venue
  CHECK(book.find_by_client_id("deribit", "c1") == nullptr);
  CHECK(book.find("okx", "2") == nullptr);
  CHECK(book.find_by_client_id("okx", "") == nullptr);

  SECTION("upsert replaces by (venue, id) and returns the previous state") {
    CHECK(book.upsert(make("okx", "1", kNow + 9000, "canceled", "c1")) == "active");
    CHECK(book.size() == 1);
    CHECK(book.active_count() == 0);
    REQUIRE(book.find("okx", "1"));
    CHECK(book.find("okx", "1")->state == "canceled");
    CHECK(book.find("okx", "1")->expires_ms == kNow + 9000);
  }
  SECTION("a changed client id is re-indexed") {
    book.upsert(make("okx", "1", kNow + 5000, "active", "c2"));
    CHECK(book.find_by_client_id("okx", "c1") == nullptr);
    REQUIRE(book.find_by_client_id("okx", "c2"));
    CHECK(book.find_by_client_id("okx", "c2")->id == "1");
  }
  SECTION("same id on another venue is another RFQ") {
    CHECK(book.upsert(make("deribit", "1", kNow + 5000)).empty());
    CHECK(book.size() == 2);
    CHECK(book.active_count() == 2);
  }
}

TEST_CASE("book: open() lists active RFQs not past expiry, soonest first", "[book]") {
  Book book;
  book.upsert(make("okx", "late", kNow + 30'000));
  book.upsert(make("okx", "soon", kNow + 1'000));
  book.upsert(make("deribit", "mid", kNow + 10'000));
  book.upsert(make("okx", "past", kNow - 1));
  book.upsert(make("okx", "now", kNow));  // at its expiry instant it is no longer open
  book.upsert(make("okx", "canceled", kNow + 2'000, "canceled"));
  book.upsert(make("okx", "filled", kNow + 2'000, "filled"));
  book.upsert(make("okx", "pending", kNow + 2'000, "pending_fill"));

  CHECK(ids(book.open({}, kNow)) ==
        std::vector<std::string>{"okx:soon", "deribit:mid", "okx:late"});

  SECTION("time moving on drops RFQs that expired") {
    CHECK(ids(book.open({}, kNow + 1'000)) == std::vector<std::string>{"deribit:mid", "okx:late"});
    CHECK(book.open({}, kNow + 30'000).empty());
  }
  SECTION("venue filter") {
    OpenQuery q;
    q.venue = "okx";
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:soon", "okx:late"});
    q.venue = "okx_spread";
    CHECK(book.open(q, kNow).empty());
  }
  SECTION("expiring_within_ms is inclusive") {
    OpenQuery q;
    q.expiring_within_ms = 10'000;
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:soon", "deribit:mid"});
    q.expiring_within_ms = 9'999;
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:soon"});
    q.expiring_within_ms = 0;
    CHECK(book.open(q, kNow).empty());
  }
}

TEST_CASE("book: older_than_ms filters on creation time", "[book]") {
  Book book;
  book.upsert(make("okx", "old", kNow + 5'000, "active", "", kNow - 60'000));
  book.upsert(make("okx", "young", kNow + 1'000, "active", "", kNow - 500));
  book.upsert(make("deribit", "mid", kNow + 3'000, "active", "", kNow - 10'000));

  OpenQuery q;
  q.older_than_ms = 10'000;  // inclusive: created at or before now - 10 s
  CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"deribit:mid", "okx:old"});
  q.older_than_ms = 10'001;
  CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"okx:old"});

  SECTION("combined with expiring_within_ms and venue") {
    q.older_than_ms = 1'000;
    q.expiring_within_ms = 4'000;
    CHECK(ids(book.open(q, kNow)) == std::vector<std::string>{"deribit:mid"});
    q.venue = "okx";
    CHECK(book.open(q, kNow).empty());
  }
}

TEST_CASE("book: set_state by id or client id removes the RFQ from open()", "[book]") {
  Book book;
  book.upsert(make("okx", "1", kNow + 5'000, "active", "c1"));
  book.upsert(make("okx", "2", kNow + 6'000, "active", "c2"));
  book.upsert(make("deribit", "3", kNow + 7'000));

  SECTION("by id") {
    REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:2", "deribit:3"});
    REQUIRE(book.find("okx", "1"));
    CHECK(book.find("okx", "1")->state == "canceled");
    CHECK(book.find("okx", "1")->raw_state == "canceled");
    CHECK(book.active_count() == 2);
  }
  SECTION("by client id when the id is empty") {
    REQUIRE(book.set_state("okx", "", "c2", "failed", "traded_away"));
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:1", "deribit:3"});
    REQUIRE(book.find("okx", "2"));
    CHECK(book.find("okx", "2")->state == "failed");
    CHECK(book.find("okx", "2")->raw_state == "traded_away");
  }
  SECTION("back to active returns it to open()") {
    REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
    REQUIRE(book.set_state("okx", "1", "", "active", "active"));
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:1", "okx:2", "deribit:3"});
  }
  SECTION("unknown RFQs are reported, not created") {
    CHECK_FALSE(book.set_state("okx", "99", "", "canceled", "canceled"));
    CHECK_FALSE(book.set_state("okx", "", "nope", "canceled", "canceled"));
    CHECK_FALSE(book.set_state("deribit", "", "c1", "canceled", "canceled"));
    CHECK(book.size() == 3);
    CHECK(book.active_count() == 3);
  }
}

TEST_CASE("book: replace_active drops vanished RFQs of that venue only", "[book]") {
  Book book;
  book.upsert(make("okx", "1", kNow + 5'000, "active", "c1"));
  book.upsert(make("okx", "2", kNow + 6'000, "active", "c2"));
  book.upsert(make("okx", "done", kNow + 6'000, "canceled"));
  book.upsert(make("deribit", "2", kNow + 7'000));

  std::vector<Rfq> snapshot;
  snapshot.push_back(make("okx", "2", kNow + 6'500, "active", "c2"));
  snapshot.push_back(make("okx", "4", kNow + 4'000, "active", "c4"));
  book.replace_active("okx", std::move(snapshot));

  CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:4", "okx:2", "deribit:2"});
  CHECK(book.find("okx", "1") == nullptr);  // ended while we were not looking
  CHECK(book.find_by_client_id("okx", "c1") == nullptr);
  REQUIRE(book.find("okx", "2"));
  CHECK(book.find("okx", "2")->expires_ms == kNow + 6'500);  // snapshot wins
  REQUIRE(book.find_by_client_id("okx", "c4"));
  CHECK(book.find_by_client_id("okx", "c4")->id == "4");
  REQUIRE(book.find("okx", "done"));  // not active: not the snapshot's business
  REQUIRE(book.find("deribit", "2"));
  CHECK(book.size() == 4);
  CHECK(book.active_count() == 3);

  SECTION("an empty snapshot empties that venue's active set") {
    book.replace_active("okx", {});
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"deribit:2"});
  }
}

TEST_CASE("book: 100,000 RFQs answer an expiry sweep with only the matches", "[book]") {
  Book book;
  constexpr int kCount = 100'000;
  for (int i = 0; i < kCount; ++i) {
    // Expiries spread 1 ms apart over 100 s; every 10th is already canceled; 2 venues.
    std::string state = (i % 10 == 0) ? "canceled" : "active";
    std::string client_id = "c";
    client_id += std::to_string(i);  // not "c" + ...: GCC 12 warns falsely (-Wrestrict) on it
    book.upsert(make(i % 2 ? "deribit" : "okx", std::to_string(i), kNow + 1 + i, state,
                     std::move(client_id)));
  }
  CHECK(book.size() == kCount);
  CHECK(book.active_count() == kCount - kCount / 10);

  OpenQuery q;
  q.expiring_within_ms = 5'000;  // expiries kNow+1 .. kNow+5000 -> i in [0, 4999]
  auto due = book.open(q, kNow);
  CHECK(due.size() == 4'500);
  bool sorted_and_in_window = true;
  for (std::size_t k = 0; k < due.size(); ++k) {
    if (due[k]->expires_ms > kNow + 5'000 || due[k]->state != "active")
      sorted_and_in_window = false;
    if (k && due[k - 1]->expires_ms > due[k]->expires_ms) sorted_and_in_window = false;
  }
  CHECK(sorted_and_in_window);

  q.venue = "okx";  // even i; every 10th of all is canceled, which is always an even i
  CHECK(book.open(q, kNow).size() == 2'500 - 500);

  OpenQuery all;
  CHECK(book.open(all, kNow + 50'000).size() == 45'000);
  REQUIRE(book.find_by_client_id("okx", "c99998"));
  CHECK(book.find_by_client_id("okx", "c99998")->id == "99998");
}

TEST_CASE("book: RFQs found past expiry are marked expired and finished ones can be evicted",
          "[book]") {
  rfq::Book book;
  auto make = [](std::string id, std::int64_t expires) {
    rfq::Rfq r;
    r.venue = "okx";
    r.id = std::move(id);
    r.state = r.raw_state = "active";
    r.expires_ms = expires;
    return r;
  };
  book.upsert(make("1", 1000));
  book.upsert(make("2", 5000));
  book.upsert(make("3", 9000));
  REQUIRE(book.active_count() == 3);
  REQUIRE(book.set_state("okx", "2", "", "canceled", "canceled"));
  CHECK(book.active_count() == 2);

  auto open = book.open({}, 2000);
  REQUIRE(open.size() == 1);
  CHECK(open[0]->id == "3");
  CHECK(book.find("okx", "1")->state == "expired");
  CHECK(book.active_count() == 1);

  CHECK(book.evict_finished(4000) == 1);  // "1" expired at 1000; "2" canceled but expires 5000
  CHECK(book.find("okx", "1") == nullptr);
  CHECK(book.find("okx", "2") != nullptr);
  CHECK(book.evict_finished(6000) == 1);
  CHECK(book.find("okx", "2") == nullptr);
  CHECK(book.size() == 1);
  CHECK(book.active_count() == 1);
}

// ---- listeners, confirmed, replace_active(taken_at_ms) --------------------------------------

namespace {

// One listener call: which RFQ, its state as the listener saw it, and the previous state.
struct Change {
  std::string key;  // venue:id
  std::string state;
  std::string previous;
  bool operator==(const Change&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Change& c) {
  return os << "{" << c.key << " " << c.previous << "->" << c.state << "}";
}

struct Recorder {
  std::vector<Change> changes;
  rfq::Book::Listener listener() {
    return [this](const Rfq& r, std::string_view previous) {
      changes.push_back({r.venue + ":" + r.id, r.state, std::string(previous)});
    };
  }
};

Rfq confirmed(Rfq r, bool c = true) {
  r.confirmed = c;
  return r;
}

}  // namespace

TEST_CASE("book listeners: upsert reports new RFQs and state changes, not repeats",
          "[book][listen]") {
  Book book;
  Recorder rec;
  book.listen(rec.listener());

  book.upsert(make("okx", "1", kNow + 5'000));
  CHECK(rec.changes == std::vector<Change>{{"okx:1", "active", ""}});

  SECTION("same state again: no call, even when other fields changed") {
    book.upsert(make("okx", "1", kNow + 9'000, "active", "c1"));
    CHECK(rec.changes.size() == 1);
  }
  SECTION("a new state: called with the previous one") {
    CHECK(book.upsert(make("okx", "1", kNow + 5'000, "canceled")) == "active");
    CHECK(rec.changes ==
          std::vector<Change>{{"okx:1", "active", ""}, {"okx:1", "canceled", "active"}});
    book.upsert(make("okx", "1", kNow + 5'000, "canceled"));
    CHECK(rec.changes.size() == 2);
  }
  SECTION("a new RFQ in a state other than active is still new") {
    book.upsert(make("deribit", "1", kNow + 5'000, "filled"));
    CHECK(rec.changes.back() == Change{"deribit:1", "filled", ""});
  }
}

TEST_CASE("book listeners: called synchronously with the book already changed", "[book][listen]") {
  Book book;
  int calls = 0;
  bool saw_book_state = false;
  book.listen([&](const Rfq& r, std::string_view previous) {
    ++calls;
    const Rfq* stored = book.find(r.venue, r.id);
    saw_book_state = stored == &r && stored->state == r.state && previous != r.state;
  });
  book.upsert(make("okx", "1", kNow + 5'000, "active", "c1"));
  CHECK(calls == 1);  // inside upsert()
  CHECK(saw_book_state);
  saw_book_state = false;
  REQUIRE(book.set_state("okx", "", "c1", "canceled", "canceled"));
  CHECK(calls == 2);  // inside set_state()
  CHECK(saw_book_state);
}

TEST_CASE("book listeners: set_state reports a changed state only", "[book][listen]") {
  Book book;
  book.upsert(make("okx", "1", kNow + 5'000, "active", "c1"));
  book.upsert(confirmed(make("okx", "2", kNow + 5'000, "canceled", "c2")));
  Recorder rec;
  book.listen(rec.listener());

  SECTION("by id: previous state given, confirmed cleared") {
    REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
    CHECK(rec.changes == std::vector<Change>{{"okx:1", "canceled", "active"}});
    CHECK_FALSE(book.find("okx", "1")->confirmed);
  }
  SECTION("by client id") {
    REQUIRE(book.set_state("okx", "", "c1", "expired", "expired"));
    CHECK(rec.changes == std::vector<Change>{{"okx:1", "expired", "active"}});
  }
  SECTION("the same state: no call, and a confirmed state stays confirmed") {
    REQUIRE(book.set_state("okx", "2", "", "canceled", "canceled"));
    REQUIRE(book.set_state("okx", "", "c2", "canceled", "cancelled"));
    CHECK(rec.changes.empty());
    REQUIRE(book.find("okx", "2"));
    CHECK(book.find("okx", "2")->confirmed);
    CHECK(book.find("okx", "2")->raw_state == "canceled");  // untouched
  }
  SECTION("the same state on an unconfirmed RFQ leaves it unconfirmed") {
    REQUIRE(book.set_state("okx", "1", "", "active", "active"));
    CHECK(rec.changes.empty());
    CHECK_FALSE(book.find("okx", "1")->confirmed);
  }
  SECTION("a new state on a confirmed RFQ: called, and no longer confirmed") {
    REQUIRE(book.set_state("okx", "2", "", "filled", "filled"));
    CHECK(rec.changes == std::vector<Change>{{"okx:2", "filled", "canceled"}});
    CHECK_FALSE(book.find("okx", "2")->confirmed);
  }
  SECTION("an unknown RFQ: false and no call") {
    CHECK_FALSE(book.set_state("okx", "9", "", "canceled", "canceled"));
    CHECK_FALSE(book.set_state("deribit", "1", "", "canceled", "canceled"));
    CHECK(rec.changes.empty());
  }
}

TEST_CASE("book listeners: open() reports the RFQs it marks expired", "[book][listen]") {
  Book book;
  book.upsert(make("okx", "past", kNow - 1));
  book.upsert(make("okx", "live", kNow + 5'000));
  book.upsert(make("okx", "done", kNow - 1, "canceled"));  // past expiry, but not active
  book.upsert(make("deribit", "cut", kNow + 1'000));
  REQUIRE(book.set_state("deribit", "cut", "", "canceled", "canceled"));  // keeps its index entry
  Recorder rec;
  book.listen(rec.listener());

  CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"okx:live"});
  CHECK(rec.changes == std::vector<Change>{{"okx:past", "expired", "active"}});
  CHECK(book.find("okx", "past")->state == "expired");
  CHECK_FALSE(book.find("okx", "past")->confirmed);

  book.open({}, kNow);  // already expired: not again
  CHECK(rec.changes.size() == 1);
  book.open({}, kNow + 5'000);  // "live" reaches its expiry; "cut" was canceled, not expired
  CHECK(rec.changes ==
        std::vector<Change>{{"okx:past", "expired", "active"}, {"okx:live", "expired", "active"}});
  CHECK(book.find("deribit", "cut")->state == "canceled");
}

TEST_CASE("book listeners: replace_active reports what the snapshot adds or changes",
          "[book][listen]") {
  Book book;
  book.upsert(make("okx", "1", kNow + 5'000));
  book.upsert(make("okx", "2", kNow + 5'000));
  Recorder rec;
  book.listen(rec.listener());

  std::vector<Rfq> snapshot;
  snapshot.push_back(make("okx", "1", kNow + 5'000));  // unchanged
  snapshot.push_back(make("okx", "2", kNow + 5'000, "pending_fill"));
  snapshot.push_back(make("okx", "3", kNow + 6'000));
  snapshot.push_back(make("okx", "4", kNow + 7'000));
  book.replace_active("okx", std::move(snapshot));

  std::vector<Change> got = rec.changes;
  std::sort(got.begin(), got.end(), [](const Change& a, const Change& b) { return a.key < b.key; });
  CHECK(got == std::vector<Change>{{"okx:2", "pending_fill", "active"},
                                   {"okx:3", "active", ""},
                                   {"okx:4", "active", ""}});
}

TEST_CASE("book listeners: unlisten stops calls; every listener is called", "[book][listen]") {
  Book book;
  Recorder a, b;
  const auto ida = book.listen(a.listener());
  const auto idb = book.listen(b.listener());
  CHECK(ida != idb);

  book.upsert(make("okx", "1", kNow + 5'000));
  CHECK(a.changes == std::vector<Change>{{"okx:1", "active", ""}});
  CHECK(b.changes == a.changes);

  book.unlisten(ida);
  REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
  CHECK(a.changes.size() == 1);
  CHECK(b.changes.size() == 2);
  CHECK(b.changes.back() == Change{"okx:1", "canceled", "active"});

  book.unlisten(ida);        // twice: ignored
  book.unlisten(idb + 100);  // unknown: ignored
  book.upsert(make("okx", "2", kNow + 5'000));
  CHECK(b.changes.size() == 3);

  book.unlisten(idb);
  book.upsert(make("okx", "3", kNow + 5'000));
  REQUIRE(book.set_state("okx", "2", "", "canceled", "canceled"));
  book.open({}, kNow + 10'000);
  CHECK(a.changes.size() == 1);
  CHECK(b.changes.size() == 3);

  SECTION("a listener added later gets its own id and only later changes") {
    Recorder c;
    const auto idc = book.listen(c.listener());
    CHECK(idc != ida);
    CHECK(idc != idb);
    book.upsert(make("okx", "4", kNow + 20'000));
    CHECK(c.changes == std::vector<Change>{{"okx:4", "active", ""}});
  }
}

TEST_CASE("book confirmed: upsert keeps the caller's flag, set_state to a new state clears it",
          "[book]") {
  Book book;
  book.upsert(confirmed(make("okx", "1", kNow + 5'000, "canceled")));
  REQUIRE(book.find("okx", "1"));
  CHECK(book.find("okx", "1")->confirmed);

  book.upsert(make("okx", "2", kNow + 5'000));
  CHECK_FALSE(book.find("okx", "2")->confirmed);

  SECTION("upsert replaces the flag along with the rest") {
    book.upsert(confirmed(make("okx", "1", kNow + 5'000, "canceled"), false));
    CHECK_FALSE(book.find("okx", "1")->confirmed);
    book.upsert(confirmed(make("okx", "2", kNow + 5'000, "active")));  // same state, now confirmed
    CHECK(book.find("okx", "2")->confirmed);
  }
  SECTION("set_state to a new state clears it") {
    book.upsert(confirmed(make("okx", "2", kNow + 5'000, "active")));
    REQUIRE(book.set_state("okx", "2", "", "canceled", "canceled"));
    CHECK_FALSE(book.find("okx", "2")->confirmed);
    CHECK(book.find("okx", "2")->state == "canceled");
  }
  SECTION("set_state to the state it has keeps it") {
    REQUIRE(book.set_state("okx", "1", "", "canceled", "canceled"));
    CHECK(book.find("okx", "1")->confirmed);
  }
  SECTION("replace_active keeps the snapshot's flag") {
    std::vector<Rfq> snapshot;
    snapshot.push_back(confirmed(make("okx", "2", kNow + 5'000)));
    book.replace_active("okx", std::move(snapshot));
    CHECK(book.find("okx", "2")->confirmed);
  }
}

TEST_CASE(
    "book replace_active: RFQs created at or after taken_at_ms survive a snapshot that "
    "misses them",
    "[book]") {
  Book book;
  constexpr std::int64_t kTaken = kNow;
  book.upsert(make("okx", "old", kNow + 5'000, "active", "c-old", kTaken - 5'000));
  book.upsert(make("okx", "just-before", kNow + 6'000, "active", "", kTaken - 1));
  book.upsert(make("okx", "at", kNow + 7'000, "active", "c-at", kTaken));
  book.upsert(make("okx", "after", kNow + 8'000, "active", "", kTaken + 100));
  book.upsert(make("okx", "done", kNow + 8'000, "canceled", "", kTaken - 5'000));
  book.upsert(make("deribit", "other", kNow + 9'000, "active", "", kTaken - 5'000));
  REQUIRE(book.active_count() == 5);

  SECTION("with taken_at_ms") {
    std::vector<Rfq> snapshot;
    snapshot.push_back(make("okx", "listed", kNow + 4'000, "active", "", kTaken - 9'000));
    book.replace_active("okx", std::move(snapshot), kTaken);

    CHECK(book.find("okx", "old") == nullptr);
    CHECK(book.find_by_client_id("okx", "c-old") == nullptr);
    CHECK(book.find("okx", "just-before") == nullptr);
    REQUIRE(book.find("okx", "at"));  // created at taken_at: the feed may know better
    CHECK(book.find("okx", "at")->state == "active");
    CHECK(book.find_by_client_id("okx", "c-at") == book.find("okx", "at"));
    REQUIRE(book.find("okx", "after"));
    CHECK(book.find("okx", "listed") != nullptr);
    CHECK(book.find("okx", "done") != nullptr);
    CHECK(book.find("deribit", "other") != nullptr);
    CHECK(book.active_count() == 4);
    CHECK(ids(book.open({}, kNow)) ==
          std::vector<std::string>{"okx:listed", "okx:at", "okx:after", "deribit:other"});
  }
  SECTION("without it: every active RFQ the snapshot misses is dropped, as before") {
    book.replace_active("okx", {});
    CHECK(book.find("okx", "old") == nullptr);
    CHECK(book.find("okx", "just-before") == nullptr);
    CHECK(book.find("okx", "at") == nullptr);
    CHECK(book.find("okx", "after") == nullptr);
    CHECK(book.find_by_client_id("okx", "c-at") == nullptr);
    CHECK(book.find("okx", "done") != nullptr);
    CHECK(book.active_count() == 1);
    CHECK(ids(book.open({}, kNow)) == std::vector<std::string>{"deribit:other"});
  }
  SECTION("a taken_at_ms before every creation keeps them all") {
    book.replace_active("okx", {}, kTaken - 10'000);
    CHECK(book.size() == 6);
    CHECK(book.active_count() == 5);
  }
}
