// The one translation unit that compiles Asio, Asio.SSL and Beast (separate compilation).
// Every other file includes their headers with *_SEPARATE_COMPILATION defined and links this.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
