#pragma once
// Phases of make bench that live in their own files.

namespace rfq::bench {

// rfq.cancel_all() across okx, okx_spread and deribit at once, beside each venue alone.
void kill_switch();

// Resident memory of 100,000 open RFQs in the book, and one query over them.
void book_memory();

// A policy file rewritten while it cancels: file change -> new version live, and lost cancels.
void reload();

}  // namespace rfq::bench
