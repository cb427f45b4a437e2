#pragma once
// Phases of make bench that live in their own files, and their shared set-up.

#include "engine/auth/credentials.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq {
class Engine;
}

namespace rfq::bench {

// The simulator's built-in OKX credentials.
auth::OkxCredentials okx_sim_credentials();

// Starts every venue of `engine` and runs `io` until they are up; exits 1 naming `phase` when
// one does not start.
void start_engine(boost::asio::io_context& io, Engine& engine, const char* phase);

// rfq.cancel_all() across okx, okx_spread and deribit at once, beside each venue alone.
void kill_switch();

// Resident memory of 100,000 open RFQs in the book, and one query over them.
void book_memory();

// A policy file rewritten while it cancels: file change -> new version live, and lost cancels.
void reload();

}  // namespace rfq::bench
